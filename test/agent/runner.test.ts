// The runner agent's core against the fake control plane over a real WebSocket:
// launches, stops, password configurations, limits, timeouts, MAX_TASKS,
// malformed frames, RDP tunnels, reconnects, the clean stop, and no secret in
// any log line or in Zed's environment. Test doubles: the fake control plane,
// the stub Zed binary (really spawned), a stub xrdp and a recorded chpasswd.
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULT_TIMING } from "../../agent/controlLink";
import { DesktopPasswords } from "../../agent/desktop";
import type { Readiness } from "../../agent/localServer";
import { Redactor, createLogger } from "../../agent/log";
import { CoreSettings, RunnerCore } from "../../agent/runner";
import { SESSION_PATH } from "../../agent/sessionEnv";
import { LocalSessionHost } from "../../agent/sessionHost";
import { FakeControlPlane, FakeControlPlaneOptions, freshPassword } from "../support/fakeControlPlane";
import { eventually } from "../support/eventually";
import { parseScrape } from "../support/prometheus";
import { StubReport, parseStubReport } from "../support/stubZed";
import { NASTY_TOKEN, leakedRuns } from "../support/secrets";
import { StubXrdp, X224_CONNECTION_CONFIRM } from "../support/stubXrdp";

const STUB_ZED = path.resolve(__dirname, "../fixtures/zed-build/zed");
const RUNNER_ID = "external-zed-unit-1";
const INITIAL_RDP = "initial-rdp-Pass1";
const INITIAL_VNC = "initvnc1";

interface Harness {
    readonly core: RunnerCore;
    readonly controlPlane: FakeControlPlane;
    readonly lines: string[];
    /** Passwords handed to chpasswd, in order. */
    readonly userPasswords: string[];
    readonly passwordFile: string;
    readonly workspace: string;
    readonly xrdp: StubXrdp;
    /** The run's temporary folder (workspaces, the password file), removed after the test. */
    readonly root: string;
    /** Every secret the run has seen: the token, the initial passwords, the control plane's. */
    readonly secrets: string[];
}

const harnesses: Harness[] = [];

/** What else is torn down after each test (control planes started by the test itself, temporary folders). */
const cleanups: (() => Promise<void> | void)[] = [];

async function start(
    overrides: Partial<CoreSettings> = {},
    timing = { ...DEFAULT_TIMING, pingMs: 200 },
    waitConnected = true,
    doubles: { revdial?: FakeControlPlaneOptions["revdial"]; connectXrdp?: () => net.Socket; vnc?: Readiness } = {},
): Promise<Harness> {
    const controlPlane = new FakeControlPlane({ token: NASTY_TOKEN, prefix: "/helix", revdial: doubles.revdial });
    await controlPlane.listen("127.0.0.1");
    const xrdp = new StubXrdp();
    await xrdp.listen();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "zed-agent-"));
    const workspace = path.join(root, "workspaces");
    const passwordFile = path.join(root, "vnc-passwords");
    const userPasswords: string[] = [];
    const passwords = new DesktopPasswords(passwordFile, async (pw) => void userPasswords.push(pw), undefined);
    await passwords.initial(INITIAL_RDP, INITIAL_VNC);
    const lines: string[] = [];
    const redactor = new Redactor();
    [NASTY_TOKEN, INITIAL_RDP, INITIAL_VNC].forEach((s) => redactor.add(s));
    const log = createLogger("debug", redactor, (line) => lines.push(line));
    const settings: CoreSettings = {
        apiHost: controlPlane.apiHost(),
        apiToken: NASTY_TOKEN,
        runnerId: RUNNER_ID,
        concurrency: 2,
        maxTasks: 0,
        sessionTimeout: 0,
        workspaceDir: workspace,
        stopGraceSeconds: 30,
        revdial: "off",
        ...overrides,
    };
    const core = new RunnerCore(settings, {
        host: new LocalSessionHost(undefined, STUB_ZED),
        passwords,
        log,
        connectXrdp: doubles.connectXrdp ?? (() => xrdp.connect()),
        vnc: doubles.vnc,
        timing,
    });
    core.start();
    if (waitConnected)
        await controlPlane.waitFor("the runner to connect", () => controlPlane.connectedRunnerIds().includes(RUNNER_ID), 5000);
    const harness = {
        core,
        controlPlane,
        lines,
        userPasswords,
        passwordFile,
        workspace,
        xrdp,
        root,
        secrets: [NASTY_TOKEN, INITIAL_RDP, INITIAL_VNC],
    };
    harnesses.push(harness);
    return harness;
}

