// The runner's WebSocket to the control plane (docs/protocol.md §2): dial,
// ping every 5 s, and dial again forever after any drop, with a backoff capped
// low enough that the runner is back within 2 s of the control plane returning.
import WebSocket from "ws";
import { describeError } from "../contract";
import { backoffMs } from "./backoff";
import { Logger } from "./log";

export interface LinkTiming {
    /** Ping interval; the server drops a runner after 60 s without one. */
    readonly pingMs: number;
    /** No pong or message for this long: the link is dead, dial again. */
    readonly deadAfterMs: number;
    /** First retry delay, doubled per failure up to maxBackoffMs. */
    readonly minBackoffMs: number;
    readonly maxBackoffMs: number;
    /** How long a dial may take. */
    readonly handshakeMs: number;
}

export const DEFAULT_TIMING: LinkTiming = { pingMs: 5000, deadAfterMs: 20_000, minBackoffMs: 100, maxBackoffMs: 1000, handshakeMs: 10_000 };

/** The largest frame accepted; a larger one closes the link (1009) and it is dialed again. */
const MAX_FRAME_BYTES = 32 * 1024 * 1024;
/** Above this many bytes queued on the socket, senders are told to wait (see `whenDrained`). */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export interface LinkState {
    readonly connected: boolean;
    /** When the current connection opened (ISO), or when the link went down. */
    readonly since: string | null;
    /** The last failure, without secrets; cleared on reconnect. */
    readonly lastError: string | null;
    readonly connects: number;
    /** Dials that failed since the link was last connected (it dials again, backing off up to maxBackoffMs). */
    readonly failedDials: number;
}

export interface LinkOptions {
    readonly timing?: LinkTiming;
    /** Called after each successful dial. */
    readonly onConnect?: () => void;
    /** Called each time an open connection drops. */
    readonly onDisconnect?: () => void;
}

export class ControlLink {
    private socket: WebSocket | undefined;
    private stopped = false;
    private failures = 0;
    private retryTimer: NodeJS.Timeout | undefined;
    private pingTimer: NodeJS.Timeout | undefined;
    private lastHeard = 0;
    private drainWaiters: (() => void)[] = [];
    private stateNow: LinkState = { connected: false, since: null, lastError: null, connects: 0, failedDials: 0 };

    constructor(
        /** The full dial URL; it carries the token, so it is never logged. */
        private readonly url: string,
        /** What to print instead of the URL. */
        private readonly displayUrl: string,
        private readonly onFrame: (text: string) => void,
        private readonly log: Logger,
        private readonly options: LinkOptions = {},
    ) {}

    private get timing(): LinkTiming {
        return this.options.timing ?? DEFAULT_TIMING;
    }

    get state(): LinkState {
        return this.stateNow;
    }

    /** When the control plane was last heard from (opened, a message, a ping or a pong; ms since the epoch); undefined before the first connection. */
    get lastHeardAt(): number | undefined {
        return this.lastHeard || undefined;
    }

    start(): void {
        this.stopped = false;
        this.dial();
    }

    /** Sends a text frame; false when there is no open connection (the frame is dropped). */
    send(text: string): boolean {
        const socket = this.socket;
        if (!socket || socket.readyState !== WebSocket.OPEN) return false;
        socket.send(text, (err) => {
            if (err) this.log.debug(`send failed: ${describeError(err)}`);
            this.wakeDrainWaiters();
        });
        return true;
    }

    /** Bytes queued on the socket, not yet handed to the network. */
    get buffered(): number {
        return this.socket?.bufferedAmount ?? 0;
    }

    /** Whether senders should hold back: the socket's queue is over the high-water mark. */
    get congested(): boolean {
        return this.buffered >= HIGH_WATER_BYTES;
    }

    /** Resolves once the queued bytes fall below the high-water mark (or the link drops). */
    whenDrained(): Promise<void> {
        if (this.buffered < HIGH_WATER_BYTES) return Promise.resolve();
        return new Promise((resolve) => this.drainWaiters.push(resolve));
    }

