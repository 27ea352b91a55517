// Which GPU a sandbox host has, told as Helix's installer tells it (install.sh --sandbox at 2.12.2:
// check_nvidia_gpu, then check_amd_gpu, then check_intel_amd_gpu, else none), from what a host's
// engine can show: its runtimes and its device nodes. And where a stack whose workload reads
// gpuVendor leaves it to `auto`. Pure: the facts come from cli/checks/probe.ts.
import { GPU_VENDOR_AUTO, type GpuVendor } from "../../contract";
import { KEY_SCHEMAS } from "../../components/config/schema";
import type { RawConfig } from "../../components/config/values";
import { WORKLOAD_RECORDS } from "../../components/workloads";

/**
 * The device nodes the detection asks about. The NVIDIA kernel driver creates /dev/nvidiactl
 * (what nvidia-smi talks to: install.sh's first test); ROCm's /dev/kfd marks an AMD GPU the
 * desktops can use; /dev/dri is any GPU's render nodes, Intel's when neither of the others is there.
 */
export const GPU_DETECTION_DEVICES = ["/dev/nvidiactl", "/dev/kfd", "/dev/dri"] as const;

/** What a host's engine shows of its GPUs. */
export interface GpuFacts {
    readonly runtimes: readonly string[];
    /** Of GPU_DETECTION_DEVICES, those the host has. */
    readonly presentDevices: readonly string[];
    /** Devices whose check failed for another reason, with it. */
    readonly uncheckedDevices: readonly { readonly device: string; readonly reason: string }[];
}

/** The vendor found, and what it was told by. */
export interface GpuDetection {
    readonly vendor: GpuVendor;
    readonly evidence: string;
}

/**
 * The host's GPU vendor in install.sh's order: NVIDIA (its driver's /dev/nvidiactl, or Docker's
 * nvidia runtime, install.sh's WSL2 fallback), AMD (/dev/kfd beside /dev/dri), Intel (/dev/dri),
 * else none. A device that could not be checked makes the answer unknown: the reason, as text.
 */
export function detectGpuVendor(facts: GpuFacts): GpuDetection | string {
    if (facts.uncheckedDevices.length > 0)
        return `its GPU could not be told: ${facts.uncheckedDevices.map((u) => `${u.device}: ${u.reason}`).join("; ")}`;
    const has = (device: string) => facts.presentDevices.includes(device);
    if (has("/dev/nvidiactl")) return { vendor: "nvidia", evidence: "the NVIDIA driver's /dev/nvidiactl" };
    if (facts.runtimes.includes("nvidia")) return { vendor: "nvidia", evidence: "Docker's nvidia runtime" };
    if (has("/dev/kfd") && has("/dev/dri")) return { vendor: "amd", evidence: "ROCm's /dev/kfd beside /dev/dri" };
    if (has("/dev/dri")) return { vendor: "intel", evidence: "/dev/dri without an NVIDIA driver or ROCm" };
    return { vendor: "none", evidence: "no /dev/nvidiactl, nvidia runtime, /dev/kfd or /dev/dri" };
}

/** Where a sandbox stack leaves gpuVendor to auto: its own key (this machine) or listed hosts' entries, by index. */
export type AutoGpuTargets =
    { readonly kind: "stack" } | { readonly kind: "hosts"; readonly entries: readonly { index: number; name: string }[] };

/**
 * Where `raw` (a stack's config as Pulumi hands it over, Pulumi.yaml's defaults included) leaves
 * gpuVendor to auto; undefined for a runner stack, a stack that pins every host's vendor, or a
 * config too malformed to tell (the program reports that).
 */
export function autoGpuTargets(raw: RawConfig): AutoGpuTargets | undefined {
    if (!readsGpuVendor(raw)) return undefined;
    const top = raw.gpuVendor ?? GPU_VENDOR_AUTO;
    if (raw.hosts === undefined) return top === GPU_VENDOR_AUTO ? { kind: "stack" } : undefined;
    let entries: unknown;
    try {
        entries = JSON.parse(raw.hosts);
    } catch {
        return undefined;
    }
    if (!Array.isArray(entries)) return undefined;
    const auto: { index: number; name: string }[] = [];
    entries.forEach((entry: unknown, index) => {
        if (typeof entry !== "object" || entry === null) return;
        const { name, gpuVendor } = entry as { name?: unknown; gpuVendor?: unknown };
        if (typeof name === "string" && (gpuVendor ?? top) === GPU_VENDOR_AUTO) auto.push({ index, name });
    });
    return auto.length > 0 ? { kind: "hosts", entries: auto } : undefined;
}

/** Whether the stack's workload reads gpuVendor (the sandbox does; a runner has no GPU key). */
function readsGpuVendor(raw: RawConfig): boolean {
    const workload = KEY_SCHEMAS.workload.safeParse(raw.workload);
    const keys: readonly string[] = workload.success ? WORKLOAD_RECORDS[workload.data].ownKeys : [];
    return keys.includes("gpuVendor");
}

/** `raw` with each of `vendors` (by host entry index, or the stack's own key) in place of auto. */
export function withGpuVendors(raw: RawConfig, targets: AutoGpuTargets, vendorOf: (index: number | undefined) => string): RawConfig {
    if (targets.kind === "stack") return { ...raw, gpuVendor: vendorOf(undefined) };
    const entries = JSON.parse(raw.hosts ?? "[]") as Record<string, unknown>[];
    for (const { index } of targets.entries) entries[index] = { ...entries[index], gpuVendor: vendorOf(index) };
    return { ...raw, hosts: JSON.stringify(entries) };
}
