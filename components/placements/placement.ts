// Where a stack's containers go and what they run, decided once by the config parser:
// a placement (this machine's engine, a list of hosts, or a Docker Swarm) and a
// workload (the seed-era runner, or Helix's sandbox). The workload decides what each
// host carries: a runner stack's hosts carry runner plans (PlannedHost), a sandbox
// stack's carry sandbox plans (SandboxHost), and a sandbox stack has no swarm case at
// all (Swarm services cannot be privileged or take devices). Every layer that depends
// on the case switches on `kind` and ends with an exhaustiveness check, so a new case
// fails to compile everywhere it must be handled. Pure: types and helpers, no Pulumi or Docker import.
import type { DockerConnection, HostTarget, SwarmTarget } from "./resolve";
import type { RunnerSpec } from "../runner/plan";
import type { SandboxSettings, SandboxSpec } from "../sandbox/plan";
import type { SwarmServicePlan } from "../runner/swarmPlan";

/** A Docker host with the runners planned for it. */
export interface PlannedHost extends HostTarget {
    readonly runners: readonly RunnerSpec[];
}

/** A Docker host with the Helix sandboxes planned for it. */
export interface SandboxHost {
    /** Unique within the stack; part of resource names (as a runner host's). */
    readonly name: string;
    /** The remote engine; undefined for Pulumi's default Docker provider (as HostTarget's). */
    readonly connection: DockerConnection | undefined;
    /** The host's sandbox settings, its own overrides applied. */
    readonly settings: SandboxSettings;
    readonly sandboxes: readonly SandboxSpec[];
}

/** This machine's engine (Pulumi's default Docker provider): no `hosts`, no `swarm`. */
export interface LocalPlacement<H = PlannedHost> {
    readonly kind: "local";
    readonly host: H;
}

/** Every host listed in `hosts`, each through its own Docker provider. */
export interface HostsPlacement<H = PlannedHost> {
    readonly kind: "hosts";
    readonly hosts: readonly H[];
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

/** Where a runner stack's runners go. */
export type Placement = LocalPlacement | HostsPlacement | SwarmPlacement;

/** Where a sandbox stack's sandboxes go: never a swarm. */
export type SandboxPlacement = LocalPlacement<SandboxHost> | HostsPlacement<SandboxHost>;

/** The seed-era Helix runner (Dockerfile.zed-agent), for control planes of September 2025. */
export interface RunnerWorkload {
    readonly kind: "runner";
}

/** Helix's own `helix-sandbox` image, for Helix 2.5.42 and later. */
export interface SandboxWorkload {
    readonly kind: "sandbox";
}

export type Workload = RunnerWorkload | SandboxWorkload;

/**
 * The hosts whose own engines run containers: this machine's, or every listed host;
 * none on a swarm (its manager places tasks itself).
 */
export function placedHosts<H>(placement: LocalPlacement<H> | HostsPlacement<H> | SwarmPlacement): readonly H[] {
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
