// What one Docker engine says about a stack's containers of one workload: inspect, one-shot
// stats (CPU and memory as `docker stats` computes them), and what the workload's own probe
// reads inside a running container (a runner's /health, a sandbox's inner dockerd).
import type Docker from "dockerode";
import type { WorkloadKind } from "../../components/workload";
import { WORKLOAD_RECORDS } from "../../components/workloads";
import { stackContainers } from "../engine";
import type { ObservedContainer } from "./model";

/** What a workload's probe adds to Docker's view of one of its running containers (its CLI record's, cli/workloads/). */
export type Probe = (container: Docker.Container, docker: Docker) => Promise<Probed>;

/** The facts a probe may add to an observed container. */
type Probed = Partial<Pick<ObservedContainer, "controlPlane" | "sessions" | "desktop" | "innerEngine" | "release">>;

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

/** What one engine says about a stack's containers of one workload. */
export async function observe(docker: Docker, stack: string, kind: WorkloadKind, probe: Probe): Promise<ObservedContainer[]> {
    const infos = await stackContainers(docker, stack, kind);
    return Promise.all(
        infos.map(async (info): Promise<ObservedContainer> => {
            const container = docker.getContainer(info.Id);
            const inspected = await container.inspect();
            const running = inspected.State.Running;
            const none: Probed = {};
            const [stats, probed] = running
                ? await Promise.all([container.stats({ stream: false }).catch(() => undefined), probe(container, docker).catch(() => none)])
                : [undefined, none];
            return {
                name: inspected.Name.replace(/^\//, ""),
                runnerId: info.Labels[WORKLOAD_RECORDS[kind].labels.id],
                state: inspected.State.Status,
                health: inspected.State.Health?.Status,
                restarts: inspected.RestartCount,
                startedAt: inspected.State.StartedAt,
                cpuPercent: cpuPercent(stats),
                memoryBytes: memoryBytes(stats),
                controlPlane: probed.controlPlane,
                sessions: probed.sessions,
                desktop: probed.desktop,
                ...(probed.innerEngine === undefined ? {} : { innerEngine: probed.innerEngine }),
                ...(probed.release === undefined ? {} : { release: probed.release }),
            };
        }),
    );
}
