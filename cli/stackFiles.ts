// Reads a stack's config the way the Pulumi CLI assembles it, without the CLI:
// Pulumi.yaml's declared defaults under Pulumi.<stack>.yaml's values. Encrypted
// (`secure:`) values are present but unreadable here: they stand as SECRET_PLACEHOLDER.
import { describeError, printable } from "../contract";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Document, isMap, isScalar, isSeq } from "yaml";
import { ConfigError, type RawConfig } from "../components/config/values";
import { type ParsedConfig, parseConfig } from "../components/stackPlan";
import { PlanError } from "../components/runner/plan";
import { unpinnedHostName } from "../components/config/warnings";
import { PROJECT_ROOT } from "../components/paths";
import { OptionSpec, parseCommandLine } from "./lib/args";
import { UserError } from "./lib/errors";
import { readYamlFile, shown } from "./lib/files";
import { DEFAULT_PROJECT } from "../components/labels";

/** The project, and so the namespace of its config keys. */
export const PROJECT = DEFAULT_PROJECT;
export { PROJECT_ROOT };

/** The stack every command uses when --stack is not given. */
export const DEFAULT_STACK = "dev";

/** The --stack option every command takes: a stack whose Pulumi.<stack>.yaml exists. */
export const STACK_OPTION = {
    type: "string",
    valueName: "NAME",
    description: `the stack, which must have a Pulumi.<stack>.yaml (default ${DEFAULT_STACK})`,
} as const;

/** Stands for a `secure:` value; never a real secret, and valid wherever a token is. */
export const SECRET_PLACEHOLDER = "[secret]";

export { UserError };

/** More keys than this in a stack file is a mistake (the program reads a few dozen), not a config. */
const MAX_STACK_KEYS = 1000;

export function stackFilePath(stack: string, root = PROJECT_ROOT): string {
    const problem = stackNameProblem(stack);
    if (problem !== undefined) throw new UserError(problem);
    return path.join(root, `Pulumi.${stack}.yaml`);
}

/** Pulumi's stack name: letters, digits, '-', '_' and '.', at most 100 characters. */
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Why `stack` is no name of a stack of this project, or undefined. Every command reads and writes
 * `Pulumi.<stack>.yaml` in the project folder by it, so a name with a path in it would reach files
 * elsewhere; it is refused, as Pulumi refuses it, before any file is read or written.
 */
export function stackNameProblem(stack: string): string | undefined {
    if (STACK_NAME.test(stack)) return undefined;
    const shown = JSON.stringify(stack.length > 60 ? `${stack.slice(0, 57)}...` : stack);
    return (
        `--stack ${shown} is not a stack name: Pulumi takes letters, digits, '-', '_' and '.' (1 to 100 of them), ` +
        "and each stack's config is Pulumi.<stack>.yaml in this folder. Nothing was read or written."
    );
}

/** Pulumi hands structured values to programs as JSON, and scalars as strings. */
function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Replaces every `{ secure: ... }` (at any depth) by the placeholder. */
function hideSecure(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(hideSecure);
    if (value && typeof value === "object") {
        if ("secure" in value && Object.keys(value).length === 1) return SECRET_PLACEHOLDER;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideSecure(v)]));
    }
    return value;
}

export interface StackConfigFile {
    readonly raw: RawConfig;
    /** Keys whose stack value is encrypted. */
    readonly secureKeys: ReadonlySet<string>;
    /** Whether the stack file sets apiToken at all. */
    readonly hasToken: boolean;
    /** The `docker:*` provider keys, without the prefix (encrypted ones left out): the engine the default provider uses. */
    readonly docker: RawConfig;
    /** Every key of another namespace, in full (`docker:host`, `zed_runner:replicas`), for the misspelt-namespace warnings. */
    readonly otherKeys: readonly string[];
}

