// End to end: the runners index.ts declares, started on a real Docker engine,
// driven by a control plane that speaks Helix's protocol.
//
// The program runs under Pulumi's mocks with a test stack config; the image is
// built from the declared Dockerfile and build args, and the containers are
// created with exactly the declared inputs (see stack.ts). Test doubles: the
// fake control plane (test/support), the stub Zed binary
// (test/fixtures/zed-build), and for the compose case a TCP relay named `api`.
import * as crypto from "node:crypto";
import * as os from "node:os";
import type Docker from "dockerode";
import type WebSocket from "ws";
import { logsOf as runnerLogs } from "../../cli/logStreams";
import { collectStatus } from "../../cli/placements/dockerHosts";
import { RUNNER_COMMANDS } from "../../cli/workloads/runner";
import { needsAttention } from "../../cli/report/model";
import { renderStatus } from "../../cli/report/render";
import { parseConfig } from "../../components/stackPlan";
import { CONTAINER_PORTS, METRICS_PATH } from "../../contract";
import { hostsOf } from "../fixtures/placements";
import { Registration, unwrapSecret } from "../support/mocks";
import { FakeControlPlane, freshPassword } from "../support/fakeControlPlane";
import { Scrape, parseScrape } from "../support/prometheus";
import { leakedRuns } from "../support/secrets";
import { StubReport, parseStubReport } from "../support/stubZed";
import { buildImage, docker, eventually, execIn, filesUnder, removeLabelled, requireEngine } from "../support/docker";
import { rdpConnectionPduType, vncGreeting, vncSnapshot } from "../support/protocols";
import { DeployedStack, deployStack, dockerBridgeAddress, envOf, healthOf, hostPort } from "../support/stack";
import { LABELS } from "../../components/labels";

const STACK = "e2e";
const LIMITS_STACK = "e2e-limits";
const DESKTOP_STACK = "e2e-desktop";
const NETWORK_STACK = "e2e-net";
const START_STACK = "e2e-start";
const COMPOSE_NETWORK = "zed-e2e-helix";
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
/** Random, and holding every character that changes form when escaped or encoded. */
const TOKEN = `e2e"\\%+/=${crypto.randomBytes(12).toString("hex")}`;
const RUNNER_IDS = ["external-zed-e2e-1", "external-zed-e2e-2", "external-zed-e2e-3"];

/** The first message a picked-up desktop connection carries (VNC's RFB banner), then closes it; or why there was none. */
function bannerOver(ws: WebSocket): Promise<string> {
    return new Promise((resolve) => {
        ws.once("message", (d: Buffer) => {
            resolve(d.toString("latin1"));
            ws.close();
        });
        ws.once("close", () => resolve("closed before the banner"));
    });
}

/**
 * The first desktop connection each runner was asked for, the moment its reverse dial opened (the
 * RFB banner it carried, or why it failed): a real rc8 asks that early, while x11vnc may still be
 * starting, and this is what a runner that called its desktop reachable too soon failed.
 */
const dialedAtOnce = new Map<string, Promise<string>>();
const controlPlane: FakeControlPlane = new FakeControlPlane({
    token: TOKEN,
    onRevdial: (runnerId) => {
        if (dialedAtOnce.has(runnerId)) return;
        const banner = controlPlane.dialRunner(runnerId).then(bannerOver, (err: Error) => `failed: ${err.message}`);
        dialedAtOnce.set(runnerId, banner);
    },
});
let controlPlanePort = 0;
/** Settings every e2e stack shares. */
let common: Record<string, string> = {};
/** The first stack's config, as `pulumi config` would hold it. */
let stackConfig: Record<string, string> = {};
let deployed: DeployedStack;
/** Every secret the runs have seen: the token, the stack's passwords, the control plane's. */
const secrets: string[] = [TOKEN];

const containerOf = (i: number): Docker.Container => deployed.running.get(deployed.declared[i].inputs.name)!;
const declaredOf = (i: number): Registration => deployed.declared[i];

