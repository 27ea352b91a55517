// Picks the commands' module for a stack's placement. A new placement kind fails to
// compile here until it has its own module.
import type { Placement } from "../../components/placement";
import { hostsCommands } from "./hosts";
import { localCommands } from "./local";
import { swarmCommands } from "./swarm";
import type { PlacementCommands } from "./types";

export function placementCommands(placement: Placement): PlacementCommands {
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
