// `npm run import-env -- PATH [--stack NAME] [--set-token]`: moves the settings of Helix's
// runner script env file (scripts/external-zed-agent.env) into Pulumi.<stack>.yaml, keeping
// what the stack file already has. Validates like the program; writes nothing on an error.
// The token is never written in plain text.
import * as fs from "node:fs";
import * as os from "node:os";
import { parse as parseEnv } from "dotenv";
import { Document, isMap } from "yaml";
import { ConfigError, isLoopbackHost, parseConfig } from "../components/config";
import { readTextFile, readYamlFile } from "./lib/files";
import { pulumiCliAvailable, setSecretConfig } from "./lib/pulumiCli";
import {
    DEFAULT_STACK,
    PROJECT,
    PROJECT_ROOT,
    SECRET_PLACEHOLDER,
    UserError,
    parseArgs,
    readStackConfig,
    runCommand,
    stackFilePath,
} from "./stackFiles";

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

/** Writes `values` into the stack file's config, keeping everything else in it (comments too). */
export function writeStackFile(file: string, values: Record<string, string>): void {
    const doc: Document = fs.existsSync(file) ? readYamlFile(file, "The stack file").doc : new Document({ config: {} });
    if (!isMap(doc.get("config"))) doc.set("config", doc.createNode({}));
    for (const [key, value] of Object.entries(values)) doc.setIn(["config", `${PROJECT}:${key}`], value);
    fs.writeFileSync(file, doc.toString());
}

export async function importEnv(argv: readonly string[], root = PROJECT_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const { values, flags, positional } = parseArgs(argv, { values: ["stack"], flags: ["set-token"] });
    if (positional.length !== 1) throw new UserError("Usage: npm run import-env -- PATH [--stack NAME] [--set-token]");
    const [envPath] = positional;

    const stack = values.stack ?? DEFAULT_STACK;
    const file = stackFilePath(stack, root);
    const vars = parseEnv(readTextFile(envPath, "The env file"));
    if (Object.keys(vars).length === 0)
        throw new UserError(`${envPath} sets no variables: expected lines such as API_HOST=https://helix.example.com.`);

    const existing = fs.existsSync(file) ? readStackConfig(stack, root) : undefined;
    const existingKeys = new Set(
        Object.keys(existing ? (readYamlFile(file, "The stack file").value?.config ?? {}) : {}).map((k) => k.replace(`${PROJECT}:`, "")),
    );
    const result = mapEnv(vars, existingKeys);

    // Validate what the stack would hold, with the program's schema, before writing anything.
    const merged = { ...(existing?.raw ?? {}), ...result.written, apiToken: SECRET_PLACEHOLDER };
    try {
        parseConfig(merged, { stackName: stack, machineHostName: os.hostname() });
    } catch (err) {
        if (err instanceof ConfigError) {
            throw new UserError(`${err.message}\nNothing was written to ${file}.`);
        }
        throw err;
    }
    writeStackFile(file, result.written);

    const out: string[] = [`Wrote ${Object.keys(result.written).length} setting(s) to ${file}:`];
    for (const [k, v] of Object.entries(result.written)) out.push(`  ${k}: ${v}`);
    if (result.kept.length > 0) out.push(`Kept what ${file} already set: ${result.kept.join(", ")}.`);
    for (const note of result.notes) out.push(`Note: ${note}.`);
    if (result.skipped.length > 0) {
        out.push("Not imported:");
        for (const s of result.skipped) out.push(`  ${s.name}: ${s.reason}`);
    }
    if (result.hasToken) {
        const command = `pulumi config set --secret apiToken --stack ${stack}`;
        if (flags.has("set-token") && pulumiCliAvailable(env)) {
            const set = setSecretConfig("apiToken", vars.API_TOKEN, stack, root, env);
            if (!set.ok) throw new UserError(`\`${command}\` failed: ${set.error}`);
            out.push(`Set apiToken as a secret of stack ${stack} through the Pulumi CLI.`);
        } else {
            out.push(
                `The token (API_TOKEN) is not written in plain text. Set it as a secret with:`,
                `  ${command}`,
                `and paste the API_TOKEN value from ${envPath} when asked (or rerun with --set-token where the Pulumi CLI is installed).`,
            );
        }
    }
    console.log(out.join("\n"));
    return 0;
}

if (require.main === module) void runCommand(() => importEnv(process.argv.slice(2)));
