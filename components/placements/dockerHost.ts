// What the local and hosts placements share: a workload on one Docker host (one
// component per host), the host's stack outputs, and a Docker provider's arguments
// for an engine the stack names (a listed host, or a swarm's manager).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerConnection } from "./resolve";
import type { RunnerCredentials } from "../runner/credentials";
import { HelixSandbox } from "../sandbox/helixSandbox";
import type { PlannedHost, SandboxHost } from "./placement";
import type { PlanContext, RunnerEndpoints } from "../runner/plan";
import { ZedRunner } from "../runner/zedRunner";
import type { HostOutputs } from "./types";

/** Connection settings of a Docker engine, as a `docker.Provider` takes them. */
export function providerArgs(connection: DockerConnection): docker.ProviderArgs {
    return { host: connection.host, certPath: connection.certPath, sshOpts: connection.sshOpts ? [...connection.sshOpts] : undefined };
}

/** What a host's component gives the stack outputs, whatever the workload (ZedRunner and HelixSandbox both do). */
export interface HostComponent {
    readonly runnerIds: string[];
    readonly containerNames: string[];
    readonly endpoints: RunnerEndpoints[];
    readonly image: pulumi.Output<string>;
    readonly credentials: pulumi.Output<RunnerCredentials[]>;
}

/** A host as the placements name and reach it. */
export interface HostIdentity {
    readonly name: string;
    readonly connection: DockerConnection | undefined;
}

/**
 * A workload on hosts of type H: the base of its components' names (`<base>` on this machine,
 * `<base>-<host>` on a listed host) and how to declare its component on one host.
 */
export interface OnHost<H extends HostIdentity> {
    readonly baseName: string;
    declare(name: string, host: H, provider: docker.Provider | undefined): HostComponent;
}

/**
 * The workload's component on a host, by workload: runners as `zed-runner[-<host>]` (the names
 * every runner stack has always had), sandboxes as `helix-sandbox[-<host>]`.
 */
export function onHost(workload: { readonly kind: "runner" }, apiToken: pulumi.Output<string>, context: PlanContext): OnHost<PlannedHost>;
export function onHost(workload: { readonly kind: "sandbox" }, apiToken: pulumi.Output<string>, context: PlanContext): OnHost<SandboxHost>;
export function onHost(
    workload: { readonly kind: "runner" } | { readonly kind: "sandbox" },
    apiToken: pulumi.Output<string>,
    context: PlanContext,
): OnHost<PlannedHost> | OnHost<SandboxHost> {
    switch (workload.kind) {
        case "runner":
            return {
                baseName: "zed-runner",
                declare: (name: string, host: PlannedHost, provider: docker.Provider | undefined) =>
                    new ZedRunner(name, { host, apiToken, context }, { provider }),
            };
        case "sandbox":
            return {
                baseName: "helix-sandbox",
                declare: (name: string, host: SandboxHost, provider: docker.Provider | undefined) =>
                    new HelixSandbox(name, { host, apiToken, context }, { provider }),
            };
        default: {
            const never: never = workload;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}

/** A host's stack outputs. */
export function hostOutputs(host: HostIdentity, component: HostComponent): HostOutputs {
    return {
        dockerHost: host.connection?.host ?? "local",
        runnerIds: component.runnerIds,
        containerNames: component.containerNames,
        endpoints: component.endpoints,
        image: component.image,
    };
}
