// A runner's settings from the validated values: the keys a runner reads, with the defaults
// computed from the machine and the stack (host name, runner ID and container prefixes), and a
// listed host's, the top-level settings with its own overrides. Pure.
import type { HostEntry, StackKey, StackValues } from "../config/schema";
import { RUNNER_HOST_KEYS, RUNNER_KEYS } from "../config/workloadKeys";
import type { ConfigContext } from "../config/values";
import type { HostIdentity } from "../placements/placement";
import { listedHostIdPrefix } from "../placements/resolve";

/** Keys every workload reads that a runner's settings carry as they are. */
const SHARED_KEYS = [
    "apiHost",
    "allowInsecureToken",
    "replicas",
    "restartPolicy",
    "memoryMb",
    "cpus",
    "networks",
] as const satisfies readonly StackKey[];

/** Settings the runner's defaults compute when the stack leaves them unset. */
type ComputedKey = "hostName" | "runnerIdPrefix" | "containerNamePrefix";

/** Validated settings for one machine's runners: the keys a runner reads, the computed ones filled in. */
export type RunnerSettings = Readonly<
    Pick<StackValues, Exclude<(typeof RUNNER_KEYS)[number] | (typeof SHARED_KEYS)[number], ComputedKey>> & { [K in ComputedKey]: string }
>;

/** A Docker host and the settings of the runners on it. */
export interface RunnerHost extends HostIdentity {
    readonly settings: RunnerSettings;
}

/** The default runner ID prefix of a host's runners. */
function defaultRunnerIdPrefix(hostName: string): string {
    return `external-zed-${hostName}`;
}

/** The top-level settings, with the computed defaults filled in: this machine's, or what every listed host starts from. */
export function resolveSettings(values: StackValues, context: ConfigContext & { readonly hostName: string }): RunnerSettings {
    const read = Object.fromEntries(
        [...SHARED_KEYS, ...RUNNER_KEYS].filter((key) => key !== "runnerIdPrefix").map((key) => [key, values[key]]),
    ) as Omit<RunnerSettings, ComputedKey>;
    return {
        ...read,
        hostName: context.hostName,
        // A swarm's runners are on no one machine: their IDs carry the stack's name instead.
        runnerIdPrefix:
            values.runnerIdPrefix ?? (values.swarm ? `external-zed-${context.stackName}` : defaultRunnerIdPrefix(context.hostName)),
        containerNamePrefix: values.containerNamePrefix ?? `helix-zed-agent-${context.stackName}`,
    };
}

/** A listed host's runner settings: the top-level ones, then what the host overrides. */
export function listedHostSettings(entry: HostEntry, settings: RunnerSettings, topLevelPrefix: string | undefined): RunnerSettings {
    const overridden = Object.fromEntries(RUNNER_HOST_KEYS.filter((k) => entry[k] !== undefined).map((k) => [k, entry[k]]));
    return {
        ...settings,
        ...overridden,
        hostName: entry.name,
        replicas: entry.replicas,
        runnerIdPrefix: listedHostIdPrefix(entry.runnerIdPrefix, topLevelPrefix, entry.name, defaultRunnerIdPrefix),
    };
}
