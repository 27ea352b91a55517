// What a host must have before `pulumi up` puts a workload's containers on it, as Helix's installer
// prepares a sandbox host (install.sh --sandbox), and the exact command that fixes each gap. Pure:
// the facts come from the host's engine (cli/checks/probe.ts).
import { compareDockerVersions } from "./dockerVersion";

/** What a host's planned containers need of it. */
export interface HostNeeds {
    /** Host device nodes the containers are given. */
    readonly devices: readonly string[];
    /** A container runtime the containers ask for, such as `nvidia`. */
    readonly runtime: string | undefined;
}

/** What a host's engine says of itself. */
export interface EngineFacts {
    readonly serverVersion: string;
    readonly runtimes: readonly string[];
    /** Of the devices asked about, those the host has not. */
    readonly missingDevices: readonly string[];
    /** Devices whose check failed for another reason, with it. */
    readonly uncheckedDevices: readonly { readonly device: string; readonly reason: string }[];
}

/** The oldest engine the containers run on: `host-gateway` (host.docker.internal) is Docker 20.10's. */
const MIN_DOCKER_VERSION = "20.10.0";

/** Kernel modules that make a device node, and how to load them now and at every boot. */
const DEVICE_MODULES: Readonly<Record<string, string>> = { "/dev/uinput": "uinput", "/dev/uhid": "uhid" };

/** Every gap between what the host's containers need and what its engine says, each with its fix. */
export function hostProblems(needs: HostNeeds, facts: EngineFacts): string[] {
    const problems: string[] = [];
    const order = compareDockerVersions(facts.serverVersion, MIN_DOCKER_VERSION);
    if (order === undefined || order < 0)
        problems.push(
            `Docker is ${facts.serverVersion}; ${MIN_DOCKER_VERSION} or newer is needed (host.docker.internal through host-gateway): upgrade Docker on this host`,
        );
    if (needs.runtime === "nvidia" && !facts.runtimes.includes("nvidia"))
        problems.push(
            "Docker has no nvidia runtime, so it refuses --runtime nvidia: install the NVIDIA container toolkit, then " +
                "`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker` (or set gpuVendor to the host's GPU)",
        );
    const modules = facts.missingDevices.map((d) => DEVICE_MODULES[d]).filter((m): m is string => m !== undefined);
    if (modules.length > 0)
        problems.push(
            `the host has no ${facts.missingDevices.filter((d) => DEVICE_MODULES[d] !== undefined).join(" or ")}, which every sandbox is given: ` +
                `\`sudo modprobe -a ${modules.join(" ")}\`, and to load ${modules.length === 1 ? "it" : "them"} at every boot, ` +
                `\`printf '${modules.join("\\n")}\\n' | sudo tee /etc/modules-load.d/helix-sandbox.conf\``,
        );
    for (const device of facts.missingDevices.filter((d) => DEVICE_MODULES[d] === undefined))
        problems.push(
            device === "/dev/kfd"
                ? "the host has no /dev/kfd, which an AMD sandbox is given: install the ROCm kernel driver (amdgpu-dkms), or set gpuVendor to the host's GPU"
                : `the host has no ${device}, which its sandboxes are given: install the GPU's kernel driver, or set gpuVendor to the host's GPU (none for no GPU, with allowNoGpu)`,
        );
    for (const { device, reason } of facts.uncheckedDevices) problems.push(`${device} could not be checked: ${reason}`);
    return problems;
}

/** One host's check: its name and what it lacks. */
export interface HostCheck {
    readonly host: string;
    readonly problems: readonly string[];
}

/** The checks as lines: each host ready, or each of its problems with its fix. */
export function hostCheckLines(checks: readonly HostCheck[]): string[] {
    return checks.flatMap((c) => (c.problems.length === 0 ? [`  ${c.host}: ready`] : c.problems.map((p) => `  ${c.host}: ${p}`)));
}
