// The desktop's password file, as x11vnc reads it: the current passwords only, and
// dated so that x11vnc's whole-second change check always sees a change.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DesktopPasswords, listeningPorts } from "../../agent/desktop";

function passwordsIn(dir: string) {
    const userPasswords: string[] = [];
    const file = path.join(dir, "vnc-passwords");
    return { file, userPasswords, passwords: new DesktopPasswords(file, async (pw) => void userPasswords.push(pw), undefined) };
}

describe("DesktopPasswords", () => {
    it("accepts the stack's two passwords first, then only the control plane's", async () => {
        const { file, userPasswords, passwords } = passwordsIn(fs.mkdtempSync(path.join(os.tmpdir(), "desk-")));
        await passwords.initial("rdp-initial-1", "vncinit1");
        expect(fs.readFileSync(file, "utf8")).toBe("vncinit1\nrdp-initial-1\n");
        await passwords.set("from-control-plane");
        expect(fs.readFileSync(file, "utf8")).toBe("from-control-plane\n");
        expect(userPasswords).toEqual(["rdp-initial-1", "from-control-plane"]);
        expect(passwords.state.source).toBe("control-plane");
        expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    });

    it("dates every new file after the second it is written in, and after the one before", async () => {
        const { file, passwords } = passwordsIn(fs.mkdtempSync(path.join(os.tmpdir(), "desk-")));
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
        const { passwords, userPasswords } = passwordsIn(fs.mkdtempSync(path.join(os.tmpdir(), "desk-")));
        await expect(passwords.set("has:colon")).rejects.toThrow("without ':' or control characters");
        await expect(passwords.set("new\nline-xx")).rejects.toThrow("without ':' or control characters");
        await expect(passwords.set("short")).rejects.toThrow("at least 6 characters");
        expect(userPasswords).toEqual([]);
    });
});

describe("listeningPorts", () => {
    it("reads LISTEN sockets from /proc/net/tcp and tcp6", () => {
        const tcp = [
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 00000000:0BD6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
            "   1: 0100007F:0D3D 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1",
        ].join("\n");
        const tcp6 = [
            "  sl  local_address",
            "   0: 00000000000000000000000000000000:170C 00000000000000000000000000000000:0000 0A 0 0 0 0 0 3 1",
        ].join("\n");
        expect([...listeningPorts([tcp, tcp6])].sort()).toEqual([3030, 5900]);
    });
});
