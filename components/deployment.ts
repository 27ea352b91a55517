// The stack's one `declare` entry: wraps the config's secrets once, then hands the placement to
// its own module with the workload's components (components/workloadComponents.ts). Every
// placement and workload returns the same outputs (DeclaredStack).
import * as pulumi from "@pulumi/pulumi";
import type { StackIdentity } from "./labels";
import type { DeclaredStack } from "./outputs";
import { declareHosts } from "./placements/hosts";
import { declareLocal } from "./placements/local";
import type { EnginePlacement, HostIdentity, SwarmPlacement } from "./placements/placement";
import { declareSwarm } from "./placements/swarm";
import type { DeclareInputs, WorkloadComponents } from "./placements/types";
import type { SwarmSite } from "./placements/resolve";
import { type ParsedConfig, workloadCase } from "./stackPlan";
import { asRunError } from "./stackConfig";
import { WORKLOAD_COMPONENTS } from "./workloadComponents";

/** Declares what the parsed config plans, where it plans it; our own validation errors become RunErrors. */
export function declareDeployment(config: ParsedConfig, stack: StackIdentity): DeclaredStack {
    // The one place the plain strings become Outputs: wrapped here, and the components keep them secret.
    const inputs: DeclareInputs = {
        secrets: {
            apiToken: pulumi.secret(config.apiToken),
            registryPassword: config.registryPassword === undefined ? undefined : pulumi.secret(config.registryPassword),
        },
        stack,
    };
    try {
        const chosen = workloadCase(config);
        switch (chosen.kind) {
            case "runner":
                return declarePlacement(chosen.config.placement, WORKLOAD_COMPONENTS.runner, inputs);
            case "sandbox":
                return declarePlacement(chosen.config.placement, WORKLOAD_COMPONENTS.sandbox, inputs);
            default: {
                const never: never = chosen;
                throw new Error(`Unknown workload ${JSON.stringify(never)}`);
            }
        }
    } catch (err) {
        throw asRunError(err);
    }
}

/** A workload's components on the placement its config planned. */
function declarePlacement<H extends HostIdentity, S extends { readonly target: Pick<SwarmSite, "connection"> }>(
    placement: EnginePlacement<H> | SwarmPlacement<S>,
    components: WorkloadComponents<H, S>,
    inputs: DeclareInputs,
): DeclaredStack {
    switch (placement.kind) {
        case "local":
            return declareLocal(placement, components.onHost(inputs));
        case "hosts":
            return declareHosts(placement, components.onHost(inputs));
        case "swarm": {
            // The config refuses the swarm for a workload without a service (its record's refusedPlacements).
            if (components.onSwarm === undefined)
                throw new Error("This workload has no swarm service; the config should have refused the swarm");
            return declareSwarm(placement, components.onSwarm(inputs));
        }
        default: {
            const never: never = placement;
            throw new Error(`Unknown placement ${JSON.stringify(never)}`);
        }
    }
}
