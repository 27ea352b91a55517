// The runner's desktop: Xvfb, a window manager, x11vnc and xrdp, each started
// again when it dies, and the desktop's password. Children get a minimal
// environment of their own: never the token, never a password, never in argv.
import { ChildProcess, SpawnOptions, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTAINER_PORTS, DESKTOP_USER, DISPLAY, STATE_DIR, describeError } from "../contract";
import { accepts, Readiness } from "./localServer";
import { Logger } from "./log";

const XAUTHORITY = path.posix.join(DESKTOP_USER.home, ".Xauthority");
const DISPLAY_NUMBER = DISPLAY.slice(1);
const X_SOCKET = `/tmp/.X11-unix/X${DISPLAY_NUMBER}`;
/** The file x11vnc re-reads at every new client (`-passwdfile read:`): the passwords the desktop accepts now. */
const VNC_PASSWORD_FILE = path.posix.join(STATE_DIR, "vnc-passwords");
const RDP_CERT = path.posix.join(STATE_DIR, "rdp-cert.pem");
const RDP_KEY = path.posix.join(STATE_DIR, "rdp-key.pem");

/** The environment every desktop process gets: nothing of the agent's own. */
function desktopEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: DESKTOP_USER.home,
        USER: DESKTOP_USER.name,
        LOGNAME: DESKTOP_USER.name,
        DISPLAY,
        XAUTHORITY,
        ...extra,
    };
}

const asDesktopUser: SpawnOptions = { uid: DESKTOP_USER.uid, gid: DESKTOP_USER.gid };

/** What a supervised process is: how to start it and how to tell it is serving. */
export interface ComponentSpec {
    readonly name: string;
    readonly command: string;
    readonly args: readonly string[];
    readonly options: SpawnOptions;
    /**
     * Whether it serves now, beyond being alive: its socket or port accepts a connection.
     * Probed after each start until it does; until then the component is not up.
     */
    readonly accepts: () => Promise<boolean>;
}

/** How often a started component is probed until it accepts connections. */
const READINESS_PROBE_MS = 100;

/**
 * One desktop process, started again a second after it exits. It is up (for /health, and
 * for the desktop connections waiting on it) only once a probe found it serving: a process
 * that is alive but not yet listening is not a reachable desktop.
 */
export class Supervised implements Readiness {
    private child: ChildProcess | undefined;
    private stopped = false;
    private restartTimer: NodeJS.Timeout | undefined;
    /** Whether the current child has accepted a connection. */
    private serving = false;
    private readonly readyWaiters = new Set<() => void>();
    restarts = 0;

    constructor(
        readonly spec: ComponentSpec,
        private readonly log: Logger,
        private readonly restartDelayMs = 1000,
        private readonly probeMs = READINESS_PROBE_MS,
    ) {}

    get pid(): number | undefined {
        return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
    }

    get up(): boolean {
        return this.pid !== undefined && this.serving;
    }

    get ready(): boolean {
        return this.up;
    }

    whenReady(timeoutMs: number): Promise<boolean> {
        if (this.up) return Promise.resolve(true);
        return new Promise((resolve) => {
            const done = (ok: boolean) => {
                clearTimeout(timer);
                this.readyWaiters.delete(wake);
                resolve(ok);
            };
            const wake = () => done(true);
            const timer = setTimeout(() => done(false), timeoutMs);
            this.readyWaiters.add(wake);
        });
    }

    start(): void {
        if (this.stopped) return;
        const child = spawn(this.spec.command, [...this.spec.args], { stdio: ["ignore", "ignore", "pipe"], ...this.spec.options });
        this.child = child;
        this.serving = false;
        // Their stderr is kept for the log at debug level: x11vnc and Xvfb are chatty.
        child.stderr?.on("data", (d: Buffer) => this.log.debug(`${this.spec.name}: ${d.toString().trimEnd()}`));
        child.on("error", (err) => this.log.error(`${this.spec.name} could not start: ${describeError(err)}`));
        child.on("exit", (code, signal) => {
            if (this.child === child) this.serving = false;
            if (this.stopped) return;
            this.restarts += 1;
            this.log.warn(`${this.spec.name} exited with ${signal ? `signal ${signal}` : `status ${code}`}; starting it again`);
            this.restartTimer = setTimeout(() => this.start(), this.restartDelayMs);
        });
        void this.probeUntilServing(child);
    }

