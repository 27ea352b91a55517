// The status table as text: one row per runner (or sandbox), the unreachable hosts' reasons, a summary.
import type { Workload } from "../../components/placement";
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

/** The DESKTOP cell: a runner's reverse dial and tunnels, or a sandbox's inner dockerd and its containers. */
function desktopText(row: StatusRow): string {
    const inner = row.observed?.innerEngine;
    if (inner)
        return inner.answers ? `inner dockerd up, ${inner.containers} container${inner.containers === 1 ? "" : "s"}` : "inner dockerd down";
    const desktop = row.observed?.desktop;
    return desktop ? `revdial ${desktop.revdial}, ${desktop.tunnels} open` : "-";
}

/** The status table, one row per runner, or per sandbox (its instance ID in the ID column). */
export function renderStatus(rows: readonly StatusRow[], now: Date, workload: Workload["kind"] = "runner"): string {
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
        desktopText(r),
        r.endpoints ? (r.endpoints.rdp ? `rdp ${r.endpoints.rdp}  vnc ${r.endpoints.vnc}` : "via control plane") : "-",
    ]);
    const counts = new Map<RunnerStatus, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ") || `no ${workload === "sandbox" ? "sandboxes" : "runners"} planned`;
    const reasons = new Map<string, string>();
    for (const r of rows) if (r.status === "unreachable" && !reasons.has(r.host)) reasons.set(r.host, r.error ?? "no reason given");
    const unreachable = [...reasons].map(([host, reason]) => `  ${host}: ${reason}`);
    return [
        table(
            [
                "HOST",
                workload === "sandbox" ? "SANDBOX ID" : "RUNNER ID",
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
