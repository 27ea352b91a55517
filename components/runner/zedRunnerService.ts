// The ZedRunnerService component: runners as one Docker Swarm service. The
// image (built and pushed to the stack's registry, or a prebuilt reference), the
// token and a desktop-password seed as Swarm secrets mounted as root-only files,
// and a replicated service whose task in slot N is runner <prefix>-N. Every value
// comes from the pure swarm plan; this module only turns it into resources.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HEALTHCHECK, STOP_GRACE_SECONDS } from "../../contract";
import { LOG_OPTIONS, toLabels } from "../labels";
import type { RunnerCredentials } from "../outputs";
import { PROJECT_ROOT } from "../paths";
import { RunnerComponentArgs, stackIdentity } from "./componentArgs";
import { derivedCredentials, passwordSeed } from "./credentials";
import { declareRunnerImage } from "./image";
import { runnerHardening } from "./plan";
import { type PlannedSwarm, type SwarmServicePlan, imageRegistryServer, pushedImageName, tmpfsMode } from "./swarmPlan";

export interface ZedRunnerServiceArgs extends RunnerComponentArgs {
    /** The swarm, its settings and the service's plan, as `parseConfig` planned them. */
    readonly swarm: PlannedSwarm;
    /** The registry account's password, with `swarm.target.registryUsername`. Treated as a secret whatever is passed. */
    readonly registryPassword?: pulumi.Input<string>;
}

/** Swarm durations as the engine reads them back, so a preview shows no diff. */
const seconds = (n: number) => `${n}s`;

/**
 * Helix external Zed agent runners as a Docker Swarm service: Swarm places them on
 * its nodes, restarts them (also when their health check fails, unlike plain
 * containers), moves them off a lost node under the same runner IDs, and replaces
 * them one at a time on an update, each given the stop grace to finish its session.
 * Pass a `docker.Provider` for the swarm's manager in the resource options.
 */
export class ZedRunnerService extends pulumi.ComponentResource {
    public readonly plan: SwarmServicePlan;
    public readonly runnerIds: string[];
    public readonly serviceName: string;
    /** The image reference every task runs; a digest when the stack built it. */
    public readonly image: pulumi.Output<string>;
    /** Per-runner initial passwords, derived from the seed as each runner derives its own; a secret. */
    public readonly credentials: pulumi.Output<RunnerCredentials[]>;
    public readonly service: docker.Service;
    public readonly tokenSecret: docker.Secret;
    public readonly passwordSeedSecret: docker.Secret;

