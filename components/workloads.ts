// Every workload's record, in one map keyed by the `workload` key's values: a workload named in
// the schema's WORKLOADS without a record here fails to compile. Pure.
import type { HostsPlacement, SwarmPlacement } from "./placements/placement";
import type { WorkloadKind, WorkloadRecord } from "./workload";
import { RUNNER_RECORD } from "./runner/workload";
import { SANDBOX_RECORD } from "./sandbox/workload";

export const WORKLOAD_RECORDS = {
    runner: RUNNER_RECORD,
    sandbox: SANDBOX_RECORD,
} as const satisfies { readonly [K in WorkloadKind]: WorkloadRecord<K, unknown> };

export type WorkloadRecords = typeof WORKLOAD_RECORDS;

/** The planned placement of workload K, as its record's plan returns it. */
export type PlacementOf<K extends WorkloadKind> = NonNullable<ReturnType<WorkloadRecords[K]["plan"]>["placement"]>;

/** Every record, in the order of the schema's WORKLOADS. */
export const ALL_WORKLOAD_RECORDS: readonly WorkloadRecords[WorkloadKind][] = Object.values(WORKLOAD_RECORDS);

/** What one host of workload K carries once planned. */
export type HostOf<K extends WorkloadKind> = Extract<PlacementOf<K>, HostsPlacement<unknown>>["hosts"][number];

/** What workload K's swarm carries once planned; never for a workload without a swarm. */
export type SwarmOf<K extends WorkloadKind> = Omit<Extract<PlacementOf<K>, SwarmPlacement<unknown>>, "kind">;
