// Status classification and rendering on recorded engine answers.
import type Docker from "dockerode";
import { dockerFor } from "../../cli/engine";
import { collectStatus } from "../../cli/placements/dockerHosts";
import { RUNNER_COMMANDS } from "../../cli/workloads/runner";
import { cpuPercent, memoryBytes } from "../../cli/report/dockerStats";
import { statusJson } from "../../cli/report/json";
import { classify, needsAttention, ObservedContainer } from "../../cli/report/model";
import { renderStatus } from "../../cli/report/render";
import { parseConfig } from "../../components/stackPlan";
import { MINIMAL, PUBLISHED } from "../fixtures/configs";
import { hostsOf } from "../fixtures/placements";

const [plan] = hostsOf(parseConfig({ ...PUBLISHED, hostName: "box", replicas: "3" }, { stackName: "dev", machineHostName: "box" }));

function observed(name: string, changes: Partial<ObservedContainer> = {}): ObservedContainer {
    return {
        name,
        runnerId: `external-zed-box-${name.split("-").pop()}`,
        state: "running",
        health: "healthy",
        restarts: 0,
        startedAt: "2026-11-24T06:00:00Z",
        cpuPercent: 0.4,
        memoryBytes: 52 * 1024 * 1024,
        controlPlane: { connected: true, since: "2026-11-24T06:00:05Z", lastError: null },
        sessions: { live: 1, limit: 2 },
        desktop: { revdial: "up", tunnels: 1 },
        ...changes,
    };
}

describe("classify", () => {
    it("matches planned runners to containers by name", () => {
        const rows = classify("box", RUNNER_COMMANDS.containers(plan), [
            observed("helix-zed-agent-dev-1"),
            observed("helix-zed-agent-dev-2"),
            observed("helix-zed-agent-dev-3"),
        ]);
        expect(rows.map((r) => [r.runnerId, r.status])).toEqual([
            ["external-zed-box-1", "healthy"],
            ["external-zed-box-2", "healthy"],
            ["external-zed-box-3", "healthy"],
        ]);
        expect(needsAttention(rows)).toBe(false);
    });

    it("reports missing, unhealthy, starting, restarting and stopped runners, and extra containers", () => {
        const rows = classify("box", RUNNER_COMMANDS.containers(plan), [
            observed("helix-zed-agent-dev-1", { health: "unhealthy" }),
            observed("helix-zed-agent-dev-2", { state: "restarting", health: "starting" }),
            observed("helix-zed-agent-dev-7", { runnerId: "external-zed-box-7" }),
        ]);
        expect(rows.map((r) => [r.container, r.status])).toEqual([
            ["helix-zed-agent-dev-1", "unhealthy"],
            ["helix-zed-agent-dev-2", "restarting"],
            ["helix-zed-agent-dev-3", "missing"],
            ["helix-zed-agent-dev-7", "extra"],
        ]);
        expect(rows[3].runnerId).toBe("external-zed-box-7");
        expect(needsAttention(rows)).toBe(true);
    });

    it.each([
        [{ state: "exited", health: "unhealthy" }, "stopped"],
        [{ health: "starting" }, "starting"],
        [{ health: undefined }, "unhealthy"],
    ])("classifies %j as %s", (changes, status) => {
        expect(
            classify("box", RUNNER_COMMANDS.containers(plan), [observed("helix-zed-agent-dev-1", changes as Partial<ObservedContainer>)])[0]
                .status,
        ).toBe(status);
    });

    it("does not count extra containers as needing attention", () => {
        const rows = classify("box", [], [observed("helix-zed-agent-dev-9")]);
        expect(rows.map((r) => r.status)).toEqual(["extra"]);
        expect(needsAttention(rows)).toBe(false);
    });
});

