// `npm run deploy -- [--stack NAME] [--preview] [--destroy]`: `pulumi up` (or preview, or
// destroy) through Pulumi's Automation API, with defaults a newcomer needs nothing else for:
// a local state backend in .state/ (unless PULUMI_BACKEND_URL is set), the passphrase
// secrets provider, the stack created when missing, progress streamed, outputs printed.
import * as fs from "node:fs";
import * as path from "node:path";
import { MISSING_CLI_MESSAGE, pulumiCliAvailable, setSecretConfig } from "./lib/pulumiCli";
import { DEFAULT_STACK, PROJECT_ROOT, UserError, parseArgs, runCommand } from "./stackFiles";

export type Operation = "up" | "preview" | "destroy";

export interface DeployPlan {
    readonly stack: string;
    readonly operation: Operation;
    /** Where state lives; told to the operator. */
    readonly backendUrl: string;
    /** The environment the Pulumi CLI runs with. */
    readonly envVars: Record<string, string>;
    /** A runner token to store as the stack's secret apiToken first (from ZED_RUNNER_API_TOKEN). */
    readonly apiToken?: string;
}

/** Environment variable a token can be handed in by, so a first deploy needs no `pulumi config set`. */
export const TOKEN_ENV = "ZED_RUNNER_API_TOKEN";

/** The state folder used when no backend is configured; git-ignored. */
export const LOCAL_STATE_DIR = ".state";

/** Decides what to run and with which settings, from arguments and environment alone. */
export function deployPlan(argv: readonly string[], env: NodeJS.ProcessEnv, root = PROJECT_ROOT): DeployPlan {
    const { values, flags, positional } = parseArgs(argv, { values: ["stack"], flags: ["preview", "destroy"] });
    if (positional.length > 0)
        throw new UserError(`Unexpected argument ${positional[0]}; usage: npm run deploy -- [--stack NAME] [--preview] [--destroy]`);
    if (flags.has("preview") && flags.has("destroy")) throw new UserError("Choose one of --preview and --destroy.");
    const operation: Operation = flags.has("destroy") ? "destroy" : flags.has("preview") ? "preview" : "up";
    if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        throw new UserError(
            "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE, a file holding it): the passphrase encrypts this stack's secrets, " +
                "the runner token among them. Keep it safe; it is needed for every later deploy.",
        );
    }
    if (env.PULUMI_CONFIG_PASSPHRASE_FILE && !fs.existsSync(env.PULUMI_CONFIG_PASSPHRASE_FILE)) {
        throw new UserError(`PULUMI_CONFIG_PASSPHRASE_FILE names ${env.PULUMI_CONFIG_PASSPHRASE_FILE}, which does not exist.`);
    }
    const backendUrl = env.PULUMI_BACKEND_URL || `file://${path.join(root, LOCAL_STATE_DIR)}`;
    const envVars: Record<string, string> = { PULUMI_BACKEND_URL: backendUrl, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const apiToken = env[TOKEN_ENV] || undefined;
    return { stack: values.stack ?? DEFAULT_STACK, operation, backendUrl, envVars, ...(apiToken ? { apiToken } : {}) };
}

/** Stack outputs as text, secrets hidden. */
export function renderOutputs(outputs: Record<string, { value: unknown; secret: boolean }>): string {
    const lines = Object.entries(outputs).map(
        ([name, o]) => `  ${name}: ${o.secret ? "[secret]" : JSON.stringify(o.value, null, 2).replace(/\n/g, "\n  ")}`,
    );
    return lines.length > 0 ? `Outputs:\n${lines.join("\n")}` : "No outputs.";
}

export async function deploy(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const plan = deployPlan(argv, env);
    if (!pulumiCliAvailable(env)) throw new UserError(MISSING_CLI_MESSAGE);
    if (plan.backendUrl.startsWith("file://")) fs.mkdirSync(plan.backendUrl.slice("file://".length), { recursive: true });
    console.log(`${plan.operation} of stack ${plan.stack}, state in ${plan.backendUrl}`);

    // Loaded here so that argument and environment errors need no Pulumi SDK start-up.
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: plan.stack, workDir: PROJECT_ROOT },
        { envVars: plan.envVars, secretsProvider: "passphrase" },
    );
    if (plan.apiToken) {
        // Not stack.setConfig: the Automation API passes the value on pulumi's command line.
        const stored = setSecretConfig("apiToken", plan.apiToken, plan.stack, PROJECT_ROOT, { ...env, ...plan.envVars });
        if (!stored.ok) throw new UserError(`Could not store ${TOKEN_ENV} as the stack's secret apiToken: ${stored.error}`);
        console.log(`Stored ${TOKEN_ENV} as the stack's secret apiToken.`);
    }
    const onOutput = (text: string) => process.stdout.write(text);
    if (plan.operation === "preview") {
        await stack.preview({ onOutput, color: "auto" });
    } else if (plan.operation === "destroy") {
        await stack.destroy({ onOutput, color: "auto" });
    } else {
        const result = await stack.up({ onOutput, color: "auto" });
        console.log(renderOutputs(result.outputs));
    }
    return 0;
}

if (require.main === module) void runCommand(() => deploy(process.argv.slice(2)));
