// The runner's core, apart from the desktop: the control-plane link, what each
// frame does, Zed sessions, RDP tunnels, the clean stop and the health report.
// main.ts gives it the real operating system; tests give it the stub Zed and a
// recorded chpasswd, and talk to it over a real WebSocket.
import * as net from "node:net";
import { ControlLink, LinkTiming } from "./controlLink";
import type { PasswordState } from "./desktop";
import { Dispatcher, PasswordSetter } from "./dispatcher";
import type { HealthReport } from "./health";
import type { Logger } from "./log";
import { runnerSocketUrl } from "./protocol";
import { DESKTOP_RETRY_MS, DESKTOP_WAIT_MS, NOT_SUPERVISED, Readiness } from "./localServer";
import { RunnerMetrics } from "./metrics";
import { RdpTunnels, TUNNEL_IDLE_MS } from "./rdpTunnels";
import { ReverseDial, RevdialTiming } from "./revdial";
import type { SessionHost } from "./sessionHost";
import { Sessions } from "./sessions";
import type { AgentSettings } from "./settings";

/** Seconds kept from the stop grace for ending sessions and the desktop, before Docker's SIGKILL. */
const SHUTDOWN_RESERVE_SECONDS = 5;
/** How long a stopping runner waits for requests in flight to be answered. */
const REPLY_GRACE_MS = 3000;

export type CoreSettings = Pick<
    AgentSettings,
    "apiHost" | "apiToken" | "runnerId" | "concurrency" | "maxTasks" | "sessionTimeout" | "workspaceDir" | "stopGraceSeconds" | "revdial"
>;

export interface RunnerDeps {
    readonly host: SessionHost;
    readonly passwords: PasswordSetter & { readonly state: PasswordState };
    readonly log: Logger;
    /** Connects to the local xrdp. */
    readonly connectXrdp?: () => net.Socket;
    /** Connects to the local VNC server. */
    readonly connectVnc?: () => net.Socket;
    /** The desktop's supervisors: whether x11vnc and xrdp accept connections now (none: the connection tries alone tell). */
    readonly vnc?: Readiness;
    readonly xrdp?: Readiness;
    readonly timing?: LinkTiming;
    readonly revdialTiming?: RevdialTiming;
    /** What GET /metrics serves (main.ts adds the process's own metrics and the desktop's); a fresh one if none. */
    readonly metrics?: RunnerMetrics;
}

export class RunnerCore {
    readonly sessions: Sessions;
    readonly tunnels: RdpTunnels;
    readonly dispatcher: Dispatcher;
    readonly link: ControlLink;
    readonly revdial: ReverseDial;
    readonly metrics: RunnerMetrics;
    private stopping: Promise<void> | undefined;

    constructor(
        private readonly settings: CoreSettings,
        private readonly deps: RunnerDeps,
    ) {
        const { log } = deps;
        const metrics = (this.metrics = deps.metrics ?? new RunnerMetrics());
        this.sessions = new Sessions(settings, deps.host, log, metrics);
        const link = new ControlLink(
            runnerSocketUrl(settings.apiHost, settings.apiToken, settings.runnerId, settings.concurrency),
            settings.apiHost,
            (text) => void this.dispatcher.handle(text),
            log,
            {
                timing: deps.timing,
                onDisconnect: () => this.tunnels.closeAll("the control-plane link dropped"),
                // A reconnect may be to a restarted or upgraded control plane: one that had no reverse dial may have one now.
                onConnect: () => {
                    if (this.link.state.connects > 1) this.revdial.askAgain();
                },
            },
        );
        this.link = link;
        this.tunnels = new RdpTunnels(
            link,
            (id) => id === settings.runnerId || this.sessions.has(id),
            log.child("rdp"),
            deps.connectXrdp,
            TUNNEL_IDLE_MS,
            { readiness: deps.xrdp ?? NOT_SUPERVISED, wait: { waitMs: DESKTOP_WAIT_MS, retryMs: DESKTOP_RETRY_MS } },
            metrics,
        );
        this.dispatcher = new Dispatcher(
            settings.runnerId,
            this.sessions,
            deps.passwords,
            (frame) => link.send(frame),
            this.tunnels,
            log,
            metrics,
        );
        this.revdial = new ReverseDial(
            { apiHost: settings.apiHost, apiToken: settings.apiToken, runnerId: settings.runnerId, mode: settings.revdial },
            log.child("revdial"),
            deps.connectVnc,
            deps.revdialTiming,
            deps.vnc,
            metrics,
        );
        metrics.watch({
            runnerId: settings.runnerId,
            sessionLimit: settings.concurrency,
            linkConnected: () => this.link.state.connected,
            linkConnects: () => this.link.state.connects,
            linkLastHeardAt: () => this.link.lastHeardAt,
            sessionsLive: () => this.sessions.list().length,
            draining: () => this.sessions.draining,
            tunnelsOpen: (kind) => (kind === "rdp" ? this.tunnels.open : this.revdial.state.tunnels),
            tunnelsOpened: (kind) => (kind === "rdp" ? this.tunnels.opened : this.revdial.state.pickedUp),
            reverseDialUp: () => this.revdial.state.status === "up",
        });
    }

    start(): void {
        this.link.start();
        this.revdial.start();
    }

    /** Calls `callback` once MAX_TASKS sessions have started and ended. */
    whenDrained(callback: () => void): void {
        this.sessions.whenDrained(callback);
    }

    /**
     * The clean stop: no more work (the link closes), running sessions get the
     * stop grace less a reserve to finish, then what is left is ended.
     */
    shutdown(): Promise<void> {
        this.stopping ??= (async () => {
            // Requests already received get their replies before the link closes (the last stop of a
            // MAX_TASKS runner is what triggers this very shutdown).
            await this.dispatcher.settle(REPLY_GRACE_MS);
            await this.link.stop();
            await this.revdial.stop();
            this.tunnels.closeAll("the runner is stopping");
            const live = this.sessions.list().length;
            if (live === 0) return;
            const grace = Math.max(0, this.settings.stopGraceSeconds - SHUTDOWN_RESERVE_SECONDS);
            this.deps.log.info(`waiting up to ${grace} s for ${live} session(s) to finish`);
            if (!(await this.sessions.settle(grace * 1000))) await this.sessions.endAll("shutdown", 3000);
        })();
        return this.stopping;
    }

    /** /health's body, given the desktop's components. */
    report(components: Readonly<Record<string, "up" | "down">>): HealthReport {
        const list = this.sessions.list();
        return {
            status: Object.values(components).every((s) => s === "up") ? "ok" : "unhealthy",
            runnerId: this.settings.runnerId,
            components,
            controlPlane: { url: this.settings.apiHost, ...this.link.state },
            sessions: {
                live: list.length,
                limit: this.settings.concurrency,
                started: this.sessions.tasksStarted,
                maxTasks: this.settings.maxTasks,
                draining: this.sessions.draining,
                list,
            },
            revdial: this.revdial.state,
            desktopPassword: this.deps.passwords.state,
            tunnels: { rdp: this.tunnels.open, vnc: this.revdial.state.tunnels },
        };
    }
}
