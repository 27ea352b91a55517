// The reverse dial (rc8 control planes, docs/protocol.md §5): the control plane
// reaches the runner's desktop (Guacamole's VNC) with no inbound port on the
// runner's machine. A control connection `GET /api/v1/revdial?runnerid=<id>`
// with the runner token as a Bearer token is answered 200 and kept open; on it
// the control plane sends newline-delimited JSON: `keep-alive`, and `conn-ready`
// with a `connPath` whenever it wants a connection. Each is picked up with a
// WebSocket at /api/v1 + connPath (Bearer token again) and bridged to the local
// VNC server; `pickup-failed` tells the control plane when that cannot be done.
// This module keeps the control connection and its state; what is said on it is
// revdialWire.ts's, and each picked-up connection is revdialBridge.ts's.
import * as net from "node:net";
import * as tls from "node:tls";
import type WebSocket from "ws";
import { CONTAINER_PORTS, describeError } from "../contract";
import { backoffMs } from "./backoff";
import { DESKTOP_RETRY_MS, DESKTOP_WAIT_MS, NOT_SUPERVISED, NotReadyError, Readiness, connectWhenReady } from "./localServer";
import { Logger } from "./log";
import { RunnerMetrics } from "./metrics";
import { API_PREFIX, REVDIAL_PATH, apiUrl } from "./protocol";
import { bridgeToVnc } from "./revdialBridge";
import { KEEP_ALIVE_LINE, MAX_HEAD_BYTES, classifyAnswer, parseCommand, pickupFailedLine, splitHead } from "./revdialWire";
import type { RevdialMode } from "../contract";

/** How often we send our own keep-alive line; the server sends one every 18 s. */
const KEEPALIVE_MS = 18_000;
/** No line from the server for this long: the control connection is dead. */
const DEAD_AFTER_MS = 60_000;
/** A control plane without the endpoint is asked again this rarely, in case it is upgraded. */
const UNSUPPORTED_RETRY_MS = 10 * 60_000;

export interface RevdialTiming {
    readonly minBackoffMs: number;
    readonly maxBackoffMs: number;
    readonly keepAliveMs: number;
    readonly deadAfterMs: number;
    readonly unsupportedRetryMs: number;
    /** How long a pick-up waits for a starting or restarting VNC server before it is `pickup-failed`. */
    readonly desktopWaitMs: number;
    /** The pause between two connection tries while a pick-up waits. */
    readonly desktopRetryMs: number;
}
export const DEFAULT_REVDIAL_TIMING: RevdialTiming = {
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    keepAliveMs: KEEPALIVE_MS,
    deadAfterMs: DEAD_AFTER_MS,
    unsupportedRetryMs: UNSUPPORTED_RETRY_MS,
    desktopWaitMs: DESKTOP_WAIT_MS,
    desktopRetryMs: DESKTOP_RETRY_MS,
};

/** The reverse dial as /health reports it. */
export interface RevdialState {
    readonly mode: RevdialMode;
    /**
     * off: not opened; up: control connection open and the VNC server accepting connections (the
     * control plane can reach the desktop); waiting: control connection open but the VNC server is
     * starting or restarting (pick-ups wait for it, up to 10 s); down: dialing again; unsupported:
     * the control plane has no endpoint.
     */
    readonly status: "off" | "up" | "waiting" | "down" | "unsupported";
    readonly since: string | null;
    readonly lastError: string | null;
    /** Desktop connections picked up and open now. */
    readonly tunnels: number;
    readonly pickedUp: number;
}

/** The control connection's own status; "waiting" is derived from it and the VNC server's readiness. */
type ConnectionStatus = Exclude<RevdialState["status"], "waiting">;

interface Settings {
    readonly apiHost: string;
    readonly apiToken: string;
    readonly runnerId: string;
    readonly mode: RevdialMode;
}

export class ReverseDial {
    private socket: net.Socket | undefined;
    private stopped = false;
    private failures = 0;
    private retryTimer: NodeJS.Timeout | undefined;
    private keepAliveTimer: NodeJS.Timeout | undefined;
    private readonly tunnels = new Set<WebSocket>();
    private pickedUp = 0;
    private stateNow: { status: ConnectionStatus; since: string | null; lastError: string | null };

