// End to end on a real multi-node Docker Swarm: the service index.ts declares for
// the swarm target, on the three-engine test swarm .ci/swarm.sh makes (a test
// harness: each node is a container running Debian's docker.io), with the image
// built, pushed to the harness's registry and pulled by the nodes with the
// service's login. Test doubles: the fake control plane and the stub Zed.
import * as crypto from "node:crypto";
import { collectSwarmStatus } from "../../../cli/placements/swarm";
import { parseConfig } from "../../../components/stackPlan";
import { SECRET_FILES } from "../../../contract";
import { swarmOf } from "../../fixtures/placements";
import { docker, execIn, requireEngine } from "../../support/docker";
import { eventually } from "../../support/eventually";
import { FakeControlPlane } from "../../support/fakeControlPlane";
import { unwrapSecret } from "../../support/mocks";
import { leakedRuns } from "../../support/secrets";
import { Cluster, SwarmStack, nodeNames, readCluster, runningTasks, startNode, testSwarmConfig } from "../../support/swarm";

const STACK = "swarm-e2e";
const SERVICE = `helix-zed-agent-${STACK}`;
const ID = (slot: number) => `external-zed-${STACK}-${slot}`;
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
const token = () => `swarm"\\%+/=${crypto.randomBytes(12).toString("hex")}`;
let TOKEN = token();

let cluster: Cluster;
const controlPlane = new FakeControlPlane({ token: TOKEN });
let stack: SwarmStack;
let config: Record<string, string>;

/** Runner IDs connected to the control plane now. */
const connected = () => controlPlane.connectedRunnerIds();

/** The docker CLI of a node, for what only the node's own engine knows (its containers). */
async function onNode(node: string, cmd: string[]): Promise<string> {
    const { exitCode, output } = await execIn(docker.getContainer(node), ["docker", ...cmd]);
    if (exitCode !== 0) throw new Error(`docker ${cmd.join(" ")} on ${node} failed: ${output}`);
    return output;
}

/** Where each slot's task runs: slot -> { node hostname, task, container ID }. */
async function placement(): Promise<Map<number, { node: string; task: any; containerId: string }>> {
    const names = await nodeNames(cluster.manager);
    const tasks = await runningTasks(cluster.manager, SERVICE);
    return new Map(
        [...tasks].map(([slot, t]: [number, any]) => [
            slot,
            { node: names.get(t.NodeID) ?? t.NodeID, task: t, containerId: t.Status.ContainerStatus?.ContainerID },
        ]),
    );
}

/** Each slot's first task's node: where the scheduler put it, before any re-placement. */
async function firstTaskNodes(): Promise<Map<number, string>> {
    const names = await nodeNames(cluster.manager);
    const tasks: any[] = await cluster.manager.listTasks({ filters: JSON.stringify({ service: [SERVICE] }) });
    const first = new Map<number, any>();
    for (const t of tasks) if (!first.has(t.Slot) || t.CreatedAt < first.get(t.Slot).CreatedAt) first.set(t.Slot, t);
    return new Map([...first].map(([slot, t]) => [slot, names.get(t.NodeID) ?? t.NodeID]));
}

