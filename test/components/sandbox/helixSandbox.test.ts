// The sandbox workload under Pulumi's mocks: the HelixSandbox component's resources with every
// declared input, the token kept secret, volumes retained, scaling that adds only the new
// sandbox, and the stack's one declare entry placing sandboxes locally and on listed hosts.
import * as crypto from "node:crypto";
import type * as pulumiType from "@pulumi/pulumi";
import { parseConfig } from "../../../components/stackPlan";
import { MINIMAL_SANDBOX, TEST_TOKEN } from "../../fixtures/configs";
import { sandboxConfig, sandboxHostsOf } from "../../fixtures/placements";
import { MockEngine, allRegistered, installMocks, isSecret, promiseOf, unwrapSecret, wasSentAsSecret } from "../../support/mocks";

let pulumi: typeof pulumiType;
let engine: MockEngine;
let HelixSandbox: typeof import("../../../components/sandbox/helixSandbox").HelixSandbox;
let declareDeployment: typeof import("../../../components/deployment").declareDeployment;

const context = { project: "zed-runner", stackName: "dev" };
const SANDBOX: Record<string, string> = { ...MINIMAL_SANDBOX, hostName: "box" };
const parse = (raw: Record<string, string>) => parseConfig(raw, { stackName: "dev", machineHostName: "box" });
const IMAGE = "ghcr.io/helixml/helix-sandbox:2.12.2";
const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

beforeEach(async () => {
    jest.resetModules();
    pulumi = await import("@pulumi/pulumi");
    engine = await installMocks(pulumi, "dev");
    // Loaded after setMocks: resource modules must see the mocked runtime.
    HelixSandbox = (await import("../../../components/sandbox/helixSandbox")).HelixSandbox;
    declareDeployment = (await import("../../../components/deployment")).declareDeployment;
});

/** Declares one host's sandboxes and waits until every child has been registered. */
async function declare(values: Record<string, string> = {}, name = "helix-sandbox") {
    const [host] = sandboxHostsOf(parse({ ...SANDBOX, ...values }));
    const component = await engine.run(() => new HelixSandbox(name, { host, apiToken: TEST_TOKEN }));
    await Promise.all(component.containers.map((c) => promiseOf(c.urn)));
    await allRegistered();
    return component;
}

