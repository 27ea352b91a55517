// The runner's metrics module on its own, and GET /metrics on the health port:
// names, help text and types as Prometheus reads them, every reason there from the
// start, state read at each scrape, and the endpoint beside /health. What a running
// runner counts (sessions, refusals, tunnels, reconnects) is in runner.test.ts.
// Test doubles: a stand-in runner state and stand-in desktop components.
import type { AddressInfo } from "node:net";
import type * as http from "node:http";
import { HealthReport, serveHealth } from "../../agent/health";
import { METRIC_PREFIX, RunnerMetrics, RunnerState, TunnelKind } from "../../agent/metrics";
import { METRICS_PATH } from "../../contract";
import { parseScrape } from "../support/prometheus";

/** TEST DOUBLE: the runner's state, as RunnerCore would give it, changed by the test between scrapes. */
function standInState() {
    const now = {
        connected: false,
        connects: 0,
        heardAt: undefined as number | undefined,
        live: 0,
        draining: false,
        open: { rdp: 0, vnc: 0 } as Record<TunnelKind, number>,
        opened: { rdp: 0, vnc: 0 } as Record<TunnelKind, number>,
        revdialUp: false,
    };
    const state: RunnerState = {
        runnerId: "external-zed-unit-1",
        sessionLimit: 3,
        linkConnected: () => now.connected,
        linkConnects: () => now.connects,
        linkLastHeardAt: () => now.heardAt,
        sessionsLive: () => now.live,
        draining: () => now.draining,
        tunnelsOpen: (kind) => now.open[kind],
        tunnelsOpened: (kind) => now.opened[kind],
        reverseDialUp: () => now.revdialUp,
    };
    return { now, state };
}

