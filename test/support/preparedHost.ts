// TEST HARNESS: a sandbox host prepared as Helix's installer prepares one, on a machine that is
// not: a container running its own dockerd (the stand-in sandbox's runtime stage: Debian's
// docker.io), with the device nodes a sandbox is given made by mknod (/dev/uinput, /dev/uhid,
// a /dev/dri render node) and the NVIDIA driver's /dev/nvidiactl, and an `nvidia` runtime entry
// in its engine. The nodes are never opened and the runtime points at runc: nothing runs on them.
// What the host checks and gpuVendor auto read (the engine's runtimes, whether a device can be
// given to a container) is what a real GPU host's engine answers.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { ROOT } from "../cli/lib/scratch";
import { buildImage, docker, eventually } from "./docker";
import { NESTED_ENGINE_OPTIONS } from "./sandboxStack";

const IMAGE_TAG = "zed-e2e-prepared-host:e2e";
const LABEL = "zed-runner.e2e-prepared-host";

/** The nodes a prepared NVIDIA sandbox host has: Linux's numbers for uinput, uhid, the first render node and nvidiactl. */
const DEVICE_NODES = [
    ["/dev/uinput", "c 10 223"],
    ["/dev/uhid", "c 10 239"],
    ["/dev/dri/renderD128", "c 226 128"],
    ["/dev/nvidiactl", "c 195 255"],
] as const;

export interface PreparedHost {
    /** A client for the host's own engine. */
    readonly docker: Docker;
    readonly remove: () => Promise<void>;
}

/** Starts a prepared host and waits until its engine answers. */
export async function startPreparedHost(baseImage: string): Promise<PreparedHost> {
    await removePreparedHosts();
    const dockerfile = "test/fixtures/standInSandbox/Dockerfile";
    await buildImage(ROOT, [dockerfile], { tag: IMAGE_TAG, dockerfile, buildargs: { BASE_IMAGE: baseImage }, target: "runtime" });
    // The engine's socket, in a folder this process and the engine running the container both see.
    const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "zr-prepared-host-"));
    const script = [
        "set -e",
        "mkdir -p /dev/dri",
        ...DEVICE_NODES.map(([node, numbers]) => `mknod -m 660 ${node} ${numbers}`),
        // No bridge, no iptables: the probe's containers have no network.
        "exec dockerd --add-runtime nvidia=runc --bridge=none --iptables=false -H unix:///prepared/docker.sock",
    ].join("\n");
    const container = await docker.createContainer({
        Image: IMAGE_TAG,
        Entrypoint: ["sh", "-c", script],
        Labels: { [LABEL]: "host" },
        HostConfig: {
            ...NESTED_ENGINE_OPTIONS,
            Binds: [...(NESTED_ENGINE_OPTIONS.Binds ?? []), `${socketDir}:/prepared`],
            // Anonymous: removed with the container.
            Mounts: [{ Type: "volume", Source: "", Target: "/var/lib/docker" }],
        },
    });
    await container.start();
    const client = new Docker({ socketPath: path.join(socketDir, "docker.sock") });
    const outcome = await eventually(
        "the prepared host's engine to answer",
        async () => {
            const { State } = await container.inspect();
            if (!State.Running) return { exited: State.ExitCode as number };
            return (
                (await client.ping().then(
                    () => true,
                    () => false,
                )) && { exited: undefined }
            );
        },
        120_000,
        500,
    ).catch(async (err) => (await removePreparedHosts(), Promise.reject(err)));
    if (outcome.exited !== undefined) {
        const logs = await container.logs({ stdout: true, stderr: true, tail: 20 });
        await removePreparedHosts();
        throw new Error(`the prepared host exited ${outcome.exited}: ${logs.toString()}`);
    }
    return {
        docker: client,
        remove: async () => {
            await removePreparedHosts();
            fs.rmSync(socketDir, { recursive: true, force: true });
        },
    };
}

async function removePreparedHosts(): Promise<void> {
    for (const info of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABEL] }) }))
        await docker.getContainer(info.Id).remove({ force: true, v: true });
}
