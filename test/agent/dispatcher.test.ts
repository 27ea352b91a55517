// The dispatcher: every outcome of a request becomes exactly one wire reply,
// and a message of a kind it has no case for is logged and answered, never
// dropped. Test doubles: recorded sessions, password setter, tunnels and link.
import { Dispatcher, Outcome, replyFor } from "../../agent/dispatcher";
import { Redactor, createLogger } from "../../agent/log";
import { RunnerMetrics } from "../../agent/metrics";
import type { ControlMessage, RdpChunk } from "../../agent/protocol";
import type { LaunchResult, StopResult } from "../../agent/sessions";
import { parseScrape } from "../support/prometheus";

const RUNNER_ID = "external-zed-unit-1";
const target = { requestId: "req-1", reply: "_INBOX.abc" };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");

describe("replyFor", () => {
    const base = { session_id: "ses_1", runner_id: RUNNER_ID, rdp_password: "", retries: 0 };
    it.each<[string, Outcome, object]>([
        [
            "started",
            { kind: "started", sessionId: "ses_1", pid: 4242 },
            { ...base, status: "running", pid: 4242, error: "", rdp_url: `rdp://${RUNNER_ID}:3389/ses_1` },
        ],
        [
            "already-running",
            { kind: "already-running", sessionId: "ses_1", pid: 0 },
            { ...base, status: "running", pid: 0, error: "", rdp_url: `rdp://${RUNNER_ID}:3389/ses_1` },
        ],
        [
            "refused",
            { kind: "refused", sessionId: "ses_1", reason: "at its CONCURRENCY limit" },
            { ...base, status: "error", pid: 0, error: "at its CONCURRENCY limit", rdp_url: "" },
        ],
        ["stopped", { kind: "stopped", sessionId: "ses_1" }, { ...base, status: "stopped", pid: 0, error: "", rdp_url: "" }],
        [
            "not-here",
            { kind: "not-here", sessionId: "ses_1", reason: "not running here" },
            { ...base, status: "error", pid: 0, error: "not running here", rdp_url: "" },
        ],
        ["configured", { kind: "configured", sessionId: "ses_1" }, { ...base, status: "configured", pid: 0, error: "", rdp_url: "" }],
        [
            "not-applied",
            { kind: "not-applied", sessionId: "ses_1", reason: "another runner's" },
            { ...base, status: "error", pid: 0, error: "another runner's", rdp_url: "" },
        ],
        [
            "failed",
            { kind: "failed", sessionId: "ses_1", reason: "payload is not JSON" },
            { ...base, status: "error", pid: 0, error: "payload is not JSON", rdp_url: "" },
        ],
    ])("answers %s with exactly the control plane's ZedAgentResponse", (_, outcome, expected) => {
        // toStrictEqual: no field more, none less, none undefined.
        expect(replyFor(RUNNER_ID, outcome)).toStrictEqual(expected);
    });

    it("keeps the wire's field order, byte for byte", () => {
        expect(JSON.stringify(replyFor(RUNNER_ID, { kind: "started", sessionId: "ses_1", pid: 7 }))).toBe(
            `{"session_id":"ses_1","runner_id":"${RUNNER_ID}","rdp_url":"rdp://${RUNNER_ID}:3389/ses_1","rdp_password":"","error":"","status":"running","pid":7,"retries":0}`,
        );
    });
});

/** A dispatcher with recorded doubles; `launch` and `stop` answer what the test says. */
function dispatcher(options: { launch?: LaunchResult; stop?: StopResult; setPassword?: (p: string) => Promise<void> } = {}) {
    const frames: string[] = [];
    const lines: string[] = [];
    const passwords: string[] = [];
    const chunks: RdpChunk[] = [];
    const stops: string[] = [];
    const metrics = new RunnerMetrics();
    const d = new Dispatcher(
        RUNNER_ID,
        {
            launch: async (agent) => options.launch ?? { kind: "started", sessionId: agent.session_id, pid: 99 },
            stop: async (sessionId) => {
                stops.push(sessionId);
                return options.stop ?? { kind: "stopped", sessionId };
            },
        },
        { set: options.setPassword ?? (async (p) => void passwords.push(p)) },
        (frame) => frames.push(frame) > 0,
        { handle: (chunk) => void chunks.push(chunk) },
        createLogger("debug", new Redactor(), (l) => lines.push(l)),
        metrics,
    );
    /** The replies sent, decoded: envelope fields and payload. */
    const replies = () =>
        frames.map((f) => {
            const env = JSON.parse(f);
            return { requestId: env.request_id, reply: env.reply, payload: JSON.parse(Buffer.from(env.payload, "base64").toString()) };
        });
    return { d, frames, lines, passwords, chunks, stops, replies, metrics };
}

