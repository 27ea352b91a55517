// `npm run import-env -- PATH [--stack NAME] [--set-token]` (PATH from the folder npm ran in): moves the settings of Helix's
// runner script env file (scripts/external-zed-agent.env), or of the sandbox.sh Helix's
// `install.sh --sandbox` writes (cli/sandboxScript.ts), into Pulumi.<stack>.yaml, keeping
// what the stack file already has. Validates like the program; writes nothing on an error.
// The token is never written in plain text.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseEnv } from "dotenv";
import { ConfigError, parseConfig } from "../components/stackPlan";
import { INSECURE_DEFAULT_TOKEN, isLoopbackHost } from "../contract";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { readTextFile, readYamlFile, shown } from "./lib/files";
import { Prompt, terminalPrompt } from "./lib/prompt";
import { PulumiCli, findPulumiCli, setSecretConfig } from "./lib/pulumiCli";
import { isSandboxScript, mapSandboxScript, readSandboxScript } from "./sandboxScript";
import {
    DEFAULT_STACK,
    PROJECT,
    PROJECT_ROOT,
    SECRET_PLACEHOLDER,
    UserError,
    readStackConfig,
    runCommand,
    stackFilePath,
    writeStackConfig,
} from "./stackFiles";
import { TOKEN_ENV } from "./deploy";

/** Env variables that become a config key, with how the value changes on the way. */
const MAPPED: Record<string, { key: string; note?: (value: string) => string | undefined; value?: (value: string) => string }> = {
    API_HOST: {
        key: "apiHost",
        value: (v) => (isLoopbackHost(new URL(v).hostname) ? v.replace(/^(https?:\/\/)(\[[^\]]*\]|[^/:]+)/, "$1host.docker.internal") : v),
        note: (v) => {
            try {
                return isLoopbackHost(new URL(v).hostname)
                    ? `${v} is loopback, which inside a runner container is the container itself: imported as host.docker.internal`
                    : undefined;
            } catch {
                return undefined;
            }
        },
    },
    RUNNER_ID: { key: "runnerIdPrefix", note: (v) => `runner IDs become ${v}-1, ${v}-2, ...` },
    CONTAINER_NAME: { key: "containerNamePrefix", note: (v) => `containers become ${v}-1, ${v}-2, ...` },
    CONCURRENCY: { key: "concurrency" },
    MAX_TASKS: { key: "maxTasks" },
    SESSION_TIMEOUT: { key: "sessionTimeout" },
    WORKSPACE_DIR: { key: "workspaceDir" },
    DISPLAY_WIDTH: { key: "displayWidth" },
    DISPLAY_HEIGHT: { key: "displayHeight" },
    LOG_LEVEL: { key: "logLevel" },
    DOCKER_IMAGE: { key: "image" },
};

/** Env variables with no config key, and why. */
const NOT_MAPPED: Record<string, string> = {
    DISPLAY_NUM: "the image always uses display :1",
    ZED_BINARY: "the image puts Zed at /usr/local/bin/zed; set zedBuildDir to choose the binary it is built with",
    RUST_LOG: "not configurable; logLevel sets the runner's LOG_LEVEL",
    RDP_PASSWORD: "generated per runner; see `pulumi stack output credentials --show-secrets`",
    VNC_PASSWORD: "generated per runner; see `pulumi stack output credentials --show-secrets`",
    RDP_USER: "always zed",
    RDP_START_PORT: "set the host ports with rdpPortBase",
    VNC_PORT: "set the host ports with vncPortBase",
    MAX_SESSIONS: "no longer used: concurrency caps live sessions and maxTasks the sessions before a runner restarts",
};

/** The seed's locally built image: this program builds its own instead of pulling that name. */
const SEED_LOCAL_IMAGE = "helix-zed-agent:latest";

export interface ImportResult {
    /** config key -> value to write. */
    readonly written: Record<string, string>;
    /** config keys the stack file already set, left as they are. */
    readonly kept: string[];
    readonly notes: string[];
    /** Env variables not imported, with the reason. */
    readonly skipped: { name: string; reason: string }[];
    readonly hasToken: boolean;
}

