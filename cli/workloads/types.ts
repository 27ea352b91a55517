// What the operator commands need of a workload whose containers run on Docker hosts: the words
// their messages use, each host's planned containers, the host's lines in `npm run plan`, the
// probe status runs inside a running container, and its status columns and JSON. One record per
// workload (cli/workloads/runner.ts, sandbox.ts), registered in cli/workloads/index.ts.
import type { HostIdentity } from "../../components/placements/placement";
import type { WorkloadKind } from "../../components/workload";
import type { Probe } from "../report/dockerStats";
import type { StatusJsonShape } from "../report/json";
import type { HostNeeds } from "../checks/hostRules";
import type { ReleaseFetcher } from "../lib/controlPlane";
import type { PlannedContainer, StatusRow } from "../report/model";
import type { StatusColumns } from "../report/render";

/** How messages name the workload's containers and their IDs. */
export interface WorkloadWords {
    /** "runner", "sandbox"; messages capitalise it where a sentence starts. */
    readonly one: string;
    readonly many: string;
    /** What an ID is called where it is offered beside an index: "runner ID", "instance ID". */
    readonly idName: string;
    /** What an ID is called of one of them: "ID", "instance ID". */
    readonly ownId: string;
    /** An ID as an example when none is planned: "external-zed-<host>-1". */
    readonly exampleId: string;
}

export interface WorkloadCommands<H extends HostIdentity> {
    readonly kind: WorkloadKind;
    readonly words: WorkloadWords;
    /** A host's planned containers, in the plan's order. */
    containers(host: H): readonly PlannedContainer[];
    /** What `npm run plan` says a host runs, after its name and engine: "2 runners". */
    hostHeading(count: number): string;
    /** The host's lines of `npm run plan`, after its heading. */
    renderHost(host: H): string[];
    /** The Zed build folders the host's image build reads (none for a pulled image). */
    zedBuildDirs(host: H): readonly string[];
    /** What a host's planned containers need of it, which `--check-hosts` and deploy check first (cli/checks/). */
    hostNeeds(host: H): HostNeeds;
    /** What status reads inside a running container beyond Docker's view. */
    readonly probe: Probe;
    /**
     * What status (above its table) and deploy (before its preview) say about the workload as a whole,
     * given its hosts and, for status, its rows: a sandbox stack compares its releases with the
     * control plane's. `fetchRelease` asks the control plane.
     */
    notes(
        facts: { readonly hosts: readonly H[]; readonly rows: readonly StatusRow[]; readonly apiHost: string; readonly stack: string },
        fetchRelease: ReleaseFetcher,
    ): Promise<string[]>;
    readonly status: StatusColumns;
    readonly json: StatusJsonShape;
}
