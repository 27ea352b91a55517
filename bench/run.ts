// `npm run bench [-- --with-upstream] [--quick] [--swarm]`: measures the program's own cost under Pulumi's
// mocks beside a bare baseline, the runner plan, and with a Docker engine the image's size,
// start-up, idle cost and crash recovery; with --swarm, on the test swarm (`bash .ci/swarm.sh up`),
// node loss and scaling. Prints a table and writes docs/BENCHMARKS.md.
// Figures only: nothing here asserts a time.
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { createWebSocketStream } from "ws";
import type Docker from "dockerode";
import { parseConfig } from "../components/config";
import { planRunners } from "../components/plan";
import { CONTAINER_PORTS } from "../components/imageContract";
import { buildImage, docker, removeLabelled } from "../test/support/docker";
import { rdpConnectionPduType, vncSnapshot } from "../test/support/protocols";
import { createDeclaredContainers, dockerBridgeAddress, imageBuildFiles } from "../test/support/stack";
import { eventually } from "../test/support/eventually";
import { FakeControlPlane } from "../test/support/fakeControlPlane";
import { LABELS } from "../components/plan";
import { execIn } from "../cli/engine";
import { cpuPercent, memoryBytes } from "../cli/status/dockerStats";
import { benchConfig } from "./mocks";
import { swarmFigures } from "./swarm";

const ROOT = path.resolve(__dirname, "..");
const args = new Set(process.argv.slice(2));
const QUICK = args.has("--quick");
const WITH_UPSTREAM = args.has("--with-upstream");
const SWARM = args.has("--swarm");

interface Figure {
    readonly section: string;
    readonly what: string;
    readonly value: string;
    readonly runs: string;
    readonly target?: string;
    readonly met?: boolean;
}
const figures: Figure[] = [];
function record(f: Figure): void {
    figures.push(f);
    const verdict = f.met === undefined ? "" : f.met ? "  [target met]" : "  [target NOT met]";
    console.log(`${f.section} | ${f.what}: ${f.value} (${f.runs})${f.target ? ` target ${f.target}` : ""}${verdict}`);
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

// ---- 1. The program's own cost under mocks --------------------------------------------
function timedRun(which: "program" | "baseline", runners: number, hosts: number): number {
    const out = execFileSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(__dirname, "programRun.ts"), which, String(runners), String(hosts)],
        {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        },
    );
    return JSON.parse(out.trim().split("\n").pop()!).ms;
}

function programCost(): void {
    const runs = QUICK ? 3 : 5;
    const sizes: [number, number][] = QUICK
        ? [
              [1, 1],
              [10, 1],
              [50, 1],
              [100, 1],
          ]
        : [
              [1, 1],
              [10, 1],
              [50, 1],
              [100, 1],
              [500, 1],
              [500, 10],
          ];
    const program = new Map<string, number>();
    for (const [runners, hosts] of sizes) {
        const p: number[] = [];
        const b: number[] = [];
        // Alternate the two so drift on a shared machine hits both alike.
        for (let i = 0; i < runs; i++) {
            p.push(timedRun("program", runners, hosts));
            b.push(timedRun("baseline", runners, hosts));
        }
        const label = hosts > 1 ? `${hosts} hosts x ${runners / hosts} runners` : `${runners} runner${runners === 1 ? "" : "s"}`;
        const ratio = median(p) / median(b);
        program.set(label, median(p));
        const targeted = hosts === 1 && (runners === 50 || runners === 500);
        record({
            section: "program",
            what: `index.ts, ${label}: program / baseline`,
            value: `${fmtMs(median(p))} / ${fmtMs(median(b))} = ${ratio.toFixed(3)}`,
            runs: `median of ${runs} runs each`,
            ...(targeted ? { target: "< 1.15", met: ratio < 1.15 } : {}),
        });
    }
    const t50 = program.get("50 runners");
    const t500 = program.get("500 runners");
    if (t50 && t500) {
        const growth = t500 / t50;
        record({
            section: "program",
            what: "growth t(500) / t(50)",
            value: growth.toFixed(2),
            runs: "from the medians above",
            target: "< 11",
            met: growth < 11,
        });
    }
    const { settings } = parseConfig(
        Object.fromEntries(Object.entries(benchConfig(500, 1)).map(([k, v]) => [k.replace("zed-runner:", ""), v])),
        { stackName: "bench", machineHostName: "bench" },
    );
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        planRunners(settings, { project: "zed-runner", stackName: "bench" });
        times.push(performance.now() - t0);
    }
    record({
        section: "program",
        what: "runner plan for 500 runners",
        value: fmtMs(median(times)),
        runs: "median of 100 runs",
        target: "< 20 ms",
        met: median(times) < 20,
    });
}

