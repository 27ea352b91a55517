// `npm run deploy -- [--stack NAME] [--preview | --destroy] [--yes] [--create]`: `pulumi up`
// (or preview, or destroy) through Pulumi's Automation API, as `pulumi up` behaves on a
// terminal: the changes first, then a question; `--yes` for scripts. State in the project's
// backend (Pulumi.yaml's backend.url, unless PULUMI_BACKEND_URL is set), the passphrase
// secrets provider, progress streamed, outputs printed. A stack needs its Pulumi.<stack>.yaml
// (a typo must not deploy a fresh stack with defaults), and the first `up` pins hostName
// there so the runner IDs do not depend on the machine deploying. A sandbox stack's `auto`
// values are resolved and pinned there before the host checks and the preview: gpuVendor from
// each host's engine, helixVersion from the control plane. Without a Pulumi CLI it offers to
// install the pinned one into the project (cli/lib/installPulumiCli.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { CliInstaller, automationInstaller, ensurePulumiCli } from "./lib/installPulumiCli";
import { foundGpuLines, resolveAutoGpu } from "./checks/autoGpu";
import { hostCheckLines } from "./checks/hostRules";
import { type ReleaseFetcher, fetchControlPlaneRelease } from "./lib/controlPlane";
import { PulumiCli, findPulumiCli, setSecretConfig } from "./lib/pulumiCli";
import { dockerFor } from "./engine";
import { placementCommands } from "./placements";
import type { EngineClients, PlacementCommands } from "./placements/types";
import { Prompt, terminalPrompt } from "./lib/prompt";
import { KEY_SCHEMAS } from "../components/config/schema";
import { unpinnedHostName } from "../components/config/warnings";
import { HELIX_VERSION_AUTO, apiTokenProblems, helixReleaseProblem } from "../contract";
import type { RawConfig } from "../components/config/values";
import {
    DEFAULT_STACK,
    PROJECT_ROOT,
    STACK_OPTION,
    UserError,
    hostNameToPin,
    loadStackFiles,
    readStackConfig,
    projectBackendUrl,
    requireStackFile,
    runCommand,
    stackFilePath,
    writeHostEntryConfig,
    writeStackConfig,
} from "./stackFiles";
import { shown } from "./lib/files";

type Operation = "up" | "preview" | "destroy";

export const DEPLOY: CommandSpec = {
    name: "deploy",
    summary:
        "pulumi up through the Automation API: shows what will change and asks first on a terminal (--yes skips the question; without a terminal --yes is required). State in Pulumi.yaml's backend (./.state) unless PULUMI_BACKEND_URL is set.",
    options: {
        stack: STACK_OPTION,
        preview: { type: "boolean", description: "only show what would change" },
        destroy: { type: "boolean", description: "remove the stack's runners, image and network" },
        yes: {
            type: "boolean",
            description:
                "go ahead without asking, installing the Pulumi CLI into the project if it is missing (required without a terminal)",
        },
        create: { type: "boolean", description: "create a stack that has no Pulumi.<stack>.yaml yet" },
        "skip-host-checks": {
            type: "boolean",
            description: "deploy without first asking each host's engine whether it is ready (its version, runtimes, device nodes)",
        },
    },
};

export interface DeployPlan {
    readonly stack: string;
    readonly operation: Operation;
    /** Where state lives; told to the operator. */
    readonly backendUrl: string;
    /** The environment the Pulumi CLI runs with, beyond the operator's own. */
    readonly envVars: Record<string, string>;
    /** A runner token to store as the stack's secret apiToken first (from ZED_RUNNER_API_TOKEN). */
    readonly apiToken?: string;
    /** Show the changes and ask before making them. */
    readonly confirm: boolean;
    /** --yes: install a missing Pulumi CLI into the project without asking. */
    readonly installWithoutAsking: boolean;
    /** --skip-host-checks: go ahead without asking each host's engine first. */
    readonly skipHostChecks?: true;
    /** The host name to pin into the stack file before the first `up`, when the stack relies on the machine's. */
    readonly pinHostName?: string;
}

/** Environment variable a token can be handed in by, so a first deploy needs no `pulumi config set`. */
export const TOKEN_ENV = "ZED_RUNNER_API_TOKEN";

/** Why pulumi up would refuse `token` as the stack's apiToken (the stack file's allowInsecureToken counts), by the program's own rule. */
export function envTokenRefusals(token: string, raw: RawConfig): string[] {
    return apiTokenProblems(token, TOKEN_ENV, raw.allowInsecureToken === "true").problems;
}

