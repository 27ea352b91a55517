// The runner image's contract: what the image listens on, where it keeps
// things and which environment it reads, so a port or a path is written down
// once for the plan, the components, the runner agent inside the image, the
// policy pack and the tests. Dockerfile.zed-agent cannot import it;
// test/contract/image.test.ts checks that the Dockerfile says the same.

/** TCP ports the image serves inside each container. */
export const CONTAINER_PORTS = {
    /** xrdp, relaying to the runner's own desktop. */
    rdp: 3389,
    /** x11vnc on the runner's desktop. */
    vnc: 5900,
    /** The runner agent's health endpoint. */
    health: 3030,
} as const;

/**
 * The most RDP and VNC ports a stack may publish per runner (config: portsPerRunner), as
 * consecutive container ports from CONTAINER_PORTS.rdp and .vnc, like the seed's `-p 3389-3409`.
 */
export const MAX_PORTS_PER_RUNNER = 100;

/** Zed's own external-sync server: inside the container only, moved off 3030 (the health port). */
export const ZED_SYNC_PORT = 3031;

/** The path of the health endpoint on CONTAINER_PORTS.health. */
export const HEALTH_PATH = "/health";

/** The path of the runner's Prometheus metrics, on the same port as HEALTH_PATH (docs/metrics.md). */
export const METRICS_PATH = "/metrics";

/** The runner agent's command; `healthcheck` as its argument asks the running agent's /health. */
export const AGENT_COMMAND = "/usr/local/bin/zed-runner";

/** The Docker health check: the agent itself asks its own /health, no shell HTTP client. */
export const HEALTHCHECK_COMMAND: readonly string[] = ["CMD", AGENT_COMMAND, "healthcheck"];

/**
 * The container health check, for containers, services and the image's own HEALTHCHECK.
 * Durations are written as Docker reads them back ("10s", not "10000ms"), or every
 * preview would show a diff.
 */
export const HEALTHCHECK = {
    tests: HEALTHCHECK_COMMAND,
    interval: "10s",
    timeout: "5s",
    startPeriod: "30s",
    retries: 3,
} as const;

/**
 * The health check's start interval (Docker 25, Engine API 1.44): during the start period Docker
 * checks this often instead of every `interval`, and a runner turns healthy about this long after
 * its /health first answers rather than a whole interval (10 s) after start. Only with the
 * healthStartInterval setting: the provider's Docker client refuses to create a container with
 * one on an older engine ("requires API version 1.44"). Not in Dockerfile.zed-agent's HEALTHCHECK
 * either: builders before Docker 25 reject the --start-interval flag.
 */
export const HEALTH_START_INTERVAL = "1s";

/** Where the image keeps the Zed binary the agent starts per session. */
export const ZED_BINARY = "/usr/local/bin/zed";

/** The unprivileged user that owns the desktop and runs Zed. */
export const DESKTOP_USER = { name: "zed", uid: 1000, gid: 1000, home: "/home/zed" } as const;

/** The X display of the runner's desktop. */
export const DISPLAY = ":1";

/** Runtime state: password files, keys. Owned by root, readable by the desktop user where it must be. */
export const STATE_DIR = "/run/zed-runner";

/** Folders a control plane's `work_dir` may point into besides WORKSPACE_DIR (Helix's own default). */
export const EXTRA_WORK_ROOTS: readonly string[] = ["/workspace"];

/** The environment the image reads. Secrets (token, passwords) are read once by the agent and never passed on. */
export const ENV = {
    apiHost: "API_HOST",
    apiToken: "API_TOKEN",
    runnerId: "RUNNER_ID",
    rdpPassword: "RDP_PASSWORD",
    vncPassword: "VNC_PASSWORD",
    concurrency: "CONCURRENCY",
    maxTasks: "MAX_TASKS",
    sessionTimeout: "SESSION_TIMEOUT",
    workspaceDir: "WORKSPACE_DIR",
    logLevel: "LOG_LEVEL",
    displayWidth: "DISPLAY_WIDTH",
    displayHeight: "DISPLAY_HEIGHT",
    stopGraceSeconds: "STOP_GRACE_SECONDS",
    revdial: "REVDIAL",
    /** A seed each runner derives its own initial RDP and VNC passwords from, when they are not given (Swarm). */
    passwordSeed: "DESKTOP_PASSWORD_SEED",
} as const;

/** Environment names that carry secrets. */
export const SECRET_ENV: readonly string[] = [ENV.apiToken, ENV.rdpPassword, ENV.vncPassword, ENV.passwordSeed];

/**
 * `<NAME>_FILE` names a file holding the secret NAME (Docker's and Kubernetes' secrets
 * are files): the secret never sits in the container's environment, so `docker inspect`
 * and `docker service inspect` cannot show it.
 */
export const SECRET_FILE_SUFFIX = "_FILE";

/** Where a Swarm service mounts the stack's secrets: root-only files in the task's /run/secrets. */
export const SECRET_FILES = {
    apiToken: "/run/secrets/zed-runner-api-token",
    passwordSeed: "/run/secrets/zed-runner-password-seed",
} as const;

/**
 * Swarm's template for a task's slot (1..replicas), filled in per task: a runner service's
 * RUNNER_ID and workspace volume carry it, so the policy pack reads the IDs a service's tasks get.
 */
export const TASK_SLOT_TEMPLATE = "{{.Task.Slot}}";

/**
 * Where a runner writes at run time, for a read-only root file system (config:
 * readOnlyRootFilesystem). Everything else in the image is only read.
 * - tmpfs (memory, gone when the container stops): /tmp holds the X server's lock and
 *   socket; /run the agent's state (STATE_DIR: password file, TLS and xrdp keys, xrdp's
 *   PID file). /tmp keeps exec: tools a session starts may run what they unpack there.
 * - volumes (disk, anonymous: they live as long as the container, as its writable layer
 *   did): the desktop user's home (X cookie, Zed's settings, data, extensions and
 *   caches) and /workspace; the workspace folder gets one too (or its named volume
 *   with persistWorkspaces), so clones never fill memory.
 */
