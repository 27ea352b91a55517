// What takes a container out of its confinement (policy/confinement.ts): the engine rule every
// policy shares, and the one notion of "privileged in all but the flag" that no-host-takeover holds
// runners to and sandbox-privileged-only every other container, checked through both policies.
import {
    DANGEROUS_CAPABILITIES,
    confinementLosses,
    deviceRuleProblem,
    hostDeviceProblem,
    isUnconfiningSecurityOpt,
} from "../../policy/confinement";
import { engineBindProblem } from "../../contract";
import { noHostTakeover } from "../../policy/network";
import { sandboxNoDockerSocket, sandboxPrivilegedOnly } from "../../policy/sandbox";
import { CONTAINER, runner, sandbox, sandboxProps } from "./fixtures";
import { Fixture, violationsOf } from "./harness";

/** A container that is neither a runner nor a sandbox, as the rest of a stack (Helix's own services) has. */
const plain = (changes: Record<string, unknown> = {}): Fixture => ({
    type: CONTAINER,
    name: "other",
    props: { name: "other", image: "nginx:1.25", restart: "always", ...changes },
});

/** Host paths that hand over a container engine: sockets by any path, engines' folders, and every folder holding one. */
const ENGINE_PATHS = [
    // Sockets, wherever they are and whatever engine: rootless Docker, Podman, containerd, k3s, CRI-O, balena, LXD, Incus.
    "/var/run/docker.sock",
    "//var//run/./docker.sock/",
    "/mnt/../var/run/docker.sock",
    "/run/user/1000/docker.sock",
    "/run/user/1000/podman/podman.sock",
    "/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock.ttrpc",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/balena-engine.sock",
    "/var/run/balena.sock",
    "/var/snap/lxd/common/lxd/unix.socket",
    "/var/lib/incus/unix.socket",
    "/home/alice/.docker/run/docker.sock",
    "/tmp/docker.sock",
    "/srv/anything/engine.sock",
    // Engines' folders and what is in them.
    "/run/k3s",
    "/run/containerd",
    "/var/run/docker/plugins",
    "/var/lib/docker",
    "/var/lib/containerd/io.containerd.grpc.v1.cri",
    "/var/lib/containers/storage",
    "/home/alice/.docker/run",
    "/home/alice/.docker/desktop",
    "/home/alice/.local/share/docker",
    "/root/.docker",
    "/etc/docker",
    "/tmp/podman-run-1000",
    // Folders that hold one.
    "/",
    "/run",
    "/var",
    "/var/run",
    "/var/lib",
    "/run/user",
    "/run/user/1000",
    "/home",
    "/home/alice",
    "/home/alice/.docker",
    "/var/snap",
];

/** Host paths an ordinary container, a runner and a sandbox may all bind: none holds an engine. */
const ORDINARY_PATHS = ["/srv/zed-cache", "/home/alice/projects", "/data/sandbox-1", "/tmp/scratch", "/opt/models"];

describe("engineBindProblem", () => {
    it.each(ENGINE_PATHS)("refuses %s", (path) => {
        expect(engineBindProblem(path)).toBeDefined();
    });

    it.each([...ORDINARY_PATHS, "/run/udev", "/var/run/sandbox", "/etc", "/tmp", "/mnt", "/home/alice/.dockerignore"])(
        "leaves %s to the other rules",
        (path) => {
            expect(engineBindProblem(path)).toBeUndefined();
        },
    );

    it("names what the bind hands over", () => {
        expect(engineBindProblem("/")).toBe("the host's root folder");
        expect(engineBindProblem("//var/run/docker.sock/")).toBe("the Docker socket");
        expect(engineBindProblem("/run/balena-engine.sock")).toBe("/run/balena-engine.sock, a container engine's socket");
        expect(engineBindProblem("/var/lib/docker")).toBe("/var/lib/docker, a container engine's folder");
        expect(engineBindProblem("/home/alice/.docker/run")).toBe(
            "/home/alice/.docker/run, inside a container engine's folder (/home/*/.docker)",
        );
        expect(engineBindProblem("/var/run")).toBe("/var/run, which holds the Docker socket");
        expect(engineBindProblem("/home/alice")).toBe("/home/alice, which holds a container engine's folder (/home/*/.docker)");
    });
});