// ---- 2. With a Docker engine ---------------------------------------------------------------
const STACK = "bench";
/** The bench's runner token: random per run, with the characters that need escaping. */
const BENCH_TOKEN = `bench"\\%+/=${crypto.randomBytes(8).toString("hex")}`;
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";

async function engineAnswers(): Promise<boolean> {
    try {
        await docker.ping();
        return true;
    } catch {
        return false;
    }
}

/** The container inputs index.ts declares for `replicas` runners (in-process, under the test mocks). */
async function declaredContainers(replicas: number, controlPlanePort: number): Promise<any[]> {
    const out = execFileSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(__dirname, "declare.ts"), String(replicas), String(controlPlanePort)],
        {
            cwd: ROOT,
            env: { ...process.env, BENCH_TOKEN },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        },
    );
    return JSON.parse(out);
}

async function startRunners(declared: any[], imageId: string): Promise<Docker.Container[]> {
    const network = declared[0].networksAdvanced[0].name as string;
    if ((await docker.listNetworks({ filters: JSON.stringify({ name: [network] }) })).length === 0) {
        await docker.createNetwork({ Name: network, Driver: "bridge", Labels: { [LABELS.stack]: STACK } });
    }
    return createDeclaredContainers(declared, imageId);
}

const healthPort = (inputs: any) => inputs.ports.find((p: any) => p.internal === CONTAINER_PORTS.health).external as number;
const health200 = async (port: number) =>
    (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })).status === 200 ? true : undefined;
const dockerHealthy = async (c: Docker.Container) => ((await c.inspect()).State.Health?.Status === "healthy" ? true : undefined);

async function engineFigures(): Promise<void> {
    const controlPlane = new FakeControlPlane({ token: BENCH_TOKEN });
    const port = await controlPlane.listen(dockerBridgeAddress());
    try {
        await removeLabelled(LABELS.stack, STACK);
        const build = { ZED_BUILD_DIR: "test/fixtures/zed-build", BASE_IMAGE };
        const imageId = await buildImage(ROOT, imageBuildFiles(ROOT, build.ZED_BUILD_DIR), {
            tag: "helix-zed-agent:bench",
            dockerfile: "Dockerfile.zed-agent",
            buildargs: build,
        });
        const image = await docker.getImage(imageId).inspect();
        const base = await docker.getImage(BASE_IMAGE).inspect();
        const over = image.Size - base.Size;
        record({
            section: "image",
            what: "runtime image over its base",
            value: `${(over / 1e6).toFixed(0)} MB (${(image.Size / 1e6).toFixed(0)} MB total, base ${(base.Size / 1e6).toFixed(0)} MB)`,
            runs: "1 build",
            target: "< 600 MB",
            met: over < 600e6,
        });
        record({
            section: "image",
            what: "layers",
            value: `${image.RootFS.Layers?.length ?? "?"} (base ${base.RootFS.Layers?.length ?? "?"})`,
            runs: "1 build",
        });
        if (WITH_UPSTREAM) {
            const upstream = await buildImage(path.join(__dirname), ["upstream.Dockerfile"], {
                tag: "zed-runner-bench/upstream-packages:latest",
                dockerfile: "upstream.Dockerfile",
                buildargs: { BASE_IMAGE },
            });
            const up = (await docker.getImage(upstream).inspect()).Size - base.Size;
            record({
                section: "image",
                what: "upstream package set over the same base",
                value: `${(up / 1e6).toFixed(0)} MB; ours is ${((over / up) * 100).toFixed(1)}% of it`,
                runs: "1 build",
                target: "< 25%",
                met: over / up < 0.25,
            });
        }

        const runs = QUICK ? 1 : 3;
        for (const count of [1, 3]) {
            const toHealth: number[] = [];
            const toHealthy: number[] = [];
            for (let r = 0; r < runs; r++) {
                const declared = await declaredContainers(count, port);
                const containers = await startRunners(declared, imageId);
                const t0 = performance.now();
                await Promise.all(containers.map((c) => c.start()));
                const h = await Promise.all(
                    declared.map((d) =>
                        eventually("a runner's /health 200", () => health200(healthPort(d)), 60_000).then(() => performance.now() - t0),
                    ),
                );
                const d = await Promise.all(
                    containers.map((c) =>
                        eventually("Docker's healthy", () => dockerHealthy(c), 90_000, 200).then(() => performance.now() - t0),
                    ),
                );
                toHealth.push(Math.max(...h));
                toHealthy.push(Math.max(...d));
                if (count === 3 && r === runs - 1) await idleAndCrash(containers, declared, controlPlane);
                await removeLabelled(LABELS.stack, STACK);
            }
            const target = count === 1 ? 5000 : 7000;
            record({
                section: "start",
                what: `start to /health 200, ${count} runner${count === 1 ? "" : "s"} together (slowest)`,
                value: fmtMs(median(toHealth)),
                runs: `median of ${runs} runs`,
                target: `< ${target / 1000} s`,
                met: median(toHealth) < target,
            });
            record({
                section: "start",
                what: `start to Docker's healthy, ${count} runner${count === 1 ? "" : "s"} together (slowest)`,
                value: fmtMs(median(toHealthy)),
                runs: `median of ${runs} runs`,
            });
        }
    } finally {
        await removeLabelled(LABELS.stack, STACK).catch(() => undefined);
        await controlPlane.close();
    }
}

