// What a host must have before `pulumi up` puts a workload's containers on it, as Helix's installer
// prepares a sandbox host (install.sh --sandbox), and the exact command that fixes each gap. Pure:
// the facts come from the host's engine (cli/checks/probe.ts).
import { compareDockerVersions } from "./dockerVersion";

/** A named volume the containers fill under Docker's root, and the room it takes at least. */
interface VolumeNeed {
    readonly name: string;
    readonly bytes: number;
    /** What it holds, for the message: "desktop images". */
    readonly holds: string;
}

/** What a host's planned containers need of it. */
export interface HostNeeds {
    /** Host device nodes the containers are given. */
    readonly devices: readonly string[];
    /** A container runtime the containers ask for, such as `nvidia`. */
    readonly runtime: string | undefined;
    /** Volumes that need room under Docker's root when they are new (an existing one has taken it already). */
    readonly volumes?: readonly VolumeNeed[];
}

/** What a host's engine says of itself. */
export interface EngineFacts {
    readonly serverVersion: string;
    readonly runtimes: readonly string[];
    /** Of the devices asked about, those the host has not. */
    readonly missingDevices: readonly string[];
    /** Devices whose check failed for another reason, with it. */
    readonly uncheckedDevices: readonly { readonly device: string; readonly reason: string }[];
    /** Docker's root (`docker info`'s DockerRootDir), where its volumes live; undefined when the engine does not say. */
    readonly dockerRoot?: string;
    /** Of the volumes asked about, those the engine has already. */
    readonly existingVolumes?: readonly string[];
    /** Bytes free under Docker's root, or why they could not be read. */
    readonly freeBytes?: number | string;
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

const GB = 1e9;
const gigabytes = (bytes: number) => `${Math.floor(bytes / GB)} GB`;

/**
 * Words about a host that do not stop a deploy: too little free disk under Docker's root for the
 * new volumes planned there (a sandbox's first boot then fails its desktop pull, and restarts), or
 * free disk that could not be read while new volumes are planned.
 */
export function hostWarnings(needs: HostNeeds, facts: EngineFacts): string[] {
    const fresh = (needs.volumes ?? []).filter((v) => !(facts.existingVolumes ?? []).includes(v.name));
    if (fresh.length === 0 || facts.freeBytes === undefined) return [];
    const need = fresh.reduce((sum, v) => sum + v.bytes, 0);
    const holds = [...new Set(fresh.map((v) => v.holds))].join(" and ");
    const what = `the ${fresh.length} new volume${fresh.length === 1 ? "" : "s"} planned there (${holds}) take ${gigabytes(need)} at least`;
    if (typeof facts.freeBytes === "string") return [`free disk under Docker's root not checked (${facts.freeBytes}); ${what}`];
    if (facts.freeBytes >= need) return [];
    return [
        `${gigabytes(facts.freeBytes)} free under Docker's root ${facts.dockerRoot ?? ""}, and ${what}: ` +
            "free space there (`docker system df` shows what Docker holds), or plan fewer on this host",
    ];
}

/** One host's check: its name, what it lacks, and what only deserves a word. */
export interface HostCheck {
    readonly host: string;
    readonly problems: readonly string[];
    readonly warnings?: readonly string[];
}

/** The checks as lines: each host ready, or each of its problems with its fix; then its warnings. */
export function hostCheckLines(checks: readonly HostCheck[]): string[] {
    return checks.flatMap((c) => [
        ...(c.problems.length === 0 ? [`  ${c.host}: ready`] : c.problems.map((p) => `  ${c.host}: ${p}`)),
        ...(c.warnings ?? []).map((w) => `  ${c.host}: warning: ${w}`),
    ]);
}
