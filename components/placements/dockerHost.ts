// What the local and hosts placements share: a workload on one Docker host (one
// component per host), the host's stack outputs, and a Docker provider's arguments
// for an engine the stack names (a listed host, or a swarm's manager).
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { DockerConnection } from "../configDefaults";
import type { PlannedHost, Workload } from "../placement";
import type { PlanContext } from "../plan";
import { ZedRunner } from "../zedRunner";
import type { HostOutputs } from "./types";

/** Connection settings of a Docker engine, as a `docker.Provider` takes them. */
export function providerArgs(connection: DockerConnection): docker.ProviderArgs {
    return { host: connection.host, certPath: connection.certPath, sshOpts: connection.sshOpts ? [...connection.sshOpts] : undefined };
}

/** The workload's component on `host`, named `name`, through `provider` (Pulumi's default one when undefined). */
export function declareOnHost(
    name: string,
    host: PlannedHost,
    workload: Workload,
    apiToken: pulumi.Output<string>,
    context: PlanContext,
    provider: docker.Provider | undefined,
): ZedRunner {
    switch (workload.kind) {
        case "runner":
            return new ZedRunner(name, { host, apiToken, context }, { provider });
        default: {
            const never: never = workload.kind;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}

/** A host's stack outputs. */
export function hostOutputs(host: PlannedHost, runner: ZedRunner): HostOutputs {
    return {
        dockerHost: host.connection?.host ?? "local",
        runnerIds: runner.runnerIds,
        containerNames: runner.containerNames,
        endpoints: runner.endpoints,
        image: runner.image,
    };
}
