// Remote desktop through the control plane against a direct connection to the published port, in
// one run: VNC's banner and a framebuffer grab over the reverse dial, RDP over the runner's
// WebSocket (the seed-era proxy), and that path's chunk rate.
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { createWebSocketStream } from "ws";
import { CONTAINER_PORTS } from "../../contract";
import { eventually } from "../../test/support/eventually";
import type { FakeControlPlane } from "../../test/support/fakeControlPlane";
import { rdpConnectionPduType, vncSnapshot } from "../../test/support/protocols";
import { runnerIdOf } from "../engine";
import type { BenchOptions } from "../options";
import { Report, fmtMs, median } from "../report";

/** A loopback TCP port whose connections are piped to `upstream()`, counting the bytes that come back. */
async function countingProxy(upstream: () => Promise<Duplex>): Promise<{ port: number; bytes: () => number; close: () => void }> {
    let bytes = 0;
    const server = net.createServer((client) => {
        void upstream().then(
            (up) => {
                up.on("data", (d: Buffer) => (bytes += d.length));
                client.pipe(up).pipe(client);
                const end = () => (client.destroy(), up.destroy());
                client.on("close", end).on("error", end);
                up.on("close", end).on("error", end);
            },
            () => client.destroy(),
        );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { port: (server.address() as net.AddressInfo).port, bytes: () => bytes, close: () => server.close() };
}

/** Time until the first bytes arrive on `open()`'s stream. */
async function timeToFirstBytes(open: () => Promise<Duplex>): Promise<number> {
    const t0 = performance.now();
    const stream = await open();
    await new Promise((r) => stream.once("data", r));
    const ms = performance.now() - t0;
    stream.destroy();
    return ms;
}

/** Two figures: a latency direct to the published port, and through a tunnel with what the tunnel adds. */
function recordLatencyPair(report: Report, what: string, tunnel: string, direct: number[], tunnelled: number[]): void {
    const runs = `median of ${direct.length}`;
    report.record({ section: "tunnel", what: `${what}, direct to the published port`, value: fmtMs(median(direct)), runs });
    report.record({
        section: "tunnel",
        what: `${what}, ${tunnel}`,
        value: `${fmtMs(median(tunnelled))} (+${fmtMs(median(tunnelled) - median(direct))})`,
        runs,
    });
}

/** `inputs`: one running runner's declared container, its desktop ports published. */
export async function tunnelFigures(report: Report, options: BenchOptions, inputs: any, controlPlane: FakeControlPlane): Promise<void> {
    const runnerId = runnerIdOf(inputs);
    const env = Object.fromEntries((inputs.envs.value as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const published = (internal: number) => inputs.ports.find((p: any) => p.internal === internal).external as number;
    const direct = (internal: number) => () =>
        new Promise<Duplex>((resolve, reject) => {
            const s = net.connect({ host: "127.0.0.1", port: published(internal) }, () => resolve(s));
            s.once("error", reject);
        });
    const overRevdial = async () => createWebSocketStream(await controlPlane.dialRunner(runnerId));
    await eventually("the reverse dial", () => controlPlane.revdialRunnerIds().includes(runnerId), 30_000);
    const n = options.quick ? 5 : 20;

    const bannerDirect: number[] = [];
    const bannerRevdial: number[] = [];
    for (let i = 0; i < n; i++) {
        bannerDirect.push(await timeToFirstBytes(direct(CONTAINER_PORTS.vnc)));
        bannerRevdial.push(await timeToFirstBytes(overRevdial));
    }
    recordLatencyPair(report, "VNC: connect -> RFB banner", "over the reverse dial", bannerDirect, bannerRevdial);

    const grabs = options.quick ? 1 : 3;
    for (const [name, open] of [
        ["direct to the published port", direct(CONTAINER_PORTS.vnc)],
        ["over the reverse dial", overRevdial],
    ] as const) {
        const proxy = await countingProxy(open);
        const rates: number[] = [];
        try {
            for (let i = 0; i < grabs; i++) {
                const before = proxy.bytes();
                const t0 = performance.now();
                await vncSnapshot("127.0.0.1", proxy.port, env.VNC_PASSWORD, ["-encodings", "raw", "-allowblank"]);
                const seconds = (performance.now() - t0) / 1000;
                rates.push((proxy.bytes() - before) / seconds);
            }
        } finally {
            proxy.close();
        }
        report.record({
            section: "tunnel",
            what: `VNC: login and raw framebuffer grab, ${name}`,
            value: `${(median(rates) / 1e6).toFixed(1)} MB/s`,
            runs: `median of ${grabs} grabs (vncsnapshot)`,
        });
    }

    const connectionRequest = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x01, 0, 0, 0]);
    const rdpDirect: number[] = [];
    const rdpOverSocket: number[] = [];
    for (let i = 0; i < n; i++) {
        let t0 = performance.now();
        await rdpConnectionPduType("127.0.0.1", published(CONTAINER_PORTS.rdp));
        rdpDirect.push(performance.now() - t0);
        // The proxy's per-runner form; each round trip is a fresh xrdp connection.
        const answered = new Promise<void>((resolve) => {
            const off = controlPlane.onRdpResponse(runnerId, () => (off(), resolve()), "runner");
        });
        t0 = performance.now();
        await controlPlane.sendRdpChunk(runnerId, connectionRequest, runnerId, "runner");
        await answered;
        rdpOverSocket.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
    }
    recordLatencyPair(report, "RDP: Connection Request -> Confirm", "over the runner's WebSocket", rdpDirect, rdpOverSocket);

    // The seed-era proxy sends one 4 KiB chunk and waits for its answer before the next: the runner's
    // answer time bounds RDP throughput from the client. Chunks for a session that is not the runner's
    // are answered and dropped, so this measures the path, not xrdp.
    const chunks = options.quick ? 100 : 500;
    const chunk = Buffer.alloc(4096, 7);
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) await controlPlane.sendRdpChunk("bench-not-this-runner", chunk, runnerId);
    const seconds = (performance.now() - t0) / 1000;
    report.record({
        section: "tunnel",
        what: "RDP over the WebSocket: 4 KiB chunks answered per second (client -> runner bound)",
        value: `${(chunks / seconds).toFixed(0)} chunks/s = ${((chunks * 4096) / seconds / 1e6).toFixed(1)} MB/s`,
        runs: `${chunks} chunks`,
    });
}
