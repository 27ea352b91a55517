// Policies on what a runner exposes and whom it talks to.
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { SANDBOX_ENV, isEveryInterface, maskValue } from "../contract";
import { type ConfinementLoss, confinementLosses, hostBindProblem } from "./confinement";
import {
    RDP_CONTAINER_PORTS,
    VNC_CONTAINER_PORTS,
    environmentOf,
    isLocalHost,
    isRunner,
    isSandbox,
    isRunnerService,
    isSet,
    localBindDevice,
    publishedPorts,
    reveal,
    serviceEnvironmentOf,
    serviceTaskOf,
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
        "(localhost, host.docker.internal) or to hosts listed in allowedHttpHosts. A value is shown with its credentials masked. " +
        "Fix: `pulumi config set apiHost https://...`.",
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

/** A host name as compared: lower case, without a trailing dot (the same host, fully qualified). */
function hostKey(hostname: string): string {
    return hostname.trim().toLowerCase().replace(/\.$/, "");
}

/**
 * The control plane's URL as the container receives it in `variable`: https, or http that stays on
 * this machine or a trusted network. Every URL a message shows goes through the contract's
 * maskValue, the program's own masking, so no credential is echoed.
 */
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
    if (url.protocol === "https:") return;
    if (url.protocol !== "http:") {
        reportViolation(`${variable} must be an https URL (got ${JSON.stringify(maskValue(apiHost))}).`);
        return;
    }
    if (isLocalHost(url.hostname) || allowedHttpHosts.map(hostKey).includes(hostKey(url.hostname))) return;
    reportViolation(`${variable} must use https: ${maskValue(`${url.protocol}//${url.host}`)} would send the runner token unencrypted.`);
}

interface HostTakeoverConfig {
    /** Linux capabilities a runner may add. */
    allowedCapabilities: string[];
}

/**
 * Reports a runner's (or a runner service's, as `what`) losses of confinement in their order, one
 * message each, but devices and capabilities in one message per kind, where the first of them is.
 */
function reportRunnerLosses(losses: readonly ConfinementLoss[], what: string, reportViolation: (message: string) => void): void {
    const all = (kind: ConfinementLoss["kind"]) =>
        losses
            .filter((l) => l.kind === kind)
            .map((l) => l.setting)
            .join(", ");
    const grouped = new Set<ConfinementLoss["kind"]>();
    for (const loss of losses) {
        if (grouped.has(loss.kind)) continue;
        const message = ((): string => {
            switch (loss.kind) {
                case "host-namespace":
                    return `must not use the host's namespace (${loss.setting}).`;
                case "shared-namespace":
                    return `must not share another container's namespace (${loss.setting}).`;
                case "bind":
                    return `must not ${loss.bind!.via === "bind" ? "bind" : "mount a local volume that binds"} ${loss.setting}.`;
                case "device":
                    grouped.add(loss.kind);
                    return `must not be given host devices (${all("device")}).`;
                case "device-rule":
                    return `must not be allowed host devices (${loss.setting}).`;
                case "security-opt":
                    return `must keep its confinement (${loss.setting}).`;
                case "capability":
                    grouped.add(loss.kind);
                    return `must not add capabilities: ${all("capability")}.`;
            }
        })();
        reportViolation(`${what} ${message}`);
    }
}

export const noHostTakeover: ResourceValidationPolicy = {
    name: "no-host-takeover",
    description:
        "Checks that a runner container cannot take over its host: not privileged, no host devices or device rules, no unconfined seccomp, AppArmor, " +
        "SELinux label or system paths, not in the host's (or another container's) network, PID, IPC, user or cgroup namespace, no bind of the host's root, system " +
        "folders or any container engine's socket, state or a folder holding one (rootless Docker's /run/user/<uid>, Podman, containerd, Docker Desktop's " +
        "~/.docker, any *.sock; however the path is spelled, through a local-driver volume or a mount's volume options too), " +
        "no capabilities beyond allowedCapabilities; the same rules (policy/confinement.ts) sandbox-privileged-only holds every other container to. " +
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
            if (isSet(container.privileged)) reportViolation("Runner container must not be privileged.");
            reportRunnerLosses(confinementLosses(container, { kind: "strict", allowedCapabilities }), "Runner container", reportViolation);
        }),
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const { allowedCapabilities } = args.getConfig<HostTakeoverConfig>();
            const container = serviceTaskOf(service).containerSpec ?? {};
            // A task spec's mounts and capAdds, read as a container's.
            const asContainer = { mounts: container.mounts, capabilities: { adds: container.capAdds ?? [] } };
            reportRunnerLosses(confinementLosses(asContainer, { kind: "strict", allowedCapabilities }), "Runner service", reportViolation);
        }),
        // Any stack's volume, not only a runner's: any container may mount it by name.
        validateResourceOfType(docker.Volume, (volume, _args, reportViolation) => {
            const device = localBindDevice(reveal(volume.driver), reveal(volume.driverOpts));
            if (typeof device !== "string" || device === "") return;
            const problem = hostBindProblem(device, { kind: "strict", allowedCapabilities: [] });
            if (problem !== undefined) reportViolation(`A local-driver volume must not bind ${problem} (${device}).`);
        }),
    ],
};
