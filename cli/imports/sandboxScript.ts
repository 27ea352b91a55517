// Reading the sandbox.sh that Helix's `install.sh --sandbox` writes (checked against 2.12.2's
// installer), for `npm run import-env`; what its settings become in a sandbox stack is
// sandboxImport.ts's. The script is bash, not an env file: the installer fills a block of
// `NAME="value"` lines at the top, then the script's own logic (which assigns working variables
// inside `if` blocks) ends in one `docker run` of ghcr.io/helixml/helix-sandbox:${SANDBOX_TAG}.
// Only those two parts carry settings, so only they are read, as bash would run them: each
// assignment's value unquoted as bash unquotes it, the `docker run` for its `-e` flags, its other
// flags and its image. Anything else the installer does not write is refused by line, never
// guessed. Pure: reads a string, no I/O.
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
 * Reads sandbox.sh's settings the way bash would run them. A top-level assignment of a name it does
 * not know, a setting assigned twice (bash keeps the later) or inside the script's logic, a heredoc,
 * a second `docker run`, a `docker run` flag install.sh does not write, or a script with no
 * `docker run` of the sandbox image is refused with its line. Values are unquoted as bash unquotes
 * them; `$NAME` in a `-e` flag is resolved against the top-level assignments.
 */
export function readSandboxScript(text: string, file: string): SandboxScript {
    const lines = text.split("\n");
    const assignments: Record<string, ScriptValue> = {};
    const problems: string[] = [];
    const start = lines.findIndex((l) => DOCKER_RUN.test(l));
    let end = start;
    while (start >= 0 && end < lines.length - 1 && /\\\s*$/.test(lines[end])) end++;
    for (let i = 0; i < lines.length; i++) {
        const raw = lines[i];
        const heredoc = /(^|[^<])<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/.exec(raw);
        if (heredoc && !/^\s*#/.test(raw)) {
            problems.push(
                `line ${i + 1}: a heredoc (<<${heredoc[3]}), which import-env does not read: install.sh writes none into sandbox.sh`,
            );
            // Its body is text, not script: skip it to the terminator.
            while (i < lines.length - 1 && lines[i + 1].replace(/^\t*/, "") !== heredoc[3]) i++;
            i++;
            continue;
        }
        if (i > end && DOCKER_RUN.test(raw)) {
            problems.push(
                `line ${i + 1}: a second \`docker run\` (the first is on line ${start + 1}): install.sh's sandbox.sh runs one sandbox`,
            );
            continue;
        }
        const indented = /^\s+(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(raw);
        if (indented && isSetting(indented[1]) && !COMPOSE_API_FALLBACK.test(raw)) {
            problems.push(
                `line ${i + 1}: ${indented[1]} is assigned inside the script's logic, so what bash runs depends on it; set it once in the block at the top`,
            );
            continue;
        }
        // Column 0 only: indented assignments are the script's logic inside if-blocks.
        const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(raw);
        if (!m) continue;
        const name = m[1];
        if (SCRIPT_WORKING_VARIABLES.has(name)) continue;
        if (!isSetting(name)) {
            problems.push(`line ${i + 1}: ${name} is not a variable install.sh writes into sandbox.sh, and import-env does not know it`);
            continue;
        }
        const rest = lines.slice(i).join("\n").slice(m[0].length);
        const word = bashWord(rest);
        if (typeof word === "string") {
            problems.push(`line ${i + 1}: ${name}'s value ${word}`);
            continue;
        }
        if (assignments[name] !== undefined)
            problems.push(
                `line ${i + 1}: ${name} is assigned again (first on line ${assignments[name].line}); bash would use this one: keep one`,
            );
        assignments[name] = { value: ownDefault(name, word.value), line: i + 1 };
        i += word.lines - 1;
    }

    if (start < 0) throw new UserError(`${file} runs no \`docker run\`: it is not the sandbox.sh Helix's install.sh writes.`);
    const { env, image, flagProblems } = readDockerRun(lines, start, end, assignments);
    problems.push(...flagProblems);
    if (!image)
        throw new UserError(
            `${file}: the \`docker run\` on line ${start + 1} does not end in Helix's sandbox image on a line of its own (${SANDBOX_IMAGE_REPOSITORY}:<tag>), as install.sh writes it.`,
        );
    if (problems.length > 0)
        throw new UserError(
            `${file} sets what import-env does not understand:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
                "Remove those lines, or set the matching keys by hand (docs/sandbox.md), and run import-env again. Nothing was written.",
        );
    const composeApiFallback = lines.some((l) => COMPOSE_API_FALLBACK.test(l));
    return { assignments, env, image, composeApiFallback };
}

const DOCKER_RUN = /^\s*docker\s+(container\s+)?run\b/;
/** install.sh's own switch to Helix's compose service, inside an if-block. */
const COMPOSE_API_FALLBACK = /^\s+HELIX_API_URL="?http:\/\/api:8080"?\s*$/;

const isSetting = (name: string) => (SCRIPT_SETTINGS as readonly string[]).includes(name) || EXTRA_SETTINGS.includes(name);

/**
 * The `docker run` flags install.sh writes, beside `-e` (read for its settings) and the image: the
 * flag variables it builds from GPU_VENDOR and PRIVILEGED_DOCKER (which import-env reads), and
 * flags whose values the stack sets itself (name, network, volumes, devices, cgroup rules).
 */
const DOCKER_RUN_FLAGS: Readonly<Record<string, readonly string[] | "none">> = {
    "--privileged": "none",
    "-d": "none",
    "--detach": "none",
    "--restart": ["always"],
    "--name": ["helix-sandbox"],
    "--network": ["helix_default"],
    "--device": ["/dev/uinput", "/dev/uhid"],
    "--device-cgroup-rule": ["c 13:* rmw", "c 226:* rmw"],
    "-v": [
        "${DOCKER_VOLUME}:/var/lib/docker",
        "sandbox-data:/data",
        "hydra-storage:/hydra-data",
        "/run/udev:/run/udev:rw",
        "/var/run/sandbox:/var/run/sandbox:rw",
    ],
};
const FLAG_VARIABLES = ["$GPU_FLAGS", "$GPU_ENV_FLAGS", "$PRIVILEGED_DOCKER_FLAGS", "$VIRTIO_FLAGS"];

/** The `docker run` on lines start..end: its `-e` settings, its image, and each flag install.sh does not write. */
function readDockerRun(
    lines: readonly string[],
    start: number,
    end: number,
    assignments: Readonly<Record<string, ScriptValue>>,
): { env: Record<string, ScriptValue>; image: ScriptValue | undefined; flagProblems: string[] } {
    const env: Record<string, ScriptValue> = {};
    const flagProblems: string[] = [];
    let image: ScriptValue | undefined;
    const words: { raw: string; value: string; line: number }[] = [];
    for (let i = start; i <= end; i++) {
        const img = IMAGE_LINE.exec(lines[i]);
        if (img) {
            image = { value: `${img[1]}${img[2] === undefined ? "" : `:${resolve(img[2], assignments)}`}`, line: i + 1 };
            continue;
        }
        let rest = lines[i].replace(/\\\s*$/, "").replace(DOCKER_RUN, "");
        for (;;) {
            rest = rest.replace(/^\s+/, "");
            if (rest === "" || rest.startsWith("#")) break;
            const word = bashWord(rest, true);
            if (typeof word === "string") {
                flagProblems.push(`line ${i + 1}: a \`docker run\` argument ${word}`);
                break;
            }
            words.push({ raw: rest.slice(0, word.length), value: word.value, line: i + 1 });
            rest = rest.slice(word.length);
        }
    }
    for (let k = 0; k < words.length; k++) {
        const { raw, value, line } = words[k];
        if (FLAG_VARIABLES.includes(raw)) continue;
        const [flag, inline] =
            value.startsWith("--") && value.includes("=")
                ? [value.slice(0, value.indexOf("=")), value.slice(value.indexOf("=") + 1)]
                : [value, undefined];
        if (flag === "-e" || flag === "--env") {
            const setting = inline ?? words[++k]?.value ?? "";
            const eq = setting.indexOf("=");
            if (eq > 0) env[setting.slice(0, eq)] = { value: resolve(setting.slice(eq + 1), assignments), line };
            else flagProblems.push(`line ${line}: \`${flag} ${setting}\` passes no NAME=value`);
            continue;
        }
        const allowed = DOCKER_RUN_FLAGS[flag === "--volume" ? "-v" : flag];
        if (allowed === undefined) {
            flagProblems.push(
                `line ${line}: the \`docker run\` flag ${JSON.stringify(flag)} is not one install.sh writes, and the stack has no key for it`,
            );
            continue;
        }
        if (allowed === "none") continue;
        const argument = inline ?? words[++k]?.value ?? "";
        if (!allowed.includes(argument))
            flagProblems.push(
                `line ${line}: \`${flag} ${argument}\` is not what install.sh writes (${allowed.map((a) => JSON.stringify(a)).join(" or ")}); the stack sets it itself`,
            );
    }
    return { env, image, flagProblems };
}

