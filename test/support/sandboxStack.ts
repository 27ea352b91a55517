// A sandbox stack's containers on the real engine, as index.ts declares them: the program runs
// under Pulumi's mocks with the stack's config, each declared volume is created from its inputs,
// and each declared container from its inputs through engineSpec, which maps every one. The image
// is the STAND-IN SANDBOX IMAGE (a test double, test/fixtures/standInSandbox/) in place of Helix's,
// and onThisMachine() changes what these machines refuse; nothing else differs from the declaration.
import * as fs from "node:fs";
import type Docker from "dockerode";
import type { Registration } from "./mocks";
import { runProgram } from "./program";
import * as path from "node:path";
import { buildImage, docker, filesUnder } from "./docker";
import { containerSpec } from "./engineSpec";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

/** A sandbox stack as the program declared it. */
export interface DeclaredSandboxes {
    /** The declared containers, in sandbox order. */
    readonly containers: Registration[];
    /** The declared volumes, in sandbox order (three per sandbox). */
    readonly volumes: Registration[];
    /** The declared image pulls, one per sandbox. */
    readonly images: Registration[];
}

/**
 * Runs the program with a sandbox stack's `config` and returns what it declared; throws what it
 * refused. `existingNetworks` are the Docker networks the program's lookups find.
 */
export async function declareSandboxes(
    config: Record<string, string>,
    stack: string,
    existingNetworks: string[] = [],
): Promise<DeclaredSandboxes> {
    const { engine, error } = await runProgram(config, stack, existingNetworks);
    if (error) throw error;
    return { containers: engine.ofType(CONTAINER), volumes: engine.ofType(VOLUME), images: engine.ofType(REMOTE_IMAGE) };
}

/**
 * What a nested engine needs in place of --privileged, which these machines refuse: the options
 * the test swarm's node containers run their own dockerd with (.ci/nestedEngine.sh NODE_RUN_FLAGS).
 */
export const NESTED_ENGINE_OPTIONS: Docker.HostConfig & { CgroupnsMode?: "host" | "private" } = {
    CapAdd: ["SYS_ADMIN", "NET_ADMIN", "MKNOD", "NET_RAW"],
    SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
    // In the Engine API (1.41 and later) but not in dockerode's typings.
    CgroupnsMode: "host",
    Binds: ["/sys/fs/cgroup:/sys/fs/cgroup:rw"],
    Tmpfs: { "/run": "" },
};

/** How onThisMachine replaces `privileged`: with what a nested engine needs, or with nothing (to see a sandbox fail without it). */
export type InPlaceOfPrivileged = "nested-engine" | "nothing";

/**
 * The one place the declared request is changed for these machines, each change because the
 * machine cannot do otherwise:
 *   - `privileged` (refused here) becomes NESTED_ENGINE_OPTIONS, or nothing;
 *   - host devices the machine lacks (/dev/uinput, /dev/uhid: the test machines have neither)
 *     are left out; the device cgroup rules stay, as they name device classes, not devices;
 *   - a GPU request fails the test: these machines have no GPU (deploy with gpuVendor none);
 *   - `standInEnv`, the stand-in's own test-only settings, is added to the environment.
 */
function onThisMachine(
    create: Docker.ContainerCreateOptions,
    inPlaceOfPrivileged: InPlaceOfPrivileged,
    standInEnv: Record<string, string>,
): Docker.ContainerCreateOptions {
    const host = create.HostConfig ?? {};
    if (host.Privileged !== true) throw new Error(`${create.name} is not declared privileged: is it a sandbox?`);
    if (host.DeviceRequests !== undefined || host.Runtime !== undefined)
        throw new Error(`${create.name} asks for a GPU, which these machines lack: deploy it with gpuVendor none`);
    const { Privileged: _privileged, ...rest } = host;
    return {
        ...create,
        Env: [...(create.Env ?? []), ...Object.entries(standInEnv).map(([k, v]) => `${k}=${v}`)],
        HostConfig: {
            ...rest,
            ...(inPlaceOfPrivileged === "nested-engine" ? NESTED_ENGINE_OPTIONS : {}),
            Devices: (host.Devices ?? []).filter((d: { PathOnHost: string }) => fs.existsSync(d.PathOnHost)),
        },
    };
}

/**
 * Creates declared sandbox `index`'s (1-based) volumes and container on the engine from the
 * declared inputs, running `imageId` (the stand-in) in place of Helix's image, and starts it.
 */
export async function startDeclaredSandbox(
    declared: DeclaredSandboxes,
    index: number,
    imageId: string,
    options: { inPlaceOfPrivileged: InPlaceOfPrivileged; standInEnv: Record<string, string> },
): Promise<Docker.Container> {
    const container = declared.containers[index - 1];
    const volumeNames = (container.inputs.volumes as { volumeName: string }[]).map((v) => v.volumeName);
    for (const name of volumeNames) {
        const volume = declared.volumes.find((v) => v.inputs.name === name);
        if (!volume) throw new Error(`${container.inputs.name} mounts ${name}, which the program does not declare`);
        await docker.createVolume({
            Name: volume.inputs.name,
            Labels: Object.fromEntries(volume.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
        });
    }
    const spec = containerSpec(container.inputs, imageId);
    if (spec.joinedNetworks.length > 0) throw new Error("the sandbox e2e joins no extra network");
    const created = await docker.createContainer(onThisMachine(spec.create, options.inPlaceOfPrivileged, options.standInEnv));
    await created.start();
    return created;
}

const ROOT = path.resolve(__dirname, "../..");
const STAND_IN_DIR = "test/fixtures/standInSandbox";

/**
 * Builds the STAND-IN SANDBOX image (test/fixtures/standInSandbox/) as `tag` and returns its ID:
 * its sources, the contract, and typescript and ws from the project's own `npm ci`.
 */
export async function buildStandInSandboxImage(tag: string, baseImage: string): Promise<string> {
    const files = [
        ...filesUnder(ROOT, STAND_IN_DIR),
        ...filesUnder(ROOT, "contract"),
        ...filesUnder(ROOT, "node_modules/typescript"),
        ...filesUnder(ROOT, "node_modules/ws"),
    ];
    return buildImage(ROOT, files, { tag, dockerfile: `${STAND_IN_DIR}/Dockerfile`, buildargs: { BASE_IMAGE: baseImage } });
}

/**
 * The sandbox stack the stand-in runs under, on this machine: the fake control plane on the Docker
 * bridge at `port`, the desktop registry as `registry:5000` on `network`, and gpuVendor intel, whose
 * /dev/dri these machines lack (onThisMachine leaves absent devices out): the sandboxes report
 * intel, so the control plane would place desktops on them.
 */
export function standInSandboxConfig(options: {
    port: number;
    token: string;
    network: string;
    helixVersion: string;
}): Record<string, string> {
    return {
        workload: "sandbox",
        apiToken: options.token,
        apiHost: `http://host.docker.internal:${options.port}`,
        helixVersion: options.helixVersion,
        gpuVendor: "intel",
        registryMirror: "registry:5000",
        networks: JSON.stringify([options.network]),
    };
}