/** The state folder Pulumi.yaml's backend names; git-ignored. */
const LOCAL_STATE_DIR = ".state";

/** Decides what to run and with which settings, from arguments, environment and the stack's file alone. */
export function deployPlan(
    argv: readonly string[],
    env: NodeJS.ProcessEnv,
    root = PROJECT_ROOT,
    interactive = false,
    machineHostName = os.hostname(),
): DeployPlan {
    const { values } = parseCommandLine(DEPLOY, argv, env);
    if (values.preview && values.destroy) throw new UserError("Choose one of --preview and --destroy.");
    const operation: Operation = values.destroy ? "destroy" : values.preview ? "preview" : "up";
    if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        throw new UserError(
            "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE, a file holding it): the passphrase encrypts this stack's secrets, " +
                "the runner token among them. Keep it safe; it is needed for every later deploy.",
        );
    }
    if (env.PULUMI_CONFIG_PASSPHRASE_FILE && !fs.existsSync(env.PULUMI_CONFIG_PASSPHRASE_FILE)) {
        throw new UserError(`PULUMI_CONFIG_PASSPHRASE_FILE names ${env.PULUMI_CONFIG_PASSPHRASE_FILE}, which does not exist.`);
    }
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const exists = fs.existsSync(stackFilePath(stack, root));
    if (!exists && !values.create) requireStackFile(stack, root);
    if (operation !== "preview" && !values.yes && !interactive) {
        throw new UserError(
            `deploy ${operation === "up" ? "changes" : "destroys"} stack ${stack}'s runners and asks first, but there is no terminal to ask on. ` +
                `Rerun with --yes to go ahead without asking (npm run deploy -- ${operation === "destroy" ? "--destroy " : ""}--stack ${stack} --yes), ` +
                `or with --preview to see the changes only.`,
        );
    }
    // Pulumi.yaml names the backend, so the CLI finds it without our help; a PULUMI_BACKEND_URL of the operator's wins.
    const backendUrl = env.PULUMI_BACKEND_URL || projectBackendUrl(root) || `file://${root}/${LOCAL_STATE_DIR}`;
    const apiToken = env[TOKEN_ENV] || undefined;
    if (apiToken !== undefined) {
        const refusals = envTokenRefusals(apiToken, exists ? readStackConfig(stack, root).raw : {});
        if (refusals.length > 0)
            throw new UserError(
                [`${TOKEN_ENV} is not stored: pulumi up would refuse it.`, ...refusals.map((p) => `  - ${p}`), "Nothing was changed."].join(
                    "\n",
                ),
            );
    }
    const pinHostName =
        operation === "destroy" ? undefined : exists ? hostNameToPin(stack, root, machineHostName) : unpinnedHostName({}, machineHostName);
    return {
        stack,
        operation,
        backendUrl,
        envVars: { PULUMI_SKIP_UPDATE_CHECK: "true" },
        confirm: operation !== "preview" && !values.yes,
        installWithoutAsking: values.yes === true,
        ...(apiToken ? { apiToken } : {}),
        ...(pinHostName ? { pinHostName } : {}),
        ...(values["skip-host-checks"] === true ? { skipHostChecks: true as const } : {}),
    };
}

/** Stack outputs as text, secrets hidden. */
export function renderOutputs(outputs: Record<string, { value: unknown; secret: boolean }>): string {
    const lines = Object.entries(outputs).map(
        ([name, o]) => `  ${name}: ${o.secret ? "[secret]" : JSON.stringify(o.value, null, 2).replace(/\n/g, "\n  ")}`,
    );
    return lines.length > 0 ? `Outputs:\n${lines.join("\n")}` : "No outputs.";
}

/** What deploy asks of a stack: the Automation API's Stack, or a test double. */
export interface StackOperations {
    preview(onOutput: (text: string) => void): Promise<void>;
    previewDestroy(onOutput: (text: string) => void): Promise<void>;
    up(onOutput: (text: string) => void): Promise<Record<string, { value: unknown; secret: boolean }>>;
    destroy(onOutput: (text: string) => void): Promise<void>;
}

