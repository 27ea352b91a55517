// TEST DOUBLE (part of the fake control plane): Helix 2.12.2's side of the sandbox wire
// (docs/protocol.md §7), quirks included. Read at helixml/helix@2.12.2: api/pkg/server/server.go
// (handleRevDial, ensureSandboxRegistered), api/pkg/connman/connman.go (the one server.go uses;
// api/pkg/server/connman is unused), api/pkg/store/store_sandbox.go (FindAvailableSandboxInstance),
// api/pkg/revdial/revdial.go (Dialer, ConnHandler), api/pkg/server/sandbox_handlers.go
// (sandboxHeartbeat), api/pkg/store/store_sandbox.go (UpdateSandboxHeartbeat),
// api/pkg/server/auth_utils.go (requireUser), api/pkg/hydra/client.go (RevDialClient).
//
// Not rc8's reverse dial (./revdial.ts), so not built on it: the control connection is a WebSocket
// whose binary frames carry the JSON lines (a text frame ends it), the control plane pings it every
// 15 s, one dialer serves many dials each named by its own `revdial.req`, a `hydra-*` or `sandbox-*`
// ID registers a sandbox, and a second connection under one ID takes the ID over. What is the same
// (the JSON lines, 18 s keep-alives, pick-ups behind the same auth, "unknown dialer") is small.
//
//   - control: WebSocket GET /api/v1/revdial?runnerid=<id>, bearer = the runner token (401
//     "Unauthorized" otherwise; 400 without runnerid). The sandbox is registered (or, known, reset
//     to online) *before* the upgrade; then the connection manager's entry for the ID points at the
//     new dialer. The one it replaced is not closed: it stays open, unreachable, until it dies.
//     When the newest dies, a dial to the ID waits for it to come back, up to 30 s
//     (DefaultGracePeriod), then fails "reconnect timeout"; past that, and for an ID never
//     connected, a dial fails "no connection" at once.
//   - placement (FindAvailableSandboxInstance): a sandbox takes a desktop when it is online, was
//     heard within 90 s, can host one (its gpu_vendor neither none nor neuron, its render node not
//     SOFTWARE) and its heartbeat's desktop_versions names the desktop; least busy first.
//   - a dialer sends `keep-alive` at once, then every 18 s and again right after each `conn-ready`;
//     `conn-ready` {connPath: /revdial?revdial.dialer=<dialer>&revdial.req=<request>}; a
//     `pickup-failed` fails the dial named by its connPath's revdial.req; a line that is not JSON
//     closes the dialer.
//   - pick-up: WebSocket GET /api/v1/revdial?revdial.dialer=..&revdial.req=.. behind the same auth;
//     500 {"code":"INTERNAL_SERVER_ERROR","message":"unknown dialer"} for a dialer it does not
//     know; a pick-up no dial waits for any more is closed at once.
//   - on each `hydra-*` control connection the control plane lists the sandbox's dev containers
//     through the tunnel at once (DiscoverContainersFromSandbox, 10 s), as HTTP/1.1 to Host hydra.
//   - heartbeat: POST /api/v1/sandboxes/<id>/heartbeat behind the same auth; 400 "Invalid request
//     body" on bad JSON; otherwise 200 {"status":"ok"}, but it only updates a registered sandbox's
//     row: one from an ID that never opened a reverse dial changes nothing.
import * as crypto from "node:crypto";
import type * as http from "node:http";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { SANDBOX_WIRE } from "../../../contract/sandbox";
import { rawResponse } from "./http";

/** What the fake keeps of each heartbeat. */
export interface SandboxHeartbeat {
    readonly at: number;
    /** The parsed JSON body. */
    readonly body: Record<string, any>;
    /** Whether the sandbox was registered, i.e. whether Helix's UPDATE found its row. */
    readonly applied: boolean;
}

/** A registered sandbox, as the sandbox_instances table would hold it. */
export interface RegisteredSandbox {
    readonly id: string;
    readonly registeredAt: number;
    /** Control connections after the first (ResetSandboxOnReconnect). */
    reconnects: number;
    /** The dev-container count the last discovery read through the tunnel; undefined until one succeeded. */
    discoveredContainers?: number;
}

/** What a test may read of a control connection. */
export interface SandboxControlView {
    readonly runnerId: string;
    readonly at: number;
    /** Whether the connection manager's entry for the ID points at this connection. */
    readonly current: boolean;
    /** Lines the sandbox sent on it. */
    readonly received: readonly string[];
}

