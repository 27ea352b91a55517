// Reading the sandbox.sh that Helix's `install.sh --sandbox` writes (checked against 2.12.2's
// installer) into sandbox stack config, for `npm run import-env`. The script is bash, not an env
// file: the installer fills a block of `NAME="value"` lines at the top, then the script's own
// logic (which assigns working variables inside `if` blocks) ends in one `docker run` of
// ghcr.io/helixml/helix-sandbox:${SANDBOX_TAG}. Only those two parts carry settings, so only they
// are read: each assignment with dotenv's parser (the one the runner env import uses), the
// `docker run` for its `-e` flags and its image. Anything else the installer does not write is
// refused by line, never guessed. Pure: reads a string, no I/O.
import { parse as parseEnv } from "dotenv";
import { GPU_VENDORS, SANDBOX_ENV, SANDBOX_FIXED_ENV, SANDBOX_IMAGE_REPOSITORY } from "../contract/sandbox";
import { UserError } from "./lib/errors";

/** Where a value came from, so a refusal names the line the operator fixes. */
interface ScriptValue {
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

/** Whether a value still holds shell syntax (a variable or a command substitution) import-env cannot evaluate. */
function isShellExpression(value: string): boolean {
    return /\$[{(A-Za-z_]|`/.test(value);
}

/** `-e` values install.sh passes that no key sets, with the value the stack's sandboxes run with (the image's default or ours). */
const FIXED_FLAGS: Readonly<Record<string, string>> = {
    ...SANDBOX_FIXED_ENV,
    SANDBOX_DATA_PATH: "/data",
    HELIX_FRAME_EXPORT_PORT: "15937",
    HYDRA_PRIVILEGED_MODE_ENABLED: "false",
};

/** `-e` flags whose value is a top-level setting, read from there. */
const FLAGS_FROM_SETTINGS = new Set<string>([
    SANDBOX_ENV.apiUrl,
    SANDBOX_ENV.instanceId,
    SANDBOX_ENV.token,
    "MAX_SANDBOXES",
    "HELIX_HOSTNAME",
]);

/** What sandbox.sh's settings become: stack config, and what was left out and why. */
export interface SandboxImport {
    /** config key -> value to write. */
    readonly written: Record<string, string>;
    /** config keys the stack file already set, left as they are. */
    readonly kept: string[];
    readonly notes: string[];
    /** Settings not imported, with the reason. */
    readonly skipped: { name: string; reason: string }[];
    /** Where each written key came from in sandbox.sh, e.g. "HELIX_API_URL (line 14)". */
    readonly sources: Record<string, string>;
    /** RUNNER_TOKEN's value; never printed. */
    readonly token: ScriptValue | undefined;
}

/**
 * Maps sandbox.sh's settings to the sandbox workload's keys. A value the stack cannot take as
 * sandbox.sh meant it (a GPU vendor the stack does not run, a changed fixed flag, Helix's
 * development mode) is refused by line; the stack's own rules check the rest (importEnv).
 */
export function mapSandboxScript(script: SandboxScript, existingKeys: ReadonlySet<string>, file: string): SandboxImport {
    const { assignments: a, env, image } = script;
    const written: Record<string, string> = {};
    const sources: Record<string, string> = {};
    const kept: string[] = [];
    const notes: string[] = [];
    const skipped: { name: string; reason: string }[] = [];
    const problems: string[] = [];
    const at = (v: ScriptValue) => `line ${v.line}`;
    const put = (key: string, value: string, source: string) => {
        if (existingKeys.has(key)) kept.push(key);
        else {
            written[key] = value;
            sources[key] = source;
        }
    };
    // The token is checked by importEnv (placeholders); every other value must be one the script carries as written.
    for (const [name, v] of Object.entries(a))
        if (name !== SANDBOX_ENV.token && isShellExpression(v.value))
            problems.push(
                `${at(v)}: ${name} is a shell expression (${v.value}), which import-env does not evaluate: write the value itself`,
            );

    put("workload", "sandbox", "sandbox.sh itself");

    const tagIndex = image.value.lastIndexOf(":");
    const [repository, tag] =
        tagIndex > image.value.lastIndexOf("/") ? [image.value.slice(0, tagIndex), image.value.slice(tagIndex + 1)] : [image.value, ""];
    const tagSource = a.SANDBOX_TAG ? `SANDBOX_TAG (${at(a.SANDBOX_TAG)})` : `the image (${at(image)})`;
    if (tag === "" || isShellExpression(tag))
        problems.push(
            `${at(image)}: the image ${image.value} has no release tag${a.SANDBOX_TAG ? ` (SANDBOX_TAG, ${at(a.SANDBOX_TAG)}, is empty)` : ""}`,
        );
    else if (repository === SANDBOX_IMAGE_REPOSITORY) put("helixVersion", tag, tagSource);
    else {
        // A mirror of the image: the stack pulls it as named, never with helixVersion as well.
        put("sandboxImage", `${repository}:${tag}`, `the image (${at(image)})`);
        notes.push(`the image is ${repository}, not ${SANDBOX_IMAGE_REPOSITORY}: imported as sandboxImage`);
    }

    const api = a[SANDBOX_ENV.apiUrl];
    if (!api || api.value === "") problems.push(`${SANDBOX_ENV.apiUrl} is not set: sandbox.sh needs the control plane's URL`);
    else {
        put("apiHost", api.value, `${SANDBOX_ENV.apiUrl} (${at(api)})`);
        if (/^https?:\/\/api(:\d+)?\/?$/.test(api.value)) {
            put("networks", '["helix_default"]', `${SANDBOX_ENV.apiUrl} (${at(api)})`);
            notes.push(
                `${SANDBOX_ENV.apiUrl}: ${api.value} is Helix's compose service: the sandboxes join helix_default, as sandbox.sh's did`,
            );
        } else if (script.composeApiFallback) {
            notes.push(
                `${SANDBOX_ENV.apiUrl}: sandbox.sh used http://api:8080 instead whenever a Helix control plane container ran on the same host; ` +
                    `if one does, set apiHost to http://api:8080 and networks to ["helix_default"]`,
            );
        }
    }

    const id = a[SANDBOX_ENV.instanceId];
    if (id && id.value !== "") {
        put("instanceIdPrefix", id.value, `${SANDBOX_ENV.instanceId} (${at(id)})`);
        notes.push(
            `${SANDBOX_ENV.instanceId}: sandbox.sh ran one sandbox as ${id.value}; these are ${id.value}-1, ${id.value}-2, ...: ` +
                `new IDs, and the old one stays listed, offline, at the control plane`,
        );
    }

    const gpu = a[SANDBOX_ENV.gpuVendor];
    if (gpu && gpu.value !== "") {
        if ((GPU_VENDORS as readonly string[]).includes(gpu.value)) put("gpuVendor", gpu.value, `${SANDBOX_ENV.gpuVendor} (${at(gpu)})`);
        else
            problems.push(
                `${at(gpu)}: ${SANDBOX_ENV.gpuVendor} is ${gpu.value}; gpuVendor takes ${GPU_VENDORS.join(", ")} (neuron and virtio are not supported)`,
            );
    }

    const max = a.MAX_SANDBOXES;
    if (max && max.value !== "" && max.value !== "10")
        problems.push(`${at(max)}: MAX_SANDBOXES is ${max.value}; no key sets it, and the sandboxes run with the image's default, 10`);
    else if (max) skipped.push({ name: "MAX_SANDBOXES", reason: "not set: the image's and Hydra's default is the same (10)" });
    if (a.HELIX_HOSTNAME) skipped.push({ name: "HELIX_HOSTNAME", reason: "not set: nothing in the image reads it at 2.12.2" });
    const privileged = a.PRIVILEGED_DOCKER;
    if (privileged && privileged.value === "true")
        problems.push(
            `${at(privileged)}: PRIVILEGED_DOCKER is true (Helix's development mode, which binds the host's Docker socket into the sandbox); ` +
                "no key sets it and the policy pack refuses it",
        );
    else if (privileged) skipped.push({ name: "PRIVILEGED_DOCKER", reason: "not set, which the image reads as false" });

    for (const [name, v] of Object.entries(env)) {
        if (FLAGS_FROM_SETTINGS.has(name)) continue;
        if (name === SANDBOX_ENV.registry) {
            if (isShellExpression(v.value) || v.value === "")
                problems.push(
                    `${at(v)}: docker run passes ${name} from ${v.value || "an empty value"}, which sandbox.sh itself does not set`,
                );
            else put("registryMirror", v.value, `${name} (${at(v)})`);
        } else if (FIXED_FLAGS[name] === undefined)
            problems.push(`${at(v)}: docker run passes ${name}, which install.sh does not, and no key sets it`);
        else if (v.value !== FIXED_FLAGS[name])
            problems.push(
                `${at(v)}: docker run passes ${name}=${v.value}; the sandboxes run with ${FIXED_FLAGS[name]}, and no key changes it`,
            );
    }
    const registry = a[SANDBOX_ENV.registry];
    if (registry && env[SANDBOX_ENV.registry] === undefined)
        skipped.push({ name: SANDBOX_ENV.registry, reason: "set, but sandbox.sh's docker run never passes it to the sandbox" });

    if (problems.length > 0)
        throw new UserError(
            `${file} sets what the sandbox stack cannot take as sandbox.sh meant it:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
                "Change those lines, or set the matching keys by hand (docs/sandbox.md), and run import-env again. Nothing was written.",
        );
    return { written, kept, notes, skipped, sources, token: a[SANDBOX_ENV.token] };
}
