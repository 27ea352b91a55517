// Where a session runs (docs/protocol.md §3.4): an absolute `work_dir` as given, a
// relative one inside the session's own folder WORKSPACE_DIR/<session_id> (the control
// plane requires a user's work_dir to be relative, and Helix's CLI sends "workspace"),
// or else that folder itself; `project_path` relative to it. Refused when a control
// plane points either outside the runner's workspace folders. Pure but for the check
// of the real path, which the caller makes once the folder exists.
import * as path from "node:path";
import { EXTRA_WORK_ROOTS, isInsidePath, normalizeAbsolutePath } from "../contract";
import { ZedAgent, isSafeSegment } from "./protocol";

/** The folders a session's work_dir may be in: WORKSPACE_DIR and the image's extra roots. */
export function allowedRoots(workspaceDir: string): string[] {
    return [workspaceDir, ...EXTRA_WORK_ROOTS].map(normalizeAbsolutePath);
}

/** A session's folder and the project Zed opens in it. */
export interface SessionFolders {
    readonly workDir: string;
    readonly projectPath: string;
}

/** The session's folder and project path, or why they are refused. */
export function sessionFolders(agent: ZedAgent, workspaceDir: string): SessionFolders | { error: string } {
    let workDir: string;
    if (agent.work_dir && agent.work_dir.split("/").includes("..")) {
        return { error: `work_dir ${JSON.stringify(agent.work_dir)} must not contain '..'` };
    }
    if (agent.work_dir && !path.isAbsolute(agent.work_dir)) {
        // Inside the session's own folder, not WORKSPACE_DIR itself: two sessions that both ask
        // for "workspace" (Helix's CLI does) must not share one folder.
        if (!isSafeSegment(agent.session_id)) return { error: `session_id ${JSON.stringify(agent.session_id)} cannot name a folder` };
        workDir = normalizeAbsolutePath(path.posix.join(workspaceDir, agent.session_id, agent.work_dir));
    } else if (agent.work_dir) {
        workDir = normalizeAbsolutePath(agent.work_dir);
        const roots = allowedRoots(workspaceDir);
        if (!roots.some((root) => isInsidePath(workDir, root))) {
            return {
                error: `work_dir ${JSON.stringify(agent.work_dir)} is outside the runner's workspace folders (${roots.join(", ")})`,
            };
        }
    } else {
        if (!isSafeSegment(agent.session_id)) return { error: `session_id ${JSON.stringify(agent.session_id)} cannot name a folder` };
        workDir = path.posix.join(workspaceDir, agent.session_id);
    }
    const project = agent.project_path ?? "";
    if (project === "") return { workDir, projectPath: workDir };
    if (project.split("/").includes("..")) return { error: `project_path ${JSON.stringify(project)} must not contain '..'` };
    return { workDir, projectPath: path.isAbsolute(project) ? normalizeAbsolutePath(project) : path.posix.join(workDir, project) };
}

/**
 * Throws when the folder made for `requested` really is `real` outside every workspace folder
 * (a symbolic link on the way pointed elsewhere).
 */
export function checkRealWorkDir(requested: string, real: string, workspaceDir: string): void {
    if (!allowedRoots(workspaceDir).some((root) => isInsidePath(real, root))) {
        throw new Error(`work_dir ${requested} resolves to ${real}, outside the workspace`);
    }
}
