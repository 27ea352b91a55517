// Free disk under a host's Docker root, which the Engine API does not report: read from this
// machine's file system for a local engine, with `df` over the same ssh as the engine's
// connection (host key verified, BatchMode) for an ssh:// host; a tcp:// engine gives no way.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import type { HostIdentity } from "../../components/placements/placement";
import { describeError } from "../../contract";
import { engineAddress } from "../engine";
import { parseSshAddress, sshArgs, sshEnv } from "../lib/sshDial";

/** Bytes free under `dir` on `host`, or why they could not be read. */
export type FreeSpace = (dir: string) => Promise<number | string>;

/** How the free disk of `host` is read. */
export function freeSpaceOn(host: HostIdentity, env: NodeJS.ProcessEnv = process.env, ssh = "ssh"): FreeSpace {
    const address = engineAddress(host, env);
    const scheme = address.slice(0, address.indexOf("://") + 3);
    switch (scheme) {
        case "unix://":
            return freeOnThisMachine;
        case "ssh://":
            return (dir) => freeOverSsh(address, host.connection?.sshOpts ?? [], dir, env, ssh);
        default:
            return async () => `a ${scheme || address} engine gives no way to read its host's free disk`;
    }
}

async function freeOnThisMachine(dir: string): Promise<number | string> {
    try {
        const stats = await fs.promises.statfs(dir);
        return stats.bavail * stats.bsize;
    } catch (err) {
        // An engine in a VM or another container: its root is not this machine's folder.
        return `${dir} could not be read on this machine (${describeError(err)})`;
    }
}

/** `df -Pk` on the host: POSIX output, one line per file system, 1024-byte blocks, "Available" the fourth column. */
function freeOverSsh(
    address: string,
    sshOpts: readonly string[],
    dir: string,
    env: NodeJS.ProcessEnv,
    ssh: string,
): Promise<number | string> {
    let args: string[];
    try {
        // ssh hands the words to the host's shell as one line: the folder is quoted for it.
        args = sshArgs(parseSshAddress(address), sshOpts, ["df", "-Pk", "--", `'${dir.replace(/'/g, `'\\''`)}'`]);
    } catch (err) {
        return Promise.resolve(describeError(err));
    }
    return new Promise((resolve) => {
        execFile(ssh, args, { env: sshEnv(env), timeout: 60_000, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
            if (err) return resolve(`df over ssh failed: ${(stderr || describeError(err)).trim().split("\n").slice(-1)[0]}`);
            resolve(parseDfAvailable(stdout) ?? `df over ssh printed what it should not: ${JSON.stringify(stdout.slice(0, 200))}`);
        });
    });
}

/** Available bytes from `df -Pk`'s output, or undefined when it is not that. */
export function parseDfAvailable(output: string): number | undefined {
    const lines = output.trim().split("\n");
    if (lines.length !== 2 || !/^Filesystem\s/.test(lines[0])) return undefined;
    const available = lines[1].trim().split(/\s+/)[3];
    return available !== undefined && /^\d+$/.test(available) ? Number(available) * 1024 : undefined;
}
