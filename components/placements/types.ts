// What a workload gives the placements to declare on them, and what each placement's `declare`
// is given: the placements are generic over the workload, which hands them its component per host
// (and its service, for a swarm) through these seams. Nothing here is Docker's: a host's
// component takes plain resource options, which a placement fills with its engine's provider.
import type * as pulumi from "@pulumi/pulumi";
import type { StackIdentity } from "../labels";
import type { HostComponent, ServiceComponent } from "../outputs";
import type { HostIdentity } from "./placement";

/** The stack's secrets, each wrapped as a secret once, where the plain config value became an Output. */
interface StackSecrets {
    readonly apiToken: pulumi.Output<string>;
    /** The registry account's password (runners on a swarm), when set. */
    readonly registryPassword: pulumi.Output<string> | undefined;
}

/** What a workload's components are declared with besides their host's (or swarm's) plan. */
export interface DeclareInputs {
    readonly secrets: StackSecrets;
    /** Project and stack, as the plan was made with. */
    readonly stack: StackIdentity;
}

/**
 * A workload on hosts of type H: the base of its components' names (`<base>` on this machine,
 * `<base>-<host>` on a listed host) and how to declare its component on one host. `opts` carries
 * the host's provider, when it has one of its own.
 */
export interface OnHost<H extends HostIdentity> {
    readonly baseName: string;
    declare(name: string, host: H, opts: pulumi.ComponentResourceOptions): HostComponent;
}

/** A workload as one service on a swarm whose plan is S: the component's name and how to declare it. */
export interface OnSwarm<S> {
    readonly name: string;
    declare(name: string, swarm: S, opts: pulumi.ComponentResourceOptions): ServiceComponent;
}

/**
 * A workload's components, per placement: its containers on a host, and its service on a swarm
 * (undefined for a workload whose record refuses the swarm, so the config never plans one).
 */
export interface WorkloadComponents<H extends HostIdentity, S> {
    onHost(inputs: DeclareInputs): OnHost<H>;
    readonly onSwarm: ((inputs: DeclareInputs) => OnSwarm<S>) | undefined;
}
