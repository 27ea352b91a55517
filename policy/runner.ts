// Shared helpers for the zed-runner policies: recognising runner containers and
// reading their settings from resource properties. No policy is defined here.
// The pack guards any program that runs these runners, so it reads resources, not the
// program's modules; what it shares with the program is the contract (../contract, plain
// values and rules that import nothing), which `npm run build` compiles into the pack.
import { Secret } from "@pulumi/policy";
import { CONTAINER_PORTS, ENV, MAX_PORTS_PER_RUNNER, SECRET_FILE_SUFFIX, TASK_SLOT_TEMPLATE, isLoopbackHost } from "../contract";

/** Container ports a runner publishes RDP and VNC on: the image's, and the ones above it portsPerRunner may add. */
export const RDP_CONTAINER_PORTS = { from: CONTAINER_PORTS.rdp, to: CONTAINER_PORTS.rdp + MAX_PORTS_PER_RUNNER - 1 } as const;
export const VNC_CONTAINER_PORTS = { from: CONTAINER_PORTS.vnc, to: CONTAINER_PORTS.vnc + MAX_PORTS_PER_RUNNER - 1 } as const;

/** Unwraps a policy Secret (seen in remediations and hand-built arguments). */
export function reveal<T>(value: T | Secret): T {
    return value instanceof Secret ? (value.value as T) : value;
}

/** A container's environment as a map, or undefined when it has none. */
export function environmentOf(props: object): Record<string, string> | undefined {
    const envs = reveal((props as { envs?: unknown }).envs) as unknown;
    if (!Array.isArray(envs)) return undefined;
    const env: Record<string, string> = {};
    for (const entry of envs.map((e) => reveal(e))) {
        if (typeof entry !== "string") continue;
        const eq = entry.indexOf("=");
        if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
}

/** A Helix Zed runner is a container that is handed a runner token or a runner ID. */
export function isRunner(props: object): boolean {
    const env = environmentOf(props);
    return env !== undefined && (ENV.apiToken in env || ENV.runnerId in env);
}

/** The published ports of a container, with Docker's defaults made explicit. */
export function publishedPorts(props: object): { internal: number; external?: number; ip: string; protocol: string }[] {
    const ports =
        (reveal((props as { ports?: unknown }).ports) as
            { internal: unknown; external?: unknown; ip?: string; protocol?: string }[] | undefined) ?? [];
    return ports.map((p) => ({
        internal: Number(p.internal),
        external: p.external === undefined ? undefined : Number(p.external),
        ip: p.ip ?? "0.0.0.0",
        protocol: p.protocol ?? "tcp",
    }));
}

/** The parts of a `docker.Service`'s task spec the policies read. */
export interface ServiceTask {
    containerSpec?: {
        image?: string;
        env?: Record<string, string>;
        secrets?: { fileName?: string; secretId?: string }[];
        healthcheck?: { tests?: string[] };
        mounts?: {
            type?: string;
            source?: string;
            target?: string;
            tmpfsOptions?: { sizeBytes?: number };
            volumeOptions?: { driverName?: string; driverOptions?: Record<string, string> };
        }[];
        capAdds?: string[];
        privileges?: unknown;
    };
    restartPolicy?: { condition?: string };
    resources?: { limits?: { memoryBytes?: number } };
    logDriver?: { name?: string; options?: Record<string, string> };
}

/** A service's task spec, with policy Secrets unwrapped. */
export function serviceTaskOf(props: object): ServiceTask {
    return (reveal((props as { taskSpec?: unknown }).taskSpec) as ServiceTask | undefined) ?? {};
}

/** A service's task environment, or undefined when it has none. */
export function serviceEnvironmentOf(props: object): Record<string, string> | undefined {
    const env = reveal(serviceTaskOf(props).containerSpec?.env) as Record<string, unknown> | undefined;
    if (!env || typeof env !== "object") return undefined;
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(reveal(v))]));
}

/** A Helix Zed runner service: its tasks are handed a runner token (or its file) or a runner ID. */
export function isRunnerService(props: object): boolean {
    const env = serviceEnvironmentOf(props);
    return env !== undefined && (ENV.apiToken in env || `${ENV.apiToken}${SECRET_FILE_SUFFIX}` in env || ENV.runnerId in env);
}

/** The runner IDs a runner service's tasks get: its RUNNER_ID with each slot 1..replicas filled in. */
export function serviceRunnerIds(props: object): string[] {
    const id = serviceEnvironmentOf(props)?.[ENV.runnerId];
    if (!id) return [];
    if (!id.includes(TASK_SLOT_TEMPLATE)) return [id];
    const replicas = Number(
        (reveal((props as { mode?: unknown }).mode) as { replicated?: { replicas?: number } } | undefined)?.replicated?.replicas ?? 1,
    );
    return Array.from({ length: replicas }, (_, i) => id.split(TASK_SLOT_TEMPLATE).join(String(i + 1)));
}

/** Hosts whose traffic never leaves this machine. */
export function isLocalHost(hostname: string): boolean {
    return isLoopbackHost(hostname) || hostname.toLowerCase().replace(/\.$/, "") === "host.docker.internal";
}
