// End to end: a runner with the runtime hardening the program declares by default
// (read-only root file system, no-new-privileges, CPU shares, a PIDs limit), on a real
// engine: it still serves sessions and its desktop, and a fork bomb in a session stops
// at the PIDs limit. Declared by index.ts under Pulumi's mocks and created from the
// declared inputs (test/support/stack.ts), the PIDs limit set by the program's own
// ContainerPidsLimit provider. Test doubles: the fake control plane, the stub Zed.
import * as crypto from "node:crypto";
import type Docker from "dockerode";
import { CONTAINER_PORTS } from "../../contract";
import { FakeControlPlane, freshPassword } from "../support/fakeControlPlane";
import { eventually, execIn, removeLabelled, requireEngine } from "../support/docker";
import { rdpConnectionPduType, vncSnapshot } from "../support/protocols";
import { DeployedStack, deployStack, dockerBridgeAddress, envOf, healthOf, hostPort } from "../support/stack";
import { LABELS } from "../../components/labels";

const STACK = "e2e-harden";
const OFF_STACK = "e2e-harden-off";
const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
const TOKEN = `harden-${crypto.randomBytes(12).toString("hex")}`;
const ID = "external-zed-e2e-harden-1";
/** Low, so the fork bomb is cheap for the shared machine; the default is 1024. */
const PIDS_LIMIT = 256;

const controlPlane = new FakeControlPlane({ token: TOKEN });
let common: Record<string, string> = {};
let deployed: DeployedStack;
let container: Docker.Container;

/** Runs `command` in the runner as `user`: its exit status and output. */
const run = (command: string[], user?: string) => execIn(container, command, user);

/** The runner's pids cgroup counters, as the container sees them (cgroup v1, or v2). */
async function pidsCgroup(): Promise<{ current: number; max: string; refused: number }> {
    const read = async (file: string) => {
        const { exitCode, output } = await run(["sh", "-c", `cat /sys/fs/cgroup/pids/${file} 2>/dev/null || cat /sys/fs/cgroup/${file}`]);
        if (exitCode !== 0) throw new Error(`cannot read ${file}: ${output}`);
        return output.trim();
    };
    const events = await read("pids.events");
    return { current: Number(await read("pids.current")), max: await read("pids.max"), refused: Number(/max (\d+)/.exec(events)?.[1]) };
}

beforeAll(async () => {
    await requireEngine();
    for (const stack of [STACK, OFF_STACK]) await removeLabelled(LABELS.stack, stack);
    const port = await controlPlane.listen(dockerBridgeAddress());
    common = {
        apiToken: TOKEN,
        apiHost: `http://host.docker.internal:${port}`,
        bindAddress: "127.0.0.1",
        memoryMb: "1024",
        shmSizeMb: "256",
        baseImage: BASE_IMAGE,
        zedBuildDir: "test/fixtures/zed-build",
        replicas: "1",
    };
    // The hardening settings are left at their defaults but the PIDs limit.
    deployed = await deployStack(
        {
            ...common,
            hostName: "e2e-harden",
            containerNamePrefix: "zed-e2e-harden",
            publishDesktopPorts: "true",
            rdpPortBase: "46389",
            vncPortBase: "46900",
            healthPortBase: "46030",
            pidsLimit: String(PIDS_LIMIT),
        },
        STACK,
    );
    [container] = deployed.running.values();
    await eventually("a healthy runner", async () => ((await healthOf(container)) === "healthy" ? true : undefined), 120_000);
    await controlPlane.waitFor(`${ID} to connect`, () => controlPlane.connectedRunnerIds().includes(ID), 60_000);
}, 900_000);

afterAll(async () => {
    for (const stack of [STACK, OFF_STACK]) await removeLabelled(LABELS.stack, stack).catch(() => undefined);
    await controlPlane.close();
});

