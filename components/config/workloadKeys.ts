// Which keys each workload reads: the keys only it reads (a stack of another workload that sets
// one is refused, by name), and what a `hosts` entry may set for it. The schema builds a host
// entry from the union of the host keys (schema.ts checks every name here against its fields);
// each workload's record (components/workloads.ts) declares its own keys by these lists. Pure data.

/** Keys only the runner workload reads (its record's ownKeys): a sandbox stack that sets one is refused. */
export const RUNNER_KEYS = [
    "runnerIdPrefix",
    "concurrency",
    "maxTasks",
    "sessionTimeout",
    "workspaceDir",
    "logLevel",
    "displayWidth",
    "displayHeight",
    "image",
    "baseImage",
    "zedBuildDir",
    "bindAddress",
    "publishDesktopPorts",
    "revdial",
    "rdpPortBase",
    "vncPortBase",
    "healthPortBase",
    "portsPerRunner",
    "shmSizeMb",
    "persistWorkspaces",
    "readOnlyRootFilesystem",
    "noNewPrivileges",
    "pidsLimit",
    "cpuShares",
    "healthStartInterval",
] as const;

/** What a `hosts` entry may set for its own runners (the runner record's hostKeys). */
export const RUNNER_HOST_KEYS = [
    "runnerIdPrefix",
    "bindAddress",
    "rdpPortBase",
    "vncPortBase",
    "healthPortBase",
    "portsPerRunner",
    "image",
    "memoryMb",
    "shmSizeMb",
    "cpus",
    "readOnlyRootFilesystem",
    "noNewPrivileges",
    "pidsLimit",
    "cpuShares",
    "healthStartInterval",
] as const;

/** Keys only the sandbox workload reads (its record's ownKeys): a runner stack that sets one is refused. */
export const SANDBOX_KEYS = [
    "helixVersion",
    "sandboxImage",
    "allowSandboxImageMirror",
    "gpuVendor",
    "allowNoGpu",
    "registryMirror",
    "instanceIdPrefix",
    "keepVolumes",
    "startTimeout",
    "extraEnv",
] as const;

/** What a `hosts` entry may set for its own sandboxes (the sandbox record's hostKeys). */
export const SANDBOX_HOST_KEYS = ["instanceIdPrefix", "gpuVendor", "allowNoGpu", "memoryMb", "cpus", "startTimeout"] as const;
