// Zed sessions (docs/protocol.md §3.4): one Zed process group per session, run
// as the desktop user in the session's folder, capped by CONCURRENCY, ended by
// a stop, by SESSION_TIMEOUT, or when Zed exits; after MAX_TASKS sessions the
// runner takes no more work and reports itself drained. Launches and stops
// return plain results; the dispatcher turns them into the control plane's
// replies. Where a session runs is workDir.ts's, its environment sessionEnv.ts's,
// and the operating system sessionHost.ts's.
import type { ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { describeError } from "../contract";
import { Logger } from "./log";
import { RefusalReason, RunnerMetrics, SessionEndReason } from "./metrics";
import type { ZedAgent } from "./protocol";
import { sessionEnvironment } from "./sessionEnv";
import { SessionHost, signalGroup } from "./sessionHost";
import { checkRealWorkDir, sessionFolders } from "./workDir";

/** After SIGTERM, how long a session's processes get before SIGKILL. */
const KILL_GRACE_MS = 5000;
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

/** What became of a launch. */
export type LaunchResult =
    | { readonly kind: "started"; readonly sessionId: string; readonly pid: number }
    /** A repeated launch (the control plane retried): the same session, not a second Zed. pid 0 while it is still starting. */
    | { readonly kind: "already-running"; readonly sessionId: string; readonly pid: number }
    | { readonly kind: "refused"; readonly sessionId: string; readonly reason: string };

/** What became of a stop. */
export type StopResult =
    | { readonly kind: "stopped"; readonly sessionId: string }
    /** Not a session of this runner (the shared queue hands any stop to any runner): nothing changed. */
    | { readonly kind: "not-here"; readonly sessionId: string; readonly reason: string };

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
    ending: EndReason | undefined;
}

export type EndReason = "stopped" | "timeout" | "shutdown";

/** How /metrics names each way a session ends; Zed exiting with no reason given is its own. */
const ENDED_BY: Record<EndReason, SessionEndReason> = { stopped: "stop", timeout: "timeout", shutdown: "shutdown" };

export class Sessions {
    private readonly live = new Map<string, LiveSession>();
    private started = 0;
    private onDrained: (() => void) | undefined;

    constructor(
        private readonly settings: SessionSettings,
        private readonly host: SessionHost,
        private readonly log: Logger,
        private readonly metrics: RunnerMetrics = new RunnerMetrics(),
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

    /** Starts Zed for a launch, or says why not. */
    async launch(agent: ZedAgent): Promise<LaunchResult> {
        const { runnerId } = this.settings;
        const sessionId = agent.session_id;
        const refuse = (why: RefusalReason, reason: string): LaunchResult => {
            this.log.warn(`launch of session ${sessionId} refused: ${reason}`);
            this.metrics.launchRefused(why);
            return { kind: "refused", sessionId, reason };
        };
        const existing = this.live.get(sessionId);
        if (existing) return { kind: "already-running", sessionId, pid: existing.info.pid };
        if (this.draining) {
            return refuse(
                "max_tasks",
                `runner ${runnerId} has run its MAX_TASKS=${this.settings.maxTasks} sessions and restarts once its sessions end; it takes no new work`,
            );
        }
        if (this.live.size >= this.settings.concurrency) {
            return refuse(
                "concurrency",
                `runner ${runnerId} is at its CONCURRENCY limit of ${this.settings.concurrency} live session${this.settings.concurrency === 1 ? "" : "s"}`,
            );
        }
        const folders = sessionFolders(agent, this.settings.workspaceDir);
        if ("error" in folders) return refuse("work_dir", folders.error);
        const env = sessionEnvironment(agent, folders.workDir, folders.projectPath);
        if ("error" in env) return refuse("environment", env.error);

        // Counted before the first await, so two launches racing cannot both take the last slot.
        const reserved: LiveSession = {
            info: { sessionId, pid: 0, workDir: folders.workDir, startedAt: "" },
            exited: Promise.resolve(),
            timer: undefined,
            ending: undefined,
        };
        this.live.set(sessionId, reserved);
        this.started += 1;
        // The reply's words stay as they were; /metrics tells a folder that could not be made from Zed not starting.
        let stage: RefusalReason = "work_dir";
        try {
            const workDir = await this.host.prepareDir(folders.workDir);
            checkRealWorkDir(folders.workDir, workDir, this.settings.workspaceDir);
            if (!path.isAbsolute(agent.project_path ?? "") && folders.projectPath !== workDir)
                await this.host.prepareDir(folders.projectPath);
            stage = "zed_start";
            const child = this.host.startZed([folders.projectPath], workDir, env.env);
            await new Promise<void>((resolve, reject) => {
                child.once("spawn", resolve);
                child.once("error", reject);
            });
            const session = this.track(sessionId, workDir, child);
            this.live.set(sessionId, session);
            this.metrics.sessionStarted();
            this.log.info(
                `session ${sessionId}: Zed started (pid ${child.pid}) in ${workDir}; ${this.live.size}/${this.settings.concurrency} live, ${this.started} started`,
            );
            return { kind: "started", sessionId, pid: session.info.pid };
        } catch (err) {
            this.live.delete(sessionId);
            this.started -= 1;
            return refuse(stage, `could not start Zed: ${describeError(err)}`);
        }
    }

    /** Ends a session this runner runs; a stop for any other changes nothing. */
    async stop(sessionId: string): Promise<StopResult> {
        const { runnerId } = this.settings;
        const session = this.live.get(sessionId);
        if (!session || session.info.pid === 0) {
            this.log.info(`stop for session ${sessionId} ignored: not a session of this runner`);
            return { kind: "not-here", sessionId, reason: `session ${sessionId} is not running on runner ${runnerId}` };
        }
        await this.end(session, "stopped");
        return { kind: "stopped", sessionId };
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
                this.metrics.sessionEnded(session?.ending ? ENDED_BY[session.ending] : "zed_exit");
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
}
