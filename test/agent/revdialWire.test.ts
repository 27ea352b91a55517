// What travels on the reverse dial's control connection: the answer's head, and
// the command lines both ways. Pure: no sockets.
import { KEEP_ALIVE_LINE, MAX_HEAD_BYTES, classifyAnswer, parseCommand, pickupFailedLine, splitHead } from "../../agent/revdialWire";

describe("classifyAnswer", () => {
    it.each([
        ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", { kind: "up" }],
        [
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain",
            { kind: "unsupported", why: "the control plane answered 404 at /api/v1/revdial" },
        ],
        [
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8",
            { kind: "unsupported", why: "the control plane answered /api/v1/revdial with a web page" },
        ],
        ["HTTP/1.1 401 Unauthorized", { kind: "refused", why: "the control plane refused the runner token (401) at /api/v1/revdial" }],
        ["HTTP/1.1 502 Bad Gateway", { kind: "refused", why: "the control plane answered 502 at /api/v1/revdial" }],
        ["SSH-2.0-OpenSSH", { kind: "refused", why: "the control plane's answer at /api/v1/revdial is not HTTP" }],
    ])("%s", (head, expected) => {
        expect(classifyAnswer(head)).toEqual(expected);
    });
});

describe("splitHead", () => {
    it("waits for the whole head, then hands on the command lines that came with it", () => {
        expect(splitHead(Buffer.from("HTTP/1.1 200 OK\r\nContent-Ty"))).toBeUndefined();
        expect(splitHead(Buffer.from('HTTP/1.1 200 OK\r\n\r\n{"command":"keep-alive"}\n'))).toEqual({
            head: "HTTP/1.1 200 OK",
            rest: Buffer.from('{"command":"keep-alive"}\n'),
        });
    });

    it("gives up on a head longer than the limit", () => {
        expect(() => splitHead(Buffer.alloc(MAX_HEAD_BYTES + 1, "a"))).toThrow("the answer's head is too long");
    });
});

describe("parseCommand", () => {
    it.each([
        ['{"command":"keep-alive"}', { kind: "keep-alive" }],
        [
            '{"command":"conn-ready","connPath":"/revdial?revdial.dialer=ab12"}',
            { kind: "conn-ready", connPath: "/revdial?revdial.dialer=ab12" },
        ],
        ['{"command":"conn-ready","connPath":"http://elsewhere/"}', { kind: "other", command: "conn-ready" }],
        ['{"command":"conn-ready"}', { kind: "other", command: "conn-ready" }],
        ['{"command":"shutdown"}', { kind: "other", command: "shutdown" }],
        ["null", { kind: "other", command: "undefined" }],
        ["{not json", { kind: "not-json" }],
    ])("%s", (line, expected) => {
        expect(parseCommand(line)).toEqual(expected);
    });
});

describe("our command lines", () => {
    it("are one JSON object per line, as revdial.Dialer reads them", () => {
        expect(KEEP_ALIVE_LINE).toBe('{"command":"keep-alive"}\n');
        expect(pickupFailedLine("/revdial?revdial.dialer=ab12", 'the local VNC server said "no"')).toBe(
            '{"command":"pickup-failed","connPath":"/revdial?revdial.dialer=ab12","err":"the local VNC server said \\"no\\""}\n',
        );
    });
});
