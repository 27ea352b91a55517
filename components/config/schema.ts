// What a valid `zed-runner:*` stack config is: every field's schema, written
// once, the top-level keys with their defaults, and a fleet's hosts, which may
// override the keys in HOST_OVERRIDABLE_KEYS. Types are derived from the schemas.
// Ranges, lengths, choices and shared rules come from the contract, which the
// agent's own schema (agent/settings.ts) is built from too. Pure: no Pulumi import.
import { isIP } from "node:net";
import { z } from "zod";
import {
    CPU_SHARES_DEFAULT,
    DOCKER_DEFAULT_CPU_SHARES,
    IMAGE_DEFAULTS,
    LENGTHS,
    LOG_LEVELS,
    NAME_PATTERN,
    RANGES,
    RESTART_POLICIES,
    REVDIAL_MODES,
    RUNNER_HARDENING_DEFAULTS,
    type ApiHostUrlProblem,
    type Range,
    apiHostUrlProblem,
    hostAddressProblem,
    hostNameProblem,
    normalizeDockerHost,
    canonicalApiHost,
    canonicalDockerHost,
    canonicalRegistry,
    registryPortProblem,
    workspaceDirProblem,
    GPU_VENDOR_AUTO,
    GPU_VENDOR_SETTINGS,
    SANDBOX_EXTRA_ENV,
} from "../../contract";

/** The kinds of extraEnv value that are URLs. */
const URL_KINDS: ReadonlySet<string | undefined> = new Set(["proxy", "url"]);
import { RUNNER_HOST_KEYS, SANDBOX_HOST_KEYS } from "./workloadKeys";

/** Keys whose values must never appear in an error message or a log line. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["apiToken", "registryPassword"]);

/**
 * Keys earlier versions read, and why they are gone: a stack that still sets one is
 * refused with the reason, rather than the value being silently ignored.
 */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
    helixImage:
        "is no longer used: the image runs our own runner agent, because Helix's external-agent-runner binary never worked " +
        "against its control plane and no published Helix image carries it. Remove it with `pulumi config rm helixImage`",
    maxSessions:
        "is no longer used: concurrency caps a runner's live sessions and maxTasks the sessions before it restarts. " +
        "Remove it with `pulumi config rm maxSessions`",
    gpuAssignment:
        "is no longer used: Hydra mounts every NVIDIA GPU of the host into every desktop a sandbox starts (the control plane " +
        "never names one), so --gpus device=<n> on a sandbox isolated nothing; each sandbox gets all of its host's GPUs. " +
        "Run one sandbox per host, which serves many desktops. Remove it with `pulumi config rm gpuAssignment` (and from each host)",
};

/** Docker's own networks, which a runner must not join: host shares the machine's network, none has no network. */
const DOCKER_SPECIAL_NETWORKS = ["host", "none"];

// Pulumi hands every config value to the program as a string; these turn the
// strings into typed values and leave anything else for zod to reject.
const asInteger = (v: unknown) => (typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v);
const asNumber = (v: unknown) => (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v);
const asBoolean = (v: unknown) => (v === "true" ? true : v === "false" ? false : v);
const asList = (v: unknown) => {
    if (typeof v !== "string") return v;
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
};

