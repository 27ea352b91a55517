// Zed sessions (HELIX-PROTOCOL.md §3): one Zed process group per session, run
// as the desktop user in the session's folder, capped by CONCURRENCY, ended by
// a stop, by SESSION_TIMEOUT, or when Zed exits; after MAX_TASKS sessions the
// runner takes no more work and reports itself drained.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { DISPLAY, DESKTOP_USER, EXTRA_WORK_ROOTS, ZED_BINARY, normalizeAbsolutePath } from "../contract";
import { describeError, Logger } from "./log";
import { ZedAgent, ZedAgentResponse, agentResponse, isSafeSegment } from "./protocol";

/** A sane PATH for Zed and what it runs (Helix's runner gave none). */
export const SESSION_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** After SIGTERM, how long a session's processes get before SIGKILL. */
export const KILL_GRACE_MS = 5000;
/** Longest line of Zed's output copied to the log. */
const MAX_LINE = 4096;

export interface SessionSettings {
    readonly runnerId: string;
    readonly workspaceDir: string;
    readonly concurrency: number;
    readonly maxTasks: number;
    /** Seconds; 0 is never. */
    readonly sessionTimeout: number;
}

/** The operating system, as sessions use it: folders for the desktop user, and Zed's processes. */
export interface SessionHost {
    /** Creates `dir` (owned by the desktop user) and returns its real path. */
    prepareDir(dir: string): Promise<string>;
    /** Starts Zed in its own process group. */
    startZed(args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): ChildProcess;
}

/**
 * The real host. `owner` is the desktop user; undefined leaves ownership alone
 * (unit tests run unprivileged). `zedBinary` is the image's Zed, or the stub in tests.
 */
export class LocalSessionHost implements SessionHost {
    constructor(
        private readonly owner: { uid: number; gid: number } | undefined = DESKTOP_USER,
        private readonly zedBinary: string = ZED_BINARY,
    ) {}

    async prepareDir(dir: string): Promise<string> {
        const firstCreated = await fs.promises.mkdir(dir, { recursive: true });
        const real = await fs.promises.realpath(dir);
        if (this.owner) {
            // Only what the agent created (and the folder itself) changes owner; lchown never follows a link.
            const created = firstCreated ? pathsFrom(firstCreated, dir) : [dir];
            for (const p of created) await fs.promises.lchown(p, this.owner.uid, this.owner.gid);
        }
        return real;
    }

    startZed(args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): ChildProcess {
        return spawn(this.zedBinary, [...args], {
            cwd,
            env: { ...env },
            // detached: setsid(), so the session is one process group that a stop ends whole.
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
            ...(this.owner ? { uid: this.owner.uid, gid: this.owner.gid } : {}),
        });
    }
}

/** `from` and each folder below it down to `to`. */
function pathsFrom(from: string, to: string): string[] {
    const out = [from];
    const rest = path.relative(from, to).split(path.sep).filter(Boolean);
    let current = from;
    for (const part of rest) out.push((current = path.join(current, part)));
    return out;
}

/** A session as /health and the logs show it. */
export interface SessionInfo {
    readonly sessionId: string;
    readonly pid: number;
    readonly workDir: string;
    readonly startedAt: string;
}

interface LiveSession {
    /** pid 0 while Zed is being started: the slot counts towards CONCURRENCY, but there is nothing to stop yet. */
    readonly info: SessionInfo;
    readonly exited: Promise<void>;
    timer: NodeJS.Timeout | undefined;
    ending: string | undefined;
}

export type EndReason = "stopped" | "timeout" | "shutdown";

export class Sessions {
    private readonly live = new Map<string, LiveSession>();
    private started = 0;
    private onDrained: (() => void) | undefined;

    constructor(
        private readonly settings: SessionSettings,
        private readonly host: SessionHost,
        private readonly log: Logger,
    ) {}

    /** Sessions started since the agent started (what MAX_TASKS counts). */
    get tasksStarted(): number {
        return this.started;
    }

    /** True once MAX_TASKS sessions have started: no more are taken. */
    get draining(): boolean {
        return this.settings.maxTasks > 0 && this.started >= this.settings.maxTasks;
    }

    has(sessionId: string): boolean {
        return this.live.has(sessionId);
    }

    list(): SessionInfo[] {
        return [...this.live.values()].map((s) => s.info);
    }

