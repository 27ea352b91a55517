// The sandbox plan: validated sandbox settings in, one spec per Helix sandbox on one host
// out (IDs, names, image, environment, devices, GPU, volumes, labels, health check), the
// way plan.ts plans runners. Also the checks the stack config runs on those settings, as
// pure functions returning problems, so every problem is reported at once. Pure: no Pulumi
// or Docker import. The facts about Helix's image come from contract/sandbox.ts.
import {
    GPU_VENDOR_SETUP,
    LENGTHS,
    NAME_PATTERN,
    RESTART_POLICIES,
    SANDBOX_DEVICES,
    SANDBOX_DEVICE_CGROUP_RULES,
    SANDBOX_ENV,
    SANDBOX_FIXED_ENV,
    SANDBOX_HEALTHCHECK_COMMAND,
    SANDBOX_IMAGE_REPOSITORY,
    SANDBOX_LENGTHS,
    SANDBOX_VOLUMES,
    type GpuVendor,
    apiHostUrlProblem,
    hostAddressProblem,
    helixReleaseProblem,
    isLoopbackHost,
    sandboxImagePinProblem,
    trimApiHost,
} from "../../contract";
import { LABELS, LOG_OPTIONS, type PlanContext } from "../runner/plan";

/** How a host's GPUs are given to its sandboxes. */
type GpuAssignment = "all" | "per-sandbox";

type RestartPolicy = (typeof RESTART_POLICIES)[number];

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
    /** The host's GPU vendor, as install.sh detects it. Defaults to `nvidia`, the image's own default. */
    readonly gpuVendor: GpuVendor;
    /**
     * `all`: every sandbox gets every GPU (install.sh's `--gpus all`). `per-sandbox`: sandbox n
     * gets GPU n-1 alone (`--gpus device=<n-1>`, nvidia only), so N sandboxes share an N-GPU host.
     * Defaults to `all`.
     */
    readonly gpuAssignment: GpuAssignment;
    /**
     * Acknowledges that a `none` sandbox gets no session: Helix 2.11.33 and later never place one
     * on it (it connects and idles). Defaults to false, which refuses gpuVendor `none`.
     */
    readonly allowNoGpu: boolean;
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

/** Label keys a sandbox carries besides LABELS' project, stack and index, so tools tell a stack's sandboxes from its runners. */
export const SANDBOX_LABELS = {
    /** `sandbox` on every sandbox and its volumes; runners carry no such label. */
    workload: "zed-runner.workload",
    instanceId: "zed-runner.sandbox-id",
} as const;

/** SANDBOX_LABELS.workload's value. */
export const SANDBOX_WORKLOAD = "sandbox";

/**
 * The sandbox's health check: Helix's own command (its inner dockerd answers `docker info`),
 * with timings for an engine that takes a while to come up. Durations are written as Docker
 * reads them back (Go's form: "1m0s", not "60s"), or every preview would show a diff.
 * - interval 30s: Helix's compose and chart probe as often; `docker info` on an inner engine
 *   running desktops is not free.
 * - timeout 10s: the chart's; a loaded inner engine answers slowly, and 5 s would flap.
 * - startPeriod 1m0s: the boot runs its init steps, then gives dockerd 30 s (and exits if it
 *   is not up); the chart waits 60 s before its first liveness probe. Failures inside it do
 *   not count, and the first success ends it.
 * - retries 3: a sandbox is unhealthy after 90 s of failures, not one slow answer.
 */
export const SANDBOX_HEALTHCHECK = {
    tests: SANDBOX_HEALTHCHECK_COMMAND,
    interval: "30s",
    timeout: "10s",
    startPeriod: "1m0s",
    retries: 3,
} as const;

/**
 * Seconds `pulumi up` waits for a new sandbox to turn healthy: above the start period plus
 * retries x (interval + timeout), 60 + 3 x 40 = 180 s, when an unhealthy sandbox is known.
 */
export const SANDBOX_WAIT_TIMEOUT_SECONDS = 240;

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

/** The GPU part of sandbox `index`: `--gpus`, the runtime, devices and the vendor's environment. */
function gpuSetup(settings: SandboxSettings, index: number) {
    const setup = GPU_VENDOR_SETUP[settings.gpuVendor];
    const perSandbox = settings.gpuAssignment === "per-sandbox" && setup.nvidiaRuntime;
    // GPUs are numbered from 0, sandboxes from 1. The vendor's NVIDIA_VISIBLE_DEVICES=all would
    // contradict `--gpus device=<n>`, so it names the same GPU. A privileged container still sees
    // every /dev node: this pins what the NVIDIA runtime and CUDA use, not what the kernel allows.
    const gpu = index - 1;
    return {
        gpus: setup.nvidiaRuntime ? (perSandbox ? `device=${gpu}` : "all") : undefined,
        runtime: setup.nvidiaRuntime ? ("nvidia" as const) : undefined,
        devices: setup.devices,
        env: perSandbox ? { ...setup.env, NVIDIA_VISIBLE_DEVICES: String(gpu) } : setup.env,
    };
}

