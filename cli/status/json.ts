// What `npm run status -- --json` prints. A runner stack's rows go out as the model holds them
// (monitors already read those names); a sandbox stack's are renamed for what they are: the
// instance ID, not a runner ID, and none of the fields only a runner's /health fills.
// Pure: no Docker, no I/O.
import type { Workload } from "../../components/placements/placement";
import type { InnerEngine, RunnerStatus, StatusRow } from "./model";

/** One sandbox in the JSON: its instance ID and container, and what its engine says. */
export interface SandboxJsonRow {
    readonly host: string;
    readonly instanceId: string;
    readonly container: string;
    readonly status: RunnerStatus;
    readonly observed:
        | {
              readonly name: string;
              /** The instance ID on the container's label: "?" rows (extra containers) are told apart by it. */
              readonly instanceId: string | undefined;
              readonly state: string;
              readonly health: string | undefined;
              readonly restarts: number;
              readonly startedAt: string | undefined;
              readonly cpuPercent: number | undefined;
              readonly memoryBytes: number | undefined;
              readonly innerEngine: InnerEngine | undefined;
          }
        | undefined;
    readonly error?: string;
}

function sandboxRow(row: StatusRow): SandboxJsonRow {
    const o = row.observed;
    return {
        host: row.host,
        instanceId: row.runnerId,
        container: row.container,
        status: row.status,
        observed: o && {
            name: o.name,
            instanceId: o.runnerId,
            state: o.state,
            health: o.health,
            restarts: o.restarts,
            startedAt: o.startedAt,
            cpuPercent: o.cpuPercent,
            memoryBytes: o.memoryBytes,
            innerEngine: o.innerEngine,
        },
        ...(row.error === undefined ? {} : { error: row.error }),
    };
}

/** The --json document: `{stack, at, runners}` for runners, `{stack, at, sandboxes}` for sandboxes. */
export function statusJson(
    stack: string,
    at: Date,
    rows: readonly StatusRow[],
    workload: Workload["kind"],
): { stack: string; at: string; runners: readonly StatusRow[] } | { stack: string; at: string; sandboxes: SandboxJsonRow[] } {
    return workload === "sandbox"
        ? { stack, at: at.toISOString(), sandboxes: rows.map(sandboxRow) }
        : { stack, at: at.toISOString(), runners: rows };
}
