// `npm run status -- [--stack NAME] [--watch] [--json]`: one row per planned runner (from the
// program's own planner) with what its Docker engine says: state, health, restarts, uptime,
// CPU, memory and the control-plane connection from the runner's /health. Exit status 1 when
// a planned runner is missing or not healthy, so a cron job or monitor can use it.
import Docker from "dockerode";
import type { HostTarget, SwarmTarget } from "../components/config";
import type { HealthReport } from "../agent/health";
import { AGENT_COMMAND } from "../contract";
import { HostPlan, LABELS, planFleet } from "../components/plan";
import { SwarmServicePlan, swarmRunnerId } from "../components/swarmPlan";
import { dockerFor, execIn, requireEngine, stackContainers, swarmHost } from "./engine";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { table } from "./lib/table";
import { DEFAULT_STACK, PROJECT, STACK_OPTION, loadStackFiles, runCommand } from "./stackFiles";

export const STATUS: CommandSpec = {
    name: "status",
    summary:
        "One row per planned runner with what its Docker engine says: state, health, restarts, uptime, CPU, memory, the control-plane link. Exit 0 all healthy, 1 a runner needs attention, 2 the status could not be taken.",
    options: {
        stack: STACK_OPTION,
        watch: { type: "boolean", description: "refresh every 2 seconds" },
        json: { type: "boolean", description: "print JSON, errors included" },
    },
};

/** What an engine says about one container. */
export interface ObservedContainer {
    readonly name: string;
    readonly runnerId: string | undefined;
    /** Docker's state: running, restarting, exited, created, paused, dead. */
    readonly state: string;
    /** Docker's health: healthy, unhealthy, starting, or undefined without a check. */
    readonly health: string | undefined;
    readonly restarts: number;
    readonly startedAt: string | undefined;
    readonly cpuPercent: number | undefined;
    readonly memoryBytes: number | undefined;
    /** From the runner's /health JSON, when it answered. */
    readonly controlPlane: { connected: boolean; since: string | null; lastError: string | null } | undefined;
    /** Live Zed sessions and the runner's CONCURRENCY, from /health. */
    readonly sessions: { live: number; limit: number } | undefined;
    /** The reverse dial's state and the desktop connections open through the control plane, from /health. */
    readonly desktop: { revdial: string; tunnels: number } | undefined;
}

export type RunnerStatus = "healthy" | "starting" | "unhealthy" | "restarting" | "stopped" | "missing" | "extra" | "unreachable";

export interface StatusRow {
    readonly host: string;
    readonly runnerId: string;
    readonly container: string;
    readonly status: RunnerStatus;
    readonly observed: ObservedContainer | undefined;
    readonly endpoints: { rdp: string | undefined; vnc: string | undefined; health: string } | undefined;
    /** Why the host's engine could not be asked (status "unreachable"). */
    readonly error?: string;
}

/** Rows for a host: every planned runner, then containers of this stack the plan no longer has. */
export function classify(host: string, plan: HostPlan, observed: readonly ObservedContainer[]): StatusRow[] {
    const byName = new Map(observed.map((o) => [o.name, o]));
    const rows: StatusRow[] = plan.runners.map((runner) => {
        const o = byName.get(runner.containerName);
        byName.delete(runner.containerName);
        return {
            host,
            runnerId: runner.runnerId,
            container: runner.containerName,
            status: statusOf(o),
            observed: o,
            endpoints: runner.endpoints,
        };
    });
    for (const o of byName.values()) {
        rows.push({ host, runnerId: o.runnerId ?? "?", container: o.name, status: "extra", observed: o, endpoints: undefined });
    }
    return rows;
}

function statusOf(o: ObservedContainer | undefined): RunnerStatus {
    if (!o) return "missing";
    if (o.state === "restarting") return "restarting";
    if (o.state !== "running") return "stopped";
    if (o.health === "healthy") return "healthy";
    if (o.health === "starting") return "starting";
    return "unhealthy";
}

/** A swarm task's state as a runner status. Swarm reports a task running only once its health check passed. */
export function swarmTaskStatus(state: string | undefined): RunnerStatus {
    if (state === undefined) return "missing";
    if (state === "running") return "healthy";
    if (["new", "pending", "assigned", "accepted", "preparing", "ready", "starting"].includes(state)) return "starting";
    if (state === "failed" || state === "rejected") return "unhealthy";
    return "stopped";
}

