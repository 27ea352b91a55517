// Where a stack's runners go and what they run, decided once by the config parser:
// a placement (this machine's engine, a list of hosts, or a Docker Swarm) and a
// workload (the runner; Helix's sandbox is the next case, on local and hosts only).
// Every layer that depends on the case switches on `kind` and ends with an
// exhaustiveness check, so a new case fails to compile everywhere it must be handled.
// Pure: types and one helper, no Pulumi or Docker import.
import type { HostTarget, SwarmTarget } from "./configDefaults";
import type { RunnerSpec } from "./plan";
import type { SwarmServicePlan } from "./swarmPlan";

/** A Docker host with the runners planned for it. */
export interface PlannedHost extends HostTarget {
    readonly runners: readonly RunnerSpec[];
}

/** This machine's engine (Pulumi's default Docker provider): no `hosts`, no `swarm`. */
export interface LocalPlacement {
    readonly kind: "local";
    readonly host: PlannedHost;
}

/** Every host listed in `hosts`, each through its own Docker provider. */
export interface HostsPlacement {
    readonly kind: "hosts";
    readonly hosts: readonly PlannedHost[];
}

/** A Docker Swarm with the service planned for it. */
export interface PlannedSwarm {
    readonly target: SwarmTarget;
    readonly plan: SwarmServicePlan;
}

/** One replicated service on the Docker Swarm in `swarm`. */
export interface SwarmPlacement extends PlannedSwarm {
    readonly kind: "swarm";
}

export type Placement = LocalPlacement | HostsPlacement | SwarmPlacement;

/** The seed-era Helix runner (Dockerfile.zed-agent), the only workload so far. */
interface RunnerWorkload {
    readonly kind: "runner";
}

export type Workload = RunnerWorkload;

/**
 * The hosts whose own engines run containers: this machine's, or every listed host;
 * none on a swarm (its manager places tasks itself).
 */
export function placedHosts(placement: Placement): readonly PlannedHost[] {
    switch (placement.kind) {
        case "local":
            return [placement.host];
        case "hosts":
            return placement.hosts;
        case "swarm":
            return [];
        default: {
            const never: never = placement;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}
