// What each placement gives the operator commands: its part of `status`, `logs` and `plan`.
// cli/placements/index.ts picks the placement's module. The engines a placement talks to come in
// through EngineClients, one client factory per kind of engine, so a placement on another engine
// adds its own factory there without touching the Docker ones.
import type Docker from "dockerode";
import type { HostIdentity } from "../../components/placements/placement";
import type { HostCheck } from "../checks/hostRules";
import type { ReleaseFetcher } from "../lib/controlPlane";
import type { StatusRow } from "../report/model";

/** A client for a host's Docker engine; injected so tests give it a double. */
export type Connect = (host: HostIdentity) => Docker;

/** The engine clients the commands are given: Docker's, today. */
export interface EngineClients {
    readonly docker: Connect;
}

/** What `npm run logs` was asked for. */
export interface LogsRequest {
    readonly stack: string;
    /** The RUNNER (or SANDBOX) argument: an index or slot, or an ID. */
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
    /** The hosts whose own engines run the containers, as the commands reach them; none on a swarm. */
    readonly hosts: readonly HostIdentity[];
    /** Status rows: every planned container, then what the stack runs that the plan no longer has. */
    status(stack: string, engines: EngineClients): Promise<StatusRow[]>;
    /** Prints the logs of the containers `request` names; returns the exit status. */
    logs(request: LogsRequest, engines: EngineClients): Promise<number>;
    /**
     * After a failed `pulumi up`: each planned container that is not healthy, with its state, its
     * restarts and its last log lines, so the failure names what failed and why.
     */
    explainUnhealthy(stack: string, engines: EngineClients): Promise<string[]>;
    /** Every host's gaps against what its containers need (an empty list for a ready host), each with its fix. */
    checkHosts(engines: EngineClients): Promise<HostCheck[]>;
    /** What status says above its table, and deploy before its preview (rows empty), about the workload as a whole. */
    notes(stack: string, rows: readonly StatusRow[], fetchRelease: ReleaseFetcher): Promise<string[]>;
    /** The placement's lines of `npm run plan`: per host, or the swarm's service. */
    plan(facts: PlanFacts): string[];
    /** The Zed build folders the placement's image builds read (none for a pulled image). */
    readonly zedBuildDirs: readonly string[];
}
