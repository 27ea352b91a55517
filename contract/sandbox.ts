// Helix's own sandbox (Helix 2.5.42 and later; docs/protocol.md §7): the facts about
// `ghcr.io/helixml/helix-sandbox` and what it says on the wire that the stack, the policy
// pack, the stand-in sandbox and the fake control plane must agree on. Read from Helix's
// source at tag 2.12.2 (install.sh's sandbox.sh, charts/helix-sandbox, api/cmd/hydra,
// api/pkg/revdial, api/cmd/sandbox-heartbeat, api/pkg/types CanHostSandbox): facts only.

import { registryPortProblem } from "./addresses";
import { NAME_PATTERN } from "./settings";

/** The image's repository; its tag must be the control plane's own release (Hydra's API changes between releases). */
export const SANDBOX_IMAGE_REPOSITORY = "ghcr.io/helixml/helix-sandbox";

/**
 * `helixVersion: auto`: `npm run deploy` reads the control plane's release (SANDBOX_WIRE.configPath)
 * and pins it in the stack file first, so every later run, from any machine, deploys the same.
 */
export const HELIX_VERSION_AUTO = "auto";

/** The first Helix release that attaches machines as sandboxes and sends runners no work. */
export const FIRST_SANDBOX_RELEASE = "2.5.42";

/** Environment the sandbox reads (the token only from its environment: Helix gives no file form). */
export const SANDBOX_ENV = {
    /** The control plane's scheme and host[:port]; RevDial drops any path. */
    apiUrl: "HELIX_API_URL",
    /** The control plane's one global runner token. */
    token: "RUNNER_TOKEN",
    /** Unique per sandbox: a second connection with the same ID replaces the first. */
    instanceId: "SANDBOX_INSTANCE_ID",
    gpuVendor: "GPU_VENDOR",
    hydraEnabled: "HYDRA_ENABLED",
    /** A registry mirror for the desktop image the sandbox pulls into its own dockerd. */
    registry: "HELIX_SANDBOX_REGISTRY",
    xdgRuntimeDir: "XDG_RUNTIME_DIR",
} as const;

/**
 * Variables a sandbox stack may add with `extraEnv`, as Helix's chart documents its `extraEnv`
 * (charts/helix-sandbox values.yaml at 2.12.2): a proxy for all outbound traffic, an APT mirror for
 * air-gapped hosts, and the paths Hydra watches for disk pressure; with the kind of value each takes.
 * Nothing else: every other variable is the stack's own key's (the token above all) or unknown.
 */
export const SANDBOX_EXTRA_ENV: Readonly<Record<string, "proxy" | "hosts" | "url" | "paths">> = {
    HTTP_PROXY: "proxy",
    HTTPS_PROXY: "proxy",
    http_proxy: "proxy",
    https_proxy: "proxy",
    NO_PROXY: "hosts",
    no_proxy: "hosts",
    HELIX_SANDBOX_APT_MIRROR: "url",
    HELIX_DISK_PRESSURE_PATHS: "paths",
};

/** Values install.sh sets that are not the user's to choose. */
export const SANDBOX_FIXED_ENV: Readonly<Record<string, string>> = {
    [SANDBOX_ENV.hydraEnabled]: "true",
    [SANDBOX_ENV.xdgRuntimeDir]: "/tmp/sockets",
};

/** Folders each sandbox needs a volume of its own for: an inner dockerd cannot share its data root. */
export const SANDBOX_VOLUMES = {
    /** The inner dockerd's data root: desktop images, 50-100 GB. */
    docker: "/var/lib/docker",
    /** Workspaces. */
    data: "/data",
    /** Hydra's state. */
    hydra: "/hydra-data",
} as const;

/** Input devices the desktops use, and the device cgroup rules for input (13) and DRM (226) devices. */
export const SANDBOX_DEVICES: readonly string[] = ["/dev/uinput", "/dev/uhid"];
export const SANDBOX_DEVICE_CGROUP_RULES: readonly string[] = ["c 13:* rmw", "c 226:* rmw"];

/** GPU vendors the sandbox knows; the control plane never places a session on a `none` sandbox (2.11.33 and later). */
export const GPU_VENDORS = ["nvidia", "amd", "intel", "none"] as const;
export type GpuVendor = (typeof GPU_VENDORS)[number];

/**
 * `gpuVendor: auto`, the sandbox's default: `npm run deploy` detects each host's GPU as install.sh
 * does (an NVIDIA driver or runtime, else AMD's ROCm /dev/kfd beside /dev/dri, else /dev/dri for
 * Intel, else none) and pins it in the stack file first, so later runs and other machines agree.
 */
export const GPU_VENDOR_AUTO = "auto";
/** What gpuVendor may be set to: a vendor, or auto. */
export const GPU_VENDOR_SETTINGS = [GPU_VENDOR_AUTO, ...GPU_VENDORS] as const;
export type GpuVendorSetting = (typeof GPU_VENDOR_SETTINGS)[number];

