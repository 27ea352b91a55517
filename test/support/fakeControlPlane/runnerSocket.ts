// TEST DOUBLE (part of the fake control plane): the runner WebSocket endpoint, as docs/protocol.md
// describes Helix's, quirks included:
//   - GET <prefix>/api/v1/ws/external-agent-runner: 400 without runnerid or access_token, 401
//     unless the token matches byte for byte;
//   - one shared queue: a request goes to whichever connected runner pulls it (round robin here,
//     or the runner a test names), stops and password configurations for other runners included;
//   - every request is a RunnerEventRequestEnvelope of type 0 (the server sets 0 for every
//     `kind`), with the body base64 in `payload` and a reply subject; replies are
//     RunnerEventResponseEnvelopes whose payload is published to their `reply`; binary frames
//     from runners are ignored;
//   - launches are flat ZedAgents with a fresh 16-character rdp_password and no work_dir; rc8's
//     password-config-<runnerID> task; the seed-era RDP proxy's whole inner envelope (type 1)
//     inside a type-0 frame, waiting 5 s for the outer answer, its data replies on
//     rdp.responses.session.<id>;
//   - rc8 drops a runner after 60 s without a ping or message.
import * as crypto from "node:crypto";
import type * as http from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { rawResponse } from "./http";

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
const REPLY_TIMEOUT_MS = { launch: 30_000, stop: 10_000, passwordConfig: 30_000, rdpChunk: 5000 } as const;

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

/** The seed-era RDP proxy's two reply-subject forms: per session, or per runner. */
export type RdpSubjectKind = "session" | "runner";

interface Connection {
    readonly runnerId: string;
    readonly socket: WebSocket;
    readonly handshake: Handshake;
    lastHeard: number;
}

/** The runner WebSocket endpoint; the fake control plane routes upgrades at its path here. */
export class FakeRunnerSocketEndpoint {
    readonly handshakes: Handshake[] = [];
    /** Every HTTP status the endpoint answered a refused dial with. */
    readonly refusals: number[] = [];
    /** The reply subject of every response a runner sent, in the order they arrived. */
    readonly responseSubjects: string[] = [];
    private readonly wss = new WebSocketServer({ noServer: true });
    private readonly connections: Connection[] = [];
    /** One waiter per reply subject: a request's, or a test's through `nextReply`. */
    private readonly pending = new Map<string, (payload: Buffer) => void>();
    private readonly subscriptions = new Map<string, (payload: Buffer) => void>();
    private next = 0;
    private idleTimer: NodeJS.Timeout | undefined;

    /** `token` is read at each dial: a restarted control plane has a new one. */
    constructor(private readonly token: () => string) {}

