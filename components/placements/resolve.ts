// Where the config places a stack's containers, before any workload reads its settings: the
// placement case, with each host's name, engine and own entry. The one path every workload's
// config takes: its record (components/workloads.ts) turns each host into its settings and
// plans it. Pure.
import { DOCKER_PROVIDER_SCHEMAS, type StackValues } from "../config/schema";
import { maskValue } from "../../contract";
import { type KeySchema, MAX_VALUE_CHARS, type RawConfig, formatPath } from "../config/values";
import type {
    DockerConnection,
    HostIdentity,
    HostsPlacement,
    ListedHost,
    LocalPlacement,
    PlacementKind,
    SwarmPlacement,
} from "./placement";

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

/** Which placement the stack's keys choose, read from the keys it sets (an invalid `swarm` still chooses the swarm). */
function chosenPlacement(present: Readonly<Record<string, string>>): PlacementKind {
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
function resolvePlacement(values: StackValues, hostName: string, localEngine?: DockerConnection): PlacementTarget {
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
function defaultProviderEngine(dockerConfig: RawConfig, problems: string[]): DockerConnection | undefined {
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

/** Where the stack's keys place its containers: the placement they choose, the resolved target, and the default provider's engine. */
export interface Located {
    /** The placement the keys choose, read from the keys set (an invalid `swarm` still chooses the swarm). */
    readonly chosen: PlacementKind;
    readonly target: PlacementTarget;
    /** The default provider's engine, when the commands pass the stack's `docker:*` keys. */
    readonly engine: DockerConnection | undefined;
    /** Problems with those `docker:*` keys. */
    readonly problems: readonly string[];
}

/** Locates the stack's containers: the one entry of this module the config takes. */
export function locate(
    values: StackValues,
    present: Readonly<Record<string, string>>,
    hostName: string,
    dockerConfig: RawConfig | undefined,
): Located {
    const problems: string[] = [];
    const engine = dockerConfig ? defaultProviderEngine(dockerConfig, problems) : undefined;
    return { chosen: chosenPlacement(present), target: resolvePlacement(values, hostName, engine), engine, problems };
}