/** What install.sh adds per GPU vendor: devices, environment, and for nvidia the runtime and `--gpus`. */
export const GPU_VENDOR_SETUP: Readonly<
    Record<
        GpuVendor,
        { readonly devices: readonly string[]; readonly env: Readonly<Record<string, string>>; readonly nvidiaRuntime: boolean }
    >
> = {
    nvidia: { devices: ["/dev/dri"], env: { NVIDIA_DRIVER_CAPABILITIES: "all", NVIDIA_VISIBLE_DEVICES: "all" }, nvidiaRuntime: true },
    amd: { devices: ["/dev/kfd", "/dev/dri"], env: {}, nvidiaRuntime: false },
    intel: { devices: ["/dev/dri"], env: {}, nvidiaRuntime: false },
    none: { devices: [], env: { LIBGL_ALWAYS_SOFTWARE: "1", MESA_GL_VERSION_OVERRIDE: "4.5" }, nvidiaRuntime: false },
};

/**
 * Where Hydra serves its API, `/health` included (api/pkg/hydra/server.go): a Unix socket inside the
 * sandbox, which the reverse dial carries the control plane's calls to.
 */
export const SANDBOX_HYDRA_SOCKET = "/var/run/hydra/hydra.sock";

/**
 * The desktop image the sandbox's boot pulls into its own dockerd before anything dials the
 * control plane (sandbox/04-start-dockerd.sh): `<registry>/helixml/helix-ubuntu:<release>-linux-<arch>`,
 * the registry ghcr.io unless HELIX_SANDBOX_REGISTRY replaces it, then one fallback from the insecure
 * mirror; when both fail the boot exits 1 and the restart policy starts it again.
 */
export const SANDBOX_DESKTOP = {
    registry: "ghcr.io",
    path: "helixml/helix-ubuntu",
    /** The one registry the inner dockerd takes over plain HTTP (its daemon.json's insecure-registries). */
    insecureMirror: "registry:5000",
    /** The fallback's path on the insecure mirror. */
    fallbackPath: "helix-ubuntu",
} as const;

/**
 * The sandbox's health check: Hydra answers `/health` on its socket, which happens only once the
 * boot has pulled the desktop and started the heartbeat and Hydra. Helix's own compose and chart
 * ask `docker info`, which the inner dockerd answers minutes before that, and goes on answering
 * while a failed pull restarts the boot. curl is in Helix's sandbox image; --max-time because
 * Hydra creates its socket before it serves on it.
 */
export const SANDBOX_HEALTHCHECK_COMMAND: readonly string[] = [
    "CMD",
    "curl",
    "-fsS",
    "--max-time",
    "5",
    "--unix-socket",
    SANDBOX_HYDRA_SOCKET,
    "http://hydra/health",
];

/** What the sandbox dials, all outbound, with `Authorization: Bearer <RUNNER_TOKEN>`. */
export const SANDBOX_WIRE = {
    /** The RevDial control WebSocket: GET <path>?runnerid=<prefix><SANDBOX_INSTANCE_ID>. */
    revdialPath: "/api/v1/revdial",
    /** The runner ID a sandbox registers under at the control plane. */
    revdialRunnerPrefix: "hydra-",
    /** POSTed every heartbeatSeconds; the control plane dispatches only to sandboxes seen in the last 90 s. */
    heartbeatPath: (instanceId: string) => `/api/v1/sandboxes/${encodeURIComponent(instanceId)}/heartbeat`,
    heartbeatSeconds: 30,
    /** WebSocket pings, both ways. */
    pingSeconds: 15,
    /**
     * The control plane's public config, served without auth: its `version` is the release the
     * sandboxes must run (`2.12.2` for a tagged build; a commit SHA for an untagged one).
     */
    configPath: "/api/v1/config",
} as const;

/** The release in the control plane's `GET /api/v1/config` answer, or undefined when it names none. */
export function controlPlaneReleaseOf(body: unknown): string | undefined {
    const version = (body as { version?: unknown } | null)?.version;
    return typeof version === "string" && version.trim() !== "" ? version.trim() : undefined;
}

/**
 * Lengths in characters. The control plane keeps a sandbox's ID in a varchar(255) and its
 * RevDial runner ID is SANDBOX_WIRE.revdialRunnerPrefix plus the ID: 200 leaves room for both.
 */
export const SANDBOX_LENGTHS = {
    instanceIdPrefix: { max: 100 },
    instanceId: { max: 200 },
} as const;

/**
 * A Helix release as its tags and the sandbox image's tags spell it: `2.12.2`, or a release
 * candidate such as `2.11.0-rc2` (Helix's CI pushes the image for every tag). No leading `v`,
 * and no leading zero: `2.12.02` is no tag, so its image is never found, yet it would order as 2.12.2.
 */
