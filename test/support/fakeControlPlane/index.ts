// TEST DOUBLE: a fake Helix control plane, doing what docs/protocol.md says the real one does,
// quirks included. One listening port, as Helix has, carrying two protocols, each in its own module:
//   - ./runnerSocket.ts: the runner WebSocket (handshake, the shared queue, launches, stops,
//     password configurations, the seed-era RDP proxy, rc8's idle drop);
//   - ./revdial.ts: rc8's reverse dial (control connection, keep-alives, dials and pick-ups);
//   - ./sandbox.ts: Helix 2.12.2's sandbox side (the WebSocket reverse dial of hydra-* IDs,
//     registration, heartbeats, calls to a sandbox's Hydra through the tunnel).
// This file listens, routes, and is the one API tests use; what a path the API does not route
// answers (the web UI's page) is here too, and so does the public config (GET /api/v1/config,
// no auth: `version` is the release, as 2.12.2's server.go and types.go serve it).
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type WebSocket from "ws";
import { eventually } from "../eventually";
import { WEB_PAGE, rawResponse } from "./http";
import { FakeRevdialEndpoint, RevdialControlView, RevdialOffer } from "./revdial";
import { FakeSandboxEndpoint, RegisteredSandbox, SandboxControlView, SandboxHeartbeat } from "./sandbox";
import { Delivery, FakeRunnerSocketEndpoint, Handshake, RdpSubjectKind, ZedAgentBody } from "./runnerSocket";

export { freshPassword } from "./runnerSocket";

/** How long `dialRunner` waits for a pick-up unless told (connman's 20 s). */
const DIAL_TIMEOUT_MS = 20_000;

export interface FakeControlPlaneOptions {
    readonly token: string;
    /** A path prefix the control plane is served under (an API host like https://host/helix). */
    readonly prefix?: string;
    /** rc8 drops a runner this long after its last ping or message. Defaults to never. */
    readonly idleDropMs?: number;
    /** rc8 has the reverse dial; a seed-era control plane answers 404, one behind a web front end its page. Defaults to "present". */
    readonly revdial?: RevdialOffer;
    /** The reverse dial's keep-alive interval. Defaults to 18 s, as in Helix. */
    readonly keepAliveMs?: number;
    /**
     * Called as soon as a runner's reverse-dial control connection is adopted, before anything
     * else: a real rc8 sends its password configuration and users open desktops the moment a
     * runner appears, so a test dials here to be as quick as it is.
     */
    readonly onRevdial?: (runnerId: string) => void;
    /** connman's grace period for a dropped sandbox; 30 s, as Helix's. A test may shorten it. */
    readonly reconnectGraceMs?: number;
    /** The release GET /api/v1/config names (`version`). Defaults to 2.12.2; `upgrade` changes it. */
    readonly release?: string;
}

export class FakeControlPlane {
    private readonly runners: FakeRunnerSocketEndpoint;
    private readonly revdial: FakeRevdialEndpoint;
    /** What GET /api/v1/config names as the release. */
    private release: string;
    private readonly sandboxes: FakeSandboxEndpoint;
    private readonly server = http.createServer((req, res) => this.onRequest(req, res));
    /** The listening socket: revdial control connections stay raw, everything else goes to `server`. */
    private readonly tcp: net.Server;
    private readonly sockets = new Set<net.Socket>();
    private readonly prefix: string;
    private port = 0;
    private host = "127.0.0.1";
    /** RUNNER_TOKEN, read once at start as Helix reads its environment. */
    private token: string;

    constructor(private readonly options: FakeControlPlaneOptions) {
        this.token = options.token;
        this.release = options.release ?? "2.12.2";
        this.prefix = options.prefix ?? "";
        this.runners = new FakeRunnerSocketEndpoint(() => this.token);
        this.revdial = new FakeRevdialEndpoint(
            {
                offer: options.revdial ?? "present",
                prefix: this.prefix,
                keepAliveMs: options.keepAliveMs ?? 18_000,
                onRevdial: options.onRevdial,
            },
            () => this.token,
        );
        this.sandboxes = new FakeSandboxEndpoint(() => this.token, options.reconnectGraceMs);
        this.tcp = net.createServer((socket) => this.onConnection(socket));
        this.server.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
    }

    // ---- What tests read: the runner WebSocket ------------------------------------------------

    /** Every accepted runner dial, in order, closed ones included. */
    get handshakes(): Handshake[] {
        return this.runners.handshakes;
    }

    /** Every HTTP status the runner endpoint answered a refused dial with. */
    get refusals(): number[] {
        return this.runners.refusals;
    }

    /** The reply subject of every response a runner sent, in the order they arrived. */
    get responseSubjects(): string[] {
        return this.runners.responseSubjects;
    }

    /** Runner IDs with an open connection now. */
    connectedRunnerIds(): string[] {
        return this.runners.connectedRunnerIds();
    }