afterEach(async () => {
    for (const h of harnesses.splice(0)) {
        await h.core.sessions.endAll("shutdown", 500);
        await h.core.link.stop();
        await h.core.revdial.stop();
        h.core.tunnels.closeAll("the test ended");
        await h.controlPlane.close();
        await h.xrdp.close();
        fs.rmSync(h.root, { recursive: true, force: true });
    }
    for (const c of cleanups.splice(0).reverse()) await c();
});

/** What the stub Zed reported about itself. */
function stubReport(dir: string): StubReport {
    return parseStubReport(fs.readFileSync(path.join(dir, ".zed-stub-report"), "utf8"));
}

const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

describe("the control-plane link", () => {
    it("dials the runner endpoint under the API host's prefix with the token, ID and concurrency escaped", async () => {
        const { controlPlane } = await start();
        const [handshake] = controlPlane.handshakes;
        expect(handshake).toMatchObject({
            path: "/helix/api/v1/ws/external-agent-runner",
            accessToken: NASTY_TOKEN,
            runnerId: RUNNER_ID,
            concurrency: "2",
        });
        expect(controlPlane.refusals).toEqual([]);
    });

    it("pings at its interval", async () => {
        const { controlPlane } = await start();
        await eventually("three pings", () => controlPlane.handshakes[0].pings >= 3, 10_000);
    });

    it("dials again after the control plane is gone, and is back once it returns", async () => {
        const { controlPlane, core, lines } = await start({}, DEFAULT_TIMING);
        await controlPlane.goAway();
        await eventually("the link to drop", () => !core.link.state.connected);
        expect(core.link.state.lastError).toMatch(/closed|ECONNREFUSED|failed/);
        // Gone long enough for the runner to back off to its longest pause (100, 200, 400, 800, then 1000 ms).
        await eventually("five failed dials", () => core.link.state.failedDials >= 5, 20_000);
        await controlPlane.listen();
        // How fast is not asserted (the machine may be busy): the bound itself is backoffMs's (backoff.test.ts);
        // npm run bench measures it.
        await eventually("the runner to reconnect", () => core.link.state.connected, 20_000);
        expect(core.link.state).toMatchObject({ lastError: null, failedDials: 0, connects: 2 });
        expect(controlPlane.handshakes).toHaveLength(2);
        // A dead control plane is one warning, not one per dial.
        expect(lines.filter((l) => l.includes("warn: control plane link down")).length).toBeLessThanOrEqual(2);
    });

    it("says why a wrong token is refused, without the token", async () => {
        const { core, controlPlane } = await start({ apiToken: "wrong-token-value" }, DEFAULT_TIMING, false);
        await eventually("a refused dial", () => /401/.test(core.link.state.lastError ?? ""));
        expect(core.link.state.lastError).toBe(
            "the control plane refused the runner token (401): it must equal the control plane's RUNNER_TOKEN",
        );
        expect(controlPlane.refusals[0]).toBe(401);
        expect(controlPlane.connectedRunnerIds()).toEqual([]);
    });
});

