// The hosts placement: the workload on every host listed in `hosts`, each through its
// own Docker provider. Resource names come from host names, never from list
// positions, so reordering `hosts` changes nothing.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DeclaredStack, HostOutputs, RunnerCredentials } from "../outputs";
import { hostOutputs, providerArgs } from "./dockerHost";
import type { HostIdentity, HostsPlacement } from "./placement";
import type { OnHost } from "./types";

/** Per host, the provider `docker-<host>` and the component `<workload's name>-<host>` (`zed-runner-<host>` for runners). */
export function declareHosts<H extends HostIdentity>(placement: HostsPlacement<H>, workload: OnHost<H>): DeclaredStack {
    const components = placement.hosts.map((host) => {
        // Every listed host has a connection; without one, the default provider (as the local placement).
        const provider = host.connection ? new docker.Provider(`docker-${host.name}`, providerArgs(host.connection)) : undefined;
        return workload.declare(`${workload.baseName}-${host.name}`, host, { provider });
    });
    const hosts: Record<string, HostOutputs> = {};
    placement.hosts.forEach((host, i) => {
        hosts[host.name] = hostOutputs(host, components[i]);
    });
    return {
        runnerIds: components.flatMap((c) => c.ids),
        containerNames: components.flatMap((c) => c.containerNames),
        endpoints: components.flatMap((c) => c.endpoints),
        // Each host builds or pulls its own: see hosts.<name>.image.
        image: undefined,
        hosts,
        service: undefined,
        credentials: concatCredentials(components.map((c) => c.credentials)),
    };
}

/** Several components' credentials as one list, in order; a secret. */
function concatCredentials(lists: readonly pulumi.Output<RunnerCredentials[]>[]): pulumi.Output<RunnerCredentials[]> {
    return pulumi.secret(pulumi.all([...lists]).apply((all) => all.flat()));
}
