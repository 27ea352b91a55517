// `npm run plan -- [--stack NAME]`: what a stack will run, per host, from its files alone:
// no Pulumi CLI, no Docker engine. Uses the program's own schema and planner, and says
// what `npm run deploy` would add: the token from ZED_RUNNER_API_TOKEN, the pinned
// hostName, and whether the Zed binary the image build needs is there.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { printable } from "../contract";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { shown } from "./lib/files";
import { foundGpuLines, resolveAutoGpu } from "./checks/autoGpu";
import { hostCheckLines } from "./checks/hostRules";
import type { RawConfig } from "../components/config/values";
import { TOKEN_ENV, envTokenRefusals } from "./deploy";
import { dockerFor } from "./engine";
import type { EngineClients } from "./placements/types";
import { placementCommands } from "./placements";
import {
    DEFAULT_STACK,
    PROJECT_ROOT,
    SECRET_PLACEHOLDER,
    STACK_OPTION,
    hostNameToPin,
    loadStackFiles,
    runCommand,
    stackFilePath,
} from "./stackFiles";

export const PLAN: CommandSpec = {
    name: "plan",
    summary:
        "Prints what a stack will run, per host: runner IDs, containers, ports, image, warnings. Reads Pulumi.yaml and Pulumi.<stack>.yaml only: no Pulumi CLI, no Docker.",
    options: {
        stack: STACK_OPTION,
        "check-hosts": {
            type: "boolean",
            description:
                "first ask each host's Docker engine its GPU where gpuVendor is auto, then whether it is ready: its version, the nvidia runtime and the device nodes the containers are given (exit 1 when one is not)",
        },
    },
};

/** Where plan looks besides the stack files; the real project, environment and machine by default. */
export interface PlanEnvironment {
    readonly root?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly machineHostName?: string;
    /** The engines --check-hosts asks; each host's own by default. */
    readonly engines?: EngineClients;
}

/** Zed binaries the image builds need and do not find, as warnings: without one, pulumi up fails halfway, at the build. */
function missingZedBinaries(dirs: readonly string[], root: string): string[] {
    return [...new Set(dirs)]
        .filter((dir) => !fs.existsSync(path.resolve(root, dir, "zed")))
        .map(
            (dir) =>
                `The Zed binary ${path.join(dir, "zed")} is missing: the image build in pulumi up needs it. Copy it from your Helix checkout, built with ./stack build-zed: cp -r ../helix/zed-build ./${dir}`,
        );
}

/** The plan of a stack as text: per host, its runners and image; then the warnings. */
export function renderPlan(stack: string, context: PlanEnvironment = {}): string {
    return planReport(stack, context).text;
}

/** The plan as text, and whether it says pulumi up will refuse the stack as it stands (plan then exits 1). */
function planReport(
    stack: string,
    context: PlanEnvironment,
    resolve?: (raw: RawConfig) => RawConfig,
): { text: string; upRefuses: boolean } {
    const root = context.root ?? PROJECT_ROOT;
    const env = context.env ?? process.env;
    const { parsed, file } = loadStackFiles(stack, root, resolve);
    const placement = placementCommands(parsed);
    const out: string[] = [];
    // deploy stores a token given in the environment before it runs pulumi up; its value is never shown.
    const fromEnv = env[TOKEN_ENV]
        ? `${SECRET_PLACEHOLDER} from ${TOKEN_ENV} (npm run deploy stores it as the stack's secret apiToken`
        : undefined;
    const token = !file.hasToken
        ? fromEnv
            ? `${fromEnv})`
            : `not set (pulumi up refuses until you run \`pulumi config set --secret apiToken <token>\` here, or set ${TOKEN_ENV} for npm run deploy)`
        : fromEnv
          ? `${fromEnv}, replacing the one set)`
          : file.secureKeys.has("apiToken")
            ? SECRET_PLACEHOLDER
            : "set in plain text (pulumi up refuses it: set it again with --secret)";
    out.push(`Stack ${stack}: control plane ${parsed.apiHost}, token ${token}`);
    // A token from the environment is checked as pulumi up will check it once deploy has stored it.
    const envTokenProblems = env[TOKEN_ENV] ? envTokenRefusals(env[TOKEN_ENV], file.raw) : [];
    if (envTokenProblems.length > 0) out.push("pulumi up would refuse it:", ...envTokenProblems.map((p) => `  - ${p}`));
    const pin = hostNameToPin(stack, root, context.machineHostName ?? os.hostname());
    if (pin) out.push(`hostName: ${pin}, this machine's name; the first npm run deploy pins it in ${shown(stackFilePath(stack, root))}`);
    out.push(...placement.plan({ stack, secureKeys: file.secureKeys }));
    const builds = placement.zedBuildDirs;
    const warnings = [...missingZedBinaries(builds, root), ...parsed.warnings];
    if (warnings.length > 0) {
        out.push("", "Warnings:", ...warnings.map((w) => `  - ${w}`));
    }
    // The token is the one thing a valid stack file can still lack: pulumi up refuses it unset or in plain text.
    const upRefuses = envTokenProblems.length > 0 || (fromEnv === undefined && (!file.hasToken || !file.secureKeys.has("apiToken")));
    return { text: out.join("\n"), upRefuses };
}

export async function plan(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, context: PlanEnvironment = {}): Promise<number> {
    const { values, help } = parseCommandLine(PLAN, argv, env);
    if (help) {
        console.log(helpText(PLAN));
        return 0;
    }
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const root = context.root ?? PROJECT_ROOT;
    const checkHosts = values["check-hosts"] === true;
    const engines = context.engines ?? { docker: (h) => dockerFor(h) };
    // Online first when asked: gpuVendor auto is each host's engine's to answer, and the plan shows the answer.
    const autoGpu = checkHosts ? await resolveAutoGpu(stack, root, engines) : undefined;
    if (autoGpu !== undefined && autoGpu.problems.length > 0) {
        console.log(
            [`Stack ${stack}'s gpuVendor is auto, and npm run deploy would refuse it:`, ...autoGpu.problems.map((p) => `  ${p}`)].join(
                "\n",
            ),
        );
        return 1;
    }
    const { text, upRefuses } = planReport(stack, { env, ...context }, autoGpu?.resolve);
    if (autoGpu !== undefined)
        console.log(
            [
                `gpuVendor is auto; each host's GPU, as Helix's installer detects it (npm run deploy pins it):`,
                ...foundGpuLines(autoGpu.found),
                "",
            ].join("\n"),
        );
    console.log(printable(text));
    const offline = upRefuses ? 1 : 0;
    if (!checkHosts) return offline;
    // Online from here: each host's engine, the way status reaches it.
    const { parsed } = loadStackFiles(stack, root, autoGpu?.resolve);
    const checks = await placementCommands(parsed).checkHosts(engines);
    const ready = checks.every((c) => c.problems.length === 0);
    console.log(
        [
            "",
            ready ? "Host checks: every host is ready." : "Host checks: pulumi up would fail on these hosts:",
            ...hostCheckLines(checks),
        ].join("\n"),
    );
    return ready ? offline : 1;
}

if (require.main === module) void runCommand(() => plan(process.argv.slice(2)));