describe("one engine rule for runners, sandboxes and every other container", () => {
    const bind = (hostPath: string) => ({ volumes: [{ hostPath, containerPath: "/host" }] });
    const sandboxBind = (hostPath: string) => ({ volumes: [...sandboxProps().volumes, { hostPath, containerPath: "/host" }] });

    it.each(ENGINE_PATHS)("refuses a bind of %s in each of them", async (path) => {
        expect(await violationsOf(noHostTakeover, runner(bind(path)))).toHaveLength(1);
        const asSandbox = await violationsOf(sandboxNoDockerSocket, sandbox(sandboxBind(path)), { allowedHostPaths: [path] });
        expect(asSandbox).toEqual([
            `Sandbox container must not bind ${engineBindProblem(path)} (${path}): it runs its own dockerd and needs none of the host's.`,
        ]);
        expect(await violationsOf(sandboxPrivilegedOnly, plain(bind(path)))).toHaveLength(1);
    });

    it("refuses it as a bind mount and as a local volume that binds it, in any case of the mount type", async () => {
        const mounts = [
            { type: "BIND", source: "/run/user/1000", target: "/a" },
            {
                type: "volume",
                target: "/b",
                volumeOptions: { driverOptions: { type: "none", o: "bind", device: "/home/alice/.docker/run" } },
            },
        ];
        expect(await violationsOf(noHostTakeover, runner({ mounts }))).toEqual([
            "Runner container must not bind /run/user/1000, inside a container engine's folder (/run/user) (/run/user/1000).",
            "Runner container must not mount a local volume that binds /home/alice/.docker/run, inside a container engine's folder (/home/*/.docker) (/home/alice/.docker/run).",
        ]);
        expect(await violationsOf(sandboxNoDockerSocket, sandbox({ mounts }))).toHaveLength(2);
        expect(await violationsOf(sandboxPrivilegedOnly, plain({ mounts }))).toHaveLength(1);
    });

    it.each(ORDINARY_PATHS)("passes a bind of %s in each of them", async (path) => {
        expect(await violationsOf(noHostTakeover, runner(bind(path)))).toEqual([]);
        expect(await violationsOf(sandboxNoDockerSocket, sandbox(sandboxBind(path)))).toEqual([]);
        expect(await violationsOf(sandboxPrivilegedOnly, plain(bind(path)))).toEqual([]);
    });
});

describe("privileged in all but the flag: one notion for runners and every other container", () => {
    /** Settings that hand a container the host without `privileged`, and how the general message names each. */
    const EQUIVALENTS: [string, Record<string, unknown>, string][] = [
        ...DANGEROUS_CAPABILITIES.map((cap): [string, Record<string, unknown>, string] => [
            `capability ${cap}`,
            { capabilities: { adds: [cap] } },
            `capability ${cap}`,
        ]),
        ["a lower-case capability with CAP_", { capabilities: { adds: ["cap_sys_module"] } }, "capability SYS_MODULE"],
        ["label=disable", { securityOpts: ["label=disable"] }, 'securityOpts "label=disable"'],
        ["label:type:spc_t", { securityOpts: ["label:type:spc_t"] }, 'securityOpts "label:type:spc_t"'],
        ["systempaths=unconfined", { securityOpts: ["systempaths=unconfined"] }, 'securityOpts "systempaths=unconfined"'],
        ["seccomp = unconfined", { securityOpts: ["seccomp = unconfined"] }, 'securityOpts "seccomp = unconfined"'],
        ["/dev/sda", { devices: [{ hostPath: "/dev/sda" }] }, "the device /dev/sda, a host disk"],
        ["/dev/nvme0n1", { devices: [{ hostPath: "/dev/nvme0n1" }] }, "the device /dev/nvme0n1, a host disk"],
        ["/dev/mapper/root", { devices: [{ hostPath: "/dev/mapper/root" }] }, "the devices /dev/mapper/root"],
        ["/dev", { devices: [{ hostPath: "/dev" }] }, "the devices /dev"],
        ["/dev/port", { devices: [{ hostPath: "/dev/port" }] }, "the device /dev/port, the host's memory"],
        ["a *:* rwm", { deviceCgroupRules: ["a *:* rwm"] }, 'the device rule "a *:* rwm", every host device'],
        ["b 8:* rw", { deviceCgroupRules: ["b 8:* rw"] }, 'the device rule "b 8:* rw", the host\'s disks'],
        ["usernsMode host", { usernsMode: "host" }, "usernsMode: host"],
        ["cgroupnsMode host", { cgroupnsMode: "host" }, "cgroupnsMode: host"],
        ["networksAdvanced host", { networksAdvanced: [{ name: "host" }] }, "networksAdvanced: host"],
        ["a bind of /", { volumes: [{ hostPath: "/", containerPath: "/host", readOnly: true }] }, "a bind of the host's root folder (/)"],
        ["a bind of /dev", { volumes: [{ hostPath: "/dev", containerPath: "/dev" }] }, "a bind of the host's /dev (/dev)"],
        [
            "a bind of /proc",
            { volumes: [{ hostPath: "/proc", containerPath: "/host/proc", readOnly: true }] },
            "a bind of the host's /proc (/proc)",
        ],
        [
            "a bind of the Docker socket",
            { volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true }] },
            "a bind of the Docker socket (/var/run/docker.sock)",
        ],
        [
            "a writable bind of /etc",
            { volumes: [{ hostPath: "/etc", containerPath: "/host/etc" }] },
            "a bind of the host's system folder /etc, writable (/etc)",
        ],
    ];

    it.each(EQUIVALENTS)("refuses %s on a container that is not a runner or a sandbox", async (_, changes, what) => {
        expect(await violationsOf(sandboxPrivilegedOnly, plain(changes))).toEqual([
            `Container must not be privileged in all but the flag (${what}): only Helix's sandbox image (ghcr.io/helixml/helix-sandbox) may be privileged, and this one runs "nginx:1.25".`,
        ]);
    });

    it.each(EQUIVALENTS)("refuses %s on a runner too, through the same function", async (_, changes) => {
        expect(await violationsOf(noHostTakeover, runner(changes))).toHaveLength(1);
        // Whatever the general profile finds, the runner's strict one finds as well.
        const general = confinementLosses(plain(changes).props, { kind: "general" });
        const strict = confinementLosses(runner(changes).props, { kind: "strict", allowedCapabilities: [] });
        expect(general).toHaveLength(1);
        expect(strict.map((l) => l.kind)).toEqual(general.map((l) => l.kind));
    });

    it("passes what an ordinary container may have: an ordinary capability, a GPU, a read-only bind of a system file", async () => {
        const ordinary = plain({
            capabilities: { adds: ["NET_BIND_SERVICE", "CHOWN"], drops: ["ALL"] },
            devices: [{ hostPath: "/dev/dri" }, { hostPath: "/dev/net/tun" }, { hostPath: "/dev/fuse" }],
            deviceCgroupRules: ["c 226:* rmw", "c 13:* rmw"],
            securityOpts: ["no-new-privileges:true", "seccomp=/etc/docker/seccomp.json", "label=level:s0:c100,c200"],
            volumes: [
                { hostPath: "/etc/localtime", containerPath: "/etc/localtime", readOnly: true },
                { hostPath: "/srv/www", containerPath: "/usr/share/nginx/html" },
                { volumeName: "cache", containerPath: "/var/cache/nginx" },
            ],
            networkMode: "bridge",
            ipcMode: "private",
            networksAdvanced: [{ name: "helix_default" }],
        });
        expect(await violationsOf(sandboxPrivilegedOnly, ordinary)).toEqual([]);
    });

    it("lets allowedPrivilegedImages allow an image, and a runner add what allowedCapabilities lists", async () => {
        const dind = plain({ image: "docker:27-dind", capabilities: { adds: ["SYS_ADMIN"] }, securityOpts: ["apparmor=unconfined"] });
        expect(await violationsOf(sandboxPrivilegedOnly, dind, { allowedPrivilegedImages: ["docker"] })).toEqual([]);
        expect(
            await violationsOf(noHostTakeover, runner({ capabilities: { adds: ["CAP_SYS_PTRACE"] } }), {
                allowedCapabilities: ["SYS_PTRACE"],
            }),
        ).toEqual([]);
    });

    it("reads the privileged flag as the provider does, a string included", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, plain({ privileged: "TRUE" }))).toHaveLength(1);
        expect(await violationsOf(noHostTakeover, runner({ privileged: "true" }))).toEqual(["Runner container must not be privileged."]);
    });
});

