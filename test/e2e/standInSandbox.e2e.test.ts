// End to end: N sandboxes on one host, each with its own inner dockerd, volumes and ID at the
// control plane. Helix's sandbox image cannot run on the test machines (no --privileged, no
// ghcr.io, no GPU), so the containers run the STAND-IN SANDBOX IMAGE, a TEST DOUBLE built here
// (test/fixtures/standInSandbox/), against the fake control plane's Helix 2.12.2 sandbox side
// (test/support/fakeControlPlane/sandbox.ts), on the Docker bridge address.
//
// For now the containers are specified here, from contract/sandbox.ts's values (sandboxSpec
// below, the one place that builds them); the wiring round replaces sandboxSpec with the
// containers the program declares for a sandbox stack, created through test/support/engineSpec.ts
// as the runners' e2e does, so that this test checks exactly what the program deploys.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type Docker from "dockerode";
import { logsOf } from "../../cli/logStreams";
import { LABELS } from "../../components/plan";
import {
    GPU_VENDOR_SETUP,
    SANDBOX_DEVICES,
    SANDBOX_DEVICE_CGROUP_RULES,
    SANDBOX_ENV,
    SANDBOX_FIXED_ENV,
    SANDBOX_HEALTHCHECK_COMMAND,
    SANDBOX_VOLUMES,
    SANDBOX_WIRE,
} from "../../contract/sandbox";
import { STAND_IN_ROUTE, StandInReport } from "../fixtures/standInSandbox/hydra";
import { FakeControlPlane } from "../support/fakeControlPlane";
import { leakedRuns } from "../support/secrets";
import { buildImage, docker, eventually, execIn, filesUnder, removeLabelled, requireEngine } from "../support/docker";
import { dockerBridgeAddress, healthOf } from "../support/stack";

const STACK = "e2e-sandbox";
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
const IMAGE_TAG = "zed-e2e-stand-in-sandbox:e2e";
/** Random, and holding every character that changes form when escaped or encoded. */
const TOKEN = `e2e"\\%+/=${crypto.randomBytes(12).toString("hex")}`;
const ROOT = path.resolve(__dirname, "../..");
const STAND_IN_DIR = "test/fixtures/standInSandbox";

const controlPlane = new FakeControlPlane({ token: TOKEN });
let imageId = "";
let apiUrl = "";

const nameOf = (i: number) => `zed-e2e-sandbox-${i}`;
const idOf = (i: number) => `e2e-sandbox-${i}`;
const volumeOf = (i: number, role: keyof typeof SANDBOX_VOLUMES) => `${nameOf(i)}-${role}`;
const containers = new Map<number, Docker.Container>();
const containerOf = (i: number) => containers.get(i)!;

/**
 * The Engine API request for sandbox `i`: what Helix's install.sh runs (contract/sandbox.ts), but
 * for what the test machines refuse; `nestedEngine: false` leaves out what an inner dockerd needs. THE ONE PLACE the specs are built: the wiring round swaps it
 * for the program's declared containers.
 *   - Not --privileged (refused here): the capabilities and options the test swarm's node
 *     containers run their own dockerd with (.ci/swarm.sh NODE_RUN_FLAGS): SYS_ADMIN, NET_ADMIN,
 *     MKNOD, NET_RAW, unconfined seccomp and AppArmor, the host's cgroup namespace with
 *     /sys/fs/cgroup writable, and a tmpfs on /run.
 *   - /dev/uinput and /dev/uhid only where the machine has them (the test machines do not), no
 *     GPU device; the device cgroup rules are kept: they name device classes, not devices.
 *   - GPU_VENDOR=none, the one vendor a machine without a GPU can honestly report.
 *   - Test-only settings of the stand-in: a 2 s heartbeat and a longer wait for the inner dockerd
 *     on a loaded machine.
 */
