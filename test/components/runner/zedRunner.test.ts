// The ZedRunner component under Pulumi's mocks: what it registers, with which inputs.
import type * as pulumiType from "@pulumi/pulumi";
import { parseConfig } from "../../../components/stackPlan";
import { PUBLISHED, TEST_TOKEN } from "../../fixtures/configs";
import { hostsOf } from "../../fixtures/placements";
import { MockEngine, installMocks, isSecret, promiseOf, unwrapSecret, wasSentAsSecret } from "../../support/mocks";

let pulumi: typeof pulumiType;
let engine: MockEngine;
let ZedRunner: typeof import("../../../components/runner/zedRunner").ZedRunner;

const context = { project: "zed-runner", stackName: "test" };

/** This machine's host with its runners, as parseConfig plans them for `values`. */
function hostWith(values: Record<string, string> = {}) {
    const [host] = hostsOf(parseConfig({ ...PUBLISHED, hostName: "box", ...values }, { stackName: "test", machineHostName: "box" }));
    return host;
}

beforeEach(async () => {
    jest.resetModules();
    pulumi = await import("@pulumi/pulumi");
    engine = await installMocks(pulumi);
    // Loaded after setMocks: resource modules must see the mocked runtime.
    ZedRunner = (await import("../../../components/runner/zedRunner")).ZedRunner;
});

/** Declares a component and waits until every child has been registered. */
async function declare(values: Record<string, string> = {}, name = "zed-runner") {
    const component = await engine.run(() => new ZedRunner(name, { host: hostWith(values), apiToken: TEST_TOKEN, stack: context }));
    await Promise.all([
        promiseOf(component.image),
        promiseOf(component.credentials),
        ...component.containers.map((c) => promiseOf(c.urn)),
        ...component.pidsLimits.map((l) => promiseOf(l.urn)),
    ]);
    return component;
}