/**
 * One bash word at the start of `text`, unquoted as bash unquotes it: 'single' quotes literal,
 * "double" quotes with \\ \" \$ \` escapes, a backslash escaping one character, quoted parts
 * joined, a line continuation (backslash, newline) dropped. An expansion ($NAME, ${...}, $(...),
 * `...`) is kept as written, for the caller to resolve or refuse. Outside a `docker run` (an
 * assignment), only a comment may follow on its line. The word, its length in `text` and the lines
 * it spans; or, as text, why it is no word.
 */
function bashWord(text: string, inDockerRun = false): { value: string; length: number; lines: number } | string {
    let value = "";
    let i = 0;
    const stop = (c: string) => c === " " || c === "\t" || c === "\n" || c === ";" || c === "&" || c === "|";
    while (i < text.length && !stop(text[i])) {
        const c = text[i];
        if (c === "\\") {
            if (text[i + 1] === "\n") i += 2;
            else {
                value += text[i + 1] ?? "";
                i += 2;
            }
        } else if (c === "'") {
            const close = text.indexOf("'", i + 1);
            if (close < 0) return "opens a ' quote that never closes";
            value += text.slice(i + 1, close);
            i = close + 1;
        } else if (c === '"') {
            i++;
            for (;;) {
                if (i >= text.length) return 'opens a " quote that never closes';
                const d = text[i];
                if (d === '"') break;
                if (d === "\\" && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1])) {
                    if (text[i + 1] !== "\n") value += text[i + 1];
                    i += 2;
                } else {
                    value += d;
                    i++;
                }
            }
            i++;
        } else if (c === "$" && text[i + 1] === "'") {
            return "is an ANSI-C $'...' string, which import-env does not read: write the value in plain quotes";
        } else {
            value += c;
            i++;
        }
    }
    const consumed = text.slice(0, i);
    if (!inDockerRun) {
        const after = /^[ \t]*(#[^\n]*)?(\n|$)/.exec(text.slice(i));
        if (!after) return "is followed by more on its line: bash would run that as a command with the variable set. Quote the whole value";
    }
    return { value, length: i, lines: consumed.split("\n").length };
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
