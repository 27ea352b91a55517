// A real OpenSSH server for the tests of ssh:// hosts (Debian's openssh-server, see
// .ci/sshd.sh): its own sshd on a loopback port, a throwaway host key and client key,
// an ssh client config that reads only this folder (never ~/.ssh or /etc/ssh), all in
// one temporary folder that stop() removes with the server.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { eventually } from "./eventually";

const SSHD = "/usr/sbin/sshd";

export interface TestSshd {
    readonly port: number;
    readonly user: string;
    readonly dir: string;
    /** The host's public key, as a known_hosts line for 127.0.0.1 on `port`. */
    readonly knownHostsLine: string;
    /**
     * An ssh client config (for `-F`) with the test's client key and `knownHosts` as the
     * only known_hosts file; `hosts` become Host blocks (alias -> HostName 127.0.0.1, Port).
     */
    clientConfig(name: string, knownHosts: string, aliases?: readonly string[]): string;
    stop(): Promise<void>;
}

async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

/** Whether something on 127.0.0.1:port speaks SSH (its banner). */
function answersSsh(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.setTimeout(2000);
        socket.once("data", (d) => {
            socket.destroy();
            resolve(d.toString().startsWith("SSH-2.0-"));
        });
        socket.once("error", () => resolve(false));
        socket.once("timeout", () => {
            socket.destroy();
            resolve(false);
        });
    });
}

/** The IDs of the processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
    return fs
        .readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .filter((entry) => {
            try {
                // Fields after the command's closing parenthesis: state, then the parent's ID.
                const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
                return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
            } catch {
                return false;
            }
        })
        .map(Number);
}

/** Starts sshd as this user, accepting only the test's client key, on a free loopback port. */
export async function startSshd(): Promise<TestSshd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zed-runner-sshd-"));
    let child: ChildProcess | undefined;
    const stop = async () => {
        if (child && child.exitCode === null && child.signalCode === null) {
            // The listener's own children serve connections a test left open; they outlive it (and hold
            // its stderr open) unless ended too, by their process IDs.
            const sessions = childrenOf(child.pid!);
            const exited = new Promise((resolve) => child!.once("exit", resolve));
            child.kill();
            await exited;
            for (const pid of sessions) {
                try {
                    process.kill(pid);
                } catch {
                    // already gone
                }
            }
        }
        child?.stderr?.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        const user = os.userInfo().username;
        const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "zed-runner-test", "-f", file]);
        keygen(path.join(dir, "host_key"));
        keygen(path.join(dir, "client_key"));
        fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));
        // sshd running as root wants its privilege separation folder, which an init script would make.
        if (process.getuid?.() === 0) fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
        const port = await freePort();
        fs.writeFileSync(
            path.join(dir, "sshd_config"),
            [
                `ListenAddress 127.0.0.1:${port}`,
                `HostKey ${path.join(dir, "host_key")}`,
                `PidFile ${path.join(dir, "sshd.pid")}`,
                `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
                `AllowUsers ${user}`,
                // The temporary folder sits under the world-writable /tmp, which StrictModes refuses.
                "StrictModes no",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "PrintMotd no",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "",
            ].join("\n"),
        );
        child = spawn(SSHD, ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
        let log = "";
        child.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
        const started = child;
        await eventually(
            "the test sshd to answer",
            async () => {
                if (started.exitCode !== null) throw new Error(`sshd exited (${started.exitCode}): ${log}`);
                return answersSsh(port);
            },
            30000,
            100,
        );
        const hostKey = fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
        return {
            port,
            user,
            dir,
            knownHostsLine: `[127.0.0.1]:${port} ${hostKey}\n`,
            clientConfig(name, knownHosts, aliases = []) {
                const file = path.join(dir, name);
                fs.writeFileSync(
                    file,
                    [
                        ...aliases.flatMap((alias) => [`Host ${alias}`, "    HostName 127.0.0.1", `    Port ${port}`]),
                        "Host *",
                        `    IdentityFile ${path.join(dir, "client_key")}`,
                        "    IdentitiesOnly yes",
                        `    UserKnownHostsFile ${knownHosts}`,
                        "    GlobalKnownHostsFile /dev/null",
                        "",
                    ].join("\n"),
                );
                return file;
            },
            stop,
        };
    } catch (err) {
        await stop();
        throw err;
    }
}