    private wakeDrainWaiters(): void {
        if (this.drainWaiters.length === 0 || this.buffered >= HIGH_WATER_BYTES) return;
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) w();
    }

    /** Closes the link and dials no more. */
    async stop(): Promise<void> {
        this.stopped = true;
        clearTimeout(this.retryTimer);
        clearInterval(this.pingTimer);
        const socket = this.socket;
        if (!socket || socket.readyState === WebSocket.CLOSED) return;
        await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
                socket.terminate();
                resolve();
            }, 2000);
            socket.once("close", () => {
                clearTimeout(timer);
                resolve();
            });
            if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
            else socket.close(1001, "runner stopping");
        });
    }

    private dial(): void {
        if (this.stopped) return;
        const socket = new WebSocket(this.url, {
            handshakeTimeout: this.timing.handshakeMs,
            maxPayload: MAX_FRAME_BYTES,
            perMessageDeflate: false,
        });
        this.socket = socket;
        let opened = false;
        let failure: string | undefined;

        socket.on("unexpected-response", (_req, res) => {
            // 401: wrong token; 400: missing runnerid or token; 404: not a control plane that speaks this protocol.
            const hint =
                res.statusCode === 401
                    ? "the control plane refused the runner token (401): it must equal the control plane's RUNNER_TOKEN"
                    : res.statusCode === 404
                      ? "the control plane has no runner endpoint here (404): check API_HOST and the control plane's version"
                      : `the control plane answered HTTP ${res.statusCode} instead of a WebSocket`;
            failure = hint;
            res.resume();
            socket.terminate();
        });
        socket.on("open", () => {
            opened = true;
            this.failures = 0;
            this.lastHeard = Date.now();
            this.stateNow = {
                connected: true,
                since: new Date().toISOString(),
                lastError: null,
                connects: this.stateNow.connects + 1,
                failedDials: 0,
            };
            this.log.info(`connected to the control plane at ${this.displayUrl}`);
            this.pingTimer = setInterval(() => this.keepAlive(socket), this.timing.pingMs);
            this.options.onConnect?.();
        });
        socket.on("pong", () => (this.lastHeard = Date.now()));
        socket.on("ping", () => (this.lastHeard = Date.now()));
        socket.on("message", (data, isBinary) => {
            this.lastHeard = Date.now();
            if (isBinary) {
                this.log.debug("ignored a binary frame: the control plane sends JSON text");
                return;
            }
            this.onFrame(data.toString());
        });
        socket.on("error", (err) => {
            failure ??= describeError(err);
        });
        socket.on("close", (code, reason) => {
            clearInterval(this.pingTimer);
            this.wakeAllDrainWaiters();
            if (this.socket === socket) this.socket = undefined;
            if (opened) this.options.onDisconnect?.();
            const why =
                failure ?? (opened ? `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ""})` : "connection failed");
            this.stateNow = {
                connected: false,
                since: new Date().toISOString(),
                lastError: this.stopped ? this.stateNow.lastError : why,
                connects: this.stateNow.connects,
                failedDials: opened || this.stopped ? this.stateNow.failedDials : this.stateNow.failedDials + 1,
            };
            if (this.stopped) return;
            // The first failure after a connection is worth a warning; a dead control plane is not worth one per second.
            if (opened || this.failures === 0) this.log.warn(`control plane link down: ${why}; dialing again`);
            else this.log.debug(`dial failed: ${why}`);
            this.scheduleRetry();
        });
    }

    private wakeAllDrainWaiters(): void {
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) w();
    }

    private keepAlive(socket: WebSocket): void {
        if (Date.now() - this.lastHeard > this.timing.deadAfterMs) {
            this.log.warn(`no answer from the control plane for ${this.timing.deadAfterMs} ms; dialing again`);
            socket.terminate();
            return;
        }
        socket.ping();
    }

    private scheduleRetry(): void {
        const delay = backoffMs(this.failures, this.timing);
        this.failures = Math.min(this.failures + 1, 30);
        this.retryTimer = setTimeout(() => this.dial(), delay);
    }
}
