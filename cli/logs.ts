// `npm run logs -- RUNNER [--stack NAME] [--follow] [--since 10m]` and `npm run logs -- --all`:
// one runner's logs, by index or runner ID, or every runner's interleaved with its ID in front.
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { HostTarget, SwarmTarget } from "../components/config";
import { RunnerSpec, planFleet } from "../components/plan";
import type { SwarmRunner, SwarmServicePlan } from "../components/swarmPlan";
import { demux, dockerFor, requireEngine, swarmHost } from "./engine";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { DEFAULT_STACK, PROJECT, PROJECT_ROOT, STACK_OPTION, UserError, loadStackFiles, runCommand } from "./stackFiles";

export const LOGS: CommandSpec = {
    name: "logs",
    summary: "One runner's logs, by index or runner ID, or every runner's (--all) interleaved with its ID in front.",
    positionals: [{ name: "RUNNER", required: false, description: "a runner's index (one host) or runner ID" }],
    options: {
        stack: STACK_OPTION,
        all: { type: "boolean", description: "every runner of the stack" },
        follow: { type: "boolean", description: "keep printing new lines; exit 1 when there is nothing to follow" },
        since: { type: "string", valueName: "WHEN", description: "from a duration ago (10m, 2h, 1d) or a time (2026-11-24T06:00:00Z)" },
    },
};

export interface LogTarget {
    readonly host: HostTarget;
    readonly runner: RunnerSpec;
}