describe("the reverse dial, with revdial: auto", () => {
    it("reports the desktop waiting in /health, not up, while the VNC server's supervisor says it is not ready", async () => {
        let ready = false;
        const vnc: Readiness = {
            get ready() {
                return ready;
            },
            whenReady: async () => ready,
        };
        const h = await start({ revdial: "auto" }, undefined, true, { revdial: "present", vnc });
        await eventually("the control connection", () => h.controlPlane.revdialRunnerIds().includes(RUNNER_ID));
        await eventually("the runner to read the answer", () => h.lines.some((l) => l.includes("reverse dial open")));
        expect(h.core.report({ vnc: "down" }).revdial).toMatchObject({ status: "waiting", lastError: null });
        ready = true;
        expect(h.core.report({ vnc: "up" }).revdial).toMatchObject({ status: "up", lastError: null });
    });

    it("asks again on every reconnect of the link: a control plane restarted with the endpoint gets it at once", async () => {
        const h = await start({ revdial: "auto" }, DEFAULT_TIMING, true, { revdial: "absent-404" });
        await eventually("the reverse dial marked unsupported", () => h.core.revdial.state.status === "unsupported");
        const port = new URL(h.controlPlane.apiHost()).port;
        await h.controlPlane.goAway();
        await eventually("the link to drop", () => !h.core.link.state.connected);
        // The same URL, now served by a control plane that has the reverse dial (the 10-minute retry is far off).
        const upgraded = new FakeControlPlane({ token: NASTY_TOKEN, prefix: "/helix", revdial: "present" });
        await upgraded.listen("127.0.0.1", Number(port));
        cleanups.push(() => upgraded.close());
        await eventually("the link back", () => h.core.link.state.connected && h.core.link.state.connects === 2, 20_000);
        await eventually("the reverse dial on the upgraded control plane", () => upgraded.revdialRunnerIds().includes(RUNNER_ID), 20_000);
        await eventually("the runner to read the answer", () => h.core.revdial.state.status === "up");
        expect(h.core.revdial.state).toMatchObject({ mode: "auto", status: "up", lastError: null });
        expect(h.lines.some((l) => l.includes("asking the control plane for the reverse dial again"))).toBe(true);
    });
});