function sandboxSpec(i: number, { nestedEngine = true } = {}): Docker.ContainerCreateOptions {
    const env: Record<string, string> = {
        [SANDBOX_ENV.apiUrl]: apiUrl,
        [SANDBOX_ENV.token]: TOKEN,
        [SANDBOX_ENV.instanceId]: idOf(i),
        [SANDBOX_ENV.gpuVendor]: "none",
        ...SANDBOX_FIXED_ENV,
        ...GPU_VENDOR_SETUP.none.env,
        STAND_IN_HEARTBEAT_SECONDS: "2",
        STAND_IN_DOCKERD_TIMEOUT: nestedEngine ? "120" : "10",
    };
    // CgroupnsMode is in the Engine API (1.41 and later) but not in dockerode's typings.
    const nestedEngineOptions: Docker.HostConfig & { CgroupnsMode?: "host" | "private" } = nestedEngine
        ? {
              CapAdd: ["SYS_ADMIN", "NET_ADMIN", "MKNOD", "NET_RAW"],
              SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
              CgroupnsMode: "host",
              Binds: ["/sys/fs/cgroup:/sys/fs/cgroup:rw"],
              Tmpfs: { "/run": "" },
          }
        : {};
    return {
        name: nameOf(i),
        Image: imageId,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: { [LABELS.stack]: STACK },
        Healthcheck: { Test: [...SANDBOX_HEALTHCHECK_COMMAND], Interval: 2e9, Timeout: 5e9, Retries: 3, StartPeriod: 120e9 },
        HostConfig: {
            ...nestedEngineOptions,
            Mounts: (Object.keys(SANDBOX_VOLUMES) as (keyof typeof SANDBOX_VOLUMES)[]).map((role) => ({
                Type: "volume" as const,
                Source: volumeOf(i, role),
                Target: SANDBOX_VOLUMES[role],
            })),
            Devices: SANDBOX_DEVICES.filter((d) => fs.existsSync(d)).map((d) => ({
                PathOnHost: d,
                PathInContainer: d,
                CgroupPermissions: "rwm",
            })),
            DeviceCgroupRules: [...SANDBOX_DEVICE_CGROUP_RULES],
            ExtraHosts: ["host.docker.internal:host-gateway"],
            // Without a nested engine's options the test watches the one exit: no restart.
            RestartPolicy: { Name: nestedEngine ? "always" : "no" },
            LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
        },
    };
}

/** Creates sandbox `i`'s volumes (labelled, so cleanup finds them) and starts its container. */
async function startSandbox(i: number, options: { nestedEngine?: boolean } = {}): Promise<Docker.Container> {
    for (const role of Object.keys(SANDBOX_VOLUMES))
        await docker.createVolume({ Name: volumeOf(i, role as keyof typeof SANDBOX_VOLUMES), Labels: { [LABELS.stack]: STACK } });
    const container = await docker.createContainer(sandboxSpec(i, options));
    await container.start();
    containers.set(i, container);
    return container;
}

/** Runs `cmd` in sandbox `i` and returns its output, failing on a non-zero exit. */
async function run(i: number, cmd: string[]): Promise<string> {
    const { exitCode, output } = await execIn(containerOf(i), cmd);
    if (exitCode !== 0) throw new Error(`${cmd.join(" ")} in ${nameOf(i)} exited ${exitCode}: ${output}`);
    return output.trim();
}

/** What the stand-in's own route answers through the reverse dial. */
async function reportThroughTunnel(i: number): Promise<StandInReport> {
    const { status, body } = await controlPlane.callSandbox(idOf(i), "GET", STAND_IN_ROUTE);
    expect(status).toBe(200);
    return JSON.parse(body);
}

/** Everything the fake control plane keeps of what the sandboxes sent it. */
function fakesRecords(): string {
    return JSON.stringify({
        heartbeats: [...controlPlane.sandboxHeartbeats],
        controls: controlPlane.sandboxControls(),
        sandboxes: [...controlPlane.registeredSandboxes],
    });
}

const started = Date.now();

beforeAll(async () => {
    await requireEngine();
    await removeLabelled(LABELS.stack, STACK);
    const port = await controlPlane.listen(dockerBridgeAddress());
    apiUrl = `http://host.docker.internal:${port}`;
    const buildStarted = Date.now();
    const files = [
        ...filesUnder(ROOT, STAND_IN_DIR),
        ...filesUnder(ROOT, "contract"),
        ...filesUnder(ROOT, "node_modules/typescript"),
        ...filesUnder(ROOT, "node_modules/ws"),
    ];
    imageId = await buildImage(ROOT, files, { tag: IMAGE_TAG, dockerfile: `${STAND_IN_DIR}/Dockerfile`, buildargs: { BASE_IMAGE } });
    console.log(`stand-in sandbox image built in ${Date.now() - buildStarted} ms`);
    for (const i of [1, 2, 3]) await startSandbox(i);
}, 900_000);

