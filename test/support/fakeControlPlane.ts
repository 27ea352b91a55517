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
//   - rc8 drops a runner after 60 s without a ping or message;
//   - rc8's reverse dial: GET <prefix>/api/v1/revdial?runnerid= with the token as a
//     Bearer token (401 without), answered 200 and hijacked; keep-alive lines
//     every 18 s; `conn-ready` with connPath /revdial?revdial.dialer=<hex>; the
//     pick-up is a WebSocket at /api/v1 + connPath behind the same auth ("unknown
//     dialer", 500, for a path it did not hand out); `pickup-failed` fails the dial.
//     Without the /api/v1 prefix, /revdial is the web UI's page. Control planes
//     without the endpoint (seed-era) answer 404, or their web page.
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { eventually } from "./eventually";

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
    /** rc8 has the reverse dial; a seed-era control plane answers 404, one behind a web front end its page. */
    readonly revdial?: "present" | "absent-404" | "absent-webpage";
    /** The reverse dial's keep-alive interval (18 s in Helix). */
    readonly keepAliveMs?: number;
    /**
     * Called as soon as a runner's reverse-dial control connection is adopted, before anything
     * else: a real rc8 sends its password configuration and users open desktops the moment a
     * runner appears, so a test dials here to be as quick as it is.
     */
    readonly onRevdial?: (runnerId: string) => void;
}

/** Helix's web UI index page, what a path the API does not route answers with. */
const WEB_PAGE = '<!doctype html><html><head><title>Helix</title></head><body><div id="root"></div></body></html>';

interface RevdialControl {
    readonly runnerId: string;
    readonly socket: Duplex;
    readonly at: number;
    /** Lines the runner sent on the control connection. */
    readonly received: string[];
    keepAlive: NodeJS.Timeout;
}

export class FakeControlPlane {
    readonly handshakes: Handshake[] = [];
    /** Every HTTP status the runner endpoint answered a refused dial with. */
    readonly refusals: number[] = [];
    private readonly server = http.createServer((req, res) => this.onRequest(req, res));
    /** The listening socket: revdial control connections stay raw, everything else goes to `server`. */
    private readonly tcp: net.Server;
    /** Reverse-dial control connections, newest last. */
    readonly revdialControls: RevdialControl[] = [];
    /** Control requests at /api/v1/revdial, answered or not. */
    revdialRequests = 0;
    /** The runnerid of each control request at /api/v1/revdial, in order ("" when it had none). */
    readonly revdialRequestLog: string[] = [];
    /** The reply subject of every response a runner sent, in the order they arrived. */
    readonly responseSubjects: string[] = [];
    /** Every status the revdial endpoint answered a refused request with. */
    readonly revdialRefusals: number[] = [];
    private readonly pickups = new Map<string, { resolve: (ws: WebSocket) => void; reject: (err: Error) => void }>();
    private readonly wss = new WebSocketServer({ noServer: true });
    private readonly connections: Connection[] = [];
    private readonly pending = new Map<string, (payload: Buffer) => void>();
    private readonly subscriptions = new Map<string, (payload: Buffer) => void>();
    private readonly sockets = new Set<net.Socket>();
    private next = 0;
    private port = 0;
    private host = "127.0.0.1";
    private idleTimer: NodeJS.Timeout | undefined;
    /** RUNNER_TOKEN, read once at start as Helix reads its environment. */
    private token: string;

    constructor(private readonly options: FakeControlPlaneOptions) {
        this.token = options.token;
        this.tcp = net.createServer((socket) => {
            this.sockets.add(socket);
            socket.on("close", () => this.sockets.delete(socket));
            socket.on("error", () => undefined);
            let head = Buffer.alloc(0);
            const onData = (chunk: Buffer) => {
                head = Buffer.concat([head, chunk]);
                const end = head.indexOf("\r\n\r\n");
                if (end < 0 && head.length < 16 * 1024) return;
                socket.off("data", onData);
                socket.pause();
                const text = head.subarray(0, Math.max(0, end)).toString("latin1");
                const control =
                    new RegExp(`^GET ${this.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/api/v1/revdial[?\\s]`).test(text) &&
                    !/^upgrade:/im.test(text);
                if (control) {
                    this.revdialControl(text, socket, head.subarray(end + 4));
                    socket.resume();
                } else {
                    socket.unshift(head);
                    this.server.emit("connection", socket);
                    socket.resume();
                }
            };
            socket.on("data", onData);
        });
        this.server.on("upgrade", (req, socket, head) => this.upgrade(req, socket, head));
    }