    // ---- What tests read: the reverse dial ----------------------------------------------------

    /** Reverse-dial control connections open now, newest last. */
    get revdialControls(): readonly RevdialControlView[] {
        return this.revdial.controlConnections;
    }

    /** Control requests at /api/v1/revdial, answered or not. */
    get revdialRequests(): number {
        return this.revdial.requests;
    }

    /** The runnerid of each control request at /api/v1/revdial, in order ("" when it had none). */
    get revdialRequestLog(): string[] {
        return this.revdial.requestLog;
    }

    /** Every status the revdial endpoint answered a refused request with. */
    get revdialRefusals(): number[] {
        return this.revdial.refusals;
    }

    /** Runner IDs with an open reverse-dial control connection. */
    revdialRunnerIds(): string[] {
        return this.revdial.runnerIds();
    }

    // ---- What tests read: sandboxes (Helix 2.12.2) --------------------------------------------

    /** Sandbox IDs (without `hydra-`) whose newest reverse-dial control connection is open. */
    connectedSandboxIds(): string[] {
        return this.sandboxes.connectedSandboxIds();
    }

    /** The registered sandboxes (registration happens on a `hydra-*` ID's first control connection). */
    get registeredSandboxes(): ReadonlyMap<string, RegisteredSandbox> {
        return this.sandboxes.sandboxes;
    }

    /** Every heartbeat received, by the sandbox ID in its path, oldest first. */
    get sandboxHeartbeats(): ReadonlyMap<string, readonly SandboxHeartbeat[]> {
        return this.sandboxes.heartbeats;
    }

    /** The sandboxes Helix would place a `desktop` (such as ubuntu) on now: see FakeSandboxEndpoint.placeableSandboxIds. */
    placeableSandboxIds(desktop = "ubuntu"): string[] {
        return this.sandboxes.placeableSandboxIds(desktop);
    }

    /** Open sandbox control connections, superseded ones included, oldest first. */
    sandboxControls(): SandboxControlView[] {
        return this.sandboxes.controls();
    }

    /** Every status the sandbox endpoints answered a refused request with. */
    get sandboxRefusals(): number[] {
        return this.sandboxes.refusals;
    }

    // ---- What tests do: the runner WebSocket --------------------------------------------------

    /** Sends a text frame as-is to a runner (for malformed frames); returns the runner it went to. */
    sendRaw(text: string, to?: string): string {
        return this.runners.sendRaw(text, to);
    }

    /**
     * Resolves with the payload (base64-decoded) of the next response a runner publishes to
     * `subject`, or rejects after `timeoutMs`: the answer to a frame sent with `sendRaw`, whose
     * reply subject the test chose. Call it before sending, so the answer cannot come first.
     */
    nextReply(subject: string, timeoutMs = 10_000): Promise<Buffer> {
        return this.runners.nextReply(subject, timeoutMs);
    }

    /** Publishes `body` on the shared queue as the server does (type 0, base64 payload) and awaits the reply. */
    request(body: Buffer | object, timeoutMs: number, to?: string): Promise<Delivery<Buffer>> {
        return this.runners.request(body, timeoutMs, to);
    }

    /** Controller.launchZedAgent: a flat ZedAgent with a fresh password, no work_dir. */
    launch(agent: Partial<ZedAgentBody> & { session_id: string }, to?: string): Promise<Delivery<any> & { password: string }> {
        return this.runners.launch(agent, to);
    }

    /** Controller.StopExternalAgent. */
    stop(sessionId: string, to?: string): Promise<Delivery<any>> {
        return this.runners.stop(sessionId, to);
    }

    /** rc8's sendPasswordConfigurationToRunner, as the queue delivers it: possibly to another runner. */
    configurePassword(forRunner: string, password: string, to?: string): Promise<Delivery<any>> {
        return this.runners.configurePassword(forRunner, password, to);
    }

    /**
     * The seed-era RDP proxy: one chunk of a TCP client's bytes, as a whole inner envelope
     * inside a type-0 frame. Resolves with the outer answer's delay (the proxy waits up to 5 s).
     */
    sendRdpChunk(sessionId: string, data: Buffer, to?: string, kind: RdpSubjectKind = "session"): Promise<Delivery<Buffer>> {
        return this.runners.sendRdpChunk(sessionId, data, to, kind);
    }

    /** What runners send to an RDP reply subject, decoded as the proxy does (`ZedAgentRDPData.data`). Returns the unsubscribe. */
    onRdpResponse(sessionId: string, handler: (data: Buffer) => void, kind: RdpSubjectKind = "session"): () => void {
        return this.runners.onRdpResponse(sessionId, handler, kind);
    }

    // ---- What tests do: the reverse dial ------------------------------------------------------

