// The hosts placement: the runners on every host listed in `hosts`, each through its
// own Docker provider. Resource names come from host names, never from list
// positions, so reordering `hosts` changes nothing.
import * as docker from "@pulumi/docker";
import { concatCredentials } from "../credentials";
import type { HostsPlacement, Workload } from "../placement";
import { declareOnHost, hostOutputs, providerArgs } from "./dockerHost";
import type { DeclareContext, DeclaredStack, HostOutputs } from "./types";

/** Per host, the provider `docker-<host>` and the component `zed-runner-<host>`. */
export function declareHosts(placement: HostsPlacement, workload: Workload, { secrets, context }: DeclareContext): DeclaredStack {
    const runners = placement.hosts.map((host) => {
        // Every listed host has a connection; without one, the default provider (as the local placement).
        const provider = host.connection ? new docker.Provider(`docker-${host.name}`, providerArgs(host.connection)) : undefined;
        return declareOnHost(`zed-runner-${host.name}`, host, workload, secrets.apiToken, context, provider);
    });
    const hosts: Record<string, HostOutputs> = {};
    placement.hosts.forEach((host, i) => {
        hosts[host.name] = hostOutputs(host, runners[i]);
    });
    return {
        runnerIds: runners.flatMap((r) => r.runnerIds),
        containerNames: runners.flatMap((r) => r.containerNames),
        endpoints: runners.flatMap((r) => r.endpoints),
        // Each host builds or pulls its own: see hosts.<name>.image.
        image: undefined,
        hosts,
        service: undefined,
        credentials: concatCredentials(runners.map((r) => r.credentials)),
    };
}
