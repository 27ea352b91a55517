// Importing Helix's runner script env file (scripts/external-zed-agent.env) into a runner stack:
// which variables become which key, which have none and why, and the API_TOKEN values that are
// a placeholder rather than a token. The stack side (keep, check, ask, write) is stackWrite.ts's.
import { parse as parseEnv } from "dotenv";
import { INSECURE_DEFAULT_TOKEN, isLoopbackHost } from "../../contract";
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

/** Env variable names by config key, so a problem is named where the operator fixes it. */
const ENV_NAME_OF: Record<string, string> = Object.fromEntries(Object.entries(MAPPED).map(([name, m]) => [m.key, name]));

/**
 * Imports the env file's variables into the stack file, keeping what it already sets; the token
 * only through `cli` (found when --set-token was given), as the stack's secret.
 */
export async function importEnvFile({ text, path: envPath, stack, root, env, cli, prompt }: ImportRequest): Promise<number> {
    const file = stackFilePath(stack, root);
    const vars = parseEnv(text);
    if (Object.keys(vars).length === 0)
        throw new UserError(`${envPath} sets no variables: expected lines such as API_HOST=https://helix.example.com.`);
    const placeholder = vars.API_TOKEN ? placeholderToken(vars.API_TOKEN) : undefined;
    if (cli && placeholder) {
        throw new UserError(
            `API_TOKEN in ${envPath} is ${placeholder}: put your control plane's runner token there and run again. Nothing was written.`,
        );
    }
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
