// The runner's Prometheus metrics, served as GET /metrics on the health port
// (docs/metrics.md). This module owns the registry and every metric's name and
// help text; the other modules report events through the small functions below
// (a session ended, a launch refused, bytes through a tunnel), and what is
// state (the link, live sessions, desktop components, open tunnels) is read
// from its owner at each scrape, so it can never drift from /health.
// Labels are fixed words from this file only: never a session ID, a path, a
// password, a token or anything the control plane or a user sent.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Every metric of the agent's own starts with this. */
export const METRIC_PREFIX = "zed_runner_";

/** Why a session ended: a stop from the control plane, SESSION_TIMEOUT, Zed exiting by itself, or the runner stopping. */
export type SessionEndReason = "stop" | "timeout" | "zed_exit" | "shutdown";
const SESSION_END_REASONS: readonly SessionEndReason[] = ["stop", "timeout", "zed_exit", "shutdown"];

/**
 * Why a launch was refused: CONCURRENCY or MAX_TASKS reached, a work_dir or project_path
 * that cannot be used, env entries that are not KEY=VALUE, Zed would not start, or the
 * desktop would not take the launch's password.
 */
export type RefusalReason = "concurrency" | "max_tasks" | "work_dir" | "environment" | "zed_start" | "desktop_password";
const REFUSAL_REASONS: readonly RefusalReason[] = ["concurrency", "max_tasks", "work_dir", "environment", "zed_start", "desktop_password"];

/** RDP over the runner's WebSocket, VNC over the reverse dial. */
export type TunnelKind = "rdp" | "vnc";
const TUNNEL_KINDS: readonly TunnelKind[] = ["rdp", "vnc"];
/** to_desktop: from the control plane to xrdp or x11vnc; from_desktop: back. */
export type TunnelDirection = "to_desktop" | "from_desktop";
const DIRECTIONS: readonly TunnelDirection[] = ["to_desktop", "from_desktop"];

/**
 * Launch-to-reply buckets, in seconds: a launch is answered once Zed has been spawned
 * (tens of milliseconds on an idle runner), and a slow one is a loaded host or a slow disk.
 */
const LAUNCH_REPLY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The runner's state, read at each scrape. RunnerCore gives these. */
export interface RunnerState {
    readonly runnerId: string;
    /** CONCURRENCY. */
    readonly sessionLimit: number;
    linkConnected(): boolean;
    /** Connections to the control plane opened since start (the first and every reconnect). */
    linkConnects(): number;
    /** When the control plane was last heard from (ms since the epoch), or undefined if never. */
    linkLastHeardAt(): number | undefined;
    sessionsLive(): number;
    draining(): boolean;
    tunnelsOpen(kind: TunnelKind): number;
    tunnelsOpened(kind: TunnelKind): number;
    reverseDialUp(): boolean;
}

/** A desktop component as its supervisor (desktop.ts's Supervised) reports it. */
export interface DesktopComponentState {
    readonly spec: { readonly name: string };
    readonly up: boolean;
    /** How often it was started again after it exited; only grows. */
    readonly restarts: number;
}

export interface MetricsOptions {
    /** Also prom-client's standard process_* and nodejs_* metrics of the agent's own process (the agent does; tests need not). */
    readonly processMetrics?: boolean;
    /** The clock, for tests. */
    readonly now?: () => number;
}

/** One runner's metrics: its own registry, so runners in one test process never share counts. */
export class RunnerMetrics {
    readonly registry = new Registry();
    private state: RunnerState | undefined;
    private components: readonly DesktopComponentState[] = [];
    private readonly now: () => number;
    private readonly startedAt: number;

    private readonly sessionsStarted: Counter;
    private readonly sessionsEnded: Counter<"reason">;
    private readonly launchesRefused: Counter<"reason">;
    private readonly launchReply: Histogram;
    private readonly tunnelBytes: Counter<"kind" | "direction">;

