// The desktop's password file, as x11vnc reads it: the current passwords only, and
// dated so that x11vnc's whole-second change check always sees a change; and the
// supervisor's readiness: a desktop process is up only once it accepts connections.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { DesktopPasswords, Supervised } from "../../agent/desktop";
import { accepts } from "../../agent/localServer";
import { Redactor, createLogger } from "../../agent/log";
import { eventually } from "../support/eventually";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
});

/** A temporary folder, removed after the test. */
function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "desk-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

function passwordsIn(dir: string) {
    const userPasswords: string[] = [];
    const file = path.join(dir, "vnc-passwords");
    return { file, userPasswords, passwords: new DesktopPasswords(file, async (pw) => void userPasswords.push(pw), undefined) };
}

describe("DesktopPasswords", () => {
    it("accepts the stack's two passwords first, then only the control plane's", async () => {
        const { file, userPasswords, passwords } = passwordsIn(tempDir());
        await passwords.initial("rdp-initial-1", "vncinit1");
        expect(fs.readFileSync(file, "utf8")).toBe("vncinit1\nrdp-initial-1\n");
        await passwords.set("from-control-plane");
        expect(fs.readFileSync(file, "utf8")).toBe("from-control-plane\n");
        expect(userPasswords).toEqual(["rdp-initial-1", "from-control-plane"]);
        expect(passwords.state.source).toBe("control-plane");
        expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    });

    it("dates every new file after the second it is written in, and after the one before", async () => {
        const { file, passwords } = passwordsIn(tempDir());
        const seen: number[] = [];
        for (let i = 0; i < 5; i++) {
            const second = Math.floor(Date.now() / 1000);
            await passwords.set(`password-${i}-abc`);
            const mtime = Math.floor(fs.statSync(file).mtimeMs / 1000);
            expect(mtime).toBeGreaterThan(second);
            seen.push(mtime);
        }
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(new Set(seen).size).toBe(5);
    });

    it("refuses a password chpasswd or x11vnc would misread", async () => {
        const { passwords, userPasswords } = passwordsIn(tempDir());
        await expect(passwords.set("has:colon")).rejects.toThrow("without ':' or control characters");
        await expect(passwords.set("new\nline-xx")).rejects.toThrow("without ':' or control characters");
        await expect(passwords.set("short")).rejects.toThrow("at least 6 characters");
        expect(userPasswords).toEqual([]);
    });
});

describe("Supervised: up only once it accepts connections", () => {
    /** A free loopback port: taken, then released for the child to listen on. */
    async function freePort(): Promise<number> {
        const server = net.createServer();
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const { port } = server.address() as net.AddressInfo;
        await new Promise<void>((r) => server.close(() => r()));
        return port;
    }

    /** A server process that, like a starting x11vnc, runs a while before it listens: here until `go` exists. */
    function lateListener(dir: string, port: number) {
        const go = path.join(dir, "go");
        // Listening is retried on an error: on a loaded machine the killed predecessor's port can
        // still be taken for a moment, and a crash there would count as a second restart.
        const script = `const fs = require("fs"); const net = require("net");
            const listen = () => { const server = net.createServer((s) => s.end("RFB 003.008\\n"));
                server.on("error", () => setTimeout(listen, 20)); server.listen(${port}, "127.0.0.1"); };
            const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); listen(); } }, 20);`;
        let probes = 0;
        const lines: string[] = [];
        const supervised = new Supervised(
            {
                name: "vnc",
                command: process.execPath,
                args: ["-e", script],
                options: {},
                accepts: async () => {
                    probes += 1;
                    return accepts({ host: "127.0.0.1", port });
                },
            },
            createLogger("debug", new Redactor(), (l) => lines.push(l)),
            50,
            20,
        );
        return { supervised, go, lines, probes: () => probes };
    }

    it("is down while its process runs but refuses connections, up once it accepts, and wakes what waits for it", async () => {
        const dir = tempDir();
        const { supervised, go, probes } = lateListener(dir, await freePort());
        supervised.start();
        cleanups.push(async () => supervised.stop());
        // Two refused probes of a running process: the state /health would report now.
        await eventually("two refused probes of the running process", () => supervised.pid !== undefined && probes() >= 2);
        expect(supervised.up).toBe(false);
        expect(supervised.ready).toBe(false);
        const waiting = supervised.whenReady(30_000);
        fs.writeFileSync(go, "");
        expect(await waiting).toBe(true);
        expect(supervised.up).toBe(true);
    });

    it("is down again once it exits, and up when the restarted process accepts", async () => {
        const dir = tempDir();
        const { supervised, go, lines } = lateListener(dir, await freePort());
        fs.writeFileSync(go, "");
        supervised.start();
        cleanups.push(async () => supervised.stop());
        expect(await supervised.whenReady(30_000)).toBe(true);
        const first = supervised.pid!;
        process.kill(first, "SIGKILL");
        await eventually("the exit to be seen", () => lines.some((l) => l.includes("vnc exited with signal SIGKILL")));
        expect(supervised.up).toBe(false);
        await eventually("the restarted process to accept", () => supervised.up && supervised.pid !== first, 30_000);
        expect(supervised.restarts).toBe(1);
    });

    it("tells a waiter no after its bound when it never accepts", async () => {
        const dir = tempDir();
        const { supervised, probes } = lateListener(dir, await freePort());
        supervised.start();
        cleanups.push(async () => supervised.stop());
        await eventually("a refused probe", () => probes() >= 1);
        expect(await supervised.whenReady(200)).toBe(false);
        expect(supervised.up).toBe(false);
    });
});