async function idleAndCrash(containers: Docker.Container[], declared: any[], controlPlane: FakeControlPlane): Promise<void> {
    const idleSeconds = QUICK ? 10 : 30;
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const mem: number[] = [];
    const cpu: number[] = [];
    for (const c of containers) {
        const s: any = await c.stats({ stream: false });
        // As `npm run status` reads them, so the bench and the command report the same figures.
        mem.push(memoryBytes(s) ?? 0);
        cpu.push(cpuPercent(s) ?? 0);
    }
    record({
        section: "idle",
        what: `memory per runner after ${idleSeconds} s idle (no Zed session)`,
        value: `${(median(mem) / 1024 / 1024).toFixed(1)} MiB (min ${(Math.min(...mem) / 1024 / 1024).toFixed(1)}, max ${(Math.max(...mem) / 1024 / 1024).toFixed(1)})`,
        runs: `median of ${mem.length} runners`,
        target: "< 70 MiB",
        met: median(mem) < 70 * 1024 * 1024,
    });
    record({
        section: "idle",
        what: "CPU per idle runner",
        value: `${median(cpu).toFixed(2)}% of one core`,
        runs: `median of ${cpu.length} runners, Docker's 1 s sample`,
    });

    // A crashed runner process: the container exits, Docker restarts it, the runner dials again.
    const victim = containers[0];
    const runnerId = declared[0].envs.value.find((e: string) => e.startsWith("RUNNER_ID=")).slice("RUNNER_ID=".length);
    const t0 = performance.now();
    const killedAt = Date.now();
    await execIn(victim, ["pkill", "-KILL", "-f", "zed-runner run"]);
    await eventually(
        "the crashed runner to reconnect",
        () => controlPlane.handshakes.some((h) => h.runnerId === runnerId && h.at > killedAt),
        60_000,
        20,
    );
    const reconnected = performance.now() - t0;
    await eventually("the restarted runner's /health 200", () => health200(healthPort(declared[0])), 60_000);
    const healthy = performance.now() - t0;
    await eventually("the restarted runner healthy", () => dockerHealthy(victim), 90_000, 200);
    const dockerHealthyAgain = performance.now() - t0;
    record({ section: "crash", what: "runner crash to reconnected", value: fmtMs(reconnected), runs: "1 crash" });
    record({
        section: "crash",
        what: "runner crash to reconnected and /health 200",
        value: fmtMs(Math.max(reconnected, healthy)),
        runs: "1 crash",
        target: "< 5 s",
        met: Math.max(reconnected, healthy) < 5000,
    });
    record({ section: "crash", what: "runner crash to Docker's healthy again", value: fmtMs(dockerHealthyAgain), runs: "1 crash" });
    await protocolFigures(declared, controlPlane);
}

