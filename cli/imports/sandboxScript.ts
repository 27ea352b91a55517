// Reading the sandbox.sh that Helix's `install.sh --sandbox` writes (checked against 2.12.2's
// installer), for `npm run import-env`; what its settings become in a sandbox stack is
// sandboxImport.ts's. The script is bash, not an env file, and it is read the way bash would run
// it (parsed by shellSyntax.ts): install.sh fills a block of `NAME="value"` lines at the top, and
// the script's own logic (which builds flag variables per GPU vendor inside if-blocks) ends in
// one `docker run` of ghcr.io/helixml/helix-sandbox. Only the block and that run are read: each
// setting's value unquoted as bash unquotes it, the flag variables evaluated down the branches
// bash would take, and every word of the run expanded and put through the flags install.sh
// writes. Whatever could change what bash runs and is not install.sh's own (another assignment
// of a setting in any form, a command install.sh does not run, another docker command, a heredoc,
// a function) is refused with its line, never guessed. Pure: reads a string, no I/O.
import { GPU_VENDORS, SANDBOX_ENV, SANDBOX_IMAGE_REPOSITORY, maskValue } from "../../contract";
import { UserError } from "../lib/errors";
import {
    type AndOr,
    type Assignment,
    type Command,
    type List,
    type Part,
    type SimpleCommand,
    type Word,
    ShellSyntaxError,
    asAssignment,
    display,
    literal,
    parseShell,
} from "./shellSyntax";

/** Where a value came from, so a refusal names the line the operator fixes. */
export interface ScriptValue {
    readonly value: string;
    /** 1-based line number in sandbox.sh. */
    readonly line: number;
}

/** What sandbox.sh sets: its settings block, what its `docker run` passes, and the image. */
export interface SandboxScript {
    /** The settings block's values, as bash unquotes them. */
    readonly assignments: Readonly<Record<string, ScriptValue>>;
    /** The `-e` flags of the `docker run` (those its flag variables add included), expanded. */
    readonly env: Readonly<Record<string, ScriptValue>>;
    /** The GPU flags the run passes (`--gpus all`, `--runtime nvidia`, `--device /dev/dri`), which the stack adds from gpuVendor. */
    readonly gpuFlags: readonly ScriptValue[];
    readonly image: ScriptValue;
    /** The setting the image's tag is read from (install.sh's template writes ${SANDBOX_TAG}); undefined when the tag is written out. */
    readonly imageTagSetting: string | undefined;
    /** The script switches HELIX_API_URL to Helix's compose service when a control plane container runs beside it. */
    readonly composeApiFallback: boolean;
}

/**
 * Whether `text` is a script (a `#!` first line, past an editor's byte-order mark, which
 * readSandboxScript then refuses), to be read as install.sh's sandbox.sh. An env file never
 * starts with `#!`.
 */
export function isSandboxScript(text: string): boolean {
    return text.replace(/^\uFEFF/, "").startsWith("#!");
}

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
const EXTRA_SETTINGS: readonly string[] = [SANDBOX_ENV.registry];

/**
 * The variables the script builds and expands, unquoted, into its `docker run`: what the run
 * passes is their value when bash reaches it, so that is what is read.
 */
const RUN_VARIABLES = new Set(["GPU_FLAGS", "GPU_ENV_FLAGS", "PRIVILEGED_DOCKER_FLAGS", "VIRTIO_FLAGS", "DOCKER_VOLUME"]);

/**
 * The script's other working variables: its folder (to source the .env beside it), the compose
 * label it checks, and its image clean-up's list and counters. None reaches the `docker run`.
 */
const SCRIPT_WORKING_VARIABLES = new Set(["SCRIPT_DIR", "NETWORK_LABEL", "ALL_SANDBOX_IMAGES", "IMAGE_TAG", "REMOVED_COUNT", "KEPT_COUNT"]);

/** The loop variables of install.sh's own loops: its old images, and the neuron devices. */
const LOOP_VARIABLES = new Set(["image", "neuron_dev"]);

/**
 * The commands sandbox.sh runs besides docker, set and source: none of them sets a variable or
 * runs another command, so none changes what the `docker run` passes. Anything else (declare,
 * read, eval, printf -v, let, unset, alias, sudo, sh, ...) might, and is refused.
 */
const SCRIPT_COMMANDS = new Set(["[", "echo", "cd", "dirname", "pwd", "grep", "sort", "exit", "true"]);

/**
 * The docker commands sandbox.sh runs besides its one `docker run`: it looks for a control plane
 * and for the old sandbox, removes that, checks or creates helix_default, and cleans up old
 * images. Each as bash passes its arguments; "*" is any word written out, "$image" the loop's.
 */
const SCRIPT_DOCKER_COMMANDS: readonly (readonly string[])[] = [
    ["ps", "--format", "*"],
    ["ps", "-a", "--format", "*"],
    ["network", "inspect", "helix_default"],
    ["network", "inspect", "helix_default", "--format", "*"],
    ["network", "create", "helix_default"],
    ["stop", "helix-sandbox"],
    ["rm", "helix-sandbox"],
    ["rm", "-f", "helix-sandbox"],
    ["images", "--format", "*"],
    ["rmi", "$image"],
];

/** docker subcommands that start a container: another one is a second sandbox, or something else privileged. */
const RUN_LIKE = new Set(["run", "create", "start", "restart", "exec", "container", "compose", "service", "stack"]);

/**
 * The `docker run` flags install.sh writes, beside `-e` (read for its settings) and the image:
 * the GPU flags its flag variables add (which the stack adds from gpuVendor), and flags whose
 * values the stack sets itself (name, network, volumes, devices, cgroup rules). Flags from the
 * flag variables go through this table as the ones written out do.
 */
const DOCKER_RUN_FLAGS: Readonly<Record<string, readonly string[] | "none">> = {
    "--privileged": "none",
    "-d": "none",
    "--detach": "none",
    "--restart": ["always"],
    "--name": ["helix-sandbox"],
    "--network": ["helix_default"],
    "--gpus": ["all"],
    "--runtime": ["nvidia"],
    "--device": ["/dev/uinput", "/dev/uhid", "/dev/dri", "/dev/kfd"],
    "--device-cgroup-rule": ["c 13:* rmw", "c 226:* rmw"],
    "-v": [
        "${DOCKER_VOLUME}:/var/lib/docker",
        "sandbox-data:/data",
        "hydra-storage:/hydra-data",
        "/run/udev:/run/udev:rw",
        "/var/run/sandbox:/var/run/sandbox:rw",
    ],
};

/** The GPU flags among DOCKER_RUN_FLAGS: the stack adds them from gpuVendor, so sandboxImport checks them against it. */
const GPU_FLAGS = new Set(["--gpus all", "--runtime nvidia", "--device /dev/dri", "--device /dev/kfd"]);