/** How long Helix waits for a dial it makes on a control connection's arrival. */
const DISCOVERY_TIMEOUT_MS = 10_000;
/** connman's DefaultGracePeriod: how long a dial waits for a sandbox whose connection dropped. */
const RECONNECT_GRACE_MS = 30_000;
/** How recently a sandbox must have sent a heartbeat to take a desktop (config.go's 90 s). */
const PLACEMENT_HEARD_WITHIN_MS = 90_000;
/** revdial's dialerPingInterval. */
const KEEP_ALIVE_MS = 18_000;

const UNAUTHORIZED = rawResponse(401, "Unauthorized\n", {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
});

/** One revdial.Dialer: a control connection and the dials waiting on it. */
class Dialer {
    readonly uniq = crypto.randomBytes(16).toString("hex");
    readonly at = Date.now();
    readonly received: string[] = [];
    readonly requests = new Map<string, { resolve: (ws: WebSocket) => void; reject: (err: Error) => void }>();
    closed = false;
    /** When the control connection ended. */
    closedAt: number | undefined;
    private keepAlive?: NodeJS.Timeout;
    private readonly ping: NodeJS.Timeout;

    constructor(
        readonly runnerId: string,
        private readonly ws: WebSocket,
        private readonly onClose: (d: Dialer) => void,
    ) {
        this.ping = setInterval(() => ws.ping(), SANDBOX_WIRE.pingSeconds * 1000);
        let buffered = "";
        ws.on("message", (data: Buffer, isBinary: boolean) => {
            // wsconnadapter reads binary messages only; anything else is a read error that ends the dialer.
            if (!isBinary) return this.close();
            buffered += data.toString("utf8");
            let nl: number;
            while ((nl = buffered.indexOf("\n")) >= 0) {
                const line = buffered.slice(0, nl);
                buffered = buffered.slice(nl + 1);
                this.received.push(line);
                let message: { command?: string; connPath?: string; err?: string };
                try {
                    message = JSON.parse(line);
                } catch {
                    return this.close();
                }
                if (message.command === "pickup-failed") {
                    const requestId = new URL(message.connPath ?? "", "http://x").searchParams.get("revdial.req") ?? "";
                    this.requests.get(requestId)?.reject(new Error(`revdial listener failed to pick up connection: ${message.err}`));
                }
            }
        });
        ws.on("close", () => this.close());
        ws.on("error", () => this.close());
        this.serve();
    }

    /** Sends keep-alive now and every 18 s: the loop of revdial.Dialer.serve. */
    private serve(): void {
        clearTimeout(this.keepAlive);
        if (this.closed) return;
        this.send({ command: "keep-alive" });
        this.keepAlive = setTimeout(() => this.serve(), KEEP_ALIVE_MS);
    }

    private send(message: object): void {
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(Buffer.from(`${JSON.stringify(message)}\n`), { binary: true });
    }

    dial(timeoutMs: number): Promise<WebSocket> {
        if (this.closed) return Promise.reject(new Error("revdial.Dialer closed"));
        const requestId = crypto.randomBytes(16).toString("hex");
        return new Promise<WebSocket>((resolve, reject) => {
            const done = () => (clearTimeout(timer), this.requests.delete(requestId));
            const timer = setTimeout(() => (done(), reject(new Error("context deadline exceeded"))), timeoutMs);
            this.requests.set(requestId, { resolve: (ws) => (done(), resolve(ws)), reject: (err) => (done(), reject(err)) });
            clearTimeout(this.keepAlive);
            this.send({ command: "conn-ready", connPath: `/revdial?revdial.dialer=${this.uniq}&revdial.req=${requestId}` });
            this.serve();
        });
    }

    /** ConnHandler's deliverConn: to the dial that asked, or closed when none waits. */
    deliver(requestId: string, ws: WebSocket): void {
        const request = this.requests.get(requestId);
        if (request) request.resolve(ws);
        else ws.close();
    }

    close(): void {
        if (this.closed) return;
        this.closed = true;
        this.closedAt = Date.now();
        clearTimeout(this.keepAlive);
        clearInterval(this.ping);
        this.ws.terminate();
        for (const request of [...this.requests.values()]) request.reject(new Error("revdial.Dialer closed"));
        this.onClose(this);
    }
}

/** The sandbox side of the fake control plane; index.ts hands it its requests. */
export class FakeSandboxEndpoint {
    /** The sandbox_instances table, by sandbox ID. */
    readonly sandboxes = new Map<string, RegisteredSandbox>();
    /** Every heartbeat, by the ID in its path, oldest first. */
    readonly heartbeats = new Map<string, SandboxHeartbeat[]>();
    /** Every status a refused sandbox request was answered with. */
    readonly refusals: number[] = [];
    /** connman: the newest dialer per runner ID (kept after it closes, as Helix keeps it). */
    private readonly connman = new Map<string, Dialer>();
    /** revdial's dialers map: every open dialer by its unique ID. */
    private readonly dialers = new Map<string, Dialer>();
    private readonly wss = new WebSocketServer({ noServer: true });