describe("ZedRunner", () => {
    it("registers the image, a network, and per runner two passwords and a container", async () => {
        await declare({ replicas: "3" });
        const custom = engine.registrations.filter((r) => r.custom);
        const counts: Record<string, number> = {};
        for (const r of custom) counts[r.type] = (counts[r.type] ?? 0) + 1;
        expect(counts).toEqual({
            "docker:index/image:Image": 1,
            "docker:index/network:Network": 1,
            "random:index/randomPassword:RandomPassword": 6,
            "docker:index/container:Container": 3,
            "pulumi-nodejs:dynamic/zed-runner:ContainerPidsLimit": 3,
        });
        expect(engine.registrations.filter((r) => !r.custom).map((r) => r.type)).toEqual(["zed-runner:index:ZedRunner"]);
    });

    it("names children after the component and the runner index", async () => {
        await declare({ replicas: "2" }, "fleet-a");
        expect(engine.ofType("docker:index/container:Container").map((r) => r.name)).toEqual(["fleet-a-runner-1", "fleet-a-runner-2"]);
        expect(engine.ofType("random:index/randomPassword:RandomPassword").map((r) => r.name)).toEqual([
            "fleet-a-runner-1-rdp-password",
            "fleet-a-runner-1-vnc-password",
            "fleet-a-runner-2-rdp-password",
            "fleet-a-runner-2-vnc-password",
        ]);
    });

    it("replaces a runner old-first, on health check changes too, and keeps its environment secret", async () => {
        await declare({ replicas: "1" });
        expect(engine.byName("zed-runner-runner-1").options).toMatchObject({
            deleteBeforeReplace: true,
            replaceOnChanges: ["healthcheck"],
            additionalSecretOutputs: ["envs"],
        });
    });

    it("parents every child to the component", async () => {
        const component = await declare({ replicas: "2" });
        const componentUrn = await promiseOf(component.urn);
        const parentOf = (name: string) => promiseOf(engine.byName(name).options.parent!.urn);
        expect(await Promise.all(["zed-runner-runner-1", "zed-runner-runner-2", "zed-runner-network"].map(parentOf))).toEqual([
            componentUrn,
            componentUrn,
            componentUrn,
        ]);
    });

    it("builds Dockerfile.zed-agent locally with the configured build args, never pushing", async () => {
        await declare({ baseImage: "registry.example.com/debian:bookworm-slim", zedBuildDir: "builds/zed" });
        const [image] = engine.ofType("docker:index/image:Image");
        expect(image.inputs.imageName).toBe("helix-zed-agent:test");
        expect(image.inputs.skipPush).toBe(true);
        expect(image.inputs.build.dockerfile).toMatch(/\/Dockerfile\.zed-agent$/);
        expect(image.inputs.build.args).toEqual({
            BASE_IMAGE: "registry.example.com/debian:bookworm-slim",
            ZED_BUILD_DIR: "builds/zed",
        });
    });

    it("runs every container on the built image's ID, so a rebuild replaces them", async () => {
        const component = await declare({ replicas: "2" });
        const imageId = await promiseOf(component.image);
        expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(engine.ofType("docker:index/container:Container").map((c) => c.inputs.image)).toEqual([imageId, imageId]);
    });

    it("pulls a configured image instead of building, and keeps it on destroy", async () => {
        const component = await declare({ image: "registry.example.com/helix-zed-agent:1.2.3" });
        expect(engine.ofType("docker:index/image:Image")).toHaveLength(0);
        const [remote] = engine.ofType("docker:index/remoteImage:RemoteImage");
        expect(remote.inputs).toEqual({ name: "registry.example.com/helix-zed-agent:1.2.3", keepLocally: true });
        const [container] = engine.ofType("docker:index/container:Container");
        expect(container.inputs.image).toBe(await promiseOf(component.image));
    });

    it("declares each container exactly as the plan and settings say", async () => {
        await declare({ replicas: "2", concurrency: "2", memoryMb: "2048", shmSizeMb: "512", cpus: "1.5", restartPolicy: "always" });
        const container = engine.byName("zed-runner-runner-2").inputs;
        expect(container.name).toBe("helix-zed-agent-test-2");
        expect(container.restart).toBe("always");
        expect(container.ports).toEqual([
            { internal: 3389, external: 3390, ip: "127.0.0.1", protocol: "tcp" },
            { internal: 5900, external: 5901, ip: "127.0.0.1", protocol: "tcp" },
            { internal: 3030, external: 3031, ip: "127.0.0.1", protocol: "tcp" },
        ]);
        expect(container.healthcheck).toEqual({
            tests: ["CMD", "/usr/local/bin/zed-runner", "healthcheck"],
            interval: "10s",
            timeout: "5s",
            startPeriod: "30s",
            retries: 3,
        });
        // An engine before Docker 25 would refuse the create with one: off unless asked for.
        expect(container.healthcheck).not.toHaveProperty("startInterval");
        expect(container.wait).toBe(true);
        expect(container.waitTimeout).toBe(120);
        expect(container.stopTimeout).toBe(30);
        expect(container.destroyGraceSeconds).toBe(30);
        expect(container.logDriver).toBe("json-file");
        expect(container.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
        expect(container.memory).toBe(2048);
        expect(container.shmSize).toBe(512);
        expect(container.cpus).toBe("1.5");
        expect(container.hosts).toEqual([{ host: "host.docker.internal", ip: "host-gateway" }]);
        expect(container.networksAdvanced).toEqual([{ name: "helix-zed-agent-test-net", aliases: ["helix-zed-agent-test-2"] }]);
        expect(container.labels).toEqual([
            { label: "zed-runner.project", value: "zed-runner" },
            { label: "zed-runner.stack", value: "test" },
            { label: "zed-runner.runner-id", value: "external-zed-box-2" },
            { label: "zed-runner.index", value: "2" },
        ]);
        expect(container.volumes).toBeUndefined();
    });

    it("confines each runner by default: read-only root, no new privileges, CPU shares, writable scratch, a PIDs limit", async () => {
        await declare({ replicas: "2" });
        const container = engine.byName("zed-runner-runner-2").inputs;
        expect(container.readOnly).toBe(true);
        expect(container.securityOpts).toEqual(["no-new-privileges:true"]);
        expect(container.cpuShares).toBe(512);
        expect(container.tmpfs).toEqual({
            "/tmp": "rw,exec,nosuid,nodev,mode=1777",
            "/run": "rw,noexec,nosuid,nodev,mode=755",
        });
        expect(container.mounts).toEqual([
            { type: "volume", target: "/home/zed" },
            { type: "volume", target: "/workspace" },
            { type: "volume", target: "/tmp/zed-workspaces" },
        ]);
        const limit = engine.byName("zed-runner-runner-2-pids-limit");
        expect(limit.type).toBe("pulumi-nodejs:dynamic/zed-runner:ContainerPidsLimit");
        expect(limit.inputs).toMatchObject({
            containerId: "zed-runner-runner-2-id",
            containerName: "helix-zed-agent-test-2",
            pidsLimit: 1024,
        });
        expect(limit.inputs.connection).toBeUndefined();
    });

    it("leaves each protection out when its setting turns it off", async () => {
        await declare({ readOnlyRootFilesystem: "false", noNewPrivileges: "false", pidsLimit: "0", cpuShares: "0" });
        const container = engine.byName("zed-runner-runner-1").inputs;
        expect(container.readOnly).toBe(false);
        expect(container.securityOpts).toEqual([]);
        expect(container.cpuShares).toBeUndefined();
        expect(container.tmpfs).toBeUndefined();
        expect(container.mounts).toBeUndefined();
        expect(engine.ofType("pulumi-nodejs:dynamic/zed-runner:ContainerPidsLimit")).toEqual([]);
    });

    it("adds Docker 25's health check start interval only when healthStartInterval is set", async () => {
        await declare({ replicas: "2", healthStartInterval: "true" });
        for (const name of ["zed-runner-runner-1", "zed-runner-runner-2"]) {
            expect(engine.byName(name).inputs.healthcheck).toEqual({
                tests: ["CMD", "/usr/local/bin/zed-runner", "healthcheck"],
                interval: "10s",
                timeout: "5s",
                startPeriod: "30s",
                startInterval: "1s",
                retries: 3,
            });
        }
    });

    it("takes the PIDs limit and CPU shares from the settings", async () => {
        await declare({ pidsLimit: "300", cpuShares: "2048" });
        expect(engine.byName("zed-runner-runner-1").inputs.cpuShares).toBe(2048);
        expect(engine.byName("zed-runner-runner-1-pids-limit").inputs.pidsLimit).toBe(300);
    });

    it("passes the plan's environment plus the token and this runner's own passwords", async () => {
        await declare({ replicas: "2", concurrency: "2" });
        const env: string[] = unwrapSecret(engine.byName("zed-runner-runner-2").inputs.envs);
        const rdp = engine.byName("zed-runner-runner-2-rdp-password");
        const vnc = engine.byName("zed-runner-runner-2-vnc-password");
        expect(rdp.inputs).toEqual({ length: 24, special: false });
        expect(vnc.inputs).toEqual({ length: 8, special: false });
        const vars = Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        expect(vars).toMatchObject({
            API_HOST: "http://host.docker.internal:80",
            API_TOKEN: TEST_TOKEN,
            RUNNER_ID: "external-zed-box-2",
            CONCURRENCY: "2",
            DISPLAY: ":1",
        });
        expect(vars.RDP_PASSWORD).toMatch(/^[A-Za-z0-9]{24}$/);
        expect(vars.VNC_PASSWORD).toMatch(/^[A-Za-z0-9]{8}$/);
        const runner1 = unwrapSecret<string[]>(engine.byName("zed-runner-runner-1").inputs.envs);
        expect(runner1).not.toContain(`RDP_PASSWORD=${vars.RDP_PASSWORD}`);
        expect(Object.keys(vars).sort()).toEqual(
            [
                "API_HOST",
                "API_TOKEN",
                "RUNNER_ID",
                "CONCURRENCY",
                "MAX_TASKS",
                "SESSION_TIMEOUT",
                "STOP_GRACE_SECONDS",
                "REVDIAL",
                "WORKSPACE_DIR",
                "LOG_LEVEL",
                "DISPLAY",
                "DISPLAY_WIDTH",
                "DISPLAY_HEIGHT",
                "RDP_PASSWORD",
                "VNC_PASSWORD",
            ].sort(),
        );
    });

    it("sends the environment, which holds the token and passwords, as a secret", async () => {
        const component = await declare({ replicas: "2" });
        for (const container of engine.ofType("docker:index/container:Container")) {
            expect(wasSentAsSecret(container.inputs.envs)).toBe(true);
        }
        expect(await isSecret(component.containers[0].envs)).toBe(true);
        expect(await isSecret(component.credentials)).toBe(true);
    });

    it("keeps a token passed in plain text secret", async () => {
        const component = new ZedRunner("plain", { host: hostWith(), apiToken: "plain-token-123456", stack: context });
        await promiseOf(component.containers[0].urn);
        expect(wasSentAsSecret(engine.byName("plain-runner-1").inputs.envs)).toBe(true);
    });

    it("publishes on the configured bind address only", async () => {
        await declare({ replicas: "2", bindAddress: "10.1.2.3" });
        const ips = engine.ofType("docker:index/container:Container").flatMap((c) => c.inputs.ports.map((p: any) => p.ip));
        expect(new Set(ips)).toEqual(new Set(["10.1.2.3"]));
    });

    it("mounts a named workspace volume per runner when persistWorkspaces is true", async () => {
        await declare({ replicas: "2", persistWorkspaces: "true", workspaceDir: "/work" });
        expect(engine.ofType("docker:index/volume:Volume").map((v) => [v.name, v.inputs.name])).toEqual([
            ["zed-runner-runner-1-workspace", "helix-zed-agent-test-1-workspace"],
            ["zed-runner-runner-2-workspace", "helix-zed-agent-test-2-workspace"],
        ]);
        expect(engine.byName("zed-runner-runner-2").inputs.volumes).toEqual([
            { volumeName: "helix-zed-agent-test-2-workspace", containerPath: "/work" },
        ]);
        // The named volume holds the workspace: no anonymous one beside it.
        expect(engine.byName("zed-runner-runner-2").inputs.mounts).toEqual([
            { type: "volume", target: "/home/zed" },
            { type: "volume", target: "/workspace" },
        ]);
    });

    it("joins existing networks that the Docker host has", async () => {
        engine.existingNetworks.add("helix_default");
        await declare({ networks: '["helix_default"]' });
        expect(engine.byName("zed-runner-runner-1").inputs.networksAdvanced).toEqual([
            { name: "helix-zed-agent-test-net", aliases: ["helix-zed-agent-test-1"] },
            { name: "helix_default" },
        ]);
    });

    it("fails with the network's name when a joined network does not exist", async () => {
        const { lookUpNetwork } = await import("../../../components/placements/dockerHost");
        engine.existingNetworks.add("helix_default");
        await expect(lookUpNetwork("helix_default", {})).resolves.toBe("helix_default");
        // The mocks drop the provider's own message; the real provider's is added in parentheses.
        await expect(lookUpNetwork("helix_defualt", {})).rejects.toThrow(
            /^networks: the Docker network "helix_defualt" does not exist on this Docker host.*; create it, or start the compose project that owns it/,
        );
    });

    it("exposes runner IDs, container names and endpoints from the plan", async () => {
        const component = await declare({ replicas: "2", bindAddress: "127.0.0.2" });
        expect(component.runnerIds).toEqual(["external-zed-box-1", "external-zed-box-2"]);
        expect(component.containerNames).toEqual(["helix-zed-agent-test-1", "helix-zed-agent-test-2"]);
        expect(component.endpoints[1]).toEqual({
            runnerId: "external-zed-box-2",
            rdp: "127.0.0.2:3390",
            vnc: "127.0.0.2:5901",
            health: "http://127.0.0.2:3031/health",
        });
        const credentials = await promiseOf(component.credentials);
        expect(credentials.map((c) => c.runnerId)).toEqual(component.runnerIds);
        expect(credentials[0].vncPassword).toHaveLength(8);
    });

    it("registers nothing for a plan with colliding ports: the config is refused before a component exists", () => {
        expect(() => hostWith({ replicas: "3", vncPortBase: "3390" })).toThrow(/host port 3390/);
        expect(engine.registrations.filter((r) => r.custom)).toHaveLength(0);
    });

    it("runs the runners it is given, as planned, and plans none itself", async () => {
        const host = hostWith({ replicas: "2" });
        // A plan the planner would never make (one runner, renamed): the component must take it as it is.
        const given = { ...host, runners: [{ ...host.runners[1], containerName: "given-by-the-caller" }] };
        const component = await engine.run(() => new ZedRunner("given", { host: given, apiToken: TEST_TOKEN, stack: context }));
        await promiseOf(component.containers[0].urn);
        expect(engine.ofType("docker:index/container:Container").map((c) => [c.name, c.inputs.name])).toEqual([
            ["given-runner-2", "given-by-the-caller"],
        ]);
        expect(component.runnerIds).toEqual(["external-zed-box-2"]);
    });
});
