// Stack config for zed-runner: the one place where every `zed-runner:*` key is
// parsed, defaulted and validated, for the program and the operator commands
// alike. Each key is checked on its own, so every problem is found in one pass:
// an invalid value stands in as its default for the checks that follow, the
// runner plan's port clashes included. Messages name the key, the value (never
// a secret's, and URLs without their credentials) and what is allowed. Pure.
import { ConfigContext, DockerConnection, PlacementTarget, RunnerSettings, resolvePlacement, resolveSettings } from "./placements/resolve";
import {
    CONFIG_KEYS,
    DOCKER_PROVIDER_SCHEMAS,
    HOST_KEYS,
    KEY_SCHEMAS,
    REMOVED_KEYS,
    SECRET_KEYS,
    SWARM_KEYS,
    StackValues,
    WORKLOAD_DEFAULTED_KEYS,
} from "./config/schema";
import { INSECURE_DEFAULT_TOKEN } from "../contract";
import { configWarnings, insecureTokenWarning, namespaceWarnings } from "./config/warnings";
import { Placement, RunnerWorkload, SandboxPlacement, SandboxWorkload, placedHosts } from "./placements/placement";
import { DEFAULT_PROJECT, PlanContext, PlanError, planFleet } from "./runner/plan";
import { SANDBOX_SWARM_REFUSAL, planSandboxPlacement, workloadKeyProblems } from "./sandbox/config";
import { planSwarm } from "./runner/swarmPlan";

export { sanitizeHostName } from "./placements/resolve";
export type { ConfigContext, HostTarget, RunnerSettings, SwarmTarget } from "./placements/resolve";
export { CONFIG_KEYS, SECRET_KEYS, UNDECLARED_KEYS, WORKLOAD_DEFAULTED_KEYS } from "./config/schema";

/** Raw values as Pulumi hands them to a program: strings, keyed without the `zed-runner:` prefix. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

/** How the values were handed over, beyond their text. */
export interface ReadOptions {
    /** Keys set with `--secret`: their values are shown as [secret]. */
    readonly secretKeys?: ReadonlySet<string>;
    /** Secret keys whose values could not be read (encrypted stack file, no passphrase): present, not checked. */
    readonly unreadableKeys?: ReadonlySet<string>;
    /**
     * The stack's `docker:*` keys without the prefix (host, certPath, sshOpts): the engine
     * Pulumi's default Docker provider puts the local placement's runners on, and a swarm's
     * without a manager. The commands pass them, to use that engine; the program does not,
     * so that placement stays on the default provider, which already reads them.
     */
    readonly dockerConfig?: RawConfig;
    /** Every key set in another namespace, in full (namespace:key): ones that look like ours are warned about. */
    readonly otherKeys?: readonly string[];
}

/** What every stack's parsed config has, whatever its workload. */
interface ParsedCommon {
    /**
     * Top-level settings: the single host's when `hosts` is unset, the fleet's or the swarm's defaults
     * otherwise. A sandbox stack reads only apiHost from them; its hosts carry their SandboxSettings.
     */
    readonly settings: RunnerSettings;
    readonly apiToken: string;
    /** The registry's password, to be wrapped as a secret at once. */
    readonly registryPassword: string | undefined;
    readonly warnings: readonly string[];
}

/** A runner stack: runners on this machine, on every listed host, or as a swarm service. */
export interface RunnerDeployment extends ParsedCommon {
    readonly workload: RunnerWorkload;
    /** Where the runners go, with the plan of every host or of the swarm service, computed once. */
    readonly placement: Placement;
}

/** A sandbox stack: Helix sandboxes on this machine or on every listed host, never a swarm. */
export interface SandboxDeployment extends ParsedCommon {
    readonly workload: SandboxWorkload;
    /** Where the sandboxes go, with every host's sandboxes planned, computed once. */
    readonly placement: SandboxPlacement;
}

/**
 * The result of reading the stack config: settings, what runs and where (planned: the workload
 * decides what each host carries), the token (to be wrapped as a secret at once) and warnings.
 */
export type ParsedConfig = RunnerDeployment | SandboxDeployment;

/**
 * The parsed config narrowed by its workload. TypeScript narrows a union by a property of its own,
 * not by a property of a property (`config.workload.kind`): this is the one place that does it.
 */
export type WorkloadCase =
    { readonly kind: "runner"; readonly config: RunnerDeployment } | { readonly kind: "sandbox"; readonly config: SandboxDeployment };

function isSandboxDeployment(config: ParsedConfig): config is SandboxDeployment {
    return config.workload.kind === "sandbox";
}