/** A runner's GET /metrics on its published health port: the text, as Prometheus would scrape it. */
async function metricsText(declared: Registration): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${hostPort(declared, CONTAINER_PORTS.health)}${METRICS_PATH}`, {
        signal: AbortSignal.timeout(5000),
    });
    expect([response.status, response.headers.get("content-type")]).toEqual([200, "text/plain; version=0.0.4; charset=utf-8"]);
    return response.text();
}

/** A runner's metrics, parsed with a Prometheus text-format parser. */
const metricsOf = async (declared: Registration): Promise<Scrape> => parseScrape(await metricsText(declared));

/** What the stub Zed reported about itself, read inside the container. */
async function stubReport(container: Docker.Container, dir: string): Promise<StubReport> {
    const { exitCode, output } = await execIn(container, ["cat", `${dir}/.zed-stub-report`]);
    if (exitCode !== 0) throw new Error(`no stub report in ${dir}`);
    return parseStubReport(output);
}

/** PIDs of processes in a container whose command line matches `pattern`. */
async function pids(container: Docker.Container, pattern: string): Promise<number[]> {
    const { output } = await execIn(container, ["pgrep", "-f", pattern]);
    return output.trim().split("\n").filter(Boolean).map(Number);
}

/** The runner agent's PID (tini's command line names the agent too, so match from the start). */
const AGENT = "^/usr/bin/node /usr/local/bin/zed-runner run";
const agentPid = async (container: Docker.Container) => (await pids(container, AGENT))[0];

/** PIDs of every process descended from `root`, from the container's own process table. */
async function descendants(container: Docker.Container, root: number): Promise<number[]> {
    const { output } = await execIn(container, ["ps", "-eo", "pid=,ppid="]);
    const children = new Map<number, number[]>();
    for (const [pid, ppid] of output
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s+/).map(Number)))
        children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    const out: number[] = [];
    const walk = (pid: number) => (children.get(pid) ?? []).forEach((c) => (out.push(c), walk(c)));
    walk(root);
    return out;
}

beforeAll(async () => {
    await requireEngine();
    for (const stack of [STACK, LIMITS_STACK, DESKTOP_STACK, NETWORK_STACK, START_STACK]) await removeLabelled(LABELS.stack, stack);
    controlPlanePort = await controlPlane.listen(dockerBridgeAddress());
    common = {
        apiToken: TOKEN,
        apiHost: `http://host.docker.internal:${controlPlanePort}`,
        bindAddress: "127.0.0.1",
        memoryMb: "1024",
        shmSizeMb: "256",
        baseImage: BASE_IMAGE,
        zedBuildDir: "test/fixtures/zed-build",
    };
    stackConfig = {
        ...common,
        replicas: "3",
        concurrency: "2",
        // This stack's tests open the desktops directly; the desktop stack below reaches them through the control plane.
        publishDesktopPorts: "true",
        hostName: "e2e",
        containerNamePrefix: "zed-e2e",
        rdpPortBase: "43389",
        vncPortBase: "45900",
        healthPortBase: "43030",
    };
    deployed = await deployStack(stackConfig, STACK);
    secrets.push(...deployed.declared.flatMap((c) => [envOf(c).RDP_PASSWORD, envOf(c).VNC_PASSWORD]));
}, 900_000);

afterAll(async () => {
    for (const stack of [STACK, LIMITS_STACK, DESKTOP_STACK, NETWORK_STACK, START_STACK])
        await removeLabelled(LABELS.stack, stack).catch(() => undefined);
    await controlPlane.close();
});

describe("runners declared by index.ts, on a real engine", () => {
    it("declares three runners with distinct secrets", () => {
        expect(deployed.declared.map((c) => c.inputs.name)).toEqual(["zed-e2e-1", "zed-e2e-2", "zed-e2e-3"]);
        expect(new Set(secrets).size).toBe(7);
    });

    it("turns every container healthy through the agent's own health check", async () => {
        const started = Date.now();
        for (const container of deployed.running.values()) {
            await eventually("a healthy runner", async () => ((await healthOf(container)) === "healthy" ? true : undefined), 60_000);
        }
        console.log(`all 3 runners healthy ${Date.now() - started} ms after the first check began`);
    });

    it("connects each runner to the control plane with its own ID, the exact token and the concurrency", async () => {
        await controlPlane.waitFor("3 runners connected", () => controlPlane.connectedRunnerIds().length === 3, 60_000);
        expect(controlPlane.connectedRunnerIds()).toEqual(RUNNER_IDS);
        for (const handshake of controlPlane.handshakes) {
            expect(handshake.accessToken).toBe(TOKEN);
            expect(handshake.concurrency).toBe("2");
        }
        expect(controlPlane.refusals).toEqual([]);
    });

    it("answers on each health port with every component up and the link connected", async () => {
        for (const declared of deployed.declared) {
            const response = await fetch(`http://127.0.0.1:${hostPort(declared, CONTAINER_PORTS.health)}/health`, {
                signal: AbortSignal.timeout(5000),
            });
            expect(response.status).toBe(200);
            const body = await response.json();
            expect(body).toMatchObject({
                status: "ok",
                runnerId: envOf(declared).RUNNER_ID,
                components: { xvfb: "up", windowManager: "up", vnc: "up", rdp: "up" },
                controlPlane: { url: envOf(declared).API_HOST, connected: true, lastError: null },
                sessions: { live: 0, limit: 2, started: 0 },
                revdial: { mode: "auto", status: "up", lastError: null },
            });
        }
    });

    it("picks up the desktop connection each runner was asked for the moment its reverse dial opened", async () => {
        for (const id of RUNNER_IDS) {
            const banner = await eventually(`${id}'s reverse dial to open`, () => dialedAtOnce.get(id), 60_000);
            expect([id, await banner]).toEqual([id, expect.stringMatching(/^RFB 003\.00\d\n$/)]);
        }
    });

    it("listens inside the container on exactly the ports the contract names", async () => {
        const { output } = await execIn(containerOf(0), ["sh", "-c", "cat /proc/net/tcp /proc/net/tcp6"]);
        const listening = new Set(
            output
                .split("\n")
                .map((l) => l.trim().split(/\s+/))
                .filter((c) => c[3] === "0A")
                .map((c) => parseInt(c[1].split(":").pop()!, 16)),
        );
        for (const port of Object.values(CONTAINER_PORTS)) expect(listening).toContain(port);
        const others = [...listening].filter((p) => !Object.values(CONTAINER_PORTS).includes(p as never));
        if (others.length) console.log(`also listening inside the container: ${others.join(", ")}`);
        // Nothing else on a well-known port: anything besides the contract is an ephemeral helper socket.
        expect(others.filter((p) => p < 32768)).toEqual([]);
    });

    it("answers an RDP connection request with a Connection Confirm on each RDP port", async () => {
        for (const declared of deployed.declared) {
            expect(await rdpConnectionPduType("127.0.0.1", hostPort(declared, CONTAINER_PORTS.rdp))).toBe(0xd0);
        }
    });

    it("offers VNC authentication only, and a real VNC client logs in with the stack's VNC password", async () => {
        for (const declared of deployed.declared) {
            const greeting = await vncGreeting("127.0.0.1", hostPort(declared, CONTAINER_PORTS.vnc));
            expect(greeting.securityTypes).toEqual([2]);
        }
        expect(
            await vncSnapshot("127.0.0.1", hostPort(declaredOf(0), CONTAINER_PORTS.vnc), envOf(declaredOf(0)).VNC_PASSWORD),
        ).toBeGreaterThan(1000);
        await expect(vncSnapshot("127.0.0.1", hostPort(declaredOf(0), CONTAINER_PORTS.vnc), "wrong-pw")).rejects.toThrow(
            /authentication failed/i,
        );
    });

    it("publishes every port on 127.0.0.1 only", async () => {
        for (const container of deployed.running.values()) {
            const bindings = Object.values((await container.inspect()).NetworkSettings.Ports).flatMap((b) => b ?? []);
            expect(bindings).toHaveLength(3);
            expect(new Set(bindings.map((b) => b.HostIp))).toEqual(new Set(["127.0.0.1"]));
        }
    });

    it("runs the desktop as user zed and only the agent and xrdp as root", async () => {
        const { output } = await execIn(containerOf(0), ["ps", "-eo", "user=,comm="]);
        const rows = output
            .trim()
            .split("\n")
            .map((l) => l.trim().split(/\s+/))
            .filter(([, comm]) => comm !== "ps");
        const byCommand = Object.fromEntries(rows.map(([user, comm]) => [comm, user]));
        // The agent's command name is its script's, zed-runner.
        // Command names are cut at 15 characters (matchbox-window-manager).
        expect(byCommand).toMatchObject({
            Xvfb: "zed",
            "matchbox-window": "zed",
            x11vnc: "zed",
            "zed-runner": "root",
            xrdp: "root",
            tini: "root",
        });
    });
});

