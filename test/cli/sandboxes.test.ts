// The commands on a sandbox stack: the offline plan lists each host's sandboxes, status reads
// each sandbox's container (state and health) and never mistakes a runner for one or the
// reverse, and logs names sandboxes by index or instance ID.
import type Docker from "dockerode";
import { placementCommands } from "../../cli/placements";
import { parseConfig } from "../../components/stackPlan";
import { statusJson } from "../../cli/report/json";
import { innerEngineOf } from "../../cli/report/model";
import { renderStatus } from "../../cli/report/render";
import { SANDBOX_COMMANDS } from "../../cli/workloads/sandbox";
import { MINIMAL, MINIMAL_SANDBOX } from "../fixtures/configs";
import { LABELS, SANDBOX_LABELS } from "../../components/labels";

const parse = (raw: Record<string, string>) => parseConfig(raw, { stackName: "dev", machineHostName: "box" });
const SANDBOX: Record<string, string> = { ...MINIMAL_SANDBOX, hostName: "box" };
const facts = { stack: "dev", secureKeys: new Set<string>() };

/** A container as the engine lists it, with this stack's label and, for a sandbox, the workload label. */
function listed(id: string, sandbox: boolean) {
    return {
        Id: id,
        Labels: {
            [LABELS.stack]: "dev",
            ...(sandbox ? { [SANDBOX_LABELS.workload]: "sandbox", [SANDBOX_LABELS.instanceId]: `sandbox-box-${id}` } : {}),
        },
    };
}

/**
 * TEST DOUBLE for an engine with one healthy sandbox container (helix-sandbox-dev-1) and one
 * runner container of the same stack (helix-zed-agent-dev-1); it answers label filters as Docker
 * does, by the stack label alone.
 */
function engineWithBoth(): Docker {
    const containers: Record<string, { Name: string; State: object; RestartCount: number; Image: string }> = {
        "1": {
            Name: "/helix-sandbox-dev-1",
            State: { Running: true, Status: "running", Health: { Status: "healthy" } },
            RestartCount: 0,
            Image: "sha256:5a4d",
        },
        r1: { Name: "/helix-zed-agent-dev-1", State: { Running: false, Status: "exited" }, RestartCount: 0, Image: "sha256:77aa" },
    };
    // The sandbox runs its image by digest; the image keeps the tag it was pulled under.
    const images: Record<string, { RepoTags: string[] }> = { "sha256:5a4d": { RepoTags: ["ghcr.io/helixml/helix-sandbox:2.12.2"] } };
    return {
        ping: async () => "OK",
        getImage: (id: string) => ({ inspect: async () => images[id] }),
        listContainers: async () => [listed("1", true), listed("r1", false)],
        getContainer: (id: string) => ({
            inspect: async () => containers[id],
            stats: async () => ({}),
            exec: async () => {
                throw new Error("a sandbox has no runner agent to ask");
            },
        }),
    } as unknown as Docker;
}