    constructor(
        private readonly settings: Settings,
        private readonly log: Logger,
        private readonly connectVnc: () => net.Socket = () => net.connect({ host: "127.0.0.1", port: CONTAINER_PORTS.vnc }),
        private readonly timing: RevdialTiming = DEFAULT_REVDIAL_TIMING,
        /** The VNC server's supervisor: whether the desktop is reachable now. */
        private readonly vnc: Readiness = NOT_SUPERVISED,
        private readonly metrics: RunnerMetrics = new RunnerMetrics(),
    ) {
        this.stateNow = { status: settings.mode === "off" ? "off" : "down", since: null, lastError: null };
    }

    get state(): RevdialState {
        // An open control connection is not a reachable desktop while x11vnc is not listening.
        const status = this.stateNow.status === "up" && !this.vnc.ready ? "waiting" : this.stateNow.status;
        return { mode: this.settings.mode, ...this.stateNow, status, tunnels: this.tunnels.size, pickedUp: this.pickedUp };
    }

    start(): void {
        if (this.settings.mode === "off") return;
        this.stopped = false;
        this.dial();
    }

    /**
     * The control-plane link reconnected: the control plane may have been restarted, or upgraded
     * to one with the reverse dial, so one that said it has none is asked again now rather than
     * at the next 10-minute retry (helixRevisions.ts REVERSE_DIAL).
     */
    askAgain(): void {
        if (this.stopped || this.settings.mode !== "auto" || this.stateNow.status !== "unsupported" || this.socket) return;
        clearTimeout(this.retryTimer);
        this.log.info("the control-plane link reconnected: asking the control plane for the reverse dial again");
        this.dial();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        clearTimeout(this.retryTimer);
        clearInterval(this.keepAliveTimer);
        this.socket?.destroy();
        for (const ws of this.tunnels) ws.terminate();
    }

    private set(status: ConnectionStatus, lastError: string | null): void {
        if (status !== this.stateNow.status) this.stateNow = { status, since: new Date().toISOString(), lastError };
        else this.stateNow = { ...this.stateNow, lastError };
    }

    private dial(): void {
        if (this.stopped) return;
        const url = apiUrl(this.settings.apiHost, `${REVDIAL_PATH}?runnerid=${encodeURIComponent(this.settings.runnerId)}`);
        const secure = url.protocol === "https:";
        const port = Number(url.port || (secure ? 443 : 80));
        // A plain socket, not an HTTP client: after its 200 the server hijacks the connection and
        // speaks raw JSON lines, which an HTTP client would try to read as a (chunked) body.
        const socket = secure
            ? tls.connect({ host: url.hostname, port, servername: net.isIP(url.hostname) ? undefined : url.hostname })
            : net.connect({ host: url.hostname, port });
        this.socket = socket;
        socket.setKeepAlive(true, 30_000);
        let head = Buffer.alloc(0);
        let answered = false;
        let lines = "";
        let lastHeard = Date.now();
        let failure: string | undefined;

        socket.once(secure ? "secureConnect" : "connect", () => {
            socket.write(
                `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${this.settings.apiToken}\r\n` +
                    "User-Agent: zed-runner\r\nAccept: */*\r\n\r\n",
            );
        });
        socket.on("data", (data: Buffer) => {
            lastHeard = Date.now();
            if (!answered) {
                head = Buffer.concat([head, data]);
                let split: ReturnType<typeof splitHead>;
                try {
                    split = splitHead(head);
                } catch (err) {
                    socket.destroy(err as Error);
                    return;
                }
                if (!split) return;
                answered = true;
                const answer = classifyAnswer(split.head);
                if (answer.kind !== "up") {
                    failure = answer.why;
                    if (answer.kind === "unsupported") this.markUnsupported(answer.why);
                    socket.destroy();
                    return;
                }
                this.failures = 0;
                this.set("up", null);
                this.log.info("reverse dial open: the control plane can ask for this runner's desktop");
                this.keepAliveTimer = setInterval(() => {
                    if (Date.now() - lastHeard > this.timing.deadAfterMs) {
                        socket.destroy(new Error(`no keep-alive from the control plane for ${this.timing.deadAfterMs / 1000} s`));
                        return;
                    }
                    socket.write(KEEP_ALIVE_LINE);
                }, this.timing.keepAliveMs);
                data = split.rest;
            }
            lines += data.toString("utf8");
            let nl: number;
            while ((nl = lines.indexOf("\n")) >= 0) {
                const line = lines.slice(0, nl).trim();
                lines = lines.slice(nl + 1);
                if (line) this.onControlMessage(line, socket);
            }
            if (lines.length > MAX_HEAD_BYTES) socket.destroy(new Error("a control line is too long"));
        });
        socket.on("error", (err) => (failure ??= describeError(err)));
        socket.on("close", () => {
            clearInterval(this.keepAliveTimer);
            if (this.socket === socket) this.socket = undefined;
            if (this.stopped) return;
            if (this.stateNow.status === "unsupported") {
                this.retryTimer = setTimeout(() => this.dial(), this.timing.unsupportedRetryMs);
                return;
            }
            const why = failure ?? (answered ? "the control connection closed" : "the control connection closed before an answer");
            const wasUp = this.stateNow.status === "up";
            this.set("down", why);
            if (wasUp || this.failures === 0) this.log.warn(`reverse dial down: ${why}; dialing again`);
            else this.log.debug(`reverse dial failed: ${why}`);
            const delay = backoffMs(this.failures, this.timing);
            this.failures = Math.min(this.failures + 1, 30);
            this.retryTimer = setTimeout(() => this.dial(), delay);
        });
    }

