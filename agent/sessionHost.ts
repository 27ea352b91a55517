// The operating system, as Zed sessions use it: folders owned by the desktop
// user, Zed started in its own process group, and signals to a whole group.
// Tests give sessions the real host with the stub Zed and no owner change.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { DESKTOP_USER, ZED_BINARY } from "../contract";

/** The operating system, as sessions use it: folders for the desktop user, and Zed's processes. */
export interface SessionHost {
    /** Creates `dir` (owned by the desktop user) and returns its real path. */
    prepareDir(dir: string): Promise<string>;
    /** Starts Zed in its own process group. */
    startZed(args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): ChildProcess;
}

/**
 * The real host. `owner` is the desktop user; undefined leaves ownership alone
 * (unit tests run unprivileged). `zedBinary` is the image's Zed, or the stub in tests.
 */
export class LocalSessionHost implements SessionHost {
    constructor(
        private readonly owner: { uid: number; gid: number } | undefined = DESKTOP_USER,
        private readonly zedBinary: string = ZED_BINARY,
    ) {}

    async prepareDir(dir: string): Promise<string> {
        const firstCreated = await fs.promises.mkdir(dir, { recursive: true });
        const real = await fs.promises.realpath(dir);
        if (this.owner) {
            // Only what the agent created (and the folder itself) changes owner; lchown never follows a link.
            const created = firstCreated ? pathsFrom(firstCreated, dir) : [dir];
            for (const p of created) await fs.promises.lchown(p, this.owner.uid, this.owner.gid);
        }
        return real;
    }

    startZed(args: readonly string[], cwd: string, env: Readonly<Record<string, string>>): ChildProcess {
        return spawn(this.zedBinary, [...args], {
            cwd,
            env: { ...env },
            // detached: setsid(), so the session is one process group that a stop ends whole.
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
            ...(this.owner ? { uid: this.owner.uid, gid: this.owner.gid } : {}),
        });
    }
}

/** `from` and each folder below it down to `to`. */
function pathsFrom(from: string, to: string): string[] {
    const out = [from];
    const rest = path.relative(from, to).split(path.sep).filter(Boolean);
    let current = from;
    for (const part of rest) out.push((current = path.join(current, part)));
    return out;
}

/** Sends `signal` to every process of the group `pgid` (a session's Zed and what it started). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pgid, signal);
    } catch {
        // ESRCH: the group is already gone.
    }
}