afterAll(async () => {
    await removeLabelled(LABELS.stack, STACK).catch(() => undefined);
    await controlPlane.close();
    console.log(`stand-in sandbox e2e took ${Date.now() - started} ms`);
});

describe("three stand-in sandboxes on one engine", () => {
    it("turns each healthy by Helix's own check: docker info inside answers", async () => {
        for (const i of [1, 2, 3])
            await eventually(`${nameOf(i)} healthy`, async () => (await healthOf(containerOf(i))) === "healthy", 180_000, 500);
    });

    it("registers each at the control plane under hydra-<its own ID>, and lists its dev containers through the tunnel at once", async () => {
        await eventually("three sandboxes connected", () => controlPlane.connectedSandboxIds().length === 3, 120_000);
        expect(controlPlane.connectedSandboxIds()).toEqual([idOf(1), idOf(2), idOf(3)]);
        expect(controlPlane.sandboxControls().map((c) => c.runnerId)).toEqual(
            expect.arrayContaining([1, 2, 3].map((i) => `${SANDBOX_WIRE.revdialRunnerPrefix}${idOf(i)}`)),
        );
        for (const i of [1, 2, 3])
            await eventually(
                `${idOf(i)}'s dev containers discovered`,
                () => controlPlane.registeredSandboxes.get(idOf(i))?.discoveredContainers === 0,
                20_000,
            );
        expect(controlPlane.sandboxRefusals).toEqual([]);
    });

    it("heartbeats each under its own ID with the fields Helix's daemon sends", async () => {
        for (const i of [1, 2, 3]) {
            const beats = await eventually(
                `two applied heartbeats from ${idOf(i)}`,
                () => {
                    const applied = (controlPlane.sandboxHeartbeats.get(idOf(i)) ?? []).filter((h) => h.applied);
                    return applied.length >= 2 && applied;
                },
                30_000,
            );
            const body = beats[beats.length - 1].body;
            expect(body).toMatchObject({
                desktop_versions: { ubuntu: "stand-in-no-desktop" },
                gpu_vendor: "none",
                helix_version: "2.12.2",
            });
            expect(body.disk_usage.map((d: { mount_point: string }) => d.mount_point)).toEqual(["/var", "/"]);
            expect(body.disk_usage[0]).toEqual(
                expect.objectContaining({ total_bytes: expect.any(Number), alert_level: expect.stringMatching(/^(ok|warning|critical)$/) }),
            );
            // Go's omitempty: no GPU, not privileged mode, no inner container with a size.
            expect([body.gpus, body.privileged_mode_enabled, body.container_usage]).toEqual([undefined, undefined, undefined]);
        }
        expect([...controlPlane.sandboxHeartbeats.keys()].sort()).toEqual([idOf(1), idOf(2), idOf(3)]);
    });

    it("runs an inner dockerd in each on its own /var/lib/docker volume, and keeps /data and /hydra-data apart", async () => {
        for (const i of [1, 2, 3]) {
            expect(await run(i, ["docker", "info", "-f", "{{.DockerRootDir}} {{.Driver}}"])).toBe(`${SANDBOX_VOLUMES.docker} overlay2`);
            await run(i, ["docker", "volume", "create", `marker-${i}`]);
            await run(i, [
                "sh",
                "-c",
                `echo ${i} > ${SANDBOX_VOLUMES.data}/marker-${i} && echo ${i} > ${SANDBOX_VOLUMES.hydra}/marker-${i}`,
            ]);
        }
        for (const i of [1, 2, 3]) {
            expect(await run(i, ["docker", "volume", "ls", "-q"])).toBe(`marker-${i}`);
            expect(await run(i, ["ls", SANDBOX_VOLUMES.data, SANDBOX_VOLUMES.hydra])).toBe(
                `${SANDBOX_VOLUMES.data}:\nmarker-${i}\n\n${SANDBOX_VOLUMES.hydra}:\nmarker-${i}`,
            );
        }
        // On the host: each inner engine's volume is in its own sandbox's named volume.
        for (const i of [1, 2, 3])
            expect((await docker.getVolume(volumeOf(i, "docker")).inspect()).Labels).toEqual({ [LABELS.stack]: STACK });
    });

    it("reaches the right sandbox's Hydra through each reverse dial", async () => {
        for (const i of [3, 1, 2]) {
            const report = await reportThroughTunnel(i);
            expect(report).toEqual({
                sandbox_instance_id: idOf(i),
                inner_dockerd: {
                    answers: true,
                    containers: 0,
                    containers_running: 0,
                    docker_root_dir: SANDBOX_VOLUMES.docker,
                    driver: "overlay2",
                },
            });
            const health = await controlPlane.callSandbox(idOf(i), "GET", "/health");
            expect([health.status, JSON.parse(health.body)]).toEqual([200, { status: "healthy", active_instances: 0, version: "2.12.2" }]);
        }
        await expect(controlPlane.callSandbox("e2e-sandbox-none", "GET", "/health")).rejects.toThrow("no connection");
    });

    it("keeps its ID and volume contents across a restart of its container", async () => {
        const before = controlPlane.sandboxControls().find((c) => c.runnerId === `hydra-${idOf(2)}`)!;
        await containerOf(2).restart({ t: 10 });
        await eventually(
            `${idOf(2)} back on a new control connection`,
            () => controlPlane.sandboxControls().some((c) => c.runnerId === `hydra-${idOf(2)}` && c.current && c.at > before.at),
            120_000,
            200,
        );
        expect(controlPlane.registeredSandboxes.get(idOf(2))?.reconnects).toBe(1);
        expect(controlPlane.connectedSandboxIds()).toEqual([idOf(1), idOf(2), idOf(3)]);
        expect((await reportThroughTunnel(2)).sandbox_instance_id).toBe(idOf(2));
        expect(await run(2, ["docker", "volume", "ls", "-q"])).toBe("marker-2");
        expect(await run(2, ["cat", `${SANDBOX_VOLUMES.data}/marker-2`, `${SANDBOX_VOLUMES.hydra}/marker-2`])).toBe("2\n2");
    });

    it("adds a fourth sandbox without touching the three", async () => {
        const snapshot = async () =>
            Promise.all(
                [1, 2, 3].map(async (i) => ({ i, id: containerOf(i).id, startedAt: (await containerOf(i).inspect()).State.StartedAt })),
            );
        const before = await snapshot();
        const controlsBefore = controlPlane.sandboxControls().filter((c) => c.runnerId !== `hydra-${idOf(4)}`);
        await startSandbox(4);
        await eventually("the fourth sandbox connected", () => controlPlane.connectedSandboxIds().includes(idOf(4)), 180_000, 200);
        expect((await reportThroughTunnel(4)).sandbox_instance_id).toBe(idOf(4));
        expect(await run(4, ["docker", "volume", "ls", "-q"])).toBe("");
        expect(await snapshot()).toEqual(before);
        expect(controlPlane.sandboxControls().filter((c) => c.runnerId !== `hydra-${idOf(4)}`)).toEqual(controlsBefore);
        expect(controlPlane.connectedSandboxIds()).toEqual([1, 2, 3, 4].map(idOf));
    });

    it("never lets the token appear in a container's log or in what the control plane received", async () => {
        for (const i of [1, 2, 3, 4]) {
            const logs = await logsOf(docker, containerOf(i).id, {});
            expect(logs).toContain(`RevDial control connection established as hydra-${idOf(i)}`);
            expect(leakedRuns(logs, TOKEN)).toEqual([]);
        }
        expect(leakedRuns(fakesRecords(), TOKEN)).toEqual([]);
    });
});

describe("a stand-in sandbox without what a nested engine needs", () => {
    it("exits when its inner dockerd does not start, and never reaches the control plane", async () => {
        const container = await startSandbox(5, { nestedEngine: false });
        const state = await eventually(
            "the sandbox to exit",
            async () => {
                const s = (await container.inspect()).State;
                return !s.Running && s.Status === "exited" && s;
            },
            90_000,
            500,
        );
        expect(state.ExitCode).toBe(1);
        expect(await logsOf(docker, container.id, {})).toContain("the inner dockerd did not answer within 10s");
        expect(controlPlane.registeredSandboxes.has(idOf(5))).toBe(false);
        expect(controlPlane.sandboxHeartbeats.has(idOf(5))).toBe(false);
    });
});