    /** connman: dials waiting for a dropped ID to come back, by runner ID. */
    private readonly waiting = new Map<string, ((dialer: Dialer | undefined) => void)[]>();

    /** `token` is read at each request: a restarted control plane has a new one. */
    constructor(
        private readonly token: () => string,
        /** connman's grace period; a test may shorten it. */
        private readonly graceMs = RECONNECT_GRACE_MS,
    ) {}

    /** Whether an upgrade at /api/v1/revdial is this endpoint's: a WebSocket control connection, or a pick-up of one of its dialers. */
    handlesUpgrade(url: URL): boolean {
        const dialer = url.searchParams.get("revdial.dialer");
        return !dialer || this.dialers.has(dialer);
    }

    /** Answers a WebSocket upgrade at /api/v1/revdial: a control connection, or a pick-up. */
    upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
        if (req.headers.authorization !== `Bearer ${this.token()}`) {
            this.refusals.push(401);
            return void socket.end(UNAUTHORIZED);
        }
        const dialerId = url.searchParams.get("revdial.dialer");
        if (dialerId) return this.pickup(req, socket, head, dialerId, url.searchParams.get("revdial.req") ?? "");
        const runnerId = url.searchParams.get("runnerid");
        if (!runnerId) {
            this.refusals.push(400);
            return void socket.end(rawResponse(400, "runnerid is required\n", { "Content-Type": "text/plain; charset=utf-8" }));
        }
        const sandboxId = /^(hydra|sandbox)-/.test(runnerId) ? runnerId.replace(/^(hydra|sandbox)-/, "") : "";
        if (sandboxId) this.register(sandboxId);
        this.wss.handleUpgrade(req, socket, head, (ws) => {
            const dialer = new Dialer(runnerId, ws, (d) => this.dialers.delete(d.uniq));
            this.dialers.set(dialer.uniq, dialer);
            this.connman.set(runnerId, dialer);
            for (const resume of this.waiting.get(runnerId)?.splice(0) ?? []) resume(dialer);
            if (runnerId.startsWith(SANDBOX_WIRE.revdialRunnerPrefix)) void this.discover(sandboxId);
        });
    }

    private pickup(req: http.IncomingMessage, socket: Duplex, head: Buffer, dialerId: string, requestId: string): void {
        const dialer = this.dialers.get(dialerId);
        if (!dialer) {
            const body = `${JSON.stringify({ status_code: 500, code: "INTERNAL_SERVER_ERROR", message: "unknown dialer" })}\n`;
            return void socket.end(rawResponse(500, body, { "Content-Type": "application/json" }));
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => dialer.deliver(requestId, ws));
    }

    /** ensureSandboxRegistered: a new row, or a known one set online again. */
    private register(id: string): void {
        const known = this.sandboxes.get(id);
        if (known) known.reconnects += 1;
        else this.sandboxes.set(id, { id, registeredAt: Date.now(), reconnects: 0 });
    }

    /** DiscoverContainersFromSandbox: lists the dev containers through the tunnel; a failure is only logged there. */
    private async discover(sandboxId: string): Promise<void> {
        try {
            const { status, body } = await this.request(sandboxId, "GET", "/api/v1/dev-containers", DISCOVERY_TIMEOUT_MS);
            const sandbox = this.sandboxes.get(sandboxId);
            if (status < 400 && sandbox) sandbox.discoveredContainers = JSON.parse(body).containers?.length ?? 0;
        } catch {
            // "Failed to query containers from sandbox (may not be ready)", at debug level.
        }
    }

    /** POST /api/v1/sandboxes/<id>/heartbeat. */
    heartbeat(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
        if (req.headers.authorization !== `Bearer ${this.token()}`) {
            this.refusals.push(401);
            return void res
                .writeHead(401, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" })
                .end("Unauthorized\n");
        }
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            let body: Record<string, any>;
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
                this.refusals.push(400);
                return void res.writeHead(400, { "Content-Type": "text/plain; charset=utf-8" }).end("Invalid request body\n");
            }
            this.heartbeats.set(id, [...(this.heartbeats.get(id) ?? []), { at: Date.now(), body, applied: this.sandboxes.has(id) }]);
            res.writeHead(200, { "Content-Type": "application/json" }).end(`${JSON.stringify({ status: "ok" })}\n`);
        });
    }

    /**
     * connman.Dial for `hydra-<sandboxId>`: the picked-up WebSocket, whose binary frames carry
     * Hydra's socket. A dropped connection is waited for, as connman waits, for the grace period.
     */
    async dial(sandboxId: string, timeoutMs: number): Promise<WebSocket> {
        const runnerId = `${SANDBOX_WIRE.revdialRunnerPrefix}${sandboxId}`;
        const dialer = this.connman.get(runnerId);
        if (!dialer) throw new Error("no connection");
        if (!dialer.closed) return dialer.dial(timeoutMs);
        if (Date.now() - (dialer.closedAt ?? 0) >= this.graceMs) throw new Error("no connection");
        const back = await new Promise<Dialer | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), this.graceMs - (Date.now() - (dialer.closedAt ?? 0)));
            this.waiting.set(runnerId, [...(this.waiting.get(runnerId) ?? []), (d) => (clearTimeout(timer), resolve(d))]);
        });
        if (!back) throw new Error("reconnect timeout");
        return back.dial(timeoutMs);
    }

    /**
     * FindAvailableSandboxInstance's candidates for a `desktop`: registered, connected, heard from
     * within 90 s, able to host one and offering that desktop; the least busy first (the fake runs
     * no desktops, so by ID).
     */
    placeableSandboxIds(desktop: string, now = Date.now()): string[] {
        const connected = new Set(this.connectedSandboxIds());
        return [...this.sandboxes.keys()]
            .filter((id) => {
                const last = (this.heartbeats.get(id) ?? []).filter((h) => h.applied).pop();
                if (!connected.has(id) || last === undefined || now - last.at > PLACEMENT_HEARD_WITHIN_MS) return false;
                const canHost = !["none", "neuron"].includes(last.body.gpu_vendor) && last.body.render_node !== "SOFTWARE";
                return canHost && typeof last.body.desktop_versions?.[desktop] === "string" && last.body.desktop_versions[desktop] !== "";
            })
            .sort();
    }

    /**
     * hydra.RevDialClient.doRequest: one HTTP/1.1 request to the sandbox's Hydra over a fresh dial
     * (Host: hydra, the dial closed after the answer), resolving with the status and body.
     */
    async request(sandboxId: string, method: string, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
        const ws = await this.dial(sandboxId, timeoutMs);
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            const timer = setTimeout(
                () => (ws.terminate(), reject(new Error(`no answer to ${method} ${path} within ${timeoutMs} ms`))),
                timeoutMs,
            );
            const parse = (): boolean => {
                const raw = Buffer.concat(chunks);
                const end = raw.indexOf("\r\n\r\n");
                if (end < 0) return false;
                const head = raw.subarray(0, end).toString("latin1");
                const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
                const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
                const body = raw.subarray(end + 4);
                if (length !== undefined && body.length < Number(length)) return false;
                if (length === undefined && /\r\ntransfer-encoding: *chunked/i.test(head)) {
                    const text = body.toString("utf8");
                    if (!text.endsWith("0\r\n\r\n")) return false;
                    return done(status, dechunk(text));
                }
                return done(status, body.toString("utf8"));
            };
            const done = (status: number, body: string): true => {
                clearTimeout(timer);
                ws.close();
                resolve({ status, body });
                return true;
            };
            ws.on("message", (d: Buffer) => (chunks.push(d), parse()));
            ws.on(
                "close",
                () => parse() || (clearTimeout(timer), reject(new Error(`the tunnel closed before an answer to ${method} ${path}`))),
            );
            ws.send(Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: hydra\r\nUser-Agent: Go-http-client/1.1\r\n\r\n`));
        });
    }

    /** Sandbox IDs whose connection manager entry points at an open control connection. */
    connectedSandboxIds(): string[] {
        return [...this.connman.entries()]
            .filter(([runnerId, d]) => !d.closed && runnerId.startsWith(SANDBOX_WIRE.revdialRunnerPrefix))
            .map(([runnerId]) => runnerId.slice(SANDBOX_WIRE.revdialRunnerPrefix.length))
            .sort();
    }

    /** Every open control connection, superseded ones included, oldest first. */
    controls(): SandboxControlView[] {
        return [...this.dialers.values()]
            .sort((a, b) => a.at - b.at)
            .map((d) => ({ runnerId: d.runnerId, at: d.at, current: this.connman.get(d.runnerId) === d, received: d.received }));
    }

    /** Every control connection and picked-up WebSocket cut, as when the control plane goes away. */
    cutAll(): void {
        for (const d of [...this.dialers.values()]) d.close();
        for (const client of this.wss.clients) client.terminate();
    }
}

/** A chunked HTTP body's data. */
function dechunk(text: string): string {
    let out = "";
    for (let rest = text; ;) {
        const nl = rest.indexOf("\r\n");
        const size = parseInt(rest.slice(0, nl), 16);
        if (!size) return out;
        out += rest.slice(nl + 2, nl + 2 + size);
        rest = rest.slice(nl + 2 + size + 2);
    }
}
