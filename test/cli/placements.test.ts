// The commands' per-placement modules: the switch picks the placement's own, and each
// reads the runners parseConfig planned rather than planning again.
import type Docker from "dockerode";
import { placementCommands } from "../../cli/placements";
import type { HostIdentity } from "../../components/placements/placement";
import { RunnerDeployment, parseConfig } from "../../components/stackPlan";
import type { RunnerPlacement as Placement } from "../../components/runner/workload";
import { MINIMAL, SWARM } from "../fixtures/configs";
import { runnerConfig } from "../fixtures/placements";
import { LABELS } from "../../components/labels";

const parse = (raw: Record<string, string>) => runnerConfig(parseConfig(raw, { stackName: "dev", machineHostName: "box" }));
const HOSTS = JSON.stringify([
    { name: "a", dockerHost: "ssh://ops@a", replicas: 1 },
    { name: "b", dockerHost: "ssh://ops@b", replicas: 1 },
]);
const facts = { stack: "dev", secureKeys: new Set<string>() };
/** A runner stack's parsed config with the given placement, as the commands take it. */
const withPlacement = (placement: Placement): RunnerDeployment => ({ ...parse(MINIMAL), placement });
/** TEST DOUBLE for an engine that does not answer. */
const deadEngine = { ping: async () => Promise.reject(new Error("connect ECONNREFUSED")) } as unknown as Docker;

/** The local placement with its one planned runner renamed: a plan the planner would never make. */
function renamedLocal(config: RunnerDeployment, containerName: string): Placement {
    if (config.placement.kind !== "local") throw new Error(`expected the local placement, got ${config.placement.kind}`);
    const { host } = config.placement;
    return { kind: "local", host: { ...host, runners: host.runners.map((r) => ({ ...r, containerName })) } };
}

describe("placementCommands", () => {
    it.each([
        ["local", MINIMAL, "Host box (this machine's Docker engine): 1 runner", ["box"]],
        ["hosts", { ...MINIMAL, hosts: HOSTS }, "Host a (ssh://ops@a): 1 runner", ["a", "b"]],
        ["swarm", SWARM, "Swarm (manager ssh://ops@swarm-manager-1): service helix-zed-agent-dev, 1 runner", ["swarm manager"]],
    ])("gives the %s placement its own plan lines and engines", async (kind, raw, firstLine, engines) => {
        const parsed = parse(raw);
        const { placement, workload } = parsed;
        expect([placement.kind, workload.kind]).toEqual([kind, "runner"]);
        const commands = placementCommands(parsed);
        expect(commands.plan(facts)[1]).toBe(firstLine);
        const reached: string[] = [];
        const rows = await commands.status("dev", {
            docker: (host: HostIdentity) => {
                reached.push(host.name);
                return deadEngine;
            },
        });
        expect(reached).toEqual(engines);
        expect(rows.map((r) => r.status)).toEqual(Array(engines.length).fill("unreachable"));
    });

    it("lists the Zed build folders only where the image is built here", () => {
        expect(placementCommands(parse(MINIMAL)).zedBuildDirs).toEqual(["zed-build"]);
        expect(placementCommands(parse({ ...MINIMAL, image: "registry.example.com/helix-zed-agent:1" })).zedBuildDirs).toEqual([]);
        expect(placementCommands(parse(SWARM)).zedBuildDirs).toEqual(["zed-build"]);
    });
});

describe("the commands read the parsed plan", () => {
    const placement = renamedLocal(parse(MINIMAL), "renamed-by-the-plan");

    it("plan shows the planned runners as they are", () => {
        expect(placementCommands(withPlacement(placement)).plan(facts).join("\n")).toContain("renamed-by-the-plan");
    });

    it("status matches containers to the planned names", async () => {
        /** TEST DOUBLE for an engine with one stopped container, named as the plan says. */
        const engine = {
            ping: async () => "OK",
            listContainers: async () => [{ Id: "c1", Labels: { [LABELS.runnerId]: "external-zed-box-1" } }],
            getContainer: () => ({
                inspect: async () => ({ Name: "/renamed-by-the-plan", State: { Running: false, Status: "exited" }, RestartCount: 0 }),
            }),
        } as unknown as Docker;
        const rows = await placementCommands(withPlacement(placement)).status("dev", { docker: () => engine });
        // Planned again, the runner would be helix-zed-agent-dev-1 ("missing") and this container "extra".
        expect(rows.map((r) => [r.container, r.status])).toEqual([["renamed-by-the-plan", "stopped"]]);
    });

    it("logs reads the planned container", async () => {
        const asked: string[] = [];
        const frame = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 6]), Buffer.from("hello\n")]);
        /** TEST DOUBLE for an engine whose containers all log one line. */
        const engine = {
            ping: async () => "OK",
            getContainer: (name: string) => {
                asked.push(name);
                return { logs: async () => frame };
            },
        } as unknown as Docker;
        const written = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
        try {
            const code = await placementCommands(withPlacement(placement)).logs(
                { stack: "dev", which: "1", all: false, since: undefined, follow: false },
                { docker: () => engine },
            );
            expect(code).toBe(0);
            expect(written.mock.calls.map((c) => String(c[0]))).toEqual(["hello\n"]);
        } finally {
            written.mockRestore();
        }
        expect(asked).toEqual(["renamed-by-the-plan"]);
    });
});