    /** Calls `callback` once the runner is draining and its last session has ended. */
    whenDrained(callback: () => void): void {
        this.onDrained = callback;
        this.checkDrained();
    }

    /** Starts Zed for a launch, or says why not. Replies as the control plane expects either way. */
    async launch(agent: ZedAgent): Promise<ZedAgentResponse> {
        const { runnerId } = this.settings;
        const sessionId = agent.session_id;
        const refuse = (error: string) => {
            this.log.warn(`launch of session ${sessionId} refused: ${error}`);
            return agentResponse({ session_id: sessionId, runner_id: runnerId, status: "error", error });
        };
        const existing = this.live.get(sessionId);
        if (existing) {
            // A repeated launch (the control plane retried) gets the same answer, not a second Zed.
            return agentResponse({ session_id: sessionId, runner_id: runnerId, status: "running", pid: existing.info.pid });
        }
        if (this.draining) {
            return refuse(
                `runner ${runnerId} has run its MAX_TASKS=${this.settings.maxTasks} sessions and restarts once its sessions end; it takes no new work`,
            );
        }
        if (this.live.size >= this.settings.concurrency) {
            return refuse(
                `runner ${runnerId} is at its CONCURRENCY limit of ${this.settings.concurrency} live session${this.settings.concurrency === 1 ? "" : "s"}`,
            );
        }
        const folders = this.folders(agent);
        if ("error" in folders) return refuse(folders.error);
        const env = this.environment(agent, folders.workDir, folders.projectPath);
        if ("error" in env) return refuse(env.error);

        // Counted before the first await, so two launches racing cannot both take the last slot.
        const reserved: LiveSession = {
            info: { sessionId, pid: 0, workDir: folders.workDir, startedAt: "" },
            exited: Promise.resolve(),
            timer: undefined,
            ending: undefined,
        };
        this.live.set(sessionId, reserved);
        this.started += 1;
        try {
            const workDir = await this.host.prepareDir(folders.workDir);
            if (!this.allowedRoots().some((root) => isInside(workDir, root))) {
                throw new Error(`work_dir ${folders.workDir} resolves to ${workDir}, outside the workspace`);
            }
            if (!path.isAbsolute(agent.project_path ?? "") && folders.projectPath !== workDir)
                await this.host.prepareDir(folders.projectPath);
            const child = this.host.startZed([folders.projectPath], workDir, env.env);
            await new Promise<void>((resolve, reject) => {
                child.once("spawn", resolve);
                child.once("error", reject);
            });
            const session = this.track(sessionId, workDir, child);
            this.live.set(sessionId, session);
            this.log.info(
                `session ${sessionId}: Zed started (pid ${child.pid}) in ${workDir}; ${this.live.size}/${this.settings.concurrency} live, ${this.started} started`,
            );
            return agentResponse({ session_id: sessionId, runner_id: runnerId, status: "running", pid: child.pid });
        } catch (err) {
            this.live.delete(sessionId);
            this.started -= 1;
            return refuse(`could not start Zed: ${describeError(err)}`);
        }
    }

    /** Ends a session this runner runs; a stop for any other is answered with an error and changes nothing. */
    async stop(sessionId: string): Promise<ZedAgentResponse> {
        const { runnerId } = this.settings;
        const session = this.live.get(sessionId);
        if (!session || session.info.pid === 0) {
            this.log.info(`stop for session ${sessionId} ignored: not a session of this runner`);
            return agentResponse({
                session_id: sessionId,
                runner_id: runnerId,
                status: "error",
                error: `session ${sessionId} is not running on runner ${runnerId}`,
            });
        }
        await this.end(session, "stopped");
        return agentResponse({ session_id: sessionId, runner_id: runnerId, status: "stopped" });
    }

    /** Ends every session: SIGTERM now, SIGKILL to what is left after `graceMs`. */
    async endAll(reason: EndReason, graceMs: number): Promise<void> {
        await Promise.all([...this.live.values()].filter((s) => s.info.pid !== 0).map((s) => this.end(s, reason, graceMs)));
    }

