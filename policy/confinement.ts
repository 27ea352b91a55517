// What takes a container out of its confinement, one set of rules for every policy that asks: a
// container engine's socket or state bound in (or a folder holding one), the host's kernel
// interfaces, devices and namespaces, capabilities and security options that undo Docker's
// confinement. no-host-takeover holds runners to the strict profile, sandbox-privileged-only
// every other container to the general one, sandbox-no-docker-socket and sandbox-as-helix-runs-it
// take the engine and namespace rules for sandboxes. Pure: resource properties in, findings out.
import { engineBindProblem, hostPathTakeover, normalizeHostPath } from "../contract";
import { type VolumeMount, isSet, localBindDevice, reveal } from "./runner";

/** The host's kernel interfaces: /proc and /sys reach the host's kernel settings (core_pattern, uevent_helper). */
const KERNEL_FOLDERS = ["/proc", "/sys"];

/**
 * How strictly to judge a container (a profile, not a workload): `strict` for runners (the runner
 * image needs no device, capability, system folder or other container's namespace) or `general` (any other container: only what undoes its
 * confinement, so a GPU, an ordinary capability or a read-only bind of /etc/localtime stays fine).
 */
export type ConfinementProfile =
    { readonly kind: "strict"; readonly allowedCapabilities: readonly string[] } | { readonly kind: "general" };

/**
 * Why binding host path `p` takes a container out of its confinement, or undefined: a container
 * engine (engineBindProblem) for everyone; held strictly (runners), also every system folder (the contract's
 * hostPathTakeover); for any other container, the host's kernel interfaces (/proc, /sys, /dev and
 * the devices hostDeviceProblem names), and a system folder it could write to.
 */
export function hostBindProblem(p: string, profile: ConfinementProfile, readOnly = false): string | undefined {
    const engine = engineBindProblem(p);
    if (engine !== undefined) return engine;
    if (profile.kind === "strict") return hostPathTakeover(p);
    const path = normalizeHostPath(p);
    const kernel = KERNEL_FOLDERS.find((dir) => path === dir || path.startsWith(`${dir}/`));
    if (kernel !== undefined) return path === kernel ? `the host's ${kernel}` : `${path}, inside the host's ${kernel}`;
    // The host's device nodes, judged as devices are (/dev itself, memory, disks): a read-only mount does not stop writes to a device.
    if (path === "/dev") return "the host's /dev";
    if (path.startsWith("/dev/")) return hostDeviceProblem(path);
    if (!readOnly) {
        const takeover = hostPathTakeover(p);
        if (takeover !== undefined) return `${takeover}, writable`;
    }
    return undefined;
}

/**
 * Capabilities that hand over the host or undo confinement: ALL, SYS_ADMIN (mounts, namespaces,
 * most of what privileged does), loading kernel modules, raw I/O, tracing other processes, reading
 * any file by handle (the "shocker" escape), the host's network and firewall, BPF and perf, the
 * LSMs, rebooting, the clock, the kernel log, immutable files, auditing, checkpointing.
 */
export const DANGEROUS_CAPABILITIES: readonly string[] = [
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_PTRACE",
    "SYS_BOOT",
    "SYS_TIME",
    "SYS_PACCT",
    "SYS_TTY_CONFIG",
    "SYSLOG",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "LINUX_IMMUTABLE",
    "AUDIT_CONTROL",
    "CHECKPOINT_RESTORE",
];

/** A capability as Docker reads it: upper case, with or without CAP_. */
function capabilityName(cap: unknown): string {
    return String(reveal(cap)).trim().toUpperCase().replace(/^CAP_/, "");
}

/** Devices onto the host's memory or I/O ports. */
const MEMORY_DEVICES = ["/dev/mem", "/dev/kmem", "/dev/port"];
/** Block devices (and SCSI generic, NVMe controllers): the host's disks, read and written below every file permission. */
const BLOCK_DEVICE =
    /^\/dev\/(?:(?:s|h|v|xv)d[a-z]+\d*|nvme\d+(?:n\d+(?:p\d+)?)?|mmcblk\d+(?:p\d+|boot\d+|rpmb)?|loop(?:\d+|-control)|dm-\d+|md\d+|sr\d+|sg\d+|nbd\d+|ram\d+|zram\d+|bcache\d+|rbd\d+|drbd\d+|pmem\d+|zd\d+|mtdblock\d+|ubiblock\S*)$/;
