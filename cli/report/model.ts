// The status model: one row per planned runner or sandbox with what its engine (or its swarm
// task) says, and how a row's facts become a status. Pure: no Docker, no I/O.
import { type SwarmServicePlan, swarmRunnerId } from "../../components/runner/swarmPlan";

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
    /** A sandbox's own dockerd: whether it answers, and the containers (desktops) it runs; undefined for runners. */
    readonly innerEngine?: InnerEngine;
    /** A sandbox's Helix release, its image's release tag; undefined for runners, or an image without one. */
    readonly release?: string;
}

/** What a sandbox's inner dockerd says when asked for its containers. */
export interface InnerEngine {
    readonly answers: boolean;
    /** Containers the inner engine runs (the sandbox's desktops); undefined when it does not answer. */
    readonly containers: number | undefined;
}

/** The inner engine's state from `docker ps -q` run inside the sandbox: its exit code and output. */
export function innerEngineOf(result: { exitCode: number; output: string } | undefined): InnerEngine {
    if (result === undefined || result.exitCode !== 0) return { answers: false, containers: undefined };
    return { answers: true, containers: result.output.split("\n").filter((line) => /^[0-9a-f]{12,64}$/.test(line.trim())).length };
}

export type RunnerStatus = "healthy" | "starting" | "unhealthy" | "restarting" | "stopped" | "missing" | "extra" | "unreachable";

export interface StatusRow {
    readonly host: string;
    /**
     * The row's ID: a runner ID, or a sandbox's instance ID. The field keeps the runners' name,
     * which their --json has always printed; a sandbox stack's JSON renames it (status/json.ts).
     */
    readonly runnerId: string;
    readonly container: string;
    readonly status: RunnerStatus;
    readonly observed: ObservedContainer | undefined;
    readonly endpoints: { rdp: string | undefined; vnc: string | undefined; health: string } | undefined;
    /** Why the host's engine could not be asked (status "unreachable"). */
    readonly error?: string;
}

/** What a status row needs of a planned container, whatever the workload: its ID, its container and its endpoints. */
export interface PlannedContainer {
    /** 1-based, as the plan numbers it: what a RUNNER or SANDBOX argument names on a single host. */
    readonly index: number;
    /** The ID the control plane knows it by: a runner ID, or a sandbox's instance ID. */
    readonly id: string;
    readonly containerName: string;
    /** Where an operator reaches it; undefined for a workload that publishes nothing. */
    readonly endpoints: StatusRow["endpoints"];
}

/** Rows for a host: every planned container, then containers of this stack the plan no longer has. */
export function classify(host: string, planned: readonly PlannedContainer[], observed: readonly ObservedContainer[]): StatusRow[] {
    const byName = new Map(observed.map((o) => [o.name, o]));
    const rows: StatusRow[] = planned.map((container) => {
        const o = byName.get(container.containerName);
        byName.delete(container.containerName);
        return {
            host,
            runnerId: container.id,
            container: container.containerName,
            status: statusOf(o),
            observed: o,
            endpoints: container.endpoints,
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

/** Whether the rows call for attention: a planned runner that is not healthy. */
export function needsAttention(rows: readonly StatusRow[]): boolean {
    return rows.some((r) => r.status !== "healthy" && r.status !== "extra");
}

/** Exit statuses: 0 every planned runner healthy; 1 one needs attention or its host is unreachable; 2 the status could not be taken. */
export const EXIT = { healthy: 0, attention: 1, failed: 2 } as const;
