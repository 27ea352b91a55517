// From validated values to settings: the defaults computed from the machine and
// stack (host name, runner ID and container prefixes), and a fleet's hosts, each
// the top-level settings with its own overrides (HOST_OVERRIDABLE_KEYS). Pure.
import { HOST_OVERRIDABLE_KEYS, HostEntry, StackValues } from "./configSchema";

/** What the config is read for: values that are not config but shape the defaults. */
export interface ConfigContext {
    /** The Pulumi stack name; part of the default container name prefix. */
    readonly stackName: string;
    /** The hostname of the machine running `pulumi up`; the default `hostName`. */
    readonly machineHostName: string;
}

type ComputedKey = "hostName" | "runnerIdPrefix" | "containerNamePrefix";

/** Validated settings for one machine's runners: every key but the token and the host list. */
export type RunnerSettings = Readonly<Omit<StackValues, "apiToken" | "hosts" | ComputedKey> & { [K in ComputedKey]: string }>;

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
    /** The remote engine; undefined for this machine's engine through Pulumi's default Docker provider. */
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
    const { apiToken: _token, hosts: _hosts, ...rest } = values;
    const hostName = values.hostName ?? sanitizeHostName(context.machineHostName);
    return {
        ...rest,
        hostName,
        runnerIdPrefix: values.runnerIdPrefix ?? `external-zed-${hostName}`,
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

/** Every host to run runners on: the listed ones, or this machine alone when `hosts` is unset. */
export function resolveHosts(values: StackValues, settings: RunnerSettings): HostTarget[] {
    if (!values.hosts) return [{ name: settings.hostName, connection: undefined, settings }];
    return values.hosts.map((h) => ({
        name: h.name,
        connection: { host: h.dockerHost, certPath: h.certPath, sshOpts: h.sshOpts },
        settings: hostSettings(h, settings, values.runnerIdPrefix),
    }));
}