describe("sessions from the control plane", () => {
    const SESSION = "ses_e2e_1";
    let launch: Awaited<ReturnType<FakeControlPlane["launch"]>>;

    it("launches Zed from a flat ZedAgent with a fresh password and no work_dir, and replies running with our ID and a pid", async () => {
        launch = await controlPlane.launch(
            { session_id: SESSION, project_path: "workspace", env: ["SPEC_TASK_ID=spt_1", "HELIX_API_SERVER=http://api:8080"] },
            RUNNER_IDS[0],
        );
        secrets.push(launch.password);
        expect(launch.reply).toMatchObject({
            status: "running",
            runner_id: RUNNER_IDS[0],
            session_id: SESSION,
            error: "",
            rdp_password: "",
        });
        expect(launch.reply.pid).toBeGreaterThan(1);
        console.log(`launch -> reply in ${launch.ms} ms`);
    });

    it("runs the stub Zed as zed, in WORKSPACE_DIR/<session>, in its own process group, with the documented environment and no secret", async () => {
        const dir = `/tmp/zed-workspaces/${SESSION}`;
        const report = await eventually("the stub's report", async () => stubReport(containerOf(0), dir).catch(() => undefined), 10_000);
        expect(report.fields).toMatchObject({
            user: "zed",
            cwd: dir,
            args: `${dir}/workspace`,
            pid: String(launch.reply.pid),
            pgid: String(launch.reply.pid),
        });
        expect(report.env).toEqual({
            PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            DISPLAY: ":1",
            HOME: "/home/zed",
            USER: "zed",
            LOGNAME: "zed",
            WORKSPACE_DIR: dir,
            PROJECT_PATH: `${dir}/workspace`,
            HELIX_SESSION_ID: SESSION,
            SPEC_TASK_ID: "spt_1",
            HELIX_API_SERVER: "http://api:8080",
        });
        const { output } = await execIn(containerOf(0), ["stat", "-c", "%U", dir]);
        expect(output.trim()).toBe("zed");
    });

    it("makes the control plane's password the desktop's: a VNC client logs in with it, the stack's old ones are refused", async () => {
        const vncPort = hostPort(declaredOf(0), CONTAINER_PORTS.vnc);
        expect(await vncSnapshot("127.0.0.1", vncPort, launch.password)).toBeGreaterThan(1000);
        await expect(vncSnapshot("127.0.0.1", vncPort, envOf(declaredOf(0)).VNC_PASSWORD)).rejects.toThrow(/authentication failed/i);
        await expect(vncSnapshot("127.0.0.1", vncPort, envOf(declaredOf(0)).RDP_PASSWORD)).rejects.toThrow(/authentication failed/i);
    });

    it("applies rc8's password-config for its own runner ID only, even when another runner receives it", async () => {
        const othersPassword = freshPassword();
        secrets.push(othersPassword);
        const other = await controlPlane.configurePassword(RUNNER_IDS[1], othersPassword, RUNNER_IDS[0]);
        expect(other.reply).toMatchObject({ status: "error", runner_id: RUNNER_IDS[0] });
        const vncPort1 = hostPort(declaredOf(1), CONTAINER_PORTS.vnc);
        const newPassword = freshPassword();
        secrets.push(newPassword);
        const mine = await controlPlane.configurePassword(RUNNER_IDS[1], newPassword, RUNNER_IDS[1]);
        expect(mine.reply).toMatchObject({ status: "configured", runner_id: RUNNER_IDS[1] });
        expect(await vncSnapshot("127.0.0.1", vncPort1, newPassword)).toBeGreaterThan(1000);
        await expect(vncSnapshot("127.0.0.1", vncPort1, envOf(declaredOf(1)).VNC_PASSWORD)).rejects.toThrow(/authentication failed/i);
    });

    it("shows the session in /health and `npm run status`", async () => {
        const hosts = hostsOf(parseConfig(stackConfig, { stackName: STACK, machineHostName: os.hostname() }));
        const rows = await collectStatus(STACK, hosts, RUNNER_COMMANDS, () => docker);
        expect(rows[0].observed?.sessions).toEqual({ live: 1, limit: 2 });
        expect(renderStatus(rows, new Date(), RUNNER_COMMANDS.status)).toMatch(/external-zed-e2e-1 +zed-e2e-1 +healthy .* 1\/2 /);
    });

    it("ends the session's process group on a stop, and answers a stop for another runner's session with an error", async () => {
        const misrouted = await controlPlane.stop(SESSION, RUNNER_IDS[2]);
        expect(misrouted.reply).toMatchObject({ status: "error", runner_id: RUNNER_IDS[2] });
        const stopped = await controlPlane.stop(SESSION, RUNNER_IDS[0]);
        expect(stopped.reply).toMatchObject({ status: "stopped", session_id: SESSION, runner_id: RUNNER_IDS[0] });
        expect(await pids(containerOf(0), "/usr/local/bin/zed ")).toEqual([]);
    });

    it("counts the session in /metrics: started, ended by the stop, its launch's reply timed, the desktop up", async () => {
        const m = await metricsOf(declaredOf(0));
        expect(m.value("zed_runner_info", { runner_id: RUNNER_IDS[0] })).toBe(1);
        expect(m.value("zed_runner_sessions_started_total")).toBe(1);
        expect(m.value("zed_runner_sessions_ended_total", { reason: "stop" })).toBe(1);
        expect(m.value("zed_runner_sessions_ended_total", { reason: "zed_exit" })).toBe(0);
        expect(m.histogramCount("zed_runner_launch_reply_seconds")).toBe(1);
        expect(m.value("zed_runner_sessions_live")).toBe(0);
        expect(m.value("zed_runner_sessions_limit")).toBe(2);
        expect(m.value("zed_runner_control_plane_up")).toBe(1);
        expect(m.value("zed_runner_reverse_dial_up")).toBe(1);
        for (const component of ["xvfb", "windowManager", "vnc", "rdp"])
            expect([component, m.value("zed_runner_desktop_component_up", { component })]).toEqual([component, 1]);
        expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
        // Runner 2 got only a password configuration and a stop for another runner's session.
        expect((await metricsOf(declaredOf(1))).value("zed_runner_sessions_started_total")).toBe(0);
        expect((await metricsOf(declaredOf(2))).value("zed_runner_sessions_ended_total", { reason: "stop" })).toBe(0);
    });
});

