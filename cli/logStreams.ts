// Reading containers' logs, for every placement and workload: a log so far as text, a followed
// stream line by line, several containers' logs interleaved by time with each one's ID in front.
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { HostIdentity } from "../components/placements/placement";
import { demux, requireEngine } from "./engine";

/**
 * One answering engine client per host the chosen containers are on, keyed by host name;
 * throws the first host's "cannot reach" error before any log is read.
 */
export async function enginesFor(
    targets: readonly { readonly host: HostIdentity }[],
    connect: (host: HostIdentity) => Docker,
): Promise<Map<string, Docker>> {
    const clients = new Map<string, Docker>();
    for (const t of targets) {
        if (!clients.has(t.host.name)) {
            const docker = connect(t.host);
            await requireEngine(docker, t.host);
            clients.set(t.host.name, docker);
        }
    }
    return clients;
}

/** Lines of several containers' timestamped logs, in time order, each prefixed with its ID (a runner ID, an instance ID). */
export function interleave(logs: { id: string; text: string }[]): string[] {
    const lines = logs.flatMap(({ id, text }) =>
        text
            .split("\n")
            .filter((l) => l.length > 0)
            .map((l) => {
                const space = l.indexOf(" ");
                return { at: l.slice(0, space), id, line: l.slice(space + 1) };
            }),
    );
    lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return lines.map((l) => `${l.id} | ${l.line}`);
}

/** A container's logs so far (its last `tail` lines, when given), with Docker's timestamps when `timestamps`. */
export async function logsOf(
    docker: Docker,
    container: string,
    options: { since?: number; timestamps?: boolean; tail?: number },
): Promise<string> {
    const buffer = (await docker.getContainer(container).logs({
        stdout: true,
        stderr: true,
        follow: false,
        timestamps: options.timestamps ?? false,
        since: options.since ?? 0,
        ...(options.tail === undefined ? {} : { tail: options.tail }),
    })) as unknown as Buffer;
    return demux(buffer, docker.modem);
}

/** Writes a followed log stream's lines, each after `prefix`, until the stream ends. */
export async function followLines(docker: Docker, stream: NodeJS.ReadableStream, prefix: string): Promise<void> {
    const out = new PassThrough();
    docker.modem.demuxStream(stream, out, out);
    let pending = "";
    out.on("data", (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
    await new Promise<void>((resolve) => stream.on("end", () => resolve()));
}

/** What logs does with nothing to show: a line saying why; exit 1 when following (a script would take success for "the logs ended"). */
export function nothingToShow(why: string, following: boolean): number {
    process.stderr.write(`${why}${following ? ": there is nothing to follow" : ""}.\n`);
    return following ? 1 : 0;
}