    constructor(name: string, args: ZedRunnerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zed-runner:index:ZedRunnerService", name, {}, opts);
        const { target, plan } = args.swarm;
        const { settings } = target;
        const context = stackIdentity(args.stack);
        this.plan = plan;
        this.runnerIds = plan.runners.map((r) => r.runnerId);
        this.serviceName = plan.serviceName;
        const labels = toLabels(plan.labels);
        const registryPassword = args.registryPassword === undefined ? undefined : pulumi.secret(args.registryPassword);

        const imageName = target.registry ? pushedImageName(target.registry, context.stackName) : settings.image!;
        const server = imageRegistryServer(imageName);
        this.image = target.registry
            ? declareRunnerImage(name, settings, context, args.buildContext ?? PROJECT_ROOT, this, {
                  imageName,
                  server,
                  username: target.registryUsername,
                  password: registryPassword,
              })
            : pulumi.output(imageName);

        // Swarm secrets cannot change: a new token is a new secret (Pulumi names it afresh and
        // deletes the old one last), and the service's new secret reference rolls its tasks.
        this.tokenSecret = new docker.Secret(
            `${name}-api-token`,
            { data: pulumi.secret(args.apiToken).apply(base64), labels },
            { parent: this },
        );
        const seed = passwordSeed(name, this);
        this.passwordSeedSecret = new docker.Secret(`${name}-password-seed`, { data: seed.apply(base64), labels }, { parent: this });
        this.credentials = derivedCredentials(seed, this.runnerIds);

        // Swarm's container spec (in @pulumi/docker 5.2) takes a read-only root file system and mounts, but has no
        // security options (no-new-privileges), no PIDs limit and no CPU shares: those apply to plain containers only.
        const hardening = runnerHardening(settings);
        const networks = settings.networks.map((networkName) => pulumi.output(lookUpSwarmNetwork(networkName, { parent: this })));
        // Root-only files: the agent (root) reads them; Zed, run as the desktop user, cannot.
        const secretFile = (secret: docker.Secret, fileName: string) => ({
            secretId: secret.id,
            secretName: secret.name,
            fileName,
            fileUid: "0",
            fileGid: "0",
            fileMode: 0o400,
        });

        this.service = new docker.Service(
            name,
            {
                name: plan.serviceName,
                labels,
                mode: { replicated: { replicas: plan.replicas } },
                taskSpec: {
                    containerSpec: {
                        image: this.image,
                        env: { ...plan.env },
                        secrets: [
                            secretFile(this.tokenSecret, plan.secretFiles.apiToken),
                            secretFile(this.passwordSeedSecret, plan.secretFiles.passwordSeed),
                        ],
                        labels,
                        healthcheck: { ...HEALTHCHECK, tests: [...HEALTHCHECK.tests] },
                        stopSignal: "SIGTERM",
                        stopGracePeriod: seconds(STOP_GRACE_SECONDS),
                        // As on plain containers: a control plane on the node's own machine as host.docker.internal.
                        hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
                        readOnly: hardening.readOnlyRootFilesystem,
                        mounts: [
                            { type: "tmpfs", target: "/dev/shm", tmpfsOptions: { sizeBytes: settings.shmSizeMb * 1024 * 1024 } },
                            ...Object.entries(hardening.tmpfs).map(([target, options]) => ({
                                type: "tmpfs",
                                target,
                                tmpfsOptions: { mode: tmpfsMode(options) },
                            })),
                            // Anonymous volumes: a task's own, on its node, removed with it.
                            ...hardening.scratchVolumes.map((target) => ({ type: "volume", target })),
                            ...(plan.workspaceVolume
                                ? [{ type: "volume", source: plan.workspaceVolume, target: settings.workspaceDir }]
                                : []),
                        ],
                    },
                    resources: {
                        limits: {
                            memoryBytes: settings.memoryMb * 1024 * 1024,
                            nanoCpus: settings.cpus === undefined ? undefined : Math.round(settings.cpus * 1e9),
                        },
                    },
                    restartPolicy: { condition: plan.restartCondition, delay: "5s", maxAttempts: 0 },
                    logDriver: { name: "json-file", options: { ...LOG_OPTIONS } },
                    placement: {
                        constraints: plan.placement.constraints.length > 0 ? [...plan.placement.constraints] : undefined,
                        maxReplicas: plan.placement.maxReplicasPerNode || undefined,
                        prefs: plan.placement.spread ? [`spread=${plan.placement.spread}`] : undefined,
                    },
                    networksAdvanceds: networks.length > 0 ? networks.map((id) => ({ id })) : undefined,
                },
                // One runner at a time, the old one stopped first: it gets the stop grace to finish
                // its session, and the replacement comes up under the same slot and runner ID.
                updateConfig: { parallelism: 1, order: "stop-first", failureAction: "rollback", monitor: "10s", delay: "0s" },
                rollbackConfig: { parallelism: 1, order: "stop-first", monitor: "10s", delay: "0s" },
                endpointSpec:
                    plan.ports.length > 0
                        ? {
                              ports: plan.ports.map((p) => ({
                                  targetPort: p.target,
                                  publishedPort: p.published,
                                  publishMode: "host",
                                  protocol: "tcp",
                              })),
                          }
                        : undefined,
                // `pulumi up` waits until every task runs (and so has passed its health check).
                convergeConfig: { delay: "2s", timeout: seconds(plan.convergeTimeoutSeconds) },
                auth:
                    target.registryUsername && registryPassword
                        ? { serverAddress: server, username: target.registryUsername, password: registryPassword }
                        : undefined,
            },
            {
                parent: this,
                // A fixed service name: the old service must go before a replacement is created.
                deleteBeforeReplace: true,
                // The registry password travels in `auth`: keep the provider's copy secret too.
                additionalSecretOutputs: ["auth"],
            },
        );

        this.registerOutputs({
            runnerIds: this.runnerIds,
            serviceName: this.serviceName,
            image: this.image,
            credentials: this.credentials,
        });
    }
}

function base64(value: string): string {
    return Buffer.from(value, "utf8").toString("base64");
}

/**
 * The ID of an existing swarm-scoped network, looked up through the provider: a
 * missing one, or a node-local bridge a service cannot join, fails with its name.
 */
export function lookUpSwarmNetwork(networkName: string, opts: pulumi.InvokeOptions): Promise<string> {
    return docker.getNetwork({ name: networkName }, opts).then(
        (n) => {
            if (n.scope !== "swarm") {
                throw new Error(
                    `networks: the Docker network "${networkName}" is ${n.scope ?? "local"}-scoped; a swarm service joins only swarm networks ` +
                        "(docker network create --driver overlay --attachable ...)",
                );
            }
            return n.id;
        },
        (err: unknown) => {
            const detail = (err as { details?: string; message?: string } | undefined)?.details || (err as Error | undefined)?.message;
            throw new Error(
                `networks: the Docker network "${networkName}" does not exist on this swarm${detail ? ` (${detail})` : ""}; create it, then run again`,
            );
        },
    );
}