/** The raw config of `stack`: declared defaults, then the stack file's values. */
export function readStackConfig(stack: string, root = PROJECT_ROOT): StackConfigFile {
    const projectFile = path.join(root, "Pulumi.yaml");
    const stackFile = stackFilePath(stack, root);
    requireStackFile(stack, root);
    const project = readYamlFile(projectFile, "The project file").value;
    const raw: Record<string, string> = {};
    for (const [key, declaration] of Object.entries((project.config ?? {}) as Record<string, { default?: unknown } | null>)) {
        if (declaration && typeof declaration === "object" && declaration.default !== undefined)
            raw[key] = asConfigString(declaration.default);
    }
    const { doc, value: stackDoc } = readYamlFile(stackFile, "The stack file");
    const configNode = doc.get("config", true);
    if (configNode !== undefined && !isMap(configNode))
        throw new UserError(`The stack file ${path.basename(stackFile)}: config must be a map of keys to values.`);
    const pairs = isMap(configNode) ? configNode.items : [];
    if (pairs.length > MAX_STACK_KEYS)
        throw new UserError(
            `The stack file ${path.basename(stackFile)} sets ${pairs.length} config keys; more than ${MAX_STACK_KEYS} is not a zed-runner stack.`,
        );
    const secureKeys = new Set<string>();
    const docker: Record<string, string> = {};
    const otherKeys: string[] = [];
    for (const pair of pairs) {
        const fullKey = String(isScalar(pair.key) ? pair.key.value : pair.key);
        const [namespace, key] = fullKey.includes(":") ? fullKey.split(/:(.*)/s) : [PROJECT, fullKey];
        const value = (stackDoc.config as Record<string, unknown>)[fullKey];
        const visible = hideSecure(value);
        if (namespace !== PROJECT) {
            otherKeys.push(fullKey);
            if (namespace === "docker" && JSON.stringify(visible) === JSON.stringify(value)) docker[key] = asConfigString(value);
            continue;
        }
        if (JSON.stringify(visible) !== JSON.stringify(value)) secureKeys.add(key);
        // Pulumi passes a plain scalar as the text written (0x10, True, 2.0), not as YAML would read it.
        const node = pair.value;
        raw[key] = isScalar(node) && node.type === "PLAIN" && typeof node.source === "string" ? node.source : asConfigString(visible);
    }
    return { raw, secureKeys, hasToken: raw.apiToken !== undefined, docker, otherKeys };
}

