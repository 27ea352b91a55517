// TEST DOUBLE: a fake Helix control plane. It accepts runners on Helix's real
// WebSocket endpoint and records every handshake; it never talks back beyond
// the WebSocket protocol itself.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface Handshake {
    readonly runnerId: string | null;
    readonly accessToken: string | null;
    readonly concurrency: string | null;
    readonly at: number;
    closedAt?: number;
}

export class FakeControlPlane {
    readonly handshakes: Handshake[] = [];
    private readonly server = http.createServer((_, res) => res.writeHead(404).end());
    private readonly wss = new WebSocketServer({ noServer: true });

    constructor() {
        this.server.on("upgrade", (req, socket, head) => {
            const url = new URL(req.url ?? "/", "http://control-plane");
            if (url.pathname !== "/api/v1/ws/external-agent-runner") {
                socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
                return;
            }
            this.wss.handleUpgrade(req, socket, head, (ws) => {
                const handshake: Handshake = {
                    runnerId: url.searchParams.get("runnerid"),
                    accessToken: url.searchParams.get("access_token"),
                    concurrency: url.searchParams.get("concurrency"),
                    at: Date.now(),
                };
                this.handshakes.push(handshake);
                ws.on("close", () => (handshake.closedAt = Date.now()));
            });
        });
    }

    /** Listens on `host` (an address the runner containers can reach) and returns the port. */
    async listen(host: string): Promise<number> {
        await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
        return (this.server.address() as AddressInfo).port;
    }

    /** Runner IDs with an open connection now. */
    connectedRunnerIds(): string[] {
        return [...new Set(this.handshakes.filter((h) => h.closedAt === undefined).map((h) => h.runnerId ?? ""))].sort();
    }

    /** Resolves when `predicate` holds, polling every 200 ms, or rejects after `timeoutMs`. */
    async waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        while (!predicate()) {
            if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    async close(): Promise<void> {
        for (const client of this.wss.clients) client.terminate();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}
