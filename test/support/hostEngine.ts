// TEST DOUBLE: a host's Docker engine as the host checks (cli/checks/probe.ts) meet it: `docker info`
// with a version and runtimes, an empty image imported and removed, and probe containers whose
// start fails the way Docker's does, "error gathering device information" for a device the host
// lacks, the missing program's exec error for one it has.
import { PassThrough } from "node:stream";
import Docker from "dockerode";

export interface HostEngineFacts {
    readonly version?: string;
    readonly runtimes?: readonly string[];
    /** The device nodes the host has. */
    readonly devices?: readonly string[];
    /** Docker's root, as `docker info` says it; none by default (then free disk is not asked). */
    readonly dockerRoot?: string;
    /** The named volumes the engine has. */
    readonly volumes?: readonly string[];
}

/** What the double recorded: the probe's containers and images, created and removed. */
export interface HostEngineRecord {
    readonly created: string[];
    readonly removed: string[];
}

/** A prepared NVIDIA sandbox host by default: Docker 26, the nvidia runtime, every device a sandbox is given. */
export function hostEngine(facts: HostEngineFacts = {}, record: HostEngineRecord = { created: [], removed: [] }): Docker {
    const devices = facts.devices ?? ["/dev/uinput", "/dev/uhid", "/dev/nvidiactl", "/dev/dri"];
    const runtimes = facts.runtimes ?? ["runc", "nvidia"];
    let next = 0;
    return {
        ping: async () => "OK",
        info: async () => ({
            ServerVersion: facts.version ?? "26.1.5",
            Runtimes: Object.fromEntries(runtimes.map((r) => [r, {}])),
            ...(facts.dockerRoot ? { DockerRootDir: facts.dockerRoot } : {}),
        }),
        listVolumes: async () => ({ Volumes: (facts.volumes ?? []).map((Name) => ({ Name, Driver: "local" })), Warnings: null }),
        importImage: async () => {
            const stream = new PassThrough();
            stream.end('{"status":"sha256:0000"}\n');
            record.created.push("image");
            return stream;
        },
        getImage: (name: string) => ({ remove: async () => void record.removed.push(`image ${name}`) }),
        createContainer: async (options: { Cmd: string[]; HostConfig: { Devices: { PathOnHost: string }[] } }) => {
            const id = `probe-${++next}`;
            record.created.push(id);
            const device = options.HostConfig.Devices[0].PathOnHost;
            return {
                start: async () => {
                    throw devices.includes(device)
                        ? new Error(
                              `(HTTP code 400) unexpected - failed to create shim task: OCI runtime create failed: exec: "${options.Cmd[0]}": stat ${options.Cmd[0]}: no such file or directory: unknown`,
                          )
                        : new Error(
                              `(HTTP code 500) server error - error gathering device information while adding custom device "${device}": no such file or directory`,
                          );
                },
                remove: async () => void record.removed.push(id),
            };
        },
        // dockerode's own progress reader and demuxer; they never connect.
        modem: new Docker({ socketPath: "/var/run/docker.sock" }).modem,
    } as unknown as Docker;
}