describe("RunnerMetrics", () => {
    it("names every metric with the prefix, with help text and its type, and every reason at 0 from the start", async () => {
        const metrics = new RunnerMetrics();
        metrics.watch(standInState().state);
        const scrape = parseScrape(await metrics.scrape());
        const families = [...scrape.families.values()];
        expect(families.length).toBeGreaterThanOrEqual(15);
        for (const f of families) {
            expect(f.name.startsWith(METRIC_PREFIX)).toBe(true);
            expect(f.help.length).toBeGreaterThan(20);
            // Prometheus's naming: counters end in _total, nothing else does.
            expect([f.name, f.name.endsWith("_total")]).toEqual([f.name, f.type === "COUNTER"]);
        }
        for (const reason of ["stop", "timeout", "zed_exit", "shutdown"])
            expect(scrape.value("zed_runner_sessions_ended_total", { reason })).toBe(0);
        for (const reason of ["concurrency", "max_tasks", "work_dir", "environment", "zed_start", "desktop_password"])
            expect(scrape.value("zed_runner_launches_refused_total", { reason })).toBe(0);
        for (const kind of ["rdp", "vnc"])
            for (const direction of ["to_desktop", "from_desktop"])
                expect(scrape.value("zed_runner_tunnel_bytes_total", { kind, direction })).toBe(0);
        expect(scrape.value("zed_runner_sessions_started_total")).toBe(0);
        expect(scrape.histogramCount("zed_runner_launch_reply_seconds")).toBe(0);
        expect(scrape.families.get("zed_runner_launch_reply_seconds")!.type).toBe("HISTOGRAM");
    });

    it("reads the runner's state afresh at each scrape", async () => {
        let clock = 1_000_000;
        const metrics = new RunnerMetrics({ now: () => clock });
        const { now, state } = standInState();
        metrics.watch(state);

        clock += 7000;
        let scrape = parseScrape(await metrics.scrape());
        expect(scrape.value("zed_runner_info", { runner_id: "external-zed-unit-1" })).toBe(1);
        expect(scrape.value("zed_runner_control_plane_up")).toBe(0);
        expect(scrape.value("zed_runner_control_plane_reconnects_total")).toBe(0);
        // Never heard: the age runs from the agent's start.
        expect(scrape.value("zed_runner_control_plane_last_message_age_seconds")).toBe(7);
        expect(scrape.value("zed_runner_sessions_limit")).toBe(3);
        expect(scrape.value("zed_runner_draining")).toBe(0);

        Object.assign(now, { connected: true, connects: 3, heardAt: clock - 2500, live: 2, draining: true, revdialUp: true });
        now.open.vnc = 1;
        now.opened.rdp = 4;
        now.opened.vnc = 5;
        scrape = parseScrape(await metrics.scrape());
        expect(scrape.value("zed_runner_control_plane_up")).toBe(1);
        expect(scrape.value("zed_runner_control_plane_reconnects_total")).toBe(2);
        expect(scrape.value("zed_runner_control_plane_last_message_age_seconds")).toBe(2.5);
        expect(scrape.value("zed_runner_sessions_live")).toBe(2);
        expect(scrape.value("zed_runner_draining")).toBe(1);
        expect(scrape.value("zed_runner_reverse_dial_up")).toBe(1);
        expect(scrape.value("zed_runner_tunnels_open", { kind: "rdp" })).toBe(0);
        expect(scrape.value("zed_runner_tunnels_open", { kind: "vnc" })).toBe(1);
        expect(scrape.value("zed_runner_tunnels_opened_total", { kind: "rdp" })).toBe(4);
        expect(scrape.value("zed_runner_tunnels_opened_total", { kind: "vnc" })).toBe(5);
    });

    it("counts what the modules report: sessions, refusals, launch replies, tunnel bytes", async () => {
        const metrics = new RunnerMetrics();
        metrics.sessionStarted();
        metrics.sessionStarted();
        metrics.sessionEnded("zed_exit");
        metrics.launchRefused("work_dir");
        metrics.launchAnswered(0.02);
        metrics.launchAnswered(3);
        metrics.tunnelCarried("rdp", "from_desktop", 1500);
        metrics.tunnelCarried("rdp", "from_desktop", 500);
        const text = await metrics.scrape();
        const scrape = parseScrape(text);
        expect(scrape.value("zed_runner_sessions_started_total")).toBe(2);
        expect(scrape.value("zed_runner_sessions_ended_total", { reason: "zed_exit" })).toBe(1);
        expect(scrape.value("zed_runner_sessions_ended_total", { reason: "stop" })).toBe(0);
        expect(scrape.value("zed_runner_launches_refused_total", { reason: "work_dir" })).toBe(1);
        expect(scrape.value("zed_runner_tunnel_bytes_total", { kind: "rdp", direction: "from_desktop" })).toBe(2000);
        expect(scrape.histogramCount("zed_runner_launch_reply_seconds")).toBe(2);
        const buckets = scrape.families.get("zed_runner_launch_reply_seconds")!.metrics[0].buckets!;
        expect([buckets["0.025"], buckets["2.5"], buckets["5"], buckets["+Inf"]]).toEqual(["1", "1", "2", "2"]);
    });

    it("reports each desktop component's supervisor: up, and its restarts", async () => {
        const metrics = new RunnerMetrics();
        // TEST DOUBLE: components as desktop.ts's Supervised reports them.
        const vnc = { spec: { name: "vnc" }, up: true, restarts: 0 };
        metrics.watchDesktop([{ spec: { name: "xvfb" }, up: true, restarts: 0 }, vnc]);
        vnc.up = false;
        vnc.restarts = 2;
        const scrape = parseScrape(await metrics.scrape());
        expect(scrape.value("zed_runner_desktop_component_up", { component: "xvfb" })).toBe(1);
        expect(scrape.value("zed_runner_desktop_component_up", { component: "vnc" })).toBe(0);
        expect(scrape.value("zed_runner_desktop_component_restarts_total", { component: "vnc" })).toBe(2);
        expect(scrape.value("zed_runner_desktop_component_restarts_total", { component: "xvfb" })).toBe(0);
    });

    it("adds the process's own metrics when asked, and keeps each runner's counts apart", async () => {
        const withProcess = new RunnerMetrics({ processMetrics: true });
        withProcess.sessionStarted();
        const scrape = parseScrape(await withProcess.scrape());
        expect(scrape.value("process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
        expect(scrape.value("zed_runner_sessions_started_total")).toBe(1);
        const other = parseScrape(await new RunnerMetrics().scrape());
        expect(other.value("zed_runner_sessions_started_total")).toBe(0);
        expect(other.families.has("process_resident_memory_bytes")).toBe(false);
    });
});

describe("GET /metrics on the health port", () => {
    let server: http.Server;
    let base: string;
    const metrics = new RunnerMetrics();

    beforeAll(async () => {
        metrics.watch(standInState().state);
        metrics.sessionStarted();
        const report = { status: "ok", runnerId: "external-zed-unit-1" } as unknown as HealthReport;
        server = await serveHealth(() => report, metrics, 0, "127.0.0.1");
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
        await new Promise<void>((r) => server.close(() => r()));
    });

    it("serves the Prometheus text format, uncached, beside /health", async () => {
        const response = await fetch(`${base}${METRICS_PATH}`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(parseScrape(await response.text()).value("zed_runner_sessions_started_total")).toBe(1);
        const health = await fetch(`${base}/health`);
        expect([health.status, await health.json()]).toEqual([200, { status: "ok", runnerId: "external-zed-unit-1" }]);
    });

    it("answers HEAD without a body, another method with 405 and another path with 404 naming both", async () => {
        const head = await fetch(`${base}${METRICS_PATH}`, { method: "HEAD" });
        expect([head.status, await head.text()]).toEqual([200, ""]);
        expect((await fetch(`${base}${METRICS_PATH}`, { method: "POST" })).status).toBe(405);
        const missing = await fetch(`${base}/metric`);
        expect([missing.status, await missing.json()]).toEqual([404, { error: "see /health or /metrics" }]);
    });
});
