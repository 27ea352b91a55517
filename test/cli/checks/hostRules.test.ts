// What a host lacks for its containers, and the fix for each gap; and reading it from an engine
// (the TEST DOUBLE of test/support/hostEngine.ts answers as Docker does). Pure but for the double.
import { compareDockerVersions } from "../../../cli/checks/dockerVersion";
import { hostCheckLines, hostProblems, hostWarnings } from "../../../cli/checks/hostRules";
import { probeEngine } from "../../../cli/checks/probe";
import { hostEngine } from "../../support/hostEngine";

const SANDBOX_NEEDS = { devices: ["/dev/uinput", "/dev/uhid", "/dev/dri"], runtime: "nvidia" };
const READY = { serverVersion: "26.1.5", runtimes: ["runc", "nvidia"], missingDevices: [], uncheckedDevices: [] };
const MODULES =
    "the host has no /dev/uinput or /dev/uhid, which every sandbox is given: `sudo modprobe -a uinput uhid`, and to load them at every boot, " +
    "`printf 'uinput\\nuhid\\n' | sudo tee /etc/modules-load.d/helix-sandbox.conf`";
const NVIDIA =
    "Docker has no nvidia runtime, so it refuses --runtime nvidia: install the NVIDIA container toolkit, then " +
    "`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker` (or set gpuVendor to the host's GPU)";

describe("compareDockerVersions", () => {
    it.each([
        ["20.10.24+dfsg1", "20.10.0", 1],
        ["20.10.0", "20.10.0", 0],
        ["19.03.15", "20.10.0", -1],
        ["26.1.5", "20.10.0", 1],
        ["24.0.7-ce", "24.0.7", 0],
    ])("orders %s against %s", (a, b, sign) => expect(Math.sign(compareDockerVersions(a, b)!)).toBe(sign));

    it("knows no order for what is not a version", () => expect(compareDockerVersions("unknown", "20.10.0")).toBeUndefined());
});

describe("hostProblems", () => {
    it("finds nothing wrong with a prepared host", () => expect(hostProblems(SANDBOX_NEEDS, READY)).toEqual([]));

    it("lists every gap at once, each with the command that fixes it", () => {
        expect(
            hostProblems(SANDBOX_NEEDS, {
                serverVersion: "19.03.15",
                runtimes: ["runc"],
                missingDevices: ["/dev/uinput", "/dev/uhid", "/dev/dri"],
                uncheckedDevices: [],
            }),
        ).toEqual([
            "Docker is 19.03.15; 20.10.0 or newer is needed (host.docker.internal through host-gateway): upgrade Docker on this host",
            NVIDIA,
            MODULES,
            "the host has no /dev/dri, which its sandboxes are given: install the GPU's kernel driver, or set gpuVendor to the host's GPU (none for no GPU, with allowNoGpu)",
        ]);
    });

    it("names the one module missing, the AMD driver, and a device it could not check", () => {
        expect(
            hostProblems(
                { devices: ["/dev/uhid", "/dev/kfd"], runtime: undefined },
                {
                    ...READY,
                    missingDevices: ["/dev/uhid", "/dev/kfd"],
                    uncheckedDevices: [{ device: "/dev/dri", reason: "permission denied" }],
                },
            ),
        ).toEqual([
            "the host has no /dev/uhid, which every sandbox is given: `sudo modprobe -a uhid`, and to load it at every boot, `printf 'uhid\\n' | sudo tee /etc/modules-load.d/helix-sandbox.conf`",
            "the host has no /dev/kfd, which an AMD sandbox is given: install the ROCm kernel driver (amdgpu-dkms), or set gpuVendor to the host's GPU",
            "/dev/dri could not be checked: permission denied",
        ]);
    });

    it("asks a runner's host only for its engine's version", () => {
        expect(hostProblems({ devices: [], runtime: undefined }, { ...READY, runtimes: ["runc"] })).toEqual([]);
    });

    it("prints each host ready, or each of its problems, then its warnings", () => {
        expect(
            hostCheckLines([
                { host: "a", problems: [], warnings: ["w"] },
                { host: "b", problems: ["x", "y"] },
            ]),
        ).toEqual(["  a: ready", "  a: warning: w", "  b: x", "  b: y"]);
    });
});

