// gpuVendor auto: the detection in install.sh's order, and where a stack leaves the vendor to it.
import { autoGpuTargets, detectGpuVendor, withGpuVendors } from "../../../cli/checks/gpuRules";

const facts = (presentDevices: string[], runtimes: string[] = ["runc"]) => ({ runtimes, presentDevices, uncheckedDevices: [] });

describe("detectGpuVendor, in Helix's installer's order", () => {
    it.each([
        [["/dev/nvidiactl", "/dev/dri"], ["runc"], "nvidia", "the NVIDIA driver's /dev/nvidiactl"],
        // install.sh's WSL2 fallback: Docker already has the nvidia runtime.
        [[], ["runc", "nvidia"], "nvidia", "Docker's nvidia runtime"],
        // An NVIDIA host also has /dev/dri and may have /dev/kfd's absence: NVIDIA is asked first.
        [["/dev/nvidiactl", "/dev/kfd", "/dev/dri"], ["runc"], "nvidia", "the NVIDIA driver's /dev/nvidiactl"],
        [["/dev/kfd", "/dev/dri"], ["runc"], "amd", "ROCm's /dev/kfd beside /dev/dri"],
        [["/dev/dri"], ["runc"], "intel", "/dev/dri without an NVIDIA driver or ROCm"],
        // /dev/kfd alone is no usable AMD GPU (install.sh wants /dev/dri beside it), and no Intel one either.
        [["/dev/kfd"], ["runc"], "none", "no /dev/nvidiactl, nvidia runtime, /dev/kfd or /dev/dri"],
        [[], ["runc"], "none", "no /dev/nvidiactl, nvidia runtime, /dev/kfd or /dev/dri"],
    ])("devices %j and runtimes %j: %s", (devices, runtimes, vendor, evidence) => {
        expect(detectGpuVendor(facts(devices, runtimes))).toEqual({ vendor, evidence });
    });

    it("gives no answer when a device could not be checked, saying which and why", () => {
        const unchecked = { ...facts(["/dev/dri"]), uncheckedDevices: [{ device: "/dev/nvidiactl", reason: "permission denied" }] };
        expect(detectGpuVendor(unchecked)).toBe("its GPU could not be told: /dev/nvidiactl: permission denied");
    });
});

describe("autoGpuTargets", () => {
    const SANDBOX = { workload: "sandbox", gpuVendor: "auto" };
    const hosts = (...entries: object[]) => JSON.stringify(entries);

    it("is this machine's for a sandbox stack that leaves gpuVendor to auto, set or by default", () => {
        expect(autoGpuTargets(SANDBOX)).toEqual({ kind: "stack" });
        expect(autoGpuTargets({ workload: "sandbox" })).toEqual({ kind: "stack" });
    });

    it("is nothing for a runner stack or a pinned vendor", () => {
        expect(autoGpuTargets({ gpuVendor: "auto" })).toBeUndefined();
        expect(autoGpuTargets({ workload: "runner", gpuVendor: "auto" })).toBeUndefined();
        expect(autoGpuTargets({ workload: "sandbox", gpuVendor: "amd" })).toBeUndefined();
    });

    it("is each listed host that pins no vendor of its own, by its entry's index, when the stack key is auto", () => {
        const raw = { ...SANDBOX, hosts: hosts({ name: "a" }, { name: "b", gpuVendor: "intel" }, { name: "c", gpuVendor: "auto" }) };
        expect(autoGpuTargets(raw)).toEqual({
            kind: "hosts",
            entries: [
                { index: 0, name: "a" },
                { index: 2, name: "c" },
            ],
        });
    });

    it("is only the entries set to auto when the stack key pins a vendor, and nothing when none is", () => {
        const raw = { workload: "sandbox", gpuVendor: "nvidia", hosts: hosts({ name: "a" }, { name: "b", gpuVendor: "auto" }) };
        expect(autoGpuTargets(raw)).toEqual({ kind: "hosts", entries: [{ index: 1, name: "b" }] });
        expect(autoGpuTargets({ ...raw, hosts: hosts({ name: "a" }) })).toBeUndefined();
    });

    it("leaves a hosts value it cannot read to the program, which reports it", () => {
        expect(autoGpuTargets({ ...SANDBOX, hosts: "[{" })).toBeUndefined();
        expect(autoGpuTargets({ ...SANDBOX, hosts: '{"name":"a"}' })).toBeUndefined();
    });
});

describe("withGpuVendors", () => {
    it("puts each found vendor in place of auto, in the stack key or the host's entry, and nothing else", () => {
        expect(withGpuVendors({ workload: "sandbox", gpuVendor: "auto", replicas: "1" }, { kind: "stack" }, () => "amd")).toEqual({
            workload: "sandbox",
            gpuVendor: "amd",
            replicas: "1",
        });
        const raw = { workload: "sandbox", hosts: JSON.stringify([{ name: "a" }, { name: "b", gpuVendor: "intel" }]) };
        const resolved = withGpuVendors(raw, { kind: "hosts", entries: [{ index: 0, name: "a" }] }, (i) => (i === 0 ? "nvidia" : "?"));
        expect(JSON.parse(resolved.hosts!)).toEqual([
            { name: "a", gpuVendor: "nvidia" },
            { name: "b", gpuVendor: "intel" },
        ]);
    });
});