const integer = ({ min, max }: Range, what = "an integer") => {
    const message = `must be ${what} from ${min} to ${max}`;
    return z.preprocess(
        asInteger,
        z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }),
    );
};
const port = integer(RANGES.tcpPort, "a TCP port");
const flag = z.preprocess(asBoolean, z.boolean({ error: "must be true or false" }));
const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(", ")}` });

// Docker's reference grammar, simplified: [registry[:port]/]path[:tag][@digest], where a
// registry is told from a path by a '.', a port or the name localhost.
const IMAGE_REFERENCE =
    /^(?:(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|localhost)(?::\d+)?\/|[a-zA-Z0-9-]+:\d+\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const imageReference = z
    .string()
    .regex(IMAGE_REFERENCE, { error: "must be an image reference such as registry.example.com/helix-zed-agent:1.2.3" });

const namePart = ({ max }: { max: number }) =>
    z
        .string()
        .max(max, { error: `must be at most ${max} characters` })
        .regex(NAME_PATTERN, { error: "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'" });

const API_HOST_MESSAGES = {
    "not-a-url": "must be an http:// or https:// URL such as https://helix.example.com",
    "not-http": "must use http:// or https://",
    credentials: "must not carry credentials; apiToken, the runner token, is what authenticates",
    "query-or-fragment": "must not have a query string or fragment",
    port: "must have a port from 1 to 65535, or none for the scheme's own",
} as const satisfies Record<ApiHostUrlProblem, string>;

const apiHost = z
    .string()
    .superRefine((value, ctx) => {
        // The URL parser would quietly drop a leading space or tab; the image writes the value into Zed's settings.
        if (/[\s"'\\<>`{}|^]/.test(value)) {
            ctx.addIssue({ code: "custom", message: "must be a URL without spaces, quotes, backslashes or control characters" });
            return;
        }
        const { problem, url } = apiHostUrlProblem(value);
        if (problem !== undefined || url === undefined) {
            ctx.addIssue({ code: "custom", message: API_HOST_MESSAGES[problem ?? "not-a-url"] });
        } else if (hostAddressProblem(url.hostname) !== undefined) {
            // The URL parser takes "$(id).example.com" as a host; no resolver would, and the image writes it into a shell-read file.
            ctx.addIssue({
                code: "custom",
                message: `must name a host name (RFC 1123) or an IP address as its host; its host ${hostAddressProblem(url.hostname)}`,
            });
        }
        // Loopback is refused by each workload with its own advice (runner/workload.ts, sandbox/checks.ts).
    })
    // Written in the one form it was checked in: scheme and host lower-cased, punycode, no trailing slash.
    .transform(canonicalApiHost);

/**
 * A registry host (with a '.', a port or the name localhost, as Docker tells one from a Docker Hub
 * namespace), then an optional path: the runners' swarm `registry` (the image is pushed as
 * <registry>/helix-zed-agent:<stack>) and the sandboxes' `registryMirror` alike.
 */
