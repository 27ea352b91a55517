// End to end: N sandboxes on one host, as index.ts declares them for a sandbox stack, each with
// its own inner dockerd, volumes and ID at the control plane. Helix's sandbox image cannot run on
// the test machines (no --privileged, no ghcr.io, no GPU), so the declared containers run the
// STAND-IN SANDBOX IMAGE, a TEST DOUBLE built here (test/fixtures/standInSandbox/), against the
// fake control plane's Helix 2.12.2 sandbox side (test/support/fakeControlPlane/sandbox.ts), on
// the Docker bridge address. test/support/sandboxStack.ts creates each declared volume and
// container from the program's inputs; its onThisMachine() is the one place they are changed
// (privileged becomes the test swarm's nested-engine options; absent devices are left out). The
// sandboxes pull their desktop image, as Helix's do, from `registry:5000` on a network they join
// (test/support/desktopRegistry.ts): the stack sets registryMirror and networks as a user would.
import * as crypto from "node:crypto";
import * as os from "node:os";
import type Docker from "dockerode";
import { logsOf } from "../../cli/logStreams";
import { placementCommands } from "../../cli/placements";
import { parseConfig } from "../../components/stackPlan";
import { SANDBOX_ENV, SANDBOX_IMAGE_REPOSITORY, SANDBOX_VOLUMES, SANDBOX_WIRE } from "../../contract/sandbox";
import { STAND_IN_ROUTE, StandInReport } from "../fixtures/standInSandbox/hydra";
import { FakeControlPlane } from "../support/fakeControlPlane";
import { Registration, wasSentAsSecret } from "../support/mocks";
import {
    DeclaredSandboxes,
    InPlaceOfPrivileged,
    buildStandInSandboxImage,
    declareSandboxes,
    standInSandboxConfig,
    startDeclaredSandbox,
} from "../support/sandboxStack";
import { leakedRuns } from "../support/secrets";
import { DesktopRegistry, startDesktopRegistry } from "../support/desktopRegistry";
import { docker, eventually, execIn, removeLabelled, requireEngine } from "../support/docker";
import { dockerBridgeAddress, envOf, healthOf } from "../support/stack";
import { LABELS, SANDBOX_LABELS } from "../../components/labels";

const STACK = "e2e-sandbox";
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
const IMAGE_TAG = "zed-e2e-stand-in-sandbox:e2e";
const HELIX_VERSION = "2.12.2";
/** Random, and holding every character that changes form when escaped or encoded. */
const TOKEN = `e2e"\\%+/=${crypto.randomBytes(12).toString("hex")}`;
/** The network the sandboxes join to reach the desktop registry as `registry`. */
const NETWORK = `${STACK}-net`;
/** The desktop image's tag, as Helix's CI writes it: `<release>-linux-<arch>`. */
const DESKTOP_TAG = `${HELIX_VERSION}-linux-${process.arch === "x64" ? "amd64" : process.arch}`;
let desktopRegistry: DesktopRegistry;

const controlPlane = new FakeControlPlane({ token: TOKEN });
let imageId = "";
/**
 * The stack's config, but for replicas: a sandbox stack on this machine, declared with gpuVendor
 * intel, whose /dev/dri this machine lacks (onThisMachine leaves absent devices out): the sandboxes
 * report intel, so the control plane would place desktops on them, which none would forbid.
 */
let config: Record<string, string> = {};
/** What the program declared for each deployment of the stack, by replicas. */
const declarations = new Map<number, DeclaredSandboxes>();
const containers = new Map<number, Docker.Container>();

/** The declaration with the most sandboxes so far: sandbox i's inputs are the same in every one. */
const latest = (): DeclaredSandboxes => declarations.get(Math.max(...declarations.keys()))!;
const declaredOf = (i: number): Registration => latest().containers[i - 1];
const nameOf = (i: number): string => declaredOf(i).inputs.name;
const idOf = (i: number): string => envOf(declaredOf(i))[SANDBOX_ENV.instanceId];
const volumeOf = (i: number, role: keyof typeof SANDBOX_VOLUMES): string =>
    declaredOf(i).inputs.volumes.find((v: { containerPath: string }) => v.containerPath === SANDBOX_VOLUMES[role]).volumeName;