/** The runners a RUNNER argument names: an index (single host) or a runner ID; every runner with `all`. */
export function selectRunners(hosts: readonly HostTarget[], stack: string, which: string | undefined, all: boolean): LogTarget[] {
    const plans = planFleet(hosts, { project: PROJECT, stackName: stack });
    const targets = plans.flatMap((plan, i) => plan.runners.map((runner) => ({ host: hosts[i], runner })));
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

/** The slots a RUNNER argument names on a swarm: a slot number or a runner ID; every slot with `all`. */
export function selectSwarmRunners(plan: SwarmServicePlan, which: string | undefined, all: boolean): SwarmRunner[] {
    if (all) return [...plan.runners];
    if (which === undefined) throw new UserError("Name a runner by slot or runner ID (e.g. `npm run logs -- 2`), or pass --all.");
    const found = /^\d+$/.test(which) ? plan.runners.find((r) => r.slot === Number(which)) : plan.runners.find((r) => r.runnerId === which);
    if (!found) {
        throw new UserError(
            /^\d+$/.test(which)
                ? `No runner ${which}: the service plans slots 1 to ${plan.replicas}.`
                : `No runner with ID ${which}; the service's runners: ${plan.runners.map((r) => r.runnerId).join(", ") || "none"}.`,
        );
    }
    return [found];
}

/** A swarm task with the Engine API's task logs, which dockerode has and its typings lack. */
type LoggingTask = Docker.Task & { logs(options: Docker.ContainerLogsOptions): Promise<unknown> };

/** The task now meant to run in `slot`, whose logs are the runner's. */
async function currentTask(docker: Docker, plan: SwarmServicePlan, runner: SwarmRunner): Promise<LoggingTask> {
    const tasks = (await docker.listTasks({
        filters: JSON.stringify({ service: [plan.serviceName], "desired-state": ["running"] }),
    })) as { ID: string; Slot?: number }[];
    const task = tasks.find((t) => t.Slot === runner.slot);
    if (!task)
        throw new UserError(
            `Runner ${runner.runnerId} has no task in slot ${runner.slot} of service ${plan.serviceName}: see \`npm run status\`.`,
        );
    return docker.getTask(task.ID) as LoggingTask;
}

/** `logs` on a swarm: each runner's task logs, through the manager. */
async function swarmLogs(
    swarm: { readonly target: SwarmTarget; readonly plan: SwarmServicePlan },
    runners: readonly SwarmRunner[],
    options: { since?: number; follow: boolean },
): Promise<number> {
    const host = swarmHost(swarm.target);
    const docker = dockerFor(host);
    await requireEngine(docker, host);
    const prefix = runners.length > 1;
    const tasks = await Promise.all(runners.map((r) => currentTask(docker, swarm.plan, r)));
    if (options.follow) {
        await Promise.all(
            tasks.map(async (task, i) => {
                const stream = (await task.logs({
                    stdout: true,
                    stderr: true,
                    follow: true,
                    since: options.since ?? 0,
                })) as unknown as NodeJS.ReadableStream;
                await followLines(docker, stream, prefix ? `${runners[i].runnerId} | ` : "");
            }),
        );
        return 0;
    }
    const logs = await Promise.all(
        tasks.map(async (task, i) => ({
            runnerId: runners[i].runnerId,
            text: demux(
                (await task.logs({
                    stdout: true,
                    stderr: true,
                    follow: false,
                    timestamps: prefix,
                    since: options.since ?? 0,
                })) as unknown as Buffer,
            ),
        })),
    );
    process.stdout.write(prefix ? interleave(logs).join("\n") + "\n" : logs[0].text);
    return 0;
}

/** Docker's `since` from "10m", "2h", "30s", "1d" or an ISO time, in Unix seconds. */
export function parseSince(since: string, now: Date = new Date()): number {
    const m = /^(\d+)(s|m|h|d)$/.exec(since);
    if (m) return Math.floor(now.getTime() / 1000) - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
    const t = Date.parse(since);
    if (Number.isNaN(t))
        throw new UserError(`--since takes a duration such as 10m, 2h, 1d or a time such as 2026-11-24T06:00:00Z (got ${since}).`);
    return Math.floor(t / 1000);
}

/** Lines of several runners' timestamped logs, in time order, each prefixed with its runner ID. */
export function interleave(logs: { runnerId: string; text: string }[]): string[] {
    const lines = logs.flatMap(({ runnerId, text }) =>
        text
            .split("\n")
            .filter((l) => l.length > 0)
            .map((l) => {
                const space = l.indexOf(" ");
                return { at: l.slice(0, space), runnerId, line: l.slice(space + 1) };
            }),
    );
    lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return lines.map((l) => `${l.runnerId} | ${l.line}`);
}

/** A runner's logs so far, with Docker's timestamps when `timestamps`. */
export async function logsOf(docker: Docker, container: string, options: { since?: number; timestamps?: boolean }): Promise<string> {
    const buffer = (await docker.getContainer(container).logs({
        stdout: true,
        stderr: true,
        follow: false,
        timestamps: options.timestamps ?? false,
        since: options.since ?? 0,
    })) as unknown as Buffer;
    return demux(buffer);
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

/** Writes a followed log stream's lines, each after `prefix`, until the stream ends. */
async function followLines(docker: Docker, stream: NodeJS.ReadableStream, prefix: string): Promise<void> {
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

/** The engines logs reads from; injected so tests give it a double. */
export interface LogsDeps {
    readonly root: string;
    readonly connect: (host: HostTarget) => Docker;
}

export async function logs(
    argv: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
    deps: LogsDeps = { root: PROJECT_ROOT, connect: (h) => dockerFor(h) },
): Promise<number> {
    const { values, positionals, help } = parseCommandLine(LOGS, argv, env);
    if (help) {
        console.log(helpText(LOGS));
        return 0;
    }
    const all = values.all === true;
    const following = values.follow === true;
    if (all && positionals.length > 0) throw new UserError(`Name one runner (${positionals[0]}) or pass --all, not both.`);
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const since = typeof values.since === "string" ? parseSince(values.since) : undefined;
    const { parsed } = loadStackFiles(stack, deps.root);
    const nothing = (why: string): number => {
        // Following nothing would end at once with success, which a script would take for "the logs ended".
        process.stderr.write(`${why}${following ? ": there is nothing to follow" : ""}.\n`);
        return following ? 1 : 0;
    };
    if (parsed.swarm) {
        const runners = selectSwarmRunners(parsed.swarm.plan, positionals[0], all);
        if (runners.length === 0) return nothing(`Stack ${stack} plans no runners (replicas is 0)`);
        return swarmLogs(parsed.swarm, runners, { since, follow: following });
    }
    const targets = selectRunners(parsed.hosts, stack, positionals[0], all);
    if (targets.length === 0) return nothing(`Stack ${stack} plans no runners (replicas is 0)`);
    const clients = new Map<string, Docker>();
    for (const t of targets) {
        if (!clients.has(t.host.name)) {
            const docker = deps.connect(t.host);
            await requireEngine(docker, t.host);
            clients.set(t.host.name, docker);
        }
    }
    const prefix = targets.length > 1;
    if (following) {
        const followed = await Promise.all(targets.map((t) => follow(clients.get(t.host.name)!, t, since, prefix)));
        return followed.some(Boolean)
            ? 0
            : nothing(`None of stack ${stack}'s ${targets.length} runners has a container (see \`npm run status\`)`);
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

if (require.main === module) void runCommand(() => logs(process.argv.slice(2)));