describe("the control plane gone until every runner has backed off, then back", () => {
    it("reconnects every runner once it returns, under the same IDs", async () => {
        const before = controlPlane.handshakes.length;
        await controlPlane.goAway();
        // Gone until each runner says (in /health) it has failed five dials: backed off to its longest pause.
        await eventually(
            "every runner to have failed five dials",
            async () => {
                const links = await Promise.all(
                    deployed.declared.map(async (declared) => {
                        const response = await fetch(`http://127.0.0.1:${hostPort(declared, CONTAINER_PORTS.health)}/health`, {
                            signal: AbortSignal.timeout(5000),
                        });
                        return (await response.json()).controlPlane;
                    }),
                );
                return links.every((l) => !l.connected && l.failedDials >= 5);
            },
            60_000,
        );
        const back = Date.now();
        await controlPlane.listen();
        await controlPlane.waitFor("3 runners back", () => controlPlane.connectedRunnerIds().length === 3, 30_000);
        // Printed, not asserted (the machine may be busy): the agent's unit tests hold the pause between dials to 1 s.
        console.log(`all 3 runners reconnected ${Date.now() - back} ms after the control plane returned`);
        expect(controlPlane.connectedRunnerIds()).toEqual(RUNNER_IDS);
        expect(controlPlane.handshakes.length).toBe(before + 3);
        for (const declared of deployed.declared) {
            const m = await metricsOf(declared);
            expect([envOf(declared).RUNNER_ID, m.value("zed_runner_control_plane_reconnects_total")]).toEqual([
                envOf(declared).RUNNER_ID,
                1,
            ]);
            expect(m.value("zed_runner_control_plane_up")).toBe(1);
        }
    }, 120_000);
});