const containerOf = (i: number) => containers.get(i)!;

/** Runs the program with `replicas` sandboxes (and `overrides`) and keeps what it declared. */
async function deploy(replicas: number, overrides: Record<string, string> = {}): Promise<DeclaredSandboxes> {
    const declared = await declareSandboxes({ ...config, ...overrides, replicas: String(replicas) }, STACK, [NETWORK]);
    expect(declared.containers).toHaveLength(replicas);
    declarations.set(replicas, declared);
    return declared;
}

/**
 * Starts declared sandbox `i` of the latest deployment. The stand-in's own test-only settings:
 * a 2 s heartbeat and, with a nested engine, a longer wait for the inner dockerd on a loaded machine.
 */
async function startSandbox(i: number, inPlaceOfPrivileged: InPlaceOfPrivileged = "nested-engine"): Promise<Docker.Container> {
    const standInEnv = {
        STAND_IN_HEARTBEAT_SECONDS: "2",
        STAND_IN_DOCKERD_TIMEOUT: inPlaceOfPrivileged === "nested-engine" ? "120" : "10",
    };
    const container = await startDeclaredSandbox(latest(), i, imageId, { inPlaceOfPrivileged, standInEnv });
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
    desktopRegistry = await startDesktopRegistry({ network: NETWORK, label: LABELS.stack, value: STACK, baseImage: BASE_IMAGE });
    await desktopRegistry.push(DESKTOP_TAG);
    config = standInSandboxConfig({ port, token: TOKEN, network: NETWORK, helixVersion: HELIX_VERSION });
    const buildStarted = Date.now();
    imageId = await buildStandInSandboxImage(IMAGE_TAG, BASE_IMAGE);
    console.log(`stand-in sandbox image built in ${Date.now() - buildStarted} ms`);
    await deploy(3);
    for (const i of [1, 2, 3]) await startSandbox(i);
}, 900_000);

afterAll(async () => {
    await removeLabelled(LABELS.stack, STACK).catch(() => undefined);
    await controlPlane.close();
    console.log(`stand-in sandbox e2e took ${Date.now() - started} ms`);
});

