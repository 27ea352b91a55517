// TEST DOUBLE (part of the fake control plane): the raw HTTP answers both of its endpoints write
// straight onto a socket, where Go's handlers have hijacked it or refused an upgrade.
import * as http from "node:http";

/** Helix's web UI index page, what a path the API does not route answers with. */
export const WEB_PAGE = '<!doctype html><html><head><title>Helix</title></head><body><div id="root"></div></body></html>';

/** A whole HTTP/1.1 response as text: status line, `headers` in order, Content-Length, body. */
export function rawResponse(status: number, body = "", headers: Readonly<Record<string, string>> = {}): string {
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${lines.join("")}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