describe("Dispatcher", () => {
    it("answers a launch with the session's outcome, and sets the launch's password once Zed runs", async () => {
        const t = dispatcher();
        await t.d.handle(
            JSON.stringify({
                request_id: "req-1",
                reply: "_INBOX.abc",
                type: 0,
                payload: b64({ session_id: "ses_9", rdp_password: "launch-pass-1" }),
            }),
        );
        expect(t.replies()).toEqual([{ ...target, payload: replyFor(RUNNER_ID, { kind: "started", sessionId: "ses_9", pid: 99 }) }]);
        expect(t.passwords).toEqual(["launch-pass-1"]);
    });

    it("answers a refused launch with its reason and leaves the password alone", async () => {
        const t = dispatcher({ launch: { kind: "refused", sessionId: "ses_9", reason: "runner is draining" } });
        await t.d.dispatch({ kind: "launch", target, agent: { session_id: "ses_9", rdp_password: "launch-pass-1" } });
        expect(t.replies()[0].payload).toMatchObject({ status: "error", error: "runner is draining", session_id: "ses_9" });
        expect(t.passwords).toEqual([]);
    });

    it("stops the session again when the desktop refuses the launch's password, and says why", async () => {
        const t = dispatcher({ setPassword: async () => Promise.reject(new Error("the password must be at least 6 characters")) });
        await t.d.dispatch({ kind: "launch", target, agent: { session_id: "ses_9", rdp_password: "x" } });
        expect(t.stops).toEqual(["ses_9"]);
        expect(t.replies()[0].payload).toMatchObject({
            status: "error",
            session_id: "ses_9",
            error: "could not set the desktop password: the password must be at least 6 characters",
        });
        const scrape = parseScrape(await t.metrics.scrape());
        expect(scrape.value("zed_runner_launches_refused_total", { reason: "desktop_password" })).toBe(1);
        expect(scrape.histogramCount("zed_runner_launch_reply_seconds")).toBe(1);
    });

    it("answers another runner's password configuration with an error, in its session's name", async () => {
        const t = dispatcher();
        await t.d.dispatch({ kind: "password-config", target, forRunner: "external-zed-other", password: "other-pass-1" });
        expect(t.replies()[0].payload).toMatchObject({
            status: "error",
            session_id: "password-config-external-zed-other",
            error: `password configuration for runner external-zed-other reached runner ${RUNNER_ID}; not applied`,
        });
        expect(t.passwords).toEqual([]);
    });

    it("acknowledges RDP data before handing the chunk on", async () => {
        const t = dispatcher();
        const chunk: RdpChunk = { sessionId: "ses_9", data: Buffer.from("rdp"), dataReply: "rdp.responses.session.ses_9" };
        await t.d.dispatch({ kind: "rdp-data", ack: target, chunk });
        expect(t.replies()).toEqual([{ ...target, payload: { status: "ok" } }]);
        expect(t.chunks).toEqual([chunk]);
    });

    it("logs a message of a kind it has no case for and answers it with an error, instead of dropping it", async () => {
        const t = dispatcher();
        // What a new kind in ControlMessage would be at run time, had its case been forgotten (the compiler refuses that).
        await t.d.dispatch({ kind: "resize-desktop", target } as unknown as ControlMessage);
        expect(t.lines).toContain('zed-runner: warn: no handling for a message of kind "resize-desktop"; answered with an error');
        expect(t.replies()).toEqual([
            {
                ...target,
                payload: replyFor(RUNNER_ID, {
                    kind: "failed",
                    sessionId: "",
                    reason: `runner ${RUNNER_ID} cannot handle a resize-desktop request`,
                }),
            },
        ]);
    });

    it("logs one it cannot answer, and sends nothing", async () => {
        const t = dispatcher();
        await t.d.dispatch({ kind: "resize-desktop" } as unknown as ControlMessage);
        expect(t.lines).toEqual(['zed-runner: warn: no handling for a message of kind "resize-desktop"; ignored']);
        expect(t.frames).toEqual([]);
    });
});
