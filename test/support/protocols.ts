// Minimal protocol probes for the published remote-desktop ports, on loopback only.
import * as net from "node:net";

/** Connects to host:port, writes `request` (if any), and resolves with the first `bytes` bytes answered. */
function exchange(host: string, port: number, request: Buffer | undefined, bytes: number, timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        let received = Buffer.alloc(0);
        const timer = setTimeout(() => {
            socket.destroy();
            reject(new Error(`no ${bytes}-byte answer from ${host}:${port} within ${timeoutMs} ms (got ${received.length})`));
        }, timeoutMs);
        socket.on("connect", () => request && socket.write(request));
        socket.on("data", (chunk) => {
            received = Buffer.concat([received, chunk]);
            if (received.length >= bytes) {
                clearTimeout(timer);
                socket.destroy();
                resolve(received);
            }
        });
        socket.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
    });
}

/**
 * Sends an RDP X.224 Connection Request (asking for TLS) and returns the X.224
 * PDU type of the answer: 0xd0 is a Connection Confirm.
 */
export async function rdpConnectionPduType(host: string, port: number): Promise<number> {
    const request = Buffer.from([
        0x03,
        0x00,
        0x00,
        0x13, // TPKT, length 19
        0x0e,
        0xe0,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00, // X.224 Connection Request
        0x01,
        0x00,
        0x08,
        0x00,
        0x01,
        0x00,
        0x00,
        0x00, // RDP_NEG_REQ: PROTOCOL_SSL
    ]);
    const answer = await exchange(host, port, request, 6);
    return answer[5];
}

export interface VncGreeting {
    readonly banner: string;
    readonly securityTypes: number[];
}

/** Reads the RFB banner, answers with RFB 3.8, and returns the security types offered. */
export function vncGreeting(host: string, port: number, timeoutMs = 5000): Promise<VncGreeting> {
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        let buffer = Buffer.alloc(0);
        let banner = "";
        const timer = setTimeout(() => {
            socket.destroy();
            reject(new Error(`no VNC greeting from ${host}:${port} within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on("data", (chunk) => {
            buffer = Buffer.concat([buffer, chunk]);
            if (!banner && buffer.length >= 12) {
                banner = buffer.subarray(0, 12).toString("latin1");
                buffer = buffer.subarray(12);
                socket.write("RFB 003.008\n");
            }
            if (banner && buffer.length >= 1 && buffer.length >= 1 + buffer[0]) {
                clearTimeout(timer);
                socket.destroy();
                resolve({ banner, securityTypes: [...buffer.subarray(1, 1 + buffer[0])] });
            }
        });
        socket.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
    });
}

/**
 * Logs in to a VNC server with a real VNC client (Debian's vncsnapshot, the password
 * encoded by tigervnc's vncpasswd into a file, never on a command line) and grabs the
 * desktop. Resolves with the snapshot's size in bytes, or rejects with the client's error.
 */
export async function vncSnapshot(host: string, port: number, password: string, options: readonly string[] = []): Promise<number> {
    const { execFile, execFileSync } = await import("node:child_process");
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vnc-login-"));
    try {
        const passwordFile = path.join(dir, "passwd");
        fs.writeFileSync(passwordFile, execFileSync("vncpasswd", ["-f"], { input: `${password}\n` }), { mode: 0o600 });
        const out = path.join(dir, "desktop.jpg");
        // Not spawnSync: the caller may be relaying this very connection in this process.
        const run = await new Promise<{ code: number | null; text: string }>((resolve) => {
            execFile(
                "vncsnapshot",
                ["-quiet", ...options, "-passwd", passwordFile, `${host}::${port}`, out],
                { encoding: "utf8", timeout: 60_000 },
                (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, text: `${stderr}${stdout}` }),
            );
        });
        if (run.code !== 0 || !fs.existsSync(out)) throw new Error(`vncsnapshot failed (${run.code}): ${run.text.trim().slice(0, 300)}`);
        return fs.statSync(out).size;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
