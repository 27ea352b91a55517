// TEST DOUBLE: stands in for the runner's local xrdp on loopback. It answers an
// RDP X.224 Connection Request with a Connection Confirm, echoes anything else,
// and records what each connection received.
import * as net from "node:net";
import type { AddressInfo } from "node:net";

/** X.224 Connection Confirm (TPKT + CC), as xrdp answers a Connection Request. */
export const X224_CONNECTION_CONFIRM = Buffer.from([0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00]);

export class StubXrdp {
    readonly connections: { received: Buffer[]; socket: net.Socket }[] = [];
    private readonly server = net.createServer((socket) => {
        const record = { received: [] as Buffer[], socket };
        this.connections.push(record);
        socket.on("data", (data) => {
            record.received.push(data);
            // TPKT version 3 carrying an X.224 Connection Request (0xe0).
            if (data.length >= 6 && data[0] === 0x03 && data[5] === 0xe0) socket.write(X224_CONNECTION_CONFIRM);
            else socket.write(data);
        });
        socket.on("error", () => undefined);
    });

    private port = 0;

    /** Listens on `port` (any free one by default); returns it. */
    async listen(port = 0): Promise<number> {
        await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
        this.port = (this.server.address() as AddressInfo).port;
        return this.port;
    }

    /** A loopback port free now (taken, then released): where an xrdp that starts late will listen. */
    async freePort(): Promise<number> {
        const probe = net.createServer();
        await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
        const { port } = probe.address() as AddressInfo;
        await new Promise<void>((resolve) => probe.close(() => resolve()));
        return port;
    }

    connect(): net.Socket {
        return net.connect({ host: "127.0.0.1", port: this.port });
    }

    async close(): Promise<void> {
        for (const c of this.connections) c.socket.destroy();
        if (!this.server.listening) return;
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
}
