// The `zed-runner:*` stack config, key by key: each key parsed, defaulted and validated on its
// own, so every problem is found in one pass (an invalid value stands in as its default for the
// checks that follow), then the checks across keys that hold whatever the workload. Messages
// name the key, the value (never a secret's, and URLs without their credentials) and what is
// allowed. What a workload adds (its own keys, its plan) is its record's (components/workloads.ts);
// components/stackPlan.ts puts the two together. Pure: no Pulumi or Docker import.
import { apiTokenProblems, maskValue, printable } from "../../contract";
import {
    CONFIG_KEYS,
    HOST_KEYS,
    KEY_SCHEMAS,
    REMOVED_KEYS,
    SECRET_KEYS,
    SWARM_KEYS,
    type StackValues,
    WORKLOAD_DEFAULTED_KEYS,
} from "./schema";

/** What the config is read for: values that are not config but shape the defaults. */
export interface ConfigContext {
    /** The Pulumi stack name; part of the default container name prefix. */
    readonly stackName: string;
    /** The hostname of the machine running `pulumi up`; the default `hostName`. */
    readonly machineHostName: string;
    /** The Pulumi project, written into the plan's labels. Defaults to DEFAULT_PROJECT (Pulumi.yaml's name). */
    readonly project?: string;
}

/** Machine hostnames can hold characters an ID may not; keep the first label, made safe. */
export function sanitizeHostName(machineHostName: string): string {
    const label = machineHostName
        .split(".")[0]
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/^-+|-+$/g, "");
    return label.slice(0, 63) || "localhost";
}

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

/** Every problem with the stack config, reported at once. Messages never contain a secret's value. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        // printable: a problem quotes what the user typed, which may hold terminal escapes.
        super(
            printable(
                `Invalid stack config for zed-runner (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                    problems.map((p) => `  - ${p}`).join("\n") +
                    "\nFix each with `pulumi config set <key> <value>` (`--secret` for apiToken) and run again.",
            ),
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
export function formatPath(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
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
export type KeySchema = { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: KeyIssue[] } } };

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

/** The values checked key by key, and what the checks across keys need to know of them. */
export interface Checked {
    readonly values: StackValues;
    /** The keys the stack sets (not empty), as given. */
    readonly present: Readonly<Record<string, string>>;
    /**
     * The keys the stack sets to something other than their default, as given. Pulumi hands the
     * program every default Pulumi.yaml declares as if the stack set it, so a key at its default
     * is not told from an unset one: which workload a key belongs to is judged by these. Keys
     * Pulumi.yaml gives no default (WORKLOAD_DEFAULTED_KEYS), and keys set to a value their check
     * refused, are here whenever they are set.
     */
    readonly explicit: Readonly<Record<string, string>>;
    readonly problems: string[];
    readonly token: string | undefined;
    /** What is insecure about a token accepted through allowInsecureToken. */
    readonly insecureToken: string | undefined;
    /** The top-level host name: the stack's hostName, else this machine's, made safe. */
    readonly hostName: string;
}

/**
 * Every key's own checks and the checks across keys that hold for every workload (the token,
 * replicas beside hosts); the workload's own come from its record (components/stackPlan.ts).
 */
export function check(raw: RawConfig, context: ReadOptions & Pick<ConfigContext, "machineHostName">): Checked {
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
    // Keys set to a value their check refused: set all the same, so never reported as unset too.
    const refused = new Set<string>();
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
            refused.add(key);
            continue;
        }
        const checked = checkKey(key, present, raw, secretKeys);
        values[key] = checked.value;
        problems.push(...checked.problems);
        if (checked.problems.length > 0) refused.add(key);
    }
    const c = values as StackValues;
    const token = typeof c.apiToken === "string" ? c.apiToken : undefined;

    let insecureToken: string | undefined;
    if (token !== undefined && !unreadable.has("apiToken")) {
        const checked = apiTokenProblems(token, "apiToken", c.allowInsecureToken === true);
        problems.push(...checked.problems);
        insecureToken = checked.insecure;
    }
    if (c.hosts && present.replicas !== undefined && present.replicas.trim() !== "1") {
        problems.push(
            `replicas (got ${JSON.stringify(present.replicas)}) has no effect when hosts is set: give each host its own replicas, and remove the top-level key`,
        );
    }
    const explicit = Object.fromEntries(
        Object.entries(present).filter(
            ([key]) =>
                CONFIG_KEYS.includes(key) &&
                (refused.has(key) || (WORKLOAD_DEFAULTED_KEYS as readonly string[]).includes(key) || !isDefault(key, values[key])),
        ),
    );
    const hostName = c.hostName ?? sanitizeHostName(context.machineHostName);
    return { values: c, present, explicit, problems, token, insecureToken, hostName };
}

/** Whether `value` is `key`'s default (Pulumi.yaml declares the same: test/pulumiYaml.test.ts). */
function isDefault(key: string, value: unknown): boolean {
    const fallback = (KEY_SCHEMAS as Record<string, KeySchema>)[key].safeParse(undefined);
    return fallback.success && fallback.data !== undefined && JSON.stringify(fallback.data) === JSON.stringify(value);
}
