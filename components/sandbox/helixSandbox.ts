// The HelixSandbox component: Helix's own `helix-sandbox` image (Helix 2.5.42 and later) on one
// Docker host, N per host, run as Helix's installer runs it. Per sandbox in the plan: a pull of
// the pinned image, three named volumes of its own and one privileged container. All values come
// from the pure sandbox plan (sandboxPlan.ts); this module only turns them into Docker resources.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { toLabels } from "../labels";
import { lookUpNetwork } from "../placements/dockerHost";
import { type SandboxHost, type SandboxSpec, sandboxImageReference } from "./plan";

export interface HelixSandboxArgs {
    /** The host, its sandbox settings and its sandboxes, as `parseConfig` planned them. */
    readonly host: SandboxHost;
    /**
     * The control plane's runner token, which the sandbox reads only from its environment
     * (RUNNER_TOKEN). Treated as a secret whatever is passed.
     */
    readonly apiToken: pulumi.Input<string>;
}

/**
 * Helix sandboxes on one Docker host: per sandbox, a pull of the image pinned to the control
 * plane's release, its own volumes for the inner dockerd, workspaces and Hydra's state, and a
 * privileged container with its own SANDBOX_INSTANCE_ID. Resource names come from the component's
 * name and the sandbox's index, so scaling from N to N+1 adds sandbox N+1's resources and touches
 * no other. Pass a `docker.Provider` in the resource options to target a remote host.
 */
export class HelixSandbox extends pulumi.ComponentResource {
    /** The sandbox plan this component was built from. */
    public readonly sandboxes: readonly SandboxSpec[];
    /** Each sandbox's SANDBOX_INSTANCE_ID (at the control plane, RevDial registers it as `hydra-<ID>`). */
    public readonly instanceIds: string[];
    public readonly containerNames: string[];
    /** The pinned image reference every sandbox on this host runs. */
    public readonly image: pulumi.Output<string>;
    public readonly images: docker.RemoteImage[];
    /** Per sandbox, its volumes in the plan's order (docker, data, hydra). */
    public readonly volumes: docker.Volume[][];
    public readonly containers: docker.Container[];

    constructor(name: string, args: HelixSandboxArgs, opts?: pulumi.ComponentResourceOptions) {
        super("zed-runner:index:HelixSandbox", name, {}, opts);
        const { settings } = args.host;
        this.sandboxes = args.host.sandboxes;
        this.instanceIds = this.sandboxes.map((s) => s.instanceId);
        this.containerNames = this.sandboxes.map((s) => s.containerName);
        this.image = pulumi.output(sandboxImageReference(settings));
        const apiToken = pulumi.secret(args.apiToken);
        const joinedNetworks = settings.networks.map((networkName) => pulumi.output(lookUpNetwork(networkName, { parent: this })));

        this.images = [];
        this.volumes = [];
        this.containers = this.sandboxes.map((spec) => {
            // Logical names use the sandbox's index only: changing any setting never changes a sandbox's identity.
            const prefix = `${name}-sandbox-${spec.index}`;
            // One pull per sandbox, so scaling in or out adds or removes only that sandbox's resources;
            // kept locally, so removing one never deletes the image the others run.
            const image = new docker.RemoteImage(`${prefix}-image`, { name: spec.image, keepLocally: true }, { parent: this });
            this.images.push(image);
            const volumes = spec.volumes.map(
                (volume) =>
                    new docker.Volume(
                        `${prefix}-${volume.role}`,
                        { name: volume.name, labels: toLabels(spec.labels) },
                        // The inner dockerd's images are 50-100 GB: kept on scale-in and destroy unless keepVolumes is false.
                        { parent: this, retainOnDelete: spec.keepVolumes },
                    ),
            );
            this.volumes.push(volumes);

            return new docker.Container(
                prefix,
                {
                    name: spec.containerName,
                    // By digest rather than image ID: pinned all the same, and the reference still names
                    // Helix's sandbox repository, which is how the policy pack tells a sandbox (the one
                    // container it lets run privileged) from anything else.
                    image: image.repoDigest,
                    // Its own dockerd, cgroup delegation and privileged desktops need it: Helix runs it no other way.
                    privileged: true,
                    devices: spec.devices.map((hostPath) => ({ hostPath, containerPath: hostPath, permissions: "rwm" })),
                    deviceCgroupRules: [...spec.deviceCgroupRules],
                    gpus: spec.gpus,
                    runtime: spec.runtime,
                    envs: sandboxEnv(spec, apiToken),
                    volumes: volumes.map((volume, i) => ({ volumeName: volume.name, containerPath: spec.volumes[i].containerPath })),
                    restart: spec.restartPolicy,
                    hosts: spec.extraHosts.map(({ host, ip }) => ({ host, ip })),
                    networksAdvanced:
                        joinedNetworks.length > 0
                            ? joinedNetworks.map((networkName) => ({ name: networkName, aliases: [spec.containerName] }))
                            : undefined,
                    healthcheck: { ...spec.healthcheck, tests: [...spec.healthcheck.tests] },
                    wait: true,
                    waitTimeout: spec.waitTimeoutSeconds,
                    logDriver: "json-file",
                    logOpts: { ...spec.logOptions },
                    memory: spec.memoryMb,
                    cpus: spec.cpus === undefined ? undefined : String(spec.cpus),
                    labels: toLabels(spec.labels),
                },
                {
                    parent: this,
                    // A fixed container name: the old sandbox must go before its replacement starts.
                    deleteBeforeReplace: true,
                    // The provider ignores health check edits in place (terraform-provider-docker #988).
                    replaceOnChanges: ["healthcheck"],
                    // The environment carries the token: keep the provider's copy secret too.
                    additionalSecretOutputs: ["envs"],
                },
            );
        });

        this.registerOutputs({
            instanceIds: this.instanceIds,
            containerNames: this.containerNames,
            image: this.image,
        });
    }
}

/** The container's environment: the plan's plain values plus the token, all one secret. */
function sandboxEnv(spec: SandboxSpec, apiToken: pulumi.Output<string>): pulumi.Output<string[]> {
    const plain = Object.entries(spec.env).map(([key, value]) => `${key}=${value}`);
    return pulumi.secret(apiToken.apply((token) => [...plain, `${spec.tokenEnv}=${token}`]));
}
