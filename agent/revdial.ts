// The reverse dial (rc8 control planes, HELIX-PROTOCOL.md §2): the control plane
// reaches the runner's desktop (Guacamole's VNC) with no inbound port on the
// runner's machine. A control connection `GET /api/v1/revdial?runnerid=<id>`
// with the runner token as a Bearer token is answered 200 and kept open; on it
// the control plane sends newline-delimited JSON: `keep-alive`, and `conn-ready`
// with a `connPath` whenever it wants a connection. Each is picked up with a
// WebSocket at /api/v1 + connPath (Bearer token again) and bridged to the local
// VNC server; `pickup-failed` tells the control plane when that cannot be done.
import * as net from "node:net";
import * as tls from "node:tls";
import WebSocket from "ws";
import { CONTAINER_PORTS, type RevdialMode } from "../contract";
import { backoffMs } from "./controlLink";
import { DESKTOP_RETRY_MS, DESKTOP_WAIT_MS, NOT_SUPERVISED, NotReadyError, Readiness, connectWhenReady } from "./localServer";
import { describeError, Logger } from "./log";
import { API_PREFIX, REVDIAL_PATH, apiUrl } from "./protocol";

/** How often we send our own keep-alive line; the server sends one every 18 s. */
export const KEEPALIVE_MS = 18_000;
/** No line from the server for this long: the control connection is dead. */
export const DEAD_AFTER_MS = 60_000;
/** A control plane without the endpoint is asked again this rarely, in case it is upgraded. */
export const UNSUPPORTED_RETRY_MS = 10 * 60_000;
/** The longest response head accepted on the control connection. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Bytes queued towards the control plane before reading from VNC pauses. */
const HIGH_WATER_BYTES = 1024 * 1024;

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

/** What answered the control connection's request. */
export type RevdialAnswer = { kind: "up" } | { kind: "unsupported"; why: string } | { kind: "refused"; why: string };

/**
 * Reads the head of the control connection's answer. A 200 without an HTML body is the
 * revdial endpoint; a 404, or a page (a control plane without the endpoint serves its web
 * UI), means this control plane has none; anything else is a failure worth retrying.
 */
export function classifyAnswer(head: string): RevdialAnswer {
    const [statusLine, ...headerLines] = head.split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const contentType =
        headerLines
            .find((l) => /^content-type:/i.test(l))
            ?.split(":")[1]
            ?.trim()
            .toLowerCase() ?? "";
    if (status === 200 && !contentType.startsWith("text/html")) return { kind: "up" };
    if (status === 404 || (status === 200 && contentType.startsWith("text/html"))) {
        return {
            kind: "unsupported",
            why:
                status === 404
                    ? "the control plane answered 404 at /api/v1/revdial"
                    : "the control plane answered /api/v1/revdial with a web page",
        };
    }
    if (status === 401 || status === 403)
        return { kind: "refused", why: `the control plane refused the runner token (${status}) at /api/v1/revdial` };
    if (Number.isNaN(status)) return { kind: "refused", why: "the control plane's answer at /api/v1/revdial is not HTTP" };
    return { kind: "refused", why: `the control plane answered ${status} at /api/v1/revdial` };
}

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
     * at the next 10-minute retry.
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
                const end = head.indexOf("\r\n\r\n");
                if (end < 0) {
                    if (head.length > MAX_HEAD_BYTES) socket.destroy(new Error("the answer's head is too long"));
                    return;
                }
                answered = true;
                const answer = classifyAnswer(head.subarray(0, end).toString("latin1"));
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
                    socket.write(`${JSON.stringify({ command: "keep-alive" })}\n`);
                }, this.timing.keepAliveMs);
                data = head.subarray(end + 4);
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
        let message: { command?: unknown; connPath?: unknown };
        try {
            message = JSON.parse(line);
        } catch {
            this.log.warn("reverse dial: a control line is not JSON; ignored");
            return;
        }
        if (message.command === "keep-alive") return;
        if (message.command === "conn-ready" && typeof message.connPath === "string" && message.connPath.startsWith("/")) {
            this.pickUp(message.connPath, control);
            return;
        }
        this.log.debug(`reverse dial: ignored control message ${JSON.stringify(String(message.command)).slice(0, 40)}`);
    }

    /**
     * Picks a connection up at /api/v1 + connPath and bridges it to the local VNC server. A
     * pick-up that arrives while x11vnc is starting or restarting waits for it (up to
     * desktopWaitMs); only then is it `pickup-failed`.
     */
    private pickUp(connPath: string, control: net.Socket): void {
        const fail = (why: string) => {
            this.log.warn(`reverse dial: pick-up failed: ${why}`);
            if (!control.destroyed) control.write(`${JSON.stringify({ command: "pickup-failed", connPath, err: why })}\n`);
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
            (err) =>
                fail(
                    err instanceof NotReadyError
                        ? `the local VNC server ${err.message}`
                        : `the local VNC server did not answer: ${describeError(err)}`,
                ),
        );
    }

    private bridge(connPath: string, vnc: net.Socket, fail: (why: string) => void): void {
        if (this.stopped) {
            vnc.destroy();
            return;
        }
        const url = apiUrl(this.settings.apiHost, `${API_PREFIX}${connPath}`);
        url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
        vnc.setNoDelay(true);
        const socket = new WebSocket(url.toString(), {
            headers: { Authorization: `Bearer ${this.settings.apiToken}` },
            handshakeTimeout: 20_000,
            perMessageDeflate: false,
        });
        vnc.on("error", (err) => {
            this.log.debug(`reverse dial: the VNC connection failed: ${describeError(err)}`);
            socket.close(1011, "VNC connection failed");
        });
        socket.binaryType = "nodebuffer";
        socket.on("unexpected-response", (_req, res) => {
            res.resume();
            fail(`non-101 response ${res.statusCode}`);
            socket.terminate();
            vnc.destroy();
        });
        socket.once("error", (err) => {
            if (socket.readyState !== WebSocket.OPEN) fail(describeError(err));
            vnc.destroy();
        });
        socket.once("open", () => {
            this.tunnels.add(socket);
            this.pickedUp += 1;
            this.log.info(`reverse dial: desktop connection picked up; ${this.tunnels.size} open`);
            socket.on("message", (data: Buffer) => {
                // A slow VNC server pauses the WebSocket instead of queueing without bound.
                if (!vnc.write(data)) {
                    socket.pause();
                    vnc.once("drain", () => socket.resume());
                }
            });
            vnc.on("data", (data: Buffer) => {
                socket.send(data, { binary: true });
                if (socket.bufferedAmount > HIGH_WATER_BYTES && !vnc.isPaused()) {
                    vnc.pause();
                    const wait = setInterval(() => {
                        if (socket.bufferedAmount <= HIGH_WATER_BYTES || socket.readyState !== WebSocket.OPEN) {
                            clearInterval(wait);
                            vnc.resume();
                        }
                    }, 10);
                }
            });
            const close = () => {
                if (!this.tunnels.delete(socket)) return;
                vnc.destroy();
                socket.close();
                this.log.info(`reverse dial: desktop connection closed; ${this.tunnels.size} open`);
            };
            vnc.on("close", close);
            socket.on("close", close);
            // connectWhenReady left it paused with the banner unread: now it has somewhere to go.
            vnc.resume();
        });
    }
}