describe("sessions", () => {
    it("starts Zed for a flat launch in WORKSPACE_DIR/<session>, in its own process group, with the documented environment and no secret", async () => {
        const h = await start();
        const { reply, password, runnerId } = await h.controlPlane.launch({
            session_id: "ses_a1",
            project_path: "workspace",
            env: ["SPEC_TASK_ID=task-9", "HELIX_API_SERVER=http://api:8080"],
        });
        h.secrets.push(password);
        expect(runnerId).toBe(RUNNER_ID);
        expect(reply).toMatchObject({ status: "running", runner_id: RUNNER_ID, session_id: "ses_a1", error: "", rdp_password: "" });
        expect(reply.pid).toBeGreaterThan(1);

        const dir = path.join(h.workspace, "ses_a1");
        await eventually("the stub's report", () => fs.existsSync(path.join(dir, ".zed-stub-report")));
        const { fields, env } = stubReport(dir);
        expect(fields).toMatchObject({ cwd: dir, args: path.join(dir, "workspace"), pid: String(reply.pid), pgid: String(reply.pid) });
        expect(env).toEqual({
            PATH: SESSION_PATH,
            DISPLAY: ":1",
            HOME: "/home/zed",
            USER: "zed",
            LOGNAME: "zed",
            WORKSPACE_DIR: dir,
            PROJECT_PATH: path.join(dir, "workspace"),
            HELIX_SESSION_ID: "ses_a1",
            SPEC_TASK_ID: "task-9",
            HELIX_API_SERVER: "http://api:8080",
        });
        await eventually("Zed's output in the log", () =>
            h.lines.some((l) => l.includes(`[session ses_a1] zed (stub): opened ${path.join(dir, "workspace")}`)),
        );
    });

    it("makes the launch's password the desktop's only password", async () => {
        const h = await start();
        const { password } = await h.controlPlane.launch({ session_id: "ses_pw" });
        h.secrets.push(password);
        expect(h.userPasswords).toEqual([INITIAL_RDP, password]);
        expect(fs.readFileSync(h.passwordFile, "utf8")).toBe(`${password}\n`);
        expect(h.core.report({}).desktopPassword.source).toBe("control-plane");
    });

    it("ends a session's whole process group on stop, and answers a stop for any other session with an error", async () => {
        const h = await start();
        const { reply } = await h.controlPlane.launch({ session_id: "ses_stop" });
        const other = await h.controlPlane.stop("ses_not_here");
        expect(other.reply).toMatchObject({ status: "error", error: `session ses_not_here is not running on runner ${RUNNER_ID}` });
        expect(alive(reply.pid)).toBe(true);
        const stopped = await h.controlPlane.stop("ses_stop");
        expect(stopped.reply).toMatchObject({ status: "stopped", session_id: "ses_stop", runner_id: RUNNER_ID });
        expect(alive(reply.pid)).toBe(false);
        expect(h.core.sessions.list()).toEqual([]);
    });

    it("escalates to SIGKILL when Zed ignores SIGTERM", async () => {
        const h = await start();
        const { reply } = await h.controlPlane.launch({ session_id: "ses_stubborn", env: ["ZED_STUB_IGNORE_TERM=1"] });
        await eventually("the stub to set its trap", () => fs.existsSync(path.join(h.workspace, "ses_stubborn", ".zed-stub-report")));
        const stopped = await h.controlPlane.stop("ses_stubborn");
        expect(stopped.reply.status).toBe("stopped");
        expect(stopped.ms).toBeGreaterThanOrEqual(4500);
        expect(alive(reply.pid)).toBe(false);
        expect(h.lines.some((l) => l.includes("Zed exited with signal SIGKILL (stopped)"))).toBe(true);
    });

    it("refuses a launch beyond CONCURRENCY, naming the limit, and changes nothing", async () => {
        const h = await start({ concurrency: 1 });
        await h.controlPlane.launch({ session_id: "ses_one" });
        const second = await h.controlPlane.launch({ session_id: "ses_two" });
        h.secrets.push(second.password);
        expect(second.reply).toMatchObject({
            status: "error",
            error: `runner ${RUNNER_ID} is at its CONCURRENCY limit of 1 live session`,
            pid: 0,
        });
        expect(h.userPasswords).toHaveLength(2);
        expect(fs.existsSync(path.join(h.workspace, "ses_two"))).toBe(false);
    });

    it("ends a session after SESSION_TIMEOUT seconds", async () => {
        const h = await start({ sessionTimeout: 1 });
        const { reply } = await h.controlPlane.launch({ session_id: "ses_timeout" });
        await eventually("the timeout to end the session", () => !alive(reply.pid), 10_000);
        expect(h.lines.some((l) => l.includes("session ses_timeout: SESSION_TIMEOUT of 1 s reached"))).toBe(true);
        expect(h.core.sessions.list()).toEqual([]);
    });

    it("after MAX_TASKS sessions takes no more work, and reports itself drained once they end", async () => {
        const h = await start({ maxTasks: 1 });
        let drained = false;
        // As main.ts does: drained means shut down. The reply to the last stop must still go out.
        h.core.whenDrained(() => {
            drained = true;
            void h.core.shutdown();
        });
        await h.controlPlane.launch({ session_id: "ses_only" });
        const refused = await h.controlPlane.launch({ session_id: "ses_more" });
        expect(refused.reply).toMatchObject({ status: "error", error: expect.stringContaining("has run its MAX_TASKS=1 sessions") });
        expect(h.core.report({}).sessions).toMatchObject({ live: 1, started: 1, maxTasks: 1, draining: true });
        expect(drained).toBe(false);
        const stopped = await h.controlPlane.stop("ses_only");
        expect(stopped.reply).toMatchObject({ status: "stopped", session_id: "ses_only" });
        await eventually("drained", () => drained, 10_000);
        await eventually("the link to close", () => h.controlPlane.connectedRunnerIds().length === 0, 10_000);
    });

    it.each([
        ["outside every workspace folder", "/etc", 'work_dir "/etc" is outside the runner\'s workspace folders'],
        ["relative, climbing out with ..", "../../etc", "must not contain '..'"],
        ["climbing out with ..", "/workspace/../etc", "must not contain '..'"],
    ])("refuses a work_dir %s", async (_, workDir, error) => {
        const h = await start();
        const { reply } = await h.controlPlane.launch({ session_id: "ses_wd", work_dir: workDir });
        expect(reply.status).toBe("error");
        expect(reply.error).toContain(error);
        expect(h.core.sessions.list()).toEqual([]);
    });

    it("uses a work_dir inside WORKSPACE_DIR, and refuses one that a symlink points elsewhere", async () => {
        const h = await start();
        const inside = path.join(h.workspace, "projects", "p1");
        const ok = await h.controlPlane.launch({ session_id: "ses_in", work_dir: inside });
        expect(ok.reply.status).toBe("running");
        await eventually("the report", () => fs.existsSync(path.join(inside, ".zed-stub-report")));
        expect(stubReport(inside).fields.cwd).toBe(inside);

        const outside = fs.mkdtempSync(path.join(os.tmpdir(), "outside-"));
        cleanups.push(() => fs.rmSync(outside, { recursive: true, force: true }));
        fs.symlinkSync(outside, path.join(h.workspace, "link"));
        const escaped = await h.controlPlane.launch({ session_id: "ses_link", work_dir: path.join(h.workspace, "link") });
        expect(escaped.reply).toMatchObject({ status: "error", error: expect.stringContaining("outside the workspace") });
    });

    it("runs a relative work_dir, as Helix's CLI sends it, inside the session's own folder", async () => {
        const h = await start();
        const { reply } = await h.controlPlane.launch({ session_id: "ses_rel", work_dir: "workspace" });
        expect(reply.status).toBe("running");
        const expected = path.join(h.workspace, "ses_rel", "workspace");
        await eventually("the report", () => fs.existsSync(path.join(expected, ".zed-stub-report")));
        expect(stubReport(expected).fields.cwd).toBe(expected);
    });
});

