// Stack config for zed-runner: the one place where every `zed-runner:*` key is
// parsed, defaulted and validated. Pure: no Pulumi import, so it is tested
// directly and shared by the program and the operator commands.
import { isIP } from "node:net";
import { z } from "zod";
import { isEveryInterface, isLoopbackHost, normalizeDockerHost } from "./addresses";
import { IMAGE_DEFAULTS, MAX_PORTS_PER_RUNNER, workspaceDirProblem } from "./imageContract";

/** Docker's own networks, which a runner must not join: host shares the machine's network, none has no network. */
const DOCKER_SPECIAL_NETWORKS = ["host", "none"];

/** The seed's default token: every runner that used it could be hijacked by anyone who read the docs. */
export const INSECURE_DEFAULT_TOKEN = "oh-hallo-insecure-token";

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
};

export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** Whether runners open the reverse dial (rc8 control planes' VNC path): auto opens it and goes quiet where there is none. */
export const REVDIAL_MODES = ["auto", "on", "off"] as const;

/** What the config is read for: values that are not config but shape the defaults. */
export interface ConfigContext {
    /** The Pulumi stack name; part of the default container name prefix. */
    readonly stackName: string;
    /** The hostname of the machine running `pulumi up`; the default `hostName`. */
    readonly machineHostName: string;
}

/** Validated settings for one machine's runners. Never holds the API token. */
export interface RunnerSettings {
    readonly apiHost: string;
    readonly allowInsecureToken: boolean;
    readonly replicas: number;
    readonly hostName: string;
    readonly runnerIdPrefix: string;
    readonly containerNamePrefix: string;
    readonly concurrency: number;
    readonly maxTasks: number;
    /** Seconds a session may run; 0 is no limit. */
    readonly sessionTimeout: number;
    readonly workspaceDir: string;
    readonly logLevel: (typeof LOG_LEVELS)[number];
    readonly displayWidth: number;
    readonly displayHeight: number;
    /** A prebuilt image to run; undefined means build Dockerfile.zed-agent. */
    readonly image: string | undefined;
    readonly baseImage: string;
    readonly zedBuildDir: string;
    readonly restartPolicy: (typeof RESTART_POLICIES)[number];
    readonly bindAddress: string;
    /** Publish each runner's RDP and VNC ports on bindAddress; off, desktops are reached through the control plane only. */
    readonly publishDesktopPorts: boolean;
    readonly revdial: (typeof REVDIAL_MODES)[number];
    readonly rdpPortBase: number;
    readonly vncPortBase: number;
    readonly healthPortBase: number;
    readonly portsPerRunner: number;
    readonly memoryMb: number;
    readonly shmSizeMb: number;
    /** CPU limit per runner; undefined means no limit. */
    readonly cpus: number | undefined;
    readonly persistWorkspaces: boolean;
    /** Existing Docker networks every runner joins besides the stack's own. */
    readonly networks: readonly string[];
}

/** How to reach a remote host's Docker engine: what a `docker.Provider` needs. */
export interface DockerConnection {
    /** unix://, ssh:// or tcp:// address of the engine. */
    readonly host: string;
    /** Folder with ca.pem, cert.pem and key.pem, for tcp://. */
    readonly certPath?: string;
    /** Extra ssh options, for ssh://. */
    readonly sshOpts?: readonly string[];
}

/** One Docker host and the settings of the runners on it. */
export interface HostTarget {
    /** Unique within the stack; part of resource names and of default runner IDs. */
    readonly name: string;
    /** The remote engine; undefined for this machine's engine through Pulumi's default Docker provider. */
    readonly connection: DockerConnection | undefined;
    readonly settings: RunnerSettings;
}

/** The result of reading the stack config: settings, the token (to be wrapped as a secret at once) and warnings. */
export interface ParsedConfig {
    /** Top-level settings: the single host's when `hosts` is unset, the fleet's defaults otherwise. */
    readonly settings: RunnerSettings;
    /** Every host to run runners on: this machine alone when `hosts` is unset. */
    readonly hosts: readonly HostTarget[];
    readonly apiToken: string;
    readonly warnings: readonly string[];
}

/** Every problem with the stack config, reported at once. Messages never contain a secret's value. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(
            `Invalid stack config for zed-runner (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n") +
                "\nFix each with `pulumi config set <key> <value>` (`--secret` for apiToken) and run again.",
        );
        this.name = "ConfigError";
    }
}

/** Keys whose values must never appear in an error message or a log line. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["apiToken"]);

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

const integer = (min: number, max: number, what = "an integer") =>
    z.preprocess(
        asInteger,
        z
            .number({ error: `must be ${what} from ${min} to ${max}` })
            .int({ error: `must be ${what} from ${min} to ${max}` })
            .min(min, { error: `must be ${what} from ${min} to ${max}` })
            .max(max, { error: `must be ${what} from ${min} to ${max}` }),
    );
const port = integer(1, 65535, "a TCP port");
const flag = z.preprocess(asBoolean, z.boolean({ error: "must be true or false" }));

// Docker's reference grammar, simplified: [registry[:port]/]path[:tag][@digest], where a
// registry is told from a path by a '.', a port or the name localhost.
const IMAGE_REFERENCE =
    /^(?:(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|localhost)(?::\d+)?\/|[a-zA-Z0-9-]+:\d+\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const imageReference = z
    .string()
    .regex(IMAGE_REFERENCE, { error: "must be an image reference such as registry.example.com/helix-zed-agent:1.2.3" });

// Docker container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; runner IDs travel in a URL query string.
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const namePart = (max: number) =>
    z
        .string()
        .max(max, { error: `must be at most ${max} characters` })
        .regex(NAME, { error: "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'" });

export { isLoopbackHost } from "./addresses";

const apiHost = z.string().superRefine((value, ctx) => {
    // The URL parser would quietly drop a leading space or tab; the image writes the value into Zed's settings.
    if (/[\s"'\\<>`{}|^]/.test(value)) {
        ctx.addIssue({ code: "custom", message: "must be a URL without spaces, quotes, backslashes or control characters" });
        return;
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        ctx.addIssue({ code: "custom", message: "must be an http:// or https:// URL such as https://helix.example.com" });
        return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        ctx.addIssue({ code: "custom", message: "must use http:// or https://" });
    } else if (url.username || url.password) {
        ctx.addIssue({ code: "custom", message: "must not carry credentials; the runner authenticates with apiToken" });
    } else if (url.search || url.hash) {
        ctx.addIssue({ code: "custom", message: "must not have a query string or fragment" });
    } else if (isLoopbackHost(url.hostname)) {
        ctx.addIssue({
            code: "custom",
            message:
                "points at loopback, which inside a runner container is the container itself, so the runners would never connect. " +
                `For a control plane on this machine use http://host.docker.internal:${url.port || (url.protocol === "https:" ? 443 : 80)}; ` +
                "for one in Docker (such as Helix's docker-compose), set `networks` to its network and use its service name, e.g. http://api:8080",
        });
    }
});

const hostName = z
    .string()
    .max(63, { error: "must be at most 63 characters" })
    .regex(/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/, { error: "must be a host name (letters, digits, '.', '-')" });
const replicas = integer(0, 1000);
const bindAddress = z.string().refine((a) => isIP(a) !== 0, { error: "must be an IPv4 or IPv6 address such as 127.0.0.1" });
const portsPerRunner = integer(1, MAX_PORTS_PER_RUNNER);
const memoryMb = integer(256, 1_048_576, "a number of MB");
const shmSizeMb = integer(64, 65_536, "a number of MB");
const cpus = z.preprocess(
    asNumber,
    z
        .number({ error: "must be a number of CPUs from 0.01 to 1024" })
        .min(0.01, { error: "must be a number of CPUs from 0.01 to 1024" })
        .max(1024, { error: "must be a number of CPUs from 0.01 to 1024" }),
);

/** Where a host's Docker engine listens: a local socket, SSH, or TCP with TLS. */
const dockerHost = z
    .string()
    .regex(/^(unix:\/\/\/\S+|ssh:\/\/([^@\s/]+@)?[^@\s/:]+(:\d+)?|tcp:\/\/[^\s/:]+:\d+)$/, {
        error: "must be unix:///path/to/docker.sock, ssh://user@host[:port] or tcp://host:port",
    });

/** One Docker host of a fleet: its connection, its replicas, and overrides of the top-level settings. */
const hostEntry = z
    .object({
        name: hostName,
        dockerHost,
        certPath: z.string().regex(/^\/\S*$/, { error: "must be an absolute path to a folder with ca.pem, cert.pem and key.pem" }).optional(),
        sshOpts: z.array(z.string(), { error: "must be a list of ssh options" }).optional(),
        replicas,
        runnerIdPrefix: namePart(100).optional(),
        bindAddress: bindAddress.optional(),
        rdpPortBase: port.optional(),
        vncPortBase: port.optional(),
        healthPortBase: port.optional(),
        portsPerRunner: portsPerRunner.optional(),
        image: imageReference.optional(),
        memoryMb: memoryMb.optional(),
        shmSizeMb: shmSizeMb.optional(),
        cpus: cpus.optional(),
    })
    .strict()
    .superRefine((host, ctx) => {
        if (host.dockerHost.startsWith("tcp://") && !host.certPath) {
            ctx.addIssue({ code: "custom", path: ["certPath"], message: "is required with a tcp:// dockerHost: the Docker API over TCP must use TLS" });
        }
    });

const hosts = z.preprocess(
    asList,
    z
        .array(hostEntry, { error: "must be a list of hosts, each with name, dockerHost and replicas" })
        .min(1, { error: "must list at least one host, or be left unset for this machine alone" })
        .superRefine((list, ctx) => {
            // The same engine spelled two ways (unix:///var/run//docker.sock) is still the same engine.
            const keys = { name: (h: { name: string }) => h.name.toLowerCase(), dockerHost: (h: { dockerHost: string }) => normalizeDockerHost(h.dockerHost) };
            for (const field of ["name", "dockerHost"] as const) {
                const seen = new Map<string, number>();
                list.forEach((host, i) => {
                    const key = keys[field](host);
                    const first = seen.get(key);
                    if (first === undefined) seen.set(key, i);
                    else ctx.addIssue({ code: "custom", path: [i, field], message: `repeats hosts[${first}].${field}; each host needs its own` });
                });
            }
        }),
);

const schema = z
    .object({
        apiHost: apiHost.default("http://host.docker.internal:80"),
        apiToken: z.string({ error: "is not set: run `pulumi config set --secret apiToken <runner token>`" }),
        allowInsecureToken: flag.default(false),
        replicas: replicas.default(1),
        hostName: hostName.optional(),
        runnerIdPrefix: namePart(100).optional(),
        containerNamePrefix: namePart(100).optional(),
        concurrency: integer(1, 64).default(1),
        maxTasks: integer(0, 1_000_000).default(0),
        sessionTimeout: integer(0, 604_800, "a number of seconds (0 for no limit)").default(3600),
        workspaceDir: z
            .string()
            .regex(/^\/[A-Za-z0-9_.\/-]*$/, { error: "must be an absolute path made of letters, digits, '_', '.', '-' and '/'", abort: true })
            .superRefine((p, ctx) => {
                const problem = workspaceDirProblem(p);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .default(IMAGE_DEFAULTS.workspaceDir),
        logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
        displayWidth: integer(640, 7680).default(1920),
        displayHeight: integer(480, 4320).default(1080),
        image: imageReference.optional(),
        baseImage: imageReference.default("debian:bookworm-slim"),
        zedBuildDir: z
            .string()
            .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
                error: "must be a relative path inside this project (letters, digits, '_', '.', '-', '/')",
            })
            .refine((p) => !p.split("/").includes(".."), { error: "must stay inside this project: no '..'" })
            .default("zed-build"),
        restartPolicy: z
            .enum(RESTART_POLICIES, { error: `must be one of ${RESTART_POLICIES.join(", ")}` })
            .default("unless-stopped"),
        bindAddress: bindAddress.default("127.0.0.1"),
        publishDesktopPorts: flag.default(false),
        revdial: z.enum(REVDIAL_MODES, { error: `must be one of ${REVDIAL_MODES.join(", ")}` }).default("auto"),
        rdpPortBase: port.default(3389),
        vncPortBase: port.default(5900),
        healthPortBase: port.default(3030),
        portsPerRunner: portsPerRunner.default(1),
        memoryMb: integer(256, 1_048_576, "a number of MB").default(4096),
        shmSizeMb: integer(64, 65_536, "a number of MB").default(1024),
        cpus: z
            .preprocess(asNumber, z
                    .number({ error: "must be a number of CPUs from 0.01 to 1024" })
                    .min(0.01, { error: "must be a number of CPUs from 0.01 to 1024" })
                    .max(1024, { error: "must be a number of CPUs from 0.01 to 1024" }),
            )
            .optional(),
        persistWorkspaces: flag.default(false),
        networks: z
            .preprocess(
                asList,
                z
                    .array(namePart(128), { error: 'must be a list of Docker network names, e.g. ["helix_default"]' })
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
            )
            .default([]),
        hosts: hosts.optional(),
    })
    .strict();

/** The config keys this program reads, in the order Pulumi.yaml declares them. */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

/**
 * Keys Pulumi.yaml cannot declare: project config types are string, integer, boolean
 * and arrays of those, not lists of objects. The program validates them all the same.
 */
export const UNDECLARED_KEYS: readonly string[] = ["hosts"];

/** Raw values as Pulumi hands them to a program: strings, keyed without the `zed-runner:` prefix. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

/** A config path as users write it: hosts[1].replicas. */
export function formatPath(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** The value at `path` of what the program was given, for messages; never a secret's. */
function describeValue(path: readonly PropertyKey[], raw: RawConfig): string {
    const [key, ...rest] = path;
    if (SECRET_KEYS.has(String(key))) return "";
    let value: unknown = raw[String(key)];
    if (rest.length > 0) {
        try {
            value = JSON.parse(String(value));
        } catch {
            return "";
        }
        for (const p of rest) value = value === null || typeof value !== "object" ? undefined : (value as any)[p as any];
    }
    if (value === undefined || (typeof value === "object" && value !== null)) return "";
    const text = String(value);
    const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
    return ` (got ${JSON.stringify(typeof value === "string" ? shown : value)})`;
}

const HOST_KEYS = Object.keys(hostEntry.shape);

/** Parses and validates the stack config, throwing a ConfigError that lists every problem. */
export function parseConfig(raw: RawConfig, context: ConfigContext): ParsedConfig {
    // Empty strings are what `pulumi config set key ""` and Pulumi.yaml's `default: ""` give for "unset".
    const present: Record<string, string | undefined> = Object.fromEntries(
        Object.entries(raw).filter(([k, v]) => v !== undefined && (v !== "" || SECRET_KEYS.has(k))),
    );
    const removedProblems = Object.keys(present)
        .filter((k) => k in REMOVED_KEYS)
        .map((k) => {
            delete present[k];
            return `${k} ${REMOVED_KEYS[k]}`;
        });
    const result = schema.safeParse(present);
    if (!result.success) {
        const problems = result.error.issues.map((issue) => {
            if (issue.code === "unrecognized_keys") {
                const inHost = issue.path.length > 0;
                const known = inHost ? HOST_KEYS : CONFIG_KEYS;
                return issue.keys
                    .map((k) => `${formatPath([...issue.path, k])} is not a ${inHost ? "host" : "zed-runner config"} key; known keys: ${known.join(", ")}`)
                    .join("\n  - ");
            }
            return `${formatPath(issue.path)}${describeValue(issue.path, raw)} ${issue.message}`;
        });
        throw new ConfigError([...removedProblems, ...problems]);
    }
    const c = result.data;
    const problems: string[] = [...removedProblems];
    const warnings: string[] = [];

    if (c.apiToken.trim() !== "" && c.apiToken !== c.apiToken.trim() && c.apiToken.trim().toLowerCase() !== INSECURE_DEFAULT_TOKEN) {
        problems.push("apiToken has leading or trailing whitespace (a copy-paste slip?): the control plane compares the token byte for byte; set it again without it");
    }
    if (c.hosts && present.replicas !== undefined && present.replicas.trim() !== "1") {
        problems.push(`replicas (got ${JSON.stringify(present.replicas)}) has no effect when hosts is set: give each host its own replicas, and remove the top-level key`);
    }
    if (c.apiToken.trim() === "" || c.apiToken.trim().toLowerCase() === INSECURE_DEFAULT_TOKEN) {
        const what = c.apiToken.trim() === "" ? "is empty" : "is the insecure default from Helix's examples";
        if (c.allowInsecureToken) {
            warnings.push(`apiToken ${what}; accepted because allowInsecureToken is true. Never do this on a shared network.`);
        } else {
            problems.push(
                `apiToken ${what}: use the runner token your control plane is configured with, or set allowInsecureToken to true for a throwaway test`,
            );
        }
    }
    if (c.restartPolicy === "no" || c.restartPolicy === "on-failure") {
        warnings.push(
            `restartPolicy is ${c.restartPolicy}: a runner exits when its control-plane connection drops and relies on its restart policy to come back.`,
        );
    }
    if (problems.length > 0) throw new ConfigError(problems);

    const hostName = c.hostName ?? sanitizeHostName(context.machineHostName);
    const settings: RunnerSettings = {
        apiHost: c.apiHost.replace(/\/+$/, ""),
        allowInsecureToken: c.allowInsecureToken,
        replicas: c.replicas,
        hostName,
        runnerIdPrefix: c.runnerIdPrefix ?? `external-zed-${hostName}`,
        containerNamePrefix: c.containerNamePrefix ?? `helix-zed-agent-${context.stackName}`,
        concurrency: c.concurrency,
        maxTasks: c.maxTasks,
        sessionTimeout: c.sessionTimeout,
        workspaceDir: c.workspaceDir,
        logLevel: c.logLevel,
        displayWidth: c.displayWidth,
        displayHeight: c.displayHeight,
        image: c.image,
        baseImage: c.baseImage,
        zedBuildDir: c.zedBuildDir,
        restartPolicy: c.restartPolicy,
        bindAddress: c.bindAddress,
        publishDesktopPorts: c.publishDesktopPorts,
        revdial: c.revdial,
        rdpPortBase: c.rdpPortBase,
        vncPortBase: c.vncPortBase,
        healthPortBase: c.healthPortBase,
        portsPerRunner: c.portsPerRunner,
        memoryMb: c.memoryMb,
        shmSizeMb: c.shmSizeMb,
        cpus: c.cpus,
        persistWorkspaces: c.persistWorkspaces,
        networks: c.networks,
    };
    const hostTargets: HostTarget[] = c.hosts
        ? c.hosts.map((h) => ({
              name: h.name,
              connection: { host: h.dockerHost, certPath: h.certPath, sshOpts: h.sshOpts },
              settings: {
                  ...settings,
                  hostName: h.name,
                  replicas: h.replicas,
                  // A prefix set at the top level is shared by every host: keep IDs unique with the host's name.
                  runnerIdPrefix: h.runnerIdPrefix ?? (c.runnerIdPrefix ? `${c.runnerIdPrefix}-${h.name}` : `external-zed-${h.name}`),
                  bindAddress: h.bindAddress ?? settings.bindAddress,
                  rdpPortBase: h.rdpPortBase ?? settings.rdpPortBase,
                  vncPortBase: h.vncPortBase ?? settings.vncPortBase,
                  healthPortBase: h.healthPortBase ?? settings.healthPortBase,
                  portsPerRunner: h.portsPerRunner ?? settings.portsPerRunner,
                  image: h.image ?? settings.image,
                  memoryMb: h.memoryMb ?? settings.memoryMb,
                  shmSizeMb: h.shmSizeMb ?? settings.shmSizeMb,
                  cpus: h.cpus ?? settings.cpus,
              },
          }))
        : [{ name: hostName, connection: undefined, settings }];
    for (const host of hostTargets) {
        const where = c.hosts ? ` on host ${host.name}` : "";
        if (isEveryInterface(host.settings.bindAddress)) {
            warnings.push(
                `bindAddress is ${host.settings.bindAddress}${where}: every runner's RDP, VNC and health ports are published on every network interface of that machine. Firewall them or use 127.0.0.1.`,
            );
        }
    }
    return { settings, hosts: hostTargets, apiToken: c.apiToken, warnings };
}

/** Machine hostnames can hold characters a runner ID may not; keep the first label, made safe. */
export function sanitizeHostName(machineHostName: string): string {
    const label = machineHostName.split(".")[0].toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "");
    return label.slice(0, 63) || "localhost";
}
