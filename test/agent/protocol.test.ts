// The protocol module: every frame kind of docs/protocol.md §3, malformed frames, and the handshake URL.
import { MAX_REQUEST_BYTES, agentResponse, parseFrame, responseFrame, rdpResponseFrame, runnerSocketUrl } from "../../agent/protocol";

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64");
const frame = (body: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ request_id: "req-1", payload: b64(body), type: 0, reply: "_INBOX.abc", ...extra });
const target = { requestId: "req-1", reply: "_INBOX.abc" };

describe("parseFrame", () => {
    it("reads a flat ZedAgent as a launch, as the controller publishes it", () => {
        const agent = {
            session_id: "ses_1",
            user_id: "u",
            input: "hi",
            env: ["A=1"],
            work_dir: "",
            project_path: "workspace",
            rdp_port: 3389,
            rdp_user: "zed",
            rdp_password: "p".repeat(16),
        };
        expect(parseFrame(frame(agent))).toEqual({ kind: "launch", target, agent });
    });

    it("takes Helix's own ZedTaskMessage wrapper too", () => {
        const message = parseFrame(
            frame({ type: "zed_task", agent: { session_id: "ses_2", rdp_password: "x".repeat(16) }, auth_token: "t" }),
        );
        expect(message).toMatchObject({ kind: "launch", agent: { session_id: "ses_2", rdp_password: "x".repeat(16) } });
    });

    it("reads a stop", () => {
        expect(parseFrame(frame({ action: "stop", session_id: "ses_1" }))).toEqual({ kind: "stop", target, sessionId: "ses_1" });
    });

    it("reads rc8's password configuration and whose it is", () => {
        const body = {
            session_id: "password-config-runner-7",
            user_id: "system",
            rdp_password: "secretpw12345678",
            rdp_user: "zed",
            rdp_port: 5900,
        };
        expect(parseFrame(frame(body))).toEqual({ kind: "password-config", target, forRunner: "runner-7", password: "secretpw12345678" });
    });

    it("reads the RDP proxy's inner envelope inside a type-0 frame, keeping both reply subjects", () => {
        const inner = {
            request_id: "rdp-session-s-1",
            type: 1,
            reply: "rdp.responses.session.s",
            payload: b64({ session_id: "s", type: "rdp_data", data: b64("\x03\x00"), timestamp: 1 }),
        };
        expect(parseFrame(frame(inner))).toEqual({
            kind: "rdp-data",
            ack: target,
            chunk: { sessionId: "s", data: Buffer.from([3, 0]), dataReply: "rdp.responses.session.s" },
        });
    });

    it("reads a plain type-1 frame as RDP data with no outer answer", () => {
        const message = parseFrame(frame({ session_id: "s", type: "rdp_data", data: b64("ab") }, { type: 1 }));
        expect(message).toEqual({
            kind: "rdp-data",
            ack: undefined,
            chunk: { sessionId: "s", data: Buffer.from("ab"), dataReply: "_INBOX.abc" },
        });
    });

    it.each([
        ["not JSON", "{nope", "the frame is not JSON"],
        ["a JSON array", "[1,2]", "the frame is not a JSON object"],
        ["no reply subject", JSON.stringify({ request_id: "r", payload: "", type: 0 }), "the frame has no request_id or reply subject"],
    ])("cannot answer %s", (_, text, reason) => {
        expect(parseFrame(text)).toEqual({ kind: "unreadable", reason });
    });

    it.each([
        ["an unknown type", frame({ session_id: "s" }, { type: 7 }), "unknown request type 7"],
        [
            "a payload that is not base64",
            JSON.stringify({ request_id: "req-1", payload: "%%%not base64", type: 0, reply: "_INBOX.abc" }),
            "payload is not base64",
        ],
        ["a payload that is not JSON", frame("plain text"), "payload is not JSON"],
        ["an unknown action", frame({ action: "reboot", session_id: "s" }), 'unknown action "reboot"'],
        ["a stop without session", frame({ action: "stop" }), "stop without a session_id"],
        ["a launch without session", frame({ session_id: "" }), "launch without a session_id"],
        ["env that is not a list", frame({ session_id: "s", env: "A=1" }), "env must be a list of KEY=VALUE strings"],
        ["an inner envelope of another type", frame({ request_id: "x", type: 0, payload: "", reply: "r" }), "unknown inner request type 0"],
        ["RDP data that is not base64", frame({ session_id: "s", data: "***" }, { type: 1 }), "RDP data is not base64"],
    ])("answers %s with an error naming it", (_, text, reason) => {
        expect(parseFrame(text)).toEqual({ kind: "invalid", target, reason });
    });

    it("refuses a payload over the size limit without acting on it", () => {
        const huge = frame({ session_id: "s", input: "x".repeat(MAX_REQUEST_BYTES) });
        expect(parseFrame(huge)).toMatchObject({ kind: "invalid", reason: expect.stringMatching(/over the 1048576-byte limit/) });
    });
});

describe("frames to the control plane", () => {
    it("echoes the request ID and reply subject and base64s the payload", () => {
        const response = agentResponse({ session_id: "s", runner_id: "r-1", status: "running", pid: 42 });
        const out = JSON.parse(responseFrame(target, response));
        expect(out).toEqual({ request_id: "req-1", reply: "_INBOX.abc", payload: expect.any(String) });
        expect(JSON.parse(Buffer.from(out.payload, "base64").toString())).toEqual({
            session_id: "s",
            runner_id: "r-1",
            rdp_url: "rdp://r-1:3389/s",
            rdp_password: "",
            error: "",
            status: "running",
            pid: 42,
            retries: 0,
        });
    });

    it("sends xrdp's bytes as rdp_response data to the proxy's subject", () => {
        const out = JSON.parse(
            rdpResponseFrame({ sessionId: "s", dataReply: "rdp.responses.session.s" }, Buffer.from([1, 2, 3]), new Date(5000)),
        );
        expect(out.reply).toBe("rdp.responses.session.s");
        expect(JSON.parse(Buffer.from(out.payload, "base64").toString())).toEqual({
            session_id: "s",
            type: "rdp_response",
            data: "AQID",
            timestamp: 5,
        });
    });
});

describe("runnerSocketUrl", () => {
    it("escapes every query value, so a token with & + = / % survives", () => {
        const url = new URL(runnerSocketUrl("http://cp:8080", 'a&b+c=d/e%f"g\\', "id with space", 2));
        expect(url.searchParams.get("access_token")).toBe('a&b+c=d/e%f"g\\');
        expect(url.searchParams.get("runnerid")).toBe("id with space");
        expect(url.searchParams.get("concurrency")).toBe("2");
    });

    it("uses ws:// for http://, wss:// for https://, and keeps a path prefix", () => {
        expect(runnerSocketUrl("http://cp:8080", "t", "r", 1)).toMatch(/^ws:\/\/cp:8080\/api\/v1\/ws\/external-agent-runner\?/);
        expect(runnerSocketUrl("https://helix.example.com/helix/", "t", "r", 1)).toMatch(
            /^wss:\/\/helix\.example\.com\/helix\/api\/v1\/ws\/external-agent-runner\?/,
        );
    });
});