describe("password configuration (rc8), which may reach any runner", () => {
    it("applies the one for this runner", async () => {
        const h = await start();
        const password = freshPassword();
        h.secrets.push(password);
        const { reply } = await h.controlPlane.configurePassword(RUNNER_ID, password);
        expect(reply).toMatchObject({ status: "configured", runner_id: RUNNER_ID, session_id: `password-config-${RUNNER_ID}` });
        expect(fs.readFileSync(h.passwordFile, "utf8")).toBe(`${password}\n`);
    });

    it("answers another runner's with an error and never applies it", async () => {
        const h = await start();
        const password = freshPassword();
        h.secrets.push(password);
        const { reply } = await h.controlPlane.configurePassword("external-zed-other-2", password);
        expect(reply).toMatchObject({
            status: "error",
            error: `password configuration for runner external-zed-other-2 reached runner ${RUNNER_ID}; not applied`,
        });
        expect(h.userPasswords).toEqual([INITIAL_RDP]);
        expect(fs.readFileSync(h.passwordFile, "utf8")).toBe(`${INITIAL_VNC}\n${INITIAL_RDP}\n`);
    });
});

describe("malformed frames", () => {
    it("ignores a frame it cannot answer and stays connected", async () => {
        const h = await start();
        h.controlPlane.sendRaw("{not json");
        h.controlPlane.sendRaw(JSON.stringify({ payload: "", type: 0 }));
        await eventually("two warnings", () => h.lines.filter((l) => l.includes("ignored a frame from the control plane")).length === 2);
        expect(h.core.dispatcher.counts.unreadable).toBe(2);
        const { reply } = await h.controlPlane.launch({ session_id: "ses_after" });
        expect(reply.status).toBe("running");
    });

    it.each([
        ["an unknown type", { type: 9 }, "unknown request type 9"],
        ["a payload that is not base64", { payload: "!!!" }, "payload is not base64"],
    ])("answers %s with an error reply", async (_, override, error) => {
        const h = await start();
        const answer = h.controlPlane.nextReply("_INBOX.bad").then((payload) => JSON.parse(payload.toString()));
        h.controlPlane.sendRaw(
            JSON.stringify({
                request_id: "r-bad",
                payload: Buffer.from("{}").toString("base64"),
                type: 0,
                reply: "_INBOX.bad",
                ...override,
            }),
        );
        expect(await answer).toMatchObject({ status: "error", error, runner_id: RUNNER_ID });
    });

    it("answers a huge payload with an error, not by acting on it", async () => {
        const h = await start();
        const huge = await h.controlPlane.request({ session_id: "ses_huge", input: "x".repeat(2 * 1024 * 1024) }, 10_000);
        expect(JSON.parse(huge.reply.toString())).toMatchObject({
            status: "error",
            error: expect.stringContaining("over the 1048576-byte limit"),
        });
        expect(h.core.sessions.list()).toEqual([]);
    });
});

