// Importing Helix's runner script env file (scripts/external-zed-agent.env) into a runner stack:
// which variables become which key, which have none and why, the API_TOKEN values that are a
// placeholder rather than a token, and the files that are no such env file (dotenv skips what it
// cannot read without a word; here that means nothing is imported). The stack side (keep, check,
// ask, write) is stackWrite.ts's.
import { parse as parseEnv } from "dotenv";
import { INSECURE_DEFAULT_TOKEN, isLoopbackHost, runnerTokenProblem } from "../../contract";
import { UserError, stackFilePath, writeStackConfig } from "../stackFiles";
import {
    type ImportRequest,
    type ImportedSettings,
    confirmWrite,
    envFileError,
    existingStack,
    importedLines,
    storeToken,
    validate,
} from "./stackWrite";

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

interface ImportResult extends ImportedSettings {
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

/**
 * The first line (1-based) that is no env-file line (NAME=value, `export NAME=value`, a comment,
 * a blank line, or the rest of a quoted value), or undefined when there is none. dotenv skips
 * such a line without a word: a shell script (sandbox.sh without its #! line) would import as
 * nothing, or as whatever NAME=value lines it happens to have.
 */
function firstNonEnvLine(text: string): number | undefined {
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
        if (/^\s*(?:#.*)?$/.test(lines[i])) continue;
        const assignment = /^\s*(?:export\s+)?[\w.-]+\s*=\s*(.*)$/.exec(lines[i]);
        if (!assignment) return i + 1;
        // A quoted value may run over lines, as dotenv reads it: to its closing quote.
        const quote = assignment[1][0];
        if ((quote === '"' || quote === "'" || quote === "`") && !closes(assignment[1].slice(1), quote)) {
            do i++;
            while (i < lines.length && !closes(lines[i], quote));
        }
    }
    return undefined;
}

/** Whether `text` holds `quote` without a backslash before it. */
function closes(text: string, quote: string): boolean {
    for (let at = text.indexOf(quote); at >= 0; at = text.indexOf(quote, at + 1)) if (text[at - 1] !== "\\") return true;
    return false;
}

/** Env variable names by config key, so a problem is named where the operator fixes it. */
const ENV_NAME_OF: Record<string, string> = Object.fromEntries(Object.entries(MAPPED).map(([name, m]) => [m.key, name]));

/**
 * Imports the env file's variables into the stack file, keeping what it already sets; the token
 * only through `cli` (found when --set-token was given), as the stack's secret.
 */
export async function importEnvFile({ text, path: envPath, stack, root, env, cli, prompt, allowMirror }: ImportRequest): Promise<number> {
    const file = stackFilePath(stack, root);
    if (allowMirror)
        throw new UserError(`--allow-mirror is for a sandbox.sh whose image is a mirror; ${envPath} is an env file. Nothing was written.`);
    const stray = firstNonEnvLine(text);
    if (stray !== undefined) {
        const script = /helix-sandbox|docker\s+run/.test(text) ? "Helix's sandbox.sh without its #!/bin/bash first line" : "a shell script";
        throw new UserError(
            `${envPath} is not an env file: line ${stray} is no NAME=value line, and it looks like ${script}. ` +
                "import-env reads Helix's runner env file (NAME=value lines) or the sandbox.sh install.sh writes (which starts with #!/bin/bash). Nothing was written.",
        );
    }
    const vars = parseEnv(text);
    if (Object.keys(vars).length === 0)
        throw new UserError(`${envPath} sets no variables: expected lines such as API_HOST=https://helix.example.com.`);
    if (!Object.keys(vars).some((name) => name === "API_TOKEN" || name in MAPPED || name in NOT_MAPPED))
        throw new UserError(
            `${envPath} sets none of the variables of Helix's runner env file (API_HOST, API_TOKEN, RUNNER_ID, CONCURRENCY, ...): ` +
                "it is not one, and nothing of it would be imported. Nothing was written.",
        );
    const placeholder = vars.API_TOKEN ? placeholderToken(vars.API_TOKEN) : undefined;
    if (cli && placeholder) {
        throw new UserError(
            `API_TOKEN in ${envPath} is ${placeholder}: put your control plane's runner token there and run again. Nothing was written.`,
        );
    }
    // A token with a space, tab or line break anywhere (its ends too) is a paste slip: never stored, never shown.
    if (vars.API_TOKEN && !placeholder && (runnerTokenProblem(vars.API_TOKEN) !== undefined || /[\s\x00-\x1f\x7f]/.test(vars.API_TOKEN)))
        throw new UserError(
            `API_TOKEN in ${envPath} has a space, tab, line break or control character in it (or at its start or end), which no runner token has. ` +
                "Put your control plane's runner token there and run again. Nothing was written.",
        );
    if (cli && !vars.API_TOKEN) throw new UserError(`--set-token: ${envPath} sets no API_TOKEN. Nothing was written.`);

    const { existing, existingKeys } = existingStack(stack, root);
    const result = mapEnv(vars, existingKeys);
    validate(existing?.raw, result.written, stack, (err) => envFileError(err, envPath, file, result.written, (k) => ENV_NAME_OF[k]));
    if (!(await confirmWrite(prompt, file, result, cli && result.hasToken ? "API_TOKEN" : undefined))) return 1;
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