describe("hostWarnings: free disk for new volumes", () => {
    const volume = (name: string) => ({ name, bytes: 50e9, holds: "desktop images" });
    const NEEDS = { ...SANDBOX_NEEDS, volumes: [volume("s-1-docker"), volume("s-2-docker")] };
    const facts = (freeBytes: number | string, existingVolumes: string[] = []) => ({
        ...READY,
        dockerRoot: "/var/lib/docker",
        existingVolumes,
        freeBytes,
    });

    it("warns when the new volumes take more than is free, saying how much of each and where", () => {
        expect(hostWarnings(NEEDS, facts(81.9e9))).toEqual([
            "81 GB free under Docker's root /var/lib/docker, and the 2 new volumes planned there (desktop images) take 100 GB at least: " +
                "free space there (`docker system df` shows what Docker holds), or plan fewer on this host",
        ]);
    });

    it("counts only volumes that do not exist yet: an existing one has its room already", () => {
        expect(hostWarnings(NEEDS, facts(81.9e9, ["s-1-docker"]))).toEqual([]);
        expect(hostWarnings(NEEDS, facts(10e9, ["s-1-docker"]))[0]).toMatch(
            /^10 GB free .* the 1 new volume planned there \(desktop images\) take 50 GB at least/,
        );
        expect(hostWarnings(NEEDS, facts(0, ["s-1-docker", "s-2-docker"]))).toEqual([]);
    });

    it("says nothing when there is room, or nothing new is planned, or free disk was not asked", () => {
        expect(hostWarnings(NEEDS, facts(100e9))).toEqual([]);
        expect(hostWarnings(SANDBOX_NEEDS, facts(1))).toEqual([]);
        expect(hostWarnings(NEEDS, READY)).toEqual([]);
    });

    it("says free disk was not checked, and why, when new volumes are planned", () => {
        expect(hostWarnings(NEEDS, facts("a tcp:// engine gives no way to read its host's free disk"))).toEqual([
            "free disk under Docker's root not checked (a tcp:// engine gives no way to read its host's free disk); " +
                "the 2 new volumes planned there (desktop images) take 100 GB at least",
        ]);
    });
});

describe("probeEngine", () => {
    it("asks for free disk under Docker's root, and which volumes exist, only when new volumes are planned", async () => {
        const asked: string[] = [];
        const freeSpace = async (dir: string) => (asked.push(dir), 12e9);
        const engine = hostEngine({ dockerRoot: "/srv/docker", volumes: ["s-1-docker"] });
        const volumes = [1, 2].map((i) => ({ name: `s-${i}-docker`, bytes: 50e9, holds: "desktop images" }));
        const facts = await probeEngine(engine, { ...SANDBOX_NEEDS, volumes }, freeSpace);
        expect([facts.dockerRoot, facts.existingVolumes, facts.freeBytes, asked]).toEqual([
            "/srv/docker",
            ["s-1-docker"],
            12e9,
            ["/srv/docker"],
        ]);
        const none = await probeEngine(engine, SANDBOX_NEEDS, freeSpace);
        expect([none.freeBytes, asked]).toEqual([undefined, ["/srv/docker"]]);
    });

    it("tells the devices a host has from those it lacks, and removes every probe container and its image", async () => {
        const record = { created: [] as string[], removed: [] as string[] };
        const facts = await probeEngine(
            hostEngine({ devices: ["/dev/dri"], runtimes: ["runc"], version: "20.10.24+dfsg1" }, record),
            SANDBOX_NEEDS,
        );
        expect(facts).toEqual({
            serverVersion: "20.10.24+dfsg1",
            runtimes: ["runc"],
            missingDevices: ["/dev/uinput", "/dev/uhid"],
            uncheckedDevices: [],
        });
        expect(record.created).toEqual(["image", "probe-1", "probe-2", "probe-3"]);
        expect(record.removed).toEqual(["probe-1", "probe-2", "probe-3", "image zed-runner-host-check:empty"]);
    });

    it("creates nothing on a host when nothing needs a device", async () => {
        const record = { created: [] as string[], removed: [] as string[] };
        await probeEngine(hostEngine({}, record), { devices: [], runtime: undefined });
        expect(record).toEqual({ created: [], removed: [] });
    });
});
