// The whole program (index.ts) under Pulumi's mocks, driven by stack config as Pulumi would pass it.
import { BAD_INPUTS, MINIMAL, PUBLISHED, TEST_TOKEN } from "./fixtures/configs";
import { isSecret, promiseOf, unwrapSecret, wasSentAsSecret } from "./support/mocks";
import { runProgram } from "./support/program";

describe("index.ts", () => {
    it("exports runner IDs, container names, endpoints and the image for three runners", async () => {
        const { program, engine } = await runProgram({ ...PUBLISHED, replicas: "3", hostName: "box" });
        expect(program!.runnerIds).toEqual(["external-zed-box-1", "external-zed-box-2", "external-zed-box-3"]);
        expect(program!.containerNames).toEqual(["helix-zed-agent-dev-1", "helix-zed-agent-dev-2", "helix-zed-agent-dev-3"]);
        expect(program!.endpoints[2]).toEqual({
            runnerId: "external-zed-box-3",
            rdp: "127.0.0.1:3391",
            vnc: "127.0.0.1:5902",
            health: "http://127.0.0.1:3032/health",
        });
        expect(await promiseOf(program!.image!)).toMatch(/^sha256:/);
        expect(engine.ofType("docker:index/container:Container")).toHaveLength(3);
    });

    it("keeps the credentials output secret and the token out of every plain output", async () => {
        const { program } = await runProgram({ ...MINIMAL, replicas: "2" });
        expect(await isSecret(program!.credentials)).toBe(true);
        expect(await isSecret(program!.image!)).toBe(false);
        const plain = JSON.stringify([program!.runnerIds, program!.containerNames, program!.endpoints, await promiseOf(program!.image!)]);
        expect(plain).not.toContain(TEST_TOKEN);
    });

    it("hands the token to every container inside a secret", async () => {
        const { engine } = await runProgram({ ...MINIMAL, replicas: "2" });
        for (const container of engine.ofType("docker:index/container:Container")) {
            expect(unwrapSecret<string[]>(container.inputs.envs)).toContain(`API_TOKEN=${TEST_TOKEN}`);
            expect(wasSentAsSecret(container.inputs.envs)).toBe(true);
        }
    });

    it("scales by replicas: 0 runners still declares the image and network", async () => {
        const { engine, program } = await runProgram({ ...MINIMAL, replicas: "0" });
        expect(program!.runnerIds).toEqual([]);
        expect(engine.ofType("docker:index/container:Container")).toHaveLength(0);
        expect(engine.ofType("docker:index/image:Image")).toHaveLength(1);
    });

    it("deploys Helix sandboxes with workload sandbox: instance IDs, the pinned image, the token only in the secret environment", async () => {
        const { engine, program, error } = await runProgram({
            ...MINIMAL,
            workload: "sandbox",
            apiHost: "https://helix.example.com",
            helixVersion: "2.12.2",
            gpuVendor: "nvidia",
            replicas: "2",
            hostName: "box",
        });
        expect(error).toBeUndefined();
        expect([program!.runnerIds, program!.containerNames, program!.endpoints]).toEqual([
            ["sandbox-box-1", "sandbox-box-2"],
            ["helix-sandbox-dev-1", "helix-sandbox-dev-2"],
            [],
        ]);
        expect(await promiseOf(program!.image!)).toBe("ghcr.io/helixml/helix-sandbox:2.12.2");
        expect(await promiseOf(program!.credentials)).toEqual([]);
        const containers = engine.ofType("docker:index/container:Container");
        expect(containers.map((c) => [c.name, c.inputs.privileged])).toEqual([
            ["helix-sandbox-sandbox-1", true],
            ["helix-sandbox-sandbox-2", true],
        ]);
        for (const container of containers) {
            expect(wasSentAsSecret(container.inputs.envs)).toBe(true);
            expect(unwrapSecret<string[]>(container.inputs.envs)).toContain(`RUNNER_TOKEN=${TEST_TOKEN}`);
        }
    });

    it("refuses a sandbox on the swarm before registering anything", async () => {
        const { engine, error } = await runProgram({
            ...MINIMAL,
            workload: "sandbox",
            apiHost: "https://helix.example.com",
            helixVersion: "2.12.2",
            gpuVendor: "nvidia",
            swarm: "{}",
        });
        expect(error?.constructor.name).toBe("RunError");
        expect(error?.message).toContain("  - swarm cannot run the sandbox workload: Swarm services cannot be privileged or take devices");
        expect(engine.registrations).toHaveLength(0);
    });

    it("refuses a plan with colliding ports before registering anything", async () => {
        const { engine, error } = await runProgram({ ...PUBLISHED, replicas: "5", healthPortBase: "3390" });
        // Plan problems come in the same message as every other config problem.
        expect(error?.message).toContain(
            "Invalid stack config for zed-runner (1 problem):\n  - host port 3390 is both runner 1's HEALTH port and runner 2's RDP port",
        );
        expect(error?.constructor.name).toBe("RunError");
        expect(engine.registrations.filter((r) => r.custom)).toHaveLength(0);
    });

    describe.each(BAD_INPUTS)("with %s=%j", (key, value, expected) => {
        it("fails before registering any resource, naming the key", async () => {
            const { engine, error } = await runProgram({ ...MINIMAL, [key]: value });
            expect(error?.constructor.name).toBe("RunError");
            expect(error?.message).toContain(`  - ${key}`);
            expect(error?.message).toContain(expected);
            expect(engine.registrations).toHaveLength(0);
        });
    });
});