/** Folders of device nodes: Docker gives a container every device under a folder it is given. */
const DEVICE_FOLDERS = ["/dev", "/dev/disk", "/dev/mapper", "/dev/block", "/dev/bsg", "/dev/cpu"];

/** Why host device `p` hands over the host (its memory, its disks, every device), or undefined. */
export function hostDeviceProblem(p: string): string | undefined {
    const path = normalizeHostPath(p);
    if (MEMORY_DEVICES.includes(path)) return `the device ${path}, the host's memory`;
    if (BLOCK_DEVICE.test(path)) return `the device ${path}, a host disk`;
    const folder = DEVICE_FOLDERS.find((dir) => path === dir || (dir !== "/dev" && path.startsWith(`${dir}/`)));
    if (folder !== undefined) return `the devices ${path}`;
    return undefined;
}

/**
 * Why a device cgroup rule (`type major:minor perms`) opens the host's devices, or undefined: every
 * device (`a`), block devices (`b`), or the memory devices' major 1; with the default MKNOD
 * capability the container makes the node itself.
 */
export function deviceRuleProblem(rule: string): string | undefined {
    const m = /^\s*([abc])\s+(\*|\d+):(\*|\d+)\s*([rwm]*)\s*$/.exec(rule);
    if (!m) return `the device rule "${rule}", which Docker cannot read`;
    const [, type, major, , perms] = m;
    if (!/[rw]/.test(perms)) return undefined;
    if (type === "a") return `the device rule "${rule}", every host device`;
    if (type === "b") return `the device rule "${rule}", the host's disks`;
    if (major === "*" || major === "1") return `the device rule "${rule}", the host's memory devices`;
    return undefined;
}

/** Whether a security option turns off a confinement: seccomp, AppArmor, SELinux labels, masked /proc and /sys paths. */
export function isUnconfiningSecurityOpt(option: string): boolean {
    const [key, value = ""] = option
        .split(/[=:](.*)/s)
        .slice(0, 2)
        .map((s) => s.trim().toLowerCase());
    if (key === "seccomp" || key === "apparmor" || key === "systempaths") return value === "unconfined";
    // label=disable, or the super-privileged container type (label=type:spc_t).
    if (key === "label") return value === "disable" || /^type[=:]\s*(spc_t|unconfined_t)$/.test(value);
    return false;
}

