// The swarm target: its config, its pure plan, and the whole program under Pulumi's
// mocks (the service's inputs, secrets as files, what replicas and the token touch).
import { parseConfig } from "../../components/stackPlan";
import { configProblems } from "../support/configProblems";
import { HEALTHCHECK_COMMAND, SECRET_FILES, deriveDesktopPasswords } from "../../contract";
import { imageRegistryServer, planSwarm } from "../../components/runner/swarmPlan";
import { MINIMAL, SWARM, TEST_TOKEN } from "../fixtures/configs";
import { swarmOf } from "../fixtures/placements";
import { Registration, promiseOf, unwrapSecret, wasSentAsSecret } from "../support/mocks";
import { runProgram } from "../support/program";

const context = { stackName: "prod", machineHostName: "laptop" };
const REGISTRY_PASSWORD = "registry-pass-8d1e";

const problemsOf = (raw: Record<string, string>) => configProblems(raw, context);

describe("swarm config", () => {
    it("plans one service whose tasks are runners <prefix>-<slot>, with the secrets as files", () => {
        const parsed = parseConfig({ ...SWARM, replicas: "3" }, context);
        expect(parsed.placement.kind).toBe("swarm");
        const swarm = swarmOf(parsed);
        expect(swarm.target.connection).toEqual({ host: "ssh://ops@swarm-manager-1", certPath: undefined, sshOpts: undefined });
        expect(swarm.target.placement).toEqual({ constraints: [], maxReplicasPerNode: 0, spread: undefined });
        const plan = swarm.plan;
        expect(plan.serviceName).toBe("helix-zed-agent-prod");
        expect(plan.replicas).toBe(3);
        expect(plan.runners).toEqual([
            { slot: 1, runnerId: "external-zed-prod-1" },
            { slot: 2, runnerId: "external-zed-prod-2" },
            { slot: 3, runnerId: "external-zed-prod-3" },
        ]);
        expect(plan.env).toMatchObject({
            API_HOST: "https://helix.example.com",
            RUNNER_ID: "external-zed-prod-{{.Task.Slot}}",
            API_TOKEN_FILE: SECRET_FILES.apiToken,
            DESKTOP_PASSWORD_SEED_FILE: SECRET_FILES.passwordSeed,
            STOP_GRACE_SECONDS: "30",
        });
        expect(Object.keys(plan.env)).not.toEqual(expect.arrayContaining(["API_TOKEN"]));
        expect(plan.ports).toEqual([]);
        expect(plan.restartCondition).toBe("any");
    });

    it("reads placement: constraints, at most N per node, spread over a label", () => {
        const swarm = swarmOf(
            parseConfig(
                {
                    ...SWARM,
                    swarm: JSON.stringify({
                        constraints: ["node.labels.zed==true", "node.role != manager"],
                        maxReplicasPerNode: 2,
                        spread: "node.labels.zone",
                    }),
                },
                context,
            ),
        );
        expect(swarm.target.connection).toBeUndefined();
        expect(swarm.plan.placement).toEqual({
            constraints: ["node.labels.zed==true", "node.role != manager"],
            maxReplicasPerNode: 2,
            spread: "node.labels.zone",
        });
    });

    it("refuses what cannot work, every problem at once, before anything is created", () => {
        expect(problemsOf({ ...MINIMAL, swarm: "{}", apiHost: "http://host.docker.internal:8080" })).toEqual([
            "swarm needs an image every node can pull: set registry (the image is built here and pushed there, e.g. registry.example.com:5000) or image (a prebuilt runner image, e.g. registry.example.com/helix-zed-agent@sha256:...)",
            'apiHost (got "http://host.docker.internal:8080") is host.docker.internal, which on a swarm is each node itself, not the control plane: set the control plane\'s URL as every node reaches it, e.g. https://helix.example.com',
        ]);
        expect(
            problemsOf({
                ...SWARM,
                image: "registry.example.com/helix-zed-agent:1.0",
                registryUsername: "ci",
                hosts: JSON.stringify([{ name: "a", dockerHost: "ssh://a", replicas: 1 }]),
            }),
        ).toEqual([
            "swarm and hosts are two ways to place runners: set one of them (`pulumi config rm hosts` or `pulumi config rm swarm`)",
            "image and registry both set: image is pulled as it is, registry is where the image built here is pushed; set one (registryUsername and registryPassword work with either)",
            "registryUsername and registryPassword go together: set both (the password with --secret), or neither for a registry without login",
        ]);
        expect(problemsOf({ ...MINIMAL, registry: "registry.example.com", registryPassword: "x" })).toEqual([
            "registry is read only with swarm (its nodes pull the runner image from a registry); remove it, or set swarm",
            "registryPassword is read only with swarm (its nodes pull the runner image from a registry); remove it, or set swarm",
        ]);
    });

    it("refuses published desktop ports unless one runner per node, since a service's ports are the same on every node", () => {
        const published = { ...SWARM, publishDesktopPorts: "true" };
        expect(problemsOf(published)).toEqual([
            expect.stringContaining(
                "publishDesktopPorts on a swarm publishes every runner's RDP and VNC ports on its node, the same numbers on every node, so two runners on one node would collide (swarm.maxReplicasPerNode is unlimited)",
            ),
        ]);
        const swarm = swarmOf(
            parseConfig({ ...published, portsPerRunner: "2", swarm: JSON.stringify({ maxReplicasPerNode: 1 }) }, context),
        );
        expect(swarm.plan.ports).toEqual([
            { role: "rdp", target: 3389, published: 3389 },
            { role: "rdp", target: 3390, published: 3390 },
            { role: "vnc", target: 5900, published: 5900 },
            { role: "vnc", target: 5901, published: 5901 },
        ]);
        expect(
            problemsOf({ ...published, vncPortBase: "3390", portsPerRunner: "2", swarm: JSON.stringify({ maxReplicasPerNode: 1 }) }),
        ).toEqual(["host port 3390 is both an RDP and a VNC port: move rdpPortBase and vncPortBase at least portsPerRunner (2) apart"]);
    });

    it("names an unknown swarm key and lists the known ones", () => {
        expect(problemsOf({ ...SWARM, swarm: JSON.stringify({ manager: "unix:///var/run/docker.sock", replicas: 3 }) })).toEqual([
            "swarm.replicas is not a swarm key; known keys: manager, certPath, sshOpts, constraints, maxReplicasPerNode, spread",
        ]);
    });

    it("changes nothing in the service's spec but the count when replicas changes", () => {
        const three = swarmOf(parseConfig({ ...SWARM, replicas: "3" }, context)).plan;
        const four = swarmOf(parseConfig({ ...SWARM, replicas: "4" }, context)).plan;
        const { replicas: r3, runners: n3, convergeTimeoutSeconds: c3, ...rest3 } = three;
        const { replicas: r4, runners: n4, convergeTimeoutSeconds: c4, ...rest4 } = four;
        expect(rest4).toEqual(rest3);
        expect([r3, r4]).toEqual([3, 4]);
        expect(n4.slice(0, 3)).toEqual(n3);
        expect(c4).toBeGreaterThan(c3);
    });

    it("tells a registry host from a Docker Hub namespace, as Docker does", () => {
        expect(imageRegistryServer("registry.example.com:5000/team/helix-zed-agent:prod")).toBe("registry.example.com:5000");
        expect(imageRegistryServer("localhost/helix-zed-agent@sha256:" + "a".repeat(64))).toBe("localhost");
        expect(imageRegistryServer("myorg/helix-zed-agent:1")).toBe("docker.io");
        expect(imageRegistryServer("helix-zed-agent:1")).toBe("docker.io");
    });

    it("plans without a Pulumi import (planSwarm is pure)", () => {
        const swarm = swarmOf(parseConfig(SWARM, context));
        expect(planSwarm(swarm.target, { project: "zed-runner", stackName: "prod" })).toEqual(swarm.plan);
    });
});

