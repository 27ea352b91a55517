// Reaches a Docker engine over ssh:// the way the Docker CLI and the Docker provider
// (which `pulumi up` uses) do: the system's `ssh`, with the host's sshOpts, runs
// `docker system dial-stdio` on the host, and the Engine API is spoken over that
// process's stdin and stdout. So ~/.ssh/config, key files, Port, ProxyJump and
// known_hosts all apply as they do for `pulumi up`, and a host key that ssh cannot
// verify ends the connection instead of being accepted. (dockerode's own ssh
// transport, ssh2 with the agent only, accepts any host key and ignores all of that.)
import { ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as http from "node:http";
import { Duplex } from "node:stream";

/** Where an ssh:// address points: the login, the host and the port, each as written (undefined when absent). */
export interface SshDestination {
    readonly user?: string;
    readonly host: string;
    readonly port?: number;
}

/** An ssh:// address refused before any ssh runs. */
export class SshConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SshConfigError";
    }
}

/** An address as messages show it: a password, if one was written, masked. */
function shown(address: string): string {
    return JSON.stringify(address.replace(/^([a-z]+:\/\/[^@/]*?):[^@/]*@/i, "$1:***@"));
}

/** The login, host and port of `ssh://[user@]host[:port]`. */
export function parseSshAddress(address: string): SshDestination {
    let url: URL;
    try {
        url = new URL(address);
    } catch {
        throw new SshConfigError(`${shown(address)} is not an ssh:// address (ssh://user@host or ssh://user@host:port).`);
    }
    if (url.protocol !== "ssh:") throw new SshConfigError(`${shown(address)} is not an ssh:// address.`);
    if (url.password) throw new SshConfigError(`An ssh:// address must not carry a password: ssh uses your keys or agent.`);
    // IPv6 literals come bracketed from URL; ssh takes them bare.
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (!host) throw new SshConfigError(`${shown(address)} names no host (ssh://user@host).`);
    if ((url.pathname && url.pathname !== "/") || url.search || url.hash) {
        throw new SshConfigError(`${shown(address)}: an ssh:// address is ssh://user@host[:port], with nothing after the host.`);
    }
    return {
        user: url.username ? decodeURIComponent(url.username) : undefined,
        host,
        port: url.port ? Number(url.port) : undefined,
    };
}

// ssh(1)'s options that take an argument (its getopt string "1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:P:Q:R:S:TVw:W:XYy").
const SSH_ARG_OPTIONS = new Set("bceilmopBDEFIJLOPQRSwW");

/** One `-o` option of an sshOpts list, as ssh reads it: keyword (lower case) and value. */
interface SshOption {
    readonly keyword: string;
    readonly value: string;
}

/** The `-o` options in `sshOpts`, read the way ssh's getopt does; anything that is not an option is refused. */
function sshOptions(sshOpts: readonly string[]): SshOption[] {
    const found: SshOption[] = [];
    for (let i = 0; i < sshOpts.length; i++) {
        const arg = sshOpts[i];
        // A word that is not an option would become ssh's destination or remote command.
        if (!/^-[^-]/.test(arg)) {
            throw new SshConfigError(
                `sshOpts: ${JSON.stringify(arg)} is not an ssh option; each item is one ssh argument, as for the Docker provider: ["-o", "Port=2222", "-i", "/path/to/key"].`,
            );
        }
        for (let j = 1; j < arg.length; j++) {
            if (!SSH_ARG_OPTIONS.has(arg[j])) continue;
            let value = arg.slice(j + 1);
            if (value === "") {
                if (i + 1 >= sshOpts.length) throw new SshConfigError(`sshOpts: ${JSON.stringify(arg)} needs a value after it.`);
                value = sshOpts[++i];
            }
            if (arg[j] === "o") {
                // ssh's config syntax: "Keyword value", "Keyword=value" or "Keyword = value", the value maybe quoted.
                const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(value);
                if (!m) throw new SshConfigError(`sshOpts: -o ${JSON.stringify(value)} is not an ssh option such as -o Port=2222.`);
                found.push({ keyword: m[1].toLowerCase(), value: m[2].replace(/^"(.*)"$/, "$1") });
            }
            break;
        }
    }
    return found;
}

/**
 * Refuses sshOpts that would turn off the host key check. `pulumi up` would honour
 * them; status and logs never connect blindly, so the fix is to add the host key.
 */
function refuseBlindOptions(sshOpts: readonly string[]): void {
    for (const { keyword, value } of sshOptions(sshOpts)) {
        if (keyword === "stricthostkeychecking" && /^(no|off|false)$/i.test(value)) {
            throw new SshConfigError(
                `sshOpts turn off host key checking (StrictHostKeyChecking=${value}): status and logs verify host keys against known_hosts, as ssh does by default. ` +
                    `Remove that option and add the host's key to known_hosts (ssh-keyscan, or ssh to the host once by hand).`,
            );
        }
        if (keyword === "userknownhostsfile" && /^\/dev\/null$/.test(value)) {
            throw new SshConfigError(
                `sshOpts set UserKnownHostsFile=/dev/null, so no host key could ever be verified: status and logs verify host keys. ` +
                    `Remove that option (or name a real known_hosts file) and add the host's key to it.`,
            );
        }
    }
}