/** Host namespaces a container can share; `container:<x>` shares another container's. */
const NAMESPACE_MODES = ["networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const;

/** One way a container leaves its confinement, with the setting that does it. */
export interface ConfinementLoss {
    readonly kind: "host-namespace" | "shared-namespace" | "bind" | "device" | "device-rule" | "security-opt" | "capability";
    /** The setting as a message names it: `pidMode: host`, `securityOpts "seccomp=unconfined"`, `SYS_ADMIN`. */
    readonly setting: string;
    /** For a bind: what it hands over, and how it is declared (a bind, or a local volume that binds). */
    readonly bind?: { readonly problem: string; readonly source: string; readonly via: "bind" | "local volume" };
}

/**
 * The host's namespaces a container joins (`host`, in any case; the network `host` in
 * networksAdvanced too) and, with `shared`, another container's (`container:<x>`).
 */
export function namespaceLosses(props: object, shared: boolean): ConfinementLoss[] {
    const c = props as Record<string, unknown>;
    const found: ConfinementLoss[] = [];
    for (const mode of NAMESPACE_MODES) {
        const raw = reveal(c[mode]);
        const value = typeof raw === "string" ? raw.trim().toLowerCase() : "";
        if (value === "host") found.push({ kind: "host-namespace", setting: `${mode}: host` });
        if (shared && value.startsWith("container:")) found.push({ kind: "shared-namespace", setting: `${mode}: ${String(raw)}` });
    }
    for (const network of (reveal(c.networksAdvanced) as { name?: unknown }[] | undefined) ?? []) {
        if (String(reveal(reveal(network)?.name) ?? "").toLowerCase() === "host")
            found.push({ kind: "host-namespace", setting: "networksAdvanced: host" });
    }
    return found;
}

/**
 * Every host folder a container's `volumes` and `mounts` bind, with whether read-only: bind mounts'
 * sources and the devices of local-driver volumes that bind (`{type: none, o: bind, device: /}`).
 */
export function hostBinds(props: object): { source: string; readOnly: boolean; via: "bind" | "local volume" }[] {
    const c = props as Record<string, unknown>;
    const found: { source: string; readOnly: boolean; via: "bind" | "local volume" }[] = [];
    for (const v of (reveal(c.volumes) as { hostPath?: unknown; readOnly?: unknown }[] | undefined) ?? []) {
        const volume = reveal(v);
        const source = reveal(volume?.hostPath);
        if (typeof source === "string" && source !== "") found.push({ source, readOnly: isSet(volume?.readOnly), via: "bind" });
    }
    for (const m of (reveal(c.mounts) as (VolumeMount & { readOnly?: unknown })[] | undefined) ?? []) {
        const mount = reveal(m);
        const type = String(reveal(mount?.type) ?? "").toLowerCase();
        const readOnly = isSet(mount?.readOnly);
        if (type === "bind" && typeof mount.source === "string" && mount.source !== "")
            found.push({ source: mount.source, readOnly, via: "bind" });
        if (type === "volume") {
            const options = reveal(mount.volumeOptions) ?? {};
            const device = localBindDevice(options.driverName, options.driverOptions);
            if (typeof device === "string" && device !== "") found.push({ source: device, readOnly, via: "local volume" });
        }
    }
    return found;
}

/**
 * Every way a (not privileged) container leaves its confinement under `profile`, in the order the
 * policies report them: namespaces, binds, devices, device rules, security options, capabilities.
 * A runner (strict) may have no device, device rule or capability beyond allowedCapabilities, bind
 * no system folder, and share no other container's namespace; any other container is held only to
 * what makes it privileged in all but the flag.
 */
export function confinementLosses(props: object, profile: ConfinementProfile): ConfinementLoss[] {
    const c = props as Record<string, unknown>;
    const strict = profile.kind === "strict";
    const found: ConfinementLoss[] = namespaceLosses(props, strict);
    for (const bind of hostBinds(props)) {
        const problem = hostBindProblem(bind.source, profile, bind.readOnly);
        if (problem !== undefined)
            found.push({ kind: "bind", setting: `${problem} (${bind.source})`, bind: { problem, source: bind.source, via: bind.via } });
    }
    for (const d of (reveal(c.devices) as { hostPath?: unknown }[] | undefined) ?? []) {
        const hostPath = String(reveal(reveal(d)?.hostPath) ?? "");
        if (strict) found.push({ kind: "device", setting: hostPath });
        else {
            const problem = hostDeviceProblem(hostPath);
            if (problem !== undefined) found.push({ kind: "device", setting: problem });
        }
    }
    for (const r of (reveal(c.deviceCgroupRules) as unknown[] | undefined) ?? []) {
        const rule = String(reveal(r));
        const problem = deviceRuleProblem(rule);
        if (strict) found.push({ kind: "device-rule", setting: `the device rule "${rule}"` });
        else if (problem !== undefined) found.push({ kind: "device-rule", setting: problem });
    }
    for (const o of (reveal(c.securityOpts) as unknown[] | undefined) ?? []) {
        const option = String(reveal(o));
        if (isUnconfiningSecurityOpt(option)) found.push({ kind: "security-opt", setting: `securityOpts "${option}"` });
    }
    const adds = ((reveal(c.capabilities) as { adds?: unknown[] } | undefined)?.adds ?? []).map(capabilityName);
    const allowed = strict ? profile.allowedCapabilities.map(capabilityName) : [];
    for (const cap of [...new Set(adds)]) {
        if (strict ? !allowed.includes(cap) : DANGEROUS_CAPABILITIES.includes(cap)) found.push({ kind: "capability", setting: cap });
    }
    return found;
}
