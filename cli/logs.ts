// `npm run logs -- RUNNER [--stack NAME] [--follow] [--since 10m]` and `npm run logs -- --all`:
// one runner's logs, by index or runner ID, or every runner's interleaved with its ID in front.
// What a RUNNER names and how the logs are read depend on the placement (cli/placements/).
import { dockerFor } from "./engine";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { placementCommands } from "./placements";
import type { EngineClients } from "./placements/types";
import { DEFAULT_STACK, PROJECT_ROOT, STACK_OPTION, UserError, loadStackFiles, runCommand } from "./stackFiles";

export const LOGS: CommandSpec = {
    name: "logs",
    summary: "One runner's logs, by index or runner ID, or every runner's (--all) interleaved with its ID in front.",
    positionals: [{ name: "RUNNER", required: false, description: "a runner's index (one host) or runner ID" }],
    options: {
        stack: STACK_OPTION,
        all: { type: "boolean", description: "every runner of the stack" },
        follow: { type: "boolean", description: "keep printing new lines; exit 1 when there is nothing to follow" },
        since: { type: "string", valueName: "WHEN", description: "from a duration ago (10m, 2h, 1d) or a time (2026-11-24T06:00:00Z)" },
    },
};

/** Docker's `since` from "10m", "2h", "30s", "1d" or an ISO time, in Unix seconds. */
export function parseSince(since: string, now: Date = new Date()): number {
    const m = /^(\d+)(s|m|h|d)$/.exec(since);
    if (m) return Math.floor(now.getTime() / 1000) - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
    const t = Date.parse(since);
    if (Number.isNaN(t))
        throw new UserError(`--since takes a duration such as 10m, 2h, 1d or a time such as 2026-11-24T06:00:00Z (got ${since}).`);
    return Math.floor(t / 1000);
}

/** The engines logs reads from; injected so tests give it a double. */
export interface LogsDeps {
    readonly root: string;
    readonly engines: EngineClients;
}

export async function logs(
    argv: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
    deps: LogsDeps = { root: PROJECT_ROOT, engines: { docker: (h) => dockerFor(h) } },
): Promise<number> {
    const { values, positionals, help } = parseCommandLine(LOGS, argv, env);
    if (help) {
        console.log(helpText(LOGS));
        return 0;
    }
    const all = values.all === true;
    const following = values.follow === true;
    if (all && positionals.length > 0) throw new UserError(`Name one runner (${positionals[0]}) or pass --all, not both.`);
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const since = typeof values.since === "string" ? parseSince(values.since) : undefined;
    const { parsed } = loadStackFiles(stack, deps.root);
    return placementCommands(parsed).logs({ stack, which: positionals[0], all, since, follow: following }, deps.engines);
}

if (require.main === module) void runCommand(() => logs(process.argv.slice(2)));
