// `gpuVendor: auto`, the sandbox's default, resolved: each host it applies to is asked through its
// engine, as the host checks ask it, which GPU it has (gpuRules.ts), so that `npm run deploy` can
// pin the answer in the stack file before the preview and `npm run plan -- --check-hosts` can show it.
import type { RawConfig } from "../../components/config/values";
import { describeError } from "../../contract";
import { requireEngine } from "../engine";
import { placementCommands } from "../placements";
import type { EngineClients } from "../placements/types";
import { loadStackFiles, readStackConfig } from "../stackFiles";
import { type AutoGpuTargets, type GpuDetection, autoGpuTargets, detectGpuVendor, withGpuVendors } from "./gpuRules";
import { probeGpu } from "./probe";

/** One host's GPU, found for gpuVendor auto: by host name, and its `hosts` entry's index (none for the stack's own key). */
export interface FoundGpu {
    readonly host: string;
    readonly index: number | undefined;
    readonly detection: GpuDetection;
}

/** What the hosts said: each one's GPU, or why it cannot be pinned. */
export interface AutoGpuResolution {
    readonly targets: AutoGpuTargets;
    readonly found: readonly FoundGpu[];
    readonly problems: readonly string[];
    /** The stack's config with every found vendor in place of auto, for the commands' own parse. */
    readonly resolve: (raw: RawConfig) => RawConfig;
}

/**
 * A vendor the hosts' names are read under: any one parses, and none needs a device or runtime.
 * Only where the hosts are and how to reach them is taken from that parse.
 */
const STAND_IN_VENDOR = "intel";

/**
 * Asks each host whose gpuVendor is auto which GPU it has. Undefined when the stack has no auto
 * vendor, or a config the program refuses anyway (pulumi up reports all its problems).
 */
export async function resolveAutoGpu(stack: string, root: string, engines: EngineClients): Promise<AutoGpuResolution | undefined> {
    const { raw } = readStackConfig(stack, root);
    const targets = autoGpuTargets(raw);
    if (targets === undefined) return undefined;
    let hosts;
    try {
        hosts = placementCommands(loadStackFiles(stack, root, (raw) => withGpuVendors(raw, targets, () => STAND_IN_VENDOR)).parsed).hosts;
    } catch {
        return undefined;
    }
    const allowNoGpu = allowsNoGpu(raw);
    const asked = targets.kind === "stack" ? [{ index: undefined, name: hosts[0].name }] : targets.entries;
    const answers = await Promise.all(
        asked.map(async ({ index, name }) => {
            const host = hosts.find((h) => h.name === name)!;
            try {
                const docker = engines.docker(host);
                await requireEngine(docker, host);
                return { index, host: name, detection: detectGpuVendor(await probeGpu(docker)) };
            } catch (err) {
                return { index, host: name, detection: `its engine could not be asked: ${describeError(err)}` };
            }
        }),
    );
    const found: FoundGpu[] = [];
    const problems: string[] = [];
    for (const { index, host, detection } of answers) {
        if (typeof detection === "string") problems.push(`host ${host}: gpuVendor is auto, but ${detection}. Set gpuVendor for it.`);
        else if (detection.vendor === "none" && !allowNoGpu(index))
            problems.push(
                `host ${host}: gpuVendor is auto, and it has no GPU (${detection.evidence}): Helix 2.11.33 and later place no session ` +
                    "on a sandbox without one. Install the GPU's driver (docs/sandbox.md#host-prerequisites), or set gpuVendor: none " +
                    "and allowNoGpu: true to deploy it anyway.",
            );
        else found.push({ index, host, detection });
    }
    const vendors = new Map(found.map((f) => [f.index, f.detection.vendor]));
    return {
        targets,
        found,
        problems,
        resolve: (raw) => withGpuVendors(raw, targets, (index) => vendors.get(index) ?? STAND_IN_VENDOR),
    };
}

/** Whether the stack accepts a sandbox without a GPU on the host of entry `index` (the stack's own key for none). */
function allowsNoGpu(raw: RawConfig): (index: number | undefined) => boolean {
    const top = raw.allowNoGpu === "true";
    let entries: { allowNoGpu?: unknown }[] = [];
    try {
        entries = raw.hosts === undefined ? [] : JSON.parse(raw.hosts);
    } catch {
        // autoGpuTargets read it already; unreachable.
    }
    return (index) => {
        const own = index === undefined ? undefined : entries[index]?.allowNoGpu;
        return own === undefined ? top : own === true || own === "true";
    };
}

/** What was found, as lines: each host's GPU and what told it. */
export function foundGpuLines(found: readonly FoundGpu[]): string[] {
    return found.map((f) => `  ${f.host}: ${f.detection.vendor} (${f.detection.evidence})`);
}