describe("the pieces", () => {
    it("knows block devices by their kernel names, and leaves other devices", () => {
        for (const device of [
            "/dev/sdb1",
            "/dev/vda",
            "/dev/xvdf",
            "/dev/nvme1",
            "/dev/nvme0n1p2",
            "/dev/mmcblk0p1",
            "/dev/loop0",
            "/dev/dm-3",
            "/dev/md0",
            "/dev/sg0",
        ])
            expect({ device, problem: hostDeviceProblem(device) }).toEqual({ device, problem: `the device ${device}, a host disk` });
        for (const device of ["/dev/dri", "/dev/dri/renderD128", "/dev/kvm", "/dev/uinput", "/dev/nvidia0", "/dev/nvidiactl", "/dev/snd"])
            expect({ device, problem: hostDeviceProblem(device) }).toEqual({ device, problem: undefined });
    });

    it("reads device cgroup rules as Docker does", () => {
        expect(deviceRuleProblem("c 1:1 rwm")).toBe('the device rule "c 1:1 rwm", the host\'s memory devices');
        expect(deviceRuleProblem("c *:* r")).toBeDefined();
        expect(deviceRuleProblem("b 8:0 m")).toBeUndefined();
        expect(deviceRuleProblem("c 226:* rmw")).toBeUndefined();
    });

    it("knows every way a security option turns a confinement off", () => {
        for (const option of [
            "seccomp=unconfined",
            "seccomp:unconfined",
            "apparmor=UNCONFINED",
            "label=disable",
            "label:disable",
            "label=type:spc_t",
            "systempaths=unconfined",
        ])
            expect({ option, off: isUnconfiningSecurityOpt(option) }).toEqual({ option, off: true });
        for (const option of ["no-new-privileges", "seccomp=/etc/profile.json", "apparmor=docker-default", "label=user:system_u"])
            expect({ option, off: isUnconfiningSecurityOpt(option) }).toEqual({ option, off: false });
    });
});
