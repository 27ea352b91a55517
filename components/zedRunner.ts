// The ZedRunner component: the runner image, a network, and one container (with
// its own generated RDP and VNC passwords) per runner in the plan. All values
// come from the pure plan; this module only turns them into Docker resources.
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RunnerSettings } from "./config";
import { ContainerPidsLimit } from "./containerPidsLimit";
import { PROJECT_ROOT } from "./paths";
import type { EngineConnection } from "./pidsLimitCommand";
import { HEALTHCHECK, STOP_GRACE_SECONDS } from "../contract";
import { LABELS, LOG_OPTIONS, PlanContext, RunnerEndpoints, RunnerSpec, WAIT_TIMEOUT_SECONDS, planRunners, runnerHardening } from "./plan";

export { PROJECT_ROOT };

export interface ZedRunnerArgs {
    /** Validated settings, from `parseConfig`. */
    readonly settings: RunnerSettings;
    /** The runner token shared with the control plane. Wrapped as a secret whatever is passed. */
    readonly apiToken: pulumi.Input<string>;
    /** Project and stack written into labels. Defaults to the current project and stack. */
    readonly context?: PlanContext;
    /** Build context for Dockerfile.zed-agent. Defaults to the repository root. */
    readonly buildContext?: string;
    /** The runner plan for these settings, when the caller planned already. Defaults to `planRunners(settings, context)`. */
    readonly runners?: readonly RunnerSpec[];
    /**
     * The engine the runners run on, as their `docker.Provider` was given it: the PIDs limit is set
     * there with the engine's own command, which the provider cannot declare. Defaults to the
     * `docker:host` config, or the local engine.
     */
    readonly connection?: EngineConnection;
}

/** One runner's generated credentials. */
export interface RunnerCredentials {
    readonly runnerId: string;
    /** Initial password of user `zed` over RDP; the control plane rotates it per session. */
    readonly rdpPassword: string;
    /** VNC password (VNC authentication uses at most 8 characters). */
    readonly vncPassword: string;
}

/**
 * Helix external Zed agent runners on one Docker host: the runner image (built
 * from Dockerfile.zed-agent or pulled), a bridge network, and one container per
 * runner with a unique runner ID, its own port range, generated RDP and VNC
 * passwords, a health check and a restart policy. Pass a `docker.Provider`
 * in the resource options to target a remote host.
 */
export class ZedRunner extends pulumi.ComponentResource {
    /** The runner plan this component was built from. */
    public readonly runners: readonly RunnerSpec[];
    public readonly runnerIds: string[];
    public readonly containerNames: string[];
    public readonly endpoints: RunnerEndpoints[];
    /** The image every runner runs: the built image's ID, or the pulled reference's ID. */
    public readonly image: pulumi.Output<string>;
    /** Per-runner passwords; a secret. */
    public readonly credentials: pulumi.Output<RunnerCredentials[]>;
    public readonly network: docker.Network;
    public readonly containers: docker.Container[];
    /** Each container's PIDs limit, in runner order; empty when pidsLimit is 0. */
    public readonly pidsLimits: ContainerPidsLimit[];

