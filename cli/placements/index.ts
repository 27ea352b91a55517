// Picks the commands' module for a stack's workload and placement: containers on Docker hosts
// (this machine, or the listed hosts) for every workload, with the workload's own record
// (cli/workloads/), and the runners' swarm service. A new placement or workload fails to compile
// here until it has its module.
import type { EnginePlacement, HostIdentity, SwarmPlacement } from "../../components/placements/placement";
import { type ParsedConfig, workloadCase } from "../../components/stackPlan";
import { WORKLOAD_COMMANDS } from "../workloads";
import type { WorkloadCommands } from "../workloads/types";
import { dockerHostCommands } from "./dockerHosts";
import { swarmCommands } from "./swarm";
import type { PlacementCommands } from "./types";

export function placementCommands(parsed: ParsedConfig): PlacementCommands {
    const chosen = workloadCase(parsed);
    switch (chosen.kind) {
        case "runner":
            return commandsOn(chosen.config.placement, WORKLOAD_COMMANDS.runner, parsed.apiHost, swarmCommands);
        // Sandboxes are never on a swarm: their record refuses it.
        case "sandbox":
            return commandsOn(chosen.config.placement, WORKLOAD_COMMANDS.sandbox, parsed.apiHost, undefined);
        default: {
            const never: never = chosen;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}

/** A workload's commands on the placement its config planned; `onSwarm` for a workload that runs as a swarm service. */
function commandsOn<H extends HostIdentity, S>(
    placement: EnginePlacement<H> | SwarmPlacement<S>,
    workload: WorkloadCommands<H>,
    apiHost: string,
    onSwarm: ((swarm: SwarmPlacement<S>) => PlacementCommands) | undefined,
): PlacementCommands {
    switch (placement.kind) {
        case "local":
        case "hosts":
            return dockerHostCommands(placement, workload, apiHost);
        case "swarm":
            if (onSwarm === undefined) throw new Error("This workload has no swarm service; the config should have refused the swarm");
            return onSwarm(placement);
        default: {
            const never: never = placement;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}