describe("the program on a swarm, under mocks", () => {
    const config: Record<string, string> = { ...SWARM, replicas: "3", registryUsername: "ci", registryPassword: REGISTRY_PASSWORD };

    async function deploy(values: Record<string, string> = config, networks: string[] = []) {
        const run = await runProgram(values, "prod", networks, networks);
        if (run.error) throw run.error;
        return run;
    }
    const service = (r: { engine: { ofType(t: string): Registration[] } }) => r.engine.ofType("docker:index/service:Service")[0];

    it("declares the image (built and pushed), two secrets and one service through the manager's provider", async () => {
        const { engine, program } = await deploy();
        const custom = engine.registrations.filter((r) => r.custom && !r.type.startsWith("pulumi:providers"));
        expect(custom.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "docker:index/image:Image zed-runner-swarm-image",
            "docker:index/secret:Secret zed-runner-swarm-api-token",
            "docker:index/secret:Secret zed-runner-swarm-password-seed",
            "docker:index/service:Service zed-runner-swarm",
            "random:index/randomPassword:RandomPassword zed-runner-swarm-password-seed",
        ]);
        const provider = engine.registrations.find((r) => r.type === "pulumi:providers:docker")!;
        expect(provider.name).toBe("docker-swarm");
        expect(provider.inputs.host).toBe("ssh://ops@swarm-manager-1");
        expect(custom.every((r) => r.provider?.includes("docker-swarm") || r.type.startsWith("random:"))).toBe(true);

        const image = engine.byName("zed-runner-swarm-image");
        expect(image.inputs.imageName).toBe("registry.example.com:5000/helix-zed-agent:prod");
        expect(image.inputs.skipPush).toBe(false);
        // The password is a secret, and so is the object holding it on the wire.
        expect(wasSentAsSecret(image.inputs.registry)).toBe(true);
        expect(unwrapSecret(image.inputs.registry)).toEqual({
            server: "registry.example.com:5000",
            username: "ci",
            password: REGISTRY_PASSWORD,
        });
        expect(await promiseOf(program!.image!)).toMatch(/^registry\.example\.com:5000\/helix-zed-agent@sha256:[0-9a-f]{64}$/);
        expect(program!.runnerIds).toEqual(["external-zed-prod-1", "external-zed-prod-2", "external-zed-prod-3"]);
        expect(program!.service).toEqual({
            manager: "ssh://ops@swarm-manager-1",
            name: "helix-zed-agent-prod",
            replicas: 3,
            runnerIds: ["external-zed-prod-1", "external-zed-prod-2", "external-zed-prod-3"],
        });
    });

    it("gives the service replicas, slot IDs, health check, limits, logs, restart, rolling updates and placement", async () => {
        const run = await deploy({
            ...config,
            cpus: "1.5",
            swarm: JSON.stringify({ manager: "ssh://ops@swarm-manager-1", maxReplicasPerNode: 2, spread: "node.labels.zone" }),
        });
        const inputs = service(run).inputs;
        expect(inputs.name).toBe("helix-zed-agent-prod");
        expect(inputs.mode).toEqual({ replicated: { replicas: 3 } });
        const spec = inputs.taskSpec;
        expect(spec.containerSpec.image).toMatch(/^registry\.example\.com:5000\/helix-zed-agent@sha256:/);
        expect(spec.containerSpec.env.RUNNER_ID).toBe("external-zed-prod-{{.Task.Slot}}");
        expect(spec.containerSpec.healthcheck).toEqual({
            tests: [...HEALTHCHECK_COMMAND],
            interval: "10s",
            timeout: "5s",
            startPeriod: "30s",
            retries: 3,
        });
        expect(spec.containerSpec.stopGracePeriod).toBe("30s");
        expect(spec.containerSpec.stopSignal).toBe("SIGTERM");
        // A read-only root file system by default, with tmpfs and anonymous volumes where the runner writes.
        expect(spec.containerSpec.readOnly).toBe(true);
        expect(spec.containerSpec.mounts).toEqual([
            { type: "tmpfs", target: "/dev/shm", tmpfsOptions: { sizeBytes: 1024 * 1024 * 1024 } },
            { type: "tmpfs", target: "/tmp", tmpfsOptions: { mode: 0o1777 } },
            { type: "tmpfs", target: "/run", tmpfsOptions: { mode: 0o755 } },
            { type: "volume", target: "/home/zed" },
            { type: "volume", target: "/workspace" },
            { type: "volume", target: "/tmp/zed-workspaces" },
        ]);
        // Swarm's container spec has no security options, PIDs limit or CPU shares to declare.
        expect(spec.containerSpec.privileges).toBeUndefined();
        expect(spec.resources).toEqual({ limits: { memoryBytes: 4096 * 1024 * 1024, nanoCpus: 1.5e9 } });
        expect(spec.restartPolicy).toEqual({ condition: "any", delay: "5s", maxAttempts: 0 });
        expect(spec.logDriver).toEqual({ name: "json-file", options: { "max-size": "10m", "max-file": "3" } });
        expect(spec.placement).toEqual({ maxReplicas: 2, prefs: ["spread=node.labels.zone"] });
        expect(inputs.updateConfig).toEqual({
            parallelism: 1,
            order: "stop-first",
            failureAction: "rollback",
            monitor: "10s",
            delay: "0s",
        });
        expect(inputs.endpointSpec).toBeUndefined();
        expect(inputs.convergeConfig).toEqual({ delay: "2s", timeout: `${3 * 150}s` });
        expect(service(run).options.deleteBeforeReplace).toBe(true);
        expect(service(run).options.additionalSecretOutputs).toEqual(["auth"]);
    });

    it("keeps the token and the passwords out of the service: root-only secret files, the registry login a secret", async () => {
        const run = await deploy();
        const svc = service(run);
        const everything = JSON.stringify(svc.inputs);
        expect(everything).not.toContain(TEST_TOKEN);
        expect(everything).not.toContain(Buffer.from(TEST_TOKEN).toString("base64"));
        const env = svc.inputs.taskSpec.containerSpec.env;
        expect(Object.keys(env)).not.toEqual(
            expect.arrayContaining(["API_TOKEN", "RDP_PASSWORD", "VNC_PASSWORD", "DESKTOP_PASSWORD_SEED"]),
        );
        expect(svc.inputs.taskSpec.containerSpec.secrets).toEqual([
            {
                secretId: "zed-runner-swarm-api-token-id",
                secretName: expect.stringMatching(/^zed-runner-swarm-api-token-[0-9a-f]{7}$/),
                fileName: SECRET_FILES.apiToken,
                fileUid: "0",
                fileGid: "0",
                fileMode: 0o400,
            },
            {
                secretId: "zed-runner-swarm-password-seed-id",
                secretName: expect.stringMatching(/^zed-runner-swarm-password-seed-[0-9a-f]{7}$/),
                fileName: SECRET_FILES.passwordSeed,
                fileUid: "0",
                fileGid: "0",
                fileMode: 0o400,
            },
        ]);
        const token = run.engine.byName("zed-runner-swarm-api-token");
        expect(wasSentAsSecret(token.inputs.data)).toBe(true);
        expect(Buffer.from(unwrapSecret<string>(token.inputs.data), "base64").toString()).toBe(TEST_TOKEN);
        // Pulumi names the secret afresh, so a rotation creates the new one before the old is deleted.
        expect(token.inputs.name).toBeUndefined();
        expect(token.options.deleteBeforeReplace).toBe(false);
        expect(wasSentAsSecret(svc.inputs.auth) || wasSentAsSecret(svc.inputs.auth?.password)).toBe(true);
        expect(unwrapSecret(svc.inputs.auth)).toMatchObject({ serverAddress: "registry.example.com:5000", username: "ci" });
    });

    it("outputs each slot's passwords, derived from the seed the way the runner derives its own", async () => {
        const { program, engine } = await deploy();
        const seed = unwrapSecret<string>(
            engine.ofType("docker:index/secret:Secret").find((r) => r.name === "zed-runner-swarm-password-seed")!.inputs.data,
        );
        const credentials = await promiseOf(program!.credentials);
        const plainSeed = Buffer.from(seed, "base64").toString();
        expect(credentials).toEqual(
            ["external-zed-prod-1", "external-zed-prod-2", "external-zed-prod-3"].map((runnerId) => ({
                runnerId,
                ...deriveDesktopPasswords(plainSeed, runnerId),
            })),
        );
        expect(new Set(credentials.map((c) => c.vncPassword)).size).toBe(3);
    });

    it("touches only the replica count (and how long to wait) when replicas changes", async () => {
        const three = service(await deploy(config)).inputs;
        const four = service(await deploy({ ...config, replicas: "4" })).inputs;
        const { mode: m3, convergeConfig: c3, ...rest3 } = three;
        const { mode: m4, convergeConfig: c4, ...rest4 } = four;
        expect(rest4).toEqual(rest3);
        expect([m3.replicated.replicas, m4.replicated.replicas]).toEqual([3, 4]);
        expect(c4.timeout).not.toBe(c3.timeout);
    });

    it("touches only the token's secret when the token changes; the service follows through the secret's new ID", async () => {
        const before = await deploy(config);
        const after = await deploy({ ...config, apiToken: `${TEST_TOKEN}-rotated` });
        const data = (r: typeof before) => unwrapSecret<string>(r.engine.byName("zed-runner-swarm-api-token").inputs.data);
        expect(data(after)).not.toBe(data(before));
        const changed = after.engine.registrations.filter((r) => {
            const old = before.engine.registrations.find((b) => b.type === r.type && b.name === r.name);
            return JSON.stringify(old?.inputs) !== JSON.stringify(r.inputs);
        });
        expect(changed.map((r) => r.name)).toEqual(["zed-runner-swarm-api-token"]);
        // The service refers to the secret by ID: Docker secrets cannot change, so a new one is created and the service rolls.
        expect(service(after).inputs.taskSpec.containerSpec.secrets[0].secretId).toBe("zed-runner-swarm-api-token-id");
    });

    it("publishes desktop ports in host mode only when asked, one runner per node", async () => {
        const run = await deploy({ ...config, publishDesktopPorts: "true", swarm: JSON.stringify({ maxReplicasPerNode: 1 }) });
        expect(service(run).inputs.endpointSpec).toEqual({
            ports: [
                { targetPort: 3389, publishedPort: 3389, publishMode: "host", protocol: "tcp" },
                { targetPort: 5900, publishedPort: 5900, publishMode: "host", protocol: "tcp" },
            ],
        });
        expect(run.engine.registrations.some((r) => r.type === "pulumi:providers:docker")).toBe(false);
    });

    it("runs a prebuilt image as it is named, pulled by the nodes with the service's login", async () => {
        const reference = "registry.example.com/team/helix-zed-agent@sha256:" + "b".repeat(64);
        const { registry: _registry, ...rest } = config;
        const run = await deploy({ ...rest, image: reference });
        expect(run.engine.registrations.filter((r) => r.type.includes("image"))).toEqual([]);
        expect(service(run).inputs.taskSpec.containerSpec.image).toBe(reference);
        expect(unwrapSecret(service(run).inputs.auth)).toMatchObject({ serverAddress: "registry.example.com", username: "ci" });
    });

    it("joins swarm networks by ID and refuses a node-local one by name", async () => {
        const run = await deploy({ ...config, networks: '["helix_overlay"]' }, ["helix_overlay"]);
        expect(service(run).inputs.taskSpec.networksAdvanceds).toEqual([{ id: "net-helix_overlay" }]);
        // Called directly, as the program's failed lookup surfaces only when Pulumi serializes the service.
        const { lookUpSwarmNetwork } = await import("../../components/runner/zedRunnerService");
        run.engine.existingNetworks.add("helix_default");
        await expect(lookUpSwarmNetwork("helix_default", {})).rejects.toThrow(
            'networks: the Docker network "helix_default" is local-scoped; a swarm service joins only swarm networks',
        );
        await expect(lookUpSwarmNetwork("helix_overlay", {})).resolves.toBe("net-helix_overlay");
        await expect(lookUpSwarmNetwork("nope", {})).rejects.toThrow('networks: the Docker network "nope" does not exist on this swarm');
    });

    it("keeps a workspace volume per slot when persistWorkspaces is set", async () => {
        const run = await deploy({ ...config, persistWorkspaces: "true" });
        const mounts = service(run).inputs.taskSpec.containerSpec.mounts;
        expect(mounts.filter((m: { target: string }) => m.target === "/tmp/zed-workspaces")).toEqual([
            { type: "volume", source: "helix-zed-agent-prod-workspace-{{.Task.Slot}}", target: "/tmp/zed-workspaces" },
        ]);
    });

    it("keeps the root file system writable, with no scratch mounts, when readOnlyRootFilesystem is false", async () => {
        const run = await deploy({ ...config, readOnlyRootFilesystem: "false" });
        const containerSpec = service(run).inputs.taskSpec.containerSpec;
        expect(containerSpec.readOnly).toBe(false);
        expect(containerSpec.mounts).toEqual([{ type: "tmpfs", target: "/dev/shm", tmpfsOptions: { sizeBytes: 1024 * 1024 * 1024 } }]);
    });
});