describe("limits: CONCURRENCY, SESSION_TIMEOUT and MAX_TASKS", () => {
    let limits: DeployedStack;
    const ID = "external-zed-e2e-limits-1";

    beforeAll(async () => {
        limits = await deployStack(
            {
                ...common,
                replicas: "1",
                concurrency: "1",
                maxTasks: "2",
                sessionTimeout: "3",
                hostName: "e2e-limits",
                containerNamePrefix: "zed-e2e-limits",
                rdpPortBase: "47389",
                vncPortBase: "47900",
                healthPortBase: "47030",
            },
            LIMITS_STACK,
        );
        secrets.push(envOf(limits.declared[0]).RDP_PASSWORD, envOf(limits.declared[0]).VNC_PASSWORD);
        await controlPlane.waitFor(`${ID} to connect`, () => controlPlane.connectedRunnerIds().includes(ID), 60_000);
    }, 300_000);

    it("refuses a launch beyond CONCURRENCY, naming the limit", async () => {
        const first = await controlPlane.launch({ session_id: "ses_l1" }, ID);
        const second = await controlPlane.launch({ session_id: "ses_l2" }, ID);
        secrets.push(first.password, second.password);
        expect(first.reply.status).toBe("running");
        expect(second.reply).toMatchObject({ status: "error", error: `runner ${ID} is at its CONCURRENCY limit of 1 live session` });
    });

    it("ends a session after SESSION_TIMEOUT", async () => {
        const container = [...limits.running.values()][0];
        await eventually(
            "the timeout to end ses_l1",
            async () => ((await pids(container, "/usr/local/bin/zed ")).length === 0 ? true : undefined),
            10_000,
        );
        // Zed gone is not yet the session ended: wait until the runner itself counts no live
        // session, or the next test's launch can still meet the CONCURRENCY limit.
        await eventually(
            "the runner to count no live session",
            async () => {
                const response = await fetch(`http://127.0.0.1:${hostPort(limits.declared[0], CONTAINER_PORTS.health)}/health`, {
                    signal: AbortSignal.timeout(5000),
                });
                return (await response.json()).sessions.live === 0 ? true : undefined;
            },
            30_000,
        );
        const logs = await runnerLogs(docker, container.id, {});
        expect(logs).toContain("session ses_l1: SESSION_TIMEOUT of 3 s reached");
        const m = await metricsOf(limits.declared[0]);
        expect(m.value("zed_runner_sessions_started_total")).toBe(1);
        expect(m.value("zed_runner_sessions_ended_total", { reason: "timeout" })).toBe(1);
        expect(m.value("zed_runner_launches_refused_total", { reason: "concurrency" })).toBe(1);
        expect(m.histogramCount("zed_runner_launch_reply_seconds")).toBe(2);
        expect(m.value("zed_runner_draining")).toBe(0);
    });

    it("after MAX_TASKS sessions exits 0, and its restart policy brings it back under the same ID", async () => {
        const container = [...limits.running.values()][0];
        const restartsBefore = (await container.inspect()).RestartCount;
        const third = await controlPlane.launch({ session_id: "ses_l3" }, ID);
        secrets.push(third.password);
        expect(third.reply.status).toBe("running");
        const fourth = await controlPlane.launch({ session_id: "ses_l4" }, ID);
        secrets.push(fourth.password);
        expect(fourth.reply.error).toContain("has run its MAX_TASKS=2 sessions");
        const handshakesBefore = controlPlane.handshakes.filter((h) => h.runnerId === ID).length;
        await controlPlane.stop("ses_l3", ID);
        await eventually("a restart", async () => ((await container.inspect()).RestartCount > restartsBefore ? true : undefined), 60_000);
        await controlPlane.waitFor(
            `${ID} back`,
            () => controlPlane.handshakes.filter((h) => h.runnerId === ID).length > handshakesBefore,
            60_000,
        );
        const logs = await runnerLogs(docker, container.id, {});
        expect(logs).toContain("MAX_TASKS=2 sessions done; exiting so the restart policy starts a fresh runner");
    });
});

