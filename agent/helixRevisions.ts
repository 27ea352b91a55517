// The one list of what the agent does differently depending on which Helix
// revision runs the control plane: what differs, at which revisions (the
// revisions table of docs/protocol.md), which function here tells the cases
// apart, and which functions act on it. The frame parser (protocol.ts) and the
// reverse dial's answer reader (revdialWire.ts) ask the detectors below;
// nothing else in agent/ looks at a revision. Pure: no imports.

/** The Helix revisions that carry the external-agent runner protocol, as docs/protocol.md names them. */
export const HELIX_REVISIONS = {
    /** Commit ef673ccf9 (2025-09-08), the revision the seed document describes. */
    seed: "ef673ccf9",
    /** Tag 2.4.0-rc8 (2025-09-13): the only release whose `helix` binary has `external-agent-runner`. */
    rc8: "2.4.0-rc8",
    /** 2.5.42 to 2.12.x: the runner endpoint is still registered, but sessions go to Helix's sandbox instead. */
    sandboxEra: "2.5.42 to 2.12.x",
} as const;
export type HelixRevision = (typeof HELIX_REVISIONS)[keyof typeof HELIX_REVISIONS];

/** Where the agent acts on a behaviour: a module under agent/ and a function, or `Class.method`, in it. */
export interface Handler {
    readonly module: string;
    readonly name: string;
}

