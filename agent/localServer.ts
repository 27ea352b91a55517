// Reaching a local desktop server (x11vnc, xrdp) that may be starting or
// restarting. A control plane asks for a desktop connection as soon as a runner
// appears (rc8 does), often before x11vnc listens; a connection asked for then
// waits for the server, bounded, instead of failing on the first ECONNREFUSED.
import * as net from "node:net";
import { describeError } from "../contract";

/** How long a desktop connection waits for a starting or restarting desktop server. */
export const DESKTOP_WAIT_MS = 10_000;
/** How often a refused connection is tried again while it waits. */
export const DESKTOP_RETRY_MS = 100;

export interface WaitTiming {
    /** The bound: after this long the connection fails with the last error. */
    readonly waitMs: number;
    /** The pause between two tries. */
    readonly retryMs: number;
}
export const DEFAULT_WAIT: WaitTiming = { waitMs: DESKTOP_WAIT_MS, retryMs: DESKTOP_RETRY_MS };

/** A local server's readiness, as its supervisor sees it (desktop.ts's Supervised). */
export interface Readiness {
    /** It accepts connections now. */
    readonly ready: boolean;
    /** Resolves true once it is ready, or false after `timeoutMs`. */
    whenReady(timeoutMs: number): Promise<boolean>;
}

/** For servers nobody supervises here (tests' stubs): the connection attempts alone tell. */
export const NOT_SUPERVISED: Readiness = { ready: true, whenReady: async () => true };

/** Thrown when the bound passes: the last connection error, and how long it waited. */
export class NotReadyError extends Error {
    constructor(
        readonly waitedMs: number,
        readonly lastError: unknown,
    ) {
        super(`did not answer within ${waitedMs / 1000} s: ${describeError(lastError)}`);
    }
}

/**
 * One try. With `speaksFirst` (VNC: the server sends its RFB banner at once), a connection counts
 * only once the server has sent something: a dying server's socket can still accept, then close.
 * What it sent is put back, and the socket is left paused for its reader to resume.
 */
function attempt(connect: () => net.Socket, speaksFirst: boolean, timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
        const socket = connect();
        const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        const fail = (err: Error) => {
            clearTimeout(timer);
            socket.removeAllListeners("data");
            socket.destroy();
            reject(err);
        };
        const closedEarly = () => fail(new Error("the connection closed before the server spoke"));
        socket.once("error", fail);
        socket.once("connect", () => {
            if (!speaksFirst) {
                clearTimeout(timer);
                socket.off("error", fail);
                resolve(socket);
                return;
            }
            socket.once("close", closedEarly);
            socket.once("data", (first: Buffer) => {
                clearTimeout(timer);
                socket.pause();
                socket.off("error", fail);
                socket.off("close", closedEarly);
                socket.unshift(first);
                resolve(socket);
            });
        });
    });
}

/**
 * Connects with `connect`, first waiting for `readiness`, then trying again after a refused
 * connection (or, with `speaksFirst`, one closed before the server sent anything: the socket comes
 * back paused, what it sent unread) until `timing.waitMs` has passed since the call; rejects with a NotReadyError then,
 * or at once when `cancelled()` says the connection is no longer wanted. `onWait` is told once,
 * when the connection first has to wait.
 */
export async function connectWhenReady(
    connect: () => net.Socket,
    readiness: Readiness,
    timing: WaitTiming,
    onWait: (why: string) => void = () => undefined,
    cancelled: () => boolean = () => false,
    speaksFirst = false,
): Promise<net.Socket> {
    const deadline = Date.now() + timing.waitMs;
    let waiting = false;
    const wait = (why: string) => {
        if (waiting) return;
        waiting = true;
        onWait(why);
    };
    if (!readiness.ready) {
        wait("it is starting");
        // Its supervisor knows when it listens; the tries below still cover a server that just died.
        await readiness.whenReady(timing.waitMs);
    }
    for (;;) {
        try {
            return await attempt(connect, speaksFirst, Math.max(timing.retryMs, deadline - Date.now()));
        } catch (err) {
            if (cancelled()) throw err;
            if (Date.now() + timing.retryMs > deadline) throw new NotReadyError(timing.waitMs, err);
            wait(describeError(err));
            await new Promise((r) => setTimeout(r, timing.retryMs));
        }
    }
}

/** Whether a TCP server on this machine accepts a connection now: what "ready" means for x11vnc and xrdp. */
export function accepts(target: net.NetConnectOpts, timeoutMs = 2000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(target);
        const done = (ok: boolean) => {
            clearTimeout(timer);
            socket.destroy();
            resolve(ok);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}
