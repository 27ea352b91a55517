// The Pulumi CLI, as the operator commands use it directly: which one to run (the one on
// PATH, else the one `npm run deploy` installed into the project), and setting a secret
// config value without putting it on a command line.
import { spawnSync } from "node:child_process";
import * as path from "node:path";

/**
 * The Pulumi CLI version `npm run deploy` installs when there is none: the version of the
 * @pulumi/pulumi SDK that package-lock.json holds, as Pulumi releases the two together (a
 * test keeps them equal, so updating the SDK updates this pin in the same change).
 */
export const PULUMI_CLI_VERSION = "3.270.0";

/** Where `npm run deploy` installs the CLI: inside the project, git-ignored and kept out of the image build. */
export const PROJECT_CLI_DIR = ".pulumi-cli";

/**
 * The install root of the project's own CLI, one folder per version (as Pulumi's own default,
 * ~/.pulumi/versions/<version>), so a new pin never runs an old binary: `<root>/bin/pulumi`.
 */
export function projectCliRoot(root: string, version = PULUMI_CLI_VERSION): string {
    return path.join(root, PROJECT_CLI_DIR, version);
}

/** A Pulumi CLI to run: its command, and its install root when it is the project's own (for PulumiCommand.get). */
export interface PulumiCli {
    readonly command: string;
    readonly root?: string;
}

/** The version a CLI reports (`3.270.0`), or undefined when it does not run or answer. */
export function cliVersion(command: string, env: NodeJS.ProcessEnv): string | undefined {
    const result = spawnSync(command, ["version"], { env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" }, encoding: "utf8" });
    if (result.error || result.status !== 0) return undefined;
    return result.stdout.trim().replace(/^v/, "");
}

/**
 * The CLI the commands use: `pulumi` on PATH (the operator's choice wins), else the project's
 * own install of the pinned version. A project install that does not answer with exactly that
 * version (a broken or foreign file) is not used.
 */
export function findPulumiCli(root: string, env: NodeJS.ProcessEnv = process.env): PulumiCli | undefined {
    if (cliVersion("pulumi", env) !== undefined) return { command: "pulumi" };
    const installRoot = projectCliRoot(root);
    const command = path.join(installRoot, "bin", "pulumi");
    return cliVersion(command, env) === PULUMI_CLI_VERSION ? { command, root: installRoot } : undefined;
}

export const MISSING_CLI_MESSAGE =
    "The Pulumi CLI is not installed (no `pulumi` on PATH). Install it from https://www.pulumi.com/docs/install/ " +
    "(for example `curl -fsSL https://get.pulumi.com | sh`), then run this again. " +
    "To see what the stack would run without it, use `npm run plan -- --stack <name>`.";

/**
 * `pulumi config set --secret <key>` with the value on stdin: `pulumi config set` reads it
 * from there when no value is given and the session is not interactive, so the secret is
 * never in any process's arguments (which `ps` shows to every user of the machine).
 * Returns the CLI's error output when it fails, never the value.
 */
export function setSecretConfig(
    key: string,
    value: string,
    stack: string,
    cwd: string,
    env: NodeJS.ProcessEnv,
    cli: PulumiCli = { command: "pulumi" },
): { ok: true } | { ok: false; error: string } {
    // A project install's folder goes first on PATH, as the Automation API does, so the CLI finds its bundled plugins.
    const cliEnv = cli.root ? { ...env, PATH: [path.dirname(cli.command), env.PATH].filter(Boolean).join(path.delimiter) } : env;
    const result = spawnSync(cli.command, ["config", "set", "--secret", key, "--stack", stack, "--non-interactive"], {
        cwd,
        env: cliEnv,
        input: value,
        encoding: "utf8",
    });
    if (!result.error && result.status === 0) return { ok: true };
    const detail = (result.error?.message ?? result.stderr ?? "").split(value).join("[secret]").trim().slice(0, 500);
    return { ok: false, error: detail || `pulumi exited with status ${result.status}` };
}
