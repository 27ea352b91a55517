// RDP over the runner's WebSocket (the seed revision, helixRevisions.ts INNER_RDP_ENVELOPE):
// one connection to the local xrdp per RDP session ID, chunks from the control
// plane written to it in order, and what xrdp answers sent back as
// `rdp_response` data to the proxy's reply subject. Both directions are bounded:
// a slow control plane pauses reading from xrdp, a slow xrdp closes the tunnel.
// A tunnel opened while xrdp is starting or restarting waits for it (bounded),
// keeping the chunks that arrive meanwhile.
import * as net from "node:net";
import { CONTAINER_PORTS, describeError } from "../contract";
import { DEFAULT_WAIT, NOT_SUPERVISED, NotReadyError, Readiness, WaitTiming, connectWhenReady } from "./localServer";
import { Logger } from "./log";
import { RunnerMetrics } from "./metrics";
import { RdpChunk, rdpResponseFrame } from "./protocol";

/** Bytes queued towards xrdp before a tunnel is given up as stuck. */
const MAX_PENDING_TO_XRDP = 8 * 1024 * 1024;
/** A tunnel with no chunk from the control plane for this long is closed (the protocol has no close message). */
export const TUNNEL_IDLE_MS = 10 * 60 * 1000;

/** The control-plane side, as a tunnel uses it. */
export interface TunnelUplink {
    send(frame: string): boolean;
    /** Whether the link's send queue is over its high-water mark. */
    readonly congested: boolean;
    /** Resolves when it no longer is. */
    whenDrained(): Promise<void>;
}

interface Tunnel {
    /** The connection to xrdp, once it accepted one. */
    socket: net.Socket | undefined;
    /** Chunks that arrived before xrdp accepted the connection, in order. */
    readonly queued: Buffer[];
    queuedBytes: number;
    readonly sessionId: string;
    dataReply: string;
    idle: NodeJS.Timeout;
    bytesIn: number;
    bytesOut: number;
}

export class RdpTunnels {
    private readonly tunnels = new Map<string, Tunnel>();
    /** Tunnels opened since start; for /health. */
    opened = 0;

    constructor(
        private readonly uplink: TunnelUplink,
        /** Whether RDP data for `sessionId` is ours: a session we run, or our runner ID (the proxy's per-runner form). */
        private readonly isOurs: (sessionId: string) => boolean,
        private readonly log: Logger,
        private readonly connect: () => net.Socket = () => net.connect({ host: "127.0.0.1", port: CONTAINER_PORTS.rdp }),
        private readonly idleMs = TUNNEL_IDLE_MS,
        /** xrdp's supervisor, and how long a new tunnel waits for a starting or restarting xrdp. */
        private readonly xrdp: { readonly readiness: Readiness; readonly wait: WaitTiming } = {
            readiness: NOT_SUPERVISED,
            wait: DEFAULT_WAIT,
        },
        private readonly metrics: RunnerMetrics = new RunnerMetrics(),
    ) {}

    get open(): number {
        return this.tunnels.size;
    }

    handle(chunk: RdpChunk): void {
        if (!this.isOurs(chunk.sessionId)) {
            // The shared queue handed us another runner's chunk; acting on it would feed our desktop a stranger's stream.
            this.log.debug(`RDP data for ${chunk.sessionId} is not for this runner; dropped`);
            return;
        }
        const tunnel = this.tunnels.get(chunk.sessionId) ?? this.openTunnel(chunk);
        tunnel.dataReply = chunk.dataReply;
        clearTimeout(tunnel.idle);
        tunnel.idle = setTimeout(() => this.close(tunnel, "idle"), this.idleMs);
        if (chunk.data.length === 0) return;
        tunnel.bytesIn += chunk.data.length;
        this.metrics.tunnelCarried("rdp", "to_desktop", chunk.data.length);
        if (!tunnel.socket) {
            tunnel.queued.push(chunk.data);
            tunnel.queuedBytes += chunk.data.length;
            if (tunnel.queuedBytes > MAX_PENDING_TO_XRDP) this.close(tunnel, "xrdp is not accepting connections");
            return;
        }
        tunnel.socket.write(chunk.data);
        if (tunnel.socket.writableLength > MAX_PENDING_TO_XRDP) this.close(tunnel, "xrdp is not reading");
    }

    /** Closes every tunnel (the control-plane link dropped, or the agent stops). */
    closeAll(why: string): void {
        for (const tunnel of [...this.tunnels.values()]) this.close(tunnel, why);
    }

    private openTunnel(chunk: RdpChunk): Tunnel {
        const tunnel: Tunnel = {
            socket: undefined,
            queued: [],
            queuedBytes: 0,
            sessionId: chunk.sessionId,
            dataReply: chunk.dataReply,
            idle: setTimeout(() => undefined, 0),
            bytesIn: 0,
            bytesOut: 0,
        };
        this.tunnels.set(chunk.sessionId, tunnel);
        this.opened += 1;
        const gone = () => this.tunnels.get(tunnel.sessionId) !== tunnel;
        connectWhenReady(
            this.connect,
            this.xrdp.readiness,
            this.xrdp.wait,
            (why) => this.log.info(`RDP tunnel for ${chunk.sessionId} waits for xrdp (${why})`),
            gone,
        ).then(
            (socket) => this.attach(tunnel, socket),
            (err) => {
                if (gone()) return;
                this.log.warn(
                    `RDP tunnel for ${tunnel.sessionId}: xrdp ${err instanceof NotReadyError ? "" : "did not answer: "}${describeError(err)}`,
                );
                this.close(tunnel, "xrdp did not answer");
            },
        );
        return tunnel;
    }

    private attach(tunnel: Tunnel, socket: net.Socket): void {
        if (this.tunnels.get(tunnel.sessionId) !== tunnel) {
            // Closed (idle, the link dropped, the agent stopping) while it waited for xrdp.
            socket.destroy();
            return;
        }
        tunnel.socket = socket;
        socket.setNoDelay(true);
        this.log.info(`RDP tunnel for ${tunnel.sessionId} opened to xrdp`);
        socket.on("data", (data: Buffer) => {
            tunnel.bytesOut += data.length;
            this.metrics.tunnelCarried("rdp", "from_desktop", data.length);
            this.uplink.send(rdpResponseFrame(tunnel, data));
            if (this.uplink.congested && !socket.isPaused()) {
                socket.pause();
                void this.uplink.whenDrained().then(() => socket.resume());
            }
        });
        socket.on("error", (err) => this.log.warn(`RDP tunnel for ${tunnel.sessionId}: ${describeError(err)}`));
        socket.on("close", () => this.forget(tunnel, "xrdp closed the connection"));
        for (const data of tunnel.queued.splice(0)) socket.write(data);
        tunnel.queuedBytes = 0;
    }

    private close(tunnel: Tunnel, why: string): void {
        tunnel.socket?.destroy();
        this.forget(tunnel, why);
    }

    private forget(tunnel: Tunnel, why: string): void {
        clearTimeout(tunnel.idle);
        if (this.tunnels.get(tunnel.sessionId) !== tunnel) return;
        this.tunnels.delete(tunnel.sessionId);
        this.log.info(`RDP tunnel for ${tunnel.sessionId} closed (${why}); ${tunnel.bytesIn} bytes in, ${tunnel.bytesOut} out`);
    }
}
