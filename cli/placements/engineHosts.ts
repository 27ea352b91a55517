// What the local and hosts placements share in the commands: each host's own engine
// runs the runners' containers, so status asks every engine, logs reads containers,
// and the plan lists each host's runners. The runners are the ones parseConfig planned.
import { describeError } from "../../contract";
import type Docker from "dockerode";
import type { PlannedHost } from "../../components/placements/placement";
import type { RunnerSpec } from "../../components/runner/plan";
import { dockerFor, requireEngine } from "../engine";
import { table } from "../lib/table";
import { enginesFor, followLines, interleave, logsOf, nothingToShow } from "../logStreams";
import { UserError } from "../stackFiles";
import { observe } from "../status/dockerStats";
import { StatusRow, classify } from "../status/model";
import type { Connect, LogsRequest } from "./types";

export interface LogTarget {
    readonly host: PlannedHost;
    readonly runner: RunnerSpec;
}

/** The runners a RUNNER argument names: an index (single host) or a runner ID; every runner with `all`. */
export function selectRunners(hosts: readonly PlannedHost[], which: string | undefined, all: boolean): LogTarget[] {
    const targets = hosts.flatMap((host) => host.runners.map((runner) => ({ host, runner })));
    if (all) return targets;
    if (which === undefined) throw new UserError("Name a runner by index or runner ID (e.g. `npm run logs -- 2`), or pass --all.");
    if (/^\d+$/.test(which)) {
        if (hosts.length > 1)
            throw new UserError(
                `This stack has ${hosts.length} hosts: name the runner by its ID, e.g. ${targets[0]?.runner.runnerId ?? "external-zed-<host>-1"}.`,
            );
        const found = targets.find((t) => t.runner.index === Number(which));
        if (!found) throw new UserError(`No runner ${which}: the stack plans runners 1 to ${targets.length}.`);
        return [found];
    }
    const found = targets.find((t) => t.runner.runnerId === which);
    if (!found)
        throw new UserError(
            `No runner with ID ${which}; the stack's runners: ${targets.map((t) => t.runner.runnerId).join(", ") || "none"}.`,
        );
    return [found];
}

/** Status rows for every host of a stack. */
export async function collectStatus(
    stack: string,
    hosts: readonly PlannedHost[],
    connect: Connect = (h) => dockerFor(h),
): Promise<StatusRow[]> {
    const perHost = await Promise.all(
        hosts.map(async (host) => {
            try {
                const docker = connect(host);
                await requireEngine(docker, host);
                return classify(host.name, host, await observe(docker, stack));
            } catch (err) {
                // One dead engine is its own rows, marked unreachable; every other host is still listed.
                const error = describeError(err);
                return host.runners.map((runner): StatusRow => ({
                    host: host.name,
                    runnerId: runner.runnerId,
                    container: runner.containerName,
                    status: "unreachable",
                    observed: undefined,
                    endpoints: runner.endpoints,
                    error,
                }));
            }
        }),
    );
    return perHost.flat();
}

/** The operator's message for a runner whose container is not there, or the error as it is. */
function explain(err: unknown, t: LogTarget): unknown {
    if ((err as { statusCode?: number }).statusCode === 404) {
        return new UserError(
            `Runner ${t.runner.runnerId} has no container ${t.runner.containerName} on host ${t.host.name}: see \`npm run status\`.`,
        );
    }
    return err;
}

/** Follows one runner's logs until they end; false when its container is not there (with several runners, a line says so). */
async function follow(docker: Docker, target: LogTarget, since: number | undefined, prefix: boolean): Promise<boolean> {
    const container = docker.getContainer(target.runner.containerName);
    let stream: NodeJS.ReadableStream;
    try {
        stream = (await container.logs({
            stdout: true,
            stderr: true,
            follow: true,
            since: since ?? 0,
        })) as unknown as NodeJS.ReadableStream;
    } catch (err) {
        const explained = explain(err, target);
        // Following several runners, one missing container is a line, not the end of the others.
        if (!prefix) throw explained;
        process.stderr.write(`${(explained as Error).message}\n`);
        return false;
    }
    await followLines(docker, stream, prefix ? `${target.runner.runnerId} | ` : "");
    return true;
}

/** `logs` on hosts: the containers' logs, from each host's engine. */
export async function hostsLogs(hosts: readonly PlannedHost[], request: LogsRequest, connect: Connect): Promise<number> {
    const { stack, since } = request;
    const following = request.follow;
    const targets = selectRunners(hosts, request.which, request.all);
    if (targets.length === 0) return nothingToShow(`Stack ${stack} plans no runners (replicas is 0)`, following);
    const clients = await enginesFor(targets, connect);
    const prefix = targets.length > 1;
    if (following) {
        const followed = await Promise.all(targets.map((t) => follow(clients.get(t.host.name)!, t, since, prefix)));
        return followed.some(Boolean)
            ? 0
            : nothingToShow(`None of stack ${stack}'s ${targets.length} runners has a container (see \`npm run status\`)`, following);
    }
    const texts = await Promise.all(
        targets.map(async (t) => {
            try {
                return {
                    runnerId: t.runner.runnerId,
                    text: await logsOf(clients.get(t.host.name)!, t.runner.containerName, { since, timestamps: prefix }),
                };
            } catch (err) {
                throw explain(err, t);
            }
        }),
    );
    process.stdout.write(prefix ? interleave(texts).join("\n") + "\n" : texts[0].text);
    return 0;
}

function imageSource(host: PlannedHost): string {
    const s = host.settings;
    return s.image
        ? `pull ${s.image}`
        : `build Dockerfile.zed-agent (baseImage ${s.baseImage}, Zed from ${s.zedBuildDir}/zed, the runner agent from agent/)`;
}

/** Each host's part of the plan: its engine, runners and image. */
export function renderHosts(hosts: readonly PlannedHost[]): string[] {
    const out: string[] = [];
    hosts.forEach((host) => {
        const runners: readonly RunnerSpec[] = host.runners;
        out.push("");
        out.push(
            `Host ${host.name} (${host.connection?.host ?? "this machine's Docker engine"}): ${runners.length} runner${runners.length === 1 ? "" : "s"}`,
        );
        out.push(`Image: ${imageSource(host)}`);
        if (host.settings.networks.length > 0) out.push(`Joins Docker networks: ${host.settings.networks.join(", ")}`);
        if (runners.length > 0) {
            out.push(
                table(
                    ["RUNNER ID", "CONTAINER", "RDP", "VNC", "HEALTH"],
                    runners.map((r) => [r.runnerId, r.containerName, r.endpoints.rdp ?? "-", r.endpoints.vnc ?? "-", r.endpoints.health]),
                ),
            );
        }
    });
    return out;
}

/** The Zed build folders the hosts' image builds read: those of hosts that build rather than pull. */
export function hostsZedBuildDirs(hosts: readonly PlannedHost[]): string[] {
    return hosts.filter((h) => !h.settings.image).map((h) => h.settings.zedBuildDir);
}