/** The parts of a swarm task the status reads (the Engine API's Task). */
export interface SwarmTask {
    readonly ID: string;
    readonly Slot?: number;
    readonly NodeID?: string;
    readonly DesiredState?: string;
    readonly CreatedAt?: string;
    readonly Status?: { readonly State?: string; readonly Timestamp?: string; readonly Err?: string };
}

/**
 * Rows for a swarm service: one per planned slot, with the task meant to run there (its
 * node, state and how many tasks the slot has had), then running tasks in slots the plan
 * no longer has.
 */
export function classifySwarm(plan: SwarmServicePlan, tasks: readonly SwarmTask[], nodes: ReadonlyMap<string, string>): StatusRow[] {
    const bySlot = new Map<number, SwarmTask[]>();
    for (const t of tasks) if (t.Slot !== undefined) bySlot.set(t.Slot, [...(bySlot.get(t.Slot) ?? []), t]);
    const current = (slot: number) =>
        (bySlot.get(slot) ?? [])
            .filter((t) => t.DesiredState === "running" || t.DesiredState === "ready")
            .sort((a, b) => Date.parse(b.CreatedAt ?? "") - Date.parse(a.CreatedAt ?? ""))[0];
    const row = (slot: number, status: RunnerStatus | undefined): StatusRow => {
        const task = current(slot);
        const state = task?.Status?.State;
        const runnerId = swarmRunnerId(plan.runnerIdPrefix, slot);
        return {
            host: task?.NodeID ? (nodes.get(task.NodeID) ?? task.NodeID) : "-",
            runnerId,
            container: `${plan.serviceName}.${slot}`,
            status: status ?? swarmTaskStatus(state),
            observed: task && {
                name: `${plan.serviceName}.${slot}.${task.ID}`,
                runnerId,
                state: state ?? "unknown",
                health: state === "running" ? "healthy" : undefined,
                // Every task the slot had before this one was a restart or a replacement.
                restarts: (bySlot.get(slot)?.length ?? 1) - 1,
                startedAt: state === "running" ? task.Status?.Timestamp : undefined,
                cpuPercent: undefined,
                memoryBytes: undefined,
                controlPlane: undefined,
                sessions: undefined,
                desktop: undefined,
            },
            endpoints: undefined,
            error: task?.Status?.Err || undefined,
        };
    };
    const rows = plan.runners.map((r) => row(r.slot, undefined));
    for (const slot of [...bySlot.keys()].sort((a, b) => a - b)) {
        if (slot > plan.replicas && current(slot)) rows.push(row(slot, "extra"));
    }
    return rows;
}