/**
 * `-e` flags whose value is a setting of the block, which is where import-env reads it: the run
 * must pass each as install.sh writes it, `-e NAME="$NAME"`, or it would pass what is not imported.
 */
export const FLAGS_FROM_SETTINGS: ReadonlySet<string> = new Set([
    SANDBOX_ENV.apiUrl,
    SANDBOX_ENV.instanceId,
    SANDBOX_ENV.token,
    "MAX_SANDBOXES",
    "HELIX_HOSTNAME",
]);

/** What install.sh assigns SCRIPT_DIR, as written: the script's own folder, where the .env it sources is. */
const SCRIPT_DIR_AS_WRITTEN = '$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)';

/** What install.sh writes into DOCKER_VOLUME: the .env's SANDBOX_DOCKER_VOLUME, else its default (the virtio one for virtio). */
const DOCKER_VOLUME_DEFAULTS = ["sandbox-storage", "/var/lib/helix-sandbox-docker"];
/** DOCKER_VOLUME's value as it stands for install.sh's own: the stack names each sandbox's volume itself. */
const DOCKER_VOLUME_AS_WRITTEN = "${DOCKER_VOLUME}";

const isSetting = (name: string) => (SCRIPT_SETTINGS as readonly string[]).includes(name) || EXTRA_SETTINGS.includes(name);
const isDocker = (command: string | undefined) => command === "docker" || (command?.endsWith("/docker") ?? false);
/** The settings and run variables named in a text as bash would read a name (not as part of a longer one). */
const TRACKED = new RegExp(`(?<![A-Za-z0-9_])(${[...SCRIPT_SETTINGS, ...EXTRA_SETTINGS, ...RUN_VARIABLES].join("|")})(?![A-Za-z0-9_])`);
/** A value as a message may show it: credentials masked, cut short, control characters escaped. */
const excerpt = (text: string) => maskValue(text, 60);
/** Characters bash expands as a file pattern in an unquoted word. */
const GLOB = /[*?[]/;
/** A `${NAME:-default}` default import-env reads as written: no quotes, expansions or escapes to model. */
const PLAIN_DEFAULT = /^[^'"\\$`]*$/;

/**
 * Why GPU_VENDOR's value is one the stack cannot run, or undefined. The reader says it too: the
 * branch install.sh takes for such a vendor (neuron's device loop, virtio's binds) is refused
 * there, and the vendor is the fix.
 */
export function gpuVendorProblem(gpu: ScriptValue): string | undefined {
    if (gpu.value === "" || (GPU_VENDORS as readonly string[]).includes(gpu.value)) return undefined;
    return `line ${gpu.line}: ${SANDBOX_ENV.gpuVendor} is ${excerpt(gpu.value)}; gpuVendor takes ${GPU_VENDORS.join(", ")} (neuron and virtio are not supported)`;
}

/** Every occurrence of `token` in `text` masked, so no message carries the token, wherever it was quoted from. */
export function maskToken(text: string, token: string | undefined): string {
    return token !== undefined && token.length >= 8 ? text.split(token).join("***") : text;
}

/**
 * Reads sandbox.sh's settings the way bash would run them (the module's header says what is
 * read and what is refused). Refuses, by line and writing nothing: a file that is not a bash
 * script as install.sh writes it (a byte-order mark, DOS line ends, another interpreter), any
 * shell it does not understand, and a `docker run` that does not end in Helix's sandbox image.
 */
export function readSandboxScript(text: string, file: string): SandboxScript {
    refuseOtherFiles(text, file);
    let list: List;
    const problems: string[] = [];
    try {
        const parsed = parseShell(text);
        list = parsed.list;
        problems.push(...parsed.problems.map((p) => `line ${p.line}: ${p.message}`));
    } catch (err) {
        if (err instanceof ShellSyntaxError) throw notUnderstood(file, [`line ${err.line}: ${err.message}`], undefined);
        throw err;
    }
    const main = list.find(isMainRun);
    const reading = new Reading(main, problems);
    walk(list, TOP, (command, ctx) => reading.check(command, ctx));
    if (main === undefined) {
        if (reading.dockerRuns === 0)
            throw new UserError(`${file} runs no \`docker run\`: it is not the sandbox.sh Helix's install.sh writes.`);
        problems.unshift(
            "no `docker run` is a command of its own at the top of the script, as install.sh writes it: import-env cannot tell which one runs the sandbox",
        );
        throw notUnderstood(file, problems, reading.token);
    }
    const gpu = reading.block.get(SANDBOX_ENV.gpuVendor);
    const gpuProblem = gpu && gpuVendorProblem(gpu);
    if (gpuProblem) problems.unshift(gpuProblem);
    const run = main.pipelines[0].commands[0] as SimpleCommand;
    const state = reading.evaluate(list, main);
    const { env, gpuFlags } = reading.readRun(run, state);
    const image = reading.readImage(run, file);
    if (problems.length > 0) throw notUnderstood(file, [...new Set(problems)], reading.token);
    return {
        assignments: Object.fromEntries(reading.block),
        env,
        gpuFlags,
        image: image.image,
        imageTagSetting: image.tagSetting,
        composeApiFallback: reading.composeApiFallback,
    };
}

function notUnderstood(file: string, problems: readonly string[], token: string | undefined): UserError {
    return new UserError(
        maskToken(
            `${file} sets what import-env does not understand:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
                "Remove those lines, or set the matching keys by hand (docs/sandbox.md), and run import-env again. Nothing was written.",
            token,
        ),
    );
}

/**
 * install.sh's sandbox.sh is about 200 lines and 8 kB. A script many times that is no edit of
 * it, and refusing it unread keeps a hostile one from costing seconds.
 */
const MAX_SCRIPT_BYTES = 64 * 1024;
const MAX_SCRIPT_LINES = 2000;

/** A file that only claims to be install.sh's sandbox.sh: what bash would make of it differs from what it shows. */
function refuseOtherFiles(text: string, file: string): void {
    const nothing = "Nothing was written.";
    if (text.length > MAX_SCRIPT_BYTES || text.split("\n", MAX_SCRIPT_LINES + 1).length > MAX_SCRIPT_LINES)
        throw new UserError(
            `${file} is over ${MAX_SCRIPT_LINES} lines or ${MAX_SCRIPT_BYTES / 1024} kB; install.sh's sandbox.sh is about 200 lines: import-env reads no larger script. ${nothing}`,
        );
    if (text.startsWith("\uFEFF"))
        throw new UserError(
            `${file} starts with a byte-order mark (an editor's, before its #! line), so it is no script the kernel runs as bash: ` +
                `it would run under another shell, or not at all. install.sh writes none: save it without one (UTF-8 without BOM) and run import-env again. ${nothing}`,
        );
    const crlf = text.indexOf("\r");
    if (crlf >= 0)
        throw new UserError(
            `${file} has DOS (CRLF) line ends (line ${lineAt(text, crlf)} first): bash would read a carriage return into every value ` +
                `(GPU_VENDOR would be "nvidia\\r"), and none of its settings is what it shows. Convert it (\`dos2unix ${file}\`, or \`sed -i 's/\\r$//' ${file}\`) and run import-env again. ${nothing}`,
        );
    const nul = text.indexOf("\0");
    if (nul >= 0)
        throw new UserError(
            `${file} has a NUL byte on line ${lineAt(text, nul)}: it is no text bash reads as install.sh writes it. ${nothing}`,
        );
    const firstLine = text.slice(0, (text.indexOf("\n") + 1 || text.length + 1) - 1);
    if (!/^#!\s*(?:\/usr)?\/bin\/bash(?:\s+-[A-Za-z]+)*\s*$|^#!\s*\/usr\/bin\/env\s+bash\s*$/.test(firstLine))
        throw new UserError(
            // Not excerpt(): a `#` would read as a URL's fragment and be masked; a #! line holds no credentials.
            `${file} starts with ${firstLine.length > 60 ? `${firstLine.slice(0, 57)}...` : firstLine}: it is a script, but not for bash, which install.sh's sandbox.sh (#!/bin/bash) is. ${nothing}`,
        );
    if (!text.includes("helix-sandbox"))
        throw new UserError(
            `${file} is a script (#!/bin/bash) that never names Helix's sandbox image: import-env reads Helix's runner env file ` +
                `or the sandbox.sh install.sh writes, which runs ${SANDBOX_IMAGE_REPOSITORY}. ${nothing}`,
        );
}

const lineAt = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** Where a command stands, for what bash makes of an assignment there. */
interface Context {
    /** Inside an if, case, loop or other compound command, or a command substitution. */
    readonly nested: boolean;
    /** Joined to others with &&, || or |, negated with !, or sent to the background. */
    readonly listed: boolean;
    readonly background: boolean;
    /** The condition of the `if` whose body it is directly in. */
    readonly ifCondition: List | undefined;
}

const TOP: Context = { nested: false, listed: false, background: false, ifCondition: undefined };
const INNER: Context = { nested: true, listed: false, background: false, ifCondition: undefined };

/** Every command of `list` in the order of the text, those inside compound commands and substitutions included. */
function walk(list: List, ctx: Context, visit: (command: Command, ctx: Context) => void): void {
    for (const andOr of list) {
        for (const pipeline of andOr.pipelines) {
            for (const command of pipeline.commands) {
                const listed = ctx.listed || andOr.pipelines.length > 1 || pipeline.negated || pipeline.commands.length > 1;
                visit(command, { ...ctx, listed: listed || andOr.background, background: ctx.background || andOr.background });
                const words = (w: Word) => walkWord(w, visit);
                switch (command.kind) {
                    case "simple":
                        command.assignments.forEach((a) => words(a.value));
                        command.words.forEach(words);
                        break;
                    case "if":
                        for (const clause of command.clauses) {
                            walk(clause.condition, INNER, visit);
                            walk(clause.body, { ...INNER, ifCondition: clause.condition }, visit);
                        }
                        if (command.elseBody) walk(command.elseBody, INNER, visit);
                        break;
                    case "case":
                        words(command.word);
                        for (const item of command.items) {
                            item.patterns.forEach(words);
                            walk(item.body, INNER, visit);
                        }
                        break;
                    case "for":
                        command.words.forEach(words);
                        walk(command.body, INNER, visit);
                        break;
                    case "other":
                        command.words.forEach(words);
                        for (const inner of command.lists) walk(inner, INNER, visit);
                        break;
                    default: {
                        const never: never = command;
                        throw new Error(`Unknown command ${JSON.stringify(never)}`);
                    }
                }
                command.redirects.forEach((r) => words(r.target));
            }
        }
    }
}

function walkWord(word: Word, visit: (command: Command, ctx: Context) => void): void {
    for (const part of word.parts) {
        if (part.kind === "command") walk(part.body, INNER, visit);
        else if (part.kind === "param" && part.arg) walkWord(part.arg, visit);
    }
}

/** install.sh's `docker run`: `docker run ...` at the top of the script, a command of its own. */
function isMainRun(andOr: AndOr): boolean {
    const [pipeline, ...more] = andOr.pipelines;
    const command = pipeline.commands[0];
    return (
        more.length === 0 &&
        !andOr.background &&
        !pipeline.negated &&
        pipeline.commands.length === 1 &&
        command.kind === "simple" &&
        literal(command.words[0] ?? { parts: [], raw: "", line: 0 }) === "docker" &&
        command.words[1] !== undefined &&
        literal(command.words[1]) === "run"
    );
}

/** A flag variable's value where the `docker run` expands it; "unknown" when bash's path to it cannot be told. */
type RunState = Map<string, ScriptValue | "unknown">;

/** One argument of the `docker run` as bash passes it, and where it was written. */
interface Field {
    readonly value: string;
    readonly line: number;
    /** The flag variable it came from, when it did. */
    readonly via: string | undefined;
    /** The word of the run it came from. */
    readonly word: Word;
    /** Refused already: it stands in its place, so the flags around it are read as bash pairs them. */
    readonly refused?: true;
}

/** The checks of one script, in the order bash reads it; problems collected, the settings block kept. */
class Reading {
    readonly block = new Map<string, ScriptValue>();
    composeApiFallback = false;
    /** How many docker commands that start a container the script has (the main run's included). */
    dockerRuns = 0;
    /** Names assigned anywhere in the script: a `${NAME:-default}` of any other is the script's own default. */
    private readonly assigned = new Set<string>();
    private readonly mainCommand: SimpleCommand | undefined;
    private readonly mainLine: number;

    constructor(
        main: AndOr | undefined,
        private readonly problems: string[],
    ) {
        this.mainCommand = main?.pipelines[0].commands[0] as SimpleCommand | undefined;
        this.mainLine = main?.line ?? Number.MAX_SAFE_INTEGER;
    }

    get token(): string | undefined {
        return this.block.get(SANDBOX_ENV.token)?.value;
    }

    private problem(line: number, message: string): void {
        this.problems.push(`line ${line}: ${message}`);
    }

    // ---- every command ----

    check(command: Command, ctx: Context): void {
        if (ctx.background)
            this.problem(command.line, "a command sent to the background (&), which install.sh does not write into sandbox.sh");
        switch (command.kind) {
            case "simple":
                return this.checkSimple(command, ctx);
            case "if":
                return;
            case "case":
                this.checkWord(command.word);
                return command.items.forEach((i) => i.patterns.forEach((p) => this.checkWord(p)));
            case "for":
                command.words.forEach((w) => this.checkWord(w));
                this.assigned.add(command.name);
                if (isSetting(command.name) || RUN_VARIABLES.has(command.name))
                    return this.problem(
                        command.line,
                        `\`for ${command.name} in ...\` assigns ${command.name} on every pass, which import-env does not follow`,
                    );
                if (!LOOP_VARIABLES.has(command.name))
                    return this.problem(
                        command.line,
                        `a \`for\` loop over ${excerpt(command.name)}, which install.sh does not write into sandbox.sh`,
                    );
                return;
            case "other": {
                const docker = isDocker(command.functionName);
                return this.problem(
                    command.line,
                    `${command.what}, which install.sh does not write into sandbox.sh and import-env does not read` +
                        (docker ? ": bash would run it in place of every docker command after it" : ""),
                );
            }
            default: {
                const never: never = command;
                throw new Error(`Unknown command ${JSON.stringify(never)}`);
            }
        }
    }

    private checkSimple(command: SimpleCommand, ctx: Context): void {
        const name = command.words[0] && literal(command.words[0]);
        // `export NAME=value` is an assignment, as bash takes it.
        const exported =
            name === "export" && command.assignments.length === 0 && command.words.length > 1
                ? command.words.slice(1).map(asAssignment)
                : undefined;
        if (exported?.every((a) => a !== undefined)) {
            for (const a of exported as Assignment[]) this.checkAssignment(a, ctx);
            return;
        }
        if (command.words.length === 0) {
            for (const a of command.assignments) this.checkAssignment(a, ctx);
        } else {
            for (const a of command.assignments) {
                this.assigned.add(a.name);
                this.checkWord(a.value);
                this.problem(
                    a.line,
                    isSetting(a.name)
                        ? `${a.name}'s value is followed by more on its line: bash would run that as a command with the variable set. Quote the whole value`
                        : `${a.name}=... before a command sets it for that command only, which install.sh does not write`,
                );
            }
            this.checkCommand(command, name, ctx);
        }
        command.redirects.forEach((r) => this.checkWord(r.target));
    }

    private checkCommand(command: SimpleCommand, name: string | undefined, ctx: Context): void {
        const [first, ...args] = command.words;
        args.forEach((w) => this.checkWord(w));
        this.checkWord(first);
        if (name === undefined)
            return this.problem(
                first.line,
                `the command ${excerpt(display(first))} is an expansion, which import-env cannot follow: install.sh names each command it runs`,
            );
        if (isDocker(name)) return this.checkDocker(command, 0);
        if (name === "set") {
            if (!args.every((w) => /^[-+][aeuxv]+$/.test(literal(w) ?? "")))
                this.problem(command.line, "`set` with options install.sh does not write (it writes `set -a` and `set +a`)");
            return;
        }
        if (name === "source" || name === ".") {
            const sourced = args.map(display);
            if (sourced.length !== 1 || !["$SCRIPT_DIR/.env", "${SCRIPT_DIR}/.env"].includes(sourced[0]))
                this.problem(
                    command.line,
                    `\`${name}\` runs another file (${excerpt(sourced.join(" "))}) as part of the script, which import-env does not read: ` +
                        "install.sh sources only the .env beside the script",
                );
            else if (this.block.size > 0)
                this.problem(
                    command.line,
                    `the .env is sourced after the settings block (${[...this.block.keys()][0]}, line ${[...this.block.values()][0].line}), so bash would take its values over the block's, which import-env does not read: install.sh sources it first`,
                );
            return;
        }
        if (name === "exit" && !ctx.nested && !ctx.listed && command.line < this.mainLine)
            return this.problem(command.line, `\`exit\` before the \`docker run\` on line ${this.mainLine}: bash would never run it`);
        if (SCRIPT_COMMANDS.has(name)) return;
        const dockerAt = command.words.findIndex((w, i) => i > 0 && isDocker(literal(w)));
        if (dockerAt > 0) return this.checkDocker(command, dockerAt);
        const named = command.words.map((w) => TRACKED.exec(display(w))?.[1]).find((n) => n !== undefined);
        this.problem(
            command.line,
            `\`${excerpt(name)}\` is not a command install.sh writes into sandbox.sh, and import-env does not know what it does` +
                (named ? `; it names ${named}, which import-env reads` : ""),
        );
    }

    private checkDocker(command: SimpleCommand, at: number): void {
        const docker = literal(command.words[at]) ?? "docker";
        const args = command.words.slice(at + 1);
        const values = args.map(literal);
        const runLike = values.slice(0, 6).some((v) => v !== undefined && RUN_LIKE.has(v));
        if (runLike) this.dockerRuns++;
        if (command === this.mainCommand) return;
        if (at === 0 && docker === "docker" && SCRIPT_DOCKER_COMMANDS.some((pattern) => matches(pattern, args))) return;
        const how = [
            at > 0 ? `through \`${excerpt(literal(command.words[0]) ?? "?")}\`` : undefined,
            docker !== "docker" ? `as ${excerpt(docker)}` : undefined,
            values[0]?.startsWith("-") ? "with docker's global options (another engine, context or config)" : undefined,
        ].filter((h) => h !== undefined);
        const manner = how.length > 0 ? `, ${how.join(", ")}` : "";
        if (runLike && this.mainCommand)
            return this.problem(
                command.line,
                `a second \`docker run\` (the first is on line ${this.mainLine})${manner}: install.sh's sandbox.sh runs one sandbox`,
            );
        const sub = values.find((v) => v === undefined || !v.startsWith("-"));
        this.problem(
            command.line,
            `a docker command install.sh does not write (docker ${sub === undefined ? "..." : excerpt(sub)}${manner}): besides its one \`docker run\`, ` +
                "sandbox.sh only looks for a control plane and the old helix-sandbox, removes that, checks or creates helix_default, and removes old sandbox images",
        );
    }

    /** A word's expansions: only those that read a value, never one that assigns, and no setting where bash evaluates arithmetic. */
    private checkWord(word: Word): void {
        for (const part of word.parts) {
            if (part.kind === "param") {
                const shape = `\${${part.op === "#len" ? "#" : ""}${part.name}${part.op === "#len" ? "" : part.op}${part.arg ? "..." : ""}}`;
                if (part.op === "=" || part.op === ":=")
                    this.problem(word.line, `${shape} assigns ${part.name} when it is unset, which import-env does not follow`);
                else if ((isSetting(part.name) || RUN_VARIABLES.has(part.name)) && !["", "-", ":-"].includes(part.op))
                    this.problem(
                        word.line,
                        `${shape} is an expansion of ${part.name} import-env does not read: install.sh writes $${part.name}`,
                    );
                const inSubscript = part.subscript === undefined ? null : TRACKED.exec(part.subscript);
                if (part.subscript !== undefined && /[$`(]/.test(part.subscript))
                    this.problem(
                        word.line,
                        `an array subscript with an expansion in it (${excerpt(part.raw)}), which bash runs and import-env does not`,
                    );
                else if (inSubscript)
                    this.problem(
                        word.line,
                        `an array subscript names ${inSubscript[1]}, which bash evaluates as arithmetic (where it can be assigned)`,
                    );
                if (part.arg) this.checkWord(part.arg);
            } else if (part.kind === "arith") {
                const named = TRACKED.exec(part.expression);
                if (named)
                    this.problem(
                        word.line,
                        `arithmetic (${excerpt(part.raw)}) names ${named[1]}, which it can assign: import-env does not evaluate it`,
                    );
            } else if (part.kind === "unsupported") this.problem(word.line, `${part.what}, which import-env does not read`);
        }
    }

    // ---- assignments ----

    private checkAssignment(a: Assignment, ctx: Context): void {
        this.assigned.add(a.name);
        this.checkWord(a.value);
        if (a.subscript) return this.problem(a.line, `${a.name}[...]= sets an array element, which install.sh does not write`);
        if (isSetting(a.name)) return this.settingAssignment(a, ctx);
        if (a.name === "SCRIPT_DIR" && display(a.value) !== SCRIPT_DIR_AS_WRITTEN)
            return this.problem(
                a.line,
                `SCRIPT_DIR is not the script's own folder as install.sh writes it (${SCRIPT_DIR_AS_WRITTEN}): it names the .env the script sources`,
            );
        if (RUN_VARIABLES.has(a.name) || SCRIPT_WORKING_VARIABLES.has(a.name)) return;
        this.problem(a.line, `${a.name} is not a variable install.sh writes into sandbox.sh, and import-env does not know it`);
    }

    /** A setting is read from its one assignment in the block at the top; any other is refused, as bash would use it. */
    private settingAssignment(a: Assignment, ctx: Context): void {
        const { name, line } = a;
        if (
            name === SANDBOX_ENV.apiUrl &&
            !a.append &&
            literal(a.value) === "http://api:8080" &&
            ctx.ifCondition !== undefined &&
            runsDockerPs(ctx.ifCondition)
        ) {
            // install.sh's own switch to Helix's compose service: noted, not imported.
            this.composeApiFallback = true;
            return;
        }
        const first = this.block.get(name);
        if (a.append)
            return this.problem(
                line,
                `${name}+= appends to ${name}, and bash would run with the longer value: write the whole value once in the block at the top`,
            );
        if (ctx.nested)
            return this.problem(
                line,
                `${name} is assigned inside the script's logic, so what bash runs depends on it; set it once in the block at the top`,
            );
        if (ctx.listed)
            return this.problem(
                line,
                `${name} is assigned in a list with &&, || or | (or sent to the background), so whether bash sets it depends on what runs before it; set it once in the block at the top`,
            );
        if (first !== undefined)
            return this.problem(line, `${name} is assigned again (first on line ${first.line}); bash would use this one: keep one`);
        if (line > this.mainLine)
            return this.problem(line, `${name} is assigned after the \`docker run\` on line ${this.mainLine}, which ran without it`);
        const value = this.settingValue(a);
        if (value !== undefined) this.block.set(name, { value, line });
    }

    /**
     * A setting's value as bash unquotes it: text in any quotes, or install.sh's `${NAME:-value}`
     * (the .env's NAME, else value: the script's own value is the one read). Anything else (a
     * command substitution, another variable, a default with quotes or expansions inside, a `~`)
     * is refused rather than guessed. The token's value is never shown.
     */
    private settingValue(a: Assignment): string | undefined {
        const { name, line, value } = a;
        const parts = value.parts.filter((p) => !(p.kind === "text" && p.value === ""));
        const token = name === SANDBOX_ENV.token;
        const unsupported = parts.find((p): p is Extract<Part, { kind: "unsupported" }> => p.kind === "unsupported");
        if (unsupported) {
            this.problem(line, `${name}'s value is ${unsupported.what}, which import-env does not read: write the value in plain quotes`);
            return undefined;
        }
        if (parts.every((p) => p.kind === "text")) {
            const unquoted = value.parts.filter((p) => p.kind === "text" && !p.quoted).map((p) => (p.kind === "text" ? p.value : ""));
            const first = value.parts[0];
            if ((first?.kind === "text" && !first.quoted && first.value.startsWith("~")) || unquoted.some((t) => t.includes(":~"))) {
                this.problem(
                    line,
                    `${name}'s value has an unquoted ~, which bash expands to a home folder: quote it, or write the folder itself`,
                );
                return undefined;
            }
            return literal(value);
        }
        const [only] = parts;
        if (parts.length === 1 && only.kind === "param" && only.name === name && (only.op === ":-" || only.op === "-") && !only.subscript) {
            const raw = only.arg?.raw ?? "";
            if (PLAIN_DEFAULT.test(raw) && !(!only.quoted && raw.startsWith("~"))) return raw;
            this.problem(
                line,
                `${name}'s default (\${${name}${only.op}...}) holds quotes, a $, a \` or a backslash, which import-env does not unquote: write the value itself` +
                    (token ? ", or import without it and deploy with ZED_RUNNER_API_TOKEN" : ""),
            );
            return undefined;
        }
        if (parts.some((p) => p.kind === "param" && p.name === name && (p.op === ":-" || p.op === "-")))
            this.problem(
                line,
                `${name}'s value is more than install.sh's "\${${name}:-value}": bash joins what is written beside it (a } included) to the value, ` +
                    "which import-env does not guess: write the value itself" +
                    (token ? ", or import without it and deploy with ZED_RUNNER_API_TOKEN" : ""),
            );
        else
            this.problem(
                line,
                token
                    ? `${name} is a shell expression (a command substitution or a variable), which import-env does not run: write the token itself, or import without it and deploy with ZED_RUNNER_API_TOKEN`
                    : `${name} is a shell expression (${excerpt(display(value))}), which import-env does not evaluate: write the value itself`,
            );
        return undefined;
    }

    // ---- the flag variables, down the branches bash takes ----

    /** The flag variables' values where the `docker run` expands them: the script run down to it, as far as it can be told. */
    evaluate(list: List, main: AndOr): RunState {
        const state: RunState = new Map();
        const runList = (l: List, unsure: string | undefined): boolean => {
            for (const andOr of l) {
                if (andOr === main) return true;
                andOr.pipelines.forEach((pipeline, i) => {
                    // A pipeline's commands run in subshells: what they assign is gone after it.
                    if (pipeline.commands.length > 1) return;
                    const why =
                        unsure ?? (andOr.background ? "in the background" : i > 0 ? `after the && or || on line ${andOr.line}` : undefined);
                    runCommand(pipeline.commands[0], why);
                });
            }
            return false;
        };
        const runCommand = (command: Command, unsure: string | undefined): void => {
            switch (command.kind) {
                case "simple": {
                    const exported = literal(command.words[0] ?? { parts: [], raw: "", line: 0 }) === "export";
                    const assignments =
                        command.words.length === 0
                            ? command.assignments
                            : exported
                              ? command.words.slice(1).flatMap((w) => asAssignment(w) ?? [])
                              : [];
                    for (const a of assignments) if (RUN_VARIABLES.has(a.name)) this.assignRun(a, unsure, state);
                    return;
                }
                case "if": {
                    let reach = unsure;
                    for (const clause of command.clauses) {
                        runList(clause.condition, reach);
                        const test = reach === undefined ? this.test(clause.condition, state) : undefined;
                        if (test === false) continue;
                        const why =
                            test === true ? reach : (reach ?? `in the \`if\` on line ${command.line}, whose test depends on the host`);
                        runList(clause.body, why);
                        if (test === true) return;
                        reach = why;
                    }
                    if (command.elseBody) runList(command.elseBody, reach);
                    return;
                }
                case "case": {
                    let reach = unsure;
                    const subject = this.staticValue(command.word, state);
                    for (const item of command.items) {
                        const match = reach === undefined && subject !== undefined ? matchesPattern(item.patterns, subject) : undefined;
                        if (match === false) continue;
                        const why =
                            match === true ? reach : (reach ?? `in the \`case\` on line ${command.line}, whose value depends on the host`);
                        runList(item.body, why);
                        if (match === true) return;
                        reach = why;
                    }
                    return;
                }
                case "for":
                    runList(command.body, unsure ?? `in the \`for\` loop on line ${command.line}`);
                    return;
                case "other":
                    for (const inner of command.lists) runList(inner, unsure ?? `in ${command.what} on line ${command.line}`);
                    return;
                default: {
                    const never: never = command;
                    throw new Error(`Unknown command ${JSON.stringify(never)}`);
                }
            }
        };
        runList(list, undefined);
        return state;
    }

    private assignRun(a: Assignment, unsure: string | undefined, state: RunState): void {
        if (unsure !== undefined) {
            this.problem(
                a.line,
                `${a.name} is assigned ${unsure}, so import-env cannot tell what the \`docker run\` on line ${this.mainLine} passes in it`,
            );
            state.set(a.name, "unknown");
            return;
        }
        const value = this.runValue(a, state);
        if (value === undefined) return void state.set(a.name, "unknown");
        if (!a.append) return void state.set(a.name, { value, line: a.line });
        const before = state.get(a.name);
        if (before === undefined)
            this.problem(a.line, `${a.name}+= appends to ${a.name}, which is not set before it: bash takes it from the environment (.env)`);
        state.set(a.name, before === undefined || before === "unknown" ? "unknown" : { value: before.value + value, line: a.line });
    }

    /** A flag variable's value as bash assigns it, or undefined (with the problem) when it cannot be told. */
    private runValue(a: Assignment, state: RunState): string | undefined {
        const { name, value: word } = a;
        if (name === "DOCKER_VOLUME") {
            const parts = word.parts.filter((p) => !(p.kind === "text" && p.value === ""));
            const [only] = parts;
            if (
                parts.length === 1 &&
                only.kind === "param" &&
                only.name === "SANDBOX_DOCKER_VOLUME" &&
                only.op === ":-" &&
                DOCKER_VOLUME_DEFAULTS.includes(only.arg?.raw ?? "")
            )
                return DOCKER_VOLUME_AS_WRITTEN;
            this.problem(
                a.line,
                `DOCKER_VOLUME is ${excerpt(display(word))}; install.sh writes "\${SANDBOX_DOCKER_VOLUME:-sandbox-storage}" there, and the stack gives each sandbox a volume of its own`,
            );
            return undefined;
        }
        let out = "";
        for (const part of word.parts) {
            if (part.kind === "text") {
                out += part.value;
                continue;
            }
            const resolved = part.kind === "param" ? this.resolveParam(part, state) : undefined;
            if (resolved === undefined) {
                this.problem(
                    a.line,
                    `${name} takes ${part.kind === "param" ? excerpt(part.raw) : `${part.kind === "unsupported" ? part.what : "a command substitution or arithmetic"}`}, ` +
                        "which import-env cannot resolve: install.sh builds it from GPU_VENDOR and PRIVILEGED_DOCKER",
                );
                return undefined;
            }
            out += resolved;
        }
        return out;
    }

    /** `$NAME`, `${NAME}` or `${NAME:-default}` where its value is known: a setting, a flag variable, or the script's own default. */
    private resolveParam(part: Extract<Part, { kind: "param" }>, state: RunState): string | undefined {
        if (part.subscript !== undefined || !["", "-", ":-"].includes(part.op)) return undefined;
        const plainDefault = part.op !== "" && PLAIN_DEFAULT.test(part.arg?.raw ?? "") ? (part.arg?.raw ?? "") : undefined;
        if (isSetting(part.name)) {
            if (part.name === SANDBOX_ENV.apiUrl && this.composeApiFallback) return undefined;
            return this.block.get(part.name)?.value ?? plainDefault;
        }
        if (RUN_VARIABLES.has(part.name)) {
            const known = state.get(part.name);
            return known === undefined || known === "unknown" ? undefined : known.value;
        }
        return this.assigned.has(part.name) ? undefined : plainDefault;
    }

    /** A value bash knows before it runs: text, settings and known flag variables; else undefined. */
    private staticValue(word: Word, state: RunState): string | undefined {
        let out = "";
        for (const part of word.parts) {
            const v = part.kind === "text" ? part.value : part.kind === "param" ? this.resolveParam(part, state) : undefined;
            if (v === undefined) return undefined;
            out += v;
        }
        return out;
    }

    /** What an `if`'s test gives where it compares known values (`[ "$GPU_VENDOR" = "nvidia" ]`); undefined otherwise. */
    private test(condition: List, state: RunState): boolean | undefined {
        const [only, ...more] = condition;
        if (!only || more.length > 0 || only.pipelines.length !== 1) return undefined;
        const [pipeline] = only.pipelines;
        const command = pipeline.commands[0];
        if (pipeline.commands.length !== 1 || command.kind !== "simple" || command.assignments.length > 0) return undefined;
        const words = command.words.map((w) => this.staticValue(w, state));
        if (words.some((w) => w === undefined)) return undefined;
        const [name, ...args] = words as string[];
        let result: boolean | undefined;
        if (name === "true" && args.length === 0) result = true;
        else if (name === "[" && args[args.length - 1] === "]") {
            const [a, op, b] = args.slice(0, -1);
            const n = args.length - 1;
            if (n === 3 && (op === "=" || op === "==")) result = a === b;
            else if (n === 3 && op === "!=") result = a !== b;
            else if (n === 2 && a === "-z") result = op === "";
            else if (n === 2 && a === "-n") result = op !== "";
        }
        return result === undefined ? undefined : result !== pipeline.negated;
    }

    // ---- the docker run ----

    /**
     * The run's arguments as bash passes them (settings and flag variables expanded, the flag
     * variables split as bash splits an unquoted word), through DOCKER_RUN_FLAGS: its `-e`
     * settings and GPU flags, and each flag install.sh does not write refused.
     */
    readRun(run: SimpleCommand, state: RunState): { env: Record<string, ScriptValue>; gpuFlags: ScriptValue[] } {
        const fields = run.words.slice(2, -1).flatMap((w) => this.expand(w, state));
        const env: Record<string, ScriptValue> = {};
        const gpuFlags: ScriptValue[] = [];
        const where = (f: Field) => `line ${f.line}${f.via ? ` (${f.via}, expanded in the \`docker run\` on line ${this.mainLine})` : ""}`;
        const refuse = (f: Field, message: string) => this.problems.push(`${where(f)}: ${message}`);
        for (let k = 0; k < fields.length; k++) {
            const field = fields[k];
            if (field.refused) continue;
            const eq = field.value.startsWith("--") ? field.value.indexOf("=") : -1;
            const flag = eq > 0 ? field.value.slice(0, eq) : field.value;
            const inline = eq > 0 ? { ...field, value: field.value.slice(eq + 1) } : undefined;
            if (flag === "-e" || flag === "--env") {
                const setting = inline ?? fields[++k];
                if (setting?.refused) continue;
                if (setting === undefined || setting.value.indexOf("=") <= 0) {
                    refuse(field, `\`${flag} ${excerpt(setting?.value ?? "")}\` passes no NAME=value`);
                    continue;
                }
                const name = setting.value.slice(0, setting.value.indexOf("="));
                const value = setting.value.slice(name.length + 1);
                if (env[name] !== undefined)
                    refuse(
                        setting,
                        `\`docker run\` passes ${excerpt(name)} twice (first on line ${env[name].line}); docker takes the last`,
                    );
                else if (FLAGS_FROM_SETTINGS.has(name) && !this.fromItsSetting(setting, name))
                    refuse(
                        setting,
                        `\`docker run\` passes ${name} other than from the block at the top (install.sh writes -e ${name}="$${name}"): ` +
                            `import-env reads ${name} there, so the sandboxes would run without this one`,
                    );
                env[name] = { value, line: setting.line };
                continue;
            }
            const allowed = DOCKER_RUN_FLAGS[flag === "--volume" ? "-v" : flag];
            if (allowed === undefined) {
                refuse(
                    field,
                    `the \`docker run\` flag ${JSON.stringify(excerpt(flag))} is not one install.sh writes, and the stack has no key for it`,
                );
                continue;
            }
            if (allowed === "none") {
                if (inline !== undefined)
                    refuse(field, `\`${flag}=${excerpt(inline.value)}\` is not what install.sh writes (${flag} alone)`);
                continue;
            }
            const argument = inline ?? fields[++k];
            if (argument?.refused) continue;
            const value = argument?.value ?? "";
            const privileged = this.block.get("PRIVILEGED_DOCKER");
            if (flag !== "--device" && value.startsWith("/var/run/docker.sock:") && privileged?.value === "true")
                // install.sh's own development mode: refused as the setting it comes from.
                this.problem(
                    privileged.line,
                    `PRIVILEGED_DOCKER is true (Helix's development mode: the \`docker run\` binds the host's Docker socket into the sandbox, ` +
                        `${field.via ? `with ${field.via} from line ${field.line}` : `on line ${field.line}`}); ` +
                        "no key sets it and the policy pack refuses it",
                );
            else if (!allowed.includes(value))
                refuse(
                    field,
                    `\`${flag} ${excerpt(value)}\` is not what install.sh writes (${allowed.map((a) => JSON.stringify(a)).join(" or ")}); the stack sets it itself`,
                );
            else if (GPU_FLAGS.has(`${flag} ${value}`)) gpuFlags.push({ value: `${flag} ${value}`, line: field.line });
        }
        return { env, gpuFlags };
    }

    /** Whether a `-e NAME=...` is install.sh's `-e NAME="$NAME"`, written in the run itself. */
    private fromItsSetting(setting: Field, name: string): boolean {
        if (setting.via !== undefined) return false;
        const written = display(setting.word).replace(/^--env=/, "");
        return written === `${name}=$${name}` || written === `${name}=\${${name}}`;
    }

    /** One word of the run as the arguments bash passes for it. */
    private expand(word: Word, state: RunState): Field[] {
        const [only, ...more] = word.parts;
        // `$GPU_FLAGS` and its kind, alone and unquoted as install.sh writes them: split into arguments.
        if (
            more.length === 0 &&
            only?.kind === "param" &&
            RUN_VARIABLES.has(only.name) &&
            only.name !== "DOCKER_VOLUME" &&
            !only.quoted &&
            only.op === ""
        ) {
            const known = state.get(only.name);
            if (known === undefined) {
                this.problem(
                    word.line,
                    `the \`docker run\` expands $${only.name}, which the script does not set before it: bash takes it from the environment (.env), which import-env does not read`,
                );
                return [];
            }
            if (known === "unknown") return [];
            if (GLOB.test(known.value)) {
                this.problem(
                    known.line,
                    `${only.name} holds *, ? or [, which bash expands as a file pattern in the \`docker run\`: import-env cannot tell what it passes`,
                );
                return [];
            }
            return known.value
                .split(/[ \t\n]+/)
                .filter((v) => v !== "")
                .map((value) => ({ value, line: known.line, via: only.name, word }));
        }
        if (word.parts.some((p) => p.kind === "unsupported")) {
            // checkWord said so already.
            return [{ value: "", line: word.line, via: undefined, word, refused: true }];
        }
        let value = "";
        const before = this.problems.length;
        for (const part of word.parts) {
            if (part.kind === "text") {
                if (!part.quoted && (GLOB.test(part.value) || /\{[^}]*(,|\.\.)[^}]*\}/.test(part.value)))
                    this.problem(
                        word.line,
                        `${excerpt(display(word))} is unquoted, so bash would expand it as a pattern or braces: install.sh quotes it`,
                    );
                value += part.value;
            } else if (part.kind === "param" && part.name === "DOCKER_VOLUME" && part.op === "") {
                const known = state.get("DOCKER_VOLUME");
                if (known === undefined)
                    this.problem(
                        word.line,
                        "the `docker run` expands $DOCKER_VOLUME, which the script does not set before it: bash takes it from the environment (.env)",
                    );
                // Unknown: said so where it was assigned (or above); read on as install.sh's.
                value += known === undefined || known === "unknown" ? DOCKER_VOLUME_AS_WRITTEN : known.value;
            } else if (part.kind === "param" && !RUN_VARIABLES.has(part.name)) {
                // A setting or the script's own default (HELIX_FRAME_EXPORT_PORT's); kept as written when it is neither.
                const resolved = this.resolveParam(part, state);
                if (resolved !== undefined && !part.quoted && /\s/.test(resolved))
                    this.problem(
                        word.line,
                        `$${part.name} is unquoted in the \`docker run\`, and bash would split its value into more arguments`,
                    );
                value += resolved ?? part.raw;
            } else if (part.kind === "param")
                this.problem(
                    word.line,
                    `$${part.name} is expanded inside a word of the \`docker run\`; install.sh expands it alone, unquoted`,
                );
            else
                this.problem(
                    word.line,
                    `${part.kind === "unsupported" ? part.what : part.kind === "special" ? `${part.raw}` : part.kind === "arith" ? "arithmetic" : "a command substitution"} ` +
                        "in the `docker run`, which import-env does not run",
                );
        }
        return [{ value, line: word.line, via: undefined, word, ...(this.problems.length > before ? { refused: true as const } : {}) }];
    }

    /**
     * The run's last word, its image: Helix's sandbox image or a mirror's (`.../helix-sandbox`),
     * tagged with the release written out or `${SANDBOX_TAG}`. Anything else is refused at once:
     * without the image there is nothing to import.
     */
    readImage(run: SimpleCommand, file: string): { image: ScriptValue; tagSetting: string | undefined } {
        const word = run.words[run.words.length - 1];
        const fail = (reason: string) =>
            new UserError(
                maskToken(
                    `${file}: the \`docker run\` on line ${this.mainLine} does not end in Helix's sandbox image on a line of its own ` +
                        `(${SANDBOX_IMAGE_REPOSITORY}:<tag>), as install.sh writes it. ${reason} What import-env reads there: ` +
                        `${SANDBOX_IMAGE_REPOSITORY}:<release> (the release written out, or \${SANDBOX_TAG}), or a mirror's ` +
                        "<registry>/<path>/helix-sandbox:<release>, as the run's last word, with no command after it.",
                    this.token,
                ),
            );
        const parts = word.parts.filter((p) => !(p.kind === "text" && p.value === ""));
        const last = parts[parts.length - 1];
        const tagged = last?.kind === "param" && last.name === "SANDBOX_TAG" && last.op === "" && last.subscript === undefined;
        const named = literal({ ...word, parts: tagged ? parts.slice(0, -1) : parts });
        if (run.words.length < 3 || named === undefined || (tagged && !named.endsWith(":")))
            throw fail(
                `It ends in ${excerpt(display(word))} (line ${word.line}), which is no image written out: its tag may be \${SANDBOX_TAG}, and nothing else expanded.`,
            );
        const reference = tagged ? named.slice(0, -1) : named;
        if (reference.includes("@"))
            throw fail(
                `Line ${word.line} pins it by a digest (${excerpt(reference)}), which import-env does not carry over: it reads the release from the tag. ` +
                    "Write the image with its tag here; a digest can then be added by hand (sandboxImage: <image>:<release>@sha256:<digest>, docs/sandbox.md).",
            );
        const colon = reference.indexOf(":", reference.lastIndexOf("/") + 1);
        const repository = colon < 0 ? reference : reference.slice(0, colon);
        const tag = colon < 0 ? undefined : reference.slice(colon + 1);
        if (!/^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?(?:[a-z0-9._-]+\/)*helix-sandbox$/.test(repository))
            throw fail(`It ends in ${excerpt(reference)} (line ${word.line}), which is not Helix's sandbox image.`);
        if (tagged) {
            if (tag !== undefined) throw fail(`Its tag on line ${word.line} is written twice.`);
            const release = this.block.get("SANDBOX_TAG");
            if (last.kind === "param" && !last.quoted && /[\s*?[]/.test(release?.value ?? ""))
                throw fail(
                    `SANDBOX_TAG (line ${release?.line}) holds a space or a pattern, which bash would split or expand in the unquoted \${SANDBOX_TAG}.`,
                );
            return { image: { value: `${repository}:${release?.value ?? "${SANDBOX_TAG}"}`, line: word.line }, tagSetting: "SANDBOX_TAG" };
        }
        if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag))
            throw fail(`Its tag ${excerpt(tag)} (line ${word.line}) is no image tag.`);
        return { image: { value: reference, line: word.line }, tagSetting: undefined };
    }
}

