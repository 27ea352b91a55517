// Policies on what a runner exposes and whom it talks to.
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { SANDBOX_ENV, hostPathTakeover, isEveryInterface, maskValue } from "../contract";
import {
    RDP_CONTAINER_PORTS,
    VNC_CONTAINER_PORTS,
    environmentOf,
    isLocalHost,
    isRunner,
    isSandbox,
    isRunnerService,
    localBindDevice,
    publishedPorts,
    reveal,
    serviceEnvironmentOf,
    serviceTaskOf,
    type VolumeMount,
} from "./runner";

/** Which remote desktop a container port is, if any. */
function desktopRole(port: number): "RDP" | "VNC" | undefined {
    if (port >= RDP_CONTAINER_PORTS.from && port <= RDP_CONTAINER_PORTS.to) return "RDP";
    if (port >= VNC_CONTAINER_PORTS.from && port <= VNC_CONTAINER_PORTS.to) return "VNC";
    return undefined;
}

interface RemoteDesktopConfig {
    /** Bind addresses allowed besides specific ones, e.g. "0.0.0.0" on a host behind a firewall. */
    allowedBindAddresses: string[];
    /** Allow a swarm service's published desktop ports (every interface of the nodes), e.g. on nodes behind a firewall. */
    allowSwarmPublishedPorts: boolean;
}

export const remoteDesktopNotPublic: ResourceValidationPolicy = {
    name: "remote-desktop-not-public",
    description:
        `Checks that no RDP (container port ${RDP_CONTAINER_PORTS.from}-${RDP_CONTAINER_PORTS.to}) or VNC (${VNC_CONTAINER_PORTS.from}-${VNC_CONTAINER_PORTS.to}) port is published on every interface. ` +
        "Fix: `pulumi config set bindAddress 127.0.0.1` and tunnel in with ssh -L, or list the address in this policy's allowedBindAddresses. " +
        "A swarm service publishes on every interface of its nodes whatever the mode: leave publishDesktopPorts false, or set allowSwarmPublishedPorts.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedBindAddresses: { type: "array", items: { type: "string" }, default: [] },
            allowSwarmPublishedPorts: { type: "boolean", default: false },
        },
    },
    validateResource: [
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            const { allowedBindAddresses } = args.getConfig<RemoteDesktopConfig>();
            if ((container as Record<string, unknown>).publishAllPorts === true && isRunner(container)) {
                reportViolation("Runner container must not set publishAllPorts: it publishes RDP and VNC on every interface.");
            }
            for (const port of publishedPorts(container)) {
                const role = desktopRole(port.internal);
                if (!role || !isEveryInterface(port.ip) || allowedBindAddresses.includes(port.ip)) continue;
                reportViolation(
                    `${role} port ${port.internal} must not be published on every interface (ip "${port.ip}"); bind it to 127.0.0.1 or a private address.`,
                );
            }
        }),
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            if (!isRunnerService(service) || args.getConfig<RemoteDesktopConfig>().allowSwarmPublishedPorts) return;
            const endpoint = reveal((service as { endpointSpec?: unknown }).endpointSpec) as
                { ports?: { targetPort?: number; publishMode?: string }[] } | undefined;
            for (const port of endpoint?.ports ?? []) {
                const role = desktopRole(Number(port.targetPort));
                if (!role) continue;
                reportViolation(
                    `${role} port ${port.targetPort} must not be published by a runner service: Swarm publishes it on every interface of ` +
                        `${port.publishMode === "host" ? "the node running the task" : "every node (the routing mesh)"}; reach desktops through the control plane.`,
                );
            }
        }),
    ],
};

interface ApiHostTlsConfig {
    /** Host names reached over plain http that stay on a trusted network, e.g. a compose service "api". */
    allowedHttpHosts: string[];
}

export const apiHostTls: ResourceValidationPolicy = {
    name: "api-host-tls",
    description:
        "Checks that runners and sandboxes reach their control plane over https, since the runner token travels with every " +
        "connection (in a runner's WebSocket URL, in a sandbox's Authorization header); http is fine to this machine " +
        "(localhost, host.docker.internal) or to hosts listed in allowedHttpHosts. Fix: `pulumi config set apiHost https://...`.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            allowedHttpHosts: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: [
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            const config = args.getConfig<ApiHostTlsConfig>();
            if (isRunner(container)) checkApiHost("API_HOST", environmentOf(container)?.API_HOST, config, reportViolation);
            else if (isSandbox(container))
                checkApiHost(SANDBOX_ENV.apiUrl, environmentOf(container)?.[SANDBOX_ENV.apiUrl], config, reportViolation);
        }),
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            if (isRunnerService(service))
                checkApiHost("API_HOST", serviceEnvironmentOf(service)?.API_HOST, args.getConfig<ApiHostTlsConfig>(), reportViolation);
        }),
    ],
};

