// Where a session runs (docs/protocol.md §3.4): `work_dir`, or else
// WORKSPACE_DIR/<session_id>, and `project_path` relative to it; refused when a
// control plane points either outside the runner's workspace folders. Pure but
// for the check of the real path, which the caller makes once the folder exists.
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
    if (agent.work_dir) {
        if (!path.isAbsolute(agent.work_dir)) return { error: `work_dir ${JSON.stringify(agent.work_dir)} must be an absolute path` };
        if (agent.work_dir.split("/").includes("..")) return { error: `work_dir ${JSON.stringify(agent.work_dir)} must not contain '..'` };
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