/** The operator's world, injected so tests drive the question and the stack. */
export interface DeployDeps {
    readonly root: string;
    readonly prompt: Prompt;
    readonly machineHostName: string;
    /** The Pulumi CLI to use, if there is one. */
    readonly findCli: (env: NodeJS.ProcessEnv) => PulumiCli | undefined;
    /** Installs the pinned CLI into the project when there is none (and the operator agrees). */
    readonly installCli: CliInstaller;
    readonly openStack: (plan: DeployPlan, env: NodeJS.ProcessEnv, cli: PulumiCli) => Promise<StackOperations>;
    readonly storeToken: (
        token: string,
        plan: DeployPlan,
        env: NodeJS.ProcessEnv,
        cli: PulumiCli,
    ) => { ok: true } | { ok: false; error: string };
    readonly write: (text: string) => void;
    /** Asks the control plane its release, for a sandbox stack's check before the preview. */
    readonly fetchRelease: ReleaseFetcher;
    /** The stack's engines, asked after a failed `up` what is not healthy and why. */
    readonly engines: EngineClients;
}

/**
 * What the stack's workload says before a change (a sandbox stack: its release against the
 * control plane's). Best effort: a stack file the program will refuse says nothing here, since
 * `pulumi up` reports its problems with the rest.
 */
async function workloadNotes(stack: string, root: string, fetchRelease: ReleaseFetcher): Promise<string[]> {
    let commands: PlacementCommands;
    try {
        commands = placementCommands(loadStackFiles(stack, root).parsed);
    } catch {
        return [];
    }
    return commands.notes(stack, [], fetchRelease);
}

/**
 * Each host checked before anything changes: its engine's version, the runtime and the device
 * nodes its containers need, and free disk for new volumes (a warning, said and gone past).
 * Refused, listing every gap with its fix, when one is not ready. A
 * stack file the program will refuse is left to `pulumi up`, which reports its problems.
 */
async function requireReadyHosts(stack: string, root: string, engines: EngineClients, say: (line: string) => void): Promise<void> {
    let commands: PlacementCommands;
    try {
        commands = placementCommands(loadStackFiles(stack, root).parsed);
    } catch {
        return;
    }
    const checks = await commands.checkHosts(engines);
    const warnings = checks.flatMap((c) => (c.warnings ?? []).map((w) => `  ${c.host}: warning: ${w}`));
    if (warnings.length > 0) say([`Host checks of stack ${stack}, worth a look before going on:`, ...warnings].join("\n"));
    if (checks.every((c) => c.problems.length === 0)) return;
    throw new UserError(
        [
            `Stack ${stack}'s hosts are not ready; pulumi up would fail on them:`,
            ...hostCheckLines(checks.filter((c) => c.problems.length > 0).map((c) => ({ host: c.host, problems: c.problems }))),
            "Nothing was changed. Fix them and deploy again (npm run plan -- --check-hosts checks without deploying), or deploy anyway with --skip-host-checks.",
        ].join("\n"),
    );
}

/**
 * The stack file as it was before `auto` values were pinned in it, and which were: put back when
 * nothing is changed after all (a preview, a refusal, a declined confirmation, a failed check).
 */
class AutoPins {
    private readonly before: string;
    private readonly keys: string[] = [];

    constructor(private readonly file: string) {
        this.before = fs.readFileSync(file, "utf8");
    }

    pinned(key: string): void {
        this.keys.push(key);
    }

    /** Puts the file back as it was, saying which `auto` values are back. */
    restore(say: (line: string) => void): void {
        if (this.keys.length === 0) return;
        fs.writeFileSync(this.file, this.before);
        say(`Put ${this.keys.map((k) => `${k}: auto`).join(" and ")} back in ${shown(this.file)}.`);
    }
}

/**
 * Resolves `helixVersion: auto`: asks the control plane its release and pins it in the stack file,
 * so that the preview shows what will run and later runs, from any machine, deploy the same.
 * Nothing when the stack pins no `auto`; refused, with the reason, when the release cannot be read.
 */
