// Zed's environment in a session (docs/protocol.md §3.4): the documented
// variables, then the control plane's own entries. Nothing of the agent's:
// never the token, never a password. Pure.
import { DESKTOP_USER, DISPLAY } from "../contract";
import type { ZedAgent } from "./protocol";

/** A sane PATH for Zed and what it runs (Helix's runner gave none). */
export const SESSION_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Zed's environment for `agent` in `workDir`, or why the control plane's entries are refused. */
export function sessionEnvironment(
    agent: ZedAgent,
    workDir: string,
    projectPath: string,
): { env: Record<string, string> } | { error: string } {
    const env: Record<string, string> = {
        PATH: SESSION_PATH,
        DISPLAY,
        HOME: DESKTOP_USER.home,
        USER: DESKTOP_USER.name,
        LOGNAME: DESKTOP_USER.name,
        WORKSPACE_DIR: workDir,
        PROJECT_PATH: projectPath,
        HELIX_SESSION_ID: agent.session_id,
    };
    for (const entry of agent.env ?? []) {
        const eq = entry.indexOf("=");
        const key = eq > 0 ? entry.slice(0, eq) : "";
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return { error: `env entry ${JSON.stringify(entry.slice(0, 40))} is not KEY=VALUE` };
        env[key] = entry.slice(eq + 1);
    }
    return { env };
}