    constructor(name: string, args: ZedRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zed-runner:index:ZedRunner", name, {}, opts);
        const { settings } = args;
        const context = args.context ?? { project: pulumi.getProject(), stackName: pulumi.getStack() };
        this.runners = args.runners ?? planRunners(settings, context);
        this.runnerIds = this.runners.map((r) => r.runnerId);
        this.containerNames = this.runners.map((r) => r.containerName);
        this.endpoints = this.runners.map((r) => r.endpoints);
        const apiToken = pulumi.secret(args.apiToken);

        this.image = declareRunnerImage(name, settings, context, args.buildContext ?? PROJECT_ROOT, this);

        this.network = new docker.Network(
            `${name}-network`,
            {
                name: `${settings.containerNamePrefix}-net`,
                driver: "bridge",
                labels: toLabels({ [LABELS.project]: context.project, [LABELS.stack]: context.stackName }),
            },
            { parent: this },
        );
        const joinedNetworks = settings.networks.map((networkName) => pulumi.output(lookUpNetwork(networkName, { parent: this })));

        const hardening = runnerHardening(settings);
        const connection = args.connection ?? localEngine();

        const credentials: pulumi.Output<RunnerCredentials>[] = [];
        this.containers = this.runners.map((runner) => {
            // Logical names use the runner's index only: changing any setting never changes a runner's identity.
            const prefix = `${name}-runner-${runner.index}`;
            const rdpPassword = new random.RandomPassword(`${prefix}-rdp-password`, { length: 24, special: false }, { parent: this });
            // VNC authentication reads only the first 8 characters of a password.
            const vncPassword = new random.RandomPassword(`${prefix}-vnc-password`, { length: 8, special: false }, { parent: this });
            const rdp = pulumi.secret(rdpPassword.result);
            const vnc = pulumi.secret(vncPassword.result);
            credentials.push(pulumi.all([rdp, vnc]).apply(([r, v]) => ({ runnerId: runner.runnerId, rdpPassword: r, vncPassword: v })));

            const volume = runner.workspaceVolume
                ? new docker.Volume(
                      `${prefix}-workspace`,
                      { name: runner.workspaceVolume, labels: toLabels(runner.labels) },
                      { parent: this },
                  )
                : undefined;

            return new docker.Container(
                prefix,
                {
                    name: runner.containerName,
                    image: this.image,
                    restart: settings.restartPolicy,
                    envs: containerEnv(runner, apiToken, rdp, vnc),
                    ports: runner.ports.map(({ internal, external, ip, protocol }) => ({ internal, external, ip, protocol })),
                    // Lets a control plane on this machine be reached as host.docker.internal, as on Docker Desktop.
                    hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
                    networksAdvanced: [
                        { name: this.network.name, aliases: [runner.containerName] },
                        ...joinedNetworks.map((networkName) => ({ name: networkName })),
                    ],
                    healthcheck: { ...HEALTHCHECK, tests: [...HEALTHCHECK.tests] },
                    wait: true,
                    waitTimeout: WAIT_TIMEOUT_SECONDS,
                    stopSignal: "SIGTERM",
                    stopTimeout: STOP_GRACE_SECONDS,
                    destroyGraceSeconds: STOP_GRACE_SECONDS,
                    logDriver: "json-file",
                    logOpts: { ...LOG_OPTIONS },
                    memory: settings.memoryMb,
                    shmSize: settings.shmSizeMb,
                    cpus: settings.cpus === undefined ? undefined : String(settings.cpus),
                    labels: toLabels(runner.labels),
                    volumes: volume ? [{ volumeName: volume.name, containerPath: settings.workspaceDir }] : undefined,
                    readOnly: hardening.readOnlyRootFilesystem,
                    securityOpts: [...hardening.securityOpts],
                    cpuShares: hardening.cpuShares,
                    tmpfs: Object.keys(hardening.tmpfs).length > 0 ? { ...hardening.tmpfs } : undefined,
                    // Anonymous volumes (no source): on disk, removed with the container, like the writable layer they replace.
                    mounts:
                        hardening.scratchVolumes.length > 0
                            ? hardening.scratchVolumes.map((target) => ({ type: "volume", target }))
                            : undefined,
                },
                {
                    parent: this,
                    // Fixed container names and host ports: the old runner must go before its replacement starts.
                    deleteBeforeReplace: true,
                    // The provider ignores health check edits in place (terraform-provider-docker #988).
                    replaceOnChanges: ["healthcheck"],
                    // The environment carries the token and passwords: keep the provider's copy secret too.
                    additionalSecretOutputs: ["envs"],
                },
            );
        });
        this.credentials = pulumi.secret(pulumi.all(credentials));
        const pidsLimit = hardening.pidsLimit;
        this.pidsLimits =
            pidsLimit === undefined
                ? []
                : this.containers.map(
                      (container, i) =>
                          new ContainerPidsLimit(
                              `${name}-runner-${this.runners[i].index}-pids-limit`,
                              { containerId: container.id, containerName: this.runners[i].containerName, pidsLimit, connection },
                              { parent: this, dependsOn: [container] },
                          ),
                  );

        this.registerOutputs({
            runnerIds: this.runnerIds,
            containerNames: this.containerNames,
            endpoints: this.endpoints,
            image: this.image,
            credentials: this.credentials,
        });
    }
}

/** The engine Pulumi's default Docker provider uses: the `docker:host` config, else the local one (DOCKER_HOST). */
function localEngine(): EngineConnection | undefined {
    const config = new pulumi.Config("docker");
    const host = config.get("host");
    return host ? { host, certPath: config.get("certPath"), sshOpts: config.getObject<string[]>("sshOpts") } : undefined;
}

/** Where a built image is pushed, and the account that may push it. */
export interface ImagePush {
    /** `<registry>/helix-zed-agent:<stack>`. */
    readonly imageName: string;
    readonly server: string;
    readonly username?: string;
    readonly password?: pulumi.Input<string>;
}

/**
 * The runner image, built from Dockerfile.zed-agent (and pushed when `push` is given),
 * or `settings.image` pulled. Returns what containers and services run: for a build,
 * its digest, since the image name stays the same across rebuilds and only the
 * digest makes runners follow a rebuild.
 */
export function declareRunnerImage(
    name: string,
    settings: RunnerSettings,
    context: PlanContext,
    buildContext: string,
    parent: pulumi.Resource,
    push?: ImagePush,
): pulumi.Output<string> {
    if (settings.image) {
        const remote = new docker.RemoteImage(
            `${name}-image`,
            // keepLocally: a destroy must not delete an image other stacks or people may use.
            { name: settings.image, keepLocally: true },
            { parent },
        );
        return remote.imageId;
    }
    const built = new docker.Image(
        `${name}-image`,
        {
            imageName: push?.imageName ?? `helix-zed-agent:${context.stackName}`,
            skipPush: push === undefined,
            registry: push ? { server: push.server, username: push.username, password: push.password } : undefined,
            build: {
                context: buildContext,
                dockerfile: path.join(buildContext, "Dockerfile.zed-agent"),
                args: {
                    BASE_IMAGE: settings.baseImage,
                    ZED_BUILD_DIR: settings.zedBuildDir,
                },
            },
        },
        { parent },
    );
    return built.repoDigest;
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

/** The container's environment: the plan's plain values plus the token and passwords, all one secret. */
function containerEnv(
    runner: RunnerSpec,
    apiToken: pulumi.Output<string>,
    rdpPassword: pulumi.Output<string>,
    vncPassword: pulumi.Output<string>,
): pulumi.Output<string[]> {
    const plain = Object.entries(runner.env).map(([key, value]) => `${key}=${value}`);
    return pulumi.secret(
        pulumi
            .all([apiToken, rdpPassword, vncPassword])
            .apply(([token, rdp, vnc]) => [...plain, `API_TOKEN=${token}`, `RDP_PASSWORD=${rdp}`, `VNC_PASSWORD=${vnc}`]),
    );
}

export function toLabels(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
