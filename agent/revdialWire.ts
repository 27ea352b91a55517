// What travels on the reverse dial's control connection (docs/protocol.md §5):
// the head of the control plane's HTTP answer, then newline-delimited JSON
// commands both ways. Pure: no sockets.
import { isRevdialAbsent } from "./helixRevisions";

/** The longest response head, and the longest command line, accepted on the control connection. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** What answered the control connection's request. */
export type RevdialAnswer = { kind: "up" } | { kind: "unsupported"; why: string } | { kind: "refused"; why: string };

/**
 * Reads the head of the control connection's answer. A 200 without an HTML body is the
 * revdial endpoint; a control plane without one is told apart by helixRevisions.ts
 * (REVERSE_DIAL); anything else is a failure worth retrying.
 */
export function classifyAnswer(head: string): RevdialAnswer {
    const [statusLine, ...headerLines] = head.split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const contentType =
        headerLines
            .find((l) => /^content-type:/i.test(l))
            ?.split(":")[1]
            ?.trim()
            .toLowerCase() ?? "";
    if (isRevdialAbsent(status, contentType)) {
        return {
            kind: "unsupported",
            why:
                status === 404
                    ? "the control plane answered 404 at /api/v1/revdial"
                    : "the control plane answered /api/v1/revdial with a web page",
        };
    }
    if (status === 200) return { kind: "up" };
    if (status === 401 || status === 403)
        return { kind: "refused", why: `the control plane refused the runner token (${status}) at /api/v1/revdial` };
    if (Number.isNaN(status)) return { kind: "refused", why: "the control plane's answer at /api/v1/revdial is not HTTP" };
    return { kind: "refused", why: `the control plane answered ${status} at /api/v1/revdial` };
}

/**
 * The answer's head, once `received` holds all of it, and the bytes after it (the first command
 * lines may come in the same packet); undefined while it is incomplete. Throws when the head
 * is longer than MAX_HEAD_BYTES.
 */
export function splitHead(received: Buffer): { head: string; rest: Buffer } | undefined {
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) {
        if (received.length > MAX_HEAD_BYTES) throw new Error("the answer's head is too long");
        return undefined;
    }
    return { head: received.subarray(0, end).toString("latin1"), rest: received.subarray(end + 4) };
}

/** A command from the control plane, as far as a runner acts on it. */
export type ControlCommand =
    | { readonly kind: "keep-alive" }
    /** The control plane wants a connection, to be picked up at /api/v1 + connPath. */
    | { readonly kind: "conn-ready"; readonly connPath: string }
    /** Anything else: `command` as it came, for the log. */
    | { readonly kind: "other"; readonly command: string }
    | { readonly kind: "not-json" };

/** Understands one command line. Never throws. */
export function parseCommand(line: string): ControlCommand {
    let message: { command?: unknown; connPath?: unknown };
    try {
        message = JSON.parse(line);
    } catch {
        return { kind: "not-json" };
    }
    if (message?.command === "keep-alive") return { kind: "keep-alive" };
    if (message?.command === "conn-ready" && typeof message.connPath === "string" && message.connPath.startsWith("/")) {
        return { kind: "conn-ready", connPath: message.connPath };
    }
    return { kind: "other", command: String(message?.command) };
}

/** Our keep-alive line. */
export const KEEP_ALIVE_LINE = `${JSON.stringify({ command: "keep-alive" })}\n`;

/** Tells the control plane that the connection it asked for at `connPath` cannot be picked up, and why. */
export function pickupFailedLine(connPath: string, why: string): string {
    return `${JSON.stringify({ command: "pickup-failed", connPath, err: why })}\n`;
}
