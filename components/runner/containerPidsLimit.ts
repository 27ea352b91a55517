// A runner container's PIDs limit, as a resource: @pulumi/docker has no `pidsLimit`
// on docker.Container, so this dynamic resource sets it on the engine once the
// container exists (`docker update --pids-limit`, which the engine keeps across
// restarts), again when the limit changes, and for every replacement container
// (the container's ID is an input that forces a replacement of this resource).
import { execFile } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { EngineConnection, NO_PIDS_LIMIT, isNoSuchContainer, pidsLimitCommand } from "./pidsLimitCommand";

/** The dynamic resource's inputs, as the provider receives them. */
interface PidsLimitInputs {
    readonly containerId: string;
    readonly containerName: string;
    readonly pidsLimit: number;
    readonly connection?: EngineConnection;
}

export interface ContainerPidsLimitArgs {
    /** The container to limit: its ID, so a replaced container gets the limit too. */
    readonly containerId: pulumi.Input<string>;
    /** Its name, for messages and for the policy pack to pair the limit with its container. */
    readonly containerName: pulumi.Input<string>;
    /** The most processes and threads the container may hold. */
    readonly pidsLimit: pulumi.Input<number>;
    /** The engine the container runs on, as its `docker.Provider` was given it. Defaults to the local engine. */
    readonly connection?: EngineConnection;
}

/** Runs the engine command with a minimal environment: what the Docker CLI and ssh read, never a secret. */
function runEngineCommand(connection: EngineConnection | undefined, container: string, limit: number): Promise<{ stderr: string }> {
    const { file, args } = pidsLimitCommand(connection, container, limit);
    const keep = [
        "PATH",
        "HOME",
        "SSH_AUTH_SOCK",
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "DOCKER_CERT_PATH",
        "DOCKER_TLS_VERIFY",
    ];
    const env = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k] as string]));
    return new Promise((resolve, reject) => {
        execFile(file, [...args], { env, timeout: 60_000 }, (err, _stdout, stderr) => {
            if (err)
                reject(Object.assign(new Error(`${file} ${args.join(" ")} failed: ${String(stderr).trim() || err.message}`), { stderr }));
            else resolve({ stderr: String(stderr) });
        });
    });
}

/** The dynamic provider; exported so the e2e applies a declared limit with the very code `pulumi up` runs. */
export const pidsLimitProvider: pulumi.dynamic.ResourceProvider & Required<Pick<pulumi.dynamic.ResourceProvider, "create">> = {
    async create(inputs: PidsLimitInputs) {
        await runEngineCommand(inputs.connection, inputs.containerId, inputs.pidsLimit);
        return { id: `${inputs.containerName}-pids-limit`, outs: inputs };
    },
    async diff(_id: string, olds: PidsLimitInputs, news: PidsLimitInputs) {
        const replaces = olds.containerId !== news.containerId ? ["containerId"] : [];
        const changes =
            replaces.length > 0 ||
            olds.pidsLimit !== news.pidsLimit ||
            JSON.stringify(olds.connection ?? null) !== JSON.stringify(news.connection ?? null);
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async update(_id: string, _olds: PidsLimitInputs, news: PidsLimitInputs) {
        await runEngineCommand(news.connection, news.containerId, news.pidsLimit);
        return { outs: news };
    },
    async delete(_id: string, props: PidsLimitInputs) {
        // The limit goes with the setting: a container that stays is left with none. One already gone needs nothing.
        try {
            await runEngineCommand(props.connection, props.containerId, NO_PIDS_LIMIT);
        } catch (err) {
            if (!isNoSuchContainer((err as { stderr?: string }).stderr ?? "")) throw err;
        }
    },
};

/** The dynamic resource's type, as the engine and the policy pack see it. */
export const CONTAINER_PIDS_LIMIT_TYPE = "pulumi-nodejs:dynamic/zed-runner:ContainerPidsLimit";

/** The PIDs limit of one runner container. */
export class ContainerPidsLimit extends pulumi.dynamic.Resource {
    public readonly pidsLimit!: pulumi.Output<number>;
    public readonly containerName!: pulumi.Output<string>;

    constructor(name: string, args: ContainerPidsLimitArgs, opts?: pulumi.CustomResourceOptions) {
        super(pidsLimitProvider, name, { ...args, connection: args.connection }, opts, "zed-runner", "ContainerPidsLimit");
    }
}