const HELIX_RELEASE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-rc([1-9]\d*))?$/;

/** A release's numbers for ordering: a release candidate sorts before its release. */
function releaseKey(version: string): number[] | undefined {
    const m = HELIX_RELEASE.exec(version);
    if (!m) return undefined;
    return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[4])];
}

/** Orders two Helix releases (negative, 0, positive), or undefined when either is not one. */
export function compareHelixReleases(a: string, b: string): number | undefined {
    const ka = releaseKey(a);
    const kb = releaseKey(b);
    if (ka === undefined || kb === undefined) return undefined;
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    return 0;
}

/**
 * Why `version` cannot be the release a sandbox runs, or undefined when it can: it must be a
 * Helix release (the control plane's own: Hydra's API changed shape nine times between 2.5.12
 * and 2.12.0, so only the matching image is known to work) from FIRST_SANDBOX_RELEASE on, its
 * release candidates included (2.5.42-rc1 already has the sandbox). The one release grammar of the
 * program, the commands and the policy pack.
 */
export function helixReleaseProblem(version: string): string | undefined {
    const key = releaseKey(version);
    if (key === undefined) return "must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v')";
    const first = releaseKey(FIRST_SANDBOX_RELEASE)!;
    const before = key.slice(0, 3).findIndex((n, i) => n !== first[i]);
    if (before >= 0 && key[before] < first[before])
        return `must be ${FIRST_SANDBOX_RELEASE} or later: earlier control planes take runners, not sandboxes (use the runner workload)`;
    return undefined;
}

/**
 * An image reference in its parts, as Docker reads `name[:tag][@digest]`: the name as written
 * (a registry's port is part of it), the repository (the name lower-cased: Docker refuses upper
 * case in one, so any case names the same), the tag and the digest. The one image grammar of the
 * program, the commands and the policy pack.
 */
export interface ImageReference {
    readonly name: string;
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

export function parseImageReference(reference: string): ImageReference {
    const at = reference.indexOf("@");
    const named = at >= 0 ? reference.slice(0, at) : reference;
    const digest = at >= 0 ? reference.slice(at + 1) : undefined;
    const colon = named.indexOf(":", named.lastIndexOf("/") + 1);
    const name = colon < 0 ? named : named.slice(0, colon);
    return {
        name,
        repository: name.toLowerCase(),
        ...(colon < 0 ? {} : { tag: named.slice(colon + 1) }),
        ...(digest === undefined ? {} : { digest }),
    };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Docker's reference grammar, simplified: [registry[:port]/]path, where a registry is told
// from a path by a '.', a port or the name localhost.
const IMAGE_NAME =
    /^(?:(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|localhost)(?::\d+)?\/|[a-zA-Z0-9-]+:\d+\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Why `reference` is not a pinned sandbox image, or undefined when it is. A sandbox must run
 * exactly its control plane's release, so the tag is a Helix release (FIRST_SANDBOX_RELEASE or
 * later), with or without a digest beside it: a digest pins the bytes, the tag says which release
 * they are, and a digest alone would skip every release check. `latest` and an untagged
 * reference (which is `latest`) follow the newest release, whatever the control plane runs.
 */
export function sandboxImagePinProblem(reference: string): string | undefined {
    const { name, tag, digest } = parseImageReference(reference);
    if (!IMAGE_NAME.test(name) || (tag !== undefined && !IMAGE_TAG.test(tag)) || (digest !== undefined && !DIGEST.test(digest)))
        return `must be an image reference such as ${SANDBOX_IMAGE_REPOSITORY}:2.12.2 or ${SANDBOX_IMAGE_REPOSITORY}:2.12.2@sha256:<digest>`;
    const port = registryPortProblem(name);
    if (port !== undefined) return port;
    if (tag === "latest")
        return "must not be tagged latest: a sandbox must run its control plane's release (Hydra's API changes between releases); tag it with that release, such as 2.12.2";
    if (tag === undefined)
        return digest === undefined
            ? "has no tag, which Docker reads as latest: tag it with the control plane's release, such as 2.12.2"
            : `has a digest but no tag: write it as ${name}:<release>@${digest}, so that which Helix release it is can be checked against the control plane's`;
    const release = helixReleaseProblem(tag);
    return release === undefined ? undefined : `has the tag ${tag}, which ${release}`;
}

/**
 * Why `id` cannot be a SANDBOX_INSTANCE_ID, or undefined when it can. It travels in a URL
 * path (the heartbeat) and a query string (RevDial's runner ID) and names the sandbox in the
 * control plane's database, so it keeps to the characters container names use.
 */
export function sandboxInstanceIdProblem(id: string): string | undefined {
    if (id.length > SANDBOX_LENGTHS.instanceId.max) return `must be at most ${SANDBOX_LENGTHS.instanceId.max} characters`;
    if (!NAME_PATTERN.test(id)) return "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'";
    return undefined;
}
