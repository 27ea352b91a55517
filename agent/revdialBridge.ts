// One desktop connection picked up over the reverse dial: the control plane's
// WebSocket (binary messages) on one side, the local VNC server's TCP socket on
// the other, joined with ws's stream wrapper and stream.pipeline so each side
// waits for the other (a slow control plane pauses reading from VNC, a slow VNC
// server pauses the WebSocket) instead of queueing without bound.
import type * as net from "node:net";
import { pipeline } from "node:stream";
import WebSocket, { createWebSocketStream } from "ws";
import { describeError } from "../contract";
import { Logger } from "./log";

/** Bytes queued towards the control plane before reading from VNC pauses. */
const HIGH_WATER_BYTES = 1024 * 1024;

/** How long the WebSocket's opening handshake may take. */
const HANDSHAKE_MS = 20_000;

export interface BridgeEvents {
    /** The WebSocket is open and the bytes flow. */
    readonly opened: (ws: WebSocket) => void;
    /** The pick-up failed before the WebSocket opened (the VNC socket is destroyed). */
    readonly failed: (why: string) => void;
    /** Either side closed after it opened; called once, when both are being torn down. */
    readonly closed: (ws: WebSocket) => void;
    /** Bytes carried: to_desktop from the WebSocket to VNC, from_desktop back. */
    readonly carried?: (direction: "to_desktop" | "from_desktop", bytes: number) => void;
}

/**
 * Dials `url` with the runner token and, once open, carries bytes between it and `vnc` both
 * ways. `vnc` may be paused with data unread (the RFB banner): the pipeline resumes it.
 */
export function bridgeToVnc(url: string, token: string, vnc: net.Socket, log: Logger, events: BridgeEvents): WebSocket {
    vnc.setNoDelay(true);
    const ws = new WebSocket(url, {
        headers: { Authorization: `Bearer ${token}` },
        handshakeTimeout: HANDSHAKE_MS,
        perMessageDeflate: false,
    });
    ws.binaryType = "nodebuffer";
    vnc.on("error", (err) => {
        log.debug(`reverse dial: the VNC connection failed: ${describeError(err)}`);
        // 1011: the runner side failed; the control plane's client sees why.
        ws.close(1011, "VNC connection failed");
    });
    ws.on("unexpected-response", (_req, res) => {
        res.resume();
        events.failed(`non-101 response ${res.statusCode}`);
        ws.terminate();
        vnc.destroy();
    });
    ws.once("error", (err) => {
        if (ws.readyState !== WebSocket.OPEN) events.failed(describeError(err));
        vnc.destroy();
    });
    ws.once("open", () => {
        events.opened(ws);
        // One pipeline, VNC -> WebSocket -> VNC: either side's end ends the other, and an error tears both down.
        pipeline(vnc, createWebSocketStream(ws, { writableHighWaterMark: HIGH_WATER_BYTES }), vnc, (err) => {
            if (err && (err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE")
                log.debug(`reverse dial: a desktop connection ended: ${describeError(err)}`);
        });
        // Counted beside the pipeline, which set both sides flowing: an extra listener sees every chunk and holds none back.
        const carried = events.carried;
        if (carried) {
            vnc.on("data", (data: Buffer) => carried("from_desktop", data.length));
            ws.on("message", (data: Buffer) => carried("to_desktop", data.length));
        }
        let closed = false;
        const close = () => {
            if (closed) return;
            closed = true;
            vnc.destroy();
            ws.close();
            events.closed(ws);
        };
        vnc.on("close", close);
        ws.on("close", close);
    });
    return ws;
}
