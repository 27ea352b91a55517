// Where a stack's containers go, whatever they run: this machine's engine, a list of hosts,
// or a Docker Swarm. The cases are generic over what a host (or the swarm) carries, which the
// workload decides: runner hosts carry runner plans (components/runner/), sandbox hosts
// sandbox plans (components/sandbox/), and a workload may refuse a placement (a sandbox has
// no swarm). Every layer that depends on the case switches on `kind` and ends with an
// exhaustiveness check, so a new case fails to compile everywhere it must be handled.
// Pure: types and helpers, no Pulumi or Docker import.
import type { HostEntry, PLACEMENT_KINDS } from "../config/schema";

/** The placement cases, as the config chooses them. */
export type PlacementKind = (typeof PLACEMENT_KINDS)[number];

/**
 * How to reach an engine the stack names (a listed host, a swarm's manager, or the
 * `docker:host` the commands follow): what a `docker.Provider` and the Docker CLI take.
 */
export interface DockerConnection {
    /** unix://, ssh:// or tcp:// address of the engine. */
    readonly host: string;
    /** Folder with ca.pem, cert.pem and key.pem, for tcp://. */
    readonly certPath?: string;
    /** Extra ssh options, for ssh://. */
    readonly sshOpts?: readonly string[];
}

/** A host as the placements name and reach it, whatever it carries. */
export interface HostIdentity {
    /** Unique within the stack; part of resource names and of default IDs. */
    readonly name: string;
    /**
     * The remote engine; undefined for Pulumi's default Docker provider. The commands (which
     * read the stack's `docker:host`) set it for the local placement too, so they reach the
     * engine the default provider uses; the program never does, so that placement keeps the
     * default provider (an explicit one would replace every container).
     */
    readonly connection: DockerConnection | undefined;
}

/** This machine's engine (Pulumi's default Docker provider): no `hosts`, no `swarm`. */
export interface LocalPlacement<H> {
    readonly kind: "local";
    readonly host: H;
}

/** Every host listed in `hosts`, each through its own Docker provider. */
export interface HostsPlacement<H> {
    readonly kind: "hosts";
    readonly hosts: readonly H[];
}

/** One replicated service on the Docker Swarm in `swarm`, with what the workload planned for it. */
export type SwarmPlacement<S> = { readonly kind: "swarm" } & S;

/** The placements whose hosts' own engines run the containers. */
export type EnginePlacement<H> = LocalPlacement<H> | HostsPlacement<H>;

/**
 * The hosts whose own engines run containers: this machine's, or every listed host;
 * none on a swarm (its manager places tasks itself).
 */
export function placedHosts<H, S>(placement: EnginePlacement<H> | SwarmPlacement<S>): readonly H[] {
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

/** The same placement carrying `hosts` (in placedHosts' order) in place of its own: its hosts once planned. */
export function withHosts<H, P>(placement: EnginePlacement<H>, hosts: readonly P[]): EnginePlacement<P> {
    switch (placement.kind) {
        case "local":
            return { kind: "local", host: hosts[0] };
        case "hosts":
            return { kind: "hosts", hosts };
        default: {
            const never: never = placement;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}

/** A host listed in `hosts`: its identity and its entry (its count and overrides), unread by any workload yet. */
export interface ListedHost extends HostIdentity {
    readonly entry: HostEntry;
}

/** Where the config puts containers that run on hosts' own engines: this machine, or the listed hosts. */
export type EngineTarget = LocalPlacement<HostIdentity> | HostsPlacement<ListedHost>;

/**
 * The hosts of an engine placement with a workload's settings: this machine's are the top-level
 * settings, each listed host's come from its entry (`listed`, the workload's own overrides).
 */
export function hostsWithSettings<S>(
    target: EngineTarget,
    top: S,
    listed: (entry: HostEntry, top: S) => S,
): (HostIdentity & { readonly settings: S })[] {
    switch (target.kind) {
        case "local":
            return [{ ...target.host, settings: top }];
        case "hosts":
            return target.hosts.map((host) => ({ name: host.name, connection: host.connection, settings: listed(host.entry, top) }));
        default: {
            const never: never = target;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}
