import type { RunnerSettings } from "../../../components/runner/settings";
import { parseConfig, parseSettings } from "../../../components/stackPlan";
import { PlanError, planFleet, planRunner, planRunners } from "../../../components/runner/plan";
import { PUBLISHED, TEST_TOKEN } from "../../fixtures/configs";
import { runnerConfig } from "../../fixtures/placements";

const context = { project: "zed-runner", stackName: "dev" };

/** Settings with every key checked, but not planned: the plan is what these tests check. */
function settingsWith(values: Record<string, string> = {}): RunnerSettings {
    return parseSettings({ ...PUBLISHED, hostName: "box", ...values }, { stackName: "dev", machineHostName: "box" });
}

function planErrorOf(values: Record<string, string>): string {
    try {
        planRunners(settingsWith(values), context);
    } catch (err) {
        expect(err).toBeInstanceOf(PlanError);
        return (err as Error).message;
    }
    throw new Error("expected the plan to be refused");
}

describe("planRunner", () => {
    it("publishes only the health port by default: desktops are reached through the control plane", () => {
        const settings = runnerConfig(
            parseConfig({ apiToken: TEST_TOKEN, hostName: "box" }, { stackName: "dev", machineHostName: "box" }),
        ).settings;
        const runner = planRunner(settings, 1, context);
        expect(runner.ports).toEqual([{ role: "health", internal: 3030, external: 3030, ip: "127.0.0.1", protocol: "tcp" }]);
        expect(runner.endpoints).toEqual({
            runnerId: "external-zed-box-1",
            rdp: undefined,
            vnc: undefined,
            health: "http://127.0.0.1:3030/health",
        });
        // Nothing to collide: RDP and VNC bases are not checked against each other when not published.
        expect(() => planRunners({ ...settings, replicas: 3, rdpPortBase: 5900, vncPortBase: 5900 }, context)).not.toThrow();
    });

    it("gives runner 2 of the default stack its ID, name, ports, env and labels", () => {
        const runner = planRunner(settingsWith({ concurrency: "2" }), 2, context);
        expect(runner).toEqual({
            index: 2,
            runnerId: "external-zed-box-2",
            containerName: "helix-zed-agent-dev-2",
            workspaceVolume: undefined,
            ports: [
                { role: "rdp", internal: 3389, external: 3390, ip: "127.0.0.1", protocol: "tcp" },
                { role: "vnc", internal: 5900, external: 5901, ip: "127.0.0.1", protocol: "tcp" },
                { role: "health", internal: 3030, external: 3031, ip: "127.0.0.1", protocol: "tcp" },
            ],
            env: {
                API_HOST: "http://host.docker.internal:80",
                RUNNER_ID: "external-zed-box-2",
                CONCURRENCY: "2",
                MAX_TASKS: "0",
                SESSION_TIMEOUT: "3600",
                STOP_GRACE_SECONDS: "30",
                REVDIAL: "auto",
                WORKSPACE_DIR: "/tmp/zed-workspaces",
                LOG_LEVEL: "info",
                DISPLAY: ":1",
                DISPLAY_WIDTH: "1920",
                DISPLAY_HEIGHT: "1080",
            },
            labels: {
                "zed-runner.project": "zed-runner",
                "zed-runner.stack": "dev",
                "zed-runner.runner-id": "external-zed-box-2",
                "zed-runner.index": "2",
            },
            endpoints: {
                runnerId: "external-zed-box-2",
                rdp: "127.0.0.1:3390",
                vnc: "127.0.0.1:5901",
                health: "http://127.0.0.1:3031/health",
            },
        });
    });

    it("publishes portsPerRunner consecutive RDP and VNC ports per runner", () => {
        const runner = planRunner(settingsWith({ portsPerRunner: "3", rdpPortBase: "13389", vncPortBase: "15900" }), 3, context);
        expect(runner.ports.filter((p) => p.role === "rdp").map((p) => [p.internal, p.external])).toEqual([
            [3389, 13395],
            [3390, 13396],
            [3391, 13397],
        ]);
        expect(runner.ports.filter((p) => p.role === "vnc").map((p) => [p.internal, p.external])).toEqual([
            [5900, 15906],
            [5901, 15907],
            [5902, 15908],
        ]);
        expect(runner.ports.filter((p) => p.role === "health").map((p) => p.external)).toEqual([3032]);
    });

    it("brackets IPv6 bind addresses in endpoints", () => {
        const runner = planRunner(settingsWith({ bindAddress: "::1" }), 1, context);
        expect(runner.endpoints.rdp).toBe("[::1]:3389");
        expect(runner.endpoints.health).toBe("http://[::1]:3030/health");
        expect(runner.ports.every((p) => p.ip === "::1")).toBe(true);
    });

    it("names the machine in endpoints when bound on every interface", () => {
        expect(planRunner(settingsWith({ bindAddress: "0.0.0.0" }), 1, context).endpoints.vnc).toBe("box:5900");
    });

    it("names a workspace volume only when persistWorkspaces is true", () => {
        expect(planRunner(settingsWith({ persistWorkspaces: "true" }), 4, context).workspaceVolume).toBe("helix-zed-agent-dev-4-workspace");
    });
});

