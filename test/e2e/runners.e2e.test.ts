// End to end: the runners index.ts declares, started on a real Docker engine.
//
// The program runs under Pulumi's mocks with a test stack config; the image and
// container inputs it declares are captured, the image is built from the same
// Dockerfile and build args, and the containers are created with exactly the
// captured inputs. Test doubles: a stub Helix image (test/fixtures/helix-stub),
// a stub Zed binary (test/fixtures/zed-build) and a fake control plane.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import type Docker from "dockerode";
import * as os from "node:os";
import { logsOf as runnerLogs } from "../../cli/logs";
import { collectStatus, needsAttention, renderStatus } from "../../cli/status";
import { parseConfig } from "../../components/config";
import { LABELS } from "../../components/plan";
import { PROJECT_ROOT } from "../../components/zedRunner";
import { Registration, unwrapSecret } from "../mocks";
import { runProgram } from "../program";
import { buildImage, docker, eventually, execIn, filesUnder, removeLabelled, requireEngine } from "./docker";
import { containerSpec } from "./engineSpec";
import { FakeControlPlane } from "./fakeControlPlane";
import { rdpConnectionPduType, vncGreeting } from "./protocols";

const STACK = "e2e";
/** The second stack: a runner that joins a compose-style network and reaches the API by service name. */
const NETWORK_STACK = "e2e-net";
const COMPOSE_NETWORK = "zed-e2e-helix";
const STUB_HELIX_IMAGE = "zed-runner-test/helix-stub:latest";
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
const TOKEN = `e2e-${crypto.randomBytes(12).toString("hex")}`;

/**
 * The address containers reach this machine at through `host-gateway`: the default
 * bridge's. Read with `ip`, since Node lists no address for a bridge with no carrier.
 */
function dockerBridgeAddress(): string {
    const out = execFileSync("ip", ["-4", "-o", "addr", "show", "dev", "docker0"], { encoding: "utf8" });
    const match = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
    if (!match) throw new Error("no IPv4 address on docker0: is dockerd running with its default bridge?");
    return match[1];
}

const controlPlane = new FakeControlPlane();
let controlPlanePort = 0;
/** The first stack's config, as `pulumi config` would hold it. */
let stackConfig: Record<string, string> = {};
let containers: Registration[] = [];
let imageId = "";
let imageBuild: Registration;
let secrets: string[] = [];
const running = new Map<string, Docker.Container>();

function envOf(container: Registration): Record<string, string> {
    const env = unwrapSecret<string[]>(container.inputs.envs);
    return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}
const hostPort = (container: Registration, internal: number) =>
    container.inputs.ports.find((p: { internal: number }) => p.internal === internal).external as number;
const healthOf = async (c: Docker.Container) => (await c.inspect()).State.Health?.Status;

