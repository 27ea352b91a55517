// GET /health on the health port: 200 when the desktop is up, 503 otherwise,
// with JSON for each component, the control-plane link, sessions and tasks.
// The same module asks it, for Docker's HEALTHCHECK and `npm run status`.
// GET /metrics on the same port: the runner's Prometheus metrics (metrics.ts).
import * as http from "node:http";
import { CONTAINER_PORTS, HEALTH_PATH, METRICS_PATH, describeError } from "../contract";
import type { LinkState } from "./controlLink";
import type { PasswordState } from "./desktop";
import type { RunnerMetrics } from "./metrics";
import type { RevdialState } from "./revdial";
import type { SessionInfo } from "./sessions";

/** What /health answers. `npm run status` reads the same shape. */
export interface HealthReport {
    readonly status: "ok" | "unhealthy";
    readonly runnerId: string;
    /** Each desktop component: up once it runs and accepts connections (its port or socket); down while it starts, restarts or is dead. */
    readonly components: Readonly<Record<string, "up" | "down">>;
    /** The control-plane link is reported, not judged: the agent dials again by itself. */
    readonly controlPlane: LinkState & { readonly url: string };
    readonly sessions: {
        readonly live: number;
        readonly limit: number;
        readonly started: number;
        readonly maxTasks: number;
        readonly draining: boolean;
        readonly list: readonly SessionInfo[];
    };
    /** The reverse dial (rc8 control planes' VNC path). */
    readonly revdial: RevdialState;
    readonly desktopPassword: PasswordState;
    /** Desktop connections open through the control plane: RDP over the WebSocket, VNC over the reverse dial. */
    readonly tunnels: { readonly rdp: number; readonly vnc: number };
}

/** Serves `report()` at /health and `metrics` at /metrics; resolves once listening. */
export async function serveHealth(
    report: () => HealthReport,
    metrics: Pick<RunnerMetrics, "scrape" | "contentType">,
    port: number = CONTAINER_PORTS.health,
    host = "0.0.0.0",
): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0];
        const send = (status: number, body: unknown) => {
            res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
            res.end(JSON.stringify(body));
        };
        if (req.method !== "GET" && req.method !== "HEAD") return send(405, { error: "only GET" });
        if (path === METRICS_PATH) {
            metrics.scrape().then(
                (text) => {
                    res.writeHead(200, { "Content-Type": metrics.contentType, "Cache-Control": "no-store" });
                    res.end(text);
                },
                (err: unknown) => send(500, { error: `metrics failed: ${describeError(err)}` }),
            );
            return;
        }
        if (path !== HEALTH_PATH) return send(404, { error: `see ${HEALTH_PATH} or ${METRICS_PATH}` });
        const body = report();
        send(body.status === "ok" ? 200 : 503, body);
    });
    server.keepAliveTimeout = 5000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
    });
    return server;
}

/** Asks a running agent's /health: the status code and the body. */
export function fetchHealth(port: number = CONTAINER_PORTS.health, timeoutMs = 4000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: HEALTH_PATH, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer from ${HEALTH_PATH} within ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}