/** One revision-specific behaviour. */
export interface RevisionBehaviour {
    /** Stable, kebab-case: docs and logs may cite it. */
    readonly id: string;
    /** What differs, and what the agent does about it. */
    readonly differs: string;
    /** The revisions that show the behaviour `differs` describes. */
    readonly revisions: readonly HelixRevision[];
    /** The detector below that tells the cases apart, or undefined when nothing on the wire can. */
    readonly detectedBy: ((...args: never[]) => unknown) | undefined;
    /** The functions that act on it, in the order a frame or an answer meets them. */
    readonly handledBy: readonly Handler[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether a type-0 frame's decoded payload is a whole inner `RunnerEventRequestEnvelope`: the seed
 * revision's RDP proxy publishes one per chunk of RDP bytes, with no NATS `kind` header, so the
 * server hands it on with outer type 0.
 */
export function isInnerRdpEnvelope(
    body: Record<string, unknown>,
): body is Record<string, unknown> & { readonly request_id: string; readonly type: number; readonly payload: unknown } {
    return typeof body.request_id === "string" && "payload" in body && typeof body.type === "number";
}

/**
 * The seed revision's RDP proxy: RDP bytes ride the runner WebSocket inside an inner envelope.
 * Each chunk is acknowledged on the outer reply at once (the proxy waits 5 s per chunk for it), and
 * what xrdp answers goes to the inner reply subject as `rdp_response` data. rc8's proxy no longer
 * publishes RDP to runners, and later revisions have no RDP proxy.
 */
export const INNER_RDP_ENVELOPE: RevisionBehaviour = {
    id: "inner-rdp-envelope",
    differs:
        "The seed revision's RDP proxy publishes each chunk of RDP bytes as a whole inner envelope (type 1, with its own reply subject) inside a type-0 frame; the agent acknowledges the outer request at once and relays the bytes to the local xrdp, sending xrdp's answer to the inner reply subject. rc8 and later send no RDP over the runner WebSocket.",
    revisions: [HELIX_REVISIONS.seed],
    detectedBy: isInnerRdpEnvelope,
    handledBy: [
        { module: "protocol", name: "parseFrame" },
        { module: "dispatcher", name: "Dispatcher.dispatch" },
        { module: "rdpTunnels", name: "RdpTunnels.handle" },
    ],
};

/**
 * A launch's body as a flat `ZedAgent`: the control plane publishes one flat, while Helix's own
 * runner decoded a `ZedTaskMessage` wrapper (`{type: "zed_task", agent, auth_token}`), which the
 * same revisions' NATS agent service still builds. Returns the wrapped agent, or the body itself.
 */
export function launchBody(body: Record<string, unknown>): Record<string, unknown> {
    return body.type === "zed_task" && isObject(body.agent) ? body.agent : body;
}

/**
 * The launch's two shapes: `Controller.launchZedAgent` publishes a flat `ZedAgent`; Helix's own
 * runner expected a `ZedTaskMessage` wrapper. Both are read as the same launch.
 */
export const ZED_TASK_WRAPPER: RevisionBehaviour = {
    id: "zed-task-wrapper",
    differs:
        "The control plane's launch publishes a flat ZedAgent, while Helix's own runner (and the NATS agent service of the same revisions) used a ZedTaskMessage wrapper {type: \"zed_task\", agent, auth_token}; the agent reads either as the same launch and ignores the wrapper's auth_token.",
    revisions: [HELIX_REVISIONS.seed, HELIX_REVISIONS.rc8],
    detectedBy: launchBody,
    handledBy: [{ module: "protocol", name: "parseFrame" }],
};

/** Session IDs of rc8's password configuration task: `password-config-<runner ID>`. */
export const PASSWORD_CONFIG_PREFIX = "password-config-";

/** The runner a password configuration is for, or undefined when `sessionId` names an ordinary session. */
export function passwordConfigRunner(sessionId: string): string | undefined {
    return sessionId.startsWith(PASSWORD_CONFIG_PREFIX) ? sessionId.slice(PASSWORD_CONFIG_PREFIX.length) : undefined;
}

/**
 * rc8's password configuration: on every runner connect, a flat `ZedAgent` whose session ID is
 * `password-config-<runner ID>` carries the password Guacamole will use for the desktop. The
 * shared queue may hand it to any runner, so it is applied only by the runner it names.
 */
export const PASSWORD_CONFIG_TASK: RevisionBehaviour = {
    id: "password-config-task",
    differs:
        "rc8 sends, on every runner connect, a ZedAgent with session_id password-config-<runner ID> and the desktop password Guacamole will use; it may reach any runner. The agent applies it only when it names this runner and answers status configured; the seed revision sends none.",
    revisions: [HELIX_REVISIONS.rc8],
    detectedBy: passwordConfigRunner,
    handledBy: [
        { module: "protocol", name: "parseFrame" },
        { module: "dispatcher", name: "Dispatcher.configurePassword" },
    ],
};

/**
 * Whether the answer to the reverse dial's control request says this control plane has no reverse
 * dial: a 404, or a 200 with a web page (a control plane without the endpoint serves its web UI
 * for every path its API does not route).
 */
export function isRevdialAbsent(status: number, contentType: string): boolean {
    return status === 404 || (status === 200 && contentType.toLowerCase().startsWith("text/html"));
}

/**
 * The reverse dial: rc8 and later answer `GET /api/v1/revdial?runnerid=` with 200 and keep the
 * socket as the runner's dialer; the seed revision has no such endpoint.
 */
export const REVERSE_DIAL: RevisionBehaviour = {
    id: "reverse-dial",
    differs:
        "rc8 and later answer GET /api/v1/revdial?runnerid=<id> with 200 and keep the socket as the runner's dialer (conn-ready lines ask for desktop connections, picked up at /api/v1 + connPath); 2.5.x to 2.12.x keep the endpoint for sandboxes and never ask a runner. The seed revision answers 404 or its web UI's page: with revdial auto the agent then asks again only every 10 minutes and whenever its runner link reconnects (the control plane may have been upgraded).",
    revisions: [HELIX_REVISIONS.rc8, HELIX_REVISIONS.sandboxEra],
    detectedBy: isRevdialAbsent,
    handledBy: [
        { module: "revdialWire", name: "classifyAnswer" },
        { module: "revdial", name: "ReverseDial.markUnsupported" },
        { module: "revdial", name: "ReverseDial.askAgain" },
    ],
};

/**
 * From 2.5.42 the runner endpoint still accepts the handshake, but nothing publishes work to it:
 * a runner shows online and never gets a session. No frame tells such a control plane apart from
 * an idle rc8 one, so the agent cannot detect it; the docs say which control planes it serves.
 */
export const IDLE_RUNNER_ENDPOINT: RevisionBehaviour = {
    id: "idle-runner-endpoint",
    differs:
        "From 2.5.42 the control plane still accepts the runner WebSocket but sends it no work (sessions go to Helix's sandbox over its own reverse dial); nothing on the wire tells it apart from an idle rc8 control plane, so the agent connects and waits like any runner.",
    revisions: [HELIX_REVISIONS.sandboxEra],
    detectedBy: undefined,
    handledBy: [],
};

/** Every revision-specific behaviour, in the order docs/protocol.md lists them. */
export const REVISION_BEHAVIOURS: readonly RevisionBehaviour[] = [
    ZED_TASK_WRAPPER,
    PASSWORD_CONFIG_TASK,
    INNER_RDP_ENVELOPE,
    REVERSE_DIAL,
    IDLE_RUNNER_ENDPOINT,
];
