// Policies on what a runner exposes and whom it talks to.
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { RDP_CONTAINER_PORTS, VNC_CONTAINER_PORTS, environmentOf, isEveryInterface, isLocalHost, isRunner, publishedPorts } from "./runner";

interface RemoteDesktopConfig {
    /** Bind addresses allowed besides specific ones, e.g. "0.0.0.0" on a host behind a firewall. */
    allowedBindAddresses: string[];
}

export const remoteDesktopNotPublic: ResourceValidationPolicy = {
    name: "remote-desktop-not-public",
    description:
        "Checks that no RDP (container port 3389-3409) or VNC (5900-5921) port is published on every interface. " +
        "Fix: `pulumi config set bindAddress 127.0.0.1` and tunnel in with ssh -L, or list the address in this policy's allowedBindAddresses.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedBindAddresses: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
        const { allowedBindAddresses } = args.getConfig<RemoteDesktopConfig>();
        for (const port of publishedPorts(container)) {
            const rdp = port.internal >= RDP_CONTAINER_PORTS.from && port.internal <= RDP_CONTAINER_PORTS.to;
            const vnc = port.internal >= VNC_CONTAINER_PORTS.from && port.internal <= VNC_CONTAINER_PORTS.to;
            if (!(rdp || vnc) || !isEveryInterface(port.ip) || allowedBindAddresses.includes(port.ip)) continue;
            reportViolation(
                `${rdp ? "RDP" : "VNC"} port ${port.internal} must not be published on every interface (ip "${port.ip}"); bind it to 127.0.0.1 or a private address.`,
            );
        }
    }),
};

interface ApiHostTlsConfig {
    /** Host names reached over plain http that stay on a trusted network, e.g. a compose service "api". */
    allowedHttpHosts: string[];
}

export const apiHostTls: ResourceValidationPolicy = {
    name: "api-host-tls",
    description:
        "Checks that runners reach their control plane over https, since the runner token travels in the WebSocket URL; " +
        "http is fine to this machine (localhost, host.docker.internal) or to hosts listed in allowedHttpHosts. " +
        "Fix: `pulumi config set apiHost https://...`.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            allowedHttpHosts: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
        const env = environmentOf(container);
        if (!env || !isRunner(container) || env.API_HOST === undefined) return;
        const { allowedHttpHosts } = args.getConfig<ApiHostTlsConfig>();
        let url: URL;
        try {
            url = new URL(env.API_HOST);
        } catch {
            reportViolation(`API_HOST must be a URL (got "${env.API_HOST}").`);
            return;
        }
        if (url.protocol === "https:" || isLocalHost(url.hostname) || allowedHttpHosts.includes(url.hostname)) return;
        reportViolation(`API_HOST must use https: ${url.protocol}//${url.host} would send the runner token unencrypted.`);
    }),
};

interface HostTakeoverConfig {
    /** Linux capabilities a runner may add. */
    allowedCapabilities: string[];
}

const DOCKER_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"];

export const noHostTakeover: ResourceValidationPolicy = {
    name: "no-host-takeover",
    description:
        "Checks that a runner container cannot take over its host: not privileged, not on the host's network, PID or IPC namespace, " +
        "no Docker socket mounted, no capabilities added beyond allowedCapabilities. Fix: remove those settings; the runner image needs none.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedCapabilities: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
        if (!isRunner(container)) return;
        const { allowedCapabilities } = args.getConfig<HostTakeoverConfig>();
        const c = container as Record<string, any>;
        if (c.privileged === true) reportViolation("Runner container must not be privileged.");
        for (const mode of ["networkMode", "pidMode", "ipcMode"] as const) {
            if (c[mode] === "host") reportViolation(`Runner container must not use the host's namespace (${mode}: host).`);
        }
        const mounted = [
            ...((c.volumes as any[] | undefined) ?? []).map((v) => v.hostPath),
            ...((c.mounts as any[] | undefined) ?? []).filter((m) => m.type === "bind").map((m) => m.source),
        ];
        for (const source of mounted) {
            if (DOCKER_SOCKETS.includes(source)) reportViolation(`Runner container must not mount the Docker socket (${source}).`);
        }
        const added: string[] = c.capabilities?.adds ?? [];
        const extra = added.filter((cap) => !allowedCapabilities.includes(cap));
        if (extra.length > 0) reportViolation(`Runner container must not add capabilities: ${extra.join(", ")}.`);
    }),
};
