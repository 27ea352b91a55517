// The hosts placement in the commands: every listed host's own engine, reached the way
// its Docker provider is; with several hosts, runners are named by ID.
import type { HostsPlacement } from "../../components/placements/placement";
import { collectStatus, hostsLogs, hostsZedBuildDirs, renderHosts } from "./engineHosts";
import type { PlacementCommands } from "./types";

export function hostsCommands({ hosts }: HostsPlacement): PlacementCommands {
    return {
        status: (stack, connect) => collectStatus(stack, hosts, connect),
        logs: (request, connect) => hostsLogs(hosts, request, connect),
        plan: () => renderHosts(hosts),
        zedBuildDirs: hostsZedBuildDirs(hosts),
    };
}
