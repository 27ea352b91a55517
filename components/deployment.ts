// The stack's one `declare` entry: wraps the config's secrets once, then hands the
// placement to its own module, with the workload's component for each host. Every
// placement and workload returns the same outputs (DeclaredStack).
import * as pulumi from "@pulumi/pulumi";
import { type ParsedConfig, workloadCase } from "./stackPlan";
import type { PlanContext } from "./runner/plan";
import { onHost } from "./placements/dockerHost";
import { declareHosts } from "./placements/hosts";
import { declareLocal } from "./placements/local";
import { declareSwarm } from "./placements/swarm";
import type { DeclareContext, DeclaredStack } from "./placements/types";
import { asRunError } from "./stackConfig";

/** Declares what the parsed config plans, where it plans it; our own validation errors become RunErrors. */
export function declareDeployment(config: ParsedConfig, context: PlanContext): DeclaredStack {
    // The one place the plain strings become Outputs: wrapped here, and the components keep them secret.
    const declare: DeclareContext = {
        secrets: {
            apiToken: pulumi.secret(config.apiToken),
            registryPassword: config.registryPassword === undefined ? undefined : pulumi.secret(config.registryPassword),
        },
        context,
    };
    try {
        const chosen = workloadCase(config);
        switch (chosen.kind) {
            case "runner": {
                const { placement, workload } = chosen.config;
                switch (placement.kind) {
                    case "local":
                        return declareLocal(placement, onHost(workload, declare.secrets.apiToken, context));
                    case "hosts":
                        return declareHosts(placement, onHost(workload, declare.secrets.apiToken, context));
                    case "swarm":
                        return declareSwarm(placement, workload, declare);
                    default: {
                        const never: never = placement;
                        throw new Error(`Unknown placement ${JSON.stringify(never)}`);
                    }
                }
            }
            case "sandbox": {
                const { placement, workload } = chosen.config;
                switch (placement.kind) {
                    case "local":
                        return declareLocal(placement, onHost(workload, declare.secrets.apiToken, context));
                    case "hosts":
                        return declareHosts(placement, onHost(workload, declare.secrets.apiToken, context));
                    default: {
                        const never: never = placement;
                        throw new Error(`Unknown placement ${JSON.stringify(never)}`);
                    }
                }
            }
            default: {
                const never: never = chosen;
                throw new Error(`Unknown workload ${JSON.stringify(never)}`);
            }
        }
    } catch (err) {
        throw asRunError(err);
    }
}