describe("the commands on a sandbox stack", () => {
    it("plan lists each host's sandboxes offline: IDs, containers, GPU, volumes and image", () => {
        const lines = placementCommands(parse({ ...SANDBOX, replicas: "2" })).plan(facts);
        expect(lines.slice(0, 4)).toEqual([
            "",
            "Host box (this machine's Docker engine): 2 Helix sandboxes, privileged",
            "Image: pull ghcr.io/helixml/helix-sandbox:2.12.2",
            "Volumes: kept when a sandbox is removed (keepVolumes true)",
        ]);
        const table = lines[4];
        expect(table).toMatch(/INSTANCE ID\s+CONTAINER\s+GPU\s+VOLUMES/);
        expect(table).toMatch(
            /sandbox-box-1\s+helix-sandbox-dev-1\s+nvidia --gpus all\s+helix-sandbox-dev-1-docker, helix-sandbox-dev-1-data, helix-sandbox-dev-1-hydra/,
        );
        expect(table).toMatch(/sandbox-box-2\s+helix-sandbox-dev-2\s+nvidia --gpus all/);
    });

    it("builds nothing here: Helix's image is pulled", () => {
        expect(placementCommands(parse(SANDBOX)).zedBuildDirs).toEqual([]);
    });

    it("status shows the sandbox's state and health, and not the stack's runner container", async () => {
        const rows = await placementCommands(parse(SANDBOX)).status("dev", { docker: () => engineWithBoth() });
        expect(rows.map((r) => [r.host, r.runnerId, r.container, r.status, r.endpoints])).toEqual([
            ["box", "sandbox-box-1", "helix-sandbox-dev-1", "healthy", undefined],
        ]);
        // The double's exec fails: the inner dockerd is reported as not answering, not guessed.
        expect(rows[0].observed?.innerEngine).toEqual({ answers: false, containers: undefined });
        const [head, , row] = renderStatus(rows, new Date(), SANDBOX_COMMANDS.status).split("\n");
        expect(head.split(/ {2,}/)).toEqual([
            "HOST",
            "SANDBOX ID",
            "CONTAINER",
            "STATUS",
            "RESTARTS",
            "UP",
            "CPU",
            "MEMORY",
            "RELEASE",
            "INNER DOCKERD",
        ]);
        expect(row.split(/ {2,}/).slice(-2)).toEqual(["2.12.2", "down"]);
    });

    it("status says when the control plane runs another release than the stack and its sandboxes, and nothing when they match", async () => {
        const commands = placementCommands(parse(SANDBOX));
        const rows = await commands.status("dev", { docker: () => engineWithBoth() });
        expect(rows[0].observed?.release).toBe("2.12.2");
        const asked: string[] = [];
        /** TEST DOUBLE for the control plane's GET /api/v1/config, at `release`. */
        const at = (release: string) => async (apiHost: string) => (asked.push(apiHost), { release });
        expect(await commands.notes("dev", rows, at("2.12.2"))).toEqual([]);
        expect(await commands.notes("dev", rows, at("2.12.3"))).toEqual([
            "The control plane at https://helix.example.com runs Helix 2.12.3; this stack pins 2.12.2: set helixVersion in Pulumi.dev.yaml " +
                "to the control plane's release, then `npm run deploy -- --stack dev`.",
            "Sandboxes on another release than the control plane's 2.12.3: sandbox-box-1 (2.12.2).",
        ]);
        expect(asked).toEqual(["https://helix.example.com", "https://helix.example.com"]);
        // A runner stack asks the control plane nothing.
        expect(await placementCommands(parse({ ...MINIMAL, hostName: "box" })).notes("dev", [], at("2.12.3"))).toEqual([]);
        expect(asked).toHaveLength(2);
    });

    it("status heads the ID column SANDBOX ID and prints --json with sandbox field names", async () => {
        const rows = await placementCommands(parse({ ...SANDBOX, replicas: "2" })).status("dev", { docker: () => engineWithBoth() });
        const lines = renderStatus(rows, new Date(), SANDBOX_COMMANDS.status).split("\n");
        expect(lines[0].split(/ {2,}/).slice(0, 3)).toEqual(["HOST", "SANDBOX ID", "CONTAINER"]);
        expect(lines[0]).not.toContain("RUNNER");
        expect(lines[2]).toMatch(/^box +sandbox-box-1 +helix-sandbox-dev-1 +healthy /);
        expect(lines[3]).toMatch(/^box +sandbox-box-2 +helix-sandbox-dev-2 +missing /);
        expect(renderStatus([], new Date(), SANDBOX_COMMANDS.status).split("\n").pop()).toBe("no sandboxes planned");

        const text = JSON.stringify(statusJson("dev", new Date("2026-11-24T07:02:03Z"), rows, SANDBOX_COMMANDS.json), null, 2);
        expect(text).not.toMatch(/runner/i);
        const doc = JSON.parse(text);
        expect(Object.keys(doc)).toEqual(["stack", "at", "sandboxes"]);
        expect(doc.sandboxes).toEqual([
            {
                host: "box",
                instanceId: "sandbox-box-1",
                container: "helix-sandbox-dev-1",
                status: "healthy",
                observed: {
                    name: "helix-sandbox-dev-1",
                    instanceId: "sandbox-box-1",
                    state: "running",
                    health: "healthy",
                    restarts: 0,
                    innerEngine: { answers: false },
                    release: "2.12.2",
                },
            },
            { host: "box", instanceId: "sandbox-box-2", container: "helix-sandbox-dev-2", status: "missing" },
        ]);
    });

    it("status --json of an unreachable sandbox host keeps the reason", async () => {
        /** TEST DOUBLE for an engine that does not answer. */
        const dead = { ping: async () => Promise.reject(new Error("connect ECONNREFUSED")) } as unknown as Docker;
        const rows = await placementCommands(parse(SANDBOX)).status("dev", { docker: () => dead });
        const [row] = JSON.parse(JSON.stringify(statusJson("dev", new Date(), rows, SANDBOX_COMMANDS.json))).sandboxes;
        expect(row.instanceId).toBe("sandbox-box-1");
        expect(row.status).toBe("unreachable");
        expect(row.error).toContain("connect ECONNREFUSED");
    });

    it("counts the inner dockerd's containers from `docker ps -q`, and says when it does not answer", () => {
        expect(innerEngineOf({ exitCode: 0, output: "0123456789ab\nfedcba987654\n" })).toEqual({ answers: true, containers: 2 });
        expect(innerEngineOf({ exitCode: 0, output: "" })).toEqual({ answers: true, containers: 0 });
        expect(innerEngineOf({ exitCode: 1, output: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" })).toEqual({
            answers: false,
            containers: undefined,
        });
        expect(innerEngineOf(undefined)).toEqual({ answers: false, containers: undefined });
    });

    it("a runner stack's status does not list the stack's sandbox containers as extra runners", async () => {
        const rows = await placementCommands(parse({ ...MINIMAL, hostName: "box" })).status("dev", { docker: () => engineWithBoth() });
        expect(rows.map((r) => [r.container, r.status])).toEqual([["helix-zed-agent-dev-1", "stopped"]]);
    });

    it("status marks every sandbox of a host whose engine does not answer", async () => {
        /** TEST DOUBLE for an engine that does not answer. */
        const dead = { ping: async () => Promise.reject(new Error("connect ECONNREFUSED")) } as unknown as Docker;
        const rows = await placementCommands(parse({ ...SANDBOX, replicas: "2" })).status("dev", { docker: () => dead });
        expect(rows.map((r) => [r.runnerId, r.status])).toEqual([
            ["sandbox-box-1", "unreachable"],
            ["sandbox-box-2", "unreachable"],
        ]);
    });

    it("logs reads the sandbox named by index or instance ID, and refuses one the stack does not plan", async () => {
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
        const commands = placementCommands(parse({ ...SANDBOX, replicas: "2" }));
        const written = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
        try {
            const request = { stack: "dev", all: false, since: undefined, follow: false };
            expect(await commands.logs({ ...request, which: "2" }, { docker: () => engine })).toBe(0);
            expect(await commands.logs({ ...request, which: "sandbox-box-1" }, { docker: () => engine })).toBe(0);
            expect(written.mock.calls.map((c) => String(c[0]))).toEqual(["hello\n", "hello\n"]);
        } finally {
            written.mockRestore();
        }
        expect(asked).toEqual(["helix-sandbox-dev-2", "helix-sandbox-dev-1"]);
        await expect(
            commands.logs({ stack: "dev", which: "3", all: false, since: undefined, follow: false }, { docker: () => engine }),
        ).rejects.toThrow("No sandbox 3: the stack plans sandboxes 1 to 2.");
    });
});