/**
 * Options that come before the host's own: ssh takes the first value it reads of each
 * setting, and the command line before any config file, so these win over sshOpts,
 * ~/.ssh/config and /etc/ssh/ssh_config. BatchMode: never a password or host key
 * prompt (a command must not hang on one); StrictHostKeyChecking=yes: an unknown or
 * changed host key is refused, never added or accepted.
 */
const ENFORCED = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"];

/**
 * The arguments of `ssh` that open `docker system dial-stdio` (or `command`) on the host,
 * in the Docker CLI's order (connhelper): the host's sshOpts, a connect timeout unless
 * they set one, no pseudo-terminal, the login and port of the address, `--`, the host,
 * the command. Each sshOpts item is one argument, as the Docker provider passes them.
 */
export function sshArgs(destination: SshDestination, sshOpts: readonly string[] = [], command: readonly string[] = DIAL_STDIO): string[] {
    refuseBlindOptions(sshOpts);
    const timeout = sshOptions(sshOpts).some((o) => o.keyword === "connecttimeout") ? [] : ["-o", "ConnectTimeout=30"];
    return [
        ...ENFORCED,
        ...sshOpts,
        ...timeout,
        "-T",
        ...(destination.user !== undefined ? ["-l", destination.user] : []),
        ...(destination.port !== undefined ? ["-p", String(destination.port)] : []),
        // "--": a host that starts with "-" is a host, not an option.
        "--",
        destination.host,
        ...command,
    ];
}

/** What ssh runs on the host for an engine connection, as the Docker CLI does. */
const DIAL_STDIO = ["docker", "system", "dial-stdio"] as const;

// Environment variables that may hold this project's secrets (the runner token, Pulumi's
// passphrase and access token): never handed to ssh, nor to a ProxyCommand it runs.
const SECRET_ENV = /^(ZED_RUNNER_|HELIX_|PULUMI_)|TOKEN|PASSWORD|PASSPHRASE|SECRET/i;

/** The environment `ssh` runs with: this one, less anything that may hold a secret. */
export function sshEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_ENV.test(name)));
}

/** A connection ssh could not make, or lost: what ssh said and what to do about it. */
export class SshDialError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SshDialError";
    }
}

/** ssh's own words, without banners and blank lines, and not too long for a status line. */
function sshSaid(stderr: string): string {
    const text = stderr
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l && !/^@+$/.test(l) && !/^@+.*@+$/.test(l))
        .join(" ");
    return text.length > 600 ? `...${text.slice(-600)}` : text;
}

/** `[host]:port` or `host`, as ssh names a host in its messages, as ssh-keyscan and ssh arguments. */
function keyscanTarget(named: string | undefined, destination: SshDestination): { host: string; port?: number } {
    const m = named ? /^\[(.+)\]:(\d+)$/.exec(named) : null;
    if (m) return { host: m[1], port: Number(m[2]) };
    return { host: named ?? destination.host, port: named ? undefined : destination.port };
}

/** The operator's message for an ssh that exited with `code` having said `stderr`. */
export function explainSshFailure(destination: SshDestination, code: number | null, stderr: string): string {
    const login = `${destination.user ? `${destination.user}@` : ""}${destination.host}${destination.port ? `:${destination.port}` : ""}`;
    const said = sshSaid(stderr);
    const quoted = said ? ` (ssh: ${said})` : "";
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
        return (
            `ssh to ${login} refused: the host's key has CHANGED since it was added to known_hosts${quoted}. ` +
            `Someone may be intercepting the connection, or the host was reinstalled: check the new key's fingerprint with the host's owner before replacing the old one (ssh-keygen -R).`
        );
    }
    if (/Host key verification failed|host key is known for/i.test(stderr)) {
        const named = /host key is known for (\S+)/i.exec(stderr)?.[1];
        const { host, port } = keyscanTarget(named, destination);
        const portFlag = port && port !== 22 ? `-p ${port} ` : "";
        return (
            `ssh to ${login} refused: the host key of ${named ?? destination.host} is not in known_hosts${quoted}. ` +
            `status and logs never accept an unknown host key. Check the key's fingerprint with the host's owner, then add it: ` +
            `\`ssh-keyscan ${portFlag}${host} >> ~/.ssh/known_hosts\` (or connect once by hand: \`ssh ${portFlag}${destination.user ? `${destination.user}@` : ""}${host}\`).`
        );
    }
    if (/Permission denied/i.test(stderr)) {
        return (
            `ssh to ${login} could not log in${quoted}. status and logs use your ssh keys, agent and ~/.ssh/config, never a password: ` +
            `\`ssh ${destination.port ? `-p ${destination.port} ` : ""}${destination.user ? `${destination.user}@` : ""}${destination.host} docker version\` must work without a prompt.`
        );
    }
    if (code === 127 || /docker: (command )?not found/i.test(stderr)) {
        return `ssh to ${login} logged in, but the host has no docker command on its PATH${quoted}: the connection runs \`docker system dial-stdio\` there (Docker 18.09 or later).`;
    }
    return `ssh to ${login} failed (exit status ${code ?? "none"})${quoted}.`;
}