    private get prefix(): string {
        return this.options.prefix ?? "";
    }

    private authorised(req: http.IncomingMessage): boolean {
        return req.headers.authorization === `Bearer ${this.token}`;
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", "http://control-plane");
        // The web UI answers every path the API does not route, /revdial without /api/v1 included.
        if (!url.pathname.startsWith(`${this.prefix}/api/`))
            return void res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(WEB_PAGE);
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
    }

    /**
     * The revdial control request, read off the raw socket: Node's HTTP server would go on
     * parsing the runner's JSON lines as requests, where Go's handler hijacks the connection.
     */
    private revdialControl(head: string, socket: net.Socket, rest: Buffer): void {
        this.revdialRequests += 1;
        const [requestLine, ...headerLines] = head.split("\r\n");
        const url = new URL(requestLine.split(" ")[1] ?? "/", "http://control-plane");
        this.revdialRequestLog.push(url.searchParams.get("runnerid") ?? "");
        const header = (name: string) =>
            headerLines
                .find((l) => l.toLowerCase().startsWith(`${name}:`))
                ?.slice(name.length + 1)
                .trim();
        const answer = (status: number, type: string, body: string): void =>
            void socket.end(
                `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
            );
        const mode = this.options.revdial ?? "present";
        if (mode === "absent-404") return answer(404, "text/plain; charset=utf-8", "404 page not found\n");
        if (mode === "absent-webpage") return answer(200, "text/html; charset=utf-8", WEB_PAGE);
        if (header("authorization") !== `Bearer ${this.token}`) {
            this.revdialRefusals.push(401);
            return answer(401, "text/plain; charset=utf-8", "runner token required\n");
        }
        const runnerId = url.searchParams.get("runnerid");
        if (!runnerId) {
            this.revdialRefusals.push(400);
            return answer(400, "text/plain; charset=utf-8", "runnerid is required\n");
        }
        // WriteHeader(200), then Hijack: the header goes out (chunked, no body), then the raw socket is the dialer.
        socket.write(`HTTP/1.1 200 OK\r\nDate: ${new Date().toUTCString()}\r\nTransfer-Encoding: chunked\r\n\r\n`);
        this.adoptRevdial(runnerId, socket);
        if (rest.length) socket.unshift(rest);
    }

    private adoptRevdial(runnerId: string, socket: Duplex): void {
        const control: RevdialControl = {
            runnerId,
            socket,
            at: Date.now(),
            received: [],
            keepAlive: setInterval(
                () => socket.write(`${JSON.stringify({ command: "keep-alive" })}\n`),
                this.options.keepAliveMs ?? 18_000,
            ),
        };
        this.revdialControls.push(control);
        socket.write(`${JSON.stringify({ command: "keep-alive" })}\n`);
        this.options.onRevdial?.(runnerId);
        let buffered = "";
        socket.on("data", (data: Buffer) => {
            buffered += data.toString();
            let nl: number;
            while ((nl = buffered.indexOf("\n")) >= 0) {
                const line = buffered.slice(0, nl);
                buffered = buffered.slice(nl + 1);
                control.received.push(line);
                let message: { command?: string; connPath?: string; err?: string };
                try {
                    message = JSON.parse(line);
                } catch {
                    // revdial.Dialer closes the connection on a line that is not JSON.
                    socket.destroy();
                    return;
                }
                if (message.command === "pickup-failed" && message.connPath) {
                    const uniq = new URL(message.connPath, "http://x").searchParams.get("revdial.dialer") ?? "";
                    this.pickups.get(uniq)?.reject(new Error(`revdial listener failed to pick up connection: ${message.err}`));
                    this.pickups.delete(uniq);
                }
            }
        });
        socket.on("error", () => undefined);
        socket.on("close", () => {
            clearInterval(control.keepAlive);
            const i = this.revdialControls.indexOf(control);
            if (i >= 0) this.revdialControls.splice(i, 1);
        });
    }

    /** Runner IDs with an open reverse-dial control connection. */
    revdialRunnerIds(): string[] {
        return [...new Set(this.revdialControls.map((c) => c.runnerId))].sort();
    }

    /**
     * connman.Dial: asks a runner for a connection over its reverse dial and resolves with the
     * picked-up WebSocket (binary messages carry the desktop's byte stream), or rejects with the
     * runner's pickup-failed reason, or after 20 s.
     */
    dialRunner(runnerId: string, timeoutMs = 20_000): Promise<WebSocket> {
        const control = [...this.revdialControls].reverse().find((c) => c.runnerId === runnerId);
        if (!control) return Promise.reject(new Error(`runner ${runnerId} has no reverse dial`));
        const uniq = crypto.randomBytes(16).toString("hex");
        return new Promise<WebSocket>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pickups.delete(uniq);
                reject(new Error(`runner ${runnerId} did not pick up within ${timeoutMs} ms`));
            }, timeoutMs);
            this.pickups.set(uniq, {
                resolve: (ws) => (clearTimeout(timer), resolve(ws)),
                reject: (err) => (clearTimeout(timer), reject(err)),
            });
            control.socket.write(`${JSON.stringify({ command: "conn-ready", connPath: `/revdial?revdial.dialer=${uniq}` })}\n`);
        });
    }

    /**
     * A local TCP port whose every connection is carried to `runnerId`'s desktop over its reverse
     * dial, as Guacamole's side of the control plane does for a VNC client. Close it when done.
     */
    async bridgeToRunner(runnerId: string): Promise<{ port: number; close: () => void }> {
        const bridge = net.createServer((client) => {
            void this.dialRunner(runnerId).then(
                (ws) => {
                    ws.on("message", (d: Buffer) => client.write(d));
                    client.on("data", (d) => ws.send(d));
                    ws.on("close", () => client.destroy());
                    client.on("close", () => ws.close());
                    client.on("error", () => ws.close());
                },
                () => client.destroy(),
            );
        });
        await new Promise<void>((r) => bridge.listen(0, "127.0.0.1", r));
        return { port: (bridge.address() as AddressInfo).port, close: () => bridge.close() };
    }

    private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
        const url = new URL(req.url ?? "/", "http://control-plane");
        if (url.pathname === `${this.prefix}/api/v1/revdial` && (this.options.revdial ?? "present") === "present") {
            if (!this.authorised(req)) {
                this.revdialRefusals.push(401);
                socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 22\r\n\r\nrunner token required\n");
                return;
            }
            const uniq = url.searchParams.get("revdial.dialer") ?? "";
            const pickup = this.pickups.get(uniq);
            if (!pickup) {
                socket.end(
                    'HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{"message":"unknown dialer"}',
                );
                return;
            }
            this.pickups.delete(uniq);
            this.wss.handleUpgrade(req, socket, head, (ws) => pickup.resolve(ws));
            return;
        }
        if (url.pathname !== `${this.prefix}/api/v1/ws/external-agent-runner`) {
            socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        const runnerId = url.searchParams.get("runnerid");
        const accessToken = url.searchParams.get("access_token");
        const refuse = (status: number, text: string) => {
            this.refusals.push(status);
            socket.end(
                `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`,
            );
        };
        if (!runnerId) return refuse(400, "runnerid is required");
        if (!accessToken) return refuse(400, "access_token is required");
        if (accessToken !== this.token) return refuse(401, "Invalid access token");
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

    /** Listens on `host` (an address the runners can reach); returns the port. Call again after `goAway` to come back on the same port. */
    async listen(host = this.host, port = this.port): Promise<number> {
        this.host = host;
        await new Promise<void>((resolve, reject) => {
            this.tcp.once("error", reject);
            this.tcp.listen(port, host, () => resolve());
        });
        this.port = (this.tcp.address() as AddressInfo).port;
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
    async sendRdpChunk(sessionId: string, data: Buffer, to?: string, kind: "session" | "runner" = "session"): Promise<Delivery<Buffer>> {
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
        await eventually(what, predicate, timeoutMs);
    }

    /** The control plane goes away: every connection cut, nothing listening. `listen()` brings it back. */
    async goAway(): Promise<void> {
        clearInterval(this.idleTimer);
        for (const c of [...this.revdialControls]) c.socket.destroy();
        for (const client of this.wss.clients) client.terminate();
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    }

    /**
     * Helix restarted with a new RUNNER_TOKEN (it reads the token from its environment
     * once, and keeps one): every connection cut, then only the new token accepted.
     */
    async restartWithToken(token: string): Promise<void> {
        await this.goAway();
        this.token = token;
        await this.listen();
    }

    async close(): Promise<void> {
        if (this.tcp.listening) await this.goAway();
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