export const REGISTRY_PATTERN =
    /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+(?::\d+)?|[a-zA-Z0-9-]+:\d+|localhost)(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;

const hostName = z
    .string()
    .max(LENGTHS.hostName.max, { error: `must be at most ${LENGTHS.hostName.max} characters`, abort: true })
    .superRefine((name, ctx) => {
        const problem = hostNameProblem(name);
        if (problem)
            ctx.addIssue({
                code: "custom",
                message: `must be a host name (labels of letters, digits and '-', separated by '.'); it ${problem}`,
            });
    });

/** What a stack deploys: the seed-era runner, or Helix's own sandbox (Helix 2.5.42 and later). Each has its record (components/workloads.ts). */
export const WORKLOADS = ["runner", "sandbox"] as const;

/** Where a stack's containers go: this machine's engine, the listed hosts, or a Docker Swarm (components/placements/placement.ts). */
export const PLACEMENT_KINDS = ["local", "hosts", "swarm"] as const;

/** Every field's schema, written once; defaults are added where the keys are declared. */
const fields = {
    apiHost,
    apiToken: z.string({ error: "is not set: run `pulumi config set --secret apiToken <runner token>`" }),
    allowInsecureToken: flag,
    replicas: integer(RANGES.replicas),
    hostName,
    runnerIdPrefix: namePart(LENGTHS.runnerIdPrefix),
    containerNamePrefix: namePart(LENGTHS.containerNamePrefix),
    concurrency: integer(RANGES.concurrency),
    maxTasks: integer(RANGES.maxTasks),
    sessionTimeout: integer(RANGES.sessionTimeout, "a number of seconds (0 for no limit)"),
    workspaceDir: z
        .string()
        .regex(/^\/[A-Za-z0-9_.\/-]*$/, { error: "must be an absolute path made of letters, digits, '_', '.', '-' and '/'", abort: true })
        .superRefine((p, ctx) => {
            const problem = workspaceDirProblem(p);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
    logLevel: oneOf(LOG_LEVELS),
    displayWidth: integer(RANGES.displayWidth),
    displayHeight: integer(RANGES.displayHeight),
    image: imageReference,
    baseImage: imageReference,
    zedBuildDir: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
            error: "must be a relative path inside this project (letters, digits, '_', '.', '-', '/')",
        })
        .refine((p) => !p.split("/").includes(".."), { error: "must stay inside this project: no '..'" }),
    restartPolicy: oneOf(RESTART_POLICIES),
    // Docker 25's health check start interval (HEALTH_START_INTERVAL): opt-in, since the provider cannot create
    // a container with one on an older engine, and the program cannot ask an engine its version.
    healthStartInterval: flag,
    bindAddress: z.string().refine((a) => isIP(a) !== 0, { error: "must be an IPv4 or IPv6 address such as 127.0.0.1" }),
    publishDesktopPorts: flag,
    revdial: oneOf(REVDIAL_MODES),
    rdpPortBase: port,
    vncPortBase: port,
    healthPortBase: port,
    portsPerRunner: integer(RANGES.portsPerRunner),
    memoryMb: integer(RANGES.memoryMb, "a number of MB"),
    shmSizeMb: integer(RANGES.shmSizeMb, "a number of MB"),
    cpus: (() => {
        const { min, max } = RANGES.cpus;
        const message = `must be a number of CPUs from ${min} to ${max}`;
        return z.preprocess(asNumber, z.number({ error: message }).min(min, { error: message }).max(max, { error: message }));
    })(),
    persistWorkspaces: flag,
    // Runtime hardening (issue #20, Docker's CIS benchmark 5.12, 5.13, 5.26, 5.29): what a runner can live without.
    readOnlyRootFilesystem: flag,
    noNewPrivileges: flag,
    pidsLimit: integer(RANGES.pidsLimit, "a number of processes (0 for no limit)"),
    cpuShares: (() => {
        const { min, max } = RANGES.cpuShares;
        const message = `must be ${CPU_SHARES_DEFAULT} (Docker's default weight, ${DOCKER_DEFAULT_CPU_SHARES}) or a relative CPU weight from ${min} to ${max}`;
        return z.preprocess(
            asInteger,
            z
                .number({ error: message })
                .int({ error: message })
                .refine((v) => v === CPU_SHARES_DEFAULT || (v >= min && v <= max), { error: message }),
        );
    })(),
    registry: z
        .string()
        .transform(canonicalRegistry)
        .pipe(
            z
                .string()
                .regex(REGISTRY_PATTERN, {
                    error: "must be a registry address every node can pull from, such as registry.example.com, registry.example.com:5000 or registry.example.com/team",
                })
                .refine((v) => registryPortProblem(v) === undefined, { error: "must have a registry port from 1 to 65535" }),
        ),
    registryUsername: z
        .string()
        .max(LENGTHS.registryUsername.max, { error: `must be at most ${LENGTHS.registryUsername.max} characters` })
        .regex(/^[^\s:]+$/, { error: "must be a user name without spaces or ':'" }),
    registryPassword: z.string().min(1, { error: "is empty" }),
    // The sandbox workload's keys (issue #22). Their contents are checked by the sandbox plan's own
    // rules (components/sandbox/plan.ts) once the workload is known, so every problem names its key.
    workload: oneOf(WORKLOADS),
    helixVersion: z.string(),
    // Their registry host lower-cased, as written to the container (contract/addresses.ts canonicalRegistry).
    sandboxImage: z.string().transform(canonicalRegistry),
    gpuVendor: oneOf(GPU_VENDOR_SETTINGS),
    allowNoGpu: flag,
    allowSandboxImageMirror: flag,
    registryMirror: z.string().transform(canonicalRegistry),
    // An object in the stack file, which Pulumi hands over as JSON; each name and value is checked by the sandbox's rules.
    extraEnv: z.preprocess(
        asList,
        z
            .record(z.string(), z.string(), {
                error: 'must be a map of variable names to text values, e.g. {"HTTPS_PROXY": "http://proxy.example.com:3128"}',
            })
            // A valid URL is written in the one form apiHost is (lower-case scheme and host, punycode),
            // so what the sandbox's rules check is what the sandbox receives; any other value is left
            // as typed for them to refuse (the canonical form would drop credentials unseen).
            .transform((env) =>
                Object.fromEntries(
                    Object.entries(env).map(([name, value]) => [
                        name,
                        URL_KINDS.has(SANDBOX_EXTRA_ENV[name]) && apiHostUrlProblem(value).problem === undefined
                            ? canonicalApiHost(value)
                            : value,
                    ]),
                ),
            ),
    ),
    instanceIdPrefix: z.string(),
    keepVolumes: flag,
    startTimeout: integer(RANGES.sandboxStartTimeout, "a number of seconds"),
    networks: z.preprocess(
        asList,
        z
            .array(namePart(LENGTHS.networkName), { error: 'must be a list of Docker network names, e.g. ["helix_default"]' })
            .superRefine((names, ctx) => {
                names.forEach((name, i) => {
                    if (DOCKER_SPECIAL_NETWORKS.includes(name.toLowerCase())) {
                        ctx.addIssue({
                            code: "custom",
                            path: [i],
                            message: `must not include Docker's "${name}" network: runners join a bridge network of their own and may join existing user networks, not the host's network or none`,
                        });
                    }
                });
            }),
    ),
};

/**
 * What a host entry may set for its own containers besides its name, engine and replicas: every
 * workload's host keys (config/workloadKeys.ts), one list. A host key of another workload than the
 * stack's is refused, by name (components/stackPlan.ts).
 */
export const HOST_OVERRIDABLE_KEYS = [...new Set([...RUNNER_HOST_KEYS, ...SANDBOX_HOST_KEYS])] satisfies readonly (keyof typeof fields)[];
export type HostOverridableKey = (typeof HOST_OVERRIDABLE_KEYS)[number];

const DOCKER_HOST_FORMS = "must be unix:///path/to/docker.sock, ssh://user@host[:port] or tcp://host:port";

/**
 * What is wrong with a Docker engine address, or undefined. The host part goes to ssh and
 * to name resolution: it must be a host name or an IP address, so `gpu-a;touch` or a
 * user that ssh would read as an option (`-oProxyCommand=...`) never gets that far.
 */
function dockerHostProblem(address: string): string | undefined {
    if (/^unix:\/\/\/\S+$/.test(address)) return undefined;
    const parts = /^(ssh|tcp):\/\/(?:([^@/]*)@)?(\[[^\]/]*\]|[^:/]*)(?::([^/]*))?$/.exec(address);
    if (!parts) return DOCKER_HOST_FORMS;
    const [, scheme, user, host, port] = parts;
    if (scheme === "tcp" && user !== undefined) return "must not carry a user name: tcp:// engines authenticate with certPath's TLS files";
    if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user))
        return `has a user name that is not one (letters, digits, '_', '.' and '-', not starting with '-' or '.'): ${DOCKER_HOST_FORMS}`;
    const hostProblem = hostAddressProblem(host);
    if (hostProblem) return `must name a host name (RFC 1123) or an IP address as its host; its host ${hostProblem}`;
    const { min, max } = RANGES.tcpPort;
    if (port === undefined ? scheme === "tcp" : !/^\d{1,5}$/.test(port) || Number(port) < min || Number(port) > max)
        return `must have a port from ${min} to ${max}${scheme === "tcp" ? " (tcp://host:port)" : " after the host, if any"}`;
    return undefined;
}

