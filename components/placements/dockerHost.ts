// What the local and hosts placements share: a Docker provider's arguments for an engine the
// stack names (a listed host, or a swarm's manager), a host's stack outputs, and the lookup of an
// existing network a workload's containers join.
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { HostComponent, HostOutputs } from "../outputs";
import type { DockerConnection, HostIdentity } from "./placement";

/** Connection settings of a Docker engine, as a `docker.Provider` takes them. */
export function providerArgs(connection: DockerConnection): docker.ProviderArgs {
    return { host: connection.host, certPath: connection.certPath, sshOpts: connection.sshOpts ? [...connection.sshOpts] : undefined };
}

/** A host's stack outputs. */
export function hostOutputs(host: HostIdentity, component: HostComponent): HostOutputs {
    return {
        dockerHost: host.connection?.host ?? "local",
        runnerIds: [...component.ids],
        containerNames: [...component.containerNames],
        endpoints: [...component.endpoints],
        image: component.image,
    };
}

/**
 * The name of an existing Docker network, looked up through the provider so a
 * missing one fails `pulumi up` with a message that names it.
 */
export function lookUpNetwork(networkName: string, opts: pulumi.InvokeOptions): Promise<string> {
    return docker.getNetwork({ name: networkName }, opts).then(
        (n) => n.name,
        (err: unknown) => {
            const detail = (err as { details?: string; message?: string } | undefined)?.details || (err as Error | undefined)?.message;
            const cause = detail ? ` (${detail})` : "";
            throw new Error(
                `networks: the Docker network "${networkName}" does not exist on this Docker host${cause}; ` +
                    "create it, or start the compose project that owns it, then run again",
            );
        },
    );
}
