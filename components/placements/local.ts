// The local placement: the runners on this machine's engine, through Pulumi's
// default Docker provider (which reads the stack's docker:* keys itself).
import type { LocalPlacement, Workload } from "../placement";
import { declareOnHost, hostOutputs } from "./dockerHost";
import type { DeclareContext, DeclaredStack } from "./types";

/**
 * One component named `zed-runner` on the default provider. The name and the provider are
 * the resources' identity: an explicit provider, or another name, would replace every runner.
 */
export function declareLocal(placement: LocalPlacement, workload: Workload, { secrets, context }: DeclareContext): DeclaredStack {
    const { host } = placement;
    const runner = declareOnHost("zed-runner", host, workload, secrets.apiToken, context, undefined);
    return {
        runnerIds: runner.runnerIds,
        containerNames: runner.containerNames,
        endpoints: runner.endpoints,
        image: runner.image,
        hosts: { [host.name]: hostOutputs(host, runner) },
        service: undefined,
        credentials: runner.credentials,
    };
}
