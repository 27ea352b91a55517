// A stack's runners on the real engine, exactly as index.ts declares them: the
// program runs under Pulumi's mocks with the stack's config, the image is built
// from the declared Dockerfile, build args and the files it reads, and each
// container is created from the declared inputs (engineSpec maps every one).
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type Docker from "dockerode";
import { CONTAINER_PIDS_LIMIT_TYPE, pidsLimitProvider } from "../../components/runner/containerPidsLimit";
import { IMAGE_BUILD_INPUTS } from "../../contract";
import { Registration, unwrapSecret } from "./mocks";
import { runProgram } from "./program";
import { buildImage, docker, filesUnder } from "./docker";
import { containerSpec } from "./engineSpec";

export interface DeployedStack {
    readonly stack: string;
    /** The declared containers, in runner order. */
    readonly declared: Registration[];
    readonly image: Registration;
    readonly imageId: string;
    /** Container name -> the engine's container. */
    readonly running: Map<string, Docker.Container>;
}

/**
 * The address containers reach this machine at through `host-gateway`: the default
 * bridge's. Read with `ip`, since Node lists no address for a bridge with no carrier.
 */
export function dockerBridgeAddress(): string {
    const out = execFileSync("ip", ["-4", "-o", "addr", "show", "dev", "docker0"], { encoding: "utf8" });
    const match = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
    if (!match) throw new Error("no IPv4 address on docker0: is dockerd running with its default bridge?");
    return match[1];
}

/** The files of the build context Dockerfile.zed-agent reads, for a build with `zedBuildDir`. */
export function imageBuildFiles(context: string, zedBuildDir: string): string[] {
    return [
        ...IMAGE_BUILD_INPUTS.flatMap((input) => (path.extname(input) ? [input] : filesUnder(context, input))),
        ...filesUnder(context, zedBuildDir),
    ];
}

const built = new Map<string, string>();

/** Builds the declared image once per set of build args. */
export async function buildDeclaredImage(image: Pick<Registration, "inputs">): Promise<string> {
    const build = image.inputs.build;
    const key = JSON.stringify(build.args);
    if (!built.has(key)) {
        built.set(
            key,
            await buildImage(build.context, imageBuildFiles(build.context, build.args.ZED_BUILD_DIR), {
                tag: image.inputs.imageName,
                dockerfile: path.relative(build.context, build.dockerfile),
                buildargs: build.args,
            }),
        );
    }
    return built.get(key)!;
}

/** Runs the program with `config` for `stack` and starts what it declares (remove the stack's leftovers first). */
export async function deployStack(config: Record<string, string>, stack: string, existingNetworks: string[] = []): Promise<DeployedStack> {
    const { engine, error } = await runProgram(config, stack, existingNetworks);
    if (error) throw error;
    const declared = engine.ofType("docker:index/container:Container");
    const [image] = engine.ofType("docker:index/image:Image");
    const [network] = engine.ofType("docker:index/network:Network");
    const imageId = await buildDeclaredImage(image);
    await docker.createNetwork({
        Name: network.inputs.name,
        Driver: network.inputs.driver,
        Labels: Object.fromEntries(network.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
    });
    const created = await createDeclaredContainers(
        declared.map((c) => c.inputs),
        imageId,
    );
    const running = new Map(declared.map((c, i) => [c.inputs.name as string, created[i]]));
    await Promise.all(created.map((c) => c.start()));
    // What @pulumi/docker cannot declare (the PIDs limit), set by the program's own provider on the real containers.
    for (const limit of engine.ofType(CONTAINER_PIDS_LIMIT_TYPE)) {
        const container = running.get(limit.inputs.containerName);
        if (!container) throw new Error(`a PIDs limit for ${limit.inputs.containerName}, which is not declared`);
        await pidsLimitProvider.create({ ...limit.inputs, containerId: container.id });
    }
    return { stack, declared, image, imageId, running };
}

/** Creates (does not start) containers from declared `docker.Container` inputs, joined to their extra networks. */
export async function createDeclaredContainers(
    inputs: readonly Record<string, any>[],
    imageId: string,
    client: Docker = docker,
): Promise<Docker.Container[]> {
    const created: Docker.Container[] = [];
    for (const container of inputs) {
        const spec = containerSpec(container, imageId);
        const made = await client.createContainer(spec.create);
        for (const name of spec.joinedNetworks) await client.getNetwork(name).connect({ Container: made.id });
        created.push(made);
    }
    return created;
}

/** A declared container's environment, secrets unwrapped. */
export function envOf(container: Registration): Record<string, string> {
    const env = unwrapSecret<string[]>(container.inputs.envs);
    return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** The host port a declared container publishes `internal` on. */
export function hostPort(container: Registration, internal: number): number {
    return container.inputs.ports.find((p: { internal: number }) => p.internal === internal).external as number;
}

export const healthOf = async (c: Docker.Container) => (await c.inspect()).State.Health?.Status;