    stop(): void {
        this.stopped = true;
        clearTimeout(this.restartTimer);
        if (this.pid) this.child?.kill("SIGTERM");
    }

    private async probeUntilServing(child: ChildProcess): Promise<void> {
        const current = () => !this.stopped && this.child === child && this.pid !== undefined;
        while (current()) {
            const ok = await this.spec.accepts().catch(() => false);
            // A probe that answered for a child that has since died says nothing about the next one.
            if (!current()) return;
            if (ok) {
                this.serving = true;
                this.log.info(`${this.spec.name} is ready`);
                for (const wake of [...this.readyWaiters]) wake();
                return;
            }
            await new Promise((r) => setTimeout(r, this.probeMs));
        }
    }
}

/** Runs a command to completion with `input` on stdin; rejects with its stderr on a non-zero status. */
function run(command: string, args: readonly string[], input = "", options: SpawnOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, [...args], { stdio: ["pipe", "ignore", "pipe"], env: desktopEnv(), ...options });
        let stderr = "";
        child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("exit", (code) =>
            code === 0
                ? resolve()
                : reject(new Error(`${command} exited with status ${code}${stderr ? `: ${stderr.trim().slice(0, 200)}` : ""}`)),
        );
        child.stdin?.end(input);
    });
}

/** Where the desktop's current password came from. */
export interface PasswordState {
    readonly source: "stack" | "control-plane";
    readonly changedAt: string;
}

/**
 * The desktop's password: user `zed`'s (RDP logins through xrdp) and what x11vnc
 * accepts. At start the stack's RDP and VNC passwords both work; once the control
 * plane sends one, only that one does.
 */
export class DesktopPasswords {
    private stateNow: PasswordState = { source: "stack", changedAt: new Date().toISOString() };
    /** The modification time (whole seconds) given to the last file written. */
    private lastMtime = 0;

    constructor(
        private readonly file: string = VNC_PASSWORD_FILE,
        // No login reads user zed's Unix password: xrdp relays the RDP login's password to x11vnc
        // (image/xrdp.ini: libvnc, password=ask). So none is set by default, which also keeps /etc
        // read-only (config: readOnlyRootFilesystem), where chpasswd could not write /etc/shadow.
        private readonly setUserPassword: (password: string) => Promise<void> = async () => undefined,
        private readonly owner: { uid: number; gid: number } | undefined = DESKTOP_USER,
    ) {}

    get state(): PasswordState {
        return this.stateNow;
    }

    async initial(rdpPassword: string, vncPassword: string): Promise<void> {
        await this.setUserPassword(rdpPassword);
        // x11vnc takes every line as a password; xrdp relays the RDP login's password to it.
        await this.writeFile([vncPassword, rdpPassword]);
    }

    /** Makes `password` the only one the desktop accepts. */
    async set(password: string): Promise<void> {
        if (password.length < 6 || /[\x00-\x1f:]/.test(password)) {
            throw new Error("the password must be at least 6 characters, without ':' or control characters");
        }
        await this.setUserPassword(password);
        await this.writeFile([password]);
        this.stateNow = { source: "control-plane", changedAt: new Date().toISOString() };
    }