/** The parsed config as its workload's case: switch on `kind`, and each case has its own placement type. */
export function workloadCase(config: ParsedConfig): WorkloadCase {
    return isSandboxDeployment(config) ? { kind: "sandbox", config } : { kind: "runner", config };
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

/**
 * The longest value any key may have. The longest real one, a hosts list, takes about
 * 120 characters a host: this leaves room for a thousand. A longer value is refused
 * before any pattern or parser sees it, so no check's cost can grow with a value's size.
 */
export const MAX_VALUE_CHARS = 128 * 1024;

/** A config path as users write it: hosts[1].replicas. */
function formatPath(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** A value as a message may show it: a URL's credentials and query masked, long text cut. */
export function maskValue(text: string): string {
    // Both patterns start at a literal ("://", "?" or "#") and stop at the next '/', '@' or
    // space, so each character is looked at a bounded number of times: linear in the text.
    // (The scheme before "://" is kept as it is, not matched: a pattern that started with
    // the scheme's letters tried every letter of a long value as a scheme, which is
    // quadratic: a 1 MB value took tens of minutes to mask.)
    const masked = text.replace(/:\/\/([^/\s:@]*):[^/\s@]*@/g, "://$1:***@").replace(/([?#])[^\s"]*/g, "$1***");
    return masked.length > 80 ? `${masked.slice(0, 77)}...` : masked;
}

/** " (got ...)" for the value at `path`, or "" for a secret or a structured value. */
function describeValue(path: readonly PropertyKey[], raw: RawConfig, secretKeys: ReadonlySet<string>): string {
    const [key, ...rest] = path;
    if (SECRET_KEYS.has(String(key))) return "";
    if (secretKeys.has(String(key))) return " (got [secret])";
    let value: unknown = raw[String(key)];
    if (rest.length > 0) {
        try {
            value = JSON.parse(String(value));
        } catch {
            return "";
        }
        for (const p of rest) value = value === null || typeof value !== "object" ? undefined : (value as Record<PropertyKey, unknown>)[p];
    }
    if (value === undefined || (typeof value === "object" && value !== null)) return "";
    return ` (got ${JSON.stringify(typeof value === "string" ? maskValue(value) : value)})`;
}

interface KeyIssue {
    readonly code: string;
    readonly path: PropertyKey[];
    readonly message: string;
    readonly keys?: string[];
}
type KeySchema = { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: KeyIssue[] } } };

/** One key checked alone: its value, or its default (undefined when it has none) and the problems. */
function checkKey(
    key: string,
    present: Record<string, string>,
    raw: RawConfig,
    secretKeys: ReadonlySet<string>,
): { value: unknown; problems: string[] } {
    const schema = (KEY_SCHEMAS as Record<string, KeySchema>)[key];
    const result = schema.safeParse(present[key]);
    if (result.success) return { value: result.data, problems: [] };
    const problems = result.error.issues.map((issue) => {
        const path = [key, ...issue.path];
        if (issue.code === "unrecognized_keys") {
            const [what, known] = key === "swarm" ? ["swarm", SWARM_KEYS] : ["host", HOST_KEYS];
            return (issue.keys ?? [])
                .map((k) => `${formatPath([...path, k])} is not a ${what} key; known keys: ${known.join(", ")}`)
                .join("\n  - ");
        }
        return `${formatPath(path)}${describeValue(path, raw, secretKeys)} ${issue.message}`;
    });
    const fallback = schema.safeParse(undefined);
    return { value: fallback.success ? fallback.data : undefined, problems };
}

interface Checked {
    readonly values: StackValues;
    /**
     * The keys the stack sets to something other than their default, as given. Pulumi hands the
     * program every default Pulumi.yaml declares as if the stack set it, so a key at its default
     * is not told from an unset one: which workload a key belongs to is judged by these. Keys
     * Pulumi.yaml gives no default (WORKLOAD_DEFAULTED_KEYS) are here whenever they are set.
     */
    readonly explicit: Readonly<Record<string, string>>;
    readonly problems: string[];
    readonly token: string | undefined;
    /** What is insecure about a token accepted through allowInsecureToken. */
    readonly insecureToken: string | undefined;
}

/** Every key's own checks and the checks across keys, without the plan. */
function check(raw: RawConfig, context: ReadOptions): Checked {
    const secretKeys = context.secretKeys ?? new Set<string>();
    const unreadable = context.unreadableKeys ?? new Set<string>();
    // Empty strings are what `pulumi config set key ""` and Pulumi.yaml's `default: ""` give for "unset".
    const present: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (v !== undefined && (v !== "" || SECRET_KEYS.has(k))) present[k] = v;

    const problems: string[] = [];
    for (const key of Object.keys(present)) {
        if (Object.prototype.hasOwnProperty.call(REMOVED_KEYS, key)) problems.push(`${key} ${REMOVED_KEYS[key]}`);
        else if (!CONFIG_KEYS.includes(key))
            problems.push(`${maskValue(key)} is not a zed-runner config key; known keys: ${CONFIG_KEYS.join(", ")}`);
    }
    const values: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) {
        if (unreadable.has(key) && present[key] !== undefined) {
            // Present but encrypted: nothing to check; it stands as the placeholder it was given as.
            values[key] = present[key];
            continue;
        }
        if (present[key] !== undefined && present[key].length > MAX_VALUE_CHARS) {
            problems.push(
                `${key}${describeValue([key], raw, secretKeys)} is ${present[key].length} characters long; ` +
                    `a value may have at most ${MAX_VALUE_CHARS}`,
            );
            const fallback = (KEY_SCHEMAS as Record<string, KeySchema>)[key].safeParse(undefined);
            values[key] = fallback.success ? fallback.data : undefined;
            continue;
        }
        const checked = checkKey(key, present, raw, secretKeys);
        values[key] = checked.value;
        problems.push(...checked.problems);
    }
    const c = values as StackValues;
    const token = typeof c.apiToken === "string" ? c.apiToken : undefined;

    let insecureToken: string | undefined;
    if (token !== undefined && !unreadable.has("apiToken")) {
        const example = token.trim().toLowerCase() === INSECURE_DEFAULT_TOKEN;
        if (token.trim() !== "" && token !== token.trim() && !example) {
            problems.push(
                "apiToken has leading or trailing whitespace (a copy-paste slip?): the control plane compares the token byte for byte; set it again without it",
            );
        }
        if (token.trim() === "" || example) {
            const what = token.trim() === "" ? "is empty" : "is the insecure default from Helix's examples";
            if (c.allowInsecureToken) insecureToken = what;
            else
                problems.push(
                    `apiToken ${what}: use the runner token your control plane is configured with, or set allowInsecureToken to true for a throwaway test`,
                );
        }
    }
    if (c.hosts && present.replicas !== undefined && present.replicas.trim() !== "1") {
        problems.push(
            `replicas (got ${JSON.stringify(present.replicas)}) has no effect when hosts is set: give each host its own replicas, and remove the top-level key`,
        );
    }
    problems.push(...targetProblems(c, present));
    const explicit = Object.fromEntries(
        Object.entries(present).filter(
            ([key]) => CONFIG_KEYS.includes(key) && (WORKLOAD_DEFAULTED_KEYS.includes(key) || !isDefault(key, values[key])),
        ),
    );
    problems.push(...workloadKeyProblems(c.workload, explicit, c.hosts));
    return { values: c, explicit, problems, token, insecureToken };
}

/** Whether `value` is `key`'s default (Pulumi.yaml declares the same: test/pulumiYaml.test.ts). */
function isDefault(key: string, value: unknown): boolean {
    const fallback = (KEY_SCHEMAS as Record<string, KeySchema>)[key].safeParse(undefined);
    return fallback.success && fallback.data !== undefined && JSON.stringify(fallback.data) === JSON.stringify(value);
}

/** What cannot go together among the keys that choose where runners go. */
function targetProblems(c: StackValues, present: Record<string, string>): string[] {
    // (c.swarm stands in as undefined when its value was invalid.)
    const problems: string[] = [];
    const registryKeys = (["registry", "registryUsername", "registryPassword"] as const).filter((k) => present[k] !== undefined);
    if (c.workload === "sandbox") {
        // A sandbox stack is never on a swarm, so the swarm's own checks say nothing useful.
        if (present.swarm !== undefined) problems.push(SANDBOX_SWARM_REFUSAL);
        for (const key of registryKeys) {
            problems.push(`${key} is read only by the runner workload on a swarm; remove it (a sandbox pulls Helix's image itself)`);
        }
        return problems;
    }
    // A swarm value that is present but invalid is its own problem: not "no swarm".
    if (present.swarm === undefined) {
        for (const key of registryKeys) {
            problems.push(`${key} is read only with swarm (its nodes pull the runner image from a registry); remove it, or set swarm`);
        }
        return problems;
    }
    if (c.hosts)
        problems.push(
            "swarm and hosts are two ways to place runners: set one of them (`pulumi config rm hosts` or `pulumi config rm swarm`)",
        );
    if (present.image === undefined && present.registry === undefined) {
        problems.push(
            "swarm needs an image every node can pull: set registry (the image is built here and pushed there, e.g. registry.example.com:5000) " +
                "or image (a prebuilt runner image, e.g. registry.example.com/helix-zed-agent@sha256:...)",
        );
    }
    if (present.image !== undefined && present.registry !== undefined) {
        problems.push(
            "image and registry both set: image is pulled as it is, registry is where the image built here is pushed; set one (registryUsername and registryPassword work with either)",
        );
    }
    if ((present.registryUsername === undefined) !== (present.registryPassword === undefined)) {
        problems.push(
            "registryUsername and registryPassword go together: set both (the password with --secret), or neither for a registry without login",
        );
    }
    if (/^https?:\/\/host\.docker\.internal([:/]|$)/i.test(c.apiHost)) {
        problems.push(
            `apiHost (got ${JSON.stringify(c.apiHost)}) is host.docker.internal, which on a swarm is each node itself, not the control plane: ` +
                "set the control plane's URL as every node reaches it, e.g. https://helix.example.com",
        );
    }
    return problems;
}

/** The default provider's engine from the stack's `docker:*` keys, each checked; undefined without docker:host. */
function localEngine(dockerConfig: RawConfig, problems: string[]): DockerConnection | undefined {
    const values: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(DOCKER_PROVIDER_SCHEMAS) as [string, KeySchema][]) {
        const text = dockerConfig[key];
        if (text !== undefined && text.length > MAX_VALUE_CHARS) {
            problems.push(`docker:${key} is ${text.length} characters long; a value may have at most ${MAX_VALUE_CHARS}`);
            continue;
        }
        const result = schema.safeParse(text === "" ? undefined : text);
        if (result.success) values[key] = result.data;
        else
            for (const issue of result.error.issues) {
                const shown = issue.path.length === 0 && text !== undefined ? ` (got ${JSON.stringify(maskValue(text))})` : "";
                problems.push(`${formatPath([`docker:${key}`, ...issue.path])}${shown} ${issue.message}`);
            }
    }
    if (typeof values.host !== "string") return undefined;
    return { host: values.host, certPath: values.certPath as string | undefined, sshOpts: values.sshOpts as string[] | undefined };
}

/** The top-level settings, every key checked; throws a ConfigError. The runner plan is not checked here. */
export function parseSettings(raw: RawConfig, context: ConfigContext & ReadOptions): RunnerSettings {
    const { values, problems } = check(raw, context);
    if (problems.length > 0) throw new ConfigError(problems);
    return resolveSettings(values, context);
}

/** Parses and validates the stack config, throwing a ConfigError that lists every problem, plan problems included. */
export function parseConfig(raw: RawConfig, context: ConfigContext & ReadOptions): ParsedConfig {
    const { values: c, explicit, problems, token, insecureToken } = check(raw, context);
    const settings = resolveSettings(c, context);
    const engine = context.dockerConfig ? localEngine(context.dockerConfig, problems) : undefined;
    const planContext = { project: context.project ?? DEFAULT_PROJECT, stackName: context.stackName };
    if (c.workload === "sandbox") {
        // A swarm is refused by check(): the sandbox placement is this machine or the listed hosts.
        const planned = planSandboxPlacement(c, explicit, settings, context, engine, planContext);
        problems.push(...planned.problems);
        if (problems.length > 0 || planned.placement === undefined) throw new ConfigError(problems);
        const tokenWarning = insecureTokenWarning(insecureToken);
        return {
            settings,
            placement: planned.placement,
            workload: { kind: "sandbox" },
            apiToken: token ?? "",
            registryPassword: undefined,
            warnings: [...namespaceWarnings(context.otherKeys ?? []), ...(tokenWarning ? [tokenWarning] : []), ...planned.warnings],
        };
    }
    const target = resolvePlacement(c, settings, engine);
    let placement: Placement | undefined;
    try {
        placement = planPlacement(target, planContext);
    } catch (err) {
        if (!(err instanceof PlanError)) throw err;
        problems.push(...err.problems);
    }
    if (problems.length > 0 || placement === undefined) throw new ConfigError(problems);
    return {
        settings,
        placement,
        workload: { kind: "runner" },
        apiToken: token ?? "",
        registryPassword: c.registryPassword,
        warnings: [...namespaceWarnings(context.otherKeys ?? []), ...configWarnings(c, placedHosts(placement), insecureToken)],
    };
}

/** The placement with its runners planned: each host's, or the swarm service's. Throws a PlanError. */
function planPlacement(target: PlacementTarget, context: PlanContext): Placement {
    switch (target.kind) {
        case "local": {
            const [plan] = planFleet([target.host], context);
            return { kind: "local", host: { ...target.host, runners: plan.runners } };
        }
        case "hosts": {
            const plans = planFleet(target.hosts, context);
            return { kind: "hosts", hosts: target.hosts.map((host, i) => ({ ...host, runners: plans[i].runners })) };
        }
        case "swarm":
            return { kind: "swarm", target: target.target, plan: planSwarm(target.target, context) };
        default: {
            const never: never = target;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}
