// The runner workload in the commands: runners are named by index or runner ID, publish a health
// port (and desktop ports when asked), build or pull the runner image, and answer status with
// their own /health (asked inside the container, so remote and loopback-bound runners answer too).
import type { HealthReport } from "../../agent/health";
import type { PlannedHost } from "../../components/runner/plan";
import { RUNNER_RECORD } from "../../components/runner/workload";
import { AGENT_COMMAND } from "../../contract";
import { execIn } from "../engine";
import { table } from "../lib/table";
import { unreadCell } from "../report/render";
import type { StatusRow } from "../report/model";
import type { WorkloadCommands } from "./types";

/** Where the host's runner image comes from. */
function imageSource(host: PlannedHost): string {
    const s = host.settings;
    return s.image
        ? `pull ${s.image}`
        : `build Dockerfile.zed-agent (baseImage ${s.baseImage}, Zed from ${s.zedBuildDir}/zed, the runner agent from agent/)`;
}

/** The CONTROL PLANE cell: the runner's link, from its /health. */
function controlPlaneText(row: StatusRow): string {
    const unread = unreadCell(row);
    if (unread !== undefined) return unread;
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

export const RUNNER_COMMANDS: WorkloadCommands<PlannedHost> = {
    kind: "runner",
    words: { ...RUNNER_RECORD.noun, idName: "runner ID", ownId: "ID", exampleId: "external-zed-<host>-1" },
    containers: (host) =>
        host.runners.map((r) => ({ index: r.index, id: r.runnerId, containerName: r.containerName, endpoints: r.endpoints })),
    hostHeading: (count) => `${count} runner${count === 1 ? "" : "s"}`,
    renderHost(host) {
        const out = [`Image: ${imageSource(host)}`];
        if (host.settings.networks.length > 0) out.push(`Joins Docker networks: ${host.settings.networks.join(", ")}`);
        if (host.runners.length > 0)
            out.push(
                table(
                    ["RUNNER ID", "CONTAINER", "RDP", "VNC", "HEALTH"],
                    host.runners.map((r) => [
                        r.runnerId,
                        r.containerName,
                        r.endpoints.rdp ?? "-",
                        r.endpoints.vnc ?? "-",
                        r.endpoints.health,
                    ]),
                ),
            );
        return out;
    },
    zedBuildDirs: (host) => (host.settings.image ? [] : [host.settings.zedBuildDir]),
    // A runner takes no device and the engine's default runtime: only the engine's version is checked.
    hostNeeds: () => ({ devices: [], runtime: undefined }),
    async probe(container) {
        const { output } = await execIn(container, [AGENT_COMMAND, "healthcheck"]);
        const health = JSON.parse(output) as Partial<HealthReport>;
        return {
            controlPlane: health.controlPlane,
            sessions: health.sessions ? { live: health.sessions.live, limit: health.sessions.limit } : undefined,
            desktop: health.revdial
                ? { revdial: health.revdial.status, tunnels: (health.tunnels?.rdp ?? 0) + (health.tunnels?.vnc ?? 0) }
                : undefined,
        };
    },
    // A runner speaks the control plane's protocol as each revision has it (agent/helixRevisions.ts): no release to match.
    notes: async () => [],
    status: {
        idColumn: "RUNNER ID",
        columns: ["CONTROL PLANE", "SESSIONS", "DESKTOP", "ENDPOINTS"],
        cells: (r) => [
            controlPlaneText(r),
            r.observed?.sessions ? `${r.observed.sessions.live}/${r.observed.sessions.limit}` : "-",
            desktopText(r),
            r.endpoints ? (r.endpoints.rdp ? `rdp ${r.endpoints.rdp}  vnc ${r.endpoints.vnc}` : "via control plane") : "-",
        ],
        many: RUNNER_RECORD.noun.many,
    },
    // Rows go out as the model holds them: monitors already read these names.
    json: { listKey: "runners", idField: "runnerId", omit: [] },
};
