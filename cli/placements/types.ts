// What each placement gives the operator commands: its part of `status`, `logs` and
// `plan`. cli/placements/index.ts picks the placement's module.
import type Docker from "dockerode";
import type { HostTarget } from "../../components/stackPlan";
import type { StatusRow } from "../status/model";

/** A client for a host's engine (only its name and connection are read); injected so tests give it a double. */
export type Connect = (host: Pick<HostTarget, "name" | "connection">) => Docker;

/** What `npm run logs` was asked for. */
export interface LogsRequest {
    readonly stack: string;
    /** The RUNNER argument: an index or slot, or a runner ID. */
    readonly which: string | undefined;
    readonly all: boolean;
    /** Unix seconds. */
    readonly since: number | undefined;
    readonly follow: boolean;
}

/** What `npm run plan` knows beyond the placement: the stack and which keys are encrypted. */
export interface PlanFacts {
    readonly stack: string;
    readonly secureKeys: ReadonlySet<string>;
}

export interface PlacementCommands {
    /** Status rows: every planned runner, then what the stack runs that the plan no longer has. */
    status(stack: string, connect: Connect): Promise<StatusRow[]>;
    /** Prints the logs of the runners `request` names; returns the exit status. */
    logs(request: LogsRequest, connect: Connect): Promise<number>;
    /** The placement's lines of `npm run plan`: per host, or the swarm's service. */
    plan(facts: PlanFacts): string[];
    /** The Zed build folders the placement's image builds read (none for a pulled image). */
    readonly zedBuildDirs: readonly string[];
}
