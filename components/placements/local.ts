// The local placement: the workload on this machine's engine, through Pulumi's
// default Docker provider (which reads the stack's docker:* keys itself).
import type { DeclaredStack } from "../outputs";
import { hostOutputs } from "./dockerHost";
import type { HostIdentity, LocalPlacement } from "./placement";
import type { OnHost } from "./types";

/**
 * One component named after the workload (`zed-runner` for runners, `helix-sandbox` for sandboxes)
 * on the default provider. The name and the provider are the resources' identity: an explicit
 * provider, or another name, would replace every container.
 */
export function declareLocal<H extends HostIdentity>(placement: LocalPlacement<H>, workload: OnHost<H>): DeclaredStack {
    const { host } = placement;
    const component = workload.declare(workload.baseName, host, {});
    return {
        runnerIds: [...component.ids],
        containerNames: [...component.containerNames],
        endpoints: [...component.endpoints],
        image: component.image,
        hosts: { [host.name]: hostOutputs(host, component) },
        service: undefined,
        credentials: component.credentials,
    };
}