async function pinAutoRelease(
    stack: string,
    root: string,
    fetchRelease: ReleaseFetcher,
    pins: AutoPins,
    say: (line: string) => void,
): Promise<void> {
    const { raw } = readStackConfig(stack, root);
    if (raw.helixVersion !== HELIX_VERSION_AUTO) return;
    const file = stackFilePath(stack, root);
    const apiHost = KEY_SCHEMAS.apiHost.safeParse(raw.apiHost);
    if (!apiHost.success)
        throw new UserError(
            `helixVersion is auto, which reads the control plane's release at apiHost, and ${shown(file)} sets no valid apiHost. Nothing was changed.`,
        );
    const answer = await fetchRelease(apiHost.data);
    if ("error" in answer)
        throw new UserError(
            `helixVersion is auto, but the control plane's release could not be read (${answer.error}). ` +
                `Set helixVersion to its release, such as 2.12.2, in ${shown(file)}. Nothing was changed.`,
        );
    const problem = helixReleaseProblem(answer.release);
    if (problem !== undefined)
        throw new UserError(
            `helixVersion is auto, and the control plane at ${apiHost.data} reports ${JSON.stringify(answer.release)}, which ${problem}: ` +
                `set helixVersion in ${shown(file)} yourself. Nothing was changed.`,
        );
    writeStackConfig(file, { helixVersion: answer.release });
    pins.pinned("helixVersion");
    say(
        `helixVersion is auto: the control plane at ${apiHost.data} runs Helix ${answer.release}; pinned helixVersion: ${answer.release} in ${shown(file)} (commit it).`,
    );
}

/**
 * Resolves `gpuVendor: auto` (a sandbox stack's default): asks each host it applies to which GPU it
 * has, as Helix's installer detects it, and pins the answer in the stack file (the stack's own key,
 * or each listed host's entry), so that the host checks, the preview and every later run agree.
 * Refused, naming each host, when one's GPU cannot be told or it has none.
 */
async function pinAutoGpu(stack: string, root: string, engines: EngineClients, pins: AutoPins, say: (line: string) => void): Promise<void> {
    const resolution = await resolveAutoGpu(stack, root, engines);
    if (resolution === undefined) return;
    const file = stackFilePath(stack, root);
    if (resolution.problems.length > 0)
        throw new UserError(
            [`Stack ${stack}'s gpuVendor cannot be pinned:`, ...resolution.problems.map((p) => `  ${p}`), "Nothing was changed."].join(
                "\n",
            ),
        );
    for (const { index, detection } of resolution.found) {
        if (index === undefined) writeStackConfig(file, { gpuVendor: detection.vendor });
        else writeHostEntryConfig(file, index, { gpuVendor: detection.vendor });
    }
    pins.pinned("gpuVendor");
    say(
        [
            `gpuVendor is auto; each host's GPU, as Helix's installer detects it, pinned in ${shown(file)} (commit it):`,
            ...foundGpuLines(resolution.found),
        ].join("\n"),
    );
}

/**
 * After a failed `up`: each planned container that is not healthy, with its last log lines (a
 * sandbox restarting on a failed desktop pull says so there). Best effort: the failure itself is
 * reported whatever this finds.
 */
async function explainFailure(stack: string, root: string, engines: EngineClients): Promise<string[]> {
    try {
        const lines = await placementCommands(loadStackFiles(stack, root).parsed).explainUnhealthy(stack, engines);
        return lines.length > 0 ? ["", `What is not healthy on stack ${stack}'s hosts:`, ...lines] : [];
    } catch {
        return [];
    }
}

/** The stack through Pulumi's Automation API, created when missing. */
async function automationStack(plan: DeployPlan, root: string, cli: PulumiCli): Promise<StackOperations> {
    // Loaded here so that argument and environment errors need no Pulumi SDK start-up.
    const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
    // The project's own install is named; otherwise the Automation API runs `pulumi` from PATH, as it always has.
    const pulumiCommand = cli.root ? await PulumiCommand.get({ root: cli.root }) : undefined;
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: plan.stack, workDir: root },
        { envVars: plan.envVars, secretsProvider: "passphrase", ...(pulumiCommand ? { pulumiCommand } : {}) },
    );
    return {
        preview: async (onOutput) => void (await stack.preview({ onOutput, color: "auto", diff: true })),
        previewDestroy: async (onOutput) => void (await stack.previewDestroy({ onOutput, color: "auto" })),
        up: async (onOutput) => (await stack.up({ onOutput, color: "auto" })).outputs,
        destroy: async (onOutput) => void (await stack.destroy({ onOutput, color: "auto" })),
    };
}

const defaultDeps = (): DeployDeps => ({
    root: PROJECT_ROOT,
    prompt: terminalPrompt(),
    machineHostName: os.hostname(),
    findCli: (env) => findPulumiCli(PROJECT_ROOT, env),
    installCli: automationInstaller(),
    openStack: (plan, _env, cli) => automationStack(plan, PROJECT_ROOT, cli),
    // Not stack.setConfig: the Automation API passes the value on pulumi's command line.
    storeToken: (token, plan, env, cli) => setSecretConfig("apiToken", token, plan.stack, PROJECT_ROOT, { ...env, ...plan.envVars }, cli),
    write: (text) => void process.stdout.write(text),
    fetchRelease: (apiHost) => fetchControlPlaneRelease(apiHost),
    engines: { docker: (host) => dockerFor(host) },
});

