// Importing the sandbox.sh that Helix's `install.sh --sandbox` writes (read by sandboxScript.ts)
// into a sandbox stack: what its settings become, what the stack cannot take as sandbox.sh meant
// it, the refusal to turn a runner stack into a sandbox stack, and the operator's word before a
// mirror of the image is allowed to run privileged. The stack side (keep, check, ask, write, the
// token) is stackWrite.ts's.
import { WORKLOADS } from "../../components/config/schema";
import { maskValue, runnerTokenProblem } from "../../contract";
import type { WorkloadKind } from "../../components/workload";
import {
    GPU_VENDORS,
    GPU_VENDOR_SETUP,
    type GpuVendor,
    SANDBOX_ENV,
    SANDBOX_FIXED_ENV,
    SANDBOX_IMAGE_REPOSITORY,
    parseImageReference,
} from "../../contract/sandbox";
import { shown } from "../lib/files";
import type { Prompt } from "../lib/prompt";
import { UserError, stackFilePath, writeStackConfig } from "../stackFiles";
import { placeholderToken } from "./envFile";
import { FLAGS_FROM_SETTINGS, type SandboxScript, type ScriptValue, gpuVendorProblem, maskToken, readSandboxScript } from "./sandboxScript";
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

/** `-e` values install.sh's flag variables pass per GPU vendor, which the stack passes from gpuVendor (GPU_VENDOR_SETUP). */
const GPU_ENV = new Set<string>([SANDBOX_ENV.gpuVendor, ...Object.values(GPU_VENDOR_SETUP).flatMap((setup) => Object.keys(setup.env))]);

/** The GPU flags the stack adds for `vendor`, as sandbox.sh's docker run would write them. */
function gpuFlagsOf(vendor: GpuVendor): string[] {
    const setup = GPU_VENDOR_SETUP[vendor];
    return [...(setup.nvidiaRuntime ? ["--gpus all", "--runtime nvidia"] : []), ...setup.devices.map((d) => `--device ${d}`)];
}

/** What sandbox.sh's settings become: stack config, and what was left out and why. */
interface SandboxImport extends ImportedSettings {
    /** Where each written key came from in sandbox.sh, e.g. "HELIX_API_URL (line 14)". */
    readonly sources: Record<string, string>;
    /** RUNNER_TOKEN's value; never printed. */
    readonly token: ScriptValue | undefined;
    /** The mirror of the image the import would allow to run (allowSandboxImageMirror: true), when it would. */
    readonly mirror: string | undefined;
}

/**
 * Maps sandbox.sh's settings to the sandbox workload's keys. A value the stack cannot take as
 * sandbox.sh meant it (a GPU vendor the stack does not run, a changed fixed flag, Helix's
 * development mode) is refused by line; the stack's own rules check the rest (importSandboxScript).
 */
