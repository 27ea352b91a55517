// The stack config read, checked and planned, for the program and the operator commands alike,
// in one pass: every key checked on its own (config/values.ts); the stack's workload record
// (workloads.ts) refusing what it does not read and adding its own checks; the placement the
// keys choose (placements/resolve.ts); and the record's plan of its containers there. Every
// problem is reported at once; messages never contain a secret's value. Pure.
import type { HostEntry } from "./config/schema";
import { type ConfigContext, ConfigError, type RawConfig, type ReadOptions, check } from "./config/values";
import { namespaceWarnings } from "./config/warnings";
import { DEFAULT_PROJECT } from "./labels";
import { locate } from "./placements/resolve";
import { type RunnerSettings, resolveSettings as resolveRunnerSettings } from "./runner/settings";
import type { WorkloadKind, WorkloadRecord } from "./workload";
import { ALL_WORKLOAD_RECORDS, type PlacementOf, WORKLOAD_RECORDS } from "./workloads";

/** A stack's config, read and planned: its workload, where its containers go with each host planned, its secrets and warnings. */
interface Deployment<K extends WorkloadKind> {
    readonly workload: { readonly kind: K };
    /** Where the containers go, with the plan of every host (or of the swarm service), computed once. */
    readonly placement: PlacementOf<K>;
    /** The control plane's URL, as the stack sets it (or its stand-in when it is unreadable). */
    readonly apiHost: string;
    /** The runner token, to be wrapped as a secret at once. */
    readonly apiToken: string;
    /** The registry's password (runners on a swarm), to be wrapped as a secret at once. */
    readonly registryPassword: string | undefined;
    readonly warnings: readonly string[];
}

/** A runner stack: runners on this machine, on every listed host, or as a swarm service. */
export interface RunnerDeployment extends Deployment<"runner"> {
    /** Top-level runner settings: the single host's when `hosts` is unset, the fleet's or the swarm's defaults otherwise. */
    readonly settings: RunnerSettings;
}

/** A sandbox stack: Helix sandboxes on this machine or on every listed host, never a swarm. */
export type SandboxDeployment = Deployment<"sandbox">;

/** The result of reading the stack config: one case per workload. */
export type ParsedConfig = RunnerDeployment | SandboxDeployment;

/**
 * The parsed config narrowed by its workload. TypeScript narrows a union by a property of its own,
 * not by a property of a property (`config.workload.kind`): this is the one place that does it.
 */
export type WorkloadCase =
    { readonly kind: "runner"; readonly config: RunnerDeployment } | { readonly kind: "sandbox"; readonly config: SandboxDeployment };

/** The parsed config as its workload's case: switch on `kind`, and each case has its own placement type. */
export function workloadCase(config: ParsedConfig): WorkloadCase {
    // The union's members are told apart by workload.kind alone; the cast restates that pairing.
    return { kind: config.workload.kind, config } as WorkloadCase;
}

/** The keys another workload reads and `record`'s does not, each with the record that reads it. */
function foreignKeys(record: WorkloadRecord<WorkloadKind, unknown>, pick: "ownKeys" | "hostKeys") {
    const own: readonly string[] = record[pick];
    return ALL_WORKLOAD_RECORDS.filter((other) => other.kind !== record.kind).flatMap((other) =>
        (other[pick] as readonly string[]).filter((key) => !own.includes(key)).map((key) => ({ key, owner: other })),
    );
}

/**
 * Keys set for another workload than the stack's: refused rather than ignored. `explicit` holds
 * the keys the stack sets to other than their defaults (Pulumi hands the program Pulumi.yaml's
 * defaults as if set); `hosts` the parsed host entries, whose unset keys are undefined.
 */
function workloadKeyProblems(
    record: WorkloadRecord<WorkloadKind, unknown>,
    explicit: Readonly<Record<string, string>>,
    hosts: readonly HostEntry[] | undefined,
): string[] {
    const why = (owner: WorkloadRecord<WorkloadKind, unknown>) =>
        `is read only by the ${owner.kind} workload (this stack's workload is ${record.kind})`;
    const orSwitch = (owner: WorkloadRecord<WorkloadKind, unknown>) => (owner.offeredAsSwitch ? `, or set workload to ${owner.kind}` : "");
    const problems: string[] = [];
    for (const { key, owner } of foreignKeys(record, "ownKeys"))
        if (explicit[key] !== undefined)
            problems.push(`${key} ${why(owner)}: remove it with \`pulumi config rm ${key}\`${orSwitch(owner)}`);
    const hostKeys = foreignKeys(record, "hostKeys");
    (hosts ?? []).forEach((host, i) => {
        for (const { key, owner } of hostKeys)
            if (host[key as keyof HostEntry] !== undefined)
                problems.push(`hosts[${i}].${key} ${why(owner)}: remove it from the host${orSwitch(owner)}`);
    });
    return problems;
}

/** Parses and validates the stack config, throwing a ConfigError that lists every problem, plan problems included. */
export function parseConfig(raw: RawConfig, context: ConfigContext & ReadOptions): ParsedConfig {
    const { values, present, explicit, problems, token, insecureToken, hostName } = check(raw, context);
    const located = locate(values, present, hostName, context.dockerConfig);
    const record: WorkloadRecord<WorkloadKind, unknown> = WORKLOAD_RECORDS[values.workload];
    const refusal = record.refusedPlacements[located.chosen];
    if (refusal !== undefined) problems.push(refusal);
    problems.push(...record.keyProblems(values, present));
    problems.push(...workloadKeyProblems(record, explicit, values.hosts));
    problems.push(...located.problems);
    const planned = record.plan({
        values,
        explicit,
        // A refused placement is planned as this machine alone: its refusal is the problem reported.
        target: refusal === undefined ? located.target : { kind: "local", host: { name: hostName, connection: located.engine } },
        context,
        hostName,
        stack: { project: context.project ?? DEFAULT_PROJECT, stackName: context.stackName },
        insecureToken,
    });
    problems.push(...planned.problems);
    if (problems.length > 0 || planned.placement === undefined) throw new ConfigError(problems);
    const common = {
        apiHost: values.apiHost,
        apiToken: token ?? "",
        registryPassword: values.registryPassword,
        warnings: [...namespaceWarnings(context.otherKeys ?? []), ...planned.warnings],
    };
    return deploymentOf(values.workload, planned.placement, common, values, { ...context, hostName });
}

/** The parsed config of workload `kind`, with what that workload's case carries. */
function deploymentOf(
    kind: WorkloadKind,
    placement: unknown,
    common: Omit<Deployment<WorkloadKind>, "workload" | "placement">,
    values: Parameters<typeof resolveRunnerSettings>[0],
    context: ConfigContext & { readonly hostName: string },
): ParsedConfig {
    switch (kind) {
        case "runner":
            return {
                ...common,
                workload: { kind },
                placement: placement as PlacementOf<"runner">,
                settings: resolveRunnerSettings(values, context),
            };
        case "sandbox":
            return { ...common, workload: { kind }, placement: placement as PlacementOf<"sandbox"> };
        default: {
            const never: never = kind;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}

/** A runner stack's top-level settings, every key checked on its own, without the plan; throws a ConfigError. */
export function parseSettings(raw: RawConfig, context: ConfigContext & ReadOptions): RunnerSettings {
    const { values, problems, hostName } = check(raw, context);
    if (problems.length > 0) throw new ConfigError(problems);
    return resolveRunnerSettings(values, { ...context, hostName });
}