    constructor(options: MetricsOptions = {}) {
        this.now = options.now ?? Date.now;
        this.startedAt = this.now();
        const registers = [this.registry];
        // `self` for the collect() callbacks, whose `this` is the metric.
        // eslint-disable-next-line @typescript-eslint/no-this-alias
        const self = this;
        const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`;

        new Gauge({
            name: name("info"),
            help: "Always 1; runner_id is the runner's ID (RUNNER_ID), to join other metrics on.",
            labelNames: ["runner_id"],
            registers,
            collect() {
                this.reset();
                if (self.state) this.set({ runner_id: self.state.runnerId }, 1);
            },
        });
        new Gauge({
            name: name("control_plane_up"),
            help: "1 while the runner's WebSocket to the control plane is open, 0 while it dials again.",
            registers,
            collect() {
                this.set(self.state?.linkConnected() ? 1 : 0);
            },
        });
        new Counter({
            name: name("control_plane_reconnects_total"),
            help: "Connections to the control plane opened after the first, each after the link dropped.",
            registers,
            collect() {
                this.reset();
                this.inc(Math.max(0, (self.state?.linkConnects() ?? 0) - 1));
            },
        });
        new Gauge({
            name: name("control_plane_last_message_age_seconds"),
            help:
                "Seconds since the control plane last sent anything on the runner's WebSocket (a message, a ping or a pong; " +
                "the runner pings every 5 s and dials again after 20 s of silence). Since the agent started if never.",
            registers,
            collect() {
                const heard = self.state?.linkLastHeardAt() ?? self.startedAt;
                this.set(Math.max(0, (self.now() - heard) / 1000));
            },
        });
        new Gauge({
            name: name("sessions_live"),
            help: "Zed sessions running now (including one being started).",
            registers,
            collect() {
                this.set(self.state?.sessionsLive() ?? 0);
            },
        });
        new Gauge({
            name: name("sessions_limit"),
            help: "The most sessions the runner runs at once (CONCURRENCY).",
            registers,
            collect() {
                this.set(self.state?.sessionLimit ?? 0);
            },
        });
        this.sessionsStarted = new Counter({
            name: name("sessions_started_total"),
            help: "Zed sessions started (Zed spawned for a launch).",
            registers,
        });
        this.sessionsEnded = new Counter({
            name: name("sessions_ended_total"),
            help: "Zed sessions ended, by reason: stop (the control plane's), timeout (SESSION_TIMEOUT), zed_exit (Zed exited by itself), shutdown (the runner stopped).",
            labelNames: ["reason"],
            registers,
        });
        this.launchesRefused = new Counter({
            name: name("launches_refused_total"),
            help: "Launches answered with an error, by reason: concurrency (CONCURRENCY reached), max_tasks (MAX_TASKS reached), work_dir, environment, zed_start, desktop_password.",
            labelNames: ["reason"],
            registers,
        });
        this.launchReply = new Histogram({
            name: name("launch_reply_seconds"),
            // Unlabelled: every launch's reply is what the control plane waits for; refusals are counted by reason above.
            help: "Seconds from a launch reaching the runner to its reply (running or error), every launch.",
            buckets: LAUNCH_REPLY_BUCKETS,
            registers,
        });
        new Gauge({
            name: name("draining"),
            help: "1 once the runner has started MAX_TASKS sessions: it takes no more and restarts when they end.",
            registers,
            collect() {
                this.set(self.state?.draining() ? 1 : 0);
            },
        });
        new Gauge({
            name: name("desktop_component_up"),
            help: "1 while a desktop component (xvfb, windowManager, vnc, rdp) runs and accepts connections.",
            labelNames: ["component"],
            registers,
            collect() {
                this.reset();
                for (const c of self.components) this.set({ component: c.spec.name }, c.up ? 1 : 0);
            },
        });
        new Counter({
            name: name("desktop_component_restarts_total"),
            help: "Times a desktop component exited and was started again.",
            labelNames: ["component"],
            registers,
            collect() {
                this.reset();
                for (const c of self.components) this.inc({ component: c.spec.name }, c.restarts);
            },
        });
        new Gauge({
            name: name("tunnels_open"),
            help: "Desktop connections open through the control plane, by kind: rdp (over the WebSocket), vnc (over the reverse dial).",
            labelNames: ["kind"],
            registers,
            collect() {
                this.reset();
                for (const kind of TUNNEL_KINDS) this.set({ kind }, self.state?.tunnelsOpen(kind) ?? 0);
            },
        });
        new Counter({
            name: name("tunnels_opened_total"),
            help: "Desktop connections opened through the control plane, by kind (rdp, vnc).",
            labelNames: ["kind"],
            registers,
            collect() {
                this.reset();
                for (const kind of TUNNEL_KINDS) this.inc({ kind }, self.state?.tunnelsOpened(kind) ?? 0);
            },
        });
        this.tunnelBytes = new Counter({
            name: name("tunnel_bytes_total"),
            help: "Bytes carried by desktop connections, by kind (rdp, vnc) and direction (to_desktop: from the control plane; from_desktop: back).",
            labelNames: ["kind", "direction"],
            registers,
        });
        new Gauge({
            name: name("reverse_dial_up"),
            help: "1 while the reverse dial's control connection is open and VNC accepts connections (the control plane can reach the desktop).",
            registers,
            collect() {
                this.set(self.state?.reverseDialUp() ? 1 : 0);
            },
        });

        // Every reason and direction is there from the start, at 0: a rate() over a series that
        // appears only with its first event misses that event.
        this.sessionsStarted.inc(0);
        for (const reason of SESSION_END_REASONS) this.sessionsEnded.inc({ reason }, 0);
        for (const reason of REFUSAL_REASONS) this.launchesRefused.inc({ reason }, 0);
        for (const kind of TUNNEL_KINDS) for (const direction of DIRECTIONS) this.tunnelBytes.inc({ kind, direction }, 0);
        if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    }

    /** Where the state-backed metrics read from (RunnerCore calls this once). */
    watch(state: RunnerState): void {
        this.state = state;
    }

    /** The desktop's supervised components (main.ts; none in tests without a desktop). */
    watchDesktop(components: readonly DesktopComponentState[]): void {
        this.components = components;
    }

    sessionStarted(): void {
        this.sessionsStarted.inc();
    }

    sessionEnded(reason: SessionEndReason): void {
        this.sessionsEnded.inc({ reason });
    }

    launchRefused(reason: RefusalReason): void {
        this.launchesRefused.inc({ reason });
    }

    /** A launch was answered `seconds` after it arrived. */
    launchAnswered(seconds: number): void {
        this.launchReply.observe(seconds);
    }

    tunnelCarried(kind: TunnelKind, direction: TunnelDirection, bytes: number): void {
        this.tunnelBytes.inc({ kind, direction }, bytes);
    }

    /** The Prometheus text exposition. */
    scrape(): Promise<string> {
        return this.registry.metrics();
    }

    /** The Content-Type of `scrape()`'s text. */
    get contentType(): string {
        return this.registry.contentType;
    }
}
