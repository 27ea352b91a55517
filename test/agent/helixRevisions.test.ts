// The one list of revision-specific behaviours: each entry names revisions of
// the protocol notes and functions that exist, its detector tells the cases
// apart on real frames, and the frame parser and the revdial answer reader ask
// these detectors rather than sniffing on their own.
import * as fs from "node:fs";
import * as path from "node:path";
import * as revisions from "../../agent/helixRevisions";
import {
    HELIX_REVISIONS,
    IDLE_RUNNER_ENDPOINT,
    INNER_RDP_ENVELOPE,
    PASSWORD_CONFIG_TASK,
    REVERSE_DIAL,
    REVISION_BEHAVIOURS,
    ZED_TASK_WRAPPER,
    isInnerRdpEnvelope,
    isRevdialAbsent,
    launchBody,
    passwordConfigRunner,
} from "../../agent/helixRevisions";
import { parseFrame } from "../../agent/protocol";
import { classifyAnswer } from "../../agent/revdialWire";

const AGENT = path.resolve(__dirname, "../../agent");
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");
const frame = (body: unknown) => JSON.stringify({ request_id: "req-1", payload: b64(body), type: 0, reply: "_INBOX.abc" });

afterEach(() => jest.restoreAllMocks());

describe("the list", () => {
    it("holds every exported behaviour once, each with a unique kebab-case id", () => {
        const exported = Object.values(revisions).filter(
            (v): v is revisions.RevisionBehaviour => typeof v === "object" && v !== null && "differs" in v,
        );
        expect(new Set(REVISION_BEHAVIOURS)).toEqual(new Set(exported));
        expect(REVISION_BEHAVIOURS.map((b) => b.id)).toEqual([
            "zed-task-wrapper",
            "password-config-task",
            "inner-rdp-envelope",
            "reverse-dial",
            "idle-runner-endpoint",
        ]);
    });

    it("names only the revisions of the protocol notes' table", () => {
        const known = new Set<string>(Object.values(HELIX_REVISIONS));
        for (const b of REVISION_BEHAVIOURS) {
            expect(b.revisions.length).toBeGreaterThan(0);
            for (const r of b.revisions) expect(known).toContain(r);
        }
    });

    it.each(REVISION_BEHAVIOURS.flatMap((b) => b.handledBy.map((h) => [b.id, h.module, h.name] as const)))(
        "%s: agent/%s.ts has %s",
        (_, module, name) => {
            const source = fs.readFileSync(path.join(AGENT, `${module}.ts`), "utf8");
            const [owner, member] = name.includes(".") ? name.split(".") : [undefined, name];
            if (owner) {
                const body = source.slice(source.indexOf(`class ${owner} `));
                expect(source).toContain(`class ${owner} `);
                expect(body).toMatch(new RegExp(`\\n    (?:private |async |private async )?${member}\\(`));
            } else {
                expect(source).toMatch(new RegExp(`export function ${member}\\(`));
            }
        },
    );

    it("says when nothing on the wire can tell a behaviour apart, and only then has no handler", () => {
        expect(REVISION_BEHAVIOURS.filter((b) => b.detectedBy === undefined)).toEqual([IDLE_RUNNER_ENDPOINT]);
        expect(REVISION_BEHAVIOURS.filter((b) => b.handledBy.length === 0)).toEqual([IDLE_RUNNER_ENDPOINT]);
    });
});

describe("the detectors", () => {
    it("tell the seed revision's inner RDP envelope from a launch and a stop", () => {
        expect(INNER_RDP_ENVELOPE.detectedBy).toBe(isInnerRdpEnvelope);
        expect(isInnerRdpEnvelope({ request_id: "rdp-1", type: 1, reply: "rdp.responses.session.s", payload: "" })).toBe(true);
        expect(isInnerRdpEnvelope({ session_id: "ses_1", rdp_password: "p" })).toBe(false);
        expect(isInnerRdpEnvelope({ action: "stop", session_id: "ses_1" })).toBe(false);
    });

    it("unwrap Helix's own runner's ZedTaskMessage and leave a flat ZedAgent as it is", () => {
        expect(ZED_TASK_WRAPPER.detectedBy).toBe(launchBody);
        const agent = { session_id: "ses_2" };
        expect(launchBody({ type: "zed_task", agent, auth_token: "t" })).toBe(agent);
        const flat = { session_id: "ses_3", type: "zed_task" };
        expect(launchBody(flat)).toBe(flat);
    });

    it("read whose rc8 password configuration it is", () => {
        expect(PASSWORD_CONFIG_TASK.detectedBy).toBe(passwordConfigRunner);
        expect(passwordConfigRunner("password-config-external-zed-2")).toBe("external-zed-2");
        expect(passwordConfigRunner("ses_password-config-x")).toBeUndefined();
    });

    it("tell a control plane without the reverse dial", () => {
        expect(REVERSE_DIAL.detectedBy).toBe(isRevdialAbsent);
        expect([isRevdialAbsent(404, ""), isRevdialAbsent(200, "text/html; charset=utf-8"), isRevdialAbsent(200, "Text/HTML")]).toEqual([
            true,
            true,
            true,
        ]);
        expect([isRevdialAbsent(200, ""), isRevdialAbsent(401, "text/html"), isRevdialAbsent(502, "")]).toEqual([false, false, false]);
    });
});

describe("the places that depend on a revision ask the detectors", () => {
    it("parseFrame asks for the launch body and the password configuration's runner", () => {
        const unwrap = jest.spyOn(revisions, "launchBody");
        const owner = jest.spyOn(revisions, "passwordConfigRunner");
        expect(parseFrame(frame({ session_id: "password-config-r7", rdp_password: "secretpw12345678" }))).toMatchObject({
            kind: "password-config",
            forRunner: "r7",
        });
        expect(unwrap).toHaveBeenCalledWith({ session_id: "password-config-r7", rdp_password: "secretpw12345678" });
        expect(owner).toHaveBeenCalledWith("password-config-r7");
    });

    it("parseFrame asks whether a type-0 payload is an inner RDP envelope", () => {
        const inner = jest.spyOn(revisions, "isInnerRdpEnvelope");
        const body = { request_id: "rdp-1", type: 1, reply: "rdp.responses.session.s", payload: b64({ session_id: "s", data: "" }) };
        expect(parseFrame(frame(body)).kind).toBe("rdp-data");
        expect(inner).toHaveBeenCalledWith(body);
    });

    it("classifyAnswer asks whether the control plane has no reverse dial", () => {
        const absent = jest.spyOn(revisions, "isRevdialAbsent");
        expect(classifyAnswer("HTTP/1.1 200 OK\r\nContent-Type: text/html")).toEqual({
            kind: "unsupported",
            why: "the control plane answered /api/v1/revdial with a web page",
        });
        expect(absent).toHaveBeenCalledWith(200, "text/html");
    });
});
