// The operator commands on the swarm target: plan, status rows from tasks, logs' runner selection.
import type Docker from "dockerode";
import { collectSwarmStatus, selectSwarmRunners } from "../../cli/placements/swarm";
import { renderPlan } from "../../cli/plan";
import { loadStackFiles } from "../../cli/stackFiles";
import { SwarmTask, classifySwarm, needsAttention, swarmTaskStatus } from "../../cli/report/model";
import { renderStatus } from "../../cli/report/render";
import { RUNNER_COMMANDS } from "../../cli/workloads/runner";
import { swarmOf } from "../fixtures/placements";

const { parsed } = loadStackFiles("swarm");
const swarm = swarmOf(parsed);

describe("npm run plan on a swarm stack", () => {
    it("prints the service, its image, placement, secrets, updates and the runners by slot", () => {
        const lines = renderPlan("swarm", { env: {} }).split("\n");
        expect(lines.slice(0, 9)).toEqual([
            "Stack swarm: control plane https://helix.example.com, token not set (pulumi up refuses until you run `pulumi config set --secret apiToken <token>` here, or set ZED_RUNNER_API_TOKEN for npm run deploy)",
            "",
            "Swarm (manager ssh://ops@swarm-manager-1.example.com): service helix-zed-agent-swarm, 6 runners",
            "Image: build Dockerfile.zed-agent (baseImage debian:bookworm-slim, Zed from zed-build/zed), push to registry.example.com:5000/helix/helix-zed-agent:swarm; registry login none",
            "Placement: constraint node.labels.zed-runners==true, at most 2 per node, spread over node.labels.zone",
            "Secrets: the token and a desktop-password seed, as Swarm secrets mounted at /run/secrets/zed-runner-api-token and /run/secrets/zed-runner-password-seed",
            "Updates: one runner at a time, each given 30 s to finish its session; restart any",
            "Ports: none published; desktops through the control plane",
            "SLOT  RUNNER ID",
        ]);
        expect(lines).toContain("6     external-zed-swarm-6");
    });
});

describe("status on a swarm", () => {
    const nodes = new Map([
        ["n1", "swarm-node-1"],
        ["n2", "swarm-node-2"],
    ]);
    const task = (
        id: string,
        slot: number,
        node: string,
        state: string,
        desired = "running",
        createdAt = "2026-11-24T06:00:00Z",
        err?: string,
    ) =>
        ({
            ID: id,
            Slot: slot,
            NodeID: node,
            DesiredState: desired,
            CreatedAt: createdAt,
            Status: { State: state, Timestamp: "2026-11-24T06:00:10Z", Err: err },
        }) as SwarmTask;

    it("maps Swarm's task states to runner statuses", () => {
        expect(["running", "preparing", "starting", "failed", "rejected", "shutdown", "complete", undefined].map(swarmTaskStatus)).toEqual([
            "healthy",
            "starting",
            "starting",
            "unhealthy",
            "unhealthy",
            "stopped",
            "stopped",
            "missing",
        ]);
    });

    it("gives a row per planned slot with its node, state and replacements, then tasks beyond the plan", () => {
        const rows = classifySwarm(
            swarm.plan,
            [
                task("old1", 1, "n2", "failed", "shutdown", "2026-11-24T05:00:00Z", "task: non-zero exit (70)"),
                task("t1", 1, "n1", "running"),
                task("t2", 2, "n2", "starting"),
                task("t3", 3, "n1", "failed", "running", "2026-11-24T06:00:00Z", "container is unhealthy"),
                task("t7", 7, "n2", "running"),
            ],
            nodes,
        );
        expect(rows.map((r) => [r.runnerId, r.host, r.container, r.status, r.observed?.restarts])).toEqual([
            ["external-zed-swarm-1", "swarm-node-1", "helix-zed-agent-swarm.1", "healthy", 1],
            ["external-zed-swarm-2", "swarm-node-2", "helix-zed-agent-swarm.2", "starting", 0],
            ["external-zed-swarm-3", "swarm-node-1", "helix-zed-agent-swarm.3", "unhealthy", 0],
            ["external-zed-swarm-4", "-", "helix-zed-agent-swarm.4", "missing", undefined],
            ["external-zed-swarm-5", "-", "helix-zed-agent-swarm.5", "missing", undefined],
            ["external-zed-swarm-6", "-", "helix-zed-agent-swarm.6", "missing", undefined],
            ["external-zed-swarm-7", "swarm-node-2", "helix-zed-agent-swarm.7", "extra", 0],
        ]);
        expect(needsAttention(rows)).toBe(true);
        const table = renderStatus(rows, new Date("2026-11-24T06:01:10Z"), RUNNER_COMMANDS.status);
        expect(table).toMatch(/swarm-node-1 +external-zed-swarm-1 +helix-zed-agent-swarm\.1 +healthy +1 +1m00s/);
        expect(table).toContain("task: container is unhealthy");
    });

    it("lists the tasks the manager reports, and marks every slot unreachable when the manager does not answer", async () => {
        const manager = {
            ping: async () => "OK",
            listTasks: async (opts: { filters: string }) => {
                expect(JSON.parse(opts.filters)).toEqual({ service: ["helix-zed-agent-swarm"] });
                return [1, 2, 3, 4, 5, 6].map((slot) => task(`t${slot}`, slot, slot % 2 ? "n1" : "n2", "running"));
            },
            listNodes: async () => [...nodes].map(([ID, Hostname]) => ({ ID, Description: { Hostname } })),
        } as unknown as Docker;
        const rows = await collectSwarmStatus(swarm, () => manager);
        expect(rows.map((r) => r.status)).toEqual(Array(6).fill("healthy"));
        expect(needsAttention(rows)).toBe(false);

        const dead = { ping: async () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.5:22")) } as unknown as Docker;
        const down = await collectSwarmStatus(swarm, () => dead);
        expect(down.map((r) => r.status)).toEqual(Array(6).fill("unreachable"));
        expect(down[0].error).toBe(
            "Cannot reach the Docker engine of host swarm manager at ssh://ops@swarm-manager-1.example.com: connect ECONNREFUSED 10.0.0.5:22. Is Docker running there, and may this user use it?",
        );
    });
});

describe("logs on a swarm", () => {
    it("names runners by slot or runner ID, and says which exist otherwise", () => {
        expect(selectSwarmRunners(swarm.plan, "2", false)).toEqual([{ slot: 2, runnerId: "external-zed-swarm-2" }]);
        expect(selectSwarmRunners(swarm.plan, "external-zed-swarm-6", false)).toEqual([{ slot: 6, runnerId: "external-zed-swarm-6" }]);
        expect(selectSwarmRunners(swarm.plan, undefined, true)).toHaveLength(6);
        expect(() => selectSwarmRunners(swarm.plan, "9", false)).toThrow("No runner 9: the service plans slots 1 to 6.");
        expect(() => selectSwarmRunners(swarm.plan, "external-zed-box-1", false)).toThrow(
            "No runner with ID external-zed-box-1; the service's runners: external-zed-swarm-1, external-zed-swarm-2",
        );
        expect(() => selectSwarmRunners(swarm.plan, undefined, false)).toThrow("Name a runner by slot or runner ID");
    });
});