/** Launch -> reply with the stub Zed, and control plane back -> every runner reconnected. */
async function protocolFigures(declared: any[], controlPlane: FakeControlPlane): Promise<void> {
    const runnerIds: string[] = declared.map((d) =>
        d.envs.value.find((e: string) => e.startsWith("RUNNER_ID=")).slice("RUNNER_ID=".length),
    );
    await eventually("every runner connected", () => controlPlane.connectedRunnerIds().length === runnerIds.length, 60_000);
    const launches: number[] = [];
    for (let i = 0; i < (QUICK ? 5 : 20); i++) {
        const launch = await controlPlane.launch({ session_id: `bench_${i}` }, runnerIds[1]);
        if (launch.reply.status !== "running") throw new Error(`launch ${i} answered ${launch.reply.status}: ${launch.reply.error}`);
        launches.push(launch.ms);
        await controlPlane.stop(`bench_${i}`, runnerIds[1]);
    }
    record({
        section: "protocol",
        what: "launch message -> running reply (stub Zed)",
        value: fmtMs(median(launches)),
        runs: `median of ${launches.length} launches (max ${fmtMs(Math.max(...launches))})`,
        target: "< 200 ms",
        met: median(launches) < 200,
    });

    const back: number[] = [];
    for (let r = 0; r < (QUICK ? 1 : 3); r++) {
        await controlPlane.goAway();
        await new Promise((res) => setTimeout(res, 5000));
        const t0 = performance.now();
        await controlPlane.listen();
        await eventually("every runner back", () => controlPlane.connectedRunnerIds().length === runnerIds.length, 30_000, 10);
        back.push(performance.now() - t0);
    }
    record({
        section: "protocol",
        what: `control plane back after 5 s -> all ${runnerIds.length} runners reconnected`,
        value: fmtMs(median(back)),
        runs: `median of ${back.length} outages (max ${fmtMs(Math.max(...back))})`,
        target: "< 2 s",
        met: median(back) < 2000,
    });
    await tunnelFigures(declared[2], runnerIds[2], controlPlane);
}

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
function recordLatencyPair(what: string, tunnel: string, direct: number[], tunnelled: number[]): void {
    const runs = `median of ${direct.length}`;
    record({ section: "tunnel", what: `${what}, direct to the published port`, value: fmtMs(median(direct)), runs });
    record({
        section: "tunnel",
        what: `${what}, ${tunnel}`,
        value: `${fmtMs(median(tunnelled))} (+${fmtMs(median(tunnelled) - median(direct))})`,
        runs,
    });
}

