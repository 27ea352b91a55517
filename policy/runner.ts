// Shared helpers for the zed-runner policies: recognising runner and sandbox containers and
// reading their settings from resource properties. No policy is defined here.
// The pack guards any program that runs these runners, so it reads resources, not the
// program's modules; what it shares with the program is the contract (../contract, plain
// values and rules that import nothing), which `npm run build` compiles into the pack.
import * as policySdk from "@pulumi/policy";
import { PolicyResource, Secret } from "@pulumi/policy";
import {
    canonicalApiHost,
    canonicalDockerHost,
    canonicalRegistry,
    normalizeDockerHost,
    CONTAINER_PORTS,
    ENV,
    MAX_PORTS_PER_RUNNER,
    SANDBOX_ENV,
    SANDBOX_IMAGE_REPOSITORY,
    SECRET_FILE_SUFFIX,
    TASK_SLOT_TEMPLATE,
    isLoopbackHost,
    parseImageReference,
} from "../contract";

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

/** Whether a boolean setting is on, as the provider reads it: `true`, or the string "true" in any case. */
export function isSet(value: unknown): boolean {
    const v = reveal(value);
    return v === true || (typeof v === "string" && v.trim().toLowerCase() === "true");
}

/**
 * An image reference's (or a configured repository's) repository in the one spelling the engine
 * gives it: the contract's grammar (parseImageReference) for the name, the registry host as the
 * program writes it (canonicalRegistry: lower case, no trailing dot, punycode), all lower-cased.
 * `MIRROR.example.com./helixml/helix-sandbox:2.12.2` is `mirror.example.com/helixml/helix-sandbox`.
 */
export function canonicalRepository(reference: string): string {
    return canonicalRegistry(parseImageReference(reference.trim()).name).toLowerCase();
}

/** Whether `image`'s repository (whatever its tag or digest) is one of `repositories`, each compared in its canonical spelling. */
export function inRepositories(image: unknown, repositories: readonly string[]): boolean {
    if (typeof image !== "string") return false;
    const repository = canonicalRepository(image);
    return repositories.some((r) => typeof r === "string" && canonicalRepository(r) === repository);
}

/** An image ID (`sha256:<hex>`, a RemoteImage's imageId, what a container's state holds): it names no repository, tag or release. */
export function isImageId(reference: string): boolean {
    return /^sha256:[0-9a-f]+$/i.test(reference.trim());
}

/**
 * Whether an image reference names Helix's sandbox image: by tag or digest, as a RemoteImage's
 * name or repoDigest gives it, the registry host in any spelling. An image ID (`sha256:...`, a
 * RemoteImage's imageId) names no repository, so a container started from one is not recognised
 * as a sandbox by its image.
 */
export function isSandboxImage(reference: unknown): boolean {
    return typeof reference === "string" && !isImageId(reference) && canonicalRepository(reference) === SANDBOX_IMAGE_REPOSITORY;
}

/**
 * Whether an image reference names Helix's sandbox image or, by its last path component, a mirror
 * of it on any registry (`registry.example.com/helixml/helix-sandbox`): a sandbox to the pack either way.
 */
export function namesSandboxImage(reference: unknown): boolean {
    return typeof reference === "string" && !isImageId(reference) && /(^|\/)helix-sandbox$/.test(canonicalRepository(reference));
}

/**
 * A Helix sandbox is a container whose image is named like Helix's sandbox image on any registry
 * (namesSandboxImage: Helix's own or a mirror's `.../helix-sandbox`), or one set up as a sandbox (its
 * SANDBOX_INSTANCE_ID) whatever image it runs, such as a renamed mirror's: every sandbox rule holds
 * for each. sandbox-privileged-only decides which images a sandbox may run, and refuses a mirror
 * listed in its sandboxImageMirrors that is neither, so no mirror escapes the sandbox rules.
 */