/** Maps an env file's variables to config; pure apart from reading nothing. */
export function mapEnv(env: Record<string, string>, existingKeys: ReadonlySet<string>): ImportResult {
    const written: Record<string, string> = {};
    const kept: string[] = [];
    const notes: string[] = [];
    const skipped: { name: string; reason: string }[] = [];
    for (const [name, value] of Object.entries(env)) {
        if (name === "API_TOKEN") continue;
        if (name === "DOCKER_IMAGE" && value === SEED_LOCAL_IMAGE) {
            skipped.push({
                name,
                reason: `${SEED_LOCAL_IMAGE} is the script's locally built image: this program builds Dockerfile.zed-agent itself`,
            });
            continue;
        }
        const mapping = MAPPED[name];
        if (!mapping) {
            skipped.push({ name, reason: NOT_MAPPED[name] ?? "not a setting of Helix's runner script" });
            continue;
        }
        if (existingKeys.has(mapping.key)) {
            kept.push(mapping.key);
            continue;
        }
        let converted = value;
        try {
            converted = mapping.value ? mapping.value(value) : value;
        } catch {
            // Left as it is: validation reports it with the key's rules.
        }
        written[mapping.key] = converted;
        const note = mapping.note?.(value);
        if (note) notes.push(`${name}: ${note}`);
    }
    return { written, kept, notes, skipped, hasToken: (env.API_TOKEN ?? "") !== "" };
}

/** Tokens the seed's example files and shell habits leave where the real one belongs. */
const PLACEHOLDER_TOKENS = new Set(["your-runner-token-here", "changeme", "change-me", "token", "xxx", INSECURE_DEFAULT_TOKEN]);