/** Remote desktop through the control plane against a direct connection to the published port, in one run. */
async function tunnelFigures(inputs: any, runnerId: string, controlPlane: FakeControlPlane): Promise<void> {
    const env = Object.fromEntries((inputs.envs.value as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const published = (internal: number) => inputs.ports.find((p: any) => p.internal === internal).external as number;
    const direct = (internal: number) => () =>
        new Promise<Duplex>((resolve, reject) => {
            const s = net.connect({ host: "127.0.0.1", port: published(internal) }, () => resolve(s));
            s.once("error", reject);
        });
    const overRevdial = async () => createWebSocketStream(await controlPlane.dialRunner(runnerId));
    await eventually("the reverse dial", () => controlPlane.revdialRunnerIds().includes(runnerId), 30_000);
    const n = QUICK ? 5 : 20;

    const bannerDirect: number[] = [];
    const bannerRevdial: number[] = [];
    for (let i = 0; i < n; i++) {
        bannerDirect.push(await timeToFirstBytes(direct(CONTAINER_PORTS.vnc)));
        bannerRevdial.push(await timeToFirstBytes(overRevdial));
    }
    recordLatencyPair("VNC: connect -> RFB banner", "over the reverse dial", bannerDirect, bannerRevdial);

    const grabs = QUICK ? 1 : 3;
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
        record({
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
    recordLatencyPair("RDP: Connection Request -> Confirm", "over the runner's WebSocket", rdpDirect, rdpOverSocket);

    // The seed-era proxy sends one 4 KiB chunk and waits for its answer before the next: the runner's
    // answer time bounds RDP throughput from the client. Chunks for a session that is not the runner's
    // are answered and dropped, so this measures the path, not xrdp.
    const chunks = QUICK ? 100 : 500;
    const chunk = Buffer.alloc(4096, 7);
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) await controlPlane.sendRdpChunk("bench-not-this-runner", chunk, runnerId);
    const seconds = (performance.now() - t0) / 1000;
    record({
        section: "tunnel",
        what: "RDP over the WebSocket: 4 KiB chunks answered per second (client -> runner bound)",
        value: `${(chunks / seconds).toFixed(0)} chunks/s = ${((chunks * 4096) / seconds / 1e6).toFixed(1)} MB/s`,
        runs: `${chunks} chunks`,
    });
}

function e2eTime(): void {
    const t0 = performance.now();
    const result = spawnSync("npm", ["run", "test:e2e", "--", "--ci"], { cwd: ROOT, encoding: "utf8" });
    const ms = performance.now() - t0;
    record({
        section: "e2e",
        what: `npm run test:e2e end to end (${result.status === 0 ? "passed" : "FAILED"})`,
        value: fmtMs(ms),
        runs: "1 run, images cached",
    });
}

// ---- Report ---------------------------------------------------------------------------------
function machine(): string {
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    let dockerVersion = "no engine";
    try {
        dockerVersion = execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).trim();
    } catch {
        // reported as no engine
    }
    return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, Docker ${dockerVersion}`;
}

function writeReport(skipped: string[]): void {
    const rows = figures.map(
        (f) =>
            `| ${f.section} | ${f.what} | ${f.value} | ${f.runs} | ${f.target ?? ""} | ${f.met === undefined ? "" : f.met ? "met" : "**not met**"} |`,
    );
    const text = [
        "# Benchmarks",
        "",
        `Written by \`npm run bench${process.argv.slice(2).length ? " -- " + process.argv.slice(2).join(" ") : ""}\` on ${new Date().toISOString()}.`,
        "",
        `Machine: ${machine()}.`,
        "",
        "Program figures run each configuration in a fresh Node process under Pulumi's mocks, alternating the program",
        "(`index.ts`: config parsing, plan, ZedRunner component) and a bare baseline (`bench/baseline.ts`: the same",
        "resources registered directly) so drift on this shared machine hits both alike; ratios matter, absolute times drift.",
        "Engine figures use the image built from `Dockerfile.zed-agent` with the stub Zed, the fake control plane, and",
        "containers created with exactly the inputs `index.ts` declares. Docker reports `healthy` only at its first",
        "health check, one interval (10 s) after start: engines before Docker 25 have no start interval, so the",
        "`/health` 200 figures are the ones that say when a runner is ready.",
        "Swarm figures run on the test swarm of `.ci/swarm.sh`: three Docker 20.10 engines in containers on this one machine,",
        "with a 1 s dispatcher heartbeat (Swarm's default is 5 s, so a real cluster notices a lost node later), the image",
        "pulled from the harness's registry, and the service created and updated from exactly what `index.ts` declares.",
        "",
        "| area | figure | value | runs | target | |",
        "|---|---|---|---|---|---|",
        ...rows,
        ...(skipped.length ? ["", ...skipped.map((s) => `- ${s}`)] : []),
        "",
    ].join("\n");
    fs.mkdirSync(path.join(ROOT, "docs"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "docs/BENCHMARKS.md"), text);
    console.log(`\nWrote docs/BENCHMARKS.md (${figures.length} figures).`);
}

async function main(): Promise<void> {
    console.log(`Machine: ${machine()}\n`);
    const skipped: string[] = [];
    programCost();
    if (await engineAnswers()) {
        await engineFigures();
        if (!QUICK) e2eTime();
        if (SWARM) {
            const rounds = QUICK ? 1 : 3;
            for (const f of await swarmFigures(rounds, BASE_IMAGE)) {
                const spread = f.samples.length > 1 ? ` (${fmtMs(Math.min(...f.samples))} to ${fmtMs(Math.max(...f.samples))})` : "";
                record({
                    section: "swarm",
                    what: f.what,
                    value: `${fmtMs(median(f.samples))}${spread}`,
                    runs: `${f.samples.length} runs, median`,
                });
            }
        } else {
            skipped.push("Swarm figures skipped: run `bash .ci/swarm.sh up`, then `npm run bench -- --swarm`.");
        }
    } else {
        const line = "Docker engine figures skipped: no engine answers on /var/run/docker.sock (run `bash .ci/engine.sh`).";
        console.log(line);
        skipped.push(line);
    }
    writeReport(skipped);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
