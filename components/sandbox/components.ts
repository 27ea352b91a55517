// The sandbox workload's components: HelixSandbox on each host (`helix-sandbox` on this machine,
// `helix-sandbox-<host>` on a listed host), and no swarm service (its record refuses the swarm:
// Swarm services cannot be privileged or take devices). Registered in components/workloadComponents.ts.
import * as pulumi from "@pulumi/pulumi";
import type { RunnerCredentials } from "../outputs";
import type { WorkloadComponents } from "../placements/types";
import { HelixSandbox } from "./helixSandbox";
import type { SandboxHost } from "./plan";

export const SANDBOX_COMPONENTS: WorkloadComponents<SandboxHost, never> = {
    onHost: ({ secrets }) => ({
        baseName: "helix-sandbox",
        declare: (name, host, opts) => {
            const sandbox = new HelixSandbox(name, { host, apiToken: secrets.apiToken }, opts);
            return {
                ids: sandbox.instanceIds,
                containerNames: sandbox.containerNames,
                // A sandbox publishes nothing (its traffic is all outbound) and has no desktop passwords of ours.
                endpoints: [],
                image: sandbox.image,
                credentials: pulumi.secret(pulumi.output([] as RunnerCredentials[])),
            };
        },
    }),
    onSwarm: undefined,
};
