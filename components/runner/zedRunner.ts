// The ZedRunner component: the runner image, a network, and one container (with
// its own generated RDP and VNC passwords) per runner in the plan. All values
// come from the pure plan; this module only turns them into Docker resources.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HEALTHCHECK, HEALTH_START_INTERVAL, STOP_GRACE_SECONDS } from "../../contract";
import { LABELS, LOG_OPTIONS, toLabels } from "../labels";
import type { RunnerCredentials, RunnerEndpoints } from "../outputs";
import { PROJECT_ROOT } from "../paths";
import { lookUpNetwork } from "../placements/dockerHost";
import { RunnerComponentArgs, stackIdentity } from "./componentArgs";
import { ContainerPidsLimit } from "./containerPidsLimit";
import { generateDesktopPasswords } from "./credentials";
import { declareRunnerImage } from "./image";
import type { EngineConnection } from "./pidsLimitCommand";
import { type PlannedHost, type RunnerSpec, WAIT_TIMEOUT_SECONDS, runnerHardening } from "./plan";

export interface ZedRunnerArgs extends RunnerComponentArgs {
    /**
     * The host, its settings and its runners, as `parseConfig` planned them. Its connection is
     * the engine the runners run on, as their `docker.Provider` was given it: the PIDs limit is
     * set there with the engine's own command, which the provider cannot declare. Without one,
     * the `docker:host` config, or the local engine.
     */
    readonly host: PlannedHost;
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
        const { settings } = args.host;
        const context = stackIdentity(args.stack);
        this.runners = args.host.runners;
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
        const connection = args.host.connection ?? defaultProviderConnection();

        const credentials: pulumi.Output<RunnerCredentials>[] = [];
        this.containers = this.runners.map((runner) => {
            // Logical names use the runner's index only: changing any setting never changes a runner's identity.
            const prefix = `${name}-runner-${runner.index}`;
            const { rdp, vnc } = generateDesktopPasswords(prefix, this);
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
                    healthcheck: {
                        ...HEALTHCHECK,
                        tests: [...HEALTHCHECK.tests],
                        // Left out unless asked for: an engine before Docker 25 fails the create with one set.
                        ...(settings.healthStartInterval ? { startInterval: HEALTH_START_INTERVAL } : {}),
                    },
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
function defaultProviderConnection(): EngineConnection | undefined {
    const config = new pulumi.Config("docker");
    const host = config.get("host");
    return host ? { host, certPath: config.get("certPath"), sshOpts: config.getObject<string[]>("sshOpts") } : undefined;
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