/** Stacks with a file in the project folder. */
function listStacks(root = PROJECT_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * Validates a stack's files with the program's own schema. A token not set yet is
 * reported by the caller, not refused: the plan is worth seeing before the secret exists.
 * `resolve` puts in what a command found for the stack's `auto` values before they are pinned.
 */
export function loadStackFiles(
    stack: string,
    root = PROJECT_ROOT,
    resolve: (raw: RawConfig) => RawConfig = (raw) => raw,
): { parsed: ParsedConfig; file: StackConfigFile } {
    const file = readStackConfig(stack, root);
    const raw = resolve(file.hasToken ? file.raw : { ...file.raw, apiToken: SECRET_PLACEHOLDER });
    // Encrypted values cannot be read without the passphrase: present, shown as [secret], not checked here.
    const unreadable = new Set([...file.secureKeys, ...(file.hasToken ? [] : ["apiToken"])]);
    return {
        file,
        parsed: parseConfig(raw, {
            stackName: stack,
            machineHostName: os.hostname(),
            secretKeys: file.secureKeys,
            unreadableKeys: unreadable,
            // The commands use the engine `pulumi up` puts the runners on: the stack's docker:host, if set.
            dockerConfig: file.docker,
            otherKeys: file.otherKeys,
        }),
    };
}

/**
 * `--name value` and `--flag` arguments, refusing any not in `known`: the commands' one
 * parser (lib/args.ts) for callers that only list option names.
 */
export function parseArgs(
    argv: readonly string[],
    known: { values: string[]; flags: string[] },
    name = "this command",
): { values: Record<string, string>; flags: Set<string>; positional: string[] } {
    const options: Record<string, OptionSpec> = {};
    for (const v of known.values) options[v] = { type: "string", description: "" };
    for (const f of known.flags) options[f] = { type: "boolean", description: "" };
    const parsed = parseCommandLine({ name, summary: "", options, positionals: [] }, argv);
    const values: Record<string, string> = {};
    const flags = new Set<string>();
    for (const [k, v] of Object.entries(parsed.values)) {
        if (typeof v === "string") values[k] = v;
        else if (v) flags.add(k);
    }
    return { values, flags, positional: [...parsed.positionals] };
}

/** Whether `stack` has a stack file; when not, a UserError naming the stacks there are. */
export function requireStackFile(stack: string, root = PROJECT_ROOT): void {
    if (fs.existsSync(stackFilePath(stack, root))) return;
    throw new UserError(
        `No stack file ${shown(stackFilePath(stack, root))}: create the stack with \`pulumi stack init ${stack}\` ` +
            `and \`pulumi config set ...\` (or \`npm run deploy -- --stack ${stack} --create\`), or pass --stack with one of: ${listStacks(root).join(", ") || "(none yet)"}.`,
    );
}

/** Writes `values` into the stack file's config, keeping everything else in it (comments too). */
export function writeStackConfig(file: string, values: Record<string, string>): void {
    const doc: Document = fs.existsSync(file) ? readYamlFile(file, "The stack file").doc : new Document({ config: {} });
    if (!isMap(doc.get("config"))) doc.set("config", doc.createNode({}));
    for (const [key, value] of Object.entries(values)) doc.setIn(["config", `${PROJECT}:${key}`], value);
    fs.writeFileSync(file, doc.toString());
}

/**
 * Sets `values` in entry `index` of the stack file's `hosts`, comments kept: a YAML list of maps
 * in place, a list given as JSON text (as `pulumi config set hosts '[...]'` writes it) rewritten.
 */
export function writeHostEntryConfig(file: string, index: number, values: Record<string, string>): void {
    const { doc } = readYamlFile(file, "The stack file");
    const hostsPath = ["config", `${PROJECT}:hosts`];
    const node = doc.getIn(hostsPath, true);
    const listed = isScalar(node) && typeof node.value === "string" ? jsonEntries(node.value) : undefined;
    if (isSeq(node) && isMap(node.get(index, true))) {
        for (const [key, value] of Object.entries(values)) doc.setIn([...hostsPath, index, key], value);
    } else if (isScalar(node) && listed !== undefined && typeof listed[index] === "object" && listed[index] !== null) {
        listed[index] = { ...listed[index], ...values };
        node.value = JSON.stringify(listed);
    } else {
        throw new UserError(
            `The stack file ${shown(file)} has no hosts entry ${index + 1} to write ${Object.keys(values).join(", ")} into.`,
        );
    }
    fs.writeFileSync(file, doc.toString());
}

/** A hosts list given as JSON text, or undefined when it is none. */
function jsonEntries(text: string): Record<string, unknown>[] | undefined {
    try {
        const value: unknown = JSON.parse(text);
        return Array.isArray(value) ? value : undefined;
    } catch {
        return undefined;
    }
}

/** The host name the first deploy of `stack` pins into its file, or undefined when nothing needs pinning. */
export function hostNameToPin(stack: string, root = PROJECT_ROOT, machineHostName = os.hostname()): string | undefined {
    return unpinnedHostName(readStackConfig(stack, root).raw, machineHostName);
}

/** The project's state backend, from Pulumi.yaml's `backend.url`, a relative file:// path made absolute against `root`. */
export function projectBackendUrl(root = PROJECT_ROOT): string | undefined {
    const url = (readYamlFile(path.join(root, "Pulumi.yaml"), "The project file").value.backend as { url?: unknown } | undefined)?.url;
    if (typeof url !== "string" || url === "") return undefined;
    // The Pulumi CLI resolves a relative file:// path against its working folder; the commands run it in `root`.
    if (url.startsWith("file://") && !url.startsWith("file:///") && !url.startsWith("file://~")) {
        return `file://${path.resolve(root, url.slice("file://".length))}`;
    }
    return url;
}

/** Runs a command's main, printing a UserError (or a config error) without a stack trace. */
export async function runCommand(main: () => Promise<number>): Promise<void> {
    try {
        process.exitCode = await main();
    } catch (err) {
        const known = err instanceof UserError || err instanceof ConfigError || err instanceof PlanError;
        console.error(printable(!known && err instanceof Error && err.stack ? err.stack : describeError(err)));
        process.exitCode = 1;
    }
}
