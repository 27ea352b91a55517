// The status table as text: one row per runner (or sandbox), the unreachable hosts' reasons, a summary.
import type { Workload } from "../../components/placements/placement";
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

function controlPlaneText(row: StatusRow): string {
    // The reason is printed in full under the table: cut here, it would hide what to fix.
    if (row.status === "unreachable") return "host unreachable (see below)";
    if (row.error) return `task: ${row.error.slice(0, 60)}`;
    const cp = row.observed?.controlPlane;
    if (!cp) return "-";
    if (cp.connected) return "connected";
    return cp.lastError ? `down: ${cp.lastError.slice(0, 60)}` : "down";
}

/** The DESKTOP cell: a runner's reverse dial and its tunnels. */
function desktopText(row: StatusRow): string {
    const desktop = row.observed?.desktop;
    return desktop ? `revdial ${desktop.revdial}, ${desktop.tunnels} open` : "-";
}

/** The INNER DOCKERD cell: whether a sandbox's own engine answers, and how many containers (desktops) it runs. */
function innerEngineText(row: StatusRow): string {
    if (row.status === "unreachable") return "host unreachable (see below)";
    if (row.error) return `task: ${row.error.slice(0, 60)}`;
    const inner = row.observed?.innerEngine;
    if (!inner) return "-";
    if (!inner.answers) return "down";
    return inner.containers === undefined ? "up" : `up, ${inner.containers} container${inner.containers === 1 ? "" : "s"}`;
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

/**
 * The columns and cells per workload. A sandbox has no link, sessions or endpoints of ours to
 * show (Helix's admin UI shows its link and sessions): its last column is its inner dockerd.
 */
function columnsFor(workload: Workload["kind"], rows: readonly StatusRow[], now: Date): { head: string[]; body: string[][] } {
    switch (workload) {
        case "runner":
            return {
                head: ["HOST", "RUNNER ID", ...CONTAINER_COLUMNS, "CONTROL PLANE", "SESSIONS", "DESKTOP", "ENDPOINTS"],
                body: rows.map((r) => [
                    ...containerCells(r, now),
                    controlPlaneText(r),
                    r.observed?.sessions ? `${r.observed.sessions.live}/${r.observed.sessions.limit}` : "-",
                    desktopText(r),
                    r.endpoints ? (r.endpoints.rdp ? `rdp ${r.endpoints.rdp}  vnc ${r.endpoints.vnc}` : "via control plane") : "-",
                ]),
            };
        case "sandbox":
            return {
                head: ["HOST", "SANDBOX ID", ...CONTAINER_COLUMNS, "INNER DOCKERD"],
                body: rows.map((r) => [...containerCells(r, now), innerEngineText(r)]),
            };
        default: {
            const unknown: never = workload;
            throw new Error(`no status columns for workload ${String(unknown)}`);
        }
    }
}

/** The status table, one row per runner, or per sandbox (its instance ID in the ID column). */
export function renderStatus(rows: readonly StatusRow[], now: Date, workload: Workload["kind"] = "runner"): string {
    const { head, body } = columnsFor(workload, rows, now);
    const counts = new Map<RunnerStatus, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || `no ${workload === "sandbox" ? "sandboxes" : "runners"} planned`;
    const reasons = new Map<string, string>();
    for (const r of rows) if (r.status === "unreachable" && !reasons.has(r.host)) reasons.set(r.host, r.error ?? "no reason given");
    const unreachable = [...reasons].map(([host, reason]) => `  ${host}: ${reason}`);
    return [table(head, body), ...(unreachable.length > 0 ? ["", "Unreachable hosts:", ...unreachable] : []), "", summary].join("\n");
}
