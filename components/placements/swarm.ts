// The swarm placement: the workload as one replicated service, through a provider for
// the swarm's manager (`docker-swarm`), or Pulumi's default provider when the manager
// is this machine's engine.
import * as docker from "@pulumi/docker";
import type { DeclaredStack } from "../outputs";
import { providerArgs } from "./dockerHost";
import type { SwarmPlacement } from "./placement";
import type { SwarmSite } from "./resolve";
import type { OnSwarm } from "./types";

/** The service of a workload whose swarm plan S says where its manager is. */
export function declareSwarm<S extends { readonly target: Pick<SwarmSite, "connection"> }>(
    placement: SwarmPlacement<S>,
    workload: OnSwarm<S>,
): DeclaredStack {
    const connection = placement.target.connection;
    const provider = connection ? new docker.Provider("docker-swarm", providerArgs(connection)) : undefined;
    const service = workload.declare(workload.name, placement, { provider });
    return {
        runnerIds: [...service.ids],
        containerNames: [],
        endpoints: [],
        image: service.image,
        hosts: undefined,
        service: {
            manager: connection?.host ?? "local",
            name: service.serviceName,
            replicas: service.replicas,
            runnerIds: [...service.ids],
        },
        credentials: service.credentials,
    };
}