beforeAll(async () => {
    await requireEngine();
    await removeLabelled(LABELS.stack, STACK);
    await removeLabelled(LABELS.stack, NETWORK_STACK);
    controlPlanePort = await controlPlane.listen(dockerBridgeAddress());
    const port = controlPlanePort;

    // The program, as `pulumi up` would run it with this stack config.
    stackConfig = {
        apiToken: TOKEN,
        apiHost: `http://host.docker.internal:${port}`,
        replicas: "3",
        concurrency: "2",
        bindAddress: "127.0.0.1",
        hostName: "e2e",
        containerNamePrefix: "zed-e2e",
        rdpPortBase: "43389",
        vncPortBase: "45900",
        healthPortBase: "43030",
        memoryMb: "1024",
        shmSizeMb: "256",
        helixImage: STUB_HELIX_IMAGE,
        baseImage: BASE_IMAGE,
        zedBuildDir: "test/fixtures/zed-build",
    };
    const { engine, error } = await runProgram(stackConfig, STACK);
    if (error) throw error;
    containers = engine.ofType("docker:index/container:Container");
    const [image] = engine.ofType("docker:index/image:Image");
    imageBuild = image;
    const [network] = engine.ofType("docker:index/network:Network");

    // The stub Helix image stands in for the control-plane image the runner binary comes from.
    await buildImage(path.join(PROJECT_ROOT, "test/fixtures/helix-stub"), ["Dockerfile", "helix"], {
        tag: STUB_HELIX_IMAGE,
        dockerfile: "Dockerfile",
        buildargs: { BASE_IMAGE },
    });
    const build = image.inputs.build;
    imageId = await buildImage(
        build.context,
        ["Dockerfile.zed-agent", ...filesUnder(build.context, "image"), ...filesUnder(build.context, build.args.ZED_BUILD_DIR)],
        { tag: image.inputs.imageName, dockerfile: path.relative(build.context, build.dockerfile), buildargs: build.args },
    );

    await docker.createNetwork({
        Name: network.inputs.name,
        Driver: network.inputs.driver,
        Labels: Object.fromEntries(network.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
    });
    for (const declared of containers) {
        const { create } = containerSpec(declared.inputs, imageId);
        const container = await docker.createContainer(create);
        running.set(declared.inputs.name, container);
    }
    await Promise.all([...running.values()].map((c) => c.start()));
    secrets = [TOKEN, ...containers.flatMap((c) => [envOf(c).RDP_PASSWORD, envOf(c).VNC_PASSWORD])];
}, 900_000);

afterAll(async () => {
    await removeLabelled(LABELS.stack, STACK).catch(() => undefined);
    await removeLabelled(LABELS.stack, NETWORK_STACK).catch(() => undefined);
    await controlPlane.close();
});

describe("runners declared by index.ts, on a real engine", () => {
    it("declares three runners with distinct secrets", () => {
        expect(containers.map((c) => c.inputs.name)).toEqual(["zed-e2e-1", "zed-e2e-2", "zed-e2e-3"]);
        expect(new Set(secrets).size).toBe(7);
    });

    it("turns every container healthy within 60 s", async () => {
        const started = Date.now();
        for (const container of running.values()) {
            await eventually("a healthy runner", async () => ((await healthOf(container)) === "healthy" ? true : undefined), 60_000);
        }
        console.log(`all 3 runners healthy ${Date.now() - started} ms after the first check began`);
    });

    it("connects each runner to the control plane with its own ID, the token and the concurrency", async () => {
        await controlPlane.waitFor("3 runners connected", () => controlPlane.connectedRunnerIds().length === 3, 60_000);
        expect(controlPlane.connectedRunnerIds()).toEqual(["external-zed-e2e-1", "external-zed-e2e-2", "external-zed-e2e-3"]);
        for (const handshake of controlPlane.handshakes) {
            expect(handshake.accessToken).toBe(TOKEN);
            expect(handshake.concurrency).toBe("2");
        }
    });

    it("answers on each health port with every component up", async () => {
        for (const declared of containers) {
            const response = await fetch(`http://127.0.0.1:${hostPort(declared, 3030)}/health`, { signal: AbortSignal.timeout(5000) });
            expect(response.status).toBe(200);
            const body = await response.json();
            expect(body).toMatchObject({
                status: "ok",
                runnerId: envOf(declared).RUNNER_ID,
                components: { xvfb: "up", windowManager: "up", vnc: "up", rdp: "up", runner: "up" },
                controlPlane: { url: envOf(declared).API_HOST, connected: true, lastError: null },
            });
            expect(Date.parse(body.controlPlane.since)).toBeGreaterThan(Date.now() - 120_000);
        }
    });

    it("answers an RDP connection request with a Connection Confirm on each RDP port", async () => {
        for (const declared of containers) {
            expect(await rdpConnectionPduType("127.0.0.1", hostPort(declared, 3389))).toBe(0xd0);
        }
    });

    it("offers VNC authentication and never the None security type", async () => {
        for (const declared of containers) {
            const greeting = await vncGreeting("127.0.0.1", hostPort(declared, 5900));
            expect(greeting.banner).toMatch(/^RFB 003\.00\d\n$/);
            expect(greeting.securityTypes).toContain(2);
            expect(greeting.securityTypes).not.toContain(1);
        }
    });

    it("publishes every port on 127.0.0.1 only", async () => {
        for (const container of running.values()) {
            const ports = (await container.inspect()).NetworkSettings.Ports;
            const bindings = Object.values(ports).flatMap((b) => b ?? []);
            expect(bindings).toHaveLength(3);
            expect(new Set(bindings.map((b) => b.HostIp))).toEqual(new Set(["127.0.0.1"]));
        }
    });

    it("runs Xvfb, the window manager, x11vnc and the runner as user zed", async () => {
        const container = running.get("zed-e2e-1")!;
        const { output } = await execIn(container, ["ps", "-o", "user=,comm=", "-C", "Xvfb,openbox,x11vnc,socat"]);
        const rows = output.trim().split("\n").map((l) => l.trim().split(/\s+/));
        expect(rows.map((r) => r[1]).sort()).toEqual(["Xvfb", "openbox", "socat", "x11vnc"]);
        expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(["zed"]));
        const runner = await execIn(container, ["sh", "-c", 'ps -o user= -p "$(cat /run/zed-runner/runner.pid)"']);
        expect(runner.output.trim()).toBe("zed");
    });

    it("keeps the token and passwords out of every log and the image history", async () => {
        for (const container of running.values()) {
            const logs = await runnerLogs(docker, container.id, {});
            expect(logs).toContain("access_token=[redacted]");
            for (const secret of secrets) expect(logs).not.toContain(secret);
        }
        const history = JSON.stringify(await docker.getImage(imageId).history());
        const config = JSON.stringify((await docker.getImage(imageId).inspect()).Config);
        for (const secret of secrets) {
            expect(history).not.toContain(secret);
            expect(config).not.toContain(secret);
        }
    });

    it("brings a killed x11vnc back within 10 s", async () => {
        const container = running.get("zed-e2e-2")!;
        const declared = containers[1];
        const before = (await execIn(container, ["cat", "/run/zed-runner/vnc.pid"])).output.trim();
        expect((await execIn(container, ["sh", "-c", `kill -9 ${before}`])).exitCode).toBe(0);
        const killedAt = Date.now();
        await eventually(
            "x11vnc to answer again",
            async () => {
                const now = (await execIn(container, ["cat", "/run/zed-runner/vnc.pid"])).output.trim();
                if (now === before) return undefined;
                return (await vncGreeting("127.0.0.1", hostPort(declared, 5900), 1000)).securityTypes.includes(2) ? true : undefined;
            },
            10_000,
        );
        console.log(`x11vnc answered again ${Date.now() - killedAt} ms after it was killed`);
    });

    it("restarts a container whose runner process dies, and it reconnects with the same runner ID", async () => {
        const container = running.get("zed-e2e-3")!;
        const runnerId = envOf(containers[2]).RUNNER_ID;
        const restartsBefore = (await container.inspect()).RestartCount;
        const killedAt = Date.now();
        await execIn(container, ["sh", "-c", 'kill -9 "$(cat /run/zed-runner/runner.pid)"']);
        await controlPlane.waitFor(
            `${runnerId} to reconnect`,
            () => controlPlane.handshakes.some((h) => h.runnerId === runnerId && h.at > killedAt),
            60_000,
        );
        const inspected = await container.inspect();
        expect(inspected.RestartCount).toBe(restartsBefore + 1);
        await eventually("the restarted runner to turn healthy", async () => ((await healthOf(container)) === "healthy" ? true : undefined), 60_000);
        console.log(`runner reconnected and healthy ${Date.now() - killedAt} ms after its process was killed`);
    });

    it("refuses to build without a Zed binary, saying what to put where", async () => {
        const build = imageBuild.inputs.build;
        const missing = "test/fixtures/no-such-zed-build";
        await expect(
            buildImage(build.context, ["Dockerfile.zed-agent", ...filesUnder(build.context, "image")], {
                tag: "zed-runner-test/no-zed:latest",
                dockerfile: "Dockerfile.zed-agent",
                buildargs: { ...build.args, ZED_BUILD_DIR: missing },
            }),
        ).rejects.toThrow(`no Zed binary at '${missing}/zed' in the build context`);
    });

    it("shows every runner healthy and connected in `npm run status`, and a killed one as stopped", async () => {
        const { hosts } = parseConfig(stackConfig, { stackName: STACK, machineHostName: os.hostname() });
        await eventually(
            "all runners healthy again",
            async () => ((await Promise.all([...running.values()].map(healthOf))).every((h) => h === "healthy") ? true : undefined),
            60_000,
        );
        const rows = await collectStatus(STACK, hosts, () => docker);
        expect(rows.map((r) => [r.runnerId, r.status, r.observed?.controlPlane?.connected])).toEqual([
            ["external-zed-e2e-1", "healthy", true],
            ["external-zed-e2e-2", "healthy", true],
            ["external-zed-e2e-3", "healthy", true],
        ]);
        expect(rows[0].observed?.memoryBytes).toBeGreaterThan(1024 * 1024);
        expect(needsAttention(rows)).toBe(false);

        await running.get("zed-e2e-1")!.kill();
        const after = await collectStatus(STACK, hosts, () => docker);
        expect(after.map((r) => r.status)).toEqual(["stopped", "healthy", "healthy"]);
        expect(needsAttention(after)).toBe(true);
        expect(renderStatus(after, new Date())).toMatch(/external-zed-e2e-1 +zed-e2e-1 +stopped/);
    });

    it("returns a runner's own lines from `npm run logs`", async () => {
        const text = await runnerLogs(docker, "zed-e2e-2", {});
        expect(text).toContain("helix (stub): connected to control plane as external-zed-e2e-2");
        expect(text).not.toContain("external-zed-e2e-3");
    });

    it("exits non-zero with a clear message, and no secret, when API_TOKEN is missing", async () => {
        const env = unwrapSecret<string[]>(containers[0].inputs.envs).filter((e) => !e.startsWith("API_TOKEN="));
        const container = await docker.createContainer({
            name: "zed-e2e-missing-token",
            Image: imageId,
            Env: env,
            Labels: { [LABELS.stack]: STACK },
        });
        await container.start();
        const { StatusCode } = await container.wait();
        const logs = await runnerLogs(docker, container.id, {});
        expect(StatusCode).toBe(64);
        expect(logs).toContain("zed-runner: FATAL: API_TOKEN is not set");
        for (const secret of secrets) expect(logs).not.toContain(secret);
    });
});