describe("HelixSandbox", () => {
    it("registers per sandbox one image pull, three volumes and one container, under one component", async () => {
        await declare({ replicas: "3" });
        const counts: Record<string, number> = {};
        for (const r of engine.registrations.filter((r) => r.custom)) counts[r.type] = (counts[r.type] ?? 0) + 1;
        expect(counts).toEqual({ [REMOTE_IMAGE]: 3, [VOLUME]: 9, [CONTAINER]: 3 });
        expect(engine.registrations.filter((r) => !r.custom).map((r) => [r.type, r.name])).toEqual([
            ["zed-runner:index:HelixSandbox", "helix-sandbox"],
        ]);
    });

    it("declares every input of a sandbox's container as Helix's installer runs it", async () => {
        await declare({ replicas: "1" });
        const inputs = engine.byName("helix-sandbox-sandbox-1").inputs;
        const { envs, ...rest } = inputs;
        expect(rest).toEqual({
            name: "helix-sandbox-dev-1",
            // The pulled image's ID, as the mocks' provider computes it: a sandbox is replaced when its image changes.
            image: `${IMAGE}@sha256:${crypto.createHash("sha256").update(IMAGE).digest("hex")}`,
            privileged: true,
            devices: [
                { hostPath: "/dev/uinput", containerPath: "/dev/uinput", permissions: "rwm" },
                { hostPath: "/dev/uhid", containerPath: "/dev/uhid", permissions: "rwm" },
                { hostPath: "/dev/dri", containerPath: "/dev/dri", permissions: "rwm" },
            ],
            deviceCgroupRules: ["c 13:* rmw", "c 226:* rmw"],
            gpus: "all",
            runtime: "nvidia",
            volumes: [
                { volumeName: "helix-sandbox-dev-1-docker", containerPath: "/var/lib/docker" },
                { volumeName: "helix-sandbox-dev-1-data", containerPath: "/data" },
                { volumeName: "helix-sandbox-dev-1-hydra", containerPath: "/hydra-data" },
            ],
            restart: "always",
            hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
            healthcheck: {
                tests: ["CMD", "curl", "-fsS", "--max-time", "5", "--unix-socket", "/var/run/hydra/hydra.sock", "http://hydra/health"],
                interval: "30s",
                timeout: "10s",
                startPeriod: "30m0s",
                retries: 3,
            },
            wait: true,
            waitTimeout: 1800,
            logDriver: "json-file",
            logOpts: { "max-size": "10m", "max-file": "3" },
            labels: [
                { label: "zed-runner.project", value: "zed-runner" },
                { label: "zed-runner.stack", value: "dev" },
                { label: "zed-runner.workload", value: "sandbox" },
                { label: "zed-runner.sandbox-id", value: "sandbox-box-1" },
                { label: "zed-runner.index", value: "1" },
            ],
        });
        expect(unwrapSecret<string[]>(envs)).toEqual([
            "NVIDIA_DRIVER_CAPABILITIES=all",
            "NVIDIA_VISIBLE_DEVICES=all",
            "HYDRA_ENABLED=true",
            "XDG_RUNTIME_DIR=/tmp/sockets",
            "HELIX_API_URL=https://helix.example.com",
            "SANDBOX_INSTANCE_ID=sandbox-box-1",
            "GPU_VENDOR=nvidia",
            `RUNNER_TOKEN=${TEST_TOKEN}`,
        ]);
    });

    it("sends the token only inside the secret environment, and keeps the provider's copy secret", async () => {
        await declare({ replicas: "2" });
        for (const name of ["helix-sandbox-sandbox-1", "helix-sandbox-sandbox-2"]) {
            const r = engine.byName(name);
            expect(wasSentAsSecret(r.inputs.envs)).toBe(true);
            expect(r.options).toMatchObject({
                additionalSecretOutputs: ["envs"],
                deleteBeforeReplace: true,
                replaceOnChanges: ["healthcheck"],
            });
        }
        const plain = engine.registrations.map((r) => ({ ...r.inputs, envs: undefined }));
        expect(JSON.stringify(plain)).not.toContain(TEST_TOKEN);
    });

    it("pulls the pinned image per sandbox and keeps it locally when one sandbox goes", async () => {
        await declare({ replicas: "2" });
        expect(engine.ofType(REMOTE_IMAGE).map((r) => [r.name, r.inputs])).toEqual([
            ["helix-sandbox-sandbox-1-image", { name: IMAGE, keepLocally: true }],
            ["helix-sandbox-sandbox-2-image", { name: IMAGE, keepLocally: true }],
        ]);
    });

    it("gives each sandbox its own labelled volumes, retained on delete by default", async () => {
        await declare({ replicas: "1" });
        const volumes = engine.ofType(VOLUME);
        expect(volumes.map((v) => [v.name, v.inputs.name, v.options.retainOnDelete])).toEqual([
            ["helix-sandbox-sandbox-1-docker", "helix-sandbox-dev-1-docker", true],
            ["helix-sandbox-sandbox-1-data", "helix-sandbox-dev-1-data", true],
            ["helix-sandbox-sandbox-1-hydra", "helix-sandbox-dev-1-hydra", true],
        ]);
        expect(volumes[0].inputs.labels).toContainEqual({ label: "zed-runner.workload", value: "sandbox" });
    });

    it("drops the volumes with their sandbox when keepVolumes is false", async () => {
        await declare({ replicas: "1", keepVolumes: "false" });
        expect(engine.ofType(VOLUME).map((v) => v.options.retainOnDelete)).toEqual([false, false, false]);
    });

    it("scaling from 3 to 4 adds only sandbox 4's resources, with the others' inputs unchanged", async () => {
        await declare({ replicas: "3" });
        const before = new Map(engine.registrations.filter((r) => r.custom).map((r) => [r.name, JSON.stringify(r.inputs)]));
        engine.registrations.length = 0;
        await declare({ replicas: "4" });
        const after = new Map(engine.registrations.filter((r) => r.custom).map((r) => [r.name, JSON.stringify(r.inputs)]));
        const added = [...after.keys()].filter((name) => !before.has(name));
        expect(added.sort()).toEqual(
            [
                "helix-sandbox-sandbox-4",
                "helix-sandbox-sandbox-4-image",
                "helix-sandbox-sandbox-4-docker",
                "helix-sandbox-sandbox-4-data",
                "helix-sandbox-sandbox-4-hydra",
            ].sort(),
        );
        for (const [name, inputs] of before) expect([name, after.get(name)]).toEqual([name, inputs]);
    });

    it("gives every sandbox every NVIDIA GPU, as Helix's installer does, and no runtime or --gpus for amd", async () => {
        await declare({ replicas: "2" });
        expect(engine.ofType(CONTAINER).map((c) => [c.inputs.gpus, c.inputs.runtime])).toEqual([
            ["all", "nvidia"],
            ["all", "nvidia"],
        ]);
        expect(unwrapSecret<string[]>(engine.byName("helix-sandbox-sandbox-2").inputs.envs)).toContain("NVIDIA_VISIBLE_DEVICES=all");
        engine.registrations.length = 0;
        await declare({ replicas: "1", gpuVendor: "amd" }, "amd");
        const amd = engine.byName("amd-sandbox-1").inputs;
        expect([amd.gpus, amd.runtime, amd.devices.map((d: { hostPath: string }) => d.hostPath)]).toEqual([
            undefined,
            undefined,
            ["/dev/uinput", "/dev/uhid", "/dev/kfd", "/dev/dri"],
        ]);
    });

    it("sets memory and CPU limits only when asked, and joins the networks named", async () => {
        engine.existingNetworks.add("helix_default");
        await declare({ replicas: "1", memoryMb: "8192", cpus: "2.5", networks: '["helix_default"]', restartPolicy: "unless-stopped" });
        const inputs = engine.byName("helix-sandbox-sandbox-1").inputs;
        expect([inputs.memory, inputs.cpus, inputs.networksAdvanced]).toEqual([
            8192,
            "2.5",
            [{ name: "helix_default", aliases: ["helix-sandbox-dev-1"] }],
        ]);
        // Set, even to the runners' default: Pulumi.yaml declares none for this key, so it was the user's choice.
        expect(inputs.restart).toBe("unless-stopped");
        engine.registrations.length = 0;
        await declare({ replicas: "1", restartPolicy: "on-failure" }, "other");
        const other = engine.byName("other-sandbox-1").inputs;
        expect([other.memory, other.cpus, other.restart]).toEqual([undefined, undefined, "on-failure"]);
        engine.registrations.length = 0;
        await declare({ replicas: "1" }, "unset");
        expect(engine.byName("unset-sandbox-1").inputs.restart).toBe("always");
    });

    it("outputs instance IDs, container names and the image; no endpoints, and empty secret credentials", async () => {
        const { SANDBOX_COMPONENTS } = await import("../../../components/sandbox/components");
        const [host] = sandboxHostsOf(parse({ ...SANDBOX, replicas: "2" }));
        const onHost = SANDBOX_COMPONENTS.onHost({
            secrets: { apiToken: pulumi.secret(TEST_TOKEN), registryPassword: undefined },
            stack: context,
        });
        const component = await engine.run(() => onHost.declare("helix-sandbox", host, {}));
        await allRegistered();
        expect([component.ids, component.containerNames, component.endpoints]).toEqual([
            ["sandbox-box-1", "sandbox-box-2"],
            ["helix-sandbox-dev-1", "helix-sandbox-dev-2"],
            [],
        ]);
        expect(await promiseOf(component.image)).toBe(IMAGE);
        expect(await promiseOf(component.credentials)).toEqual([]);
        expect(await isSecret(component.credentials)).toBe(true);
    });
});