export const WRITABLE_PATHS = {
    tmpfs: {
        "/tmp": "rw,exec,nosuid,nodev,mode=1777",
        "/run": "rw,noexec,nosuid,nodev,mode=755",
    },
    volumes: [DESKTOP_USER.home, ...EXTRA_WORK_ROOTS],
} as const;

/**
 * Where xrdp-keygen writes xrdp's RSA keys: /etc/xrdp/rsakeys.ini in the image is a link
 * to this file, so the keys are made per container on a read-only root file system.
 */
export const XRDP_RSA_KEYS = `${STATE_DIR}/rsakeys.ini`;

/**
 * Runtime hardening defaults (config: pidsLimit, cpuShares). pidsLimit: a runner with a
 * session uses well under 200 processes and threads (docs/BENCHMARKS.md); 1024 leaves room
 * for builds and language servers and stops a fork bomb long before the host's limit.
 * cpuShares: half Docker's default weight, so under contention busy runners yield to the
 * control plane and other containers on the host, and use every idle CPU otherwise.
 */
export const RUNNER_HARDENING_DEFAULTS = { pidsLimit: 1024, cpuShares: 512 } as const;

/** The security option that stops a process gaining privileges through setuid binaries or file capabilities. */
export const NO_NEW_PRIVILEGES = "no-new-privileges:true";

/**
 * Seconds a runner gets to stop cleanly (finish its session) before it is killed, on scale-in
 * or replacement: Docker's stop timeout and Swarm's stop grace period, and what the agent is
 * told to allow its sessions.
 */
export const STOP_GRACE_SECONDS = 30;

/**
 * Defaults the image applies when the environment leaves a value out, and the stack config's
 * defaults for the same settings. Dockerfile.zed-agent's ENV repeats some of them
 * (test/contract/image.test.ts checks they agree).
 */
export const IMAGE_DEFAULTS = {
    concurrency: 1,
    maxTasks: 0,
    sessionTimeout: 3600,
    workspaceDir: "/tmp/zed-workspaces",
    logLevel: "info",
    displayWidth: 1920,
    displayHeight: 1080,
    stopGraceSeconds: STOP_GRACE_SECONDS,
    revdial: "auto",
} as const;

/** The agent's exit status when its environment cannot work: the container stops with a message, not a loop. */
export const EXIT_BAD_ENVIRONMENT = 64;

/**
 * The agent's exit status after an unexpected failure (an uncaught exception or unhandled
 * rejection): sysexits' EX_SOFTWARE. The restart policy starts a fresh runner; a status
 * apart from EXIT_BAD_ENVIRONMENT's tells the two causes apart in `docker ps -a`.
 */
export const EXIT_UNEXPECTED_FAILURE = 70;

/**
 * Folders the image would hand to the desktop user if a workspace were put there:
 * the agent makes its workspace (and every session's folder) owned by `zed`, so a
 * workspace of `/etc` would give `zed` the system's password files.
 */
export const SYSTEM_DIRS: readonly string[] = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
];
/** System folders whose subfolders are fine as workspaces. */
const SCRATCH_UNDER_SYSTEM = ["/var/tmp", "/var/lib/zed-runner"];

/** Whether `dir` is `root` or below it; both absolute and normalised. The one path-inside check. */
export function isInsidePath(dir: string, root: string): boolean {
    return dir === root || dir.startsWith(`${root}/`);
}

/** Normalises an absolute POSIX path: collapses `//`, `.` and trailing `/`; `..` is kept for the caller to refuse. */
export function normalizeAbsolutePath(p: string): string {
    const parts = p.split("/").filter((s) => s !== "" && s !== ".");
    return `/${parts.join("/")}`;
}

/**
 * Why `dir` cannot be a workspace folder, or undefined when it can. Shared by the
 * stack config (refused before anything is created) and the agent (refused at start).
 */
export function workspaceDirProblem(dir: string): string | undefined {
    if (!dir.startsWith("/")) return "must be an absolute path";
    if (dir.split("/").includes("..")) return "must not contain '..'";
    const normal = normalizeAbsolutePath(dir);
    if (normal === "/") return "must not be / (the runner makes its workspace owned by the desktop user)";
    const inside = (root: string) => isInsidePath(normal, root);
    if (SCRATCH_UNDER_SYSTEM.some((root) => inside(root) && normal !== root)) return undefined;
    const system = SYSTEM_DIRS.find(inside);
    if (system)
        return `must not be in the system folder ${system} (the runner makes its workspace owned by the desktop user); use a folder such as /tmp/zed-workspaces or /workspace`;
    if ([DESKTOP_USER.home, "/home", "/tmp"].includes(normal))
        return `must not be ${normal} itself; use a folder below it, such as ${normal}/zed-workspaces`;
    return undefined;
}

/**
 * What Dockerfile.zed-agent reads from its build context besides the Zed binary:
 * the agent's sources and the packages `npm ci` put in node_modules for it.
 * .dockerignore admits these (test/contract/image.test.ts checks it).
 */
export const IMAGE_BUILD_INPUTS: readonly string[] = [
    "Dockerfile.zed-agent",
    "image",
    "agent",
    "contract",
    "node_modules/typescript",
    "node_modules/ws",
    "node_modules/zod",
    // prom-client and what it requires (agent/metrics.ts).
    "node_modules/prom-client",
    "node_modules/tdigest",
    "node_modules/bintrees",
    "node_modules/@opentelemetry/api",
];
