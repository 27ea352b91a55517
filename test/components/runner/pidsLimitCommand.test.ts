// The command the ContainerPidsLimit resource runs on a runner's engine, per kind of engine address.
import { isNoSuchContainer, pidsLimitCommand } from "../../../components/runner/pidsLimitCommand";

const ID = "0123456789abcdef";

describe("pidsLimitCommand", () => {
    it("runs docker on the local engine when no host is given", () => {
        expect(pidsLimitCommand(undefined, ID, 1024)).toEqual({ file: "docker", args: ["update", "--pids-limit", "1024", ID] });
        expect(pidsLimitCommand({}, ID, 1024)).toEqual({ file: "docker", args: ["update", "--pids-limit", "1024", ID] });
    });

    it("names a unix socket with --host", () => {
        expect(pidsLimitCommand({ host: "unix:///run/user/1000/docker.sock" }, ID, 300)).toEqual({
            file: "docker",
            args: ["--host", "unix:///run/user/1000/docker.sock", "update", "--pids-limit", "300", ID],
        });
    });

    it("verifies TLS with the host's certificate folder on tcp://", () => {
        expect(pidsLimitCommand({ host: "tcp://gpu-c.example.com:2376", certPath: "/etc/docker/certs/gpu-c" }, ID, 1024)).toEqual({
            file: "docker",
            args: [
                "--host",
                "tcp://gpu-c.example.com:2376",
                "--tlsverify",
                "--tlscacert",
                "/etc/docker/certs/gpu-c/ca.pem",
                "--tlscert",
                "/etc/docker/certs/gpu-c/cert.pem",
                "--tlskey",
                "/etc/docker/certs/gpu-c/key.pem",
                "update",
                "--pids-limit",
                "1024",
                ID,
            ],
        });
    });

    it("runs docker over the system ssh with the host's options and port, as the Docker provider connects", () => {
        expect(pidsLimitCommand({ host: "ssh://ops@gpu-b.example.com:2222", sshOpts: ["-o", "IdentityFile=/k"] }, ID, 1024)).toEqual({
            file: "ssh",
            args: ["-o", "IdentityFile=/k", "-p", "2222", "--", "ops@gpu-b.example.com", "docker", "update", "--pids-limit", "1024", ID],
        });
        expect(pidsLimitCommand({ host: "ssh://gpu-a" }, ID, -1).args).toEqual([
            "--",
            "gpu-a",
            "docker",
            "update",
            "--pids-limit",
            "-1",
            ID,
        ]);
    });

    it("refuses a container reference or a limit the remote shell or Docker would misread", () => {
        expect(() => pidsLimitCommand({ host: "ssh://gpu-a" }, "x;touch /tmp/p", 1024)).toThrow(
            'pidsLimit: "x;touch /tmp/p" is not a container ID or name',
        );
        expect(() => pidsLimitCommand(undefined, ID, 0)).toThrow("pidsLimit: 0 is not a number of processes (or -1 for no limit)");
        expect(() => pidsLimitCommand(undefined, ID, 1.5)).toThrow("pidsLimit: 1.5 is not a number of processes");
    });

    it("tells a container that is already gone from other failures", () => {
        expect(isNoSuchContainer("Error response from daemon: No such container: 0123")).toBe(true);
        expect(isNoSuchContainer("permission denied while trying to connect to the Docker daemon socket")).toBe(false);
    });
});
