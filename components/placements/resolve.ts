// Where the config places a stack's containers, before any workload reads its settings: the
// placement case, with each host's name, engine and own entry. The one path every workload's
// config takes: its record (components/workloads.ts) turns each host into its settings and
// plans it. Pure.
import { DOCKER_PROVIDER_SCHEMAS, type HostEntry, type StackValues } from "../config/schema";
import { type KeySchema, MAX_VALUE_CHARS, type RawConfig, formatPath, maskValue } from "../config/values";
import type { DockerConnection, HostIdentity, HostsPlacement, LocalPlacement, PlacementKind, SwarmPlacement } from "./placement";

/** A host listed in `hosts`: its identity and its entry (its count and overrides), unread by any workload yet. */
interface ListedHost extends HostIdentity {
    readonly entry: HostEntry;
}

/** Where a swarm service may place its tasks. */
export interface SwarmScheduling {
    /** Swarm constraints, such as node.labels.zed==true. */
    readonly constraints: readonly string[];
    /** The most tasks on one node; 0 is no limit. */
    readonly maxReplicasPerNode: number;
    /** A node attribute to spread tasks evenly over (a placement preference). */
    readonly spread: string | undefined;
}

/** The stack's `swarm`: the manager's engine and where tasks may go. */
export interface SwarmSite {
    /** A manager's engine; undefined for this machine's engine (a manager itself). */
    readonly connection: DockerConnection | undefined;
    readonly scheduling: SwarmScheduling;
}

/** Where the config puts the containers, before they are planned: one case per placement kind. */
export type PlacementTarget = LocalPlacement<HostIdentity> | HostsPlacement<ListedHost> | SwarmPlacement<{ readonly site: SwarmSite }>;

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

/** Which placement the stack's keys choose, read from the keys it sets (an invalid `swarm` still chooses the swarm). */
export function chosenPlacement(present: Readonly<Record<string, string>>): PlacementKind {
    if (present.swarm !== undefined) return "swarm";
    return present.hosts !== undefined ? "hosts" : "local";
}

/** An engine address and its options from the config, as a connection. */
function connectionOf(address: string, options: { readonly certPath?: string; readonly sshOpts?: readonly string[] }): DockerConnection {
    return { host: address, certPath: options.certPath, sshOpts: options.sshOpts };
}

/**
 * Where the containers go: the swarm when `swarm` is set, every listed host with `hosts`, else
 * this machine alone, named `hostName`. `localEngine` is the default provider's engine, when the
 * commands know it: this machine's host, or a swarm without a manager, is reached there.
 */
export function resolvePlacement(values: StackValues, hostName: string, localEngine?: DockerConnection): PlacementTarget {
    const swarm = values.swarm;
    if (swarm) {
        return {
            kind: "swarm",
            site: {
                connection: swarm.manager ? connectionOf(swarm.manager, swarm) : localEngine,
                scheduling: { constraints: swarm.constraints, maxReplicasPerNode: swarm.maxReplicasPerNode, spread: swarm.spread },
            },
        };
    }
    if (!values.hosts) return { kind: "local", host: { name: hostName, connection: localEngine } };
    return {
        kind: "hosts",
        hosts: values.hosts.map((entry) => ({ name: entry.name, connection: connectionOf(entry.dockerHost, entry), entry })),
    };
}

/**
 * The ID prefix of a listed host's containers: its own, else the top-level one with the host's
 * name (a prefix set at the top level is shared by every host, so IDs stay unique), else the
 * workload's default for the host.
 */
export function listedHostIdPrefix(
    own: string | undefined,
    topLevel: string | undefined,
    hostName: string,
    defaultFor: (hostName: string) => string,
): string {
    return own ?? (topLevel ? `${topLevel}-${hostName}` : defaultFor(hostName));
}

/** The default provider's engine from the stack's `docker:*` keys, each checked; undefined without docker:host. */
export function defaultProviderEngine(dockerConfig: RawConfig, problems: string[]): DockerConnection | undefined {
    const values: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(DOCKER_PROVIDER_SCHEMAS) as [string, KeySchema][]) {
        const text = dockerConfig[key];
        if (text !== undefined && text.length > MAX_VALUE_CHARS) {
            problems.push(`docker:${key} is ${text.length} characters long; a value may have at most ${MAX_VALUE_CHARS}`);
            continue;
        }
        const result = schema.safeParse(text === "" ? undefined : text);
        if (result.success) values[key] = result.data;
        else
            for (const issue of result.error.issues) {
                const shown = issue.path.length === 0 && text !== undefined ? ` (got ${JSON.stringify(maskValue(text))})` : "";
                problems.push(`${formatPath([`docker:${key}`, ...issue.path])}${shown} ${issue.message}`);
            }
    }
    if (typeof values.host !== "string") return undefined;
    return { host: values.host, certPath: values.certPath as string | undefined, sshOpts: values.sshOpts as string[] | undefined };
}
