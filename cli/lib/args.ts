// The one command-line parser of the operator commands: Node's util.parseArgs splits the
// arguments into tokens, and this module refuses whatever a command does not declare
// (an unknown option, a missing value, a stray argument) with the command's usage line.
// It also notices options npm kept for itself: `npm run deploy --preview` (no `--`) hands
// deploy no flag at all and leaves npm_config_preview=true in the environment instead.
import { parseArgs as tokenize } from "node:util";
import { UserError } from "./errors";

export interface OptionSpec {
    readonly type: "string" | "boolean";
    /** What the option does, for --help. */
    readonly description: string;
    /** The value's placeholder in the usage line, e.g. NAME. */
    readonly valueName?: string;
}

export interface CommandSpec {
    /** The npm script's name: `npm run <name>`. */
    readonly name: string;
    /** What the command does, one sentence, for --help. */
    readonly summary: string;
    readonly options: Readonly<Record<string, OptionSpec>>;
    /** Positional arguments, in order; optional ones last. */
    readonly positionals?: ReadonlyArray<{ readonly name: string; readonly required: boolean; readonly description: string }>;
}

export interface ParsedCommandLine {
    /** Option values: strings for string options, true for flags given. */
    readonly values: Readonly<Record<string, string | boolean | undefined>>;
    readonly positionals: readonly string[];
    /** --help or -h was given: print helpText and exit 0. */
    readonly help: boolean;
}

/**
 * Options users pass to several commands. npm keeps any of them it finds before `--`, so
 * each command looks for all of them, its own and these, in npm's leftovers.
 */
const COMMON_OPTIONS: Readonly<Record<string, "string" | "boolean">> = {
    stack: "string",
    since: "string",
    yes: "boolean",
    create: "boolean",
    preview: "boolean",
    destroy: "boolean",
    help: "boolean",
    all: "boolean",
    follow: "boolean",
    json: "boolean",
    watch: "boolean",
    "set-token": "boolean",
};

/** `npm run deploy -- [--stack NAME] [--preview | --destroy]`, from the spec. */
export function usageLine(spec: CommandSpec): string {
    const options = Object.entries(spec.options).map(([name, o]) =>
        o.type === "string" ? `[--${name} ${o.valueName ?? "VALUE"}]` : `[--${name}]`,
    );
    const positionals = (spec.positionals ?? []).map((p) => (p.required ? p.name : `[${p.name}]`));
    const parts = [...positionals, ...options];
    return parts.length === 0 ? `npm run ${spec.name}` : `npm run ${spec.name} -- ${parts.join(" ")}`;
}

/** What --help prints. */
export function helpText(spec: CommandSpec): string {
    const rows: [string, string][] = [
        ...(spec.positionals ?? []).map((p): [string, string] => [p.name, p.description]),
        ...Object.entries(spec.options).map(([name, o]): [string, string] => [
            o.type === "string" ? `--${name} ${o.valueName ?? "VALUE"}` : `--${name}`,
            o.description,
        ]),
        ["-h, --help", "print this help"],
    ];
    const width = Math.max(...rows.map(([left]) => left.length));
    return [`Usage: ${usageLine(spec)}`, "", spec.summary, "", ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)].join(
        "\n",
    );
}

/** npm's environment name for a config key: --set-token becomes npm_config_set_token. */
function npmConfigName(option: string): string {
    return `npm_config_${option.replace(/-/g, "_")}`;
}

/**
 * Refuses options npm took for itself. npm sets a handful of npm_config_* variables of its
 * own (npm_config_cache, npm_config_user_agent, and npm_config_yes as an empty string), so
 * only the names this command or its siblings take count, and only with a value.
 */
