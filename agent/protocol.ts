// Helix's external-agent runner protocol, as the control plane speaks it
// (docs/protocol.md §2 and §3): what a frame from the control plane means,
// and the wire shapes we answer with. Where revisions differ, the detectors of
// helixRevisions.ts decide. Pure: no sockets, no processes.
import { z } from "zod";
import { CONTAINER_PORTS, describeError } from "../contract";
import { isInnerRdpEnvelope, launchBody, passwordConfigRunner } from "./helixRevisions";

/** The control plane's WebSocket endpoint for runners, below the API host's own path. */
const RUNNER_WS_PATH = "/api/v1/ws/external-agent-runner";
/** rc8's reverse-dial endpoint, and the prefix every pick-up path is mounted under. */
export const REVDIAL_PATH = "/api/v1/revdial";
export const API_PREFIX = "/api/v1";

/** `RunnerEventRequestEnvelope.type`: what the server sets from the NATS `kind` header (always 0 in practice). */
const REQUEST_TYPE = { zedAgent: 0, rdpData: 1 } as const;

/** Decoded request payloads larger than this get an error reply instead of being acted on. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** Where a reply goes: the request's ID and reply subject, echoed. */
export interface ReplyTarget {
    readonly requestId: string;
    readonly reply: string;
}

const zedAgentSchema = z.object({
    session_id: z.string({ error: "session_id must be a string" }),
    user_id: z.string().optional().catch(undefined),
    input: z.string().optional().catch(undefined),
    env: z.array(z.string(), { error: "env must be a list of KEY=VALUE strings" }).nullish(),
    work_dir: z.string({ error: "work_dir must be a string" }).nullish(),
    project_path: z.string({ error: "project_path must be a string" }).nullish(),
    instance_id: z.string().nullish().catch(undefined),
    thread_id: z.string().nullish().catch(undefined),
    rdp_port: z.number().nullish().catch(undefined),
    rdp_user: z.string().nullish().catch(undefined),
    rdp_password: z.string({ error: "rdp_password must be a string" }).nullish(),
});
/** The control plane's `ZedAgent` (types.go:1752-1772), as far as a runner reads it. */
export type ZedAgent = z.infer<typeof zedAgentSchema>;

const rdpDataSchema = z.object({
    session_id: z.string({ error: "session_id must be a string" }).min(1, { error: "session_id is empty" }),
    type: z.string().optional(),
    data: z.string({ error: "data must be base64 bytes" }).nullish(),
    timestamp: z.number().optional().catch(undefined),
});

/** One chunk of RDP bytes from the control plane's RDP proxy. */
export interface RdpChunk {
    readonly sessionId: string;
    readonly data: Buffer;
    /** Where the proxy listens for what xrdp answers (`rdp.responses.session.<id>` / `.runner.<id>`). */
    readonly dataReply: string;
}

