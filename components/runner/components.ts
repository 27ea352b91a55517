// The runner workload's components, per placement: ZedRunner on each host (`zed-runner` on this
// machine, `zed-runner-<host>` on a listed host: the names every runner stack has always had), and
// ZedRunnerService on a swarm (`zed-runner-swarm`). Registered in components/workloadComponents.ts.
import type { WorkloadComponents } from "../placements/types";
import type { PlannedHost } from "./plan";
import type { PlannedSwarm } from "./swarmPlan";
import { ZedRunner } from "./zedRunner";
import { ZedRunnerService } from "./zedRunnerService";

export const RUNNER_COMPONENTS: WorkloadComponents<PlannedHost, PlannedSwarm> = {
    onHost: ({ secrets, stack }) => ({
        baseName: "zed-runner",
        declare: (name, host, opts) => {
            const runner = new ZedRunner(name, { host, apiToken: secrets.apiToken, stack }, opts);
            return { ...runner, ids: runner.runnerIds, image: runner.image, credentials: runner.credentials };
        },
    }),
    onSwarm: ({ secrets, stack }) => ({
        name: "zed-runner-swarm",
        declare: (name, swarm, opts) => {
            const service = new ZedRunnerService(
                name,
                { swarm, apiToken: secrets.apiToken, registryPassword: secrets.registryPassword, stack },
                opts,
            );
            return {
                ids: service.runnerIds,
                serviceName: service.serviceName,
                replicas: service.plan.replicas,
                image: service.image,
                credentials: service.credentials,
            };
        },
    }),
};
