// The one declare entry under Pulumi's mocks: each placement goes to its own module,
// declares the plan parseConfig made (never one of its own), and returns the same outputs.
import type * as pulumiType from "@pulumi/pulumi";
import { ParsedConfig, parseConfig } from "../../components/stackPlan";
import { MINIMAL, SWARM, TEST_TOKEN } from "../fixtures/configs";
import { runnerConfig } from "../fixtures/placements";
import { MockEngine, allRegistered, installMocks, isSecret, promiseOf, wasSentAsSecret } from "../support/mocks";

let pulumi: typeof pulumiType;
let engine: MockEngine;
let declareDeployment: typeof import("../../components/deployment").declareDeployment;

const context = { project: "zed-runner", stackName: "dev" };
const parse = (raw: Record<string, string>) => runnerConfig(parseConfig(raw, { stackName: "dev", machineHostName: "box" }));

beforeEach(async () => {
    jest.resetModules();
    pulumi = await import("@pulumi/pulumi");
    engine = await installMocks(pulumi, "dev");
    // Loaded after setMocks: resource modules must see the mocked runtime.
    declareDeployment = (await import("../../components/deployment")).declareDeployment;
});

async function declare(config: ParsedConfig) {
    const declared = await engine.run(() => declareDeployment(config, context));
    await promiseOf(declared.credentials);
    await allRegistered();
    return declared;
}

const HOSTS = JSON.stringify([{ name: "a", dockerHost: "ssh://ops@a", replicas: 1 }]);

describe("declareDeployment", () => {
    it.each([
        ["local", MINIMAL, ["zed-runner:index:ZedRunner", "zed-runner"]],
        ["hosts", { ...MINIMAL, hosts: HOSTS }, ["zed-runner:index:ZedRunner", "zed-runner-a"]],
        ["swarm", SWARM, ["zed-runner:index:ZedRunnerService", "zed-runner-swarm"]],
    ])("declares the %s placement's component, and every output the stack exports", async (kind, raw, component) => {
        const config = parse(raw);
        expect(config.placement.kind).toBe(kind);
        const declared = await declare(config);
        expect(engine.registrations.filter((r) => !r.custom).map((r) => [r.type, r.name])).toEqual([component]);
        expect(Object.keys(declared).sort()).toEqual(
            ["credentials", "containerNames", "endpoints", "hosts", "image", "runnerIds", "service"].sort(),
        );
        expect(await isSecret(declared.credentials)).toBe(true);
    });

    it("declares the runners parseConfig planned, as they are, and plans none of its own", async () => {
        const config = parse({ ...MINIMAL, replicas: "2" });
        if (config.placement.kind !== "local") throw new Error("expected the local placement");
        const host = config.placement.host;
        // A plan the planner would never make: one runner, renamed. Planning again would give two.
        const given: ParsedConfig = {
            ...config,
            placement: { kind: "local", host: { ...host, runners: [{ ...host.runners[0], containerName: "renamed-by-the-plan" }] } },
        };
        const declared = await declare(given);
        expect(engine.ofType("docker:index/container:Container").map((c) => c.inputs.name)).toEqual(["renamed-by-the-plan"]);
        expect(declared.containerNames).toEqual(["renamed-by-the-plan"]);
    });

    it("hands the plain token from the config to the containers as a secret", async () => {
        await declare(parse(MINIMAL));
        const [container] = engine.ofType("docker:index/container:Container");
        expect(wasSentAsSecret(container.inputs.envs)).toBe(true);
        expect(JSON.stringify(container.inputs.envs)).toContain(TEST_TOKEN);
    });
});
