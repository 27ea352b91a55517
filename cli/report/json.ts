// What `npm run status -- --json` prints: `{stack, at, <list>}`, one row per runner or sandbox as
// the model holds it, with the ID under the workload's own name for it and without the fields the
// workload never fills. A runner stack's rows go out exactly as the model holds them (monitors
// already read those names). Pure: no Docker, no I/O.
import type { StatusRow } from "./model";

/** How a workload's rows appear in the JSON (its CLI record's, cli/workloads/). */
export interface StatusJsonShape {
    /** The document's list: `runners`, `sandboxes`. */
    readonly listKey: string;
    /** The ID's name in each row and its observed container: `runnerId`, `instanceId`. */
    readonly idField: string;
    /** Fields of a row, or of its observed container, that the workload never fills: left out. */
    readonly omit: readonly string[];
}

/** An object with the ID renamed and the omitted fields left out, in the model's order. */
function reshape(value: object, shape: StatusJsonShape): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(value)
            .filter(([key]) => !shape.omit.includes(key))
            .map(([key, v]) => [key === "runnerId" ? shape.idField : key, key === "observed" && v ? reshape(v as object, shape) : v]),
    );
}

/** The --json document: `{stack, at, runners}` for runners, `{stack, at, sandboxes}` for sandboxes. */
export function statusJson(stack: string, at: Date, rows: readonly StatusRow[], shape: StatusJsonShape): Record<string, unknown> {
    return { stack, at: at.toISOString(), [shape.listKey]: rows.map((row) => reshape(row, shape)) };
}