describe("RDP over the WebSocket (seed-era RDP proxy)", () => {
    it("answers each chunk at once, relays it to xrdp and sends xrdp's answer to the session's subject", async () => {
        const h = await start();
        await h.controlPlane.launch({ session_id: "ses_rdp" });
        const received: Buffer[] = [];
        h.controlPlane.onRdpResponse("ses_rdp", (d) => received.push(d));
        const connectionRequest = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x01, 0, 0, 0]);
        const answeredBefore = h.controlPlane.responseSubjects.length;
        const ack = await h.controlPlane.sendRdpChunk("ses_rdp", connectionRequest);
        expect(JSON.parse(ack.reply.toString())).toEqual({ status: "ok" });
        await eventually("the Connection Confirm", () => Buffer.concat(received).length >= X224_CONNECTION_CONFIRM.length);
        // The acknowledgement went out first, before xrdp's answer was relayed.
        const answers = h.controlPlane.responseSubjects.slice(answeredBefore);
        expect(answers[0]).toMatch(/^_INBOX\./);
        expect(answers.slice(1)).toContain("rdp.responses.session.ses_rdp");
        expect(Buffer.concat(received)).toEqual(X224_CONNECTION_CONFIRM);
        expect(h.xrdp.connections).toHaveLength(1);
        expect(h.core.report({}).tunnels.rdp).toBe(1);
    });

    it("keeps one xrdp connection per session, in order, with interleaved sessions and a flood of chunks", async () => {
        const h = await start();
        await h.controlPlane.launch({ session_id: "ses_x" });
        await h.controlPlane.launch({ session_id: "ses_y" });
        const echoed: Record<string, Buffer[]> = { ses_x: [], ses_y: [] };
        h.controlPlane.onRdpResponse("ses_x", (d) => echoed.ses_x.push(d));
        h.controlPlane.onRdpResponse("ses_y", (d) => echoed.ses_y.push(d));
        const sent: Record<string, Buffer[]> = { ses_x: [], ses_y: [] };
        for (let i = 0; i < 300; i++) {
            for (const s of ["ses_x", "ses_y"]) {
                const chunk = Buffer.from(`${s}:${String(i).padStart(4, "0")};`);
                sent[s].push(chunk);
                await h.controlPlane.sendRdpChunk(s, chunk);
            }
        }
        for (const s of ["ses_x", "ses_y"]) {
            await eventually(`${s}'s echo`, () => Buffer.concat(echoed[s]).length === Buffer.concat(sent[s]).length);
            expect(Buffer.concat(echoed[s]).toString()).toBe(Buffer.concat(sent[s]).toString());
        }
        expect(h.xrdp.connections).toHaveLength(2);
    });

    it("acknowledges chunks while xrdp is still starting, keeps them, and relays them once it listens", async () => {
        const late = new StubXrdp();
        const port = await late.freePort();
        const h = await start({}, undefined, true, { connectXrdp: () => net.connect({ host: "127.0.0.1", port }) });
        cleanups.push(() => late.close());
        const received: Buffer[] = [];
        h.controlPlane.onRdpResponse(RUNNER_ID, (d) => received.push(d), "runner");
        const connectionRequest = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x01, 0, 0, 0]);
        // Acknowledged while nothing listens on xrdp's port: the proxy's 5 s wait is never spent on a starting xrdp.
        for (const chunk of [connectionRequest, Buffer.from("after")]) {
            const ack = await h.controlPlane.sendRdpChunk(RUNNER_ID, chunk, undefined, "runner");
            expect(JSON.parse(ack.reply.toString())).toEqual({ status: "ok" });
        }
        await eventually("the tunnel to wait for xrdp", () =>
            h.lines.some((l) => l.includes(`RDP tunnel for ${RUNNER_ID} waits for xrdp`)),
        );
        expect(h.core.report({}).tunnels.rdp).toBe(1);
        await late.listen(port);
        await eventually("both chunks at xrdp, in order", () =>
            late.connections[0]?.received.length
                ? Buffer.concat(late.connections[0].received).length === connectionRequest.length + 5
                : false,
        );
        expect(Buffer.concat(late.connections[0].received)).toEqual(Buffer.concat([connectionRequest, Buffer.from("after")]));
        await eventually("xrdp's Connection Confirm", () => Buffer.concat(received).length >= X224_CONNECTION_CONFIRM.length);
        expect(Buffer.concat(received).subarray(0, X224_CONNECTION_CONFIRM.length)).toEqual(X224_CONNECTION_CONFIRM);
        expect(late.connections).toHaveLength(1);
    });

    it("acknowledges but drops a chunk for a session that is not this runner's", async () => {
        const h = await start();
        const ack = await h.controlPlane.sendRdpChunk("ses_of_another_runner", Buffer.from("hello"));
        expect(JSON.parse(ack.reply.toString())).toEqual({ status: "ok" });
        // The decision is made, and logged, as the chunk is handled: a tunnel would be open by then.
        await eventually("the chunk to be dropped", () =>
            h.lines.some((l) => l.includes("RDP data for ses_of_another_runner is not for this runner; dropped")),
        );
        expect(h.core.report({}).tunnels.rdp).toBe(0);
        expect(h.xrdp.connections).toHaveLength(0);
    });

    it("takes the proxy's per-runner form (session_id = runner ID), and closes the tunnel when xrdp closes", async () => {
        const h = await start();
        await h.controlPlane.sendRdpChunk(RUNNER_ID, Buffer.from("ping"), undefined, "runner");
        await eventually("a tunnel", () => h.xrdp.connections.length === 1);
        h.xrdp.connections[0].socket.end();
        await eventually("the tunnel to close", () => h.core.report({}).tunnels.rdp === 0);
        expect(h.lines.some((l) => l.includes(`RDP tunnel for ${RUNNER_ID} closed (xrdp closed the connection)`))).toBe(true);
    });
});

