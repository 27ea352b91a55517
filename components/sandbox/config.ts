// The stack config of the sandbox workload (Helix's own helix-sandbox image, issue #22): which
// keys belong to which workload, each host's SandboxSettings from the validated values, and the
// plan of every host with the sandbox plan's own checks. The sandbox plan (sandboxPlan.ts) is
// the one place that plans and checks sandboxes; this module only feeds it the stack's keys and
// says which key a problem is about. Pure: no Pulumi or Docker import.
import type { ConfigContext, DockerConnection, RunnerSettings } from "../placements/resolve";
import { HOST_OVERRIDABLE_KEYS, KEY_SCHEMAS, RUNNER_ONLY_KEYS, SANDBOX_HOST_OVERRIDABLE_KEYS, SANDBOX_ONLY_KEYS } from "../config/schema";
import type { HostEntry, StackValues } from "../config/schema";
import type { SandboxHost, SandboxPlacement } from "../placements/placement";
import type { PlanContext } from "../runner/plan";
import {
    type SandboxSettings,
    defaultSandboxContainerNamePrefix,
    defaultSandboxIdPrefix,
    duplicateInstanceIdProblems,
    planSandboxes,
    sandboxApiUrlWarning,
    sandboxSettingsProblems,
} from "./plan";

/** Host keys only runners read: replicas, memoryMb and cpus mean the same for both workloads. */
const RUNNER_ONLY_HOST_KEYS = HOST_OVERRIDABLE_KEYS.filter((k) => k !== "memoryMb" && k !== "cpus");

/** Why a sandbox cannot go on a swarm, for the refusal. */
export const SANDBOX_SWARM_REFUSAL =
    "swarm cannot run the sandbox workload: Swarm services cannot be privileged or take devices, and Helix's sandbox needs both " +
    "(it runs its own dockerd and privileged desktops). Set hosts (or neither, for this machine alone), or set workload to runner";

/**
 * Keys set for the other workload than the stack's: refused rather than ignored. `explicit` holds
 * the keys the stack sets to other than their defaults (Pulumi hands the program Pulumi.yaml's
 * defaults as if set); `hosts` the parsed host entries, whose unset keys are undefined.
 */
export function workloadKeyProblems(
    workload: StackValues["workload"],
    explicit: Readonly<Record<string, string>>,
    hosts: readonly HostEntry[] | undefined,
): string[] {
    const [foreign, foreignHostKeys, owner] =
        workload === "sandbox"
            ? ([RUNNER_ONLY_KEYS, RUNNER_ONLY_HOST_KEYS, "runner"] as const)
            : ([SANDBOX_ONLY_KEYS, SANDBOX_HOST_OVERRIDABLE_KEYS, "sandbox"] as const);
    const orSwitch = workload === "sandbox" ? "" : ", or set workload to sandbox";
    const problems: string[] = [];
    for (const key of foreign as readonly string[])
        if (explicit[key] !== undefined)
            problems.push(
                `${key} is read only by the ${owner} workload (this stack's workload is ${workload}): remove it with \`pulumi config rm ${key}\`${orSwitch}`,
            );
    (hosts ?? []).forEach((host, i) => {
        for (const key of foreignHostKeys as readonly (keyof HostEntry)[])
            if (host[key] !== undefined)
                problems.push(
                    `hosts[${i}].${String(key)} is read only by the ${owner} workload (this stack's workload is ${workload}): remove it from the host${orSwitch}`,
                );
    });
    return problems;
}

/** The sandbox plan's messages name its field apiUrl; the stack key is apiHost. */
function asStackKey(message: string): string {
    return message.replace(/^apiUrl /, "apiHost ");
}

/**
 * The top-level sandbox settings: this machine's, or the defaults every listed host starts from.
 * `explicit` holds the keys the stack sets (restartPolicy and memoryMb whatever their value, as
 * Pulumi.yaml declares no default for them): unset, they take a sandbox's own defaults.
 */
function topLevelSettings(
    values: StackValues,
    explicit: Readonly<Record<string, string>>,
    settings: RunnerSettings,
    context: ConfigContext,
): SandboxSettings {
    return {
        hostName: settings.hostName,
        instanceIdPrefix: values.instanceIdPrefix ?? defaultSandboxIdPrefix(settings.hostName),
        // resolveSettings computes the runner default; a sandbox stack has its own.
        containerNamePrefix: values.containerNamePrefix ?? defaultSandboxContainerNamePrefix(context.stackName),
        replicas: values.replicas,
        helixVersion: values.helixVersion,
        sandboxImage: values.sandboxImage,
        apiUrl: values.apiHost,
        gpuVendor: values.gpuVendor,
        gpuAssignment: values.gpuAssignment,
        allowNoGpu: values.allowNoGpu,
        registryMirror: values.registryMirror,
        networks: values.networks,
        // Runners' defaults are not a sandbox's: Helix's installer runs it `always`, with no limits.
        restartPolicy: explicit.restartPolicy === undefined ? "always" : values.restartPolicy,
        memoryMb: explicit.memoryMb === undefined ? undefined : values.memoryMb,
        cpus: values.cpus,
        keepVolumes: values.keepVolumes,
    };
}

