// The reverse dial against the fake control plane's rc8 endpoint: the control
// connection with the Bearer token, keep-alives, pick-ups bridged to a VNC
// server, a pick-up that fails, a dropped control connection, and control
// planes without the endpoint. Test doubles: the fake control plane and a stub
// VNC server on loopback.
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import type WebSocket from "ws";
import { Redactor, createLogger } from "../../agent/log";
import type { Readiness } from "../../agent/localServer";
import { RunnerMetrics } from "../../agent/metrics";
import { DEFAULT_REVDIAL_TIMING, ReverseDial } from "../../agent/revdial";
import type { RevdialMode } from "../../contract";
import { FakeControlPlane } from "../support/fakeControlPlane";
import { eventually } from "../support/eventually";
import { parseScrape } from "../support/prometheus";
import { NASTY_TOKEN, leakedRuns } from "../support/secrets";

const RUNNER_ID = "external-zed-unit-1";
const RFB_BANNER = "RFB 003.008\n";

/** TEST DOUBLE: a VNC server that sends the RFB banner, then echoes. */
class StubVnc {
    readonly server = net.createServer((socket) => {
        socket.write(RFB_BANNER);
        socket.on("data", (d) => socket.write(d));
        socket.on("error", () => undefined);
    });
    port = 0;
    async listen(): Promise<void> {
        await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
        this.port = (this.server.address() as AddressInfo).port;
    }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback port nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    return port;
}

async function start(
    options: {
        revdial?: "present" | "absent-404" | "absent-webpage";
        mode?: RevdialMode;
        token?: string;
        vncPort?: number;
        vncReady?: Readiness;
        desktopWaitMs?: number;
        runnerId?: string;
        controlPlane?: FakeControlPlane;
        metrics?: RunnerMetrics;
    } = {},
) {
    const controlPlane =
        options.controlPlane ??
        new FakeControlPlane({
            token: NASTY_TOKEN,
            prefix: "/helix",
            revdial: options.revdial ?? "present",
            keepAliveMs: 100,
        });
    if (!options.controlPlane) await controlPlane.listen("127.0.0.1");
    const vnc = new StubVnc();
    await vnc.listen();
    const lines: string[] = [];
    const redactor = new Redactor();
    redactor.add(NASTY_TOKEN);
    const dial = new ReverseDial(
        {
            apiHost: controlPlane.apiHost(),
            apiToken: options.token ?? NASTY_TOKEN,
            runnerId: options.runnerId ?? RUNNER_ID,
            mode: options.mode ?? "auto",
        },
        createLogger("debug", redactor, (l) => lines.push(l)),
        () => net.connect({ host: "127.0.0.1", port: options.vncPort ?? vnc.port }),
        {
            ...DEFAULT_REVDIAL_TIMING,
            keepAliveMs: 100,
            deadAfterMs: 1000,
            unsupportedRetryMs: 60_000,
            desktopWaitMs: options.desktopWaitMs ?? DEFAULT_REVDIAL_TIMING.desktopWaitMs,
        },
        options.vncReady,
        options.metrics,
    );
    dial.start();
    cleanups.push(async () => {
        await dial.stop();
        if (!options.controlPlane) await controlPlane.close();
        await new Promise<void>((r) => vnc.server.close(() => r()));
    });
    return { controlPlane, dial, lines, vnc };
}

function firstMessage(ws: WebSocket): Promise<Buffer> {
    return new Promise((resolve) => ws.once("message", (d: Buffer) => resolve(d)));
}