describe("planRunners", () => {
    it("plans 500 runners with unique IDs, names and host ports", () => {
        const runners = planRunners(
            settingsWith({ replicas: "500", rdpPortBase: "20000", vncPortBase: "30000", healthPortBase: "40000" }),
            context,
        );
        expect(runners).toHaveLength(500);
        expect(new Set(runners.map((r) => r.runnerId)).size).toBe(500);
        expect(new Set(runners.map((r) => r.containerName)).size).toBe(500);
        const hostPorts = runners.flatMap((r) => r.ports.map((p) => p.external));
        expect(hostPorts).toHaveLength(1500);
        expect(new Set(hostPorts).size).toBe(1500);
        expect(runners[499].endpoints.health).toBe("http://127.0.0.1:40499/health");
    });

    it("leaves runners 1..N identical when scaling from N to N+1", () => {
        const before = planRunners(settingsWith({ replicas: "4", portsPerRunner: "2" }), context);
        const after = planRunners(settingsWith({ replicas: "5", portsPerRunner: "2" }), context);
        expect(after.slice(0, 4)).toEqual(before);
        expect(after[4].runnerId).toBe("external-zed-box-5");
    });

    it("plans nothing for zero replicas", () => {
        expect(planRunners(settingsWith({ replicas: "0" }), context)).toEqual([]);
    });

    it("refuses RDP and VNC ranges that overlap, naming both keys", () => {
        const message = planErrorOf({ replicas: "3", rdpPortBase: "5000", vncPortBase: "5002" });
        expect(message).toContain("host port 5002 is both runner 1's VNC port and runner 3's RDP port");
        expect(message).toContain("move vncPortBase and rdpPortBase further apart");
    });

    it("refuses a health range that runs into the RDP range", () => {
        const message = planErrorOf({ replicas: "10", healthPortBase: "3380" });
        expect(message).toContain("runner 1's RDP port and runner 10's HEALTH port");
        expect(message).toContain("rdpPortBase and healthPortBase");
    });

    it("refuses ports above 65535, naming the keys that move them", () => {
        const message = planErrorOf({ replicas: "20", portsPerRunner: "10", vncPortBase: "65400" });
        expect(message).toContain("runner 14's VNC host port would be 65536, above 65535");
        expect(message).toContain("lower vncPortBase, replicas (20) or portsPerRunner (10)");
    });

    it("reports one line per kind of problem, not one per port", () => {
        const message = planErrorOf({ replicas: "50", rdpPortBase: "65530" });
        expect(message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(1);
    });

    it("publishes the ports the image serves RDP, VNC and health on", () => {
        const [runner] = planRunners(settingsWith(), context);
        expect(runner.ports.map((p) => [p.role, p.internal])).toEqual([
            ["rdp", 3389],
            ["vnc", 5900],
            ["health", 3030],
        ]);
    });
});

describe("planFleet", () => {
    const host = (name: string, values: Record<string, string> = {}) => ({ name, settings: settingsWith({ hostName: name, ...values }) });

    it("plans each host's runners with that host's settings", () => {
        const plans = planFleet([host("a", { replicas: "2" }), host("b", { replicas: "1", rdpPortBase: "13389" })], context);
        expect(plans.map((p) => [p.name, p.runners.map((r) => r.runnerId)])).toEqual([
            ["a", ["external-zed-a-1", "external-zed-a-2"]],
            ["b", ["external-zed-b-1"]],
        ]);
        expect(plans[1].runners[0].ports[0].external).toBe(13389);
    });

    it("lets hosts reuse container names and ports, which are per host", () => {
        expect(() => planFleet([host("a"), host("b")], context)).not.toThrow();
    });

    it("refuses runner IDs shared across hosts, naming both", () => {
        expect(() => planFleet([host("a", { runnerIdPrefix: "r" }), host("b", { runnerIdPrefix: "r" })], context)).toThrow(
            "runner ID r-1 is planned on both host a and host b: give the hosts different runnerIdPrefix values",
        );
    });

    it("prefixes a host's plan errors with its name", () => {
        expect(() => planFleet([host("a"), host("b", { replicas: "2", vncPortBase: "3390" })], context)).toThrow(/host b: host port 3390/);
    });
});