describe("remote desktop through the control plane, with no desktop port published", () => {
    let desktop: DeployedStack;
    const ID = "external-zed-e2e-desktop-1";

    beforeAll(async () => {
        desktop = await deployStack(
            { ...common, replicas: "1", hostName: "e2e-desktop", containerNamePrefix: "zed-e2e-desktop", healthPortBase: "48030" },
            DESKTOP_STACK,
        );
        secrets.push(envOf(desktop.declared[0]).RDP_PASSWORD, envOf(desktop.declared[0]).VNC_PASSWORD);
        await controlPlane.waitFor(`${ID} to connect`, () => controlPlane.connectedRunnerIds().includes(ID), 60_000);
        await controlPlane.waitFor(`${ID}'s reverse dial`, () => controlPlane.revdialRunnerIds().includes(ID), 30_000);
    }, 300_000);

    it("publishes only the health port", async () => {
        const [container] = desktop.running.values();
        const bindings = (await container.inspect()).HostConfig.PortBindings ?? {};
        expect(Object.keys(bindings)).toEqual([`${CONTAINER_PORTS.health}/tcp`]);
    });

    it("carries RDP over the runner's WebSocket: a Connection Request gets xrdp's Connection Confirm", async () => {
        const answer: Buffer[] = [];
        const unsubscribe = controlPlane.onRdpResponse(ID, (d) => answer.push(d), "runner");
        const connectionRequest = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x01, 0, 0, 0]);
        const ack = await controlPlane.sendRdpChunk(ID, connectionRequest, ID, "runner");
        console.log(`RDP chunk acknowledged in ${ack.ms} ms`);
        expect(JSON.parse(ack.reply.toString())).toEqual({ status: "ok" });
        await eventually("xrdp's answer", async () => (Buffer.concat(answer).length >= 6 ? true : undefined), 10_000);
        unsubscribe();
        expect(Buffer.concat(answer)[5]).toBe(0xd0);
    });

    it("picks up the desktop connection asked for the moment its reverse dial opened, while its desktop was starting", async () => {
        expect(await eventually(`${ID}'s reverse dial to open`, () => dialedAtOnce.get(ID), 60_000)).toMatch(/^RFB 003\.00\d\n$/);
    });

    it("carries VNC over the reverse dial: the RFB banner, then a real VNC client logs in with the password-config password", async () => {
        const first = await controlPlane.dialRunner(ID);
        const banner = await new Promise<Buffer>((resolve) => first.once("message", (d: Buffer) => resolve(d)));
        expect(banner.toString("latin1")).toMatch(/^RFB 003\.00\d\n$/);
        first.close();

        const password = freshPassword();
        secrets.push(password);
        const configured = await controlPlane.configurePassword(ID, password, ID);
        expect(configured.reply.status).toBe("configured");

        // A local TCP port carried over the reverse dial, as Guacamole's side would.
        const bridge = await controlPlane.bridgeToRunner(ID);
        const port = bridge.port;
        try {
            expect(await vncSnapshot("127.0.0.1", port, password)).toBeGreaterThan(1000);
            await expect(vncSnapshot("127.0.0.1", port, envOf(desktop.declared[0]).VNC_PASSWORD)).rejects.toThrow(/authentication failed/i);
        } finally {
            bridge.close();
        }
    });

    it("reports the reverse dial and the open tunnels in /health", async () => {
        const [container] = desktop.running.values();
        const ws = await controlPlane.dialRunner(ID);
        const health = await eventually(
            "a tunnel in /health",
            async () => {
                const body = JSON.parse((await execIn(container, ["/usr/local/bin/zed-runner", "healthcheck"])).output);
                return body.tunnels.vnc === 1 ? body : undefined;
            },
            10_000,
        );
        ws.close();
        expect(health.revdial).toMatchObject({ mode: "auto", status: "up", lastError: null });
        // The one asked for at once, the banner's, the VNC client's, and this one.
        expect(health.revdial.pickedUp).toBeGreaterThanOrEqual(4);
    });

    it("counts both tunnels and their bytes each way in /metrics", async () => {
        const m = await metricsOf(desktop.declared[0]);
        expect(m.value("zed_runner_tunnels_opened_total", { kind: "rdp" })).toBe(1);
        // The Connection Request in, xrdp's Connection Confirm out.
        expect(m.value("zed_runner_tunnel_bytes_total", { kind: "rdp", direction: "to_desktop" })).toBe(19);
        expect(m.value("zed_runner_tunnel_bytes_total", { kind: "rdp", direction: "from_desktop" })).toBeGreaterThanOrEqual(6);
        expect(m.value("zed_runner_tunnels_opened_total", { kind: "vnc" })).toBeGreaterThanOrEqual(4);
        // A real VNC login and a screenshot went over the reverse dial: its framebuffer alone is well over 1000 bytes.
        expect(m.value("zed_runner_tunnel_bytes_total", { kind: "vnc", direction: "from_desktop" })).toBeGreaterThan(1000);
        expect(m.value("zed_runner_tunnel_bytes_total", { kind: "vnc", direction: "to_desktop" })).toBeGreaterThan(12);
        expect(m.value("zed_runner_reverse_dial_up")).toBe(1);
    });
});