describe("declareDeployment with the sandbox workload", () => {
    it("places this machine's sandboxes on the default provider as helix-sandbox", async () => {
        const config = sandboxConfig(parse({ ...SANDBOX, replicas: "2" }));
        const declared = await engine.run(() => declareDeployment(config, context));
        await allRegistered();
        expect(engine.registrations.filter((r) => !r.custom).map((r) => [r.type, r.name])).toEqual([
            ["zed-runner:index:HelixSandbox", "helix-sandbox"],
        ]);
        expect(engine.ofType("pulumi:providers:docker")).toEqual([]);
        expect(declared.runnerIds).toEqual(["sandbox-box-1", "sandbox-box-2"]);
        expect(Object.keys(declared.hosts ?? {})).toEqual(["box"]);
        expect(declared.service).toBeUndefined();
    });

    it("places each listed host's sandboxes through its provider docker-<host>, named after the host", async () => {
        const hosts = JSON.stringify([
            { name: "gpu-a", dockerHost: "ssh://ops@gpu-a", replicas: 2 },
            { name: "gpu-b", dockerHost: "ssh://ops@gpu-b", replicas: 1, gpuVendor: "intel" },
        ]);
        const { hostName: _h, ...rest } = SANDBOX;
        const config = sandboxConfig(parse({ ...rest, hosts }));
        const declared = await engine.run(() => declareDeployment(config, context));
        await allRegistered();
        expect(engine.registrations.filter((r) => r.type === "pulumi:providers:docker").map((r) => [r.name, r.inputs.host])).toEqual([
            ["docker-gpu-a", "ssh://ops@gpu-a"],
            ["docker-gpu-b", "ssh://ops@gpu-b"],
        ]);
        expect(engine.registrations.filter((r) => !r.custom).map((r) => r.name)).toEqual(["helix-sandbox-gpu-a", "helix-sandbox-gpu-b"]);
        // A provider reference is its URN, whose last part before the ID is the provider's name.
        const providerOf = (urn: string | undefined) => /::([^:]+)::[^:]*$/.exec(urn ?? "")?.[1];
        const containers = engine.ofType(CONTAINER).map((c) => [c.name, providerOf(c.provider)]);
        expect(containers.sort()).toEqual([
            ["helix-sandbox-gpu-a-sandbox-1", "docker-gpu-a"],
            ["helix-sandbox-gpu-a-sandbox-2", "docker-gpu-a"],
            ["helix-sandbox-gpu-b-sandbox-1", "docker-gpu-b"],
        ]);
        expect(declared.runnerIds).toEqual(["sandbox-gpu-a-1", "sandbox-gpu-a-2", "sandbox-gpu-b-1"]);
        expect(declared.image).toBeUndefined();
        expect(engine.byName("helix-sandbox-gpu-b-sandbox-1").inputs.gpus).toBeUndefined();
    });
});
