// Picks the commands' module for a stack's workload and placement. A new placement or
// workload kind fails to compile here until it has its own module.
import { type ParsedConfig, workloadCase } from "../../components/stackPlan";
import type { Placement } from "../../components/placements/placement";
import { hostsCommands } from "./hosts";
import { localCommands } from "./local";
import { sandboxCommands } from "./sandboxes";
import { swarmCommands } from "./swarm";
import type { PlacementCommands } from "./types";

export function placementCommands(parsed: ParsedConfig): PlacementCommands {
    const chosen = workloadCase(parsed);
    switch (chosen.kind) {
        // The modules below read runners (PlannedHost.runners, the swarm's slots).
        case "runner":
            return runnerCommands(chosen.config.placement);
        // Sandboxes on this machine or the listed hosts (never a swarm): one module for both.
        case "sandbox":
            return sandboxCommands(chosen.config.placement);
        default: {
            const never: never = chosen;
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