/** Status rows for the swarm's service, asked of its manager; every slot unreachable when the manager does not answer. */
export async function collectSwarmStatus(
    swarm: { readonly target: SwarmTarget; readonly plan: SwarmServicePlan },
    connect: (host: HostTarget) => Docker = (h) => dockerFor(h),
): Promise<StatusRow[]> {
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
        const error = (err as Error).message ?? String(err);
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

/** Whether the rows call for attention: a planned runner that is not healthy. */
export function needsAttention(rows: readonly StatusRow[]): boolean {
    return rows.some((r) => r.status !== "healthy" && r.status !== "extra");
}

function since(iso: string | undefined, now: Date): string {
    if (!iso || iso.startsWith("0001-")) return "-";
    const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function controlPlaneText(row: StatusRow): string {
    // The reason is printed in full under the table: cut here, it would hide what to fix.
    if (row.status === "unreachable") return "host unreachable (see below)";
    if (row.error) return `task: ${row.error.slice(0, 60)}`;
    const cp = row.observed?.controlPlane;
    if (!cp) return "-";
    if (cp.connected) return "connected";
    return cp.lastError ? `down: ${cp.lastError.slice(0, 60)}` : "down";
}

/** The status table, one row per runner. */
export function renderStatus(rows: readonly StatusRow[], now: Date): string {
    const body = rows.map((r) => [
        r.host,
        r.runnerId,
        r.container,
        r.status,
        String(r.observed?.restarts ?? "-"),
        r.observed?.state === "running" ? since(r.observed.startedAt, now) : "-",
        r.observed?.cpuPercent === undefined ? "-" : `${r.observed.cpuPercent.toFixed(1)}%`,
        r.observed?.memoryBytes === undefined ? "-" : `${(r.observed.memoryBytes / 1024 / 1024).toFixed(0)}MiB`,
        controlPlaneText(r),
        r.observed?.sessions ? `${r.observed.sessions.live}/${r.observed.sessions.limit}` : "-",
        r.observed?.desktop ? `revdial ${r.observed.desktop.revdial}, ${r.observed.desktop.tunnels} open` : "-",
        r.endpoints ? (r.endpoints.rdp ? `rdp ${r.endpoints.rdp}  vnc ${r.endpoints.vnc}` : "via control plane") : "-",
    ]);
    const counts = new Map<RunnerStatus, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "no runners planned";
    const reasons = new Map<string, string>();
    for (const r of rows) if (r.status === "unreachable" && !reasons.has(r.host)) reasons.set(r.host, r.error ?? "no reason given");
    const unreachable = [...reasons].map(([host, reason]) => `  ${host}: ${reason}`);
    return [
        table(
            [
                "HOST",
                "RUNNER ID",
                "CONTAINER",
                "STATUS",
                "RESTARTS",
                "UP",
                "CPU",
                "MEMORY",
                "CONTROL PLANE",
                "SESSIONS",
                "DESKTOP",
                "ENDPOINTS",
            ],
            body,
        ),
        ...(unreachable.length > 0 ? ["", "Unreachable hosts:", ...unreachable] : []),
        "",
        summary,
    ].join("\n");
}

/** CPU use over the sampling interval Docker's one-shot stats carry, as `docker stats` computes it. */
/** The parts of Docker's one-shot container stats the status reads. */
export interface DockerStats {
    readonly cpu_stats?: { cpu_usage?: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
    readonly precpu_stats?: { cpu_usage?: { total_usage: number }; system_cpu_usage?: number };
    readonly memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
}

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

/** What one engine says about a stack's containers. */
export async function observe(docker: Docker, stack: string): Promise<ObservedContainer[]> {
    const infos = await stackContainers(docker, stack);
    return Promise.all(
        infos.map(async (info): Promise<ObservedContainer> => {
            const container = docker.getContainer(info.Id);
            const inspected = await container.inspect();
            const running = inspected.State.Running;
            const [stats, health] = running
                ? await Promise.all([
                      container.stats({ stream: false }).catch(() => undefined),
                      healthJson(container).catch(() => undefined),
                  ])
                : [undefined, undefined];
            return {
                name: inspected.Name.replace(/^\//, ""),
                runnerId: info.Labels[LABELS.runnerId],
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
            };
        }),
    );
}

/** Status rows for every host of a stack. */
export async function collectStatus(
    stack: string,
    hosts: readonly HostTarget[],
    connect: (host: HostTarget) => Docker = (h) => dockerFor(h),
): Promise<StatusRow[]> {
    const plans = planFleet(hosts, { project: PROJECT, stackName: stack });
    const perHost = await Promise.all(
        hosts.map(async (host, i) => {
            try {
                const docker = connect(host);
                await requireEngine(docker, host);
                return classify(host.name, plans[i], await observe(docker, stack));
            } catch (err) {
                // One dead engine is its own rows, marked unreachable; every other host is still listed.
                const error = (err as Error).message ?? String(err);
                return plans[i].runners.map((runner): StatusRow => ({
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

/** Exit statuses: 0 every planned runner healthy; 1 one needs attention or its host is unreachable; 2 the status could not be taken. */
export const EXIT = { healthy: 0, attention: 1, failed: 2 } as const;

async function main(): Promise<number> {
    const json = process.argv.includes("--json");
    try {
        return await status(process.argv.slice(2), process.env);
    } catch (err) {
        // --json always prints JSON, a failure included.
        const message = (err as Error).message ?? String(err);
        if (json) console.log(JSON.stringify({ error: message }, null, 2));
        else console.error(message);
        return EXIT.failed;
    }
}

export async function status(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
    const { values, help } = parseCommandLine(STATUS, argv, env);
    if (help) {
        console.log(helpText(STATUS));
        return EXIT.healthy;
    }
    const flags = new Set(Object.keys(values).filter((k) => values[k] === true));
    const stack = (values.stack as string | undefined) ?? DEFAULT_STACK;
    const { parsed } = loadStackFiles(stack);
    const once = async () => {
        const rows = parsed.swarm ? await collectSwarmStatus(parsed.swarm) : await collectStatus(stack, parsed.hosts);
        if (flags.has("json")) console.log(JSON.stringify({ stack, at: new Date().toISOString(), runners: rows }, null, 2));
        else console.log(renderStatus(rows, new Date()));
        return rows;
    };
    if (!flags.has("watch")) return needsAttention(await once()) ? EXIT.attention : EXIT.healthy;
    for (;;) {
        if (!flags.has("json")) process.stdout.write("\x1b[2J\x1b[H");
        await once();
        await new Promise((r) => setTimeout(r, 2000));
    }
}

if (require.main === module) void runCommand(main);
