// Reading the sandbox.sh that Helix's `install.sh --sandbox` writes (checked against 2.12.2's
// installer), for `npm run import-env`; what its settings become in a sandbox stack is
// sandboxImport.ts's. The script is bash, not an env file: the installer fills a block of
// `NAME="value"` lines at the top, then the script's own logic (which assigns working variables
// inside `if` blocks) ends in one `docker run` of ghcr.io/helixml/helix-sandbox:${SANDBOX_TAG}.
// Only those two parts carry settings, so only they are read: each assignment with dotenv's parser
// (the one the runner env import uses), the `docker run` for its `-e` flags and its image. Anything
// else the installer does not write is refused by line, never guessed. Pure: reads a string, no I/O.
import { parse as parseEnv } from "dotenv";
import { SANDBOX_IMAGE_REPOSITORY } from "../../contract/sandbox";
import { UserError } from "../lib/errors";

/** Where a value came from, so a refusal names the line the operator fixes. */
export interface ScriptValue {
    readonly value: string;
    /** 1-based line number in sandbox.sh. */
    readonly line: number;
}

/** What sandbox.sh sets: its top-level assignments, the `-e` flags of its `docker run`, and the image. */
export interface SandboxScript {
    readonly assignments: Readonly<Record<string, ScriptValue>>;
    readonly env: Readonly<Record<string, ScriptValue>>;
    readonly image: ScriptValue;
    /** The script switches HELIX_API_URL to Helix's compose service when a control plane container runs beside it. */
    readonly composeApiFallback: boolean;
}

/** A `docker run` of Helix's sandbox image ends with the image on its own line (install.sh's layout); tag optional. */
const IMAGE_LINE = /^\s*([\w.:/-]*helix-sandbox)(?::(\S+))?\s*$/;

/**
 * Whether `text` is a script (a `#!` first line) about Helix's sandbox image: install.sh's
 * sandbox.sh, read by readSandboxScript, which refuses one that does not run the image as
 * install.sh writes it. An env file never starts with `#!`.
 */
export function isSandboxScript(text: string): boolean {
    return text.startsWith("#!") && text.includes("helix-sandbox");
}

/**
 * The script's own working variables, not settings: its folder (to source the .env beside it),
 * the compose label it checks, the flags it builds per GPU vendor and mode, the volume it picks,
 * and its image clean-up's counters. install.sh assigns most inside if-blocks; an operator who
 * flattened one has changed nothing import-env reads.
 */
const SCRIPT_WORKING_VARIABLES = new Set([
    "SCRIPT_DIR",
    "NETWORK_LABEL",
    "VIRTIO_FLAGS",
    "GPU_FLAGS",
    "GPU_ENV_FLAGS",
    "PRIVILEGED_DOCKER_FLAGS",
    "DOCKER_VOLUME",
    "ALL_SANDBOX_IMAGES",
    "IMAGE_TAG",
    "REMOVED_COUNT",
    "KEPT_COUNT",
]);

/** Variables install.sh fills in the block at the top of sandbox.sh. */
const SCRIPT_SETTINGS = [
    "SANDBOX_TAG",
    "HELIX_API_URL",
    "SANDBOX_INSTANCE_ID",
    "RUNNER_TOKEN",
    "GPU_VENDOR",
    "MAX_SANDBOXES",
    "HELIX_HOSTNAME",
    "PRIVILEGED_DOCKER",
] as const;

/** Variables an operator may have added to the block for the sandbox's registry mirror. */
const EXTRA_SETTINGS = ["HELIX_SANDBOX_REGISTRY"];

/**
 * Reads sandbox.sh's settings. A top-level assignment of a name it does not know, a value that is
 * a shell expression, or a script with no `docker run` of the sandbox image is refused with its
 * line. `$NAME` in a `-e` flag is resolved against the top-level assignments.
 */
export function readSandboxScript(text: string, file: string): SandboxScript {
    const lines = text.split("\n");
    const assignments: Record<string, ScriptValue> = {};
    const problems: string[] = [];
    lines.forEach((raw, i) => {
        // Column 0 only: indented assignments are the script's logic inside if-blocks.
        const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(raw);
        if (!m) return;
        const name = m[1];
        if (SCRIPT_WORKING_VARIABLES.has(name)) return;
        if (!(SCRIPT_SETTINGS as readonly string[]).includes(name) && !EXTRA_SETTINGS.includes(name)) {
            problems.push(`line ${i + 1}: ${name} is not a variable install.sh writes into sandbox.sh, and import-env does not know it`);
            return;
        }
        const value = parseEnv(raw.replace(/^export\s+/, ""))[name] ?? "";
        assignments[name] = { value: ownDefault(name, value), line: i + 1 };
    });

    const start = lines.findIndex((l) => /^\s*docker run\b/.test(l));
    if (start < 0) throw new UserError(`${file} runs no \`docker run\`: it is not the sandbox.sh Helix's install.sh writes.`);
    let end = start;
    while (end < lines.length - 1 && /\\\s*$/.test(lines[end])) end++;
    const env: Record<string, ScriptValue> = {};
    let image: ScriptValue | undefined;
    for (let i = start; i <= end; i++) {
        // install.sh writes each flag's value without spaces: `-e NAME="$NAME"` or `-e NAME=literal`.
        for (const flag of lines[i].matchAll(/(?:^|\s)(?:-e|--env)[\s=]+([A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|'[^']*'|[^\s\\]*))/g)) {
            const [name, value] = Object.entries(parseEnv(flag[1]))[0] ?? [];
            if (name !== undefined) env[name] = { value: resolve(value, assignments), line: i + 1 };
        }
        const img = IMAGE_LINE.exec(lines[i]);
        if (img) image = { value: `${img[1]}${img[2] === undefined ? "" : `:${resolve(img[2], assignments)}`}`, line: i + 1 };
    }
    if (!image)
        throw new UserError(
            `${file}: the \`docker run\` on line ${start + 1} does not end in Helix's sandbox image on a line of its own (${SANDBOX_IMAGE_REPOSITORY}:<tag>), as install.sh writes it.`,
        );
    if (problems.length > 0)
        throw new UserError(
            `${file} sets what import-env does not understand:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
                "Remove those lines, or set the matching keys by hand (docs/sandbox.md), and run import-env again. Nothing was written.",
        );
    const composeApiFallback = lines.some((l) => /^\s+HELIX_API_URL="?http:\/\/api:8080"?\s*$/.test(l));
    return { assignments, env, image, composeApiFallback };
}

/**
 * `NAME="${NAME:-value}"` means "value unless the environment (sandbox.sh's .env) already sets
 * NAME": install.sh writes the token that way. The script's own value is the one it carries.
 */
function ownDefault(name: string, value: string): string {
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*):?-(.*)\}$/s.exec(value);
    return m && m[1] === name ? m[2] : value;
}

/** `$NAME`, `${NAME}` or `${NAME:-default}` against the script's own assignments; anything else as written. */
function resolve(value: string, assignments: Readonly<Record<string, ScriptValue>>): string {
    const m = /^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?::?-(.*))?\})$/s.exec(value);
    if (!m) return value;
    const name = m[1] ?? m[2];
    return assignments[name]?.value ?? m[3] ?? value;
}