/** The control plane's URL as the container receives it in `variable`: https, or http that stays on this machine or a trusted network. */
function checkApiHost(
    variable: string,
    apiHost: string | undefined,
    { allowedHttpHosts }: ApiHostTlsConfig,
    reportViolation: (message: string) => void,
): void {
    if (apiHost === undefined) return;
    let url: URL;
    try {
        url = new URL(apiHost);
    } catch {
        reportViolation(`${variable} must be a URL (got ${JSON.stringify(maskValue(apiHost))}).`);
        return;
    }
    if (url.protocol === "https:" || isLocalHost(url.hostname) || allowedHttpHosts.includes(url.hostname)) return;
    reportViolation(`${variable} must use https: ${url.protocol}//${url.host} would send the runner token unencrypted.`);
}

interface HostTakeoverConfig {
    /** Linux capabilities a runner may add. */
    allowedCapabilities: string[];
}

/** Host namespaces a container can share; `networkMode: container:<x>` shares another container's network. */
const NAMESPACE_MODES = ["networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const;

/** Why a bind source (a volume's hostPath, a bind mount's source, a local volume's device) hands over the host. */
function reportHostPath(source: unknown, what: string, reportViolation: (message: string) => void): void {
    if (typeof source !== "string" || source === "") return;
    const takeover = hostPathTakeover(source);
    if (takeover) reportViolation(`Runner container must not ${what} ${takeover} (${source}).`);
}

/** Every host folder `mounts` bind: bind mounts' sources, and volume mounts whose local driver binds a device. */
function reportMounts(mounts: readonly VolumeMount[] | undefined, reportViolation: (message: string) => void): void {
    for (const mount of mounts ?? []) {
        if (mount?.type === "bind") reportHostPath(mount.source, "bind", reportViolation);
        if (mount?.type === "volume") {
            const options = mount.volumeOptions ?? {};
            const device = localBindDevice(options.driverName, options.driverOptions);
            reportHostPath(device, "mount a local volume that binds", reportViolation);
        }
    }
}

export const noHostTakeover: ResourceValidationPolicy = {
    name: "no-host-takeover",
    description:
        "Checks that a runner container cannot take over its host: not privileged, no host devices, no unconfined seccomp or AppArmor, " +
        "not in the host's (or another container's) network, PID, IPC, user or cgroup namespace, no bind of the host's root, system " +
        "folders or Docker socket (however the path is spelled, through a local-driver volume or a mount's volume options too), " +
        "no capabilities beyond allowedCapabilities. " +
        "Fix: remove those settings; the runner image needs none.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedCapabilities: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: [
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (!isRunner(container)) return;
            const { allowedCapabilities } = args.getConfig<HostTakeoverConfig>();
            const c = container as Record<string, unknown>;
            if (c.privileged === true) reportViolation("Runner container must not be privileged.");
            for (const mode of NAMESPACE_MODES) {
                const value = typeof c[mode] === "string" ? (c[mode] as string).toLowerCase() : "";
                if (value === "host") reportViolation(`Runner container must not use the host's namespace (${mode}: host).`);
                if (value.startsWith("container:"))
                    reportViolation(`Runner container must not share another container's namespace (${mode}: ${c[mode]}).`);
            }
            for (const volume of (c.volumes as { hostPath?: string }[] | undefined) ?? [])
                reportHostPath(volume?.hostPath, "bind", reportViolation);
            reportMounts(c.mounts as VolumeMount[] | undefined, reportViolation);
            const devices = (c.devices as { hostPath?: string }[] | undefined) ?? [];
            if (devices.length > 0)
                reportViolation(`Runner container must not be given host devices (${devices.map((d) => d?.hostPath).join(", ")}).`);
            for (const opt of (c.securityOpts as string[] | undefined) ?? []) {
                if (
                    /^(seccomp|apparmor)[=:]unconfined$/i.test(opt) ||
                    /^label[=:]disable$/i.test(opt) ||
                    /^systempaths[=:]unconfined$/i.test(opt)
                ) {
                    reportViolation(`Runner container must keep its confinement (securityOpts "${opt}").`);
                }
            }
            const added: string[] = (c.capabilities as { adds?: string[] } | undefined)?.adds ?? [];
            const extra = added.filter((cap) => !allowedCapabilities.includes(cap));
            if (extra.length > 0) reportViolation(`Runner container must not add capabilities: ${extra.join(", ")}.`);
        }),
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const { allowedCapabilities } = args.getConfig<HostTakeoverConfig>();
            const container = serviceTaskOf(service).containerSpec ?? {};
            const say = (m: string) => reportViolation(m.replace("Runner container", "Runner service"));
            reportMounts(container.mounts, say);
            const extra = (container.capAdds ?? []).filter((cap) => !allowedCapabilities.includes(cap));
            if (extra.length > 0) say(`Runner container must not add capabilities: ${extra.join(", ")}.`);
        }),
        // Any stack's volume, not only a runner's: a runner may mount it by name.
        validateResourceOfType(docker.Volume, (volume, _args, reportViolation) => {
            const device = localBindDevice(volume.driver, volume.driverOpts);
            reportHostPath(device, "bind", (m) => reportViolation(m.replace("Runner container", "A local-driver volume")));
        }),
    ],
};
