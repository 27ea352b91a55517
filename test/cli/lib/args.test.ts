// The commands' one parser: what it refuses and how it says so, and what npm leaves
// behind when an option is typed before `--` (checked once through npm itself).
import { BAD_INPUT } from "../../../bench/badInput";
import { BENCH_SANDBOX } from "../../../bench/sandbox";
import { spawnSync } from "node:child_process";
import { CommandSpec, helpText, parseCommandLine, usageLine } from "../../../cli/lib/args";
import { DEPLOY } from "../../../cli/deploy";
import { IMPORT_ENV } from "../../../cli/importEnv";
import { LOGS } from "../../../cli/logs";
import { PLAN } from "../../../cli/plan";
import { STATUS } from "../../../cli/status";
import { ROOT } from "./scratch";

const COMMANDS: ReadonlyArray<readonly [string, CommandSpec, string]> = [
    ["plan", PLAN, "npm run plan -- [--stack NAME] [--check-hosts]"],
    ["deploy", DEPLOY, "npm run deploy -- [--stack NAME] [--preview] [--destroy] [--yes] [--create] [--skip-host-checks]"],
    ["import-env", IMPORT_ENV, "npm run import-env -- PATH [--stack NAME] [--set-token] [--allow-mirror]"],
    ["status", STATUS, "npm run status -- [--stack NAME] [--watch] [--json]"],
    ["logs", LOGS, "npm run logs -- [RUNNER] [--stack NAME] [--all] [--follow] [--since WHEN]"],
];

/** The message parseCommandLine throws, or "" when it accepts. */
function refusal(spec: CommandSpec, argv: string[], env: NodeJS.ProcessEnv = {}): string {
    try {
        parseCommandLine(spec, argv, env);
        return "";
    } catch (err) {
        return (err as Error).message;
    }
}

/** What npm itself sets in a script's environment (npm 11), none of it an option of ours. */
const NPM_OWN = {
    npm_config_user_agent: "npm/11.19.1 node/v20.20.2 linux x64 workspaces/false",
    npm_config_cache: "/root/.npm",
    npm_config_yes: "",
    npm_config_audit: "",
    npm_config_loglevel: "silent",
    npm_config_prefix: "/usr",
    npm_lifecycle_event: "deploy",
};

describe.each(COMMANDS)("npm run %s", (_, spec, usage) => {
    it("has a usage line and --help / -h", () => {
        expect(usageLine(spec)).toBe(usage);
        expect(helpText(spec).split("\n")[0]).toBe(`Usage: ${usage}`);
        expect(parseCommandLine(spec, ["--help"]).help).toBe(true);
        expect(parseCommandLine(spec, ["-h"]).help).toBe(true);
    });

    it.each([
        [["-s", "fleet"], "Unknown option -s (-s is not short for --stack here: write --stack NAME); known options: --stack"],
        [["--stak", "fleet"], "Unknown option --stak; known options: --stack"],
        [["--stack"], "--stack needs a value."],
        [["--stack", "--json"], "--stack needs a value."],
        [["--stack", "a", "--stack", "b"], "--stack is given twice."],
    ])("refuses %j with the usage line", (argv, message) => {
        const text = refusal(spec, argv);
        expect(text).toContain(message);
        expect(text).toContain(`Usage: ${usage}`);
    });

    it("accepts nothing npm sets for itself", () => {
        expect(refusal(spec, spec === IMPORT_ENV ? ["x.env"] : [], NPM_OWN)).toBe("");
    });

    it("refuses --stack that npm took for itself, with the spelling that works", () => {
        // `npm run <cmd> --stack fleet`: npm keeps --stack (as "true") and passes fleet on as an argument.
        expect(refusal(spec, ["fleet"], { ...NPM_OWN, npm_config_stack: "true" })).toBe(
            `npm took --stack for itself (options go after \`--\` in \`npm run\`), so ${spec.name} never saw it; run: npm run ${spec.name} -- --stack fleet`,
        );
    });
});

describe("arguments a command does not take", () => {
    it.each(
        [
            [STATUS, ["fleet"], "Unexpected argument fleet: status takes no arguments (a stack is named with --stack fleet)."],
            [STATUS, ["--", "fleet"], "Unexpected argument fleet: status takes no arguments"],
            [PLAN, ["fleet"], "Unexpected argument fleet: plan takes no arguments (a stack is named with --stack fleet)."],
            [DEPLOY, ["up"], "Unexpected argument up: deploy takes no arguments"],
            [LOGS, ["1", "2"], "Unexpected argument 2: logs takes RUNNER only."],
            [IMPORT_ENV, [], "import-env needs PATH."],
            [DEPLOY, ["--preview=no"], "--preview takes no value (got --preview=no)."],
            [STATUS, ["--yes"], "Unknown option --yes; known options: --stack, --watch, --json."],
        ].map(([spec, argv, message]) => [(spec as CommandSpec).name, spec, argv, message] as const),
    )("%s refuses arguments it does not take (case %#)", (_name, spec, argv, message) => {
        expect(refusal(spec as CommandSpec, argv as string[])).toContain(message);
    });

    it("reads flags, values and positionals", () => {
        expect(parseCommandLine(LOGS, ["r-1", "--since=10m", "--follow", "--stack", "fleet"])).toEqual({
            values: { since: "10m", follow: true, stack: "fleet" },
            positionals: ["r-1"],
            help: false,
        });
    });
});