/**
 * The spec of sandbox `index` (1-based) on this host. It depends only on the index and the
 * settings, never on `replicas`: scaling from N to N+1 leaves sandboxes 1..N identical.
 */
export function planSandbox(settings: SandboxSettings, index: number, context: PlanContext): SandboxSpec {
    const instanceId = `${settings.instanceIdPrefix}-${index}`;
    const containerName = `${settings.containerNamePrefix}-${index}`;
    const gpu = gpuSetup(settings, index);
    const roles = Object.keys(SANDBOX_VOLUMES) as (keyof typeof SANDBOX_VOLUMES)[];
    return {
        index,
        instanceId,
        containerName,
        image: sandboxImageReference(settings),
        env: {
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
export function planSandboxes(settings: SandboxSettings, context: PlanContext): SandboxSpec[] {
    return Array.from({ length: settings.replicas }, (_, i) => planSandbox(settings, i + 1, context));
}

const show = (value: string) => JSON.stringify(value);

/** What is wrong with the image settings: exactly one of helixVersion and sandboxImage, pinned to a release. */
export function sandboxImageProblems(settings: Pick<SandboxSettings, "helixVersion" | "sandboxImage">): string[] {
    const { helixVersion, sandboxImage: image } = settings;
    if (helixVersion === undefined && image === undefined)
        return [
            "helixVersion is not set: set it to the control plane's Helix release, such as 2.12.2 (a sandbox must run its control plane's release: " +
                "Hydra's API changed shape nine times between 2.5.12 and 2.12.0), or set sandboxImage to a pinned image",
        ];
    if (helixVersion !== undefined && image !== undefined)
        return [
            `helixVersion (got ${show(helixVersion)}) and sandboxImage (got ${show(image)}) both set: helixVersion runs ${SANDBOX_IMAGE_REPOSITORY} at that release, sandboxImage another pinned image; set one`,
        ];
    if (helixVersion !== undefined) {
        const problem = helixReleaseProblem(helixVersion);
        return problem === undefined
            ? []
            : [
                  `helixVersion (got ${show(helixVersion)}) ${problem}. A sandbox must run its control plane's release: Hydra's API changed shape nine times between 2.5.12 and 2.12.0`,
              ];
    }
    const problem = sandboxImagePinProblem(image ?? "");
    return problem === undefined ? [] : [`sandboxImage (got ${show(image ?? "")}) ${problem}`];
}

/**
 * What is wrong with apiUrl, or undefined. Scheme and host[:port] only: RevDial keeps only the
 * scheme and host, so a path would be silently dropped; credentials and a query have no place
 * either (the token authenticates). Not loopback: Hydra, the heartbeat and every nested desktop
 * dial it from inside their own containers, where loopback is themselves.
 */
export function sandboxApiUrlProblem(apiUrl: string): string | undefined {
    const got = `apiUrl (got ${show(apiUrl)})`;
    if (/[\s"'\\<>`{}|^]/.test(apiUrl)) return `${got} must be a URL without spaces, quotes, backslashes or control characters`;
    const { problem, url } = apiHostUrlProblem(apiUrl);
    if (problem === "not-a-url" || url === undefined) return `${got} must be an http:// or https:// URL such as https://helix.example.com`;
    if (problem === "not-http") return `${got} must use http:// or https://`;
    if (problem === "credentials") return `${got} must not carry credentials; the sandbox authenticates with the runner token`;
    if (problem === "query-or-fragment" || url.pathname !== "/")
        return (
            `${got} must be only a scheme and host[:port], such as https://helix.example.com: ` +
            "the sandbox's reverse dial keeps only those and would silently drop a path or query"
        );
    const hostProblem = hostAddressProblem(url.hostname);
    if (hostProblem !== undefined) return `${got} must name a host name (RFC 1123) or an IP address as its host; its host ${hostProblem}`;
    if (isLoopbackHost(url.hostname))
        return (
            `${got} points at loopback, which inside a sandbox (and inside each desktop it starts) is that container itself. ` +
            "For a control plane in Docker on the same machine (Helix's docker-compose), set networks to its network and use its service name, " +
            "e.g. http://api:8080; otherwise use an address every container reaches, such as https://helix.example.com"
        );
    return undefined;
}

/**
 * A word about apiUrl that works but not everywhere, or undefined. host.docker.internal is in
 * the sandbox's own /etc/hosts (extraHosts), so Hydra and the heartbeat reach it; the desktops
 * the sandbox starts resolve names through the sandbox's DNS proxy instead, which does not read
 * that file, so a desktop cannot reach the control plane by that name.
 */
export function sandboxApiUrlWarning(apiUrl: string): string | undefined {
    let hostname: string;
    try {
        hostname = new URL(apiUrl).hostname.toLowerCase().replace(/\.$/, "");
    } catch {
        return undefined;
    }
    if (hostname !== "host.docker.internal") return undefined;
    return (
        `apiUrl is ${apiUrl}: the sandbox itself reaches host.docker.internal, but the desktops it starts resolve names through ` +
        "its DNS proxy, which does not know that name. Prefer the control plane's network and service name (networks, e.g. http://api:8080) or its DNS name."
    );
}

/** What is wrong with the GPU settings. */
export function sandboxGpuProblems(settings: Pick<SandboxSettings, "gpuVendor" | "gpuAssignment" | "allowNoGpu">): string[] {
    const problems: string[] = [];
    if (settings.gpuVendor === "none" && !settings.allowNoGpu)
        problems.push(
            'gpuVendor (got "none") gives a sandbox that Helix 2.11.33 and later never place a session on: it connects and idles. ' +
                "Set gpuVendor to the host's GPU (nvidia, amd or intel), or set allowNoGpu to true to deploy it anyway",
        );
    if (settings.gpuAssignment === "per-sandbox" && !GPU_VENDOR_SETUP[settings.gpuVendor].nvidiaRuntime)
        problems.push(
            `gpuAssignment (got "per-sandbox") needs gpuVendor nvidia (got ${show(settings.gpuVendor)}): one GPU per sandbox is Docker's --gpus device=<n>, ` +
                "which only the NVIDIA runtime honours; use gpuAssignment all",
        );
    return problems;
}

// A registry host (with a '.', a port or the name localhost, as Docker tells one from a Docker Hub
// namespace), then an optional path.
const REGISTRY =
    /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+(?::\d+)?|[a-zA-Z0-9-]+:\d+|localhost(?::\d+)?)(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;

/**
 * What is wrong with the registry mirror, or undefined: a registry host[:port] and optional path,
 * since HELIX_SANDBOX_REGISTRY takes ghcr.io's place in the desktop image's name. Not loopback:
 * the sandbox's inner dockerd pulls from inside the sandbox, where loopback is the sandbox.
 */
export function registryMirrorProblem(registryMirror: string): string | undefined {
    const got = `registryMirror (got ${show(registryMirror)})`;
    if (!REGISTRY.test(registryMirror))
        return (
            `${got} must be a registry host[:port] with an optional path and no scheme, ` +
            "such as registry.example.com or registry.example.com:5000/helixml: the sandbox puts it in place of ghcr.io in the desktop image's name"
        );
    const host = registryMirror.split("/")[0].replace(/:\d+$/, "");
    if (isLoopbackHost(host))
        return `${got} points at loopback, which is the sandbox itself to the dockerd inside it that pulls the desktop image: use an address the sandbox reaches, such as registry.example.com:5000`;
    return undefined;
}

/**
 * What is wrong with the prefixes. Their limits keep every ID and name they make valid: an
 * instance ID is the prefix, '-' and at most RANGES.replicas' digits, well within
 * SANDBOX_LENGTHS.instanceId.
 */
function nameProblems(settings: SandboxSettings): string[] {
    const problems: string[] = [];
    const pattern = "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'";
    const prefixes = [
        ["instanceIdPrefix", settings.instanceIdPrefix, SANDBOX_LENGTHS.instanceIdPrefix.max],
        ["containerNamePrefix", settings.containerNamePrefix, LENGTHS.containerNamePrefix.max],
    ] as const;
    for (const [key, value, max] of prefixes) {
        if (value.length > max) problems.push(`${key} (got ${show(value)}) must be at most ${max} characters`);
        else if (!NAME_PATTERN.test(value)) problems.push(`${key} (got ${show(value)}) ${pattern}`);
    }
    return problems;
}

/** Every problem with one host's sandbox settings, each naming its key and value; empty when they can be planned. */
export function sandboxSettingsProblems(settings: SandboxSettings): string[] {
    const apiUrl = sandboxApiUrlProblem(settings.apiUrl);
    const mirror = settings.registryMirror === undefined ? undefined : registryMirrorProblem(settings.registryMirror);
    return [
        ...nameProblems(settings),
        ...sandboxImageProblems(settings),
        ...(apiUrl === undefined ? [] : [apiUrl]),
        ...sandboxGpuProblems(settings),
        ...(mirror === undefined ? [] : [mirror]),
    ];
}

/** A host's name and planned sandboxes. */
export interface HostSandboxes {
    readonly name: string;
    readonly sandboxes: readonly SandboxSpec[];
}

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