describe("secrets", () => {
    it("are in no child process's environment or command line, a Zed session's included", async () => {
        const container = containerOf(0);
        const launch = await controlPlane.launch({ session_id: "ses_env_check" }, RUNNER_IDS[0]);
        secrets.push(launch.password);
        await eventually(
            "the session's report",
            async () => stubReport(container, "/tmp/zed-workspaces/ses_env_check").catch(() => undefined),
            10_000,
        );
        const children = await descendants(container, await agentPid(container));
        // Without CAP_SYS_PTRACE (Docker drops it) only a process's own user may read its environ: read as both.
        const read = children
            .map((p) => `tr '\\0' '\\n' < /proc/${p}/environ 2>/dev/null; tr '\\0' ' ' < /proc/${p}/cmdline 2>/dev/null; echo`)
            .join("; ");
        const output = (await execIn(container, ["sh", "-c", read])).output + (await execIn(container, ["sh", "-c", read], "zed")).output;
        await controlPlane.stop("ses_env_check", RUNNER_IDS[0]);
        expect(output).toContain("HOME=/root");
        // Xvfb, the window manager, x11vnc, xrdp, the stub Zed and its sleep.
        expect(children.length).toBeGreaterThanOrEqual(5);
        expect(output).toContain("HELIX_SESSION_ID=ses_env_check");
        for (const secret of secrets) expect(leakedRuns(output, secret)).toEqual([]);
    });

    it("appear in no /metrics scrape in any encoding, and no session ID does either", async () => {
        for (const declared of deployed.declared) {
            const text = await metricsText(declared);
            expect(text).toContain("zed_runner_sessions_started_total");
            for (const secret of secrets) expect(leakedRuns(text, secret)).toEqual([]);
            expect(text).not.toContain("ses_");
        }
    });

    it("appear in no log line in any encoding, nor in the image", async () => {
        for (const container of deployed.running.values()) {
            const logs = await runnerLogs(docker, container.id, {});
            expect(logs).toContain("connected to the control plane");
            for (const secret of secrets) expect(leakedRuns(logs, secret)).toEqual([]);
        }
        const history = JSON.stringify(await docker.getImage(deployed.imageId).history());
        const config = JSON.stringify((await docker.getImage(deployed.imageId).inspect()).Config);
        for (const secret of secrets) {
            expect(history).not.toContain(secret);
            expect(config).not.toContain(secret);
        }
    });
});

describe("recovery and operator commands", () => {
    it("brings a killed x11vnc back, and a desktop connection asked for meanwhile waits for it", async () => {
        const container = containerOf(1);
        const [before] = await pids(container, "x11vnc");
        await execIn(container, ["kill", "-9", String(before)]);
        const killedAt = Date.now();
        // Asked for while x11vnc is dead or restarting: picked up once it listens again, not refused.
        expect(await bannerOver(await controlPlane.dialRunner(RUNNER_IDS[1]))).toMatch(/^RFB 003\.00\d\n$/);
        await eventually(
            "x11vnc to answer again",
            async () => {
                const [now] = await pids(container, "x11vnc");
                if (!now || now === before) return undefined;
                return (await vncGreeting("127.0.0.1", hostPort(declaredOf(1), CONTAINER_PORTS.vnc), 1000)).securityTypes.includes(2)
                    ? true
                    : undefined;
            },
            30_000,
        );
        expect(await pids(container, "x11vnc")).not.toContain(before);
        console.log(`x11vnc answered again ${Date.now() - killedAt} ms after it was killed`);
        const m = await eventually(
            "the restarted x11vnc up in /metrics",
            async () => {
                const now = await metricsOf(declaredOf(1));
                return now.value("zed_runner_desktop_component_up", { component: "vnc" }) === 1 ? now : undefined;
            },
            30_000,
        );
        expect(m.value("zed_runner_desktop_component_restarts_total", { component: "vnc" })).toBe(1);
        expect(m.value("zed_runner_desktop_component_restarts_total", { component: "rdp" })).toBe(0);
    });

    it("restarts a container whose agent dies, and it reconnects with the same runner ID", async () => {
        const container = containerOf(2);
        const restartsBefore = (await container.inspect()).RestartCount;
        const killedAt = Date.now();
        const agent = await agentPid(container);
        expect(agent).toBeGreaterThan(1);
        await execIn(container, ["kill", "-9", String(agent)]);
        await controlPlane.waitFor(
            `${RUNNER_IDS[2]} to reconnect`,
            () => controlPlane.handshakes.some((h) => h.runnerId === RUNNER_IDS[2] && h.at > killedAt),
            60_000,
        );
        expect((await container.inspect()).RestartCount).toBe(restartsBefore + 1);
        await eventually(
            "the restarted runner to turn healthy",
            async () => ((await healthOf(container)) === "healthy" ? true : undefined),
            60_000,
        );
        console.log(`runner reconnected and healthy ${Date.now() - killedAt} ms after its agent was killed`);
    });

    it("refuses to build without a Zed binary, saying what to put where", async () => {
        const build = deployed.image.inputs.build;
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
        const hosts = hostsOf(parseConfig(stackConfig, { stackName: STACK, machineHostName: os.hostname() }));
        // Waits on the command's own rows: on a loaded machine a health check can time out once
        // in a while, and Docker's status may flip between Docker's health and the status call.
        const expected = JSON.stringify(RUNNER_IDS.map((id) => [id, "healthy", true]));
        const rows = await eventually(
            "every row healthy and connected",
            async () => {
                const current = await collectStatus(STACK, hosts, RUNNER_COMMANDS, () => docker);
                const seen = current.map((r) => [r.runnerId, r.status, r.observed?.controlPlane?.connected]);
                return JSON.stringify(seen) === expected ? current : undefined;
            },
            90_000,
            1000,
        );
        expect(rows.map((r) => [r.runnerId, r.status, r.observed?.controlPlane?.connected])).toEqual(
            RUNNER_IDS.map((id) => [id, "healthy", true]),
        );
        expect(rows[0].observed?.memoryBytes).toBeGreaterThan(1024 * 1024);
        expect(needsAttention(rows)).toBe(false);

        await containerOf(0).kill();
        const after = await collectStatus(STACK, hosts, RUNNER_COMMANDS, () => docker);
        expect(after.map((r) => r.status)).toEqual(["stopped", "healthy", "healthy"]);
        expect(needsAttention(after)).toBe(true);
        expect(renderStatus(after, new Date(), RUNNER_COMMANDS.status)).toMatch(/external-zed-e2e-1 +zed-e2e-1 +stopped/);
    });

    it("returns a runner's own lines from `npm run logs`", async () => {
        const text = await runnerLogs(docker, "zed-e2e-2", {});
        expect(text).toContain(`zed-runner: info: runner ${RUNNER_IDS[1]}: control plane http://host.docker.internal:${controlPlanePort}`);
        expect(text).not.toContain(RUNNER_IDS[2]);
    });

    it("exits 64 with a clear message, and no secret, when API_TOKEN is missing", async () => {
        const env = unwrapSecret<string[]>(declaredOf(0).inputs.envs).filter((e) => !e.startsWith("API_TOKEN="));
        const container = await docker.createContainer({
            name: "zed-e2e-missing-token",
            Image: deployed.imageId,
            Env: env,
            Labels: { [LABELS.stack]: STACK },
        });
        await container.start();
        const { StatusCode } = await container.wait();
        const logs = await runnerLogs(docker, container.id, {});
        expect(StatusCode).toBe(64);
        expect(logs).toContain("zed-runner: FATAL: API_TOKEN is not set");
        for (const secret of secrets) expect(leakedRuns(logs, secret)).toEqual([]);
    });
});

