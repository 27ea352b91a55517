// `npm run import-env -- PATH [--stack NAME] [--set-token] [--allow-mirror]` (PATH from the folder npm ran in): moves the
// settings of Helix's runner script env file (scripts/external-zed-agent.env), or of the sandbox.sh Helix's
// `install.sh --sandbox` writes, into Pulumi.<stack>.yaml, keeping what the stack file already
// has. Validates like the program; writes nothing on an error. The token is never written in
// plain text. This is the command: its options, and which import the file is for (cli/imports/).
import * as path from "node:path";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { readTextFile } from "./lib/files";
import { Prompt, terminalPrompt } from "./lib/prompt";
import { findPulumiCli } from "./lib/pulumiCli";
import { importEnvFile } from "./imports/envFile";
import { importSandboxScript } from "./imports/sandboxImport";
import { isSandboxScript } from "./imports/sandboxScript";
import { DEFAULT_STACK, PROJECT_ROOT, UserError, runCommand, stackNameProblem } from "./stackFiles";
import { TOKEN_ENV } from "./deploy";

export { mapEnv, placeholderToken } from "./imports/envFile";

export const IMPORT_ENV: CommandSpec = {
    name: "import-env",
    summary:
        "Moves the settings of Helix's runner script env file (scripts/external-zed-agent.env), or of the sandbox.sh that Helix's `install.sh --sandbox` writes (a sandbox stack), into Pulumi.<stack>.yaml, keeping what the file already has; validates like the program and writes nothing on an error. The token is never written in plain text.",
    positionals: [
        {
            name: "PATH",
            required: true,
            description: "the env file or sandbox.sh, relative to the folder you run npm in",
        },
    ],
    options: {
        stack: { type: "string", valueName: "NAME", description: `the stack to write (default ${DEFAULT_STACK})` },
        "set-token": {
            type: "boolean",
            description: "store API_TOKEN (sandbox.sh: RUNNER_TOKEN) as the stack's secret apiToken through the Pulumi CLI",
        },
        "allow-mirror": {
            type: "boolean",
            description:
                "sandbox.sh only: its image is your mirror of Helix's sandbox image, which the stack then runs privileged with the runner token " +
                "(writes allowSandboxImageMirror: true); without it a terminal asks, and with none nothing is written",
        },
    },
};

export async function importEnv(
    argv: readonly string[],
    root = PROJECT_ROOT,
    env: NodeJS.ProcessEnv = process.env,
    prompt: Prompt = terminalPrompt(),
): Promise<number> {
    const { values, positionals, help } = parseCommandLine(IMPORT_ENV, argv, env);
    if (help) {
        console.log(helpText(IMPORT_ENV));
        return 0;
    }
    // The stack names the file written: a name with a path in it is refused before anything is read or run.
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const stackProblem = stackNameProblem(stack);
    if (stackProblem !== undefined) throw new UserError(stackProblem);
    // npm runs scripts in the project folder; a relative path means the folder the operator typed it in.
    const envPath = path.resolve(env.INIT_CWD || process.cwd(), positionals[0]);
    const text = readTextFile(envPath, "The env file");
    const setToken = values["set-token"] === true;
    // The CLI on PATH, or the one `npm run deploy` installed into the project.
    const cli = setToken ? findPulumiCli(root, env) : undefined;
    if (setToken && !cli) {
        throw new UserError(
            `--set-token stores the token through the Pulumi CLI, which is not installed (no \`pulumi\` on PATH); nothing was written. ` +
                `Install it (https://www.pulumi.com/docs/install/, or let \`npm run deploy\` install it into the project) and run this again, ` +
                `or run without --set-token and hand the token to \`npm run deploy\` in ${TOKEN_ENV}.`,
        );
    }

    // From here on, the CLI is found exactly when --set-token was given.
    const importFile = isSandboxScript(text) ? importSandboxScript : importEnvFile;
    return importFile({ text, path: envPath, stack, root, env, cli, prompt, allowMirror: values["allow-mirror"] === true });
}

if (require.main === module) void runCommand(() => importEnv(process.argv.slice(2)));