/** Where a Docker engine listens: a local socket, SSH, or TCP with TLS. */
const dockerHost = z
    .string()
    // A password here would sit in the stack config in plain text; Docker's ssh transport uses keys or an agent anyway.
    .refine((v) => !/^[a-z]+:\/\/[^@/]*:[^@/]*@/i.test(v), {
        error: "must not carry a password (it would sit in the stack file in plain text): ssh:// uses your SSH keys or agent, tcp:// certPath's TLS files",
        abort: true,
    })
    // Checked as written to the provider: the host lower-cased, without a trailing dot, in punycode.
    .transform(canonicalDockerHost)
    .superRefine((address, ctx) => {
        const problem = dockerHostProblem(address);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

const overrides = Object.fromEntries(HOST_OVERRIDABLE_KEYS.map((k) => [k, fields[k].optional()])) as {
    [K in HostOverridableKey]: z.ZodOptional<(typeof fields)[K]>;
};

/** How to reach an engine besides its address: TLS files for tcp://, options for ssh://. */
const connectionOptions = {
    certPath: z
        .string()
        .regex(/^\/\S*$/, { error: "must be an absolute path to a folder with ca.pem, cert.pem and key.pem" })
        .optional(),
    sshOpts: z.array(z.string(), { error: "must be a list of ssh options" }).optional(),
};

/** The Docker API over TCP must use TLS: a tcp:// `field` needs certPath beside it. */
function requireTlsForTcp(field: string) {
    return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
        const address = value[field];
        if (typeof address === "string" && address.startsWith("tcp://") && !value.certPath) {
            ctx.addIssue({
                code: "custom",
                path: ["certPath"],
                message: `is required with a tcp:// ${field}: the Docker API over TCP must use TLS`,
            });
        }
    };
}

/**
 * The stack's `docker:*` provider keys the commands follow (Pulumi's default Docker provider
 * reads them): where the runners of the local placement, or of a swarm without a manager, are.
 */
export const DOCKER_PROVIDER_SCHEMAS = {
    host: dockerHost.optional(),
    certPath: connectionOptions.certPath,
    sshOpts: z.preprocess(asList, connectionOptions.sshOpts),
};

/** One Docker host of a fleet: its connection, its replicas, and overrides of the top-level settings. */
const hostEntry = z
    .object({
        name: hostName,
        dockerHost,
        ...connectionOptions,
        replicas: fields.replicas,
        ...overrides,
    })
    .strict()
    .superRefine(requireTlsForTcp("dockerHost"));
export type HostEntry = z.output<typeof hostEntry>;

const hosts = z.preprocess(
    asList,
    z
        .array(hostEntry, { error: "must be a list of hosts, each with name, dockerHost and replicas" })
        .min(1, { error: "must list at least one host, or be left unset for this machine alone" })
        .superRefine((list, ctx) => {
            // The same engine spelled two ways (unix:///var/run//docker.sock, 10.0.0.01) is still the same engine.
            // Another port or transport to one name may be another machine behind a gateway's forwarded port.
            const keys = { name: (h: HostEntry) => h.name.toLowerCase(), dockerHost: (h: HostEntry) => normalizeDockerHost(h.dockerHost) };
            for (const field of ["name", "dockerHost"] as const) {
                const seen = new Map<string, number>();
                list.forEach((host, i) => {
                    const key = keys[field](host);
                    const first = seen.get(key);
                    if (first === undefined) seen.set(key, i);
                    else
                        ctx.addIssue({
                            code: "custom",
                            path: [i, field],
                            message:
                                field === "name"
                                    ? `repeats hosts[${first}].name; each host needs its own`
                                    : `repeats hosts[${first}].dockerHost: the same engine; each host needs its own`,
                        });
                });
            }
        }),
);

// Swarm's placement constraint grammar: node.* or engine.* attribute, == or !=, a value.
const placementConstraint = z.string().regex(/^\s*(node|engine)\.[\w.-]+\s*(==|!=)\s*\S+\s*$/, {
    error: "must be a constraint such as node.labels.zed==true or node.role!=manager",
});

/** A Docker Swarm to run the runners as one service: its manager, and where tasks may go. */
const swarmObject = z
    .object(
        {
            /** A manager's engine; unset for this machine's engine, which must then be a manager. */
            manager: dockerHost.optional(),
            ...connectionOptions,
            constraints: z.array(placementConstraint, { error: "must be a list of placement constraints" }).default([]),
            /** 0 is no limit. */
            maxReplicasPerNode: integer(RANGES.maxReplicasPerNode).default(0),
            /** A node attribute to spread runners evenly over, such as node.labels.zone. */
            spread: z
                .string()
                .regex(/^(node|engine)\.[\w.-]+$/, { error: "must be a node attribute such as node.labels.zone or node.id" })
                .optional(),
        },
        { error: 'must be an object such as {"manager": "ssh://ops@swarm-manager-1"} ({} for this machine\'s engine)' },
    )
    .strict();
const swarm = z.preprocess(asList, swarmObject.superRefine(requireTlsForTcp("manager")));
/** The keys the swarm object takes. */
export const SWARM_KEYS: readonly string[] = Object.keys(swarmObject.shape);

/** The top-level keys, in the order Pulumi.yaml declares them, with their defaults. */
export const KEY_SCHEMAS = {
    workload: fields.workload.default("runner"),
    apiHost: fields.apiHost.default("http://host.docker.internal:80"),
    apiToken: fields.apiToken,
    allowInsecureToken: fields.allowInsecureToken.default(false),
    replicas: fields.replicas.default(1),
    hostName: fields.hostName.optional(),
    runnerIdPrefix: fields.runnerIdPrefix.optional(),
    containerNamePrefix: fields.containerNamePrefix.optional(),
    concurrency: fields.concurrency.default(IMAGE_DEFAULTS.concurrency),
    maxTasks: fields.maxTasks.default(IMAGE_DEFAULTS.maxTasks),
    sessionTimeout: fields.sessionTimeout.default(IMAGE_DEFAULTS.sessionTimeout),
    workspaceDir: fields.workspaceDir.default(IMAGE_DEFAULTS.workspaceDir),
    logLevel: fields.logLevel.default(IMAGE_DEFAULTS.logLevel),
    displayWidth: fields.displayWidth.default(IMAGE_DEFAULTS.displayWidth),
    displayHeight: fields.displayHeight.default(IMAGE_DEFAULTS.displayHeight),
    image: fields.image.optional(),
    baseImage: fields.baseImage.default("debian:bookworm-slim"),
    zedBuildDir: fields.zedBuildDir.default("zed-build"),
    restartPolicy: fields.restartPolicy.default("unless-stopped"),
    healthStartInterval: fields.healthStartInterval.default(false),
    bindAddress: fields.bindAddress.default("127.0.0.1"),
    publishDesktopPorts: fields.publishDesktopPorts.default(false),
    revdial: fields.revdial.default(IMAGE_DEFAULTS.revdial),
    rdpPortBase: fields.rdpPortBase.default(3389),
    vncPortBase: fields.vncPortBase.default(5900),
    healthPortBase: fields.healthPortBase.default(3030),
    portsPerRunner: fields.portsPerRunner.default(1),
    memoryMb: fields.memoryMb.default(4096),
    shmSizeMb: fields.shmSizeMb.default(1024),
    cpus: fields.cpus.optional(),
    persistWorkspaces: fields.persistWorkspaces.default(false),
    readOnlyRootFilesystem: fields.readOnlyRootFilesystem.default(true),
    noNewPrivileges: fields.noNewPrivileges.default(true),
    pidsLimit: fields.pidsLimit.default(RUNNER_HARDENING_DEFAULTS.pidsLimit),
    cpuShares: fields.cpuShares.default(RUNNER_HARDENING_DEFAULTS.cpuShares),
    networks: fields.networks.default([]),
    helixVersion: fields.helixVersion.optional(),
    sandboxImage: fields.sandboxImage.optional(),
    gpuVendor: fields.gpuVendor.default(GPU_VENDOR_AUTO),
    allowNoGpu: fields.allowNoGpu.default(false),
    allowSandboxImageMirror: fields.allowSandboxImageMirror.default(false),
    registryMirror: fields.registryMirror.optional(),
    instanceIdPrefix: fields.instanceIdPrefix.optional(),
    keepVolumes: fields.keepVolumes.default(true),
    // A first boot pulls the desktop image (about 7 GB for helix-ubuntu): 30 min covers 100 Mbit/s with room.
    startTimeout: fields.startTimeout.default(1800),
    extraEnv: fields.extraEnv.default({}),
    hosts: hosts.optional(),
    swarm: swarm.optional(),
    registry: fields.registry.optional(),
    registryUsername: fields.registryUsername.optional(),
    registryPassword: fields.registryPassword.optional(),
};

/** A top-level key. */
export type StackKey = keyof typeof KEY_SCHEMAS;

/** Every key validated and defaulted. */
export type StackValues = { -readonly [K in keyof typeof KEY_SCHEMAS]: z.output<(typeof KEY_SCHEMAS)[K]> };

/** The config keys this program reads, in the order Pulumi.yaml declares them. */
export const CONFIG_KEYS: readonly string[] = Object.keys(KEY_SCHEMAS);
/** The keys a host entry takes. */
export const HOST_KEYS: readonly string[] = Object.keys(hostEntry.shape);

/**
 * Keys Pulumi.yaml cannot declare: project config types are string, integer, boolean
 * and arrays of those, not lists of objects. The program validates them all the same.
 */
export const UNDECLARED_KEYS: readonly string[] = ["hosts", "swarm", "extraEnv"];

/**
 * Keys whose default depends on the workload, so Pulumi.yaml declares them without one: Pulumi
 * hands a declared default to the program as if the stack set it, and a sandbox stack could then
 * not tell the runners' default from a value its user chose. The schema holds the runners' default.
 */
export const WORKLOAD_DEFAULTED_KEYS = ["restartPolicy", "memoryMb"] as const satisfies readonly StackKey[];
export type WorkloadDefaultedKey = (typeof WORKLOAD_DEFAULTED_KEYS)[number];
