// Declares runners on every host of the stack: one ZedRunner per host, and for a
// remote host an explicit Docker provider. Resource names come from host names,
// never from list positions, so reordering `hosts` changes nothing.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostTarget, SwarmTarget } from "./config";
import { HostPlan, PlanContext, RunnerEndpoints, planFleet } from "./plan";
import type { SwarmServicePlan } from "./swarmPlan";
import { RunnerCredentials, ZedRunner } from "./zedRunner";
import { ZedRunnerService } from "./zedRunnerService";

/** What one host runs, for stack outputs. */
export interface HostOutputs {
    /** The Docker engine address, or "local" for this machine's. */
    readonly dockerHost: string;
    readonly runnerIds: string[];
    readonly containerNames: string[];
    readonly endpoints: RunnerEndpoints[];
    readonly image: pulumi.Output<string>;
}

export interface DeclaredFleet {
    readonly runners: ZedRunner[];
    /** Per host name. */
    readonly hosts: Record<string, HostOutputs>;
    /** Every host's credentials, one secret. */
    readonly credentials: pulumi.Output<RunnerCredentials[]>;
}

/** Connection settings of a Docker engine, as a `docker.Provider` takes them. */
function providerArgs(connection: { host: string; certPath?: string; sshOpts?: readonly string[] }): docker.ProviderArgs {
    return { host: connection.host, certPath: connection.certPath, sshOpts: connection.sshOpts ? [...connection.sshOpts] : undefined };
}

/**
 * The runners as one swarm service, through a provider for the swarm's manager (`docker-swarm`),
 * or Pulumi's default provider when the manager is this machine's engine.
 */
export function declareSwarm(
    swarm: { readonly target: SwarmTarget; readonly plan: SwarmServicePlan },
    apiToken: pulumi.Input<string>,
    registryPassword: pulumi.Input<string> | undefined,
    context: PlanContext,
): ZedRunnerService {
    const connection = swarm.target.connection;
    const provider = connection ? new docker.Provider("docker-swarm", providerArgs(connection)) : undefined;
    return new ZedRunnerService(
        "zed-runner-swarm",
        {
            target: swarm.target,
            plan: swarm.plan,
            apiToken: pulumi.secret(apiToken),
            registryPassword: registryPassword === undefined ? undefined : pulumi.secret(registryPassword),
            context,
        },
        { provider },
    );
}

/**
 * One ZedRunner per host. The single implicit host (no `hosts` config) keeps the
 * name `zed-runner` and Pulumi's default provider; a listed host gets the
 * component `zed-runner-<host>` and the provider `docker-<host>`.
 */
export function declareFleet(
    hosts: readonly HostTarget[],
    apiToken: pulumi.Input<string>,
    context: PlanContext,
    /** The plan parseConfig made for these hosts; planned here when not given. */
    plans: readonly HostPlan[] = planFleet(hosts, context),
): DeclaredFleet {
    const token = pulumi.secret(apiToken);
    const runners = hosts.map((host, i) => {
        if (!host.connection) {
            return new ZedRunner("zed-runner", { settings: host.settings, apiToken: token, context, runners: plans[i].runners });
        }
        const provider = new docker.Provider(`docker-${host.name}`, providerArgs(host.connection));
        return new ZedRunner(
            `zed-runner-${host.name}`,
            { settings: host.settings, apiToken: token, context, runners: plans[i].runners, connection: host.connection },
            { provider },
        );
    });
    const grouped: Record<string, HostOutputs> = {};
    hosts.forEach((host, i) => {
        grouped[host.name] = {
            dockerHost: host.connection?.host ?? "local",
            runnerIds: runners[i].runnerIds,
            containerNames: runners[i].containerNames,
            endpoints: runners[i].endpoints,
            image: runners[i].image,
        };
    });
    const credentials = pulumi.secret(pulumi.all(runners.map((r) => r.credentials)).apply((lists) => lists.flat()));
    return { runners, hosts: grouped, credentials };
}