describe("a hardened runner on a real engine", () => {
    it("is declared with every protection on by default, and the engine shows each", async () => {
        const { HostConfig } = await container.inspect();
        expect(HostConfig.ReadonlyRootfs).toBe(true);
        expect(HostConfig.SecurityOpt).toEqual(["no-new-privileges:true"]);
        expect(HostConfig.PidsLimit).toBe(PIDS_LIMIT);
        expect(HostConfig.CpuShares).toBe(512);
        expect(Object.keys(HostConfig.Tmpfs ?? {}).sort()).toEqual(["/run", "/tmp"]);
        expect((HostConfig.Mounts ?? []).map((m) => [m.Type, m.Source ?? "", m.Target])).toEqual([
            ["volume", "", "/home/zed"],
            ["volume", "", "/workspace"],
            ["volume", "", "/tmp/zed-workspaces"],
        ]);
    });

    it("cannot change the image's files, as root or as zed, and no process can gain privileges", async () => {
        for (const user of ["root", "zed"]) {
            for (const file of ["/etc/passwd", "/usr/local/bin/zed", "/opt/zed-runner/agent/main.js"]) {
                const { exitCode, output } = await run(["sh", "-c", `: >> ${file}`], user);
                expect({ user, file, refused: exitCode !== 0 }).toEqual({ user, file, refused: true });
                expect(output).toMatch(/read-only file system|permission denied/i);
            }
        }
        // The agent, the desktop and every exec'd process: the kernel's own flag.
        const { output } = await run(["sh", "-c", "grep -h NoNewPrivs /proc/[0-9]*/status | sort | uniq -c"]);
        expect(output.trim()).toMatch(/^\d+\s+NoNewPrivs:\s+1$/);
        // su is setuid root; without new privileges it cannot become anyone.
        expect((await run(["su", "-c", "id", "root"], "zed")).exitCode).not.toBe(0);
    });

    it("serves its desktop on the published ports: xrdp's Connection Confirm, and a real VNC client logs in", async () => {
        const declared = deployed.declared[0];
        expect(await rdpConnectionPduType("127.0.0.1", hostPort(declared, CONTAINER_PORTS.rdp))).toBe(0xd0);
        expect(await vncSnapshot("127.0.0.1", hostPort(declared, CONTAINER_PORTS.vnc), envOf(declared).VNC_PASSWORD)).toBeGreaterThan(1000);
    });

    it("carries VNC over the reverse dial, and a VNC client logs in with the control plane's password", async () => {
        await controlPlane.waitFor(`${ID}'s reverse dial`, () => controlPlane.revdialRunnerIds().includes(ID), 30_000);
        const password = freshPassword();
        expect((await controlPlane.configurePassword(ID, password, ID)).reply.status).toBe("configured");
        const bridge = await controlPlane.bridgeToRunner(ID);
        try {
            expect(await vncSnapshot("127.0.0.1", bridge.port, password)).toBeGreaterThan(1000);
        } finally {
            bridge.close();
        }
    });

    it("runs a session: the stub Zed starts as zed in its workspace, writes there and in its home", async () => {
        const session = "ses_harden_1";
        const launch = await controlPlane.launch({ session_id: session, project_path: "workspace" }, ID);
        expect(launch.reply).toMatchObject({ status: "running", runner_id: ID, session_id: session, error: "" });
        const dir = `/tmp/zed-workspaces/${session}`;
        const report = await eventually(
            "the stub's report",
            async () => {
                const { exitCode, output } = await run(["cat", `${dir}/.zed-stub-report`]);
                return exitCode === 0 ? output : undefined;
            },
            20_000,
        );
        expect(report).toMatch(/^user=zed$/m);
        expect(report).toMatch(new RegExp(`^cwd=${dir}$`, "m"));
        // Zed's own folders: its settings the agent wrote, and the caches it makes.
        expect((await run(["sh", "-c", "mkdir -p ~/.cache/zed ~/.local/share/zed && touch ~/.local/share/zed/db"], "zed")).exitCode).toBe(
            0,
        );
        expect((await run(["test", "-s", "/home/zed/.config/zed/settings.json"])).exitCode).toBe(0);
        expect((await controlPlane.stop(session, ID)).reply).toMatchObject({ status: "stopped", session_id: session });
    });

    it("stops a fork bomb in a session at the PIDs limit, and the runner carries on", async () => {
        const before = await pidsCgroup();
        expect(before.max).toBe(String(PIDS_LIMIT));
        const session = "ses_harden_bomb";
        const launch = await controlPlane.launch({ session_id: session, env: [`ZED_STUB_FORK_BOMB=${PIDS_LIMIT * 8}`] }, ID);
        expect(launch.reply).toMatchObject({ status: "running", session_id: session });
        // The kernel refuses forks once the runner holds PIDS_LIMIT processes and threads; the stub gives up and the
        // runner ends its session, killing what it started. (An exec into a full container fails too: retried here.)
        const after = await eventually(
            "refused forks, and the session's processes gone",
            async () => {
                const counters = await pidsCgroup().catch(() => undefined);
                return counters && counters.refused > before.refused && counters.current < before.current + 20 ? counters : undefined;
            },
            120_000,
        );
        const started = Number((await run(["cat", `/tmp/zed-workspaces/${session}/.zed-stub-forks`])).output.trim());
        console.log(`fork bomb: ${started} processes started, ${after.refused - before.refused} forks refused, limit ${PIDS_LIMIT}`);
        expect(started).toBeGreaterThan(PIDS_LIMIT / 2);
        expect(started).toBeLessThan(PIDS_LIMIT);
        // Still a runner: healthy, connected, and it takes the next session.
        await eventually("a healthy runner", async () => ((await healthOf(container)) === "healthy" ? true : undefined), 60_000);
        const next = await controlPlane.launch({ session_id: "ses_harden_after" }, ID);
        expect(next.reply).toMatchObject({ status: "running", session_id: "ses_harden_after" });
        expect((await controlPlane.stop("ses_harden_after", ID)).reply).toMatchObject({ status: "stopped" });
    });
});

describe("a runner with every protection turned off", () => {
    it("has none of them on the engine, and still turns healthy", async () => {
        const off = await deployStack(
            {
                ...common,
                hostName: "e2e-harden-off",
                containerNamePrefix: "zed-e2e-harden-off",
                healthPortBase: "46130",
                readOnlyRootFilesystem: "false",
                noNewPrivileges: "false",
                pidsLimit: "0",
                cpuShares: "0",
            },
            OFF_STACK,
        );
        const [runner] = off.running.values();
        const { HostConfig } = await runner.inspect();
        expect(HostConfig.ReadonlyRootfs).toBe(false);
        expect(HostConfig.SecurityOpt ?? []).toEqual([]);
        expect(HostConfig.PidsLimit ?? 0).toBeLessThanOrEqual(0);
        expect(HostConfig.CpuShares).toBe(0);
        expect(HostConfig.Tmpfs ?? {}).toEqual({});
        expect(HostConfig.Mounts ?? []).toEqual([]);
        await eventually("a healthy runner", async () => ((await healthOf(runner)) === "healthy" ? true : undefined), 120_000);
    });
});
