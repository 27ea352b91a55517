// The sandbox plan: validated sandbox settings in, one spec per Helix sandbox on one host
// out (IDs, names, image, environment, devices, GPU, volumes, labels, health check), the
// way components/runner/plan.ts plans runners. The checks of those settings are
// components/sandbox/checks.ts. Pure: no Pulumi or Docker import. The facts about Helix's
// image come from contract/sandbox.ts.
import {
    GPU_VENDOR_AUTO,
    GPU_VENDOR_SETUP,
    SANDBOX_DEVICES,
    SANDBOX_DEVICE_CGROUP_RULES,
    SANDBOX_ENV,
    SANDBOX_FIXED_ENV,
    SANDBOX_HEALTHCHECK_COMMAND,
    SANDBOX_IMAGE_REPOSITORY,
    SANDBOX_VOLUMES,
    trimApiHost,
} from "../../contract";
import type { HostIdentity } from "../placements/placement";
import type { RestartPolicy, SandboxSettings } from "./settings";
import { LABELS, LOG_OPTIONS, SANDBOX_LABELS, SANDBOX_WORKLOAD, type StackIdentity } from "../labels";

/**
 * The sandbox's health check: Hydra answers on its socket (SANDBOX_HEALTHCHECK_COMMAND), which it
 * does only after the boot has pulled the desktop image and started the heartbeat. Durations are
 * written as Docker reads them back (Go's form: "1m0s", not "60s"), or every preview would show a diff.
 * - interval 30s: as often as Helix's compose and chart probe.
 * - timeout 10s: the chart's; a loaded sandbox answers slowly, and 5 s would flap.
 * - startPeriod 30m0s: a first boot pulls about 7 GB of desktop image before Hydra starts. Failures
 *   inside it do not count, and the first success ends it, so a long one costs a running sandbox
 *   nothing: after its first success every failure counts.
 * - retries 3: a sandbox is unhealthy after 90 s of failures, not one slow answer.
 */
export const SANDBOX_HEALTHCHECK = {
    tests: SANDBOX_HEALTHCHECK_COMMAND,
    interval: "30s",
    timeout: "10s",
    startPeriod: "30m0s",
    retries: 3,
} as const;

/** One of a sandbox's named volumes. */
interface SandboxVolume {
    readonly role: keyof typeof SANDBOX_VOLUMES;
    /** `<containerName>-<role>`: per sandbox, since an inner dockerd cannot share its data root. */
    readonly name: string;
    readonly containerPath: string;
}

/** Everything about one sandbox that is not a secret. */
export interface SandboxSpec {
    /** 1-based, stable: the sandbox's identity in resource names. */
    readonly index: number;
    /** Its SANDBOX_INSTANCE_ID; at the control plane it registers as `hydra-<instanceId>`. */
    readonly instanceId: string;
    readonly containerName: string;
    readonly image: string;
    /** Non-secret environment; the component adds the token under `tokenEnv`, as a secret. */
    readonly env: Readonly<Record<string, string>>;
    /** The environment variable the component sets to the runner token. */
    readonly tokenEnv: typeof SANDBOX_ENV.token;
    /** Host devices, mapped to the same path inside. */
    readonly devices: readonly string[];
    readonly deviceCgroupRules: readonly string[];
    /** Docker's `--gpus` value: `all`, `device=<n>`, or undefined for none. */
    readonly gpus: string | undefined;
    /** The container runtime: `nvidia` for NVIDIA GPUs, else undefined for the engine's default. */
    readonly runtime: "nvidia" | undefined;
    readonly volumes: readonly SandboxVolume[];
    /** Whether its volumes outlive the sandbox (retained on delete). */
    readonly keepVolumes: boolean;
    /** Its own dockerd, cgroup delegation and privileged desktops need it: Helix runs it no other way. */
    readonly privileged: true;
    /** All its traffic is outbound (RevDial, heartbeat): nothing is published. */
    readonly ports: readonly [];
    /**
     * As for runners: the sandbox itself reaches a control plane on the same machine as
     * host.docker.internal (its desktops do not: sandboxApiUrlWarning).
     */
    readonly extraHosts: readonly { readonly host: string; readonly ip: string }[];
    readonly networks: readonly string[];
    readonly restartPolicy: RestartPolicy;
    readonly logOptions: typeof LOG_OPTIONS;
    readonly healthcheck: typeof SANDBOX_HEALTHCHECK;
    /** Seconds `pulumi up` waits for it to turn healthy: the host's startTimeout. */
    readonly waitTimeoutSeconds: number;
    readonly labels: Readonly<Record<string, string>>;
    /** Memory limit in MB; undefined for none. */
    readonly memoryMb: number | undefined;
    /** CPU limit; undefined for none. */
    readonly cpus: number | undefined;
}

/** The image a sandbox runs: the pinned one, or Helix's at the control plane's release. */
export function sandboxImageReference(settings: Pick<SandboxSettings, "helixVersion" | "sandboxImage">): string {
    return settings.sandboxImage ?? `${SANDBOX_IMAGE_REPOSITORY}:${settings.helixVersion ?? ""}`;
}

