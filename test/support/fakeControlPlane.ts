// TEST DOUBLE: a fake Helix control plane, doing what ../shared/HELIX-PROTOCOL.md
// says the real one does, quirks included:
//   - GET <prefix>/api/v1/ws/external-agent-runner: 400 without runnerid or
//     access_token, 401 unless the token matches byte for byte;
//   - one shared queue: a request goes to whichever connected runner pulls it
//     (round robin here, or the runner a test names), stops and password
//     configurations for other runners included;
//   - every request is a RunnerEventRequestEnvelope of type 0 (the server sets 0
//     for every `kind`), with the body base64 in `payload` and a reply subject;
//     replies are RunnerEventResponseEnvelopes whose payload is published to
//     their `reply`; binary frames from runners are ignored;
//   - launches are flat ZedAgents with a fresh 16-character rdp_password and no
//     work_dir; rc8's password-config-<runnerID> task; the seed-era RDP proxy's
//     whole inner envelope (type 1) inside a type-0 frame, waiting 5 s for the
//     outer answer, its data replies on rdp.responses.session.<id>;
//   - rc8 drops a runner after 60 s without a ping or message.
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";

export interface Handshake {
    readonly runnerId: string | null;
    readonly accessToken: string | null;
    readonly concurrency: string | null;
    /** The raw query string as the runner sent it. */
    readonly rawQuery: string;
    readonly path: string;
    readonly at: number;
    closedAt?: number;
    pings: number;
}

/** The controller's reply timeouts (agent_session_manager.go, rdp_proxy_handlers.go, guacamole_lifecycle.go). */
export const REPLY_TIMEOUT_MS = { launch: 30_000, stop: 10_000, passwordConfig: 30_000, rdpChunk: 5000 } as const;

export interface ZedAgentBody {
    session_id: string;
    user_id?: string;
    input?: string;
    env?: string[];
    work_dir?: string;
    project_path?: string;
    rdp_port?: number;
    rdp_user?: string;
    rdp_password?: string;
}

export interface Delivery<T> {
    /** The runner the queue handed the request to. */
    readonly runnerId: string;
    readonly reply: T;
    /** Milliseconds from sending to the reply. */
    readonly ms: number;
}

interface Connection {
    readonly runnerId: string;
    readonly socket: WebSocket;
    readonly handshake: Handshake;
    lastHeard: number;
}

export interface FakeControlPlaneOptions {
    readonly token: string;
    /** A path prefix the control plane is served under (an API host like https://host/helix). */
    readonly prefix?: string;
    /** rc8 drops a runner this long after its last ping or message. */
    readonly idleDropMs?: number;
}

export class FakeControlPlane {
    readonly handshakes: Handshake[] = [];
    /** Every HTTP status the runner endpoint answered a refused dial with. */
    readonly refusals: number[] = [];
    private readonly server = http.createServer((_, res) => res.writeHead(404).end("404 page not found\n"));
    private readonly wss = new WebSocketServer({ noServer: true });
    private readonly connections: Connection[] = [];
    private readonly pending = new Map<string, (payload: Buffer) => void>();
    private readonly subscriptions = new Map<string, (payload: Buffer) => void>();
    private readonly sockets = new Set<Duplex>();
    private next = 0;
    private port = 0;
    private host = "127.0.0.1";
    private idleTimer: NodeJS.Timeout | undefined;

    constructor(private readonly options: FakeControlPlaneOptions) {
        this.server.on("connection", (s) => {
            this.sockets.add(s);
            s.on("close", () => this.sockets.delete(s));
        });
        this.server.on("upgrade", (req, socket, head) => this.upgrade(req, socket, head));
    }

    private get prefix(): string {
        return this.options.prefix ?? "";
    }