async function serviceLogs(): Promise<string> {
    const { demux } = await import("../../../cli/engine");
    const buffer = (await stack.service!.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return demux(buffer);
}

beforeAll(async () => {
    await requireEngine();
    cluster = readCluster();
    await controlPlane.listen(cluster.hostAddress);
    config = testSwarmConfig(cluster, controlPlane.apiHost(), TOKEN, BASE_IMAGE);
    stack = new SwarmStack(cluster, STACK);
    // A previous run's leftovers (a failed run keeps its service for a look).
    await cluster.manager
        .getService(SERVICE)
        .remove()
        .catch(() => undefined);
    await stack.apply(config);
});

afterAll(async () => {
    await stack?.remove();
    await controlPlane.close();
});

describe("runners as a swarm service", () => {
    it("spreads N runners over the nodes, each connected under its slot's ID", async () => {
        await eventually("3 runners connected", () => connected().length === 3 && connected(), 60_000, 200);
        expect(connected()).toEqual([ID(1), ID(2), ID(3)]);
        const where = await placement();
        expect([...where.keys()].sort()).toEqual([1, 2, 3]);
        // The spread preference decides where each slot's first task goes. A task that then fails on its
        // node (an image pull or start that a loaded machine times out) is placed again wherever Swarm likes,
        // so the spread is checked on each slot's first task, and a re-placement is only reported.
        const first = await firstTaskNodes();
        expect(new Set(first.values())).toEqual(new Set(cluster.nodes));
        for (const [slot, p] of where)
            if (p.node !== first.get(slot)) console.log(`slot ${slot} was placed again: ${first.get(slot)} -> ${p.node}`);
        // The handshake carries the slot's ID, as the template filled it in on each node.
        expect(new Set(controlPlane.handshakes.map((h) => h.runnerId))).toEqual(new Set([ID(1), ID(2), ID(3)]));
    });

    it("is the service the program declared, as the engine holds it", async () => {
        const spec: any = ((await stack.service!.inspect()) as any).Spec;
        const container = spec.TaskTemplate.ContainerSpec;
        expect(container.Image).toMatch(new RegExp(`^${cluster.registry}/helix-zed-agent@sha256:[0-9a-f]{64}$`));
        expect(container.Env).toEqual(
            expect.arrayContaining([`RUNNER_ID=external-zed-${STACK}-{{.Task.Slot}}`, `API_TOKEN_FILE=${SECRET_FILES.apiToken}`]),
        );
        expect(container.Secrets.map((s: any) => s.File)).toEqual([
            { Name: SECRET_FILES.apiToken, UID: "0", GID: "0", Mode: 0o400 },
            { Name: SECRET_FILES.passwordSeed, UID: "0", GID: "0", Mode: 0o400 },
        ]);
        expect(container.StopGracePeriod).toBe(30e9);
        expect(spec.UpdateConfig).toMatchObject({ Parallelism: 1, Order: "stop-first", FailureAction: "rollback" });
        expect(spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    });

    it("keeps the token and the passwords out of docker service inspect and docker inspect; Zed cannot read them", async () => {
        const credentials = unwrapSecret<any[]>(await credentialsOf());
        const secrets = [TOKEN, ...credentials.flatMap((c) => [c.rdpPassword, c.vncPassword])];
        const serviceJson = JSON.stringify(await stack.service!.inspect());
        for (const secret of secrets) expect(leakedRuns(serviceJson, secret)).toEqual([]);
        for (const { node, containerId } of (await placement()).values()) {
            const inspected = await onNode(node, ["inspect", containerId]);
            for (const secret of secrets) expect(leakedRuns(inspected, secret)).toEqual([]);
            const mode = await onNode(node, ["exec", containerId, "stat", "-c", "%a %U", SECRET_FILES.apiToken]);
            expect(mode.trim()).toBe("400 root");
            const asZed = await execIn(docker.getContainer(node), [
                "docker",
                "exec",
                "-u",
                "zed",
                containerId,
                "cat",
                SECRET_FILES.apiToken,
            ]);
            expect(asZed.exitCode).not.toBe(0);
        }
    });

    it("shows each runner's task, node and health in `npm run status`", async () => {
        const parsed = parseConfig(config, { stackName: STACK, machineHostName: "ci" });
        const rows = await eventually(
            "every runner healthy in status",
            async () => {
                const r = await collectSwarmStatus(swarmOf(parsed));
                return r.every((row) => row.status === "healthy") && r;
            },
            30_000,
            500,
        );
        expect(rows.map((r) => r.runnerId)).toEqual([ID(1), ID(2), ID(3)]);
        const where = await placement();
        expect(rows.map((r) => r.host)).toEqual([1, 2, 3].map((slot) => where.get(slot)!.node));
    });

    it("scales N -> N+1 and N+1 -> N touching one task", async () => {
        const before = await placement();
        await stack.apply({ ...config, replicas: "4" });
        const up = await placement();
        expect([...up.keys()].sort()).toEqual([1, 2, 3, 4]);
        for (const slot of [1, 2, 3]) expect(up.get(slot)!.task.ID).toBe(before.get(slot)!.task.ID);
        await eventually("runner 4 connected", () => connected().includes(ID(4)), 60_000, 200);

        await stack.apply(config);
        const down = await placement();
        expect(down.size).toBe(3);
        const kept = [...down.values()].filter((p) => [...up.values()].some((u) => u.task.ID === p.task.ID));
        expect(kept).toHaveLength(3);
        const removed = [...up.keys()].find((slot) => !down.has(slot))!;
        await eventually(`runner ${ID(removed)} gone`, () => !connected().includes(ID(removed)) && connected().length === 3, 60_000, 200);
    });

    it("rolls a token rotation one runner at a time, each finishing its session first", async () => {
        const slots = [...(await placement()).keys()].sort();
        const ids = slots.map(ID);
        await eventually("every runner connected", () => ids.every((id) => connected().includes(id)), 60_000, 200);
        // A session on every runner that ends by itself after 15 s (the stub Zed's -lasts-<N>s).
        const sessions = await Promise.all(ids.map((id, i) => controlPlane.launch({ session_id: `rotate-${i}-lasts-15s` }, id)));
        expect(sessions.map((s) => s.reply.status)).toEqual(ids.map(() => "running"));
        const before = await placement();

        // The operator restarts the control plane with a new token, then rolls the runners onto it.
        const rotated = token();
        await controlPlane.restartWithToken(rotated);
        const started = Date.now();
        await stack.apply({ ...config, apiToken: rotated });
        TOKEN = rotated;
        config = { ...config, apiToken: rotated };

        const after = await placement();
        for (const slot of slots) expect(after.get(slot)!.task.ID).not.toBe(before.get(slot)!.task.ID);
        // One at a time: each replacement ran before the next one was made.
        const replacements = slots.map((slot) => after.get(slot)!.task).sort((a, b) => Date.parse(a.CreatedAt) - Date.parse(b.CreatedAt));
        for (let i = 1; i < replacements.length; i++) {
            expect(Date.parse(replacements[i].CreatedAt)).toBeGreaterThanOrEqual(Date.parse(replacements[i - 1].Status.Timestamp));
        }
        // Every session ran to its end: Zed exited by itself, not ended by the shutdown.
        const logs = await serviceLogs();
        sessions.forEach((_, i) => {
            expect(logs).toContain(`session rotate-${i}-lasts-15s: Zed exited with status 0; `);
            expect(logs).not.toContain(`session rotate-${i}-lasts-15s: ending (shutdown)`);
        });
        await eventually("every runner back with the new token", () => ids.every((id) => connected().includes(id)), 60_000, 200);
        const fresh = controlPlane.handshakes.filter((h) => h.at >= started);
        expect(new Set(fresh.filter((h) => h.accessToken === rotated).map((h) => h.runnerId))).toEqual(new Set(ids));
    });

    it("moves a lost worker's runners to the other nodes under the same IDs", async () => {
        const before = await placement();
        const worker = cluster.nodes[cluster.nodes.length - 1];
        const lost = [...before].filter(([, p]) => p.node === worker).map(([slot]) => slot);
        expect(lost.length).toBeGreaterThan(0);
        const killedAt = Date.now();
        await docker.getContainer(worker).kill();
        try {
            await eventually(
                `slots ${lost.join(", ")} rescheduled off ${worker}`,
                async () => {
                    const now = await placement();
                    return lost.every(
                        (slot) => now.get(slot) && now.get(slot)!.node !== worker && now.get(slot)!.task.Status.State === "running",
                    );
                },
                120_000,
                500,
            );
            await eventually(
                "the moved runners reconnected under their IDs",
                () => lost.every((slot) => controlPlane.handshakes.some((h) => h.runnerId === ID(slot) && h.at > killedAt)),
                60_000,
                200,
            );
            expect(connected()).toEqual([...before.keys()].sort().map(ID));
        } finally {
            startNode(worker);
        }
    });
});

/** The stack's credentials output, from the program run the stack last applied. */
async function credentialsOf(): Promise<unknown> {
    const { runProgram } = await import("../../support/program");
    const { promiseOf } = await import("../../support/mocks");
    const { program } = await runProgram(config, STACK);
    return promiseOf(program!.credentials);
}