function refuseNpmLeftovers(spec: CommandSpec, argv: readonly string[], env: NodeJS.ProcessEnv): void {
    const names = [...new Set([...Object.keys(spec.options), ...Object.keys(COMMON_OPTIONS)])];
    const taken = names.filter((name) => (env[npmConfigName(name)] ?? "") !== "");
    if (taken.length === 0) return;
    // npm reads `--stack fleet` as the flag --stack and leaves `fleet` as an argument: put it back.
    const rest = [...argv];
    const flags = taken.flatMap((name) => {
        const value = env[npmConfigName(name)]!;
        if ((spec.options[name]?.type ?? COMMON_OPTIONS[name]) !== "string") return [`--${name}`];
        if (value !== "true") return [`--${name}`, value];
        const next = rest.findIndex((a) => !a.startsWith("-"));
        return next >= 0 ? [`--${name}`, ...rest.splice(next, 1)] : [`--${name}`, spec.options[name]?.valueName ?? "VALUE"];
    });
    const spelled = taken.map((n) => `--${n}`).join(", ");
    throw new UserError(
        `npm took ${spelled} for itself (options go after \`--\` in \`npm run\`), so ${spec.name} never saw ${taken.length === 1 ? "it" : "them"}; ` +
            `run: npm run ${spec.name} -- ${[...flags, ...rest].map(shellWord).join(" ")}`,
    );
}

/** A word as a shell would need it typed. */
function shellWord(word: string): string {
    return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Parses `argv` against `spec`, refusing anything it does not declare. Errors carry the
 * usage line, so the operator sees the right spelling next to the mistake.
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedCommandLine {
    const refuse = (message: string): never => {
        throw new UserError(`${message}\nUsage: ${usageLine(spec)} (--help for more)`);
    };
    refuseNpmLeftovers(spec, argv, env);
    const known: Record<string, OptionSpec> = { ...spec.options, help: { type: "boolean", description: "" } };
    // strict: false so that every mistake is seen here, as a token, and explained in the command's terms.
    const { tokens } = tokenize({
        args: [...argv],
        options: Object.fromEntries(
            Object.entries(known).map(([name, o]) => [name, { type: o.type, ...(name === "help" ? { short: "h" } : {}) }]),
        ),
        strict: false,
        allowPositionals: true,
        tokens: true,
    });
    const values: Record<string, string | boolean> = {};
    const positionals: string[] = [];
    let help = false;
    for (const token of tokens) {
        if (token.kind === "positional") positionals.push(token.value);
        if (token.kind !== "option") continue;
        const option = known[token.name];
        if (!option) {
            const list = Object.keys(spec.options).map((k) => `--${k}`);
            const hint = token.rawName === "-s" && spec.options.stack ? " (-s is not short for --stack here: write --stack NAME)" : "";
            refuse(`Unknown option ${token.rawName}${hint}; known options: ${list.join(", ") || "none"}.`);
        }
        if (token.name === "help") {
            help = true;
            continue;
        }
        if (values[token.name] !== undefined) refuse(`--${token.name} is given twice.`);
        if (option.type === "boolean") {
            if (token.value !== undefined) refuse(`--${token.name} takes no value (got ${token.rawName}=${token.value}).`);
            values[token.name] = true;
        } else {
            // `--stack --json`: the next word is an option, not the stack's name.
            if (token.value === undefined || token.value === "" || (!token.inlineValue && token.value.startsWith("-")))
                refuse(`--${token.name} needs a value.`);
            values[token.name] = token.value!;
        }
    }
    if (help) return { values, positionals, help };
    const declared = spec.positionals ?? [];
    if (positionals.length > declared.length) {
        const extra = positionals[declared.length];
        refuse(
            declared.length === 0
                ? `Unexpected argument ${extra}: ${spec.name} takes no arguments${spec.options.stack ? ` (a stack is named with --stack ${extra})` : ""}.`
                : `Unexpected argument ${extra}: ${spec.name} takes ${declared.map((p) => p.name).join(" ")} only.`,
        );
    }
    const missing = declared.find((p, i) => p.required && positionals[i] === undefined);
    if (missing) refuse(`${spec.name} needs ${missing.name}.`);
    return { values, positionals, help };
}
