// Containers on Docker hosts, for every workload that runs that way (runners and sandboxes alike)
// on this machine or the listed hosts: each host's own engine runs the containers the config
// planned, so status asks every engine, logs reads containers, and the plan lists each host's.
// What differs by workload (words, columns, the probe, the plan's lines) is its record's
// (cli/workloads/).
import type Docker from "dockerode";
import type { EnginePlacement, HostIdentity } from "../../components/placements/placement";
import { placedHosts } from "../../components/placements/placement";
import { describeError } from "../../contract";
import { requireEngine } from "../engine";
import { enginesFor, followLines, interleave, logsOf, nothingToShow } from "../logStreams";
import { UserError } from "../stackFiles";
import { observe } from "../report/dockerStats";
import { type PlannedContainer, type StatusRow, classify } from "../report/model";
import type { WorkloadCommands, WorkloadWords } from "../workloads/types";
import { freeSpaceOn } from "../checks/disk";
import { type HostCheck, hostProblems, hostWarnings } from "../checks/hostRules";
import { probeEngine } from "../checks/probe";
import type { Connect, LogsRequest, PlacementCommands } from "./types";

/** One planned container and the host it is on. */
export interface Target<H extends HostIdentity> {
    readonly host: H;
    readonly container: PlannedContainer;
}

const capitalised = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** The containers an argument names: an index (single host) or an ID; every one with `all`. */
export function selectContainers<H extends HostIdentity>(
    hosts: readonly H[],
    which: string | undefined,
    all: boolean,
    workload: Pick<WorkloadCommands<H>, "containers" | "words">,
): Target<H>[] {
    const { one, many, idName, ownId, exampleId } = workload.words;
    const targets = hosts.flatMap((host) => workload.containers(host).map((container) => ({ host, container })));
    if (all) return targets;
    if (which === undefined) throw new UserError(`Name a ${one} by index or ${idName} (e.g. \`npm run logs -- 2\`), or pass --all.`);
    if (/^\d+$/.test(which)) {
        if (hosts.length > 1)
            throw new UserError(
                `This stack has ${hosts.length} hosts: name the ${one} by its ${ownId}, e.g. ${targets[0]?.container.id ?? exampleId}.`,
            );
        const found = targets.find((t) => t.container.index === Number(which));
        if (!found) throw new UserError(`No ${one} ${which}: the stack plans ${many} 1 to ${targets.length}.`);
        return [found];
    }
    const found = targets.find((t) => t.container.id === which);
    if (!found)
        throw new UserError(
            `No ${one} with ${ownId} ${which}; the stack's ${many}: ${targets.map((t) => t.container.id).join(", ") || "none"}.`,
        );
    return [found];
}

/** Status rows for every host of a stack; a host whose engine does not answer is its own rows, marked unreachable. */
export async function collectStatus<H extends HostIdentity>(
    stack: string,
    hosts: readonly H[],
    workload: Pick<WorkloadCommands<H>, "containers" | "kind" | "probe">,
    connect: Connect,
): Promise<StatusRow[]> {
    const perHost = await Promise.all(
        hosts.map(async (host) => {
            try {
                const docker = connect(host);
                await requireEngine(docker, host);
                return classify(host.name, workload.containers(host), await observe(docker, stack, workload.kind, workload.probe));
            } catch (err) {
                // One dead engine is its own rows, marked unreachable; every other host is still listed.
                const error = describeError(err);
                return workload.containers(host).map((c): StatusRow => ({
                    host: host.name,
                    runnerId: c.id,
                    container: c.containerName,
                    status: "unreachable",
                    observed: undefined,
                    endpoints: c.endpoints,
                    error,
                }));
            }
        }),
    );
    return perHost.flat();
}

/** The operator's message for a container that is not there, or the error as it is. */
function explain(err: unknown, t: Target<HostIdentity>, words: WorkloadWords): unknown {
    if ((err as { statusCode?: number }).statusCode === 404) {
        return new UserError(
            `${capitalised(words.one)} ${t.container.id} has no container ${t.container.containerName} on host ${t.host.name}: see \`npm run status\`.`,
        );
    }
    return err;
}

/** Follows one container's logs until they end; false when it is not there (with several, a line says so). */
async function follow(
    docker: Docker,
    target: Target<HostIdentity>,
    since: number | undefined,
    prefix: boolean,
    words: WorkloadWords,
): Promise<boolean> {
    let stream: NodeJS.ReadableStream;
    try {
        stream = (await docker.getContainer(target.container.containerName).logs({
            stdout: true,
            stderr: true,
            follow: true,
            since: since ?? 0,
        })) as unknown as NodeJS.ReadableStream;
    } catch (err) {
        const explained = explain(err, target, words);
        // Following several, one missing container is a line, not the end of the others.
        if (!prefix) throw explained;
        process.stderr.write(`${(explained as Error).message}\n`);
        return false;
    }
    await followLines(docker, stream, prefix ? `${target.container.id} | ` : "");
    return true;
}

