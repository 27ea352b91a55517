// Swarm figures for `npm run bench -- --swarm`, on the test swarm of .ci/swarm.sh (three Docker
// engines in containers, a 1 s dispatcher heartbeat): from a worker node's loss to every runner
// reconnected, and from `replicas` N -> N+1 to the new runner connected. Figures only.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { docker } from "../../test/support/docker";
import { eventually } from "../../test/support/eventually";
import { FakeControlPlane } from "../../test/support/fakeControlPlane";
import { Declare, SwarmStack, nodeNames, readCluster, runningTasks, startNode, testSwarmConfig } from "../../test/support/swarm";
import { BASE_IMAGE } from "../engine";
import type { BenchOptions } from "../options";
import { Report, fmtMs, median } from "../report";

const STACK = "bench-swarm";
const SERVICE = `helix-zed-agent-${STACK}`;
const ID = (slot: number) => `external-zed-${STACK}-${slot}`;

/** The program in a child process (the bench runs outside Jest). */
const declareInChild: Declare = async (config, stack) =>
    JSON.parse(
        execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "../declare.ts"), "--stack", stack], {
            cwd: path.resolve(__dirname, "../.."),
            env: { ...process.env, BENCH_CONFIG: JSON.stringify(config) },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        }),
    );

/** Runs the swarm measurements, three rounds of each (one with --quick). */
export async function swarmFigures(report: Report, options: BenchOptions): Promise<void> {
    const rounds = options.quick ? 1 : 3;
    const cluster = readCluster();
    const token = crypto.randomBytes(16).toString("hex");
    const controlPlane = new FakeControlPlane({ token });
    await controlPlane.listen(cluster.hostAddress);
    const stack = new SwarmStack(cluster, STACK, declareInChild);
    const config = testSwarmConfig(cluster, controlPlane.apiHost(), token, BASE_IMAGE);
    const connected = () => controlPlane.connectedRunnerIds();
    const scale: number[] = [];
    const nodeLoss: number[] = [];
    try {
        await cluster.manager
            .getService(SERVICE)
            .remove()
            .catch(() => undefined);
        await stack.apply(config);
        await eventually("3 runners connected", () => connected().length === 3, 120_000, 100);

        for (let round = 0; round < rounds; round++) {
            await stack.apply({ ...config, replicas: "4" });
            const handshake = await eventually(
                "runner 4 connected",
                () => controlPlane.handshakes.find((h) => h.runnerId === ID(4) && h.at >= stack.lastUpdateAt),
                120_000,
                20,
            );
            scale.push(handshake.at - stack.lastUpdateAt);
            await stack.apply(config);
            await eventually("back to 3 runners", () => connected().length === 3, 120_000, 100);
        }

        const workers = cluster.nodes.slice(1);
        for (let round = 0; round < rounds; round++) {
            const names = await nodeNames(cluster.manager);
            const tasks = await runningTasks(cluster.manager, SERVICE);
            // The worker with the most runners, so each round loses at least one.
            const load = (node: string) => [...tasks.values()].filter((t: any) => names.get(t.NodeID) === node).length;
            const worker = [...workers].sort((a, b) => load(b) - load(a))[0];
            const lost = [...tasks].filter(([, t]: [number, any]) => names.get(t.NodeID) === worker).map(([slot]) => slot);
            const killedAt = Date.now();
            await docker.getContainer(worker).kill();
            await eventually(
                "every runner reconnected",
                () =>
                    lost.every((slot) => controlPlane.handshakes.some((h) => h.runnerId === ID(slot) && h.at > killedAt)) &&
                    connected().length === 3,
                180_000,
                20,
            );
            const last = Math.max(
                ...lost.map((slot) => controlPlane.handshakes.find((h) => h.runnerId === ID(slot) && h.at > killedAt)!.at),
            );
            nodeLoss.push(last - killedAt);
            startNode(worker);
        }
    } finally {
        await stack.remove();
        await controlPlane.close();
    }
    for (const [what, samples] of [
        ["swarm: replicas 3 -> 4 to the new runner connected", scale],
        ["swarm: worker node lost to every runner reconnected elsewhere", nodeLoss],
    ] as const) {
        const spread = samples.length > 1 ? ` (${fmtMs(Math.min(...samples))} to ${fmtMs(Math.max(...samples))})` : "";
        report.record({ section: "swarm", what, value: `${fmtMs(median(samples))}${spread}`, runs: `${samples.length} runs, median` });
    }
}
