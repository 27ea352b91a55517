// Every workload's record in the commands, keyed like the workload records of the program
// (components/workloads.ts): a workload without one here fails to compile.
import type { WorkloadKind } from "../../components/workload";
import type { HostOf } from "../../components/workloads";
import { RUNNER_COMMANDS } from "./runner";
import { SANDBOX_COMMANDS } from "./sandbox";
import type { WorkloadCommands } from "./types";

export const WORKLOAD_COMMANDS = {
    runner: RUNNER_COMMANDS,
    sandbox: SANDBOX_COMMANDS,
} as const satisfies { readonly [K in WorkloadKind]: WorkloadCommands<HostOf<K>> };
