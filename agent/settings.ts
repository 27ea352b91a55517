// The runner agent's settings, read once from the container's environment.
// The token and the initial passwords are taken out of the process environment
// here, so nothing the agent starts can inherit them. Ranges, choices and the
// control plane URL's rules come from the contract, as the stack config's do.
import { z } from "zod";
import {
    ENV,
    IMAGE_DEFAULTS,
    LENGTHS,
    LOG_LEVELS,
    type LogLevel,
    NAME_PATTERN,
    RANGES,
    REVDIAL_MODES,
    type Range,
    type RevdialMode,
    SECRET_ENV,
    SECRET_FILE_SUFFIX,
    type ApiHostUrlProblem,
    apiHostUrlProblem,
    deriveDesktopPasswords,
    trimApiHost,
    workspaceDirProblem,
} from "../contract";

export interface AgentSettings {
    /** The control plane's URL, path prefix kept, no trailing slash. */
    readonly apiHost: string;
    readonly apiToken: string;
    readonly runnerId: string;
    readonly rdpPassword: string;
    readonly vncPassword: string;
    readonly concurrency: number;
    /** Sessions before the agent stops taking work and exits 0; 0 is unlimited. */
    readonly maxTasks: number;
    /** Seconds a session may run; 0 is forever. */
    readonly sessionTimeout: number;
    readonly workspaceDir: string;
    readonly logLevel: LogLevel;
    readonly displayWidth: number;
    readonly displayHeight: number;
    /** Seconds Docker waits after SIGTERM before it kills the container. */
    readonly stopGraceSeconds: number;
    readonly revdial: RevdialMode;
}

/** The environment cannot work; every problem is listed, no secret's value is. */
export class SettingsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(problems.join("\n"));
        this.name = "SettingsError";
    }
}

const whole = (name: string, { min, max }: Range, fallback: number) =>
    z
        .string()
        .optional()
        .transform((v, ctx) => {
            if (v === undefined || v.trim() === "") return fallback;
            const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
            if (!Number.isSafeInteger(n) || n < min || n > max) {
                ctx.addIssue({
                    code: "custom",
                    message: `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`,
                });
                return z.NEVER;
            }
            return n;
        });

/** One of `values`, case-insensitive; `fallback` when unset or empty. */
const choice = <T extends string>(name: string, values: readonly T[], fallback: T) =>
    z
        .string()
        .optional()
        .transform((v, ctx) => {
            const value = (v === undefined || v === "" ? fallback : v.toLowerCase()) as T;
            if (!values.includes(value)) {
                ctx.addIssue({ code: "custom", message: `${name} must be one of ${values.join(", ")} (got ${JSON.stringify(v)})` });
                return z.NEVER;
            }
            return value;
        });

const required = (name: string, what: string) =>
    z.string({ error: `${name} is not set: ${what}` }).min(1, { error: `${name} is not set: ${what}` });

// The value is not echoed: a URL can carry credentials.
const API_HOST_MESSAGES = {
    "not-a-url": `${ENV.apiHost} must be an http:// or https:// URL`,
    "not-http": `${ENV.apiHost} must be an http:// or https:// URL`,
    credentials: `${ENV.apiHost} must not carry credentials; the runner authenticates with ${ENV.apiToken}`,
    "query-or-fragment": `${ENV.apiHost} must not have a query string or fragment`,
    port: `${ENV.apiHost} must have a port from 1 to 65535, or none for the scheme's own`,
} as const satisfies Record<ApiHostUrlProblem, string>;