function mapSandboxScript(script: SandboxScript, existingKeys: ReadonlySet<string>, file: string): SandboxImport {
    const { assignments: a, env, image } = script;
    const written: Record<string, string> = {};
    const sources: Record<string, string> = {};
    const kept: string[] = [];
    const notes: string[] = [];
    const skipped: { name: string; reason: string }[] = [];
    const problems: string[] = [];
    let mirror: string | undefined;
    const at = (v: ScriptValue) => `line ${v.line}`;
    /** A script's value as a message shows it: credentials masked, long text cut, quoted and escaped unless it is plain printable text. */
    const shown = (v: ScriptValue) => {
        const masked = maskValue(v.value);
        return /^[\x21-\x7e]+$/.test(masked) && !/["\\]/.test(masked) ? masked : JSON.stringify(masked);
    };
    const put = (key: string, value: string, source: string) => {
        if (existingKeys.has(key)) kept.push(key);
        else {
            written[key] = value;
            sources[key] = source;
        }
    };
    // The reader took every value as bash unquotes it (an expression is refused there). The token's value is never shown.
    const token = a[SANDBOX_ENV.token];
    const tokenProblem = token === undefined ? undefined : runnerTokenProblem(token.value);
    if (token !== undefined && tokenProblem !== undefined)
        problems.push(`${at(token)}: ${SANDBOX_ENV.token} ${tokenProblem}; pulumi up would refuse it as apiToken`);
    else if (token !== undefined && /[\s\x00-\x1f\x7f]/.test(token.value))
        problems.push(
            `${at(token)}: ${SANDBOX_ENV.token} starts or ends with a space, tab or line break, which bash keeps inside the quotes and no runner token has; pulumi up would refuse it as apiToken`,
        );

    put("workload", "sandbox", "sandbox.sh itself");

    const reference = parseImageReference(image.value);
    const [repository, tag] = [reference.name, reference.tag ?? ""];
    const tagSource =
        script.imageTagSetting && a[script.imageTagSetting]
            ? `${script.imageTagSetting} (${at(a[script.imageTagSetting])})`
            : `the image (${at(image)})`;
    if (tag === "" || isShellExpression(tag))
        problems.push(
            `${at(image)}: the image ${shown(image)} has no release tag${script.imageTagSetting && a[script.imageTagSetting] ? ` (${script.imageTagSetting}, ${at(a[script.imageTagSetting])}, is empty)` : ""}`,
        );
    else if (reference.repository === SANDBOX_IMAGE_REPOSITORY) put("helixVersion", tag, tagSource);
    else {
        // A mirror of the image: the stack pulls it as named, never with helixVersion as well. It
        // runs privileged with the token, so allowing it is the operator's word (importSandboxScript asks).
        put("sandboxImage", `${repository}:${tag}`, `the image (${at(image)})`);
        put("allowSandboxImageMirror", "true", `the image (${at(image)})`);
        if (written.allowSandboxImageMirror !== undefined) mirror = `${repository}:${tag}`;
        notes.push(
            `the image is ${repository}, not ${SANDBOX_IMAGE_REPOSITORY}: imported as sandboxImage, with allowSandboxImageMirror: true ` +
                "(the stack runs it privileged with the runner token, as sandbox.sh did)",
        );
    }

    const api = a[SANDBOX_ENV.apiUrl];
    if (!api || api.value === "") problems.push(`${SANDBOX_ENV.apiUrl} is not set: sandbox.sh needs the control plane's URL`);
    else {
        put("apiHost", api.value, `${SANDBOX_ENV.apiUrl} (${at(api)})`);
        if (/^https?:\/\/api(:\d+)?\/?$/.test(api.value)) {
            put("networks", '["helix_default"]', `${SANDBOX_ENV.apiUrl} (${at(api)})`);
            notes.push(
                `${SANDBOX_ENV.apiUrl}: ${shown(api)} is Helix's compose service: the sandboxes join helix_default, as sandbox.sh's did`,
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
    const vendor = GPU_VENDORS.find((v) => v === gpu?.value);
    if (gpu && gpu.value !== "") {
        if (vendor !== undefined) put("gpuVendor", vendor, `${SANDBOX_ENV.gpuVendor} (${at(gpu)})`);
        else problems.push(gpuVendorProblem(gpu) ?? `${at(gpu)}: ${SANDBOX_ENV.gpuVendor} is ${shown(gpu)}`);
    }

    const max = a.MAX_SANDBOXES;
    if (max && max.value !== "" && max.value !== "10")
        problems.push(`${at(max)}: MAX_SANDBOXES is ${shown(max)}; no key sets it, and the sandboxes run with the image's default, 10`);
    else if (max) skipped.push({ name: "MAX_SANDBOXES", reason: "not set: the image's and Hydra's default is the same (10)" });
    if (a.HELIX_HOSTNAME) skipped.push({ name: "HELIX_HOSTNAME", reason: "not set: nothing in the image reads it at 2.12.2" });
    const privileged = a.PRIVILEGED_DOCKER;
    if (privileged && privileged.value === "true")
        problems.push(
            `${at(privileged)}: PRIVILEGED_DOCKER is true (Helix's development mode, which binds the host's Docker socket into the sandbox); ` +
                "no key sets it and the policy pack refuses it",
        );
    else if (privileged) skipped.push({ name: "PRIVILEGED_DOCKER", reason: "not set, which the image reads as false" });

    // The GPU flags the run passes must be what gpuVendor runs with: the stack adds those, and only those.
    if (vendor !== undefined) {
        const flags = gpuFlagsOf(vendor);
        for (const f of script.gpuFlags)
            if (!flags.includes(f.value))
                problems.push(
                    `${at(f)}: docker run passes ${f.value}, which gpuVendor ${vendor} does not (it adds ${flags.join(", ") || "no GPU flags"}), and no key adds it`,
                );
    }
    for (const [name, v] of Object.entries(env)) {
        if (FLAGS_FROM_SETTINGS.has(name)) continue;
        if (GPU_ENV.has(name)) {
            const expected = name === SANDBOX_ENV.gpuVendor ? vendor : vendor && GPU_VENDOR_SETUP[vendor].env[name];
            // An unsupported GPU_VENDOR is refused above already.
            if (vendor !== undefined && v.value !== expected)
                problems.push(
                    `${at(v)}: docker run passes ${name}=${shown(v)}; with GPU_VENDOR ${vendor} the sandboxes run with ${expected === undefined ? "none" : expected}, and no key changes it`,
                );
            continue;
        }
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
                `${at(v)}: docker run passes ${name}=${shown(v)}; the sandboxes run with ${FIXED_FLAGS[name]}, and no key changes it`,
            );
    }
    const registry = a[SANDBOX_ENV.registry];
    if (registry && env[SANDBOX_ENV.registry] === undefined)
        skipped.push({ name: SANDBOX_ENV.registry, reason: "set, but sandbox.sh's docker run never passes it to the sandbox" });

    if (problems.length > 0)
        throw new UserError(
            maskToken(
                `${file} sets what the sandbox stack cannot take as sandbox.sh meant it:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
                    "Change those lines, or set the matching keys by hand (docs/sandbox.md), and run import-env again. Nothing was written.",
                token?.value,
            ),
        );
    return { written, kept, notes, skipped, sources, token: a[SANDBOX_ENV.token], mirror };
}

/** The value sandbox.sh carries when install.sh had no token to put in (its sed left the marker). */
const SANDBOX_SCRIPT_TOKEN_MARKER = "__DEFAULT_RUNNER_TOKEN__";

/**
 * Imports the sandbox.sh Helix's `install.sh --sandbox` writes into a sandbox stack. Only into a
 * new stack file or one that is a sandbox stack already (requireSandboxStack). On a terminal it
 * shows what it would write and asks first, as deploy does before a change; a mirror of the
 * image needs the operator's word first (allowMirror).
 */
export async function importSandboxScript({
    text,
    path: scriptPath,
    stack,
    root,
    env,
    cli,
    prompt,
    allowMirror: allowMirrorFlag,
}: ImportRequest): Promise<number> {
    const file = stackFilePath(stack, root);
    const script = readSandboxScript(text, scriptPath);
    const { existing, existingKeys } = existingStack(stack, root);
    // Pulumi.yaml's default (runner) is in raw whether the file sets it or not: the file's own keys tell.
    if (existing) requireSandboxStack(existingKeys.has("workload") ? existing.raw.workload : undefined, file, scriptPath);
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

    if (!(await allowMirror(result.mirror, prompt, allowMirrorFlag, scriptPath))) return 1;
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
 * Whether the stack may take sandbox.sh's mirror of the image (`mirror`, for which the import
 * writes allowSandboxImageMirror: true): a stack runs it privileged with the runner token, so that
 * is the operator's word, not import-env's (a stack file that sets the key already has it). --allow-mirror gives it; otherwise a terminal asks,
 * and without one nothing is written. True when there is no mirror to allow.
 */
async function allowMirror(mirror: string | undefined, prompt: Prompt, flag: boolean, scriptPath: string): Promise<boolean> {
    if (mirror === undefined || flag) return true;
    const what =
        `${scriptPath} runs the image ${maskValue(mirror)}, not ${SANDBOX_IMAGE_REPOSITORY}: the stack would run it privileged, ` +
        "with the runner token, as sandbox.sh did (allowSandboxImageMirror: true)";
    if (!prompt.interactive)
        throw new UserError(
            `${what}. Check that it is your mirror of Helix's sandbox image, then run import-env again with --allow-mirror ` +
                "(or on a terminal, which asks). Nothing was written.",
        );
    if (await prompt.confirm(`${what}. Is it your mirror of Helix's sandbox image?`)) return true;
    console.log("Nothing was written.");
    return false;
}

/**
 * Refuses an existing stack file that is not a sandbox stack already: writing `workload: sandbox`
 * into a runner stack would make its next deploy replace the runners. `workload` is the file's
 * own value, undefined when it does not set it.
 */
function requireSandboxStack(workload: string | undefined, file: string, scriptPath: string): void {
    // Undefined when the file leaves workload to Pulumi.yaml's default (runner), or sets no workload the program knows.
    const kind: WorkloadKind | undefined = WORKLOADS.find((k) => k === workload);
    switch (kind) {
        case undefined:
        case "runner":
            throw new UserError(
                `${shown(file)} is a runner stack (workload ${workload === undefined ? "not set" : `set to ${String(workload)}`}): ` +
                    `importing ${scriptPath} would turn it into a sandbox stack, and its next deploy would replace its runners with sandboxes. ` +
                    `Import into a new stack (--stack NAME), or set workload: sandbox in ${shown(file)} first. Nothing was written.`,
            );
        case "sandbox":
            return;
        default: {
            const never: never = kind;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}