    private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
        const url = new URL(req.url ?? "/", "http://control-plane");
        if (url.pathname !== `${this.prefix}/api/v1/ws/external-agent-runner`) {
            socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        const runnerId = url.searchParams.get("runnerid");
        const accessToken = url.searchParams.get("access_token");
        const refuse = (status: number, text: string) => {
            this.refusals.push(status);
            socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
        };
        if (!runnerId) return refuse(400, "runnerid is required");
        if (!accessToken) return refuse(400, "access_token is required");
        if (accessToken !== this.options.token) return refuse(401, "Invalid access token");
        this.wss.handleUpgrade(req, socket, head, (ws) => {
            const handshake: Handshake = {
                runnerId,
                accessToken,
                concurrency: url.searchParams.get("concurrency"),
                rawQuery: url.search,
                path: url.pathname,
                at: Date.now(),
                pings: 0,
            };
            this.handshakes.push(handshake);
            // ef: a second connection with the same ID replaces the first in the runner manager.
            const connection: Connection = { runnerId, socket: ws, handshake, lastHeard: Date.now() };
            this.connections.push(connection);
            ws.on("ping", () => {
                handshake.pings += 1;
                connection.lastHeard = Date.now();
            });
            ws.on("message", (data, isBinary) => {
                connection.lastHeard = Date.now();
                // The server only reads text frames as JSON; anything else is skipped.
                if (!isBinary) this.onResponse(data.toString());
            });
            ws.on("close", () => {
                handshake.closedAt = Date.now();
                const i = this.connections.indexOf(connection);
                if (i >= 0) this.connections.splice(i, 1);
            });
        });
    }

    private onResponse(text: string): void {
        let envelope: { request_id?: string; reply?: string; payload?: string };
        try {
            envelope = JSON.parse(text);
        } catch {
            return;
        }
        if (typeof envelope.reply !== "string") return;
        const payload = Buffer.from(envelope.payload ?? "", "base64");
        const waiting = this.pending.get(envelope.reply);
        if (waiting) {
            this.pending.delete(envelope.reply);
            waiting(payload);
            return;
        }
        this.subscriptions.get(envelope.reply)?.(payload);
    }

    /** Listens on `host` (an address the runners can reach); returns the port. Call again after `goAway` to come back on the same port. */
    async listen(host = this.host, port = this.port): Promise<number> {
        this.host = host;
        await new Promise<void>((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(port, host, () => resolve());
        });
        this.port = (this.server.address() as AddressInfo).port;
        if (this.options.idleDropMs !== undefined) {
            this.idleTimer = setInterval(() => {
                for (const c of [...this.connections]) if (Date.now() - c.lastHeard > this.options.idleDropMs!) c.socket.terminate();
            }, 500);
        }
        return this.port;
    }

    /** The API host URL runners are given, prefix included. */
    apiHost(hostForRunners = this.host): string {
        return `http://${hostForRunners.includes(":") ? `[${hostForRunners}]` : hostForRunners}:${this.port}${this.prefix}`;
    }

    /** Runner IDs with an open connection now. */
    connectedRunnerIds(): string[] {
        return [...new Set(this.connections.map((c) => c.runnerId))].sort();
    }

    /** Sends a text frame as-is to a runner (for malformed frames). */
    sendRaw(text: string, to?: string): string {
        const connection = this.pick(to);
        connection.socket.send(text);
        return connection.runnerId;
    }