describe("renderStatus", () => {
    it("says desktops are reached through the control plane when their ports are not published", () => {
        const [onlyHealth] = hostsOf(parseConfig({ ...MINIMAL, hostName: "box" }, { stackName: "dev", machineHostName: "box" }));
        const [row] = renderStatus(
            classify("box", RUNNER_COMMANDS.containers(onlyHealth), [observed("helix-zed-agent-dev-1")]),
            new Date("2026-11-24T07:02:03Z"),
            RUNNER_COMMANDS.status,
        )
            .split("\n")
            .slice(2);
        expect(row).toMatch(/revdial up, 1 open +via control plane$/);
    });

    it("prints a row per runner with uptime, resources, connection and endpoints, then a summary", () => {
        const rows = classify("box", RUNNER_COMMANDS.containers(plan), [
            observed("helix-zed-agent-dev-1"),
            observed("helix-zed-agent-dev-2", {
                restarts: 2,
                controlPlane: { connected: false, since: null, lastError: "dial tcp: connection refused" },
            }),
        ]);
        const text = renderStatus(rows, new Date("2026-11-24T07:02:03Z"), RUNNER_COMMANDS.status);
        const lines = text.split("\n");
        expect(lines[0]).toMatch(
            /^HOST +RUNNER ID +CONTAINER +STATUS +RESTARTS +UP +CPU +MEMORY +CONTROL PLANE +SESSIONS +DESKTOP +ENDPOINTS$/,
        );
        expect(lines[2]).toMatch(
            /^box +external-zed-box-1 +helix-zed-agent-dev-1 +healthy +0 +1h02m +0\.4% +52MiB +connected +1\/2 +revdial up, 1 open +rdp 127\.0\.0\.1:3389  vnc 127\.0\.0\.1:5900$/,
        );
        expect(lines[3]).toContain("down: dial tcp: connection refused");
        expect(lines[4]).toMatch(/^box +external-zed-box-3 +helix-zed-agent-dev-3 +missing +- +- +- +- +- +- +- +rdp 127\.0\.0\.1:3391/);
        expect(lines[lines.length - 1]).toBe("2 healthy, 1 missing");
    });
});

describe("a runner stack's output keeps its runner names", () => {
    const rows = classify("box", RUNNER_COMMANDS.containers(plan), [observed("helix-zed-agent-dev-1")]);

    it("heads the ID column RUNNER ID", () => {
        const [header] = renderStatus(rows, new Date("2026-11-24T07:02:03Z"), RUNNER_COMMANDS.status).split("\n");
        expect(header.split(/ {2,}/)).toEqual([
            "HOST",
            "RUNNER ID",
            "CONTAINER",
            "STATUS",
            "RESTARTS",
            "UP",
            "CPU",
            "MEMORY",
            "CONTROL PLANE",
            "SESSIONS",
            "DESKTOP",
            "ENDPOINTS",
        ]);
        expect(renderStatus([], new Date(), RUNNER_COMMANDS.status).split("\n").pop()).toBe("no runners planned");
    });

    it("prints --json as {stack, at, runners} with the runner fields", () => {
        const text = JSON.stringify(statusJson("dev", new Date("2026-11-24T07:02:03Z"), rows, RUNNER_COMMANDS.json), null, 2);
        const doc = JSON.parse(text);
        expect(Object.keys(doc)).toEqual(["stack", "at", "runners"]);
        expect(doc.at).toBe("2026-11-24T07:02:03.000Z");
        expect(Object.keys(doc.runners[0])).toEqual(["host", "runnerId", "container", "status", "observed", "endpoints"]);
        expect(doc.runners[0].runnerId).toBe("external-zed-box-1");
        expect(doc.runners[0].observed.runnerId).toBe("external-zed-box-1");
        expect(doc.runners[0].observed.sessions).toEqual({ live: 1, limit: 2 });
        expect(doc.runners[0].endpoints.rdp).toBe("127.0.0.1:3389");
    });
});

describe("resource figures from Docker's one-shot stats", () => {
    // Recorded from Docker 20.10's GET /containers/{id}/stats?stream=false (fields trimmed).
    const stats = {
        cpu_stats: { cpu_usage: { total_usage: 2_150_000_000 }, system_cpu_usage: 9_000_000_000_000, online_cpus: 2 },
        precpu_stats: { cpu_usage: { total_usage: 2_140_000_000 }, system_cpu_usage: 8_999_000_000_000, online_cpus: 2 },
        memory_stats: { usage: 70_000_000, stats: { inactive_file: 8_000_000 }, limit: 4_294_967_296 },
    };

    it("computes CPU like docker stats", () => {
        expect(cpuPercent(stats)).toBeCloseTo(2.0, 5);
    });

    it("subtracts the inactive page cache from memory", () => {
        expect(memoryBytes(stats)).toBe(62_000_000);
    });

    it("gives nothing for a stopped container's empty stats", () => {
        expect(cpuPercent({ cpu_stats: {}, precpu_stats: {} })).toBeUndefined();
        expect(memoryBytes({ memory_stats: {} })).toBeUndefined();
    });
});