    /**
     * connman.Dial: asks a runner for a connection over its reverse dial and resolves with the
     * picked-up WebSocket (binary messages carry the desktop's byte stream), or rejects with the
     * runner's pickup-failed reason, or after `timeoutMs`.
     */
    dialRunner(runnerId: string, timeoutMs = DIAL_TIMEOUT_MS): Promise<WebSocket> {
        return this.revdial.dial(runnerId, timeoutMs);
    }

    /**
     * A local TCP port whose every connection is carried to `runnerId`'s desktop over its reverse
     * dial, as Guacamole's side of the control plane does for a VNC client. Close it when done.
     */
    bridgeToRunner(runnerId: string): Promise<{ port: number; close: () => void }> {
        return this.revdial.bridge(runnerId, DIAL_TIMEOUT_MS);
    }

    /** Cuts `runnerId`'s newest reverse-dial control connection, as a network fault would; false when it has none. */
    cutRevdialControl(runnerId: string): boolean {
        return this.revdial.cutControl(runnerId);
    }

    // ---- What tests do: sandboxes (Helix 2.12.2) ----------------------------------------------

    /**
     * One HTTP request to a sandbox's Hydra through its reverse dial (`conn-ready`, pick-up, HTTP/1.1
     * over the picked-up WebSocket), as the control plane's Hydra client makes it.
     */
    callSandbox(sandboxId: string, method: string, path: string, timeoutMs = DIAL_TIMEOUT_MS): Promise<{ status: number; body: string }> {
        return this.sandboxes.request(sandboxId, method, path, timeoutMs);
    }

    // ---- Life cycle ------------------------------------------------------------------------------

    /** Listens on `host` (an address the runners can reach); returns the port. Call again after `goAway` to come back on the same port. */
    async listen(host = this.host, port = this.port): Promise<number> {
        this.host = host;
        await new Promise<void>((resolve, reject) => {
            this.tcp.once("error", reject);
            this.tcp.listen(port, host, () => resolve());
        });
        this.port = (this.tcp.address() as AddressInfo).port;
        if (this.options.idleDropMs !== undefined) this.runners.startIdleDrop(this.options.idleDropMs);
        return this.port;
    }

    /** The API host URL runners are given, prefix included. */
    apiHost(hostForRunners = this.host): string {
        return `http://${hostForRunners.includes(":") ? `[${hostForRunners}]` : hostForRunners}:${this.port}${this.prefix}`;
    }

    /** Resolves when `predicate` holds, polling every 50 ms, or rejects after `timeoutMs`. */
    async waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
        await eventually(what, predicate, timeoutMs);
    }

    /** The control plane is upgraded in place: GET /api/v1/config names `release` from now on. */
    upgrade(release: string): void {
        this.release = release;
    }

    /** The control plane goes away: every connection cut, nothing listening. `listen()` brings it back. */
    async goAway(): Promise<void> {
        this.revdial.cutAll();
        this.sandboxes.cutAll();
        this.runners.cutAll();
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

    // ---- Routing -------------------------------------------------------------------------------

    /** Reads a connection's request head: a revdial control request stays raw, the rest goes to the HTTP server. */
    private onConnection(socket: net.Socket): void {
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
            if (this.revdial.isControlRequest(text)) {
                this.revdial.control(text, socket, head.subarray(end + 4));
            } else {
                socket.unshift(head);
                this.server.emit("connection", socket);
            }
            socket.resume();
        };
        socket.on("data", onData);
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", "http://control-plane");
        // Public, as on Helix's insecure router: no token is asked for or read.
        if (url.pathname === `${this.prefix}/api/v1/config` && req.method === "GET")
            return void res
                .writeHead(200, { "Content-Type": "application/json" })
                .end(`${JSON.stringify({ version: this.release, latest_version: this.release })}\n`);
        const heartbeat = new RegExp(`^${this.prefix}/api/v1/sandboxes/([^/]+)/heartbeat$`).exec(url.pathname);
        if (heartbeat && req.method === "POST") return this.sandboxes.heartbeat(req, res, decodeURIComponent(heartbeat[1]));
        // The web UI answers every path the API does not route, /revdial without /api/v1 included.
        if (!url.pathname.startsWith(`${this.prefix}/api/`))
            return void res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(WEB_PAGE);
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
    }

    private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
        const url = new URL(req.url ?? "/", "http://control-plane");
        if (url.pathname === `${this.prefix}/api/v1/revdial` && (this.options.revdial ?? "present") === "present") {
            // A WebSocket control connection is 2.12.2's (rc8's runners send a plain GET): the sandbox side's.
            if (this.sandboxes.handlesUpgrade(url)) return this.sandboxes.upgrade(req, socket, head, url);
            return this.revdial.pickup(req, socket, head, url);
        }
        if (url.pathname === `${this.prefix}/api/v1/ws/external-agent-runner`) return this.runners.upgrade(req, socket, head, url);
        socket.end(rawResponse(404));
    }
}
