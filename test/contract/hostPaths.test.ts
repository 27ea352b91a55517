// Host paths as a bind names them, and what binding one hands over (contract/hostPaths.ts).
import { hostPathTakeover, normalizeHostPath } from "../../contract";

describe("host paths", () => {
    it.each([
        ["//var/run/docker.sock", "/var/run/docker.sock"],
        ["/var/run/docker.sock/", "/var/run/docker.sock"],
        ["/srv/../etc/./shadow", "/etc/shadow"],
        ["/../..", "/"],
    ])("%s normalises to %s", (p, expected) => {
        expect(normalizeHostPath(p)).toBe(expected);
    });
    it.each([["/srv/zed"], ["/home/ops/cache"], ["/var/tmp/zed"], ["/mnt/data"]])("binding %s does not hand over the host", (p) => {
        expect(hostPathTakeover(p)).toBeUndefined();
    });
    it.each([
        ["/", "the host's root folder"],
        ["/run", "/run, which holds the Docker socket"],
        ["/var", "/var, which holds a container engine's folder (/var/lib/docker)"],
        ["/usr", "the host's system folder /usr"],
        ["/proc/1", "/proc/1, inside a host system folder"],
        // Every container engine's socket counts as the host's engine, by whatever path.
        ["/run/user/1000/docker.sock", "/run/user/1000/docker.sock, a container engine's socket"],
        ["/var/run/user/1000/podman/podman.sock", "/var/run/user/1000/podman/podman.sock, a container engine's socket"],
        ["/run/containerd/containerd.sock", "/run/containerd/containerd.sock, a container engine's socket"],
        ["/var/run/crio/crio.sock", "/var/run/crio/crio.sock, a container engine's socket"],
        ["/run/cri-dockerd.sock", "/run/cri-dockerd.sock, a container engine's socket"],
        ["/srv/buildkit/buildkitd.sock", "/srv/buildkit/buildkitd.sock, a container engine's socket"],
        ["/run/user/1000", "/run/user/1000, inside a container engine's folder (/run/user)"],
        ["/run/podman", "/run/podman, a container engine's folder"],
        ["/var/run/docker.sock", "the Docker socket"],
    ])("binding %s hands over %s", (p, expected) => {
        expect(hostPathTakeover(p)).toBe(expected);
    });
});