describe("the reverse dial", () => {
    it("opens the control connection with the runner token and answers keep-alives with its own", async () => {
        const { controlPlane, dial } = await start();
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        // The control plane adopts the connection as it answers; the runner reads the answer after.
        await eventually("the runner to read the answer", () => dial.state.status === "up");
        expect(dial.state).toMatchObject({ mode: "auto", status: "up", lastError: null, tunnels: 0 });
        await eventually(
            "the runner's keep-alives",
            () => controlPlane.revdialControls[0].received.filter((l) => l === '{"command":"keep-alive"}').length >= 2,
        );
    });

    it("picks a connection up at /api/v1 + connPath and bridges it to the VNC server, both ways, counting the bytes", async () => {
        const metrics = new RunnerMetrics();
        const { controlPlane, dial } = await start({ metrics });
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        const ws = await controlPlane.dialRunner(RUNNER_ID);
        expect((await firstMessage(ws)).toString()).toBe(RFB_BANNER);
        const echo = firstMessage(ws);
        ws.send(Buffer.from("RFB 003.008\n"));
        expect((await echo).toString()).toBe("RFB 003.008\n");
        expect(dial.state).toMatchObject({ tunnels: 1, pickedUp: 1 });
        ws.close();
        await eventually("the tunnel to close", () => dial.state.tunnels === 0);
        // The banner and the echo came from the desktop; the one message went to it.
        const scrape = parseScrape(await metrics.scrape());
        expect(scrape.value("zed_runner_tunnel_bytes_total", { kind: "vnc", direction: "from_desktop" })).toBe(2 * RFB_BANNER.length);
        expect(scrape.value("zed_runner_tunnel_bytes_total", { kind: "vnc", direction: "to_desktop" })).toBe(RFB_BANNER.length);
        expect(scrape.value("zed_runner_tunnel_bytes_total", { kind: "rdp", direction: "to_desktop" })).toBe(0);
    });

    it("holds a flooding VNC server back while the control plane reads nothing, and lets it go on once it reads", async () => {
        // Far more than the kernel's socket buffers on both connections and the bridge's own
        // high-water mark together: without backpressure the agent would read all of it into memory.
        const total = 64 * 1024 * 1024;
        const flood = { written: 0, lastWrite: Date.now() };
        const server = net.createServer((socket) => {
            socket.on("error", () => undefined);
            socket.write(RFB_BANNER);
            const chunk = Buffer.alloc(64 * 1024, 0x5a);
            const pump = () => {
                while (flood.written < total) {
                    flood.written += chunk.length;
                    flood.lastWrite = Date.now();
                    if (!socket.write(chunk)) {
                        socket.once("drain", pump);
                        return;
                    }
                }
            };
            pump();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
        const { controlPlane, dial } = await start({ vncPort: (server.address() as AddressInfo).port });
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        const ws = await controlPlane.dialRunner(RUNNER_ID);
        let received = 0;
        ws.on("message", (d: Buffer) => (received += d.length));
        // The control plane stops reading: its socket's buffers fill, then the agent's, then VNC's.
        ws.pause();
        await eventually("the VNC server's writes to stall", () => Date.now() - flood.lastWrite > 1000, 20_000);
        const stalledAt = flood.written;
        expect(stalledAt).toBeLessThan(total / 2);
        expect(dial.state.tunnels).toBe(1);
        ws.resume();
        await eventually("the VNC server to write again", () => flood.written > stalledAt, 10_000);
        await eventually("the control plane to read past the stall", () => received > stalledAt - 8 * 1024 * 1024, 20_000);
        ws.terminate();
    });

    it("carries several desktop connections at once, each to its own VNC connection", async () => {
        const { controlPlane, dial, vnc } = await start();
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        const sockets = await Promise.all([1, 2, 3].map(() => controlPlane.dialRunner(RUNNER_ID)));
        await eventually("three tunnels", () => dial.state.tunnels === 3);
        const [connections] = await new Promise<[number]>((r) => vnc.server.getConnections((_, n) => r([n])));
        expect(connections).toBe(3);
        sockets.forEach((ws) => ws.close());
    });

    it("waits for a VNC server that is starting: a pick-up that arrives before it listens succeeds once it does", async () => {
        const port = await deadPort();
        const { controlPlane, dial, lines } = await start({ vncPort: port });
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        const pickup = controlPlane.dialRunner(RUNNER_ID);
        pickup.catch(() => undefined);
        // The pick-up has met a refused connection and waits: only now does the VNC server start.
        await eventually("the pick-up to wait", () => lines.some((l) => l.includes("a pick-up waits for the local VNC server")));
        const late = new StubVnc();
        await new Promise<void>((r) => late.server.listen(port, "127.0.0.1", r));
        cleanups.push(() => new Promise<void>((r) => late.server.close(() => r())));
        const ws = await pickup;
        expect((await firstMessage(ws)).toString()).toBe(RFB_BANNER);
        expect(dial.state).toMatchObject({ tunnels: 1, pickedUp: 1 });
        expect(controlPlane.revdialControls[0].received.filter((l) => l.includes("pickup-failed"))).toEqual([]);
        ws.close();
    });

    it("does not bridge a VNC server that accepts but closes before its banner (a dying x11vnc): waits for one that speaks", async () => {
        let accepted = 0;
        const dying = net.createServer((socket) => {
            accepted += 1;
            socket.on("error", () => undefined);
            if (accepted <= 2) socket.destroy();
            else socket.write(RFB_BANNER);
        });
        await new Promise<void>((r) => dying.listen(0, "127.0.0.1", r));
        cleanups.push(() => new Promise<void>((r) => dying.close(() => r())));
        const { controlPlane, dial, lines } = await start({ vncPort: (dying.address() as AddressInfo).port });
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        const ws = await controlPlane.dialRunner(RUNNER_ID);
        expect((await firstMessage(ws)).toString()).toBe(RFB_BANNER);
        expect(accepted).toBe(3);
        expect(dial.state).toMatchObject({ tunnels: 1, pickedUp: 1 });
        expect(
            lines.some((l) => l.includes("a pick-up waits for the local VNC server (the connection closed before the server spoke)")),
        ).toBe(true);
        ws.close();
    });

    it("waits for the VNC server's supervisor, and reports the desktop waiting, not up, until it is ready", async () => {
        let ready = false;
        const wake = new Set<() => void>();
        const vncReady: Readiness = {
            get ready() {
                return ready;
            },
            whenReady: () => new Promise<boolean>((r) => wake.add(() => r(true))),
        };
        const { controlPlane, dial, lines } = await start({ vncReady });
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        // Open, but the desktop is not reachable: "waiting", never "up".
        await eventually("the runner to read the answer", () => lines.some((l) => l.includes("reverse dial open")));
        expect(dial.state).toMatchObject({ status: "waiting", lastError: null });
        const pickup = controlPlane.dialRunner(RUNNER_ID);
        await eventually("the pick-up to wait", () =>
            lines.some((l) => l.includes("a pick-up waits for the local VNC server (it is starting)")),
        );
        ready = true;
        wake.forEach((w) => w());
        const ws = await pickup;
        expect((await firstMessage(ws)).toString()).toBe(RFB_BANNER);
        expect(dial.state).toMatchObject({ status: "up", tunnels: 1 });
        ws.close();
    });

    it("answers pickup-failed with the reason when the VNC server does not answer within the bound", async () => {
        const { controlPlane, lines } = await start({ vncPort: await deadPort(), desktopWaitMs: 300 });
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        await expect(controlPlane.dialRunner(RUNNER_ID)).rejects.toThrow(
            /revdial listener failed to pick up connection: the local VNC server did not answer within 0.3 s: connect ECONNREFUSED/,
        );
        // It waited first: a refused try, then more until the bound.
        expect(lines.some((l) => l.includes("a pick-up waits for the local VNC server (connect ECONNREFUSED"))).toBe(true);
        const failed = JSON.parse(controlPlane.revdialControls[0].received.find((l) => l.includes("pickup-failed"))!);
        expect(failed).toEqual({
            command: "pickup-failed",
            connPath: expect.stringMatching(/^\/revdial\?revdial\.dialer=[0-9a-f]{32}$/),
            err: expect.stringContaining("ECONNREFUSED"),
        });
    });

    it("dials the control connection again after it drops", async () => {
        const { controlPlane, dial, lines } = await start();
        await eventually("the control connection", () => controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        controlPlane.cutRevdialControl(RUNNER_ID);
        await eventually(
            "a second control connection",
            () => controlPlane.revdialRequests >= 2 && controlPlane.revdialRunnerIds().length === 1,
            10_000,
        );
        await eventually("the runner to read the answer", () => dial.state.status === "up");
        expect(lines.some((l) => l.includes("reverse dial down: the control connection closed; dialing again"))).toBe(true);
    });

    it("says why the token is refused, without the token", async () => {
        const { dial, lines, controlPlane } = await start({ token: "wrong-token" });
        await eventually("a refusal", () => controlPlane.revdialRefusals.includes(401));
        await eventually("the state", () => dial.state.lastError !== null);
        expect(dial.state).toMatchObject({
            status: "down",
            lastError: "the control plane refused the runner token (401) at /api/v1/revdial",
        });
        expect(leakedRuns(lines.join("\n"), NASTY_TOKEN)).toEqual([]);
    });

    it.each([["absent-404" as const], ["absent-webpage" as const]])(
        "stops asking a control plane without the endpoint (%s), says so once",
        async (revdial) => {
            const { dial, lines, controlPlane } = await start({ revdial });
            await eventually("unsupported", () => dial.state.status === "unsupported");
            // The observation window: a dialer switched on explicitly, against the same control plane,
            // asks three times (backing off from 100 ms, as any failure does). One that kept asking
            // after "unsupported" would have asked again in that time too.
            await start({ controlPlane, mode: "on", runnerId: "external-zed-unit-on" });
            await eventually(
                "three requests of the dialer switched on",
                () => controlPlane.revdialRequestLog.filter((id) => id === "external-zed-unit-on").length >= 3,
            );
            expect(controlPlane.revdialRequestLog.filter((id) => id === RUNNER_ID)).toHaveLength(1);
            expect(lines.filter((l) => l.includes("reverse dial not offered"))).toHaveLength(1);
            expect(dial.state.lastError).toMatch(/404|web page/);
        },
    );

    it("keeps asking, loudly, when the reverse dial is switched on explicitly", async () => {
        const { dial, controlPlane } = await start({ revdial: "absent-404", mode: "on" });
        await eventually("several attempts", () => controlPlane.revdialRequests >= 3, 10_000);
        expect(dial.state.status).toBe("down");
    });

    it("opens nothing when switched off", async () => {
        const { dial, controlPlane } = await start({ mode: "off" });
        // The observation window: a dialer started after it opens its control connection and trades
        // keep-alives; one switched off that dialed anyway would have been first.
        await start({ controlPlane, runnerId: "external-zed-unit-after" });
        await eventually("the later dialer's keep-alives", () =>
            controlPlane.revdialControls.some((c) => c.runnerId === "external-zed-unit-after" && c.received.length >= 2),
        );
        expect(controlPlane.revdialRequestLog).toEqual(["external-zed-unit-after"]);
        expect(dial.state.status).toBe("off");
    });
});
