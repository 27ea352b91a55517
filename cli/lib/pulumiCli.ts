// The Pulumi CLI, as the operator commands use it directly: whether it is there,
// and setting a secret config value without putting it on a command line.
import { spawnSync } from "node:child_process";

/** Whether a Pulumi CLI answers on PATH. */
export function pulumiCliAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
    const result = spawnSync("pulumi", ["version"], { env, stdio: "ignore" });
    return !result.error && result.status === 0;
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
): { ok: true } | { ok: false; error: string } {
    const result = spawnSync("pulumi", ["config", "set", "--secret", key, "--stack", stack, "--non-interactive"], {
        cwd,
        env,
        input: value,
        encoding: "utf8",
    });
    if (!result.error && result.status === 0) return { ok: true };
    const detail = (result.error?.message ?? result.stderr ?? "").split(value).join("[secret]").trim().slice(0, 500);
    return { ok: false, error: detail || `pulumi exited with status ${result.status}` };
}
