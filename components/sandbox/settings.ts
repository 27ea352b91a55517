// A sandbox's settings from the validated values: the keys Helix's sandbox reads, with its own
// defaults (which are not a runner's), one per host: this machine's, or a listed host's, the
// top-level settings with its own count and overrides. Pure.
import { RESTART_POLICIES, type GpuVendorSetting } from "../../contract";
import type { HostEntry, StackValues } from "../config/schema";
import type { ConfigContext } from "../config/values";
import { listedHostIdPrefix } from "../placements/resolve";

export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/**
 * Validated settings for the sandboxes of one host: what the config round produces, one per
 * host (a fleet host's own count and overrides applied, as for runners). Field names are the
 * intended stack config keys, so the problems below name them.
 */
export interface SandboxSettings {
    /**
     * The host's name: part of the default instance ID prefix. Defaults, as runners' hostName
     * does, to the name of the machine running `pulumi up` (pinned on first deploy), or to the
     * fleet host's name.
     */
    readonly hostName: string;
    /**
     * Sandbox n's SANDBOX_INSTANCE_ID is `<instanceIdPrefix>-<n>`: stable, whatever machine runs
     * `pulumi up`. Defaults to defaultSandboxIdPrefix(hostName), `sandbox-<hostName>`.
     */
    readonly instanceIdPrefix: string;
    /** Sandbox n's container is `<containerNamePrefix>-<n>`. Defaults to defaultSandboxContainerNamePrefix(stack), `helix-sandbox-<stack>`. */
    readonly containerNamePrefix: string;
    /** Sandboxes on this host. Defaults to 1. */
    readonly replicas: number;
    /**
     * The control plane's Helix release, such as 2.12.2: the image is SANDBOX_IMAGE_REPOSITORY at
     * that tag. Exactly one of helixVersion and sandboxImage is set; no default (it must match the control plane).
     */
    readonly helixVersion: string | undefined;
    /** A pinned image instead (a mirror, or a digest): a release tag or `@sha256:`. No default. */
    readonly sandboxImage: string | undefined;
    /** The control plane as sandboxes and their desktops reach it: scheme and host[:port] only. No default. */
    readonly apiUrl: string;
    /** The host's GPU vendor, or auto (the default): `npm run deploy` detects it as install.sh does and pins it. */
    readonly gpuVendor: GpuVendorSetting;
    /**
     * Acknowledges that a `none` sandbox gets no session: Helix 2.11.33 and later never place one
     * on it (it connects and idles). Defaults to false, which refuses gpuVendor `none`.
     */
    readonly allowNoGpu: boolean;
    /**
     * Acknowledges that sandboxImage is not Helix's repository (a mirror of it): it runs privileged
     * with the runner token. Defaults to false, which refuses such an image.
     */
    readonly allowSandboxImageMirror: boolean;
    /** Variables added to every sandbox's environment, of SANDBOX_EXTRA_ENV only (proxies, an APT mirror). Defaults to none. */
    readonly extraEnv: Readonly<Record<string, string>>;
    /** A registry mirror for the desktop image the sandbox pulls into its own dockerd (HELIX_SANDBOX_REGISTRY). Defaults to none. */
    readonly registryMirror: string | undefined;
    /** Existing Docker networks each sandbox joins, such as Helix's helix_default so http://api:8080 resolves. Defaults to none. */
    readonly networks: readonly string[];
    /** Defaults to `always`, as Helix's installer runs the sandbox. */
    readonly restartPolicy: RestartPolicy;
    /** Memory limit in MB; undefined (the default) for no limit. */
    readonly memoryMb: number | undefined;
    /** CPU limit; undefined (the default) for no limit. */
    readonly cpus: number | undefined;
    /** Seconds `pulumi up` waits for a new sandbox to answer its health check: its first boot pulls the desktop image. Defaults to 1800. */
    readonly startTimeout: number;
    /** Keeps a sandbox's volumes when it is removed (scale-in, destroy), so desktop images are not pulled again. Defaults to true. */
    readonly keepVolumes: boolean;
}

/** The default instance ID prefix: the host's name, like runners' `external-zed-<hostName>`. */
export function defaultSandboxIdPrefix(hostName: string): string {
    return `sandbox-${hostName}`;
}

/** The default container name prefix: the stack's name, like runners' `helix-zed-agent-<stack>`. */
export function defaultSandboxContainerNamePrefix(stackName: string): string {
    return `helix-sandbox-${stackName}`;
}

/** What the top-level sandbox settings are read with besides the values: the host name, the stack and the workload-defaulted keys. */
export interface TopLevelSandboxInputs {
    /** This machine's host name (the stack's hostName, else the machine's): part of the default instance ID prefix. */
    readonly hostName: string;
    readonly context: ConfigContext;
    /** restartPolicy as the stack set it, else the sandbox's own default (Helix's installer runs it `always`). */
    readonly restartPolicy: RestartPolicy;
    /** memoryMb as the stack set it, else the sandbox's own default (no limit). */
    readonly memoryMb: number | undefined;
}

/** The top-level sandbox settings: this machine's, or the defaults every listed host starts from. */
export function topLevelSandboxSettings(values: StackValues, inputs: TopLevelSandboxInputs): SandboxSettings {
    return {
        hostName: inputs.hostName,
        instanceIdPrefix: values.instanceIdPrefix ?? defaultSandboxIdPrefix(inputs.hostName),
        // The schema's default is the runners'; a sandbox stack has its own.
        containerNamePrefix: values.containerNamePrefix ?? defaultSandboxContainerNamePrefix(inputs.context.stackName),
        replicas: values.replicas,
        helixVersion: values.helixVersion,
        sandboxImage: values.sandboxImage,
        apiUrl: values.apiHost,
        gpuVendor: values.gpuVendor,
        allowNoGpu: values.allowNoGpu,
        allowSandboxImageMirror: values.allowSandboxImageMirror,
        extraEnv: values.extraEnv,
        registryMirror: values.registryMirror,
        networks: values.networks,
        restartPolicy: inputs.restartPolicy,
        memoryMb: inputs.memoryMb,
        cpus: values.cpus,
        keepVolumes: values.keepVolumes,
        startTimeout: values.startTimeout,
    };
}

/** A listed host's sandbox settings: the top-level ones, then its own count and overrides. */
export function listedHostSandboxSettings(entry: HostEntry, top: SandboxSettings, topLevelPrefix: string | undefined): SandboxSettings {
    return {
        ...top,
        hostName: entry.name,
        replicas: entry.replicas,
        instanceIdPrefix: listedHostIdPrefix(entry.instanceIdPrefix, topLevelPrefix, entry.name, defaultSandboxIdPrefix),
        gpuVendor: entry.gpuVendor ?? top.gpuVendor,
        allowNoGpu: entry.allowNoGpu ?? top.allowNoGpu,
        memoryMb: entry.memoryMb ?? top.memoryMb,
        cpus: entry.cpus ?? top.cpus,
        startTimeout: entry.startTimeout ?? top.startTimeout,
    };
}