    private async writeFile(lines: readonly string[]): Promise<void> {
        // A new file renamed into place: x11vnc never reads half a file.
        const tmp = `${this.file}.${crypto.randomBytes(4).toString("hex")}`;
        await fs.promises.writeFile(tmp, `${lines.join("\n")}\n`, { mode: 0o600 });
        if (this.owner) await fs.promises.chown(tmp, this.owner.uid, this.owner.gid);
        // x11vnc rereads the file only when its modification time, in whole seconds, is later than
        // its last look: a file replaced in the same second as that look would never be read (seen
        // with a real VNC client: 2 of 6 quick changes lost). So each file is dated after this second
        // and after the previous file.
        const mtime = Math.max(Math.floor(Date.now() / 1000) + 1, this.lastMtime + 1);
        this.lastMtime = mtime;
        await fs.promises.utimes(tmp, mtime, mtime);
        await fs.promises.rename(tmp, this.file);
    }
}

/** The desktop's components, in start order. */
export function desktopComponents(width: number, height: number): ComponentSpec[] {
    const env = desktopEnv();
    return [
        {
            name: "xvfb",
            command: "Xvfb",
            // No GLX: Zed draws through Vulkan (Mesa's lavapipe), and GLX alone costs about 12 MB per runner.
            args: [
                DISPLAY,
                "-screen",
                "0",
                `${width}x${height}x24`,
                "-auth",
                XAUTHORITY,
                "-nolisten",
                "tcp",
                "-dpi",
                "96",
                "-extension",
                "GLX",
            ],
            options: { ...asDesktopUser, env },
            accepts: () => accepts({ path: X_SOCKET }),
        },
        {
            name: "windowManager",
            // Each window full-screen, no one needed to place it; the title bar switches between sessions' windows.
            command: "matchbox-window-manager",
            args: ["-use_titlebar", "yes", "-use_cursor", "yes"],
            options: { ...asDesktopUser, env },
            // It serves no socket: alive is all it can be.
            accepts: async () => true,
        },
        {
            name: "vnc",
            command: "x11vnc",
            // -noshm: shared memory between Xvfb and x11vnc fails under some runtimes and is not needed in one container.
            args: [
                "-display",
                DISPLAY,
                "-rfbport",
                String(CONTAINER_PORTS.vnc),
                "-passwdfile",
                `read:${VNC_PASSWORD_FILE}`,
                "-forever",
                "-shared",
                "-noshm",
                "-quiet",
                "-noxdamage",
                "-nossl",
            ],
            options: { ...asDesktopUser, env },
            accepts: () => accepts({ host: "127.0.0.1", port: CONTAINER_PORTS.vnc }),
        },
        {
            name: "rdp",
            command: "/usr/sbin/xrdp",
            args: ["--nodaemon"],
            options: { env: desktopEnv({ HOME: "/root", USER: "root", LOGNAME: "root" }) },
            accepts: () => accepts({ host: "127.0.0.1", port: CONTAINER_PORTS.rdp }),
        },
    ];
}

/** One-time set-up before the desktop starts: the X cookie, xrdp's keys. */
export async function prepareDesktop(runnerId: string): Promise<void> {
    await fs.promises.mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
    await fs.promises.rm("/tmp/.X1-lock", { force: true });
    await fs.promises.rm(X_SOCKET, { force: true });
    await fs.promises.writeFile(XAUTHORITY, "", { mode: 0o600 });
    await fs.promises.chown(XAUTHORITY, DESKTOP_USER.uid, DESKTOP_USER.gid);
    // The cookie goes to xauth on stdin, not in its argv.
    await run(
        "xauth",
        ["-q", "-f", XAUTHORITY, "source", "-"],
        `add ${DISPLAY} . ${crypto.randomBytes(16).toString("hex")}\n`,
        asDesktopUser,
    );
    // A TLS key and xrdp RSA keys per container, not one baked into the image.
    await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        `/CN=${runnerId}`,
        "-keyout",
        RDP_KEY,
        "-out",
        RDP_CERT,
    ]);
    await run("xrdp-keygen", ["xrdp", "auto"]);
    await fs.promises.mkdir("/run/xrdp", { recursive: true });
}

/** Waits for the X socket, so the window manager and x11vnc find a display. */
export async function waitForDisplay(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!fs.existsSync(X_SOCKET)) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 50));
    }
    return true;
}
