// The command that sets a runner container's PIDs limit on its engine: @pulumi/docker
// (5.2, on the Terraform Docker provider) has no `pidsLimit` on a container, so the
// ContainerPidsLimit resource applies the engine's own `docker update --pids-limit`
// to each runner once it exists. Reaches the engine the way the Docker CLI and the
// Docker provider do: the local socket, `docker --host` with TLS files, or the
// system `ssh` (host keys checked against known_hosts, the stack's sshOpts) running
// `docker` on the host. Pure: no imports but a type's (the dynamic provider's closure stays small).
import type { DockerConnection } from "../placements/placement";

/** How to reach the engine: a `docker.Provider`'s connection; without a host, the local engine (DOCKER_HOST). */
export type EngineConnection = Partial<DockerConnection>;

/** A program and its arguments; never a shell string. */
export interface EngineCommand {
    readonly file: string;
    readonly args: readonly string[];
}

/** Docker takes -1 for "no limit" in an update. */
export const NO_PIDS_LIMIT = -1;

/** A container ID or name as Docker makes them: nothing a shell on the far side of ssh could read otherwise. */
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** `docker update --pids-limit <limit> <container>` on the engine `connection` names. */
export function pidsLimitCommand(connection: EngineConnection | undefined, container: string, limit: number): EngineCommand {
    if (!CONTAINER_REF.test(container)) throw new Error(`pidsLimit: ${JSON.stringify(container)} is not a container ID or name`);
    if (!Number.isInteger(limit) || (limit < 1 && limit !== NO_PIDS_LIMIT)) {
        throw new Error(`pidsLimit: ${limit} is not a number of processes (or ${NO_PIDS_LIMIT} for no limit)`);
    }
    const update = ["update", "--pids-limit", String(limit), container];
    const host = connection?.host;
    if (host === undefined || host === "") return { file: "docker", args: update };
    const ssh = /^ssh:\/\/(?:([^@\s/:]+)@)?([^@\s/:]+)(?::(\d+))?\/?$/.exec(host);
    if (ssh) {
        const [, user, name, port] = ssh;
        // Arguments after the destination are one command line for the remote shell: every word here is plain.
        return {
            file: "ssh",
            args: [
                ...(connection?.sshOpts ?? []),
                ...(port ? ["-p", port] : []),
                "--",
                user ? `${user}@${name}` : name,
                "docker",
                ...update,
            ],
        };
    }
    const tls = connection?.certPath
        ? [
              "--tlsverify",
              "--tlscacert",
              `${connection.certPath}/ca.pem`,
              "--tlscert",
              `${connection.certPath}/cert.pem`,
              "--tlskey",
              `${connection.certPath}/key.pem`,
          ]
        : [];
    return { file: "docker", args: ["--host", host, ...tls, ...update] };
}

/** What the engine answers when the container is gone: nothing left to limit. */
export function isNoSuchContainer(stderr: string): boolean {
    return /no such container/i.test(stderr);
}
