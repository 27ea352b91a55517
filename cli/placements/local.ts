// The local placement in the commands: this machine's engine (or the stack's docker:host,
// which `pulumi up` uses too), one host whose runners can be named by index.
import type { LocalPlacement } from "../../components/placements/placement";
import { collectStatus, hostsLogs, hostsZedBuildDirs, renderHosts } from "./engineHosts";
import type { PlacementCommands } from "./types";

export function localCommands({ host }: LocalPlacement): PlacementCommands {
    return {
        status: (stack, connect) => collectStatus(stack, [host], connect),
        logs: (request, connect) => hostsLogs([host], request, connect),
        plan: () => renderHosts([host]),
        zedBuildDirs: hostsZedBuildDirs([host]),
    };
}