    /** Publishes `body` on the shared queue as the server does (type 0, base64 payload) and awaits the reply. */
    async request(body: Buffer | object, timeoutMs: number, to?: string): Promise<Delivery<Buffer>> {
        const connection = this.pick(to);
        const reply = `_INBOX.${crypto.randomBytes(8).toString("hex")}`;
        const requestId = `req-${crypto.randomBytes(6).toString("hex")}`;
        const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
        const started = Date.now();
        const answer = new Promise<Buffer>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(reply);
                reject(new Error(`no reply from ${connection.runnerId} to ${requestId} within ${timeoutMs} ms`));
            }, timeoutMs);
            this.pending.set(reply, (p) => {
                clearTimeout(timer);
                resolve(p);
            });
        });
        connection.socket.send(JSON.stringify({ request_id: requestId, payload: payload.toString("base64"), type: 0, reply }));
        const result = await answer;
        return { runnerId: connection.runnerId, reply: result, ms: Date.now() - started };
    }

    /** Controller.launchZedAgent: a flat ZedAgent with a fresh password, no work_dir. */
    async launch(agent: Partial<ZedAgentBody> & { session_id: string }, to?: string): Promise<Delivery<any> & { password: string }> {
        const password = agent.rdp_password ?? freshPassword();
        const body: ZedAgentBody = { user_id: "user-1", input: "", env: [], work_dir: "", project_path: "", rdp_port: 3389, rdp_user: "zed", ...agent, rdp_password: password };
        const delivery = await this.request(body, REPLY_TIMEOUT_MS.launch, to);
        return { ...delivery, reply: JSON.parse(delivery.reply.toString()), password };
    }

    /** Controller.StopExternalAgent. */
    async stop(sessionId: string, to?: string): Promise<Delivery<any>> {
        const delivery = await this.request({ action: "stop", session_id: sessionId }, REPLY_TIMEOUT_MS.stop, to);
        return { ...delivery, reply: JSON.parse(delivery.reply.toString()) };
    }

    /** rc8's sendPasswordConfigurationToRunner, as the queue delivers it: possibly to another runner. */
    async configurePassword(forRunner: string, password: string, to?: string): Promise<Delivery<any>> {
        const body: ZedAgentBody = {
            session_id: `password-config-${forRunner}`,
            user_id: "system",
            input: "Configure initial RDP password for runner",
            rdp_password: password,
            rdp_user: "zed",
            rdp_port: 5900,
        };
        const delivery = await this.request(body, REPLY_TIMEOUT_MS.passwordConfig, to);
        return { ...delivery, reply: JSON.parse(delivery.reply.toString()) };
    }

    /**
     * The seed-era RDP proxy: one chunk of a TCP client's bytes, as a whole inner envelope
     * inside a type-0 frame. Resolves with the outer answer's delay (the proxy waits up to 5 s).
     */
    async sendRdpChunk(sessionId: string, data: Buffer, to?: string, kind: "session" | "runner" = "session"): Promise<Delivery<Buffer>> {
        const inner = {
            request_id: `rdp-${kind}-${sessionId}-${process.hrtime.bigint()}`,
            type: 1,
            payload: Buffer.from(JSON.stringify({ session_id: sessionId, type: "rdp_data", data: data.toString("base64"), timestamp: Math.floor(Date.now() / 1000) })).toString("base64"),
            reply: rdpReplySubject(sessionId, kind),
        };
        return this.request(Buffer.from(JSON.stringify(inner)), REPLY_TIMEOUT_MS.rdpChunk, to);
    }

    /** What runners send to an RDP reply subject, decoded as the proxy does (`ZedAgentRDPData.data`). */
    onRdpResponse(sessionId: string, handler: (data: Buffer) => void, kind: "session" | "runner" = "session"): () => void {
        const subject = rdpReplySubject(sessionId, kind);
        this.subscriptions.set(subject, (payload) => {
            const body = JSON.parse(payload.toString());
            handler(Buffer.from(body.data ?? "", "base64"));
        });
        return () => this.subscriptions.delete(subject);
    }

    /** Resolves when `predicate` holds, polling every 50 ms, or rejects after `timeoutMs`. */
    async waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (!predicate()) {
            if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    /** The control plane goes away: every connection cut, nothing listening. `listen()` brings it back. */
    async goAway(): Promise<void> {
        clearInterval(this.idleTimer);
        for (const client of this.wss.clients) client.terminate();
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    async close(): Promise<void> {
        if (this.server.listening) await this.goAway();
    }

    private pick(to: string | undefined): Connection {
        const candidates = to ? this.connections.filter((c) => c.runnerId === to) : this.connections;
        if (candidates.length === 0) throw new Error(to ? `runner ${to} is not connected` : "no runner is connected");
        // ef's runner manager keeps the newest connection for an ID.
        if (to) return candidates[candidates.length - 1];
        return candidates[this.next++ % candidates.length];
    }
}

function rdpReplySubject(sessionId: string, kind: "session" | "runner"): string {
    return `rdp.responses.${kind}.${sessionId}`;
}

/** generateSecurePassword: 16 characters. */
export function freshPassword(): string {
    return crypto.randomBytes(12).toString("base64").replace(/[+/]/g, "x").slice(0, 16);
}
