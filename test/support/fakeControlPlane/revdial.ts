// TEST DOUBLE (part of the fake control plane): rc8's reverse dial, as docs/protocol.md describes
// Helix's, quirks included:
//   - the control request: GET <prefix>/api/v1/revdial?runnerid= with the token as a Bearer token
//     (401 without, 400 without runnerid), answered 200 and hijacked; keep-alive lines every 18 s;
//   - a dial: `conn-ready` with connPath /revdial?revdial.dialer=<hex>; the pick-up is a WebSocket
//     at /api/v1 + connPath behind the same auth ("unknown dialer", 500, for a path it did not hand
//     out); `pickup-failed` fails the dial;
//   - without the /api/v1 prefix, /revdial is the web UI's page; control planes without the
//     endpoint (seed-era) answer 404, or their web page.
import * as crypto from "node:crypto";
import type * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { WEB_PAGE, rawResponse } from "./http";

/** rc8 has the reverse dial; a seed-era control plane answers 404, one behind a web front end its page. */
export type RevdialOffer = "present" | "absent-404" | "absent-webpage";

/** What a test may read of a control connection. */
export interface RevdialControlView {
    readonly runnerId: string;
    readonly at: number;
    /** Lines the runner sent on the control connection, keep-alives included. */
    readonly received: readonly string[];
}

interface RevdialControl extends RevdialControlView {
    readonly socket: Duplex;
    readonly received: string[];
    keepAlive: NodeJS.Timeout;
}

export interface FakeRevdialOptions {
    readonly offer: RevdialOffer;
    /** The path prefix the control plane is served under. */
    readonly prefix: string;
    /** The keep-alive interval (18 s in Helix). */
    readonly keepAliveMs: number;
    /** Called as soon as a runner's control connection is adopted; see FakeControlPlaneOptions.onRevdial. */
    readonly onRevdial?: (runnerId: string) => void;
}

/** The reverse-dial endpoint; the fake control plane hands it control requests and pick-up upgrades. */
export class FakeRevdialEndpoint {
    private readonly controls: RevdialControl[] = [];
    /** Control requests at /api/v1/revdial, answered or not. */
    requests = 0;
    /** The runnerid of each control request at /api/v1/revdial, in order ("" when it had none). */
    readonly requestLog: string[] = [];
    /** Every status the endpoint answered a refused request with. */
    readonly refusals: number[] = [];
    private readonly pickups = new Map<string, { resolve: (ws: WebSocket) => void; reject: (err: Error) => void }>();
    private readonly wss = new WebSocketServer({ noServer: true });
    private readonly controlRequestLine: RegExp;

    /** `token` is read at each request: a restarted control plane has a new one. */
    constructor(
        private readonly options: FakeRevdialOptions,
        private readonly token: () => string,
    ) {
        this.controlRequestLine = new RegExp(`^GET ${options.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/api/v1/revdial[?\\s]`);
    }

    /** Reverse-dial control connections, newest last. */
    get controlConnections(): readonly RevdialControlView[] {
        return this.controls;
    }

    /**
     * Whether a request head (up to its blank line) is a control request. Those are read off the raw
     * socket: Node's HTTP server would go on parsing the runner's JSON lines as requests, where Go's
     * handler hijacks the connection. A pick-up is an upgrade, and goes to the HTTP server.
     */
    isControlRequest(head: string): boolean {
        return this.controlRequestLine.test(head) && !/^upgrade:/im.test(head);
    }

    /** Answers a control request read off `socket`; `rest` is what came after its head. */
    control(head: string, socket: net.Socket, rest: Buffer): void {
        this.requests += 1;
        const [requestLine, ...headerLines] = head.split("\r\n");
        const url = new URL(requestLine.split(" ")[1] ?? "/", "http://control-plane");
        this.requestLog.push(url.searchParams.get("runnerid") ?? "");
        const header = (name: string) =>
            headerLines
                .find((l) => l.toLowerCase().startsWith(`${name}:`))
                ?.slice(name.length + 1)
                .trim();
        const answer = (status: number, type: string, body: string): void =>
            void socket.end(rawResponse(status, body, { "Content-Type": type }));
        if (this.options.offer === "absent-404") return answer(404, "text/plain; charset=utf-8", "404 page not found\n");
        if (this.options.offer === "absent-webpage") return answer(200, "text/html; charset=utf-8", WEB_PAGE);
        if (header("authorization") !== `Bearer ${this.token()}`) {
            this.refusals.push(401);
            return answer(401, "text/plain; charset=utf-8", "runner token required\n");
        }
        const runnerId = url.searchParams.get("runnerid");
        if (!runnerId) {
            this.refusals.push(400);
            return answer(400, "text/plain; charset=utf-8", "runnerid is required\n");
        }
        // WriteHeader(200), then Hijack: the header goes out (chunked, no body), then the raw socket is the dialer.
        socket.write(`HTTP/1.1 200 OK\r\nDate: ${new Date().toUTCString()}\r\nTransfer-Encoding: chunked\r\n\r\n`);
        this.adopt(runnerId, socket);
        if (rest.length) socket.unshift(rest);
    }

    private adopt(runnerId: string, socket: Duplex): void {
        const control: RevdialControl = {
            runnerId,
            socket,
            at: Date.now(),
            received: [],
            keepAlive: setInterval(() => socket.write(`${JSON.stringify({ command: "keep-alive" })}\n`), this.options.keepAliveMs),
        };
        this.controls.push(control);
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
            const i = this.controls.indexOf(control);
            if (i >= 0) this.controls.splice(i, 1);
        });
    }

    /** Answers a pick-up upgrade at /api/v1/revdial?revdial.dialer=<hex>. */
    pickup(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
        if (req.headers.authorization !== `Bearer ${this.token()}`) {
            this.refusals.push(401);
            socket.end(rawResponse(401, "runner token required\n"));
            return;
        }
        const uniq = url.searchParams.get("revdial.dialer") ?? "";
        const pickup = this.pickups.get(uniq);
        if (!pickup) {
            socket.end(rawResponse(500, '{"message":"unknown dialer"}', { "Content-Type": "application/json" }));
            return;
        }
        this.pickups.delete(uniq);
        this.wss.handleUpgrade(req, socket, head, (ws) => pickup.resolve(ws));
    }

    /** Runner IDs with an open control connection. */
    runnerIds(): string[] {
        return [...new Set(this.controls.map((c) => c.runnerId))].sort();
    }

    /**
     * connman.Dial: asks a runner for a connection over its reverse dial and resolves with the
     * picked-up WebSocket (binary messages carry the desktop's byte stream), or rejects with the
     * runner's pickup-failed reason, or after `timeoutMs`.
     */
    dial(runnerId: string, timeoutMs: number): Promise<WebSocket> {
        const control = [...this.controls].reverse().find((c) => c.runnerId === runnerId);
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

    /** A local TCP port whose every connection is carried to `runnerId`'s desktop over its reverse dial. */
    async bridge(runnerId: string, timeoutMs: number): Promise<{ port: number; close: () => void }> {
        const bridge = net.createServer((client) => {
            void this.dial(runnerId, timeoutMs).then(
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

    /** Cuts `runnerId`'s newest control connection, as a network fault would; false when it has none. */
    cutControl(runnerId: string): boolean {
        const control = [...this.controls].reverse().find((c) => c.runnerId === runnerId);
        control?.socket.destroy();
        return control !== undefined;
    }

    /** Every control connection and picked-up WebSocket cut, as when the control plane goes away. */
    cutAll(): void {
        for (const c of [...this.controls]) c.socket.destroy();
        for (const client of this.wss.clients) client.terminate();
    }
}
