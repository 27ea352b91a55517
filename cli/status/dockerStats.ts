// What one Docker engine says about a stack's containers: inspect, one-shot stats
// (CPU and memory as `docker stats` computes them) and the runner's own /health.
import type Docker from "dockerode";
import type { HealthReport } from "../../agent/health";
import { AGENT_COMMAND } from "../../contract";
import type { Workload } from "../../components/placements/placement";
import { LABELS } from "../../components/runner/plan";
import { SANDBOX_LABELS } from "../../components/sandbox/plan";
import { execIn, stackContainers } from "../engine";
import { type InnerEngine, type ObservedContainer, innerEngineOf } from "./model";

/** The parts of Docker's one-shot container stats the status reads. */
export interface DockerStats {
    readonly cpu_stats?: { cpu_usage?: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
    readonly precpu_stats?: { cpu_usage?: { total_usage: number }; system_cpu_usage?: number };
    readonly memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
}

/** CPU use over the sampling interval Docker's one-shot stats carry, as `docker stats` computes it. */
export function cpuPercent(stats: DockerStats | undefined): number | undefined {
    const cpu = stats?.cpu_stats;
    const pre = stats?.precpu_stats;
    if (!cpu?.cpu_usage || !pre?.cpu_usage || cpu.system_cpu_usage === undefined || pre.system_cpu_usage === undefined) return undefined;
    const cpuDelta = cpu.cpu_usage.total_usage - pre.cpu_usage.total_usage;
    const systemDelta = cpu.system_cpu_usage - pre.system_cpu_usage;
    const cpus = cpu.online_cpus ?? cpu.cpu_usage.percpu_usage?.length ?? 1;
    return systemDelta > 0 && cpuDelta >= 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** Memory in use as `docker stats` shows it: usage less the inactive page cache. */
export function memoryBytes(stats: DockerStats | undefined): number | undefined {
    const m = stats?.memory_stats;
    if (m?.usage === undefined) return undefined;
    const cache = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
    return m.usage - cache;
}

/** Asks the runner's own health endpoint, inside the container, so remote and loopback-bound runners answer too. */
async function healthJson(container: Docker.Container): Promise<Partial<HealthReport> | undefined> {
    const { output } = await execIn(container, [AGENT_COMMAND, "healthcheck"]);
    return JSON.parse(output);
}

/** Asks a sandbox's own dockerd for its containers (the desktops it runs): Helix's health check asks it too. */
async function innerEngine(container: Docker.Container): Promise<InnerEngine> {
    return innerEngineOf(await execIn(container, ["docker", "ps", "-q"]).catch(() => undefined));
}

/** What one engine says about a stack's containers of one workload (a sandbox has no runner /health to ask). */
export async function observe(docker: Docker, stack: string, workload: Workload["kind"] = "runner"): Promise<ObservedContainer[]> {
    const infos = await stackContainers(docker, stack, workload);
    return Promise.all(
        infos.map(async (info): Promise<ObservedContainer> => {
            const container = docker.getContainer(info.Id);
            const inspected = await container.inspect();
            const running = inspected.State.Running;
            const [stats, health, inner] = running
                ? await Promise.all([
                      container.stats({ stream: false }).catch(() => undefined),
                      workload === "runner" ? healthJson(container).catch(() => undefined) : Promise.resolve(undefined),
                      workload === "sandbox" ? innerEngine(container) : Promise.resolve(undefined),
                  ])
                : [undefined, undefined, undefined];
            return {
                name: inspected.Name.replace(/^\//, ""),
                runnerId: info.Labels[workload === "sandbox" ? SANDBOX_LABELS.instanceId : LABELS.runnerId],
                state: inspected.State.Status,
                health: inspected.State.Health?.Status,
                restarts: inspected.RestartCount,
                startedAt: inspected.State.StartedAt,
                cpuPercent: cpuPercent(stats),
                memoryBytes: memoryBytes(stats),
                controlPlane: health?.controlPlane,
                sessions: health?.sessions ? { live: health.sessions.live, limit: health.sessions.limit } : undefined,
                desktop: health?.revdial
                    ? { revdial: health.revdial.status, tunnels: (health.tunnels?.rdp ?? 0) + (health.tunnels?.vnc ?? 0) }
                    : undefined,
                ...(inner === undefined ? {} : { innerEngine: inner }),
            };
        }),
    );
}
