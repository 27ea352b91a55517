// From validated values to settings: the defaults computed from the machine and
// stack (host name, runner ID and container prefixes), and a fleet's hosts, each
// the top-level settings with its own overrides (HOST_OVERRIDABLE_KEYS). Pure.
import { HOST_OVERRIDABLE_KEYS, HostEntry, SANDBOX_ONLY_KEYS, StackValues } from "../config/schema";

/** Keys that say where runners go rather than how each runs. */
type TargetKey = "hosts" | "swarm" | "registry" | "registryUsername" | "registryPassword";

/** What the config is read for: values that are not config but shape the defaults. */
export interface ConfigContext {
    /** The Pulumi stack name; part of the default container name prefix. */
    readonly stackName: string;
    /** The hostname of the machine running `pulumi up`; the default `hostName`. */
    readonly machineHostName: string;
    /** The Pulumi project, written into the plan's labels. Defaults to DEFAULT_PROJECT (Pulumi.yaml's name). */
    readonly project?: string;
}

type ComputedKey = "hostName" | "runnerIdPrefix" | "containerNamePrefix";

/** Keys that choose or configure the sandbox workload, not a runner (components/sandboxConfig.ts reads them). */
type SandboxKey = "workload" | (typeof SANDBOX_ONLY_KEYS)[number];

/** Validated settings for one machine's runners: every key but the token, the host list and the sandbox keys. */
export type RunnerSettings = Readonly<
    Omit<StackValues, "apiToken" | TargetKey | ComputedKey | SandboxKey> & { [K in ComputedKey]: string }
>;

/** How to reach a remote host's Docker engine: what a `docker.Provider` needs. */
export interface DockerConnection {
    /** unix://, ssh:// or tcp:// address of the engine. */
    readonly host: string;
    /** Folder with ca.pem, cert.pem and key.pem, for tcp://. */
    readonly certPath?: string;
    /** Extra ssh options, for ssh://. */
    readonly sshOpts?: readonly string[];
}

/** One Docker host and the settings of the runners on it. */
export interface HostTarget {
    /** Unique within the stack; part of resource names and of default runner IDs. */
    readonly name: string;
    /**
     * The remote engine; undefined for Pulumi's default Docker provider. The commands (which
     * read the stack's `docker:host`) set it for the local placement too, so they reach the
     * engine the default provider uses; the program never does, so that placement keeps the
     * default provider (an explicit one would replace every runner).
     */
    readonly connection: DockerConnection | undefined;
    readonly settings: RunnerSettings;
}

/** Machine hostnames can hold characters a runner ID may not; keep the first label, made safe. */
export function sanitizeHostName(machineHostName: string): string {
    const label = machineHostName
        .split(".")[0]
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/^-+|-+$/g, "");
    return label.slice(0, 63) || "localhost";
}

/** The top-level settings, with the computed defaults filled in. */
export function resolveSettings(values: StackValues, context: ConfigContext): RunnerSettings {
    const { apiToken: _token, hosts: _hosts, swarm, registry: _r, registryUsername: _u, registryPassword: _p, ...all } = values;
    // The sandbox keys are not a runner's: left out, so a runner's settings are what they always were.
    const rest = Object.fromEntries(
        Object.entries(all).filter(([key]) => key !== "workload" && !(SANDBOX_ONLY_KEYS as readonly string[]).includes(key)),
    ) as Omit<typeof all, SandboxKey>;
    const hostName = values.hostName ?? sanitizeHostName(context.machineHostName);
    return {
        ...rest,
        hostName,
        // A swarm's runners are on no one machine: their IDs carry the stack's name instead.
        runnerIdPrefix: values.runnerIdPrefix ?? (swarm ? `external-zed-${context.stackName}` : `external-zed-${hostName}`),
        containerNamePrefix: values.containerNamePrefix ?? `helix-zed-agent-${context.stackName}`,
    };
}

/** A fleet host's settings: the top-level ones, then what the host overrides. */
function hostSettings(host: HostEntry, settings: RunnerSettings, topLevelPrefix: string | undefined): RunnerSettings {
    const overridden = Object.fromEntries(HOST_OVERRIDABLE_KEYS.filter((k) => host[k] !== undefined).map((k) => [k, host[k]]));
    return {
        ...settings,
        ...overridden,
        hostName: host.name,
        replicas: host.replicas,
        // A prefix set at the top level is shared by every host: keep IDs unique with the host's name.
        runnerIdPrefix: host.runnerIdPrefix ?? (topLevelPrefix ? `${topLevelPrefix}-${host.name}` : `external-zed-${host.name}`),
    };
}

/** Where a swarm service may place its tasks. */
export interface SwarmScheduling {
    /** Swarm constraints, such as node.labels.zed==true. */
    readonly constraints: readonly string[];
    /** The most runners on one node; 0 is no limit. */
    readonly maxReplicasPerNode: number;
    /** A node attribute to spread runners evenly over (a placement preference). */
    readonly spread: string | undefined;
}

/** A Docker Swarm that runs the stack's runners as one service. */
export interface SwarmTarget {
    /** A manager's engine; undefined for this machine's engine (a manager itself). */
    readonly connection: DockerConnection | undefined;
    readonly settings: RunnerSettings;
    readonly placement: SwarmScheduling;
    /** Where the built image is pushed, as registry[/path]; undefined with a prebuilt `image`. */
    readonly registry: string | undefined;
    /** The account nodes pull with (and the image is pushed with); the password is a secret of its own. */
    readonly registryUsername: string | undefined;
}

/** Where the config puts the runners, before they are planned: one case per placement kind. */
export type PlacementTarget =
    | { readonly kind: "local"; readonly host: HostTarget }
    | { readonly kind: "hosts"; readonly hosts: readonly HostTarget[] }
    | { readonly kind: "swarm"; readonly target: SwarmTarget };

/**
 * Where the runners go: the swarm when `swarm` is set, every listed host with `hosts`, else
 * this machine alone. `localEngine` is the default provider's engine, when the commands know
 * it: this machine's host, or a swarm without a manager, is reached there.
 */
export function resolvePlacement(values: StackValues, settings: RunnerSettings, localEngine?: DockerConnection): PlacementTarget {
    const swarm = values.swarm;
    if (swarm) {
        return {
            kind: "swarm",
            target: {
                connection: swarm.manager ? { host: swarm.manager, certPath: swarm.certPath, sshOpts: swarm.sshOpts } : localEngine,
                settings,
                placement: { constraints: swarm.constraints, maxReplicasPerNode: swarm.maxReplicasPerNode, spread: swarm.spread },
                registry: values.registry,
                registryUsername: values.registryUsername,
            },
        };
    }
    if (!values.hosts) return { kind: "local", host: { name: settings.hostName, connection: localEngine, settings } };
    return {
        kind: "hosts",
        hosts: values.hosts.map((h) => ({
            name: h.name,
            connection: { host: h.dockerHost, certPath: h.certPath, sshOpts: h.sshOpts },
            settings: hostSettings(h, settings, values.runnerIdPrefix),
        })),
    };
}