describe("metrics, as GET /metrics serves them", () => {
    /** The runner's metrics, parsed as Prometheus would. */
    const scrape = async (h: Harness) => parseScrape(await h.core.metrics.scrape());

    it("count sessions by how they ended and launches by why they were refused, and time every reply, with no secret", async () => {
        const h = await start({ concurrency: 1 });
        const launches = [await h.controlPlane.launch({ session_id: "ses_a" }), await h.controlPlane.launch({ session_id: "ses_b" })];
        expect(launches.map((l) => l.reply.status)).toEqual(["running", "error"]);
        await h.controlPlane.stop("ses_a");
        launches.push(await h.controlPlane.launch({ session_id: "ses_env", env: ["not a pair"] }));
        launches.push(await h.controlPlane.launch({ session_id: "ses_wd", work_dir: "/etc" }));
        // The stub Zed ends by itself in a folder named -lasts-<N>s.
        launches.push(await h.controlPlane.launch({ session_id: "ses_end-lasts-1s" }));
        await eventually("Zed to exit by itself", () => h.core.sessions.list().length === 0, 10_000);
        launches.push(await h.controlPlane.launch({ session_id: "ses_last" }));
        expect(launches.map((l) => l.reply.status)).toEqual(["running", "error", "error", "error", "running", "running"]);
        await h.core.sessions.endAll("shutdown", 500);

        const text = await h.core.metrics.scrape();
        const m = parseScrape(text);
        expect(m.value("zed_runner_sessions_started_total")).toBe(3);
        const ended = Object.fromEntries(
            ["stop", "timeout", "zed_exit", "shutdown"].map((reason) => [reason, m.value("zed_runner_sessions_ended_total", { reason })]),
        );
        expect(ended).toEqual({ stop: 1, timeout: 0, zed_exit: 1, shutdown: 1 });
        const refused = Object.fromEntries(
            ["concurrency", "max_tasks", "work_dir", "environment", "zed_start", "desktop_password"].map((reason) => [
                reason,
                m.value("zed_runner_launches_refused_total", { reason }),
            ]),
        );
        expect(refused).toEqual({ concurrency: 1, max_tasks: 0, work_dir: 1, environment: 1, zed_start: 0, desktop_password: 0 });
        expect(m.histogramCount("zed_runner_launch_reply_seconds")).toBe(6);
        expect(m.value("zed_runner_sessions_live")).toBe(0);
        expect(m.value("zed_runner_sessions_limit")).toBe(1);
        expect(m.value("zed_runner_control_plane_up")).toBe(1);
        expect(m.value("zed_runner_info", { runner_id: RUNNER_ID })).toBe(1);
        // Heard within the link's own dead-after bound, or the runner would have dialed again.
        expect(m.value("zed_runner_control_plane_last_message_age_seconds")).toBeLessThan(DEFAULT_TIMING.deadAfterMs / 1000);
        for (const secret of [...h.secrets, ...launches.map((l) => l.password)]) expect(leakedRuns(text, secret)).toEqual([]);
        expect(text).not.toContain("ses_");
    });

    it("count a SESSION_TIMEOUT, and say draining and refuse by MAX_TASKS once the runner has run its sessions", async () => {
        const h = await start({ maxTasks: 1, sessionTimeout: 1 });
        await h.controlPlane.launch({ session_id: "ses_t" });
        await eventually("the timeout to end the session", () => h.core.sessions.list().length === 0, 10_000);
        const refused = await h.controlPlane.launch({ session_id: "ses_more" });
        expect(refused.reply.status).toBe("error");
        const m = await scrape(h);
        expect(m.value("zed_runner_sessions_ended_total", { reason: "timeout" })).toBe(1);
        expect(m.value("zed_runner_launches_refused_total", { reason: "max_tasks" })).toBe(1);
        expect(m.value("zed_runner_draining")).toBe(1);
    });

    it("count reconnects of the link, and the RDP tunnel's bytes both ways", async () => {
        const h = await start();
        await h.controlPlane.goAway();
        await eventually("the link to drop", () => !h.core.link.state.connected);
        expect((await scrape(h)).value("zed_runner_control_plane_up")).toBe(0);
        await h.controlPlane.listen();
        await eventually("the runner to reconnect", () => h.core.link.state.connected, 20_000);

        await h.controlPlane.launch({ session_id: "ses_rdp" });
        const received: Buffer[] = [];
        h.controlPlane.onRdpResponse("ses_rdp", (d) => received.push(d));
        const connectionRequest = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x01, 0, 0, 0]);
        await h.controlPlane.sendRdpChunk("ses_rdp", connectionRequest);
        await eventually("the Connection Confirm", () => Buffer.concat(received).length >= X224_CONNECTION_CONFIRM.length);

        const m = await scrape(h);
        expect(m.value("zed_runner_control_plane_up")).toBe(1);
        expect(m.value("zed_runner_control_plane_reconnects_total")).toBe(1);
        expect(m.value("zed_runner_tunnels_open", { kind: "rdp" })).toBe(1);
        expect(m.value("zed_runner_tunnels_opened_total", { kind: "rdp" })).toBe(1);
        expect(m.value("zed_runner_tunnel_bytes_total", { kind: "rdp", direction: "to_desktop" })).toBe(connectionRequest.length);
        expect(m.value("zed_runner_tunnel_bytes_total", { kind: "rdp", direction: "from_desktop" })).toBe(X224_CONNECTION_CONFIRM.length);
        expect(m.value("zed_runner_tunnels_open", { kind: "vnc" })).toBe(0);
    });
});

