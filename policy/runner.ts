// Shared helpers for the zed-runner policies: recognising runner containers and
// reading their settings from resource properties. No policy is defined here.
// The pack is a package of its own (the Pulumi CLI loads it from policy/) and guards
// any program that runs these runners, so it reads resources, not the program's modules.
import * as docker from "@pulumi/docker";
import { Secret } from "@pulumi/policy";
// The image's contract is plain data with no imports, so the pack (a package of its own) can share it.
import { isLoopbackHost } from "../components/addresses";
import { CONTAINER_PORTS, MAX_PORTS_PER_RUNNER } from "../components/imageContract";

/** Container ports a runner publishes RDP and VNC on: the image's, and the ones above it portsPerRunner may add. */
export const RDP_CONTAINER_PORTS = { from: CONTAINER_PORTS.rdp, to: CONTAINER_PORTS.rdp + MAX_PORTS_PER_RUNNER - 1 } as const;
export const VNC_CONTAINER_PORTS = { from: CONTAINER_PORTS.vnc, to: CONTAINER_PORTS.vnc + MAX_PORTS_PER_RUNNER - 1 } as const;

/** Helix's example token: anyone who read the docs knows it. */
export const INSECURE_DEFAULT_TOKEN = "oh-hallo-insecure-token";

/** The example token however it is padded or cased. */
export function isExampleToken(token: string): boolean {
    return token.trim().toLowerCase() === INSECURE_DEFAULT_TOKEN;
}

export type ContainerProps = docker.ContainerArgs & Record<string, unknown>;

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
    return env !== undefined && ("API_TOKEN" in env || "RUNNER_ID" in env);
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

/** Hosts whose traffic never leaves this machine. */
export function isLocalHost(hostname: string): boolean {
    return isLoopbackHost(hostname) || hostname.toLowerCase().replace(/\.$/, "") === "host.docker.internal";
}
