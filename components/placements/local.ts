// The local placement: the workload on this machine's engine, through Pulumi's
// default Docker provider (which reads the stack's docker:* keys itself).
import type { LocalPlacement } from "./placement";
import { type HostIdentity, type OnHost, hostOutputs } from "./dockerHost";
import type { DeclaredStack } from "./types";

/**
 * One component named after the workload (`zed-runner` for runners, `helix-sandbox` for sandboxes)
 * on the default provider. The name and the provider are the resources' identity: an explicit
 * provider, or another name, would replace every container.
 */
export function declareLocal<H extends HostIdentity>(placement: LocalPlacement<H>, workload: OnHost<H>): DeclaredStack {
    const { host } = placement;
    const component = workload.declare(workload.baseName, host, undefined);
    return {
        runnerIds: component.runnerIds,
        containerNames: component.containerNames,
        endpoints: component.endpoints,
        image: component.image,
        hosts: { [host.name]: hostOutputs(host, component) },
        service: undefined,
        credentials: component.credentials,
    };
}