describe("a runner on Helix's compose network, reaching the API by service name", () => {
    let declared: Registration;
    let container: Docker.Container;

    beforeAll(async () => {
        // Stands in for Helix's docker-compose network and its `api` service: a TCP relay
        // (socat, from the runner image) named `api` that forwards to the fake control plane.
        await docker.createNetwork({ Name: COMPOSE_NETWORK, Driver: "bridge", Labels: { [LABELS.stack]: NETWORK_STACK } });
        const api = await docker.createContainer({
            name: "zed-e2e-compose-api",
            Image: imageId,
            Entrypoint: ["socat"],
            Cmd: ["TCP-LISTEN:8080,fork,reuseaddr", `TCP:host.docker.internal:${controlPlanePort}`],
            Labels: { [LABELS.stack]: NETWORK_STACK },
            HostConfig: { ExtraHosts: ["host.docker.internal:host-gateway"], NetworkMode: COMPOSE_NETWORK },
            NetworkingConfig: { EndpointsConfig: { [COMPOSE_NETWORK]: { Aliases: ["api"] } } },
        });
        await api.start();

        const { engine, error } = await runProgram(
            {
                apiToken: TOKEN,
                apiHost: "http://api:8080",
                networks: JSON.stringify([COMPOSE_NETWORK]),
                replicas: "1",
                hostName: "e2e-net",
                containerNamePrefix: "zed-e2e-net",
                rdpPortBase: "44389",
                vncPortBase: "46900",
                healthPortBase: "44030",
                memoryMb: "1024",
                shmSizeMb: "256",
                helixImage: STUB_HELIX_IMAGE,
                baseImage: BASE_IMAGE,
                zedBuildDir: "test/fixtures/zed-build",
            },
            NETWORK_STACK,
            [COMPOSE_NETWORK],
        );
        if (error) throw error;
        [declared] = engine.ofType("docker:index/container:Container");
        const [network] = engine.ofType("docker:index/network:Network");
        await docker.createNetwork({
            Name: network.inputs.name,
            Driver: network.inputs.driver,
            Labels: Object.fromEntries(network.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
        });
        // Same Dockerfile and build args as the first stack: the image built above is this stack's too.
        const spec = containerSpec(declared.inputs, imageId);
        expect(spec.joinedNetworks).toEqual([COMPOSE_NETWORK]);
        container = await docker.createContainer(spec.create);
        for (const name of spec.joinedNetworks) await docker.getNetwork(name).connect({ Container: container.id });
        await container.start();
    }, 300_000);

    it("connects to the control plane through the joined network", async () => {
        await controlPlane.waitFor(
            "external-zed-e2e-net-1 to connect",
            () => controlPlane.connectedRunnerIds().includes("external-zed-e2e-net-1"),
            60_000,
        );
        const response = await eventually(
            "a healthy runner",
            async () => {
                const r = await fetch(`http://127.0.0.1:${hostPort(declared, 3030)}/health`, { signal: AbortSignal.timeout(5000) });
                const body = await r.json();
                return r.status === 200 && body.controlPlane.connected ? body : undefined;
            },
            60_000,
        );
        expect(response.controlPlane).toMatchObject({ url: "http://api:8080", connected: true });
    });
});
