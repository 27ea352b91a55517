// Every workload's components, in one map keyed like the workload records (components/workloads.ts):
// a workload without its components here fails to compile. Each entry's types follow from its
// record's planned placement, so a host carries what that workload's component reads.
import type { WorkloadComponents } from "./placements/types";
import { RUNNER_COMPONENTS } from "./runner/components";
import { SANDBOX_COMPONENTS } from "./sandbox/components";
import type { WorkloadKind } from "./workload";
import type { HostOf, SwarmOf } from "./workloads";

export const WORKLOAD_COMPONENTS = {
    runner: RUNNER_COMPONENTS,
    sandbox: SANDBOX_COMPONENTS,
} as const satisfies { readonly [K in WorkloadKind]: WorkloadComponents<HostOf<K>, SwarmOf<K>> };