/** `logs` on Docker hosts: the containers' logs, from each host's engine. */
async function hostsLogs<H extends HostIdentity>(
    hosts: readonly H[],
    request: LogsRequest,
    workload: Pick<WorkloadCommands<H>, "containers" | "words">,
    connect: Connect,
): Promise<number> {
    const { stack, since } = request;
    const { words } = workload;
    const following = request.follow;
    const targets = selectContainers(hosts, request.which, request.all, workload);
    if (targets.length === 0) return nothingToShow(`Stack ${stack} plans no ${words.many} (replicas is 0)`, following);
    const clients = await enginesFor(targets, connect);
    const prefix = targets.length > 1;
    if (following) {
        const followed = await Promise.all(targets.map((t) => follow(clients.get(t.host.name)!, t, since, prefix, words)));
        return followed.some(Boolean)
            ? 0
            : nothingToShow(`None of stack ${stack}'s ${targets.length} ${words.many} has a container (see \`npm run status\`)`, following);
    }
    const texts = await Promise.all(
        targets.map(async (t) => {
            try {
                return {
                    id: t.container.id,
                    text: await logsOf(clients.get(t.host.name)!, t.container.containerName, { since, timestamps: prefix }),
                };
            } catch (err) {
                throw explain(err, t, words);
            }
        }),
    );
    process.stdout.write(prefix ? interleave(texts).join("\n") + "\n" : texts[0].text);
    return 0;
}

/** Each host checked against what its containers need: its engine's version and runtimes, the device nodes they are given. */
async function checkHosts<H extends HostIdentity>(
    hosts: readonly H[],
    workload: WorkloadCommands<H>,
    connect: Connect,
): Promise<HostCheck[]> {
    return Promise.all(
        hosts.map(async (host) => {
            const needs = workload.hostNeeds(host);
            try {
                const docker = connect(host);
                await requireEngine(docker, host);
                const facts = await probeEngine(docker, needs, freeSpaceOn(host));
                return { host: host.name, problems: hostProblems(needs, facts), warnings: hostWarnings(needs, facts) };
            } catch (err) {
                return { host: host.name, problems: [describeError(err)] };
            }
        }),
    );
}

/** How many of a container's last log lines a failed deploy shows. */
const LAST_LOG_LINES = 15;

/**
 * Each planned container that is not healthy after a failed `pulumi up`: what it is, on which host,
 * its restarts, and its last log lines (a sandbox restarting on a failed desktop pull says why there).
 */
async function explainUnhealthy<H extends HostIdentity>(
    stack: string,
    hosts: readonly H[],
    workload: WorkloadCommands<H>,
    connect: Connect,
): Promise<string[]> {
    const rows = await collectStatus(stack, hosts, workload, connect);
    const out: string[] = [];
    for (const row of rows.filter((r) => r.status !== "healthy" && r.status !== "extra")) {
        const restarts = row.observed?.restarts ?? 0;
        const where = `${capitalised(workload.words.one)} ${row.runnerId} (container ${row.container} on host ${row.host})`;
        if (row.status === "unreachable" || row.observed === undefined) {
            out.push(`${where} is ${row.status}${row.error ? `: ${row.error}` : ""}.`);
            continue;
        }
        out.push(`${where} is ${row.status}, restarted ${restarts} time${restarts === 1 ? "" : "s"}; its last log lines:`);
        const docker = connect(hosts.find((h) => h.name === row.host)!);
        const text = await logsOf(docker, row.container, { tail: LAST_LOG_LINES }).catch(
            (err: unknown) => `(its logs could not be read: ${describeError(err)})`,
        );
        out.push(
            ...text
                .split("\n")
                .filter((l) => l.trim() !== "")
                .map((l) => `    ${l}`),
        );
    }
    return out;
}

/** Each host's part of the plan: its engine and count, then the workload's own lines. */
function renderHosts<H extends HostIdentity>(hosts: readonly H[], workload: WorkloadCommands<H>): string[] {
    return hosts.flatMap((host) => {
        const count = workload.containers(host).length;
        return [
            "",
            `Host ${host.name} (${host.connection?.host ?? "this machine's Docker engine"}): ${workload.hostHeading(count)}`,
            ...workload.renderHost(host),
        ];
    });
}

/** The commands of a workload on this machine (one host, whose containers can be named by index) or on the listed hosts. */
export function dockerHostCommands<H extends HostIdentity>(
    placement: EnginePlacement<H>,
    workload: WorkloadCommands<H>,
    apiHost: string,
): PlacementCommands {
    const hosts = placedHosts(placement);
    return {
        hosts,
        notes: (stack, rows, fetchRelease) => workload.notes({ hosts, rows, apiHost, stack }, fetchRelease),
        explainUnhealthy: (stack, engines) => explainUnhealthy(stack, hosts, workload, engines.docker),
        checkHosts: (engines) => checkHosts(hosts, workload, engines.docker),
        status: (stack, engines) => collectStatus(stack, hosts, workload, engines.docker),
        logs: (request, engines) => hostsLogs(hosts, request, workload, engines.docker),
        plan: () => renderHosts(hosts, workload),
        zedBuildDirs: [...new Set(hosts.flatMap((host) => workload.zedBuildDirs(host)))],
    };
}