/** How the agent starts ssh: the command, its arguments and environment. */
export interface SshCommand {
    readonly command: string;
    readonly args: readonly string[];
    readonly env: NodeJS.ProcessEnv;
    readonly destination: SshDestination;
}

// Keep at most this much of ssh's stderr: enough for its messages, bounded however much a host prints.
const STDERR_LIMIT = 64 * 1024;

/**
 * One ssh process as the socket of an HTTP connection: what is written goes to its
 * stdin, its stdout is what is read. The methods Node's http client and agent call on
 * a net.Socket (timeouts, keep-alive, ref/unref) act on the process and its pipes.
 */
class SshProcessSocket extends Duplex {
    private readonly child: ChildProcessWithoutNullStreams;
    private stderr = "";
    private timer: NodeJS.Timeout | undefined;
    private idleMs = 0;
    /** Node's http client reads this, as it does on a net.Socket. */
    timeout = 0;

    constructor(ssh: SshCommand) {
        super({ allowHalfOpen: false });
        this.child = spawn(ssh.command, [...ssh.args], { env: ssh.env, stdio: ["pipe", "pipe", "pipe"] });
        this.child.stdout.on("data", (chunk: Buffer) => {
            this.activity();
            if (!this.push(chunk)) this.child.stdout.pause();
        });
        this.child.stderr.on("data", (chunk: Buffer) => {
            this.stderr = (this.stderr + chunk.toString("utf8")).slice(-STDERR_LIMIT);
        });
        // A write after ssh exited fails with EPIPE; the exit itself is what gets reported.
        this.child.stdin.on("error", () => undefined);
        this.child.on("error", (err: NodeJS.ErrnoException) => {
            const message =
                err.code === "ENOENT"
                    ? `Cannot run ${ssh.command}: it is not installed or not on the PATH (status and logs reach ssh:// hosts through the system's OpenSSH client).`
                    : `Cannot run ${ssh.command}: ${err.message}`;
            this.destroy(new SshDialError(message));
        });
        // "close", not "exit": by then ssh's stdout and stderr are read to the end.
        this.child.on("close", (code, signal) => {
            if (this.destroyed) return;
            if (code === 0) this.push(null);
            else this.destroy(new SshDialError(explainSshFailure(ssh.destination, signal ? null : code, this.stderr)));
        });
    }

    override _read(): void {
        this.child.stdout.resume();
    }

    override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
        this.activity();
        this.child.stdin.write(chunk, () => callback());
    }

    override _final(callback: (error?: Error | null) => void): void {
        // The end of ssh's stdin ends dial-stdio's connection to the engine, then ssh.
        this.child.stdin.end(() => callback());
    }

    override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
        clearTimeout(this.timer);
        if (this.child.exitCode === null && this.child.signalCode === null) {
            this.child.stdin.destroy();
            this.child.kill();
        }
        callback(error);
    }

    /** As net.Socket: emits "timeout" after `ms` without traffic (0 turns it off). */
    setTimeout(ms: number, callback?: () => void): this {
        this.idleMs = ms;
        this.timeout = ms;
        if (callback) this.once("timeout", callback);
        this.activity();
        return this;
    }

    private activity(): void {
        clearTimeout(this.timer);
        this.timer = this.idleMs > 0 ? setTimeout(() => this.emit("timeout"), this.idleMs) : undefined;
    }

    // A process has no Nagle or TCP keep-alive to set.
    setNoDelay(): this {
        return this;
    }

    setKeepAlive(): this {
        return this;
    }

    /** As net.Socket: an idle kept-alive connection must not keep the command from exiting. */
    unref(): this {
        this.child.unref();
        for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as unknown as { unref?: () => void }).unref?.();
        this.timer?.unref();
        return this;
    }

    ref(): this {
        this.child.ref();
        for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as unknown as { ref?: () => void }).ref?.();
        this.timer?.ref();
        return this;
    }
}

/**
 * An HTTP agent whose connections are ssh processes running `docker system dial-stdio`.
 * Keep-alive: a command's sequential requests share one ssh connection, as the Docker
 * CLI's do, instead of a login per request.
 */
export class SshDialAgent extends http.Agent {
    constructor(private readonly ssh: SshCommand) {
        super({ keepAlive: true });
    }

    override createConnection(): Duplex {
        return new SshProcessSocket(this.ssh);
    }
}

/** The agent for `address` with the host's `sshOpts`; refuses them before any ssh runs if they would check no host key. */
export function sshDialAgent(
    address: string,
    sshOpts: readonly string[] = [],
    env: NodeJS.ProcessEnv = process.env,
    command = "ssh",
): SshDialAgent {
    const destination = parseSshAddress(address);
    return new SshDialAgent({ command, args: sshArgs(destination, sshOpts), env: sshEnv(env), destination });
}