/** What a frame from the control plane asks for. */
export type ControlMessage =
    | { readonly kind: "launch"; readonly target: ReplyTarget; readonly agent: ZedAgent }
    | { readonly kind: "stop"; readonly target: ReplyTarget; readonly sessionId: string }
    | { readonly kind: "password-config"; readonly target: ReplyTarget; readonly forRunner: string; readonly password: string | undefined }
    /** `ack` is the outer request to answer at once; absent for a plain type-1 frame. */
    | { readonly kind: "rdp-data"; readonly ack: ReplyTarget | undefined; readonly chunk: RdpChunk }
    /** Understood well enough to answer, not well enough to act on. */
    | { readonly kind: "invalid"; readonly target: ReplyTarget; readonly reason: string }
    /** No request ID or reply subject: nothing can be answered. */
    | { readonly kind: "unreadable"; readonly reason: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's `[]byte` in JSON: standard base64 with padding (null for an empty slice). */
function decodeBytes(value: unknown, what: string): Buffer {
    if (value === null || value === undefined || value === "") return Buffer.alloc(0);
    if (typeof value !== "string" || !BASE64.test(value)) throw new Error(`${what} is not base64`);
    return Buffer.from(value, "base64");
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function firstIssue(error: z.ZodError): string {
    return error.issues[0]?.message ?? "malformed";
}

/** Understands one text frame from the control plane. Never throws. */
export function parseFrame(text: string): ControlMessage {
    let envelope: unknown;
    try {
        envelope = JSON.parse(text);
    } catch {
        return { kind: "unreadable", reason: "the frame is not JSON" };
    }
    if (!isObject(envelope)) return { kind: "unreadable", reason: "the frame is not a JSON object" };
    const { request_id: requestId, reply } = envelope;
    if (typeof requestId !== "string" || typeof reply !== "string" || reply === "") {
        return { kind: "unreadable", reason: "the frame has no request_id or reply subject" };
    }
    const target: ReplyTarget = { requestId, reply };
    const invalid = (reason: string): ControlMessage => ({ kind: "invalid", target, reason });

    let payload: Buffer;
    try {
        payload = decodeBytes(envelope.payload, "payload");
    } catch (err) {
        return invalid(describeError(err));
    }
    if (payload.length > MAX_REQUEST_BYTES)
        return invalid(`payload of ${payload.length} bytes is over the ${MAX_REQUEST_BYTES}-byte limit`);

    if (envelope.type === REQUEST_TYPE.rdpData) {
        return rdpMessage(payload, undefined, target, invalid);
    }
    if (envelope.type !== REQUEST_TYPE.zedAgent) return invalid(`unknown request type ${JSON.stringify(envelope.type)}`);

    let body: unknown;
    try {
        body = JSON.parse(payload.toString("utf8"));
    } catch {
        return invalid("payload is not JSON");
    }
    if (!isObject(body)) return invalid("payload is not a JSON object");

    // helixRevisions.ts INNER_RDP_ENVELOPE: the seed revision's RDP proxy.
    if (isInnerRdpEnvelope(body)) {
        if (body.type !== REQUEST_TYPE.rdpData) return invalid(`unknown inner request type ${body.type}`);
        if (typeof body.reply !== "string" || body.reply === "") return invalid("inner RDP envelope has no reply subject");
        let inner: Buffer;
        try {
            inner = decodeBytes(body.payload, "inner payload");
        } catch (err) {
            return invalid(describeError(err));
        }
        return rdpMessage(inner, target, { requestId: body.request_id, reply: body.reply }, invalid);
    }
    if (body.action === "stop") {
        if (typeof body.session_id !== "string" || body.session_id === "") return invalid("stop without a session_id");
        return { kind: "stop", target, sessionId: body.session_id };
    }
    if (body.action !== undefined) return invalid(`unknown action ${JSON.stringify(body.action)}`);

    // helixRevisions.ts ZED_TASK_WRAPPER: a flat ZedAgent, or Helix's own runner's wrapper around one.
    const parsed = zedAgentSchema.safeParse(launchBody(body));
    if (!parsed.success) return invalid(firstIssue(parsed.error));
    const agent = parsed.data;
    if (agent.session_id === "") return invalid("launch without a session_id");
    // helixRevisions.ts PASSWORD_CONFIG_TASK: rc8's password configuration, for this runner or another.
    const forRunner = passwordConfigRunner(agent.session_id);
    if (forRunner !== undefined) return { kind: "password-config", target, forRunner, password: agent.rdp_password || undefined };
    return { kind: "launch", target, agent };
}

function rdpMessage(
    payload: Buffer,
    ack: ReplyTarget | undefined,
    data: ReplyTarget,
    invalid: (reason: string) => ControlMessage,
): ControlMessage {
    let body: unknown;
    try {
        body = JSON.parse(payload.toString("utf8"));
    } catch {
        return invalid("RDP data is not JSON");
    }
    const parsed = rdpDataSchema.safeParse(body);
    if (!parsed.success) return invalid(firstIssue(parsed.error));
    let bytes: Buffer;
    try {
        bytes = decodeBytes(parsed.data.data, "RDP data");
    } catch (err) {
        return invalid(describeError(err));
    }
    return { kind: "rdp-data", ack, chunk: { sessionId: parsed.data.session_id, data: bytes, dataReply: data.reply } };
}

/** `ZedAgentResponse` (types.go:1775-1799). The password field stays empty: the control plane keeps its own. */
export interface ZedAgentResponse {
    readonly session_id: string;
    readonly runner_id: string;
    readonly rdp_url: string;
    readonly rdp_password: "";
    readonly error: string;
    readonly status: "running" | "stopped" | "configured" | "error";
    readonly pid: number;
    readonly retries: number;
}

export function agentResponse(
    fields: Pick<ZedAgentResponse, "session_id" | "runner_id" | "status"> & Partial<Pick<ZedAgentResponse, "error" | "pid">>,
): ZedAgentResponse {
    return {
        session_id: fields.session_id,
        runner_id: fields.runner_id,
        rdp_url: fields.status === "running" ? `rdp://${fields.runner_id}:${CONTAINER_PORTS.rdp}/${fields.session_id}` : "",
        rdp_password: "",
        error: fields.error ?? "",
        status: fields.status,
        pid: fields.pid ?? 0,
        retries: 0,
    };
}

/** `RunnerEventResponseEnvelope`: the server publishes `payload` to `reply` verbatim. */
export function responseFrame(target: ReplyTarget, payload: Buffer | object): string {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload), "utf8");
    return JSON.stringify({ request_id: target.requestId, reply: target.reply, payload: bytes.toString("base64") });
}

/** What xrdp answered, as the RDP proxy decodes it (`ZedAgentRDPData` with type rdp_response). */
export function rdpResponseFrame(chunk: Pick<RdpChunk, "sessionId" | "dataReply">, data: Buffer, now: Date = new Date()): string {
    return responseFrame(
        { requestId: `rdp-response-${chunk.sessionId}-${now.getTime()}`, reply: chunk.dataReply },
        { session_id: chunk.sessionId, type: "rdp_response", data: data.toString("base64"), timestamp: Math.floor(now.getTime() / 1000) },
    );
}

/** The small answer that releases the RDP proxy's 5-second wait on each chunk. */
export const RDP_ACK = { status: "ok" } as const;

/**
 * The runner WebSocket URL: ws:// for http://, wss:// for https://, the API host's
 * path prefix kept, every query value escaped.
 */
export function runnerSocketUrl(apiHost: string, token: string, runnerId: string, concurrency: number): string {
    const url = apiUrl(apiHost, RUNNER_WS_PATH);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = new URLSearchParams({ access_token: token, concurrency: String(concurrency), runnerid: runnerId }).toString();
    return url.toString();
}

/** `path` below the API host's own path prefix. */
export function apiUrl(apiHost: string, path: string): URL {
    const url = new URL(apiHost);
    const [pathname, search] = path.split("?", 2);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}${pathname}`;
    url.search = search ? `?${search}` : "";
    return url;
}

/** A work_dir/session folder name must be one safe path segment. */
export function isSafeSegment(name: string): boolean {
    return /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,199}$/.test(name) && name !== "." && name !== "..";
}
