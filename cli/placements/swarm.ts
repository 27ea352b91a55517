// The swarm placement in the commands: the runners are one service's tasks, which the
// manager places and names, so status asks the manager for tasks and nodes, logs reads
// task logs through it, and the plan shows the service. The plan is parseConfig's.
import { describeError } from "../../contract";
import type Docker from "dockerode";
import type { HostIdentity, SwarmPlacement } from "../../components/placements/placement";
import {
    type PlannedSwarm,
    type SwarmRunner,
    type SwarmServicePlan,
    type SwarmTarget,
    pushedImageName,
} from "../../components/runner/swarmPlan";
import { demux, dockerFor, requireEngine } from "../engine";
import { hostProblems } from "../checks/hostRules";
import { probeEngine } from "../checks/probe";
import { table } from "../lib/table";
import { followLines, interleave, nothingToShow } from "../logStreams";
import { SECRET_PLACEHOLDER, UserError } from "../stackFiles";
import { StatusRow, SwarmTask, classifySwarm } from "../report/model";
import type { Connect, LogsRequest, PlacementCommands, PlanFacts } from "./types";

/** A swarm's manager, as a host the commands can connect to. */
function swarmHost(target: SwarmTarget): HostIdentity {
    return { name: "swarm manager", connection: target.connection };
}

/** Status rows for the swarm's service, asked of its manager; every slot unreachable when the manager does not answer. */
export async function collectSwarmStatus(swarm: PlannedSwarm, connect: Connect = (h) => dockerFor(h)): Promise<StatusRow[]> {
    const host = swarmHost(swarm.target);
    try {
        const docker = connect(host);
        await requireEngine(docker, host);
        const [tasks, nodes] = await Promise.all([
            docker.listTasks({ filters: JSON.stringify({ service: [swarm.plan.serviceName] }) }) as Promise<SwarmTask[]>,
            docker.listNodes() as Promise<{ ID: string; Description?: { Hostname?: string } }[]>,
        ]);
        const names = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
        return classifySwarm(swarm.plan, tasks, names);
    } catch (err) {
        const error = describeError(err);
        return swarm.plan.runners.map((r) => ({
            host: host.name,
            runnerId: r.runnerId,
            container: `${swarm.plan.serviceName}.${r.slot}`,
            status: "unreachable" as const,
            observed: undefined,
            endpoints: undefined,
            error,
        }));
    }
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
async function swarmLogs(swarm: PlannedSwarm, request: LogsRequest, connect: Connect): Promise<number> {
    const runners = selectSwarmRunners(swarm.plan, request.which, request.all);
    if (runners.length === 0) return nothingToShow(`Stack ${request.stack} plans no runners (replicas is 0)`, request.follow);
    const options = { since: request.since, follow: request.follow };
    const host = swarmHost(swarm.target);
    const docker = connect(host);
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
            id: runners[i].runnerId,
            text: await demux(
                (await task.logs({
                    stdout: true,
                    stderr: true,
                    follow: false,
                    timestamps: prefix,
                    since: options.since ?? 0,
                })) as unknown as Buffer,
                docker.modem,
            ),
        })),
    );
    process.stdout.write(prefix ? interleave(logs).join("\n") + "\n" : logs[0].text);
    return 0;
}

/** A swarm's service as text: manager, image, placement, ports and the runners by slot. */
function renderSwarm({ target, plan }: PlannedSwarm, { stack, secureKeys }: PlanFacts): string[] {
    const s = target.settings;
    const registryLogin = !target.registryUsername
        ? "none"
        : `${target.registryUsername} (password ${secureKeys.has("registryPassword") ? SECRET_PLACEHOLDER : "in plain text: set it again with --secret"})`;
    const image = target.registry
        ? `build Dockerfile.zed-agent (baseImage ${s.baseImage}, Zed from ${s.zedBuildDir}/zed), push to ${pushedImageName(target.registry, stack)}`
        : `${s.image} (pulled by each node)`;
    const placement = [
        ...plan.placement.constraints.map((c) => `constraint ${c}`),
        plan.placement.maxReplicasPerNode ? `at most ${plan.placement.maxReplicasPerNode} per node` : "any number per node",
        plan.placement.spread ? `spread over ${plan.placement.spread}` : "spread over nodes by Swarm's scheduler",
    ];
    const out = [
        "",
        `Swarm (manager ${target.connection?.host ?? "this machine's Docker engine"}): service ${plan.serviceName}, ${plan.replicas} runner${plan.replicas === 1 ? "" : "s"}`,
        `Image: ${image}; registry login ${registryLogin}`,
        `Placement: ${placement.join(", ")}`,
        `Secrets: the token and a desktop-password seed, as Swarm secrets mounted at ${plan.secretFiles.apiToken} and ${plan.secretFiles.passwordSeed}`,
        `Updates: one runner at a time, each given ${plan.env.STOP_GRACE_SECONDS} s to finish its session; restart ${plan.restartCondition}`,
        plan.ports.length > 0
            ? `Ports (host mode, on the node running each runner): ${plan.ports.map((p) => `${p.role.toUpperCase()} ${p.published}`).join(", ")}`
            : "Ports: none published; desktops through the control plane",
    ];
    if (s.networks.length > 0) out.push(`Joins swarm networks: ${s.networks.join(", ")}`);
    if (plan.runners.length > 0) {
        out.push(
            table(
                ["SLOT", "RUNNER ID"],
                plan.runners.map((r) => [String(r.slot), r.runnerId]),
            ),
        );
    }
    return out;
}

/** The Zed build folder the service's image build reads, when the stack builds and pushes it. */
function swarmZedBuildDirs({ target }: PlannedSwarm): string[] {
    return target.registry ? [target.settings.zedBuildDir] : [];
}

export function swarmCommands(swarm: SwarmPlacement<PlannedSwarm>): PlacementCommands {
    return {
        // The manager places the tasks; no host's own engine is told to run one.
        hosts: [],
        status: (_stack, engines) => collectSwarmStatus(swarm, engines.docker),
        // The runners' notes: none (cli/workloads/runner.ts).
        notes: async () => [],
        // The service's own update failure names its tasks; `npm run status` shows each.
        explainUnhealthy: async () => [],
        // The manager's engine: its version (the nodes' are the swarm's to keep level).
        checkHosts: async (engines) => {
            const host = swarmHost(swarm.target);
            const needs = { devices: [], runtime: undefined };
            try {
                const docker = engines.docker(host);
                await requireEngine(docker, host);
                return [{ host: host.name, problems: hostProblems(needs, await probeEngine(docker, needs)) }];
            } catch (err) {
                return [{ host: host.name, problems: [describeError(err)] }];
            }
        },
        logs: (request, engines) => swarmLogs(swarm, request, engines.docker),
        plan: (facts) => renderSwarm(swarm, facts),
        zedBuildDirs: swarmZedBuildDirs(swarm),
    };
}