const schema = z.object({
    [ENV.apiHost]: required(ENV.apiHost, "the URL of the Helix control plane, e.g. https://helix.example.com").superRefine((v, ctx) => {
        const { problem } = apiHostUrlProblem(v);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: API_HOST_MESSAGES[problem] });
    }),
    [ENV.apiToken]: required(
        ENV.apiToken,
        `the runner token configured on the control plane (or ${ENV.apiToken}${SECRET_FILE_SUFFIX}, a file holding it)`,
    ),
    [ENV.runnerId]: required(ENV.runnerId, "a name unique among this control plane's runners").refine(
        (v) => NAME_PATTERN.test(v) && v.length <= LENGTHS.runnerId.max,
        { error: `${ENV.runnerId} may hold only letters, digits, '_', '.' and '-', at most ${LENGTHS.runnerId.max} characters` },
    ),
    [ENV.rdpPassword]: required(
        ENV.rdpPassword,
        `the initial password of user zed, at least ${LENGTHS.rdpPassword.min} characters (or ${ENV.passwordSeed}${SECRET_FILE_SUFFIX})`,
    )
        .min(LENGTHS.rdpPassword.min, { error: `${ENV.rdpPassword} must be at least ${LENGTHS.rdpPassword.min} characters` })
        .refine((v) => !/[\x00-\x1f:]/.test(v), { error: `${ENV.rdpPassword} must not contain ':' or control characters` }),
    [ENV.vncPassword]: required(
        ENV.vncPassword,
        `the initial VNC password, ${LENGTHS.vncPassword.min} to 8 characters are used (or ${ENV.passwordSeed}${SECRET_FILE_SUFFIX})`,
    )
        .min(LENGTHS.vncPassword.min, { error: `${ENV.vncPassword} must be at least ${LENGTHS.vncPassword.min} characters` })
        .refine((v) => !/[\x00-\x1f]/.test(v), { error: `${ENV.vncPassword} must not contain control characters` }),
    [ENV.concurrency]: whole(ENV.concurrency, RANGES.concurrency, IMAGE_DEFAULTS.concurrency),
    [ENV.maxTasks]: whole(ENV.maxTasks, RANGES.maxTasks, IMAGE_DEFAULTS.maxTasks),
    [ENV.sessionTimeout]: whole(ENV.sessionTimeout, RANGES.sessionTimeout, IMAGE_DEFAULTS.sessionTimeout),
    [ENV.workspaceDir]: z
        .string()
        .optional()
        .transform((v, ctx) => {
            const dir = v === undefined || v === "" ? IMAGE_DEFAULTS.workspaceDir : v;
            const problem = workspaceDirProblem(dir);
            if (problem) {
                ctx.addIssue({ code: "custom", message: `${ENV.workspaceDir} ${problem} (got ${JSON.stringify(dir)})` });
                return z.NEVER;
            }
            return dir.replace(/\/+$/, "");
        }),
    [ENV.logLevel]: choice(ENV.logLevel, LOG_LEVELS, IMAGE_DEFAULTS.logLevel),
    [ENV.displayWidth]: whole(ENV.displayWidth, RANGES.displayWidth, IMAGE_DEFAULTS.displayWidth),
    [ENV.displayHeight]: whole(ENV.displayHeight, RANGES.displayHeight, IMAGE_DEFAULTS.displayHeight),
    [ENV.stopGraceSeconds]: whole(ENV.stopGraceSeconds, RANGES.stopGraceSeconds, IMAGE_DEFAULTS.stopGraceSeconds),
    [ENV.revdial]: choice(ENV.revdial, REVDIAL_MODES, IMAGE_DEFAULTS.revdial),
});

/** Parses the agent's settings from an environment; throws a SettingsError listing every problem. */
export function parseSettings(env: Readonly<Record<string, string | undefined>>): AgentSettings {
    const result = schema.safeParse(env);
    if (!result.success) throw new SettingsError(result.error.issues.map((i) => i.message));
    const e = result.data;
    return {
        apiHost: trimApiHost(e[ENV.apiHost]),
        apiToken: e[ENV.apiToken],
        runnerId: e[ENV.runnerId],
        rdpPassword: e[ENV.rdpPassword],
        vncPassword: e[ENV.vncPassword],
        concurrency: e[ENV.concurrency],
        maxTasks: e[ENV.maxTasks],
        sessionTimeout: e[ENV.sessionTimeout],
        workspaceDir: e[ENV.workspaceDir],
        logLevel: e[ENV.logLevel],
        displayWidth: e[ENV.displayWidth],
        displayHeight: e[ENV.displayHeight],
        stopGraceSeconds: e[ENV.stopGraceSeconds],
        revdial: e[ENV.revdial],
    };
}

/** Reads a secret file; throws with the path and the reason, never the content. */
export type SecretFileReader = (path: string) => string;

/**
 * The environment with every secret in place: `<NAME>_FILE` read into NAME (a trailing
 * newline dropped, as `echo secret | docker secret create` leaves one), and the initial
 * desktop passwords derived from DESKTOP_PASSWORD_SEED and RUNNER_ID when not given.
 * Problems are listed like parseSettings's, without a secret's value.
 */
export function resolveSecretEnv(
    env: Readonly<Record<string, string | undefined>>,
    readFile: SecretFileReader,
): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = { ...env };
    const problems: string[] = [];
    for (const name of SECRET_ENV) {
        const fileName = `${name}${SECRET_FILE_SUFFIX}`;
        const file = env[fileName];
        delete out[fileName];
        if (file === undefined || file === "") continue;
        if (env[name] !== undefined && env[name] !== "") {
            problems.push(`${name} and ${fileName} are both set: give the secret one way only`);
            continue;
        }
        let value: string;
        try {
            value = readFile(file).replace(/\r?\n$/, "");
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            problems.push(`${fileName} names ${JSON.stringify(file)}, which cannot be read${code ? ` (${code})` : ""}`);
            continue;
        }
        if (value === "") problems.push(`${fileName} names ${JSON.stringify(file)}, which is empty`);
        else out[name] = value;
    }
    const seed = out[ENV.passwordSeed];
    const runnerId = out[ENV.runnerId];
    if (problems.length === 0 && seed && runnerId) {
        const derived = deriveDesktopPasswords(seed, runnerId);
        if (!out[ENV.rdpPassword]) out[ENV.rdpPassword] = derived.rdpPassword;
        if (!out[ENV.vncPassword]) out[ENV.vncPassword] = derived.vncPassword;
    }
    delete out[ENV.passwordSeed];
    if (problems.length > 0) throw new SettingsError(problems);
    return out;
}

/** Removes the secrets from `env` (the process's own), so no child can inherit them. */
export function takeSecretsOut(env: Record<string, string | undefined>, names: readonly string[]): void {
    for (const name of names) delete env[name];
}
