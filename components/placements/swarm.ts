// The swarm placement: the runners as one replicated service, through a provider for
// the swarm's manager (`docker-swarm`), or Pulumi's default provider when the manager
// is this machine's engine.
import * as docker from "@pulumi/docker";
import type { RunnerWorkload, SwarmPlacement } from "./placement";
import { ZedRunnerService } from "../runner/zedRunnerService";
import { providerArgs } from "./dockerHost";
import type { DeclareContext, DeclaredStack } from "./types";

/** The swarm placement: runners only (a sandbox stack has no swarm case: the config refuses it). */
export function declareSwarm(placement: SwarmPlacement, workload: RunnerWorkload, { secrets, context }: DeclareContext): DeclaredStack {
    const connection = placement.target.connection;
    const provider = connection ? new docker.Provider("docker-swarm", providerArgs(connection)) : undefined;
    const service = serviceFor(placement, workload, { secrets, context }, provider);
    return {
        runnerIds: service.runnerIds,
        containerNames: [],
        endpoints: [],
        image: service.image,
        hosts: undefined,
        service: {
            manager: connection?.host ?? "local",
            name: service.serviceName,
            replicas: service.plan.replicas,
            runnerIds: service.runnerIds,
        },
        credentials: service.credentials,
    };
}

/** The workload's service on the swarm. */
function serviceFor(
    placement: SwarmPlacement,
    workload: RunnerWorkload,
    { secrets, context }: DeclareContext,
    provider: docker.Provider | undefined,
): ZedRunnerService {
    switch (workload.kind) {
        case "runner":
            return new ZedRunnerService(
                "zed-runner-swarm",
                { swarm: placement, apiToken: secrets.apiToken, registryPassword: secrets.registryPassword, context },
                { provider },
            );
        default: {
            const never: never = workload.kind;
            throw new Error(`Unknown workload ${JSON.stringify(never)}`);
        }
    }
}