describe("a runner on Helix's compose network, reaching the API by service name", () => {
    let declared: Registration;

    beforeAll(async () => {
        // Stands in for Helix's docker-compose network and its `api` service: a TCP relay
        // (Node, from the runner image) named `api` that forwards to the fake control plane.
        await docker.createNetwork({ Name: COMPOSE_NETWORK, Driver: "bridge", Labels: { [LABELS.stack]: NETWORK_STACK } });
        const relay = `require("net").createServer((c) => { const u = require("net").connect(${controlPlanePort}, "host.docker.internal"); c.pipe(u).pipe(c); c.on("error", () => u.destroy()); u.on("error", () => c.destroy()); }).listen(8080)`;
        const api = await docker.createContainer({
            name: "zed-e2e-compose-api",
            Image: deployed.imageId,
            Entrypoint: ["/usr/bin/node", "-e", relay],
            Labels: { [LABELS.stack]: NETWORK_STACK },
            HostConfig: { ExtraHosts: ["host.docker.internal:host-gateway"], NetworkMode: COMPOSE_NETWORK },
            NetworkingConfig: { EndpointsConfig: { [COMPOSE_NETWORK]: { Aliases: ["api"] } } },
        });
        await api.start();
        const stack = await deployStack(
            {
                ...common,
                apiHost: "http://api:8080",
                networks: JSON.stringify([COMPOSE_NETWORK]),
                replicas: "1",
                hostName: "e2e-net",
                containerNamePrefix: "zed-e2e-net",
                rdpPortBase: "44389",
                vncPortBase: "46900",
                healthPortBase: "44030",
            },
            NETWORK_STACK,
            [COMPOSE_NETWORK],
        );
        [declared] = stack.declared;
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
                const r = await fetch(`http://127.0.0.1:${hostPort(declared, CONTAINER_PORTS.health)}/health`, {
                    signal: AbortSignal.timeout(5000),
                });
                const body = await r.json();
                return r.status === 200 && body.controlPlane.connected ? body : undefined;
            },
            60_000,
        );
        expect(response.controlPlane).toMatchObject({ url: "http://api:8080", connected: true });
    });
});

describe("Docker 25's health check start interval (healthStartInterval)", () => {
    it("reaches an engine that has it (Engine API 1.44+), which keeps it; an older one drops it; healthy either way", async () => {
        const stack = await deployStack(
            {
                ...common,
                replicas: "1",
                healthStartInterval: "true",
                hostName: "e2e-start",
                containerNamePrefix: "zed-e2e-start",
                rdpPortBase: "49389",
                vncPortBase: "49900",
                healthPortBase: "49030",
            },
            START_STACK,
        );
        const [container] = stack.running.values();
        const [major, minor] = (await docker.version()).ApiVersion.split(".").map(Number);
        const hasStartInterval = major > 1 || (major === 1 && minor >= 44);
        const healthcheck = (await container.inspect()).Config.Healthcheck as { StartInterval?: number } | undefined;
        // An older engine ignores the field, and the provider's client refuses to send it there (hence opt-in).
        expect(healthcheck?.StartInterval).toBe(hasStartInterval ? 1e9 : undefined);
        await eventually("a healthy runner", async () => ((await healthOf(container)) === "healthy" ? true : undefined), 60_000);
    });
});
