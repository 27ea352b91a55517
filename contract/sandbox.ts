// Helix's own sandbox (Helix 2.5.42 and later; docs/protocol.md §7): the facts about
// `ghcr.io/helixml/helix-sandbox` and what it says on the wire that the stack, the policy
// pack, the stand-in sandbox and the fake control plane must agree on. Read from Helix's
// source at tag 2.12.2 (install.sh's sandbox.sh, charts/helix-sandbox, api/cmd/hydra,
// api/pkg/revdial, api/cmd/sandbox-heartbeat, api/pkg/types CanHostSandbox): facts only.

/** The image's repository; its tag must be the control plane's own release (Hydra's API changes between releases). */
export const SANDBOX_IMAGE_REPOSITORY = "ghcr.io/helixml/helix-sandbox";

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

/** Helix's compose health check: the inner dockerd answers. */
export const SANDBOX_HEALTHCHECK_COMMAND: readonly string[] = ["CMD", "docker", "info"];

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
} as const;
