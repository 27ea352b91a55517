// `npm run status -- [--stack NAME] [--watch] [--json]`: one row per planned runner or sandbox
// (as the stack config planned it) with what its Docker engine says: state, health, restarts, uptime,
// CPU, memory and the control-plane connection from the runner's /health. Exit status 1 when
// a planned runner is missing or not healthy, so a cron job or monitor can use it.
// This file is the command's entry (package.json's `status` script runs it); the rows come
// from the placement's module (cli/placements/), the model and rendering from cli/report/.
import { describeError } from "../contract";
import { dockerFor } from "./engine";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { fetchControlPlaneRelease } from "./lib/controlPlane";
import { placementCommands } from "./placements";
import { DEFAULT_STACK, STACK_OPTION, loadStackFiles, runCommand } from "./stackFiles";
import { statusJson } from "./report/json";
import { EXIT, needsAttention } from "./report/model";
import { renderStatus } from "./report/render";
import { WORKLOAD_COMMANDS } from "./workloads";

export const STATUS: CommandSpec = {
    name: "status",
    summary:
        "One row per planned runner (or sandbox) with what its Docker engine says: state, health, restarts, uptime, CPU, memory, the control-plane link. Exit 0 all healthy, 1 a runner (or sandbox) needs attention, 2 the status could not be taken.",
    options: {
        stack: STACK_OPTION,
        watch: { type: "boolean", description: "refresh every 2 seconds" },
        json: { type: "boolean", description: "print JSON, errors included" },
    },
};

async function main(): Promise<number> {
    const json = process.argv.includes("--json");
    try {
        return await status(process.argv.slice(2), process.env);
    } catch (err) {
        // --json always prints JSON, a failure included.
        const message = describeError(err);
        if (json) console.log(JSON.stringify({ error: message }, null, 2));
        else console.error(message);
        return EXIT.failed;
    }
}

async function status(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
    const { values, help } = parseCommandLine(STATUS, argv, env);
    if (help) {
        console.log(helpText(STATUS));
        return EXIT.healthy;
    }
    const flags = new Set(Object.keys(values).filter((k) => values[k] === true));
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const { parsed } = loadStackFiles(stack);
    const placement = placementCommands(parsed);
    // A sandbox stack's rows say SANDBOX ID and carry sandbox field names; a runner stack's are as they always were.
    const workload = WORKLOAD_COMMANDS[parsed.workload.kind];
    const once = async () => {
        const rows = await placement.status(stack, { docker: (h) => dockerFor(h) });
        // A sandbox stack's releases against the control plane's; nothing for runners.
        const notes = await placement.notes(stack, rows, (apiHost) => fetchControlPlaneRelease(apiHost));
        if (flags.has("json"))
            console.log(
                JSON.stringify({ ...statusJson(stack, new Date(), rows, workload.json), ...(notes.length > 0 ? { notes } : {}) }, null, 2),
            );
        else console.log([...notes, ...(notes.length > 0 ? [""] : []), renderStatus(rows, new Date(), workload.status)].join("\n"));
        return rows;
    };
    if (!flags.has("watch")) return needsAttention(await once()) ? EXIT.attention : EXIT.healthy;
    for (;;) {
        if (!flags.has("json")) process.stdout.write("\x1b[2J\x1b[H");
        await once();
        await new Promise((r) => setTimeout(r, 2000));
    }
}

if (require.main === module) void runCommand(main);