/** Why an API_TOKEN value is not a real token, or undefined when it may be one. Never returns the value. */
export function placeholderToken(value: string): string | undefined {
    const v = value.trim();
    // dotenv does not expand variables: `$VAR` and `${X:-default}` arrive as written.
    if (/\$\{?[A-Za-z_]/.test(v)) return "a shell variable that is never expanded in an env file";
    if (PLACEHOLDER_TOKENS.has(v.toLowerCase()) || /^your[-_].*[-_]here$/i.test(v) || /^<.*>$/.test(v))
        return "the example file's placeholder, not a runner token";
    return undefined;
}

export const IMPORT_ENV: CommandSpec = {
    name: "import-env",
    summary:
        "Moves the settings of Helix's runner script env file (scripts/external-zed-agent.env), or of the sandbox.sh that Helix's `install.sh --sandbox` writes (a sandbox stack), into Pulumi.<stack>.yaml, keeping what the file already has; validates like the program and writes nothing on an error. The token is never written in plain text.",
    positionals: [
        {
            name: "PATH",
            required: true,
            description: "the env file or sandbox.sh, relative to the folder you run npm in",
        },
    ],
    options: {
        stack: { type: "string", valueName: "NAME", description: `the stack to write (default ${DEFAULT_STACK})` },
        "set-token": {
            type: "boolean",
            description: "store API_TOKEN (sandbox.sh: RUNNER_TOKEN) as the stack's secret apiToken through the Pulumi CLI",
        },
    },
};

/** Env variable names by config key, so a problem is named where the operator fixes it. */
const ENV_NAME_OF: Record<string, string> = Object.fromEntries(Object.entries(MAPPED).map(([name, m]) => [m.key, name]));

/**
 * A config error as the env file's problem: the fix is in that file, not in `pulumi config set`.
 * `sourceOf` names where a written key came from (the env variable, or sandbox.sh's line).
 */
function envFileError(
    err: ConfigError,
    envPath: string,
    stackFile: string,
    written: Record<string, string>,
    sourceOf: (key: string) => string = (k) => ENV_NAME_OF[k],
): UserError {
    const culprits = Object.keys(written).filter((key) => err.problems.some((p) => p.startsWith(key) || p.includes(` ${key} `)));
    const where =
        culprits.length > 0
            ? `Fix ${culprits.map((k) => `${sourceOf(k)} (${k})`).join(", ")} in ${envPath}`
            : `Fix them in ${shown(stackFile)}`;
    return new UserError(
        `${envPath} has settings the program refuses (${err.problems.length} problem${err.problems.length === 1 ? "" : "s"}):\n` +
            err.problems.map((p) => `  - ${p}`).join("\n") +
            `\n${where} and run import-env again. Nothing was written to ${shown(stackFile)}.`,
    );
}

export async function importEnv(
    argv: readonly string[],
    root = PROJECT_ROOT,
    env: NodeJS.ProcessEnv = process.env,
    prompt: Prompt = terminalPrompt(),
): Promise<number> {
    const { values, positionals, help } = parseCommandLine(IMPORT_ENV, argv, env);
    if (help) {
        console.log(helpText(IMPORT_ENV));
        return 0;
    }
    // npm runs scripts in the project folder; a relative path means the folder the operator typed it in.
    const envPath = path.resolve(env.INIT_CWD || process.cwd(), positionals[0]);
    const setToken = values["set-token"] === true;
    // The CLI on PATH, or the one `npm run deploy` installed into the project.
    const cli = setToken ? findPulumiCli(root, env) : undefined;
    if (setToken && !cli) {
        throw new UserError(
            `--set-token stores the token through the Pulumi CLI, which is not installed (no \`pulumi\` on PATH); nothing was written. ` +
                `Install it (https://www.pulumi.com/docs/install/, or let \`npm run deploy\` install it into the project) and run this again, ` +
                `or run without --set-token and hand the token to \`npm run deploy\` in ${TOKEN_ENV}.`,
        );
    }

    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const file = stackFilePath(stack, root);
    const text = readTextFile(envPath, "The env file");
    if (isSandboxScript(text)) return importSandboxScript(text, envPath, stack, root, env, cli, prompt);
    const vars = parseEnv(text);
    if (Object.keys(vars).length === 0)
        throw new UserError(`${envPath} sets no variables: expected lines such as API_HOST=https://helix.example.com.`);
    const placeholder = vars.API_TOKEN ? placeholderToken(vars.API_TOKEN) : undefined;
    if (setToken && placeholder) {
        throw new UserError(
            `API_TOKEN in ${envPath} is ${placeholder}: put your control plane's runner token there and run again. Nothing was written.`,
        );
    }
    if (setToken && !vars.API_TOKEN) throw new UserError(`--set-token: ${envPath} sets no API_TOKEN. Nothing was written.`);

    const { existing, existingKeys } = existingStack(stack, root);
    const result = mapEnv(vars, existingKeys);
    validate(existing?.raw, result.written, stack, (err) => envFileError(err, envPath, file, result.written));
    if (!(await confirmWrite(prompt, file, result, setToken && result.hasToken ? "API_TOKEN" : undefined))) return 1;
    writeStackConfig(file, result.written);

    const out = importedLines(file, result);
    if (placeholder) {
        out.push(
            `API_TOKEN in ${envPath} is ${placeholder}: not imported. Put your control plane's runner token there and rerun with --set-token.`,
        );
    } else if (result.hasToken) {
        out.push(storeToken("API_TOKEN", vars.API_TOKEN, { stack, root, env, cli }));
    }
    console.log(out.join("\n"));
    return 0;
}

/**
 * On a terminal, shows what would be written and asks first (as deploy does before a change);
 * false when the operator says no. Without a terminal it writes, as a script expects.
 */
async function confirmWrite(
    prompt: Prompt,
    file: string,
    result: Parameters<typeof importedLines>[1],
    storedToken: string | undefined,
): Promise<boolean> {
    if (!prompt.interactive) return true;
    console.log(importedLines(file, result, "Would write").join("\n"));
    const andToken = storedToken ? ` and store ${storedToken} as its secret apiToken` : "";
    if (await prompt.confirm(`Write these settings to ${shown(file)}${andToken}?`)) return true;
    console.log("Nothing was written.");
    return false;
}

/** The stack file's config as the program reads it, and the keys it sets, when the file exists. */
function existingStack(stack: string, root: string) {
    const file = stackFilePath(stack, root);
    const existing = fs.existsSync(file) ? readStackConfig(stack, root) : undefined;
    const existingKeys = new Set(
        Object.keys(existing ? (readYamlFile(file, "The stack file").value?.config ?? {}) : {}).map((k) => k.replace(`${PROJECT}:`, "")),
    );
    return { existing, existingKeys };
}

/** Validates what the stack would hold, with the program's schema, before anything is written. */
function validate(
    raw: Record<string, unknown> | undefined,
    written: Record<string, string>,
    stack: string,
    asFileError: (err: ConfigError) => UserError,
): void {
    const merged = { ...(raw ?? {}), ...written, apiToken: SECRET_PLACEHOLDER };
    try {
        parseConfig(merged, { stackName: stack, machineHostName: os.hostname() });
    } catch (err) {
        if (err instanceof ConfigError) throw asFileError(err);
        throw err;
    }
}

/** What an import wrote, kept and left out: the lines both imports print first. */
function importedLines(file: string, result: Pick<ImportResult, "written" | "kept" | "notes" | "skipped">, verb = "Wrote"): string[] {
    const out: string[] = [`${verb} ${Object.keys(result.written).length} setting(s) to ${file}:`];
    for (const [k, v] of Object.entries(result.written)) out.push(`  ${k}: ${v}`);
    if (result.kept.length > 0) out.push(`Kept what ${file} already set: ${result.kept.join(", ")}.`);
    for (const note of result.notes) out.push(`Note: ${note}.`);
    if (result.skipped.length > 0) {
        out.push("Not imported:");
        for (const s of result.skipped) out.push(`  ${s.name}: ${s.reason}`);
    }
    return out;
}

/** The value sandbox.sh carries when install.sh had no token to put in (its sed left the marker). */
const SANDBOX_SCRIPT_TOKEN_MARKER = "__DEFAULT_RUNNER_TOKEN__";

/**
 * Imports the sandbox.sh Helix's `install.sh --sandbox` writes into a sandbox stack. Only into a
 * new stack file or one that is a sandbox stack already: writing `workload: sandbox` into a
 * runner stack would make its next deploy replace the runners. On a terminal it shows what it
 * would write and asks first, as deploy does before a change.
 */
async function importSandboxScript(
    text: string,
    scriptPath: string,
    stack: string,
    root: string,
    env: NodeJS.ProcessEnv,
    /** The Pulumi CLI, found when --set-token was given. */
    cli: PulumiCli | undefined,
    prompt: Prompt,
): Promise<number> {
    const file = stackFilePath(stack, root);
    const script = readSandboxScript(text, scriptPath);
    const { existing, existingKeys } = existingStack(stack, root);
    // Pulumi.yaml's default (runner) is in raw whether the file sets it or not: the file's own keys tell.
    const workload = existingKeys.has("workload") ? existing?.raw.workload : undefined;
    if (existing && workload !== "sandbox")
        throw new UserError(
            `${shown(file)} is a runner stack (workload ${workload === undefined ? "not set" : `set to ${String(workload)}`}): ` +
                `importing ${scriptPath} would turn it into a sandbox stack, and its next deploy would replace its runners with sandboxes. ` +
                `Import into a new stack (--stack NAME), or set workload: sandbox in ${shown(file)} first. Nothing was written.`,
        );
    const result = mapSandboxScript(script, existingKeys, scriptPath);
    const token = result.token?.value ?? "";
    const placeholder =
        token === SANDBOX_SCRIPT_TOKEN_MARKER
            ? "install.sh's marker for a token it did not have"
            : token
              ? placeholderToken(token)
              : undefined;
    const tokenLine = result.token ? ` (line ${result.token.line})` : "";
    if (cli && placeholder)
        throw new UserError(
            `RUNNER_TOKEN${tokenLine} in ${scriptPath} is ${placeholder}: put your control plane's runner token there and run again. Nothing was written.`,
        );
    if (cli && !token) throw new UserError(`--set-token: ${scriptPath} sets no RUNNER_TOKEN. Nothing was written.`);
    validate(existing?.raw, result.written, stack, (err) =>
        envFileError(err, scriptPath, file, result.written, (k) => result.sources[k] ?? k),
    );

    if (!(await confirmWrite(prompt, file, result, cli ? "RUNNER_TOKEN" : undefined))) return 1;
    writeStackConfig(file, result.written);
    const out = importedLines(file, result);
    if (placeholder) {
        out.push(
            `RUNNER_TOKEN${tokenLine} in ${scriptPath} is ${placeholder}: not imported. Put your control plane's runner token there and rerun with --set-token.`,
        );
    } else if (token) {
        // sandbox.sh takes RUNNER_TOKEN from the .env beside it first: the script's own is the one imported.
        const fromEnvFile = "sandbox.sh prefers a RUNNER_TOKEN set in the .env beside it; the script's own value is the one read here";
        out.push(storeToken("RUNNER_TOKEN", token, { stack, root, env, cli }, ` (${fromEnvFile})`));
    }
    console.log(out.join("\n"));
    return 0;
}

/**
 * Stores the imported token as the stack's secret apiToken through `cli` (found when --set-token
 * was given), or says how to; returns the line to print, which never holds the token.
 */
function storeToken(
    variable: string,
    token: string,
    where: { stack: string; root: string; env: NodeJS.ProcessEnv; cli: PulumiCli | undefined },
    note = "",
): string {
    if (!where.cli)
        return (
            `The token (${variable}) is not written in plain text. Rerun with --set-token to store it as the stack's secret ` +
            `(needs the Pulumi CLI), or hand it to \`npm run deploy\` in ${TOKEN_ENV}.`
        );
    const set = setSecretConfig("apiToken", token, where.stack, where.root, where.env, where.cli);
    if (!set.ok) throw new UserError(`Storing ${variable} as the secret apiToken of stack ${where.stack} failed: ${set.error}`);
    return `Set apiToken as a secret of stack ${where.stack} through the Pulumi CLI${note}.`;
}

if (require.main === module) void runCommand(() => importEnv(process.argv.slice(2)));