describe("the clean stop", () => {
    it("disconnects, gives sessions the stop grace less the reserve, then ends them", async () => {
        const h = await start({ stopGraceSeconds: 6 });
        const { reply } = await h.controlPlane.launch({ session_id: "ses_running" });
        const started = Date.now();
        await h.core.shutdown();
        const ms = Date.now() - started;
        expect(h.controlPlane.connectedRunnerIds()).toEqual([]);
        expect(alive(reply.pid)).toBe(false);
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(h.lines.some((l) => l.includes("waiting up to 1 s for 1 session(s) to finish"))).toBe(true);
    });
});

describe("secrets", () => {
    it("never reach a log line, in any encoding, whatever the session does", async () => {
        const h = await start();
        const launch = await h.controlPlane.launch({ session_id: "ses_secret", env: ["ECHO=1"] });
        h.secrets.push(launch.password);
        await eventually("the stub's report", () => fs.existsSync(path.join(h.workspace, "ses_secret", ".zed-stub-report")));
        const pc = freshPassword();
        h.secrets.push(pc);
        await h.controlPlane.configurePassword(RUNNER_ID, pc);
        await h.controlPlane.configurePassword("someone-else", "another-pass-123");
        h.secrets.push("another-pass-123");
        await h.controlPlane.stop("ses_secret");
        await h.controlPlane.goAway();
        await eventually("the drop", () => !h.core.link.state.connected);
        const text = h.lines.join("\n");
        expect(text.length).toBeGreaterThan(500);
        for (const secret of h.secrets) expect(leakedRuns(text, secret)).toEqual([]);
        const { env } = stubReport(path.join(h.workspace, "ses_secret"));
        for (const secret of h.secrets) expect(Object.values(env).join("\n")).not.toContain(secret);
    });
});