describe("collectStatus across hosts", () => {
    const fleet = hostsOf(
        parseConfig(
            {
                ...MINIMAL,
                hosts: JSON.stringify([
                    { name: "a", dockerHost: "ssh://ops@a", replicas: 1 },
                    { name: "b", dockerHost: "ssh://ops@b", replicas: 2 },
                ]),
            },
            { stackName: "dev", machineHostName: "box" },
        ),
    );
    /** TEST DOUBLE for a Docker engine that answers and has no containers of the stack. */
    const emptyEngine = { ping: async () => "OK", listContainers: async () => [] } as unknown as Docker;
    /** TEST DOUBLE for an engine that does not answer. */
    const deadEngine = { ping: async () => Promise.reject(new Error("connect ECONNREFUSED 10.0.0.9:22")) } as unknown as Docker;

    it("lists a dead host's runners as unreachable and still lists every other host's", async () => {
        const rows = await collectStatus("dev", fleet, RUNNER_COMMANDS, (h) => (h.name === "a" ? emptyEngine : deadEngine));
        expect(rows.map((r) => [r.host, r.runnerId, r.status])).toEqual([
            ["a", "external-zed-a-1", "missing"],
            ["b", "external-zed-b-1", "unreachable"],
            ["b", "external-zed-b-2", "unreachable"],
        ]);
        expect(rows[1].error).toBe(
            "Cannot reach the Docker engine of host b at ssh://ops@b: connect ECONNREFUSED 10.0.0.9:22. Is Docker running there, and may this user use it?",
        );
        expect(needsAttention(rows)).toBe(true);
        const lines = renderStatus(rows, new Date(), RUNNER_COMMANDS.status).split("\n");
        expect(lines[3]).toMatch(/^b +external-zed-b-1 +helix-zed-agent-dev-1 +unreachable .*host unreachable \(see below\)/);
        // The reason in full, once per host, under the table: cut inside a column it hides what to fix.
        expect(lines.slice(5)).toEqual(["", "Unreachable hosts:", `  b: ${rows[1].error}`, "", "1 missing, 2 unreachable"]);
        // What --json prints stays JSON.
        expect(JSON.parse(JSON.stringify({ runners: rows })).runners).toHaveLength(3);
    });

    it("prints a long reason whole", async () => {
        const reason = `ssh: connect to host b port 22: ${"a long explanation ".repeat(8)}end of the reason`;
        const dead = { ping: async () => Promise.reject(new Error(reason)) } as unknown as Docker;
        const text = renderStatus(await collectStatus("dev", fleet, RUNNER_COMMANDS, () => dead), new Date(), RUNNER_COMMANDS.status);
        expect(reason.length).toBeGreaterThan(120);
        expect(text).toContain(`  a: Cannot reach the Docker engine of host a at ssh://ops@a: ${reason}. Is Docker running there`);
        expect(text).toContain("end of the reason. Is Docker running there, and may this user use it?\n  b: ");
    });

    it("turns a Docker host that is not an address into a row, not a crash", async () => {
        const [local] = hostsOf(parseConfig(MINIMAL, { stackName: "dev", machineHostName: "box" }));
        expect(() => dockerFor(local, { DOCKER_HOST: "bogus" })).toThrow(
            'Host box: "bogus" is not a Docker engine address (unix:///path/to/docker.sock, ssh://user@host or tcp://host:port).',
        );
        const rows = await collectStatus("dev", [local], RUNNER_COMMANDS, (h) => dockerFor(h, { DOCKER_HOST: "bogus" }));
        expect(rows.map((r) => r.status)).toEqual(["unreachable"]);
    });
});
