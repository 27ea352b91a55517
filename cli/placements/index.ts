// Picks the commands' module for a stack's workload and placement. A new placement or
// workload kind fails to compile here until it has its own module.
import type { Placement, Workload } from "../../components/placement";
import { hostsCommands } from "./hosts";
import { localCommands } from "./local";
import { swarmCommands } from "./swarm";
import type { PlacementCommands } from "./types";

export function placementCommands(placement: Placement, workload: Workload): PlacementCommands {
    switch (workload.kind) {
        // The modules below read runners (PlannedHost.runners, the swarm's slots).
        case "runner":
            return runnerCommands(placement);
        default: {
            const never: never = workload.kind;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}

function runnerCommands(placement: Placement): PlacementCommands {
    switch (placement.kind) {
        case "local":
            return localCommands(placement);
        case "hosts":
            return hostsCommands(placement);
        case "swarm":
            return swarmCommands(placement);
        default: {
            const never: never = placement;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}