/** Whether an `if`'s condition is install.sh's look for a control plane container (`docker ps ... | grep ...`). */
function runsDockerPs(condition: List): boolean {
    return condition.some((andOr) =>
        andOr.pipelines.some((p) =>
            p.commands.some((c) => c.kind === "simple" && literal(c.words[0]) === "docker" && c.words[1] && literal(c.words[1]) === "ps"),
        ),
    );
}

/** Whether docker's arguments are one of install.sh's own commands (SCRIPT_DOCKER_COMMANDS). */
function matches(pattern: readonly string[], args: readonly Word[]): boolean {
    return (
        pattern.length === args.length &&
        pattern.every((p, i) => {
            const value = literal(args[i]);
            if (p === "$image")
                return ["$image", "${image}"].includes(display(args[i])) && args[i].parts.every((part) => part.kind !== "command");
            return p === "*" ? value !== undefined : value === p;
        })
    );
}

/** Whether a case item's patterns match `subject`: a pattern written out or `*`; undefined for another pattern. */
function matchesPattern(patterns: readonly Word[], subject: string): boolean | undefined {
    let known = true;
    for (const pattern of patterns) {
        const value = literal(pattern);
        const unquotedGlob = pattern.parts.some((p) => p.kind === "text" && !p.quoted && GLOB.test(p.value));
        if (value === "*" && unquotedGlob) return true;
        if (value === undefined || unquotedGlob) known = false;
        else if (value === subject) return true;
    }
    return known ? false : undefined;
}
