// The one shape every placement's `declare` returns, and what each is given: the
// stack outputs index.ts exports, whatever the placement.
import type * as pulumi from "@pulumi/pulumi";
import type { RunnerCredentials } from "../runner/credentials";
import type { PlanContext, RunnerEndpoints } from "../runner/plan";

/** The stack's secrets, each wrapped as a secret once, where the plain config value became an Output. */
interface StackSecrets {
    readonly apiToken: pulumi.Output<string>;
    /** The registry account's password (swarm only), when set. */
    readonly registryPassword: pulumi.Output<string> | undefined;
}

/** What a placement's `declare` is given besides its own case of the placement. */
export interface DeclareContext {
    readonly secrets: StackSecrets;
    /** Project and stack, as the plan was made with. */
    readonly context: PlanContext;
}

/** What one host runs, for stack outputs. */
export interface HostOutputs {
    /** The Docker engine address, or "local" for this machine's. */
    readonly dockerHost: string;
    readonly runnerIds: string[];
    readonly containerNames: string[];
    readonly endpoints: RunnerEndpoints[];
    readonly image: pulumi.Output<string>;
}

/** The swarm service, for stack outputs. */
interface ServiceOutputs {
    /** The manager's engine address, or "local" for this machine's. */
    readonly manager: string;
    readonly name: string;
    readonly replicas: number;
    readonly runnerIds: string[];
}

/**
 * The stack's outputs, as every placement and workload declares them (index.ts exports each as it
 * is). For sandboxes: runnerIds are their SANDBOX_INSTANCE_IDs, endpoints and credentials are empty
 * (a sandbox publishes nothing and has no passwords of ours), image is the pinned image reference.
 */
export interface DeclaredStack {
    /** Runner IDs as the control plane sees them, every host's (or every swarm slot's). */
    readonly runnerIds: string[];
    /** Docker container names (none on a swarm: it names its task containers itself). */
    readonly containerNames: string[];
    /** Per runner: RDP and VNC `host:port` and the health URL (none on a swarm: its tasks move between nodes). */
    readonly endpoints: RunnerEndpoints[];
    /** The image the runners run: this machine's or the swarm's; undefined with `hosts` (see each host's). */
    readonly image: pulumi.Output<string> | undefined;
    /** Per host name (this machine's too); undefined on a swarm. */
    readonly hosts: Record<string, HostOutputs> | undefined;
    /** The swarm service; undefined elsewhere. */
    readonly service: ServiceOutputs | undefined;
    /** Every runner's desktop passwords; a secret. */
    readonly credentials: pulumi.Output<RunnerCredentials[]>;
}