    /** Answers an upgrade at the runner path: refuses it as Helix does, or adopts the runner. */
    upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
        const runnerId = url.searchParams.get("runnerid");
        const accessToken = url.searchParams.get("access_token");
        const refuse = (status: number, text: string) => {
            this.refusals.push(status);
            socket.end(rawResponse(status, `${text}\n`, { "Content-Type": "text/plain" }));
        };
        if (!runnerId) return refuse(400, "runnerid is required");
        if (!accessToken) return refuse(400, "access_token is required");
        if (accessToken !== this.token()) return refuse(401, "Invalid access token");
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
        this.responseSubjects.push(envelope.reply);
        const payload = Buffer.from(envelope.payload ?? "", "base64");
        const waiting = this.pending.get(envelope.reply);
        if (waiting) {
            this.pending.delete(envelope.reply);
            waiting(payload);
            return;
        }
        this.subscriptions.get(envelope.reply)?.(payload);
    }

    /** rc8's idle drop: a runner silent for `idleDropMs` (no ping, no message) is cut. */
    startIdleDrop(idleDropMs: number): void {
        this.idleTimer = setInterval(() => {
            for (const c of [...this.connections]) if (Date.now() - c.lastHeard > idleDropMs) c.socket.terminate();
        }, 500);
    }

    /** Every runner cut at once, as when the control plane goes away. */
    cutAll(): void {
        clearInterval(this.idleTimer);
        for (const client of this.wss.clients) client.terminate();
    }

    /** Runner IDs with an open connection now. */
    connectedRunnerIds(): string[] {
        return [...new Set(this.connections.map((c) => c.runnerId))].sort();
    }

    /** Sends a text frame as-is to a runner (for malformed frames); returns the runner it went to. */
    sendRaw(text: string, to?: string): string {
        const connection = this.pick(to);
        connection.socket.send(text);
        return connection.runnerId;
    }

    /**
     * Resolves with the payload (base64-decoded) of the next response a runner publishes to
     * `subject`, or rejects after `timeoutMs`: for a frame sent with `sendRaw`, whose reply subject
     * the test chose. Call it before sending, so the answer cannot come first.
     */
    nextReply(subject: string, timeoutMs: number): Promise<Buffer> {
        return this.awaitReply(subject, timeoutMs, `no reply on ${subject} within ${timeoutMs} ms`);
    }

    private awaitReply(subject: string, timeoutMs: number, onTimeout: string): Promise<Buffer> {
        return new Promise<Buffer>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(subject);
                reject(new Error(onTimeout));
            }, timeoutMs);
            this.pending.set(subject, (payload) => {
                clearTimeout(timer);
                resolve(payload);
            });
        });
    }

    /** Publishes `body` on the shared queue as the server does (type 0, base64 payload) and awaits the reply. */
    async request(body: Buffer | object, timeoutMs: number, to?: string): Promise<Delivery<Buffer>> {
        const connection = this.pick(to);
        const reply = `_INBOX.${crypto.randomBytes(8).toString("hex")}`;
        const requestId = `req-${crypto.randomBytes(6).toString("hex")}`;
        const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
        const started = Date.now();
        const answer = this.awaitReply(reply, timeoutMs, `no reply from ${connection.runnerId} to ${requestId} within ${timeoutMs} ms`);
        connection.socket.send(JSON.stringify({ request_id: requestId, payload: payload.toString("base64"), type: 0, reply }));
        const result = await answer;
        return { runnerId: connection.runnerId, reply: result, ms: Date.now() - started };
    }

    /** Controller.launchZedAgent: a flat ZedAgent with a fresh password, no work_dir. */
    async launch(agent: Partial<ZedAgentBody> & { session_id: string }, to?: string): Promise<Delivery<any> & { password: string }> {
        const password = agent.rdp_password ?? freshPassword();
        const body: ZedAgentBody = {
            user_id: "user-1",
            input: "",
            env: [],
            work_dir: "",
            project_path: "",
            rdp_port: 3389,
            rdp_user: "zed",
            ...agent,
            rdp_password: password,
        };
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
    async sendRdpChunk(sessionId: string, data: Buffer, to?: string, kind: RdpSubjectKind = "session"): Promise<Delivery<Buffer>> {
        const inner = {
            request_id: `rdp-${kind}-${sessionId}-${process.hrtime.bigint()}`,
            type: 1,
            payload: Buffer.from(
                JSON.stringify({
                    session_id: sessionId,
                    type: "rdp_data",
                    data: data.toString("base64"),
                    timestamp: Math.floor(Date.now() / 1000),
                }),
            ).toString("base64"),
            reply: rdpReplySubject(sessionId, kind),
        };
        return this.request(Buffer.from(JSON.stringify(inner)), REPLY_TIMEOUT_MS.rdpChunk, to);
    }

    /** What runners send to an RDP reply subject, decoded as the proxy does (`ZedAgentRDPData.data`). Returns the unsubscribe. */
    onRdpResponse(sessionId: string, handler: (data: Buffer) => void, kind: RdpSubjectKind = "session"): () => void {
        const subject = rdpReplySubject(sessionId, kind);
        this.subscriptions.set(subject, (payload) => {
            const body = JSON.parse(payload.toString());
            handler(Buffer.from(body.data ?? "", "base64"));
        });
        return () => this.subscriptions.delete(subject);
    }

    private pick(to: string | undefined): Connection {
        const candidates = to ? this.connections.filter((c) => c.runnerId === to) : this.connections;
        if (candidates.length === 0) throw new Error(to ? `runner ${to} is not connected` : "no runner is connected");
        // ef's runner manager keeps the newest connection for an ID.
        if (to) return candidates[candidates.length - 1];
        return candidates[this.next++ % candidates.length];
    }
}

function rdpReplySubject(sessionId: string, kind: RdpSubjectKind): string {
    return `rdp.responses.${kind}.${sessionId}`;
}

/** generateSecurePassword: 16 characters. */
export function freshPassword(): string {
    return crypto.randomBytes(12).toString("base64").replace(/[+/]/g, "x").slice(0, 16);
}
