// Turns the resource inputs the program declared (captured under Pulumi's mocks)
// into Docker Engine API requests, the way the Docker provider would. Every input
// the program sets must be mapped here: an unknown one fails the test rather
// than being dropped, so what runs is exactly what the program declares.
import type Dockerode from "dockerode";
import { unwrapSecret } from "./mocks";

/** Parses a Docker duration as the provider writes it ("10s", "1m0s", "500ms") into nanoseconds. */
function durationToNanos(duration: string): number {
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

/** A declared health check as the Engine API takes it (containers and services alike). */
function healthcheckSpec(hc: Record<string, any> | undefined) {
    return (
        hc && {
            Test: hc.tests,
            Interval: durationToNanos(hc.interval),
            Timeout: durationToNanos(hc.timeout),
            StartPeriod: durationToNanos(hc.startPeriod),
            // Docker 25+ (Engine API 1.44); older engines drop the field.
            ...(hc.startInterval === undefined ? {} : { StartInterval: durationToNanos(hc.startInterval) }),
            Retries: hc.retries,
        }
    );
}

/**
 * Docker's `--gpus` value as the Engine API's device request, the way the CLI (and the provider)
 * parse it: `all` is every GPU, `device=<ids>` names GPUs by index or UUID.
 */
function gpuRequest(gpus: string): Dockerode.DeviceRequest {
    const capabilities = [["gpu"]];
    if (gpus === "all") return { Driver: "", Count: -1, Capabilities: capabilities };
    const device = /^device=(.+)$/.exec(gpus);
    if (!device) throw new Error(`engineSpec does not map gpus ${JSON.stringify(gpus)}`);
    return { Driver: "", DeviceIDs: device[1].split(","), Capabilities: capabilities };
}

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
    "mounts",
    "tmpfs",
    "readOnly",
    "securityOpts",
    "cpuShares",
    // A Helix sandbox's (components/sandbox/helixSandbox.ts).
    "privileged",
    "devices",
    "deviceCgroupRules",
    "gpus",
    "runtime",
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
    const create: Dockerode.ContainerCreateOptions = {
        name: inputs.name,
        Image: imageId,
        Env: unwrapSecret<string[]>(inputs.envs),
        Labels: Object.fromEntries((inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        ExposedPorts: exposed,
        StopSignal: inputs.stopSignal,
        StopTimeout: inputs.stopTimeout,
        Healthcheck: healthcheckSpec(inputs.healthcheck),
        HostConfig: {
            PortBindings: bindings,
            RestartPolicy: { Name: inputs.restart ?? "no" },
            ExtraHosts: (inputs.hosts ?? []).map((h: { host: string; ip: string }) => `${h.host}:${h.ip}`),
            LogConfig: { Type: inputs.logDriver, Config: inputs.logOpts ?? {} },
            Memory: inputs.memory ? inputs.memory * MB : undefined,
            ShmSize: inputs.shmSize ? inputs.shmSize * MB : undefined,
            NanoCpus: inputs.cpus ? Math.round(Number(inputs.cpus) * 1e9) : undefined,
            Mounts: [
                ...(inputs.volumes ?? []).map((v: { volumeName: string; containerPath: string }) => ({
                    Type: "volume",
                    Source: v.volumeName,
                    Target: v.containerPath,
                })),
                // A volume mount with no source is an anonymous volume, as the provider passes it on.
                ...(inputs.mounts ?? []).map((m: { type: string; target: string; source?: string; readOnly?: boolean }) => ({
                    Type: m.type,
                    Source: m.source,
                    Target: m.target,
                    ReadOnly: m.readOnly,
                })),
            ],
            Tmpfs: inputs.tmpfs,
            ReadonlyRootfs: inputs.readOnly,
            SecurityOpt: inputs.securityOpts,
            CpuShares: inputs.cpuShares,
            Privileged: inputs.privileged,
            Devices: inputs.devices?.map((d: { hostPath: string; containerPath: string; permissions: string }) => ({
                PathOnHost: d.hostPath,
                PathInContainer: d.containerPath,
                CgroupPermissions: d.permissions,
            })),
            DeviceCgroupRules: inputs.deviceCgroupRules,
            DeviceRequests: inputs.gpus === undefined ? undefined : [gpuRequest(inputs.gpus)],
            Runtime: inputs.runtime,
            NetworkMode: primary?.name,
        },
        NetworkingConfig: primary ? { EndpointsConfig: { [primary.name]: { Aliases: primary.aliases ?? [] } } } : undefined,
    };
    return { create, joinedNetworks: joined.map((n) => n.name) };
}

/** Service inputs this translation understands, at each level; anything else fails loudly. */
const SERVICE_HANDLED = {
    service: ["name", "labels", "mode", "taskSpec", "updateConfig", "rollbackConfig", "endpointSpec", "convergeConfig", "auth"],
    taskSpec: ["containerSpec", "resources", "restartPolicy", "logDriver", "placement", "networksAdvanceds"],
    containerSpec: ["image", "env", "secrets", "labels", "healthcheck", "stopSignal", "stopGracePeriod", "hosts", "mounts", "readOnly"],
};

function refuseUnknown(level: keyof typeof SERVICE_HANDLED, inputs: Record<string, unknown>): void {
    const unknown = Object.keys(inputs).filter((k) => inputs[k] !== undefined && !SERVICE_HANDLED[level].includes(k));
    if (unknown.length > 0) throw new Error(`engineSpec does not map ${level} inputs: ${unknown.join(", ")}`);
}

const labelMap = (labels: { label: string; value: string }[] | undefined) =>
    Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

const updateConfig = (c: Record<string, any> | undefined) =>
    c && {
        Parallelism: c.parallelism,
        Order: c.order,
        FailureAction: c.failureAction,
        Monitor: c.monitor === undefined ? undefined : durationToNanos(c.monitor),
        Delay: c.delay === undefined ? undefined : durationToNanos(c.delay),
    };

/** What the Engine API needs for a declared `docker.Service`: its spec, and the registry login for X-Registry-Auth. */
export interface ServiceRequest {
    readonly spec: Record<string, any>;
    readonly auth: { serveraddress: string; username: string; password: string } | undefined;
}

/**
 * The Engine API request for the program's declared `docker.Service` inputs, with
 * `image` (the reference the provider would have: the pushed digest) and the engine's
 * secrets (ID and name), by the IDs the mocks gave them.
 */
export function serviceRequest(
    inputs: Record<string, any>,
    image: string,
    secrets: ReadonlyMap<string, { readonly id: string; readonly name: string }>,
): ServiceRequest {
    refuseUnknown("service", inputs);
    const task = inputs.taskSpec;
    refuseUnknown("taskSpec", task);
    const container = task.containerSpec;
    refuseUnknown("containerSpec", container);
    const auth = inputs.auth === undefined ? undefined : unwrapSecret(inputs.auth);
    const spec = {
        Name: inputs.name,
        Labels: labelMap(inputs.labels),
        Mode: { Replicated: { Replicas: inputs.mode.replicated.replicas } },
        TaskTemplate: {
            ContainerSpec: {
                Image: image,
                Env: Object.entries(container.env as Record<string, string>).map(([k, v]) => `${k}=${v}`),
                Labels: labelMap(container.labels),
                Secrets: (container.secrets ?? []).map((s: Record<string, any>) => {
                    const secret = secrets.get(s.secretId);
                    if (!secret) throw new Error(`no engine secret for ${s.secretId}`);
                    return {
                        SecretID: secret.id,
                        // The engine's own name, as the provider reads it back from the secret it refers to.
                        SecretName: secret.name,
                        File: { Name: s.fileName, UID: s.fileUid, GID: s.fileGid, Mode: s.fileMode },
                    };
                }),
                Healthcheck: healthcheckSpec(container.healthcheck),
                StopSignal: container.stopSignal,
                StopGracePeriod: container.stopGracePeriod === undefined ? undefined : durationToNanos(container.stopGracePeriod),
                // Swarm writes hosts as "IP name", as /etc/hosts does.
                Hosts: (container.hosts ?? []).map((h: { host: string; ip: string }) => `${h.ip} ${h.host}`),
                Mounts: (container.mounts ?? []).map((m: Record<string, any>) => ({
                    Type: m.type,
                    Source: m.source,
                    Target: m.target,
                    TmpfsOptions: m.tmpfsOptions && { SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode },
                })),
                ReadOnly: container.readOnly,
            },
            Resources: task.resources && {
                Limits: { MemoryBytes: task.resources.limits?.memoryBytes, NanoCPUs: task.resources.limits?.nanoCpus },
            },
            RestartPolicy: task.restartPolicy && {
                Condition: task.restartPolicy.condition,
                Delay: task.restartPolicy.delay === undefined ? undefined : durationToNanos(task.restartPolicy.delay),
                MaxAttempts: task.restartPolicy.maxAttempts,
            },
            LogDriver: task.logDriver && { Name: task.logDriver.name, Options: task.logDriver.options },
            Placement: task.placement && {
                Constraints: task.placement.constraints,
                MaxReplicas: task.placement.maxReplicas,
                Preferences: (task.placement.prefs ?? []).map((p: string) => ({ Spread: { SpreadDescriptor: p.replace(/^spread=/, "") } })),
            },
            Networks: (task.networksAdvanceds ?? []).map((n: { id: string }) => ({ Target: n.id })),
        },
        UpdateConfig: updateConfig(inputs.updateConfig),
        RollbackConfig: updateConfig(inputs.rollbackConfig),
        EndpointSpec: inputs.endpointSpec && {
            Ports: (inputs.endpointSpec.ports ?? []).map((p: Record<string, any>) => ({
                TargetPort: p.targetPort,
                PublishedPort: p.publishedPort,
                PublishMode: p.publishMode,
                Protocol: p.protocol,
            })),
        },
    };
    return { spec, auth: auth && { serveraddress: auth.serverAddress, username: auth.username, password: auth.password } };
}