    /** Resolves when no session is live, or after `ms`; true when none is. */
    async settle(ms: number): Promise<boolean> {
        const deadline = Date.now() + ms;
        while (this.live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        return this.live.size === 0;
    }

    private end(session: LiveSession, reason: EndReason, graceMs = KILL_GRACE_MS): Promise<void> {
        if (!session.ending) {
            session.ending = reason;
            clearTimeout(session.timer);
            this.log.info(`session ${session.info.sessionId}: ending (${reason})`);
            signalGroup(session.info.pid, "SIGTERM");
            const kill = setTimeout(() => signalGroup(session.info.pid, "SIGKILL"), graceMs);
            void session.exited.then(() => clearTimeout(kill));
        }
        return session.exited;
    }

    private track(sessionId: string, workDir: string, child: ChildProcess): LiveSession {
        const pid = child.pid!;
        const out = this.log.child(`session ${sessionId}`);
        for (const stream of [child.stdout, child.stderr]) {
            if (!stream) continue;
            readline
                .createInterface({ input: stream, crlfDelay: Infinity })
                .on("line", (line) => out.info(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}...` : line));
        }
        const exited = new Promise<void>((resolve) => {
            child.once("exit", (code, signal) => {
                const session = this.live.get(sessionId);
                clearTimeout(session?.timer);
                // Whatever Zed left behind in its group goes with it.
                signalGroup(pid, "SIGKILL");
                this.live.delete(sessionId);
                const how = signal ? `signal ${signal}` : `status ${code}`;
                this.log.info(
                    `session ${sessionId}: Zed exited with ${how}${session?.ending ? ` (${session.ending})` : ""}; ${this.live.size} live`,
                );
                resolve();
                this.checkDrained();
            });
        });
        const session: LiveSession = {
            info: { sessionId, pid, workDir, startedAt: new Date().toISOString() },
            exited,
            timer: undefined,
            ending: undefined,
        };
        if (this.settings.sessionTimeout > 0) {
            session.timer = setTimeout(() => {
                this.log.warn(`session ${sessionId}: SESSION_TIMEOUT of ${this.settings.sessionTimeout} s reached`);
                void this.end(session, "timeout");
            }, this.settings.sessionTimeout * 1000);
        }
        return session;
    }

    private checkDrained(): void {
        if (this.draining && this.live.size === 0 && this.onDrained) {
            const callback = this.onDrained;
            this.onDrained = undefined;
            callback();
        }
    }

    private allowedRoots(): string[] {
        return [this.settings.workspaceDir, ...EXTRA_WORK_ROOTS].map(normalizeAbsolutePath);
    }

    /** The session's folder and project path, refused when a control plane points them outside the workspace. */
    private folders(agent: ZedAgent): { workDir: string; projectPath: string } | { error: string } {
        let workDir: string;
        if (agent.work_dir) {
            if (!path.isAbsolute(agent.work_dir)) return { error: `work_dir ${JSON.stringify(agent.work_dir)} must be an absolute path` };
            if (agent.work_dir.split("/").includes(".."))
                return { error: `work_dir ${JSON.stringify(agent.work_dir)} must not contain '..'` };
            workDir = normalizeAbsolutePath(agent.work_dir);
            const roots = this.allowedRoots();
            if (!roots.some((root) => isInside(workDir, root))) {
                return {
                    error: `work_dir ${JSON.stringify(agent.work_dir)} is outside the runner's workspace folders (${roots.join(", ")})`,
                };
            }
        } else {
            if (!isSafeSegment(agent.session_id)) return { error: `session_id ${JSON.stringify(agent.session_id)} cannot name a folder` };
            workDir = path.posix.join(this.settings.workspaceDir, agent.session_id);
        }
        const project = agent.project_path ?? "";
        if (project === "") return { workDir, projectPath: workDir };
        if (project.split("/").includes("..")) return { error: `project_path ${JSON.stringify(project)} must not contain '..'` };
        return { workDir, projectPath: path.isAbsolute(project) ? normalizeAbsolutePath(project) : path.posix.join(workDir, project) };
    }

    /** Zed's environment: the documented variables, then the control plane's entries. No secret of the agent's. */
    private environment(agent: ZedAgent, workDir: string, projectPath: string): { env: Record<string, string> } | { error: string } {
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
}

function isInside(dir: string, root: string): boolean {
    return dir === root || dir.startsWith(`${root}/`);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pgid, signal);
    } catch {
        // ESRCH: the group is already gone.
    }
}