    /** A control plane without the reverse dial (helixRevisions.ts REVERSE_DIAL): ask again rarely, or keep trying when switched on. */
    private markUnsupported(why: string): void {
        if (this.settings.mode === "on") {
            // Asked for explicitly: keep trying like any failure, loudly.
            return;
        }
        if (this.stateNow.status !== "unsupported") {
            this.log.info(
                `reverse dial not offered: ${why}; this control plane reaches desktops another way (or not at all). Asking again every ${this.timing.unsupportedRetryMs / 60_000} min and whenever the control-plane link reconnects`,
            );
        }
        this.set("unsupported", why);
    }

    private onControlMessage(line: string, control: net.Socket): void {
        const command = parseCommand(line);
        switch (command.kind) {
            case "keep-alive":
                return;
            case "conn-ready":
                this.pickUp(command.connPath, control);
                return;
            case "not-json":
                this.log.warn("reverse dial: a control line is not JSON; ignored");
                return;
            case "other":
                this.log.debug(`reverse dial: ignored control message ${JSON.stringify(command.command).slice(0, 40)}`);
                return;
            default: {
                const unhandled: never = command;
                this.log.warn(`reverse dial: ignored a control command of unknown kind ${JSON.stringify(unhandled)}`);
            }
        }
    }

    /**
     * Picks a connection up at /api/v1 + connPath and bridges it to the local VNC server. A
     * pick-up that arrives while x11vnc is starting or restarting waits for it (up to
     * desktopWaitMs); only then is it `pickup-failed`.
     */
    private pickUp(connPath: string, control: net.Socket): void {
        const fail = (why: string) => {
            this.log.warn(`reverse dial: pick-up failed: ${why}`);
            if (!control.destroyed) control.write(pickupFailedLine(connPath, why));
        };
        connectWhenReady(
            this.connectVnc,
            this.vnc,
            { waitMs: this.timing.desktopWaitMs, retryMs: this.timing.desktopRetryMs },
            (why) => this.log.info(`reverse dial: a pick-up waits for the local VNC server (${why})`),
            () => this.stopped || control.destroyed,
            // The RFB banner comes first: an x11vnc that is being killed can accept, then close without it.
            true,
        ).then(
            (vnc) => this.bridge(connPath, vnc, fail),
            (err) => fail(`the local VNC server ${err instanceof NotReadyError ? "" : "did not answer: "}${describeError(err)}`),
        );
    }

    private bridge(connPath: string, vnc: net.Socket, fail: (why: string) => void): void {
        if (this.stopped) {
            vnc.destroy();
            return;
        }
        const url = apiUrl(this.settings.apiHost, `${API_PREFIX}${connPath}`);
        url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
        bridgeToVnc(url.toString(), this.settings.apiToken, vnc, this.log, {
            failed: fail,
            opened: (ws) => {
                this.tunnels.add(ws);
                this.pickedUp += 1;
                this.log.info(`reverse dial: desktop connection picked up; ${this.tunnels.size} open`);
            },
            closed: (ws) => {
                if (this.tunnels.delete(ws)) this.log.info(`reverse dial: desktop connection closed; ${this.tunnels.size} open`);
            },
            carried: (direction, bytes) => this.metrics.tunnelCarried("vnc", direction, bytes),
        });
    }
}
