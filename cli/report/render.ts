// The status table as text: one row per runner (or sandbox), the unreachable hosts' reasons, a summary.
import { table } from "../lib/table";
import type { RunnerStatus, StatusRow } from "./model";

function since(iso: string | undefined, now: Date): string {
    if (!iso || iso.startsWith("0001-")) return "-";
    const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** What every row shows, runner or sandbox: where, which, and Docker's view of its container. */
function containerCells(r: StatusRow, now: Date): string[] {
    return [
        r.host,
        r.runnerId,
        r.container,
        r.status,
        String(r.observed?.restarts ?? "-"),
        r.observed?.state === "running" ? since(r.observed.startedAt, now) : "-",
        r.observed?.cpuPercent === undefined ? "-" : `${r.observed.cpuPercent.toFixed(1)}%`,
        r.observed?.memoryBytes === undefined ? "-" : `${(r.observed.memoryBytes / 1024 / 1024).toFixed(0)}MiB`,
    ];
}

const CONTAINER_COLUMNS = ["CONTAINER", "STATUS", "RESTARTS", "UP", "CPU", "MEMORY"];

/** What a workload's rows show beyond Docker's view of the container (its CLI record's status part, cli/workloads/). */
export interface StatusColumns {
    /** The ID column's head: RUNNER ID, SANDBOX ID. */
    readonly idColumn: string;
    /** The heads of the workload's own columns, after the container's. */
    readonly columns: readonly string[];
    /** A row's cells under those heads. */
    cells(row: StatusRow): string[];
    /** How the summary names several of them when none is planned. */
    readonly many: string;
}

/** The status table, one row per runner or sandbox, with the workload's own columns last. */
export function renderStatus(rows: readonly StatusRow[], now: Date, view: StatusColumns): string {
    const head = ["HOST", view.idColumn, ...CONTAINER_COLUMNS, ...view.columns];
    const body = rows.map((r) => [...containerCells(r, now), ...view.cells(r)]);
    const counts = new Map<RunnerStatus, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || `no ${view.many} planned`;
    const reasons = new Map<string, string>();
    for (const r of rows) if (r.status === "unreachable" && !reasons.has(r.host)) reasons.set(r.host, r.error ?? "no reason given");
    const unreachable = [...reasons].map(([host, reason]) => `  ${host}: ${reason}`);
    return [table(head, body), ...(unreachable.length > 0 ? ["", "Unreachable hosts:", ...unreachable] : []), "", summary].join("\n");
}

/** A workload cell's text for a row whose host, or task, could not be read: the reason is printed in full under the table. */
export function unreadCell(row: StatusRow): string | undefined {
    if (row.status === "unreachable") return "host unreachable (see below)";
    if (row.error) return `task: ${row.error.slice(0, 60)}`;
    return undefined;
}