describe("options npm took for itself", () => {
    it.each(
        [
            [DEPLOY, [], { npm_config_preview: "true" }, "npm took --preview for itself", "run: npm run deploy -- --preview"],
            [DEPLOY, [], { npm_config_destroy: "true" }, "npm took --destroy for itself", "run: npm run deploy -- --destroy"],
            [
                DEPLOY,
                [],
                { npm_config_stack: "prod", npm_config_yes: "true" },
                "npm took --stack, --yes for itself",
                "run: npm run deploy -- --stack prod --yes",
            ],
            [
                IMPORT_ENV,
                ["runner.env"],
                { npm_config_set_token: "true" },
                "npm took --set-token",
                "run: npm run import-env -- --set-token runner.env",
            ],
            [
                LOGS,
                [],
                { npm_config_all: "true", npm_config_follow: "true" },
                "npm took --all, --follow",
                "run: npm run logs -- --all --follow",
            ],
            [STATUS, [], { npm_config_json: "true" }, "npm took --json", "run: npm run status -- --json"],
            // Not an option of plan's, but typed before `--` it is still lost: say so rather than run without it.
            [PLAN, [], { npm_config_yes: "true" }, "npm took --yes", "run: npm run plan -- --yes"],
        ].map(([spec, ...rest]) => [(spec as CommandSpec).name, spec, ...rest] as const),
    )("%s refuses what npm took (case %#), spelling it right", (_name, spec, argv, env, what, fix) => {
        const message = refusal(spec as CommandSpec, argv as string[], { ...NPM_OWN, ...(env as NodeJS.ProcessEnv) });
        expect(message).toContain(what);
        expect(message).toContain(fix);
    });
});

describe("through npm itself", () => {
    /** The environment of a shell that did not come through npm: what an operator types `npm run` in. */
    const shellEnv = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") && k !== "INIT_CWD" && k !== "ZED_RUNNER_API_TOKEN"),
    );
    const npm = (args: string[]) =>
        spawnSync("npm", args, { cwd: ROOT, env: shellEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

    it("refuses `npm run plan --stack fleet` instead of showing the dev stack", () => {
        const result = npm(["run", "plan", "--stack", "fleet"]);
        expect(result.stderr).toContain("npm took --stack for itself");
        expect(result.stderr).toContain("run: npm run plan -- --stack fleet");
        expect(result.stdout).not.toContain("Stack dev");
        expect(result.status).toBe(1);
    });

    it("refuses `npm run deploy --preview` before anything runs", () => {
        const result = npm(["run", "deploy", "--preview"]);
        expect(result.stderr).toContain("run: npm run deploy -- --preview");
        expect(result.status).toBe(1);
    });
});

describe("npm run bench:bad-input", () => {
    it("answers --help and refuses any argument, since it takes none", () => {
        expect(usageLine(BAD_INPUT)).toBe("npm run bench:bad-input");
        expect(parseCommandLine(BAD_INPUT, ["--help"]).help).toBe(true);
        expect(refusal(BAD_INPUT, ["--quick"])).toBe(
            "Unknown option --quick; known options: none.\nUsage: npm run bench:bad-input (--help for more)",
        );
        expect(refusal(BAD_INPUT, ["16kB"])).toContain("Usage: npm run bench:bad-input (--help for more)");
    });
});

describe("npm run bench:sandbox", () => {
    it("answers --help and takes only --rounds", () => {
        expect(usageLine(BENCH_SANDBOX)).toBe("npm run bench:sandbox -- [--rounds VALUE]");
        expect(parseCommandLine(BENCH_SANDBOX, ["--help"]).help).toBe(true);
        expect(parseCommandLine(BENCH_SANDBOX, ["--rounds", "5"]).values.rounds).toBe("5");
        expect(refusal(BENCH_SANDBOX, ["--quick"])).toBe(
            "Unknown option --quick; known options: --rounds.\nUsage: npm run bench:sandbox -- [--rounds VALUE] (--help for more)",
        );
    });
});
