// What a workload is to the config and the plan: the one record each workload declares of what
// sets it apart (components/runner/workload.ts, components/sandbox/workload.ts), registered in
// components/workloads.ts. Every decision that depends on the workload reads its record or
// switches on its kind with an exhaustiveness check; nothing compares the workload's name.
// The Pulumi components and the commands keep records of their own per layer, keyed the same
// way (components/workloadComponents.ts, cli/workloads.ts), so a new workload fails to compile
// in each until it has its module there. Pure: types only.
import type { HostOverridableKey, StackKey, StackValues, WORKLOADS, WorkloadDefaultedKey } from "./config/schema";
import type { ConfigContext } from "./config/values";
import type { StackIdentity } from "./labels";
import type { PlacementKind } from "./placements/placement";
import type { PlacementTarget } from "./placements/resolve";

/** The workload cases, as the config's `workload` key names them. */
export type WorkloadKind = (typeof WORKLOADS)[number];

/** What the workload's plan is given: the checked values, what the stack set, and where it places them. */
export interface PlanInputs {
    readonly values: StackValues;
    /**
     * The keys the stack sets to other than their default (components/config/values.ts): Pulumi
     * hands the program Pulumi.yaml's defaults as if set, so these tell what the user chose.
     */
    readonly explicit: Readonly<Record<string, string>>;
    /** Where the config places the containers (components/placements/resolve.ts). */
    readonly target: PlacementTarget;
    readonly context: ConfigContext;
    /** The top-level host name: the stack's hostName, else this machine's, made safe (the local host's name). */
    readonly hostName: string;
    /** Project and stack, for the plan's labels. */
    readonly stack: StackIdentity;
    /** What is insecure about a token accepted through allowInsecureToken, for the workload's warning. */
    readonly insecureToken: string | undefined;
}

/** A workload planned where the config places it, or the problems that stop it; and its warnings. */
export interface WorkloadPlan<P> {
    readonly placement: P | undefined;
    readonly problems: readonly string[];
    readonly warnings: readonly string[];
}

/** The workload's defaults of the keys whose default depends on the workload. */
type WorkloadDefaults = { readonly [K in WorkloadDefaultedKey]: StackValues[K] | undefined };

/**
 * One workload's record. `P` is its planned placement: what each host (or the swarm) carries
 * once planned, which the components and the commands read.
 */
export interface WorkloadRecord<K extends WorkloadKind, P> {
    readonly kind: K;
    /** How messages and tables name one of them and several. */
    readonly noun: { readonly one: string; readonly many: string };
    /** Top-level keys only this workload reads: a stack of another workload that sets one is refused, by name. */
    readonly ownKeys: readonly StackKey[];
    /** What a `hosts` entry may set for this workload, besides its name, engine and replicas. */
    readonly hostKeys: readonly HostOverridableKey[];
    /** Its defaults of the keys Pulumi.yaml declares no default for, since the default depends on the workload. */
    readonly defaults: WorkloadDefaults;
    /**
     * Whether a refusal of this workload's keys on another workload's stack suggests switching
     * `workload` to it (the sandbox, today's Helix; never back to the seed-era runner).
     */
    readonly offeredAsSwitch: boolean;
    /**
     * The Docker labels that tell its containers: the one each container's ID is under, and a
     * marker only its containers carry, or none (runners predate the marker: adding one to them
     * would replace every runner, so a runner is a stack container without another's marker).
     */
    readonly labels: { readonly id: string; readonly marker: { readonly key: string; readonly value: string } | undefined };
    /** The placements it cannot run on, each with the refusal's words. */
    readonly refusedPlacements: Readonly<Partial<Record<PlacementKind, string>>>;
    /** Problems across its own keys, once each key is valid on its own; `present` holds the keys the stack sets. */
    keyProblems(values: StackValues, present: Readonly<Record<string, string>>): string[];
    /** Plans it where the config places it. */
    plan(inputs: PlanInputs): WorkloadPlan<P>;
}

/** The value of a key whose default depends on the workload: the stack's, when it set it, else the workload's default. */
export function workloadValue<K extends WorkloadDefaultedKey>(
    record: Pick<WorkloadRecord<WorkloadKind, unknown>, "defaults">,
    key: K,
    inputs: Pick<PlanInputs, "values" | "explicit">,
): StackValues[K] | undefined {
    return inputs.explicit[key] === undefined ? record.defaults[key] : inputs.values[key];
}