describe("three sandboxes declared by index.ts, on one engine", () => {
    it("are declared with Helix's pinned image, their own IDs, names and volumes, and the token only as a secret", () => {
        const declared = declarations.get(3)!;
        expect(declared.images.map((image) => image.inputs.name)).toEqual(Array(3).fill(`${SANDBOX_IMAGE_REPOSITORY}:${HELIX_VERSION}`));
        expect(new Set([1, 2, 3].map(idOf)).size).toBe(3);
        expect(new Set([1, 2, 3].map(nameOf)).size).toBe(3);
        expect(declared.volumes).toHaveLength(9);
        expect(new Set(declared.volumes.map((v) => v.inputs.name)).size).toBe(9);
        for (const i of [1, 2, 3]) {
            expect(declaredOf(i).inputs.privileged).toBe(true);
            expect(envOf(declaredOf(i))[SANDBOX_ENV.token]).toBe(TOKEN);
            // The environment, the token in it, is sent as one secret.
            expect(wasSentAsSecret(declaredOf(i).inputs.envs)).toBe(true);
        }
    });

    it("turns each healthy once Hydra answers on its socket, which it does only after the boot pulled the desktop image", async () => {
        for (const i of [1, 2, 3]) {
            await eventually(`${nameOf(i)} healthy`, async () => (await healthOf(containerOf(i))) === "healthy", 180_000, 500);
            const logs = await logsOf(docker, containerOf(i).id, {});
            const pulled = logs.indexOf(`desktop image ready: helix-ubuntu:${DESKTOP_TAG}`);
            expect(logs).toContain(`pulling the desktop image registry:5000/helixml/helix-ubuntu:${DESKTOP_TAG}`);
            expect(pulled).toBeGreaterThan(-1);
            expect(logs.indexOf("Hydra stand-in listening")).toBeGreaterThan(pulled);
            expect(await run(i, ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", `helix-ubuntu:${DESKTOP_TAG}`])).toBe(
                `helix-ubuntu:${DESKTOP_TAG}`,
            );
        }
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
                desktop_versions: { ubuntu: DESKTOP_TAG },
                gpu_vendor: "intel",
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

    it("would each be placed: connected, heard within 90 s, a GPU vendor that can host a desktop, and the desktop offered", () => {
        expect(controlPlane.placeableSandboxIds("ubuntu")).toEqual([idOf(1), idOf(2), idOf(3)].sort());
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
        // On the host: each inner engine's data is in its own sandbox's named volume, labelled as declared.
        for (const i of [1, 2, 3]) {
            const labels = (await docker.getVolume(volumeOf(i, "docker")).inspect()).Labels;
            const declared = latest().volumes.find((v) => v.inputs.name === volumeOf(i, "docker"))!;
            expect(labels).toEqual(
                Object.fromEntries(declared.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
            );
            expect(labels).toMatchObject({ [LABELS.stack]: STACK, [SANDBOX_LABELS.instanceId]: idOf(i) });
        }
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
            // As 2.12.2's Hydra answers: always 0 instances, and its own version, not Helix's release.
            expect([health.status, JSON.parse(health.body)]).toEqual([200, { status: "healthy", active_instances: 0, version: "1.0.0" }]);
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
        // Scaling is the one number: sandboxes 1-3 are declared exactly as before.
        const four = await deploy(4);
        expect(four.containers.slice(0, 3).map((c) => c.inputs)).toEqual(declarations.get(3)!.containers.map((c) => c.inputs));
        expect(four.volumes.slice(0, 9).map((v) => v.inputs)).toEqual(declarations.get(3)!.volumes.map((v) => v.inputs));
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

describe("a declared sandbox without what a nested engine needs", () => {
    it("exits when its inner dockerd does not start, and never reaches the control plane", async () => {
        // Declared with no restart, so that the test watches its one exit.
        const five = await deploy(5, { restartPolicy: "no" });
        expect(five.containers[4].inputs.restart).toBe("no");
        const container = await startSandbox(5, "nothing");
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

describe("a sandbox whose desktop image is not in the mirror", () => {
    it("restarts instead of turning healthy, is named with its last log lines after a failed deploy, and turns healthy once the image is there", async () => {
        const mirror = "registry:5000/elsewhere";
        await deploy(6, { registryMirror: mirror });
        const container = await startSandbox(6);
        // Helix's boot exits 1 when it cannot pull its desktop, and the restart policy (always) boots it again.
        await eventually(
            "the sandbox to restart on its failed pull",
            async () => (await container.inspect()).RestartCount >= 2,
            240_000,
            500,
        );
        expect(await healthOf(container)).not.toBe("healthy");
        expect(controlPlane.registeredSandboxes.has(idOf(6))).toBe(false);

        // What `npm run deploy` prints after `pulumi up` failed waiting for it.
        const parsed = parseConfig(
            { ...config, registryMirror: mirror, replicas: "6" },
            { stackName: STACK, machineHostName: os.hostname() },
        );
        const lines = await placementCommands(parsed).explainUnhealthy(STACK, { docker: () => docker });
        const at = lines.findIndex((l) => l.startsWith(`Sandbox ${idOf(6)} (container ${nameOf(6)} on host `));
        expect(lines[at]).toMatch(/ is (restarting|starting|unhealthy|stopped), restarted \d+ times; its last log lines:$/);
        expect(lines.slice(at + 1).join("\n")).toContain(
            `could not pull the desktop image ${mirror}/helixml/helix-ubuntu:${DESKTOP_TAG} (nor registry:5000/helix-ubuntu:${DESKTOP_TAG})`,
        );

        // Once the mirror holds the image, the next boot pulls it, Hydra answers, and the sandbox registers.
        await desktopRegistry.push(DESKTOP_TAG, "elsewhere/helixml/helix-ubuntu");
        await eventually(
            "the sandbox healthy once its desktop is in the mirror",
            async () => (await healthOf(container)) === "healthy",
            300_000,
            500,
        );
        await eventually("the sandbox registered", () => controlPlane.connectedSandboxIds().includes(idOf(6)), 60_000);
    });
});