/**
 * The GPU part of a sandbox: `--gpus all`, the runtime, devices and the vendor's environment, as
 * Helix's installer gives them. Every sandbox gets every GPU: Hydra mounts all of the host's NVIDIA
 * devices into every desktop anyway (the control plane never names one), so a narrower `--gpus`
 * would isolate nothing.
 */
function gpuSetup(settings: SandboxSettings) {
    // sandboxGpuProblems refuses an unresolved auto before anything is planned.
    if (settings.gpuVendor === GPU_VENDOR_AUTO) throw new Error("gpuVendor auto reached the sandbox plan unresolved");
    const setup = GPU_VENDOR_SETUP[settings.gpuVendor];
    return {
        gpus: setup.nvidiaRuntime ? "all" : undefined,
        runtime: setup.nvidiaRuntime ? ("nvidia" as const) : undefined,
        devices: setup.devices,
        env: setup.env,
    };
}

/**
 * The spec of sandbox `index` (1-based) on this host. It depends only on the index and the
 * settings, never on `replicas`: scaling from N to N+1 leaves sandboxes 1..N identical.
 */
export function planSandbox(settings: SandboxSettings, index: number, context: StackIdentity): SandboxSpec {
    const instanceId = `${settings.instanceIdPrefix}-${index}`;
    const containerName = `${settings.containerNamePrefix}-${index}`;
    const gpu = gpuSetup(settings);
    const roles = Object.keys(SANDBOX_VOLUMES) as (keyof typeof SANDBOX_VOLUMES)[];
    return {
        index,
        instanceId,
        containerName,
        image: sandboxImageReference(settings),
        env: {
            // First, so no variable the stack sets itself can be replaced (the checks refuse those names anyway).
            ...settings.extraEnv,
            ...gpu.env,
            ...SANDBOX_FIXED_ENV,
            [SANDBOX_ENV.apiUrl]: trimApiHost(settings.apiUrl),
            [SANDBOX_ENV.instanceId]: instanceId,
            [SANDBOX_ENV.gpuVendor]: settings.gpuVendor,
            ...(settings.registryMirror === undefined ? {} : { [SANDBOX_ENV.registry]: settings.registryMirror }),
        },
        tokenEnv: SANDBOX_ENV.token,
        devices: [...SANDBOX_DEVICES, ...gpu.devices],
        deviceCgroupRules: SANDBOX_DEVICE_CGROUP_RULES,
        gpus: gpu.gpus,
        runtime: gpu.runtime,
        volumes: roles.map((role) => ({ role, name: `${containerName}-${role}`, containerPath: SANDBOX_VOLUMES[role] })),
        keepVolumes: settings.keepVolumes,
        privileged: true,
        ports: [],
        extraHosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
        networks: settings.networks,
        restartPolicy: settings.restartPolicy,
        logOptions: LOG_OPTIONS,
        healthcheck: SANDBOX_HEALTHCHECK,
        waitTimeoutSeconds: settings.startTimeout,
        labels: {
            [LABELS.project]: context.project,
            [LABELS.stack]: context.stackName,
            [SANDBOX_LABELS.workload]: SANDBOX_WORKLOAD,
            [SANDBOX_LABELS.instanceId]: instanceId,
            [LABELS.index]: String(index),
        },
        memoryMb: settings.memoryMb,
        cpus: settings.cpus,
    };
}

/** The specs of sandboxes 1..replicas on this host. Check the settings with sandboxSettingsProblems first. */
export function planSandboxes(settings: SandboxSettings, context: StackIdentity): SandboxSpec[] {
    return Array.from({ length: settings.replicas }, (_, i) => planSandbox(settings, i + 1, context));
}

/** A Docker host with its sandbox settings (its own overrides applied) and the sandboxes planned for it. */
export interface SandboxHost extends HostIdentity {
    readonly settings: SandboxSettings;
    readonly sandboxes: readonly SandboxSpec[];
}

/** A host's name and planned sandboxes. */
type HostSandboxes = Pick<SandboxHost, "name" | "sandboxes">;

/**
 * Sandboxes that would share an instance ID across hosts: the control plane keeps one
 * connection per ID, so the second would silently replace the first.
 */
export function duplicateInstanceIdProblems(hosts: readonly HostSandboxes[]): string[] {
    const problems: string[] = [];
    const owners = new Map<string, string>();
    for (const host of hosts) {
        for (const sandbox of host.sandboxes) {
            const owner = owners.get(sandbox.instanceId);
            if (owner === undefined) owners.set(sandbox.instanceId, host.name);
            else
                problems.push(
                    `sandbox instance ID ${sandbox.instanceId} is planned on both host ${owner} and host ${host.name}: ` +
                        "the control plane keeps one connection per ID, so one would replace the other; give the hosts different instanceIdPrefix values",
                );
        }
    }
    return problems;
}
