// The stack's outputs, as every placement and workload declares them (index.ts exports each as
// it is), and what a workload's containers on one host, or its swarm service, give them. The
// shapes and names are the runners', the first workload's, which users' scripts read; a sandbox
// stack fills the runner-only ones empty (stack output names stay, as users depend on them).
// Types only.
import type * as pulumi from "@pulumi/pulumi";

/** Where an operator reaches a runner from this machine. */
export interface RunnerEndpoints {
    readonly runnerId: string;
    /** `host:port` of the first RDP port; undefined when desktop ports are not published (reach it through the control plane). */
    readonly rdp: string | undefined;
    /** `host:port` of the first VNC port; undefined when desktop ports are not published. */
    readonly vnc: string | undefined;
    /** URL of the runner's health endpoint. */
    readonly health: string;
}

/** One runner's desktop credentials. */
export interface RunnerCredentials {
    readonly runnerId: string;
    /** Initial password of user `zed` over RDP; the control plane rotates it per session. */
    readonly rdpPassword: string;
    /** VNC password (VNC authentication uses at most 8 characters). */
    readonly vncPassword: string;
}

/** What a workload's containers on one host give the stack outputs, whatever the workload. */
export interface HostComponent {
    /** The IDs the control plane knows them by: runner IDs, or sandboxes' instance IDs. */
    readonly ids: readonly string[];
    readonly containerNames: readonly string[];
    /** None for a workload that publishes nothing. */
    readonly endpoints: readonly RunnerEndpoints[];
    readonly image: pulumi.Output<string>;
    /** Desktop passwords of ours; an empty secret for a workload without any. */
    readonly credentials: pulumi.Output<RunnerCredentials[]>;
}

/** What a workload's swarm service gives the stack outputs. */
export interface ServiceComponent {
    /** The service's runner IDs, one per slot. */
    readonly ids: readonly string[];
    readonly serviceName: string;
    readonly replicas: number;
    readonly image: pulumi.Output<string>;
    readonly credentials: pulumi.Output<RunnerCredentials[]>;
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