export async function deploy(
    argv: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
    deps: DeployDeps = defaultDeps(),
): Promise<number> {
    if (parseCommandLine(DEPLOY, argv, env).help) {
        deps.write(`${helpText(DEPLOY)}\n`);
        return 0;
    }
    const plan = deployPlan(argv, env, deps.root, deps.prompt.interactive, deps.machineHostName);
    // The token reaches Pulumi only as the secret config value (on stdin): no child process gets it in its environment.
    const childEnv = withoutToken(env);
    const cli = await ensurePulumiCli({
        root: deps.root,
        env: childEnv,
        prompt: deps.prompt,
        yes: plan.installWithoutAsking,
        find: deps.findCli,
        install: deps.installCli,
        write: deps.write,
    });
    const say = (line: string) => deps.write(`${line}\n`);
    const file = stackFilePath(plan.stack, deps.root);
    const pins = new AutoPins(file);
    // Pins stay only once `up` starts: whatever it deployed was deployed with them.
    let keepPins = false;
    try {
        if (plan.operation !== "destroy") {
            await pinAutoGpu(plan.stack, deps.root, deps.engines, pins, say);
            if (plan.skipHostChecks)
                say("Host checks skipped (--skip-host-checks): the hosts' engines were not asked whether they are ready.");
            else await requireReadyHosts(plan.stack, deps.root, deps.engines, say);
        }
        if (plan.backendUrl.startsWith("file://")) fs.mkdirSync(plan.backendUrl.slice("file://".length), { recursive: true });
        say(`${plan.operation} of stack ${plan.stack}, state in ${plan.backendUrl}`);

        const stack = await deps.openStack(plan, childEnv, cli);
        if (plan.apiToken) {
            const stored = deps.storeToken(plan.apiToken, plan, childEnv, cli);
            if (!stored.ok) throw new UserError(`Could not store ${TOKEN_ENV} as the stack's secret apiToken: ${stored.error}`);
            say(`Stored ${TOKEN_ENV} as the stack's secret apiToken.`);
        }
        if (plan.operation !== "destroy") {
            await pinAutoRelease(plan.stack, deps.root, deps.fetchRelease, pins, say);
            for (const note of await workloadNotes(plan.stack, deps.root, deps.fetchRelease)) say(note);
        }
        if (plan.operation === "preview") {
            await stack.preview(deps.write);
            if (plan.pinHostName)
                say(`The first \`npm run deploy\` of stack ${plan.stack} pins hostName: ${plan.pinHostName} in ${shown(file)}.`);
            return 0;
        }
        if (plan.confirm) {
            await (plan.operation === "destroy" ? stack.previewDestroy(deps.write) : stack.preview(deps.write));
            const question =
                plan.operation === "destroy"
                    ? `Destroy every resource of stack ${plan.stack}, its runners included?`
                    : `Make these changes to stack ${plan.stack}?`;
            if (!(await deps.prompt.confirm(question))) {
                say("Nothing was changed.");
                return 1;
            }
        }
        if (plan.operation === "destroy") {
            await stack.destroy(deps.write);
            return 0;
        }
        keepPins = true;
        if (plan.pinHostName) {
            writeStackConfig(file, { hostName: plan.pinHostName });
            say(
                `Pinned hostName: ${plan.pinHostName} in ${shown(file)}, so this stack's runner IDs stay the same when deployed from another machine; commit the file.`,
            );
        }
        let outputs: Record<string, { value: unknown; secret: boolean }>;
        try {
            outputs = await stack.up(deps.write);
        } catch (err) {
            for (const line of await explainFailure(plan.stack, deps.root, deps.engines)) say(line);
            throw err;
        }
        say(renderOutputs(outputs));
        return 0;
    } finally {
        if (!keepPins) pins.restore(say);
    }
}

/** The environment without the token, for child processes. */
function withoutToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const { [TOKEN_ENV]: _token, ...rest } = env;
    return rest;
}

if (require.main === module) {
    const env = { ...process.env };
    // The Automation API starts the Pulumi CLI (and so the program) with this process's environment.
    delete process.env[TOKEN_ENV];
    void runCommand(() => deploy(process.argv.slice(2), env));
}