/** A listed host's settings: the top-level ones, then its own count and overrides. */
function hostSandboxSettings(host: HostEntry, top: SandboxSettings, topLevelPrefix: string | undefined): SandboxSettings {
    return {
        ...top,
        hostName: host.name,
        replicas: host.replicas,
        // A prefix set at the top level is shared by every host: keep IDs unique with the host's name (as runners do).
        instanceIdPrefix: host.instanceIdPrefix ?? (topLevelPrefix ? `${topLevelPrefix}-${host.name}` : defaultSandboxIdPrefix(host.name)),
        gpuVendor: host.gpuVendor ?? top.gpuVendor,
        gpuAssignment: host.gpuAssignment ?? top.gpuAssignment,
        allowNoGpu: host.allowNoGpu ?? top.allowNoGpu,
        memoryMb: host.memoryMb ?? top.memoryMb,
        cpus: host.cpus ?? top.cpus,
    };
}

/** A sandbox stack's placement with every host planned, or the problems that stop it, and its warnings. */
export interface PlannedSandboxes {
    readonly placement: SandboxPlacement | undefined;
    readonly problems: readonly string[];
    readonly warnings: readonly string[];
}

/**
 * Plans a sandbox stack (never a swarm: check() refuses it): this machine alone, or every listed
 * host. Every host's settings are checked with the sandbox plan's rules and IDs across hosts for
 * clashes; a problem of one host's own overrides names the host.
 */
export function planSandboxPlacement(
    values: StackValues,
    explicit: Readonly<Record<string, string>>,
    settings: RunnerSettings,
    context: ConfigContext,
    localEngine: DockerConnection | undefined,
    planContext: PlanContext,
): PlannedSandboxes {
    const top = topLevelSettings(values, explicit, settings, context);
    const problems: string[] = [];
    if (explicit.apiHost === undefined)
        problems.push(
            `apiHost is not set (or is the runners' default, ${KEY_SCHEMAS.apiHost.parse(undefined)}): a sandbox stack needs its control plane's URL ` +
                "as the sandboxes and their desktops reach it (HELIX_API_URL), scheme and host[:port] only, such as https://helix.example.com",
        );
    // An apiHost the stack key's own schema refused is reported already; its stand-in default is not the user's.
    const apiHostValid = explicit.apiHost !== undefined && KEY_SCHEMAS.apiHost.safeParse(explicit.apiHost).success;
    const relevant = (ps: readonly string[]) => ps.filter((p) => apiHostValid || !p.startsWith("apiUrl ")).map(asStackKey);
    const topProblems = relevant(sandboxSettingsProblems(top));
    problems.push(...topProblems);

    const targets: { name: string; connection: DockerConnection | undefined; settings: SandboxSettings }[] = values.hosts
        ? values.hosts.map((h) => ({
              name: h.name,
              connection: { host: h.dockerHost, certPath: h.certPath, sshOpts: h.sshOpts },
              settings: hostSandboxSettings(h, top, values.instanceIdPrefix),
          }))
        : [{ name: top.hostName, connection: localEngine, settings: top }];
    if (values.hosts)
        for (const target of targets)
            for (const problem of relevant(sandboxSettingsProblems(target.settings)))
                if (!topProblems.includes(problem)) problems.push(`on host ${target.name}: ${problem}`);
    if (problems.length > 0) return { placement: undefined, problems, warnings: [] };

    const hosts: SandboxHost[] = targets.map((t) => ({ ...t, sandboxes: planSandboxes(t.settings, planContext) }));
    problems.push(...duplicateInstanceIdProblems(hosts));
    if (problems.length > 0) return { placement: undefined, problems, warnings: [] };
    const warning = sandboxApiUrlWarning(top.apiUrl);
    const warnings = warning === undefined ? [] : [asStackKey(warning)];
    const placement: SandboxPlacement = values.hosts ? { kind: "hosts", hosts } : { kind: "local", host: hosts[0] };
    return { placement, problems, warnings };
}