export function isSandbox(props: object): boolean {
    return namesSandboxImage(reveal((props as { image?: unknown }).image)) || SANDBOX_ENV.instanceId in (environmentOf(props) ?? {});
}

/**
 * isSandbox for a stack policy's resource, whose image may be unknown during preview (a RemoteImage's
 * repoDigest not yet pulled): then by its environment alone.
 */
export function isKnownSandbox(props: object): boolean {
    const image = known(() => reveal((props as { image?: unknown }).image));
    return namesSandboxImage(image) || known(() => isSandbox({ envs: (props as { envs?: unknown }).envs })) === true;
}

/**
 * A Helix Zed runner is a container that is handed a runner token or a runner ID. A sandbox is
 * never one, so no runner policy (hardening, no privileges, no devices) misfires on it.
 */
export function isRunner(props: object): boolean {
    if (isSandbox(props)) return false;
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

/** The engine a provider without a host reaches: the Docker client's default, the local socket. */
const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/**
 * The Docker host a resource is on, in one spelling, so one engine under two names is one host:
 * the contract's canonical engine address (an ssh:// or tcp:// host lower-cased, without a trailing
 * dot, in punycode) normalised (unix socket paths resolved, /var/run as /run, default ports, no ssh
 * login). A provider without a host, like the default provider, reaches the local socket.
 */
export function dockerHostOf(resource: PolicyResource): string {
    const host = reveal(resource.provider?.props?.host) as unknown;
    const address = typeof host === "string" && host.trim() !== "" ? host.trim() : DEFAULT_DOCKER_HOST;
    return normalizeDockerHost(canonicalDockerHost(address));
}

/**
 * The control plane a runner or sandbox reports to, in one spelling: the origin of the contract's
 * canonical form of its URL (scheme and host lower-cased, the host in punycode without a trailing
 * dot, a default port dropped). IDs are unique per control plane; a value that is no URL is its own key.
 */
export function controlPlaneOf(apiUrl: string | undefined): string {
    if (apiUrl === undefined) return "";
    try {
        return new URL(canonicalApiHost(apiUrl.trim())).origin;
    } catch {
        return apiUrl;
    }
}

type ErrorClass = new (...args: never[]) => Error;
/** The policy SDK's error for a value unknown during preview (exported at run time, not in its typings). */
const UnknownValueError = (policySdk as unknown as { UnknownValueError?: ErrorClass }).UnknownValueError;

/**
 * What `read` returns, or undefined when it reads a value that is unknown during preview (an
 * output of a resource not yet created): a stack policy judges what it can see and skips the rest,
 * where one unknown would otherwise stop the whole policy.
 */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (err) {
        if (UnknownValueError !== undefined && err instanceof UnknownValueError) return undefined;
        throw err;
    }
}

/** The groups of items that share a key, for keys held by more than one. */
export function duplicates<T>(items: { key: string; item: T }[]): Map<string, T[]> {
    const groups = new Map<string, T[]>();
    for (const { key, item } of items) groups.set(key, [...(groups.get(key) ?? []), item]);
    return new Map([...groups].filter(([, group]) => group.length > 1));
}

/** A container's (or a service task's) mount, as far as the policies read it. */
export type VolumeMount = {
    type?: string;
    source?: string;
    target?: string;
    volumeOptions?: { driverName?: string; driverOptions?: Record<string, string> };
};

/**
 * The host folder a volume binds, when its driver is the local one with the bind (or rbind)
 * mount option: `{type: none, o: bind, device: /}` is a bind mount by another name, whether
 * declared as a docker.Volume or inline in a mount's volume options.
 */
export function localBindDevice(driver: unknown, options: unknown): unknown {
    const opts = (options ?? {}) as Record<string, unknown>;
    const local = driver === undefined || driver === null || driver === "" || driver === "local";
    return local && typeof opts.o === "string" && /(^|,)\s*r?bind\s*(,|$)/i.test(opts.o) ? opts.device : undefined;
}
