// Docker Engine API clients (dockerode) for the hosts a stack runs on, and what the operator
// commands read from them: a stack's containers of one workload, logs and exec output.
import { describeError } from "../contract";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable, Writable } from "node:stream";
import Docker from "dockerode";
import { LABELS } from "../components/labels";
import type { HostIdentity } from "../components/placements/placement";
import type { WorkloadKind } from "../components/workload";
import { ALL_WORKLOAD_RECORDS, WORKLOAD_RECORDS } from "../components/workloads";
import { SshConfigError, SshDialAgent, SshDialError, sshDialAgent } from "./lib/sshDial";
import { UserError } from "./stackFiles";

/** The address of a host's engine, as the Docker CLI picks it: the host's own, else DOCKER_HOST, else the local socket. */
export function engineAddress(host: HostIdentity, env: NodeJS.ProcessEnv = process.env): string {
    return host.connection?.host ?? env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
}

/** A client for a host's engine: the local one (or DOCKER_HOST) when it has no connection. */
export function dockerFor(host: HostIdentity, env: NodeJS.ProcessEnv = process.env): Docker {
    const address = engineAddress(host, env);
    let url: URL;
    try {
        url = new URL(address);
    } catch {
        throw new UserError(
            `Host ${host.name}: ${JSON.stringify(address)} is not a Docker engine address (unix:///path/to/docker.sock, ssh://user@host or tcp://host:port).`,
        );
    }
    if (url.protocol === "unix:") return new Docker({ socketPath: url.pathname });
    if (url.protocol === "ssh:") {
        // The system's ssh, as `pulumi up` and the Docker CLI connect (see lib/sshDial.ts). docker-modem
        // speaks plain HTTP over the agent's connections; the host name here is only the Host header.
        // (Its own "ssh" protocol would ignore ssh's config and accept any host key, and its URL handling
        // of ssh:// prints Node's DEP0170 warning.)
        let agent: SshDialAgent;
        try {
            agent = sshDialAgent(address, host.connection?.sshOpts ?? [], env);
        } catch (err) {
            if (err instanceof SshConfigError) throw new UserError(`Host ${host.name}: ${err.message}`);
            throw err;
        }
        return new Docker({ protocol: "http", host: "docker.example.com", port: 80, agent } as Docker.DockerOptions);
    }
    if (url.protocol === "tcp:") {
        const certPath = host.connection?.certPath ?? env.DOCKER_CERT_PATH;
        const read = (file: string) => (certPath ? fs.readFileSync(path.join(certPath, file)) : undefined);
        return new Docker({
            protocol: certPath ? "https" : "http",
            host: url.hostname,
            port: Number(url.port),
            ca: read("ca.pem"),
            cert: read("cert.pem"),
            key: read("key.pem"),
        });
    }
    throw new UserError(`Host ${host.name}: cannot reach a Docker engine at ${address}.`);
}

/** Fails with the host and address when its engine does not answer. */
export async function requireEngine(docker: Docker, host: HostIdentity, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const address = engineAddress(host, env);
    try {
        await docker.ping();
    } catch (err) {
        // ssh's failures (an unknown host key, a refused login) carry their own fix.
        if (err instanceof SshDialError)
            throw new UserError(`Cannot reach the Docker engine of host ${host.name} at ${address}: ${err.message}`);
        throw new UserError(
            `Cannot reach the Docker engine of host ${host.name} at ${address}: ${describeError(err)}. Is Docker running there, and may this user use it?`,
        );
    }
}

/**
 * Containers carrying this stack's label, running or not, of one workload: those with its record's
 * marker label, or, for a workload without one (runners: adding a label would replace every
 * runner), those with no other workload's marker.
 */
export async function stackContainers(docker: Docker, stack: string, kind: WorkloadKind): Promise<Docker.ContainerInfo[]> {
    const all = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.stack}=${stack}`] }) });
    const marked = (info: Docker.ContainerInfo, marker: { readonly key: string; readonly value: string }) =>
        info.Labels?.[marker.key] === marker.value;
    const own = WORKLOAD_RECORDS[kind].labels.marker;
    if (own !== undefined) return all.filter((info) => marked(info, own));
    const others = ALL_WORKLOAD_RECORDS.flatMap((record) => (record.labels.marker === undefined ? [] : [record.labels.marker]));
    return all.filter((info) => !others.some((marker) => marked(info, marker)));
}

/** The part of dockerode's modem that splits Docker's multiplexed stream. */
type Demuxer = Pick<Docker["modem"], "demuxStream">;

/**
 * dockerode's demuxer, for callers without a client at hand. Only its stream splitting is
 * used: the client is never asked to connect, so the socket path is a placeholder.
 */
let standaloneDemuxer: Demuxer | undefined;

/**
 * Docker's multiplexed stdout/stderr (a non-TTY container's logs or exec output), as one
 * text in arrival order, split by dockerode's own demuxer (`modem.demuxStream`).
 */
export async function demux(output: Buffer | NodeJS.ReadableStream, modem?: Demuxer): Promise<string> {
    const demuxer = modem ?? (standaloneDemuxer ??= new Docker({ socketPath: "/var/run/docker.sock" }).modem);
    const stream = Buffer.isBuffer(output) ? Readable.from([output]) : output;
    const chunks: Buffer[] = [];
    const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
            chunks.push(chunk);
            done();
        },
    });
    const ended = new Promise<void>((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("error", reject);
    });
    demuxer.demuxStream(stream, sink, sink);
    await ended;
    await new Promise<void>((resolve) => sink.end(resolve));
    return Buffer.concat(chunks).toString("utf8");
}

/**
 * The runtime's own answer when it could not start an exec's process (exit 126), e.g. runc's
 * "read init-p: connection reset by peer" on a loaded machine: the command never ran.
 */
const EXEC_NOT_STARTED = /^OCI runtime exec failed: exec failed: /;

/** How many times an exec the runtime could not start is tried before its failure is returned. */
export const EXEC_ATTEMPTS = 3;

/**
 * Runs `cmd` in a container (as `user`, root by default) and returns its exit code and output.
 * An exec the runtime refused to start is tried again (the command never ran, so a retry
 * cannot run it twice); any exit of the command itself is returned as it is.
 */
export async function execIn(container: Docker.Container, cmd: string[], user?: string): Promise<{ exitCode: number; output: string }> {
    for (let attempt = 1; ; attempt++) {
        const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(user ? { User: user } : {}) });
        const stream = await exec.start({ hijack: true, stdin: false });
        const output = await demux(stream, container.modem as Demuxer);
        const { ExitCode } = await exec.inspect();
        const exitCode = ExitCode ?? -1;
        if (exitCode !== 126 || !EXEC_NOT_STARTED.test(output) || attempt === EXEC_ATTEMPTS) return { exitCode, output };
    }
}
