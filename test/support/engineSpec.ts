// Turns the resource inputs the program declared (captured under Pulumi's mocks)
// into Docker Engine API requests, the way the Docker provider would. Every input
// the program sets must be mapped here: an unknown one fails the test rather
// than being dropped, so what runs is exactly what the program declares.
import type Dockerode from "dockerode";
import { unwrapSecret } from "./mocks";

/** Parses a Docker duration as the provider writes it ("10s", "1m0s", "500ms") into nanoseconds. */
export function durationToNanos(duration: string): number {
    const units: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, ns: 1 };
    let total = 0;
    const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g;
    let matched = "";
    for (let m = re.exec(duration); m; m = re.exec(duration)) {
        total += Number(m[1]) * units[m[2]];
        matched += m[0];
    }
    if (matched !== duration || duration === "") throw new Error(`not a Docker duration: ${JSON.stringify(duration)}`);
    return total;
}

const MB = 1024 * 1024;

/** Container inputs this translation understands; anything else fails loudly. */
const HANDLED = new Set([
    "name",
    "image",
    "restart",
    "envs",
    "ports",
    "hosts",
    "networksAdvanced",
    "healthcheck",
    "wait",
    "waitTimeout",
    "stopSignal",
    "stopTimeout",
    "destroyGraceSeconds",
    "logDriver",
    "logOpts",
    "memory",
    "shmSize",
    "cpus",
    "labels",
    "volumes",
]);

/** How to create one container: the Engine API body, and networks to connect after create (the API takes one at create time). */
export interface ContainerSpec {
    readonly create: Dockerode.ContainerCreateOptions;
    readonly joinedNetworks: string[];
}

/** The Engine API requests for the program's declared `docker.Container` inputs. */
export function containerSpec(inputs: Record<string, any>, imageId: string): ContainerSpec {
    const unknown = Object.keys(inputs).filter((k) => !HANDLED.has(k));
    if (unknown.length > 0) throw new Error(`engineSpec does not map container inputs: ${unknown.join(", ")}`);

    const ports: { internal: number; external: number; ip: string; protocol: string }[] = inputs.ports ?? [];
    const exposed: Record<string, Record<string, never>> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of ports) {
        const key = `${p.internal}/${p.protocol ?? "tcp"}`;
        exposed[key] = {};
        (bindings[key] ??= []).push({ HostIp: p.ip, HostPort: String(p.external) });
    }
    const [primary, ...joined]: { name: string; aliases?: string[] }[] = inputs.networksAdvanced ?? [];
    const hc = inputs.healthcheck;
    const create: Dockerode.ContainerCreateOptions = {
        name: inputs.name,
        Image: imageId,
        Env: unwrapSecret<string[]>(inputs.envs),
        Labels: Object.fromEntries((inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        ExposedPorts: exposed,
        StopSignal: inputs.stopSignal,
        StopTimeout: inputs.stopTimeout,
        Healthcheck: hc && {
            Test: hc.tests,
            Interval: durationToNanos(hc.interval),
            Timeout: durationToNanos(hc.timeout),
            StartPeriod: durationToNanos(hc.startPeriod),
            Retries: hc.retries,
        },
        HostConfig: {
            PortBindings: bindings,
            RestartPolicy: { Name: inputs.restart ?? "no" },
            ExtraHosts: (inputs.hosts ?? []).map((h: { host: string; ip: string }) => `${h.host}:${h.ip}`),
            LogConfig: { Type: inputs.logDriver, Config: inputs.logOpts ?? {} },
            Memory: inputs.memory ? inputs.memory * MB : undefined,
            ShmSize: inputs.shmSize ? inputs.shmSize * MB : undefined,
            NanoCpus: inputs.cpus ? Math.round(Number(inputs.cpus) * 1e9) : undefined,
            Mounts: (inputs.volumes ?? []).map((v: { volumeName: string; containerPath: string }) => ({
                Type: "volume",
                Source: v.volumeName,
                Target: v.containerPath,
            })),
            NetworkMode: primary?.name,
        },
        NetworkingConfig: primary ? { EndpointsConfig: { [primary.name]: { Aliases: primary.aliases ?? [] } } } : undefined,
    };
    return { create, joinedNetworks: joined.map((n) => n.name) };
}
