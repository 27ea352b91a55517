// Reads what a host's engine says of itself, through the Engine API alone, so it works the same for
// this machine, ssh:// and tcp:// hosts: `docker info` (version, runtimes), and whether each
// device node exists (those its containers are given, or those that tell its GPU). The engine has no call for the latter: a probe container is created from an
// empty image with the device and started. Docker refuses a missing device before anything runs
// ("error gathering device information while adding custom device"); with the device there, the
// start fails only because the empty image has no program. Both are removed at once.
import { Readable } from "node:stream";
import type Docker from "dockerode";
import { describeError } from "../../contract";
import type { FreeSpace } from "./disk";
import { GPU_DETECTION_DEVICES, type GpuFacts } from "./gpuRules";
import type { EngineFacts, HostNeeds } from "./hostRules";

/** The probe's image, imported empty, and the label on everything the probe creates. */
const PROBE_IMAGE = "zed-runner-host-check:empty";
const PROBE_LABEL = "zed-runner.host-check";
/** A program the empty image does not have: starting it fails after the devices are set up. */
const NO_PROGRAM = "/zed-runner-host-check";

/** An empty tar archive: two 512-byte blocks of zeros. */
const EMPTY_TAR = Buffer.alloc(1024);

/**
 * What the engine says of itself, which of `needs.devices` the host has not, and, when new volumes
 * are planned, which exist already and the free disk under Docker's root (read by `freeSpace`).
 */
export async function probeEngine(docker: Docker, needs: HostNeeds, freeSpace?: FreeSpace): Promise<EngineFacts> {
    const info = await engineInfo(docker);
    const { missing, unchecked } = await probeDevices(docker, needs.devices);
    const facts = { serverVersion: info.serverVersion, runtimes: info.runtimes, missingDevices: missing, uncheckedDevices: unchecked };
    const volumes = needs.volumes ?? [];
    if (volumes.length === 0 || freeSpace === undefined || info.dockerRoot === undefined) return facts;
    // One request for all of them: over ssh each request in flight is a connection of its own.
    const names = new Set(((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name));
    return {
        ...facts,
        dockerRoot: info.dockerRoot,
        existingVolumes: volumes.map((v) => v.name).filter((name) => names.has(name)),
        freeBytes: await freeSpace(info.dockerRoot),
    };
}

/** What the engine shows of the host's GPUs: its runtimes, and which of the devices the detection asks about it has. */
export async function probeGpu(docker: Docker): Promise<GpuFacts> {
    const { runtimes } = await engineInfo(docker);
    const { missing, unchecked } = await probeDevices(docker, GPU_DETECTION_DEVICES);
    const told = (device: string) => !missing.includes(device) && !unchecked.some((u) => u.device === device);
    return { runtimes, presentDevices: GPU_DETECTION_DEVICES.filter(told), uncheckedDevices: unchecked };
}

async function engineInfo(docker: Docker): Promise<{ serverVersion: string; runtimes: string[]; dockerRoot: string | undefined }> {
    const info = (await docker.info()) as { ServerVersion?: string; Runtimes?: Record<string, unknown>; DockerRootDir?: string };
    return { serverVersion: info.ServerVersion ?? "unknown", runtimes: Object.keys(info.Runtimes ?? {}), dockerRoot: info.DockerRootDir };
}

/** Of `devices`, those the host has not, and those whose check failed for another reason (with it). */
async function probeDevices(
    docker: Docker,
    devices: readonly string[],
): Promise<{ missing: string[]; unchecked: { device: string; reason: string }[] }> {
    const missing: string[] = [];
    const unchecked: { device: string; reason: string }[] = [];
    if (devices.length === 0) return { missing, unchecked };
    await importEmptyImage(docker);
    try {
        for (const device of devices) {
            const found = await deviceOnHost(docker, device);
            if (found === true) continue;
            if (found === false) missing.push(device);
            else unchecked.push({ device, reason: found });
        }
    } finally {
        await docker
            .getImage(PROBE_IMAGE)
            .remove({ force: true })
            .catch(() => undefined);
    }
    return { missing, unchecked };
}

async function importEmptyImage(docker: Docker): Promise<void> {
    const [repo, tag] = PROBE_IMAGE.split(":");
    const stream = await docker.importImage(Readable.from([EMPTY_TAR]), { repo, tag, changes: [`LABEL ${PROBE_LABEL}=probe`] } as object);
    await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
}

/** Whether the host has `device`: true, false, or why it could not be told. */
async function deviceOnHost(docker: Docker, device: string): Promise<boolean | string> {
    const container = await docker.createContainer({
        Image: PROBE_IMAGE,
        Cmd: [NO_PROGRAM],
        Labels: { [PROBE_LABEL]: "probe" },
        HostConfig: { Devices: [{ PathOnHost: device, PathInContainer: device, CgroupPermissions: "r" }], NetworkMode: "none" },
    });
    try {
        await container.start();
        return "the probe container started, which an empty image cannot";
    } catch (err) {
        const message = describeError(err);
        if (message.includes(NO_PROGRAM)) return true;
        if (message.includes(device) && /no such file|not found|gathering device/i.test(message)) return false;
        return message;
    } finally {
        await container.remove({ force: true }).catch(() => undefined);
    }
}
