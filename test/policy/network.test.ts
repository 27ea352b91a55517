import { maskValue } from "../../contract";
import { apiHostTls, noHostTakeover, remoteDesktopNotPublic } from "../../policy/network";
import { runner, runnerProps, sandbox, withEnv, withSandboxEnv } from "./fixtures";
import { violationsOf } from "./harness";

const portsOn = (ip: string | undefined) =>
    runnerProps().ports.map((p: Record<string, unknown>) =>
        ip === undefined ? { internal: p.internal, external: p.external } : { ...p, ip },
    );

describe("remote-desktop-not-public", () => {
    it("passes ports bound on loopback", async () => {
        expect(await violationsOf(remoteDesktopNotPublic, runner())).toEqual([]);
    });

    it.each(["0.0.0.0", "::", ""])("fails RDP and VNC bound on %j, but not the health port", async (ip) => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports: portsOn(ip) }))).toEqual([
            `RDP port 3389 must not be published on every interface (ip "${ip}"); bind it to 127.0.0.1 or a private address.`,
            `VNC port 5900 must not be published on every interface (ip "${ip}"); bind it to 127.0.0.1 or a private address.`,
        ]);
    });

    it.each(["0:0:0:0:0:0:0:0", "::ffff:0.0.0.0", "[::]", "0000::0"])("treats %j as every interface", async (ip) => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports: portsOn(ip) }))).toHaveLength(2);
    });

    it("fails publishAllPorts, which publishes RDP and VNC on every interface", async () => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ publishAllPorts: true, ports: undefined }))).toEqual([
            "Runner container must not set publishAllPorts: it publishes RDP and VNC on every interface.",
        ]);
        expect(await violationsOf(remoteDesktopNotPublic, runner({ publishAllPorts: false }))).toEqual([]);
    });

    it("fails ports with no ip, which Docker publishes on every interface", async () => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports: portsOn(undefined) }))).toHaveLength(2);
    });

    it("covers every RDP and VNC port portsPerRunner can publish (100 of each), and nothing past them", async () => {
        const ports = [
            { internal: 3488, external: 13488, ip: "0.0.0.0" },
            { internal: 5999, external: 15999, ip: "0.0.0.0" },
            { internal: 3489, external: 13489, ip: "0.0.0.0" },
            { internal: 6000, external: 16000, ip: "0.0.0.0" },
        ];
        const violations = await violationsOf(remoteDesktopNotPublic, runner({ ports }));
        expect(violations).toEqual([expect.stringContaining("RDP port 3488"), expect.stringContaining("VNC port 5999")]);
    });

    it("allows addresses listed in policy config", async () => {
        expect(
            await violationsOf(remoteDesktopNotPublic, runner({ ports: portsOn("0.0.0.0") }), { allowedBindAddresses: ["0.0.0.0"] }),
        ).toEqual([]);
    });

    it("passes a container with no ports", async () => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports: undefined }))).toEqual([]);
    });
});

describe("api-host-tls", () => {
    it("passes https", async () => {
        expect(await violationsOf(apiHostTls, runner())).toEqual([]);
    });

    it("fails plain http to another machine", async () => {
        expect(await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", "http://helix.example.com:8080") }))).toEqual([
            "API_HOST must use https: http://helix.example.com:8080 would send the runner token unencrypted.",
        ]);
    });

    it("names a value that is no URL without its credentials", async () => {
        const typed = "https://ops:hunter2@helix example.com";
        const found = await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", typed) }));
        expect(found).toEqual(['API_HOST must be a URL (got "https://ops:***@helix example.com").']);
        expect(found.join("")).not.toContain("hunter2");
    });

    it.each([
        "http://us er:s3cretpw@helix .example.com",
        "https://ops:s3cretpw@[helix.example.com",
        "htp:/user:s3cretpw@helix.example.com",
        "ftp://user:s3cretpw@helix.example.com",
    ])("shows %j only through the contract's masking, never its password", async (typed) => {
        for (const [variable, fixture] of [
            ["API_HOST", runner({ envs: withEnv("API_HOST", typed) })],
            ["HELIX_API_URL", sandbox({ envs: withSandboxEnv("HELIX_API_URL", typed) })],
        ] as const) {
            const found = await violationsOf(apiHostTls, fixture);
            expect(found).toHaveLength(1);
            const shown = JSON.stringify(maskValue(typed));
            expect([`${variable} must be a URL (got ${shown}).`, `${variable} must be an https URL (got ${shown}).`]).toContain(found[0]);
            expect(found[0]).not.toContain("s3cretpw");
        }
    });

    it("compares allowedHttpHosts as host names: any case, with or without the trailing dot", async () => {
        const config = { allowedHttpHosts: ["API."] };
        expect(await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", "http://api:8080") }), config)).toEqual([]);
        expect(await violationsOf(apiHostTls, sandbox({ envs: withSandboxEnv("HELIX_API_URL", "http://Api.:8080") }), config)).toEqual([]);
    });

    it.each(["http://localhost:8080", "http://127.0.0.1", "http://host.docker.internal:80"])(
        "passes http to this machine (%s)",
        async (host) => {
            expect(await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", host) }))).toEqual([]);
        },
    );

    it("allows hosts listed in policy config", async () => {
        expect(
            await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", "http://api:8080") }), { allowedHttpHosts: ["api"] }),
        ).toEqual([]);
    });

    it("fails a sandbox dialling a remote control plane over plain http, as it does a runner", async () => {
        expect(await violationsOf(apiHostTls, sandbox())).toEqual([]);
        expect(await violationsOf(apiHostTls, sandbox({ envs: withSandboxEnv("HELIX_API_URL", "http://helix.example.com:8080") }))).toEqual(
            ["HELIX_API_URL must use https: http://helix.example.com:8080 would send the runner token unencrypted."],
        );
        expect(
            await violationsOf(apiHostTls, sandbox({ envs: withSandboxEnv("HELIX_API_URL", "http://api:8080") }), {
                allowedHttpHosts: ["api"],
            }),
        ).toEqual([]);
    });

    it("does not apply without API_HOST", async () => {
        expect(await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", undefined) }))).toEqual([]);
    });
});

describe("no-host-takeover", () => {
    it("passes the runner as declared", async () => {
        expect(await violationsOf(noHostTakeover, runner())).toEqual([]);
    });

    it("fails privileged, host namespaces, a Docker socket and added capabilities", async () => {
        const fixture = runner({
            privileged: true,
            networkMode: "host",
            pidMode: "host",
            volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }],
            mounts: [{ type: "bind", source: "/run/docker.sock", target: "/d.sock" }],
            capabilities: { adds: ["SYS_ADMIN", "NET_ADMIN"] },
        });
        expect(await violationsOf(noHostTakeover, fixture)).toEqual([
            "Runner container must not be privileged.",
            "Runner container must not use the host's namespace (networkMode: host).",
            "Runner container must not use the host's namespace (pidMode: host).",
            "Runner container must not bind the Docker socket (/var/run/docker.sock).",
            "Runner container must not bind the Docker socket (/run/docker.sock).",
            "Runner container must not add capabilities: SYS_ADMIN, NET_ADMIN.",
        ]);
    });

    it.each([
        ["/", "the host's root folder"],
        ["//", "the host's root folder"],
        ["/var/run", "/var/run, which holds the Docker socket"],
        ["/var/run/", "/var/run, which holds the Docker socket"],
        ["//var/run/docker.sock", "the Docker socket"],
        ["/var/run/docker.sock/", "the Docker socket"],
        ["/var/run/../run/docker.sock", "the Docker socket"],
        ["/etc", "the host's system folder /etc"],
        ["/etc/shadow", "/etc/shadow, inside a host system folder"],
        ["/var/lib/docker/volumes", "/var/lib/docker/volumes, inside a container engine's folder (/var/lib/docker)"],
    ])("fails a bind of %j however it is spelled", async (source, what) => {
        expect(await violationsOf(noHostTakeover, runner({ mounts: [{ type: "bind", source, target: "/host" }] }))).toEqual([
            `Runner container must not bind ${what} (${source}).`,
        ]);
        expect(await violationsOf(noHostTakeover, runner({ volumes: [{ hostPath: source, containerPath: "/host" }] }))).toHaveLength(1);
    });

    it("passes a bind of an ordinary folder and named volumes", async () => {
        const fixture = runner({
            mounts: [
                { type: "bind", source: "/srv/zed-cache", target: "/cache" },
                { type: "volume", source: "ws", target: "/ws" },
            ],
            volumes: [{ volumeName: "helix-zed-agent-dev-1-workspace", containerPath: "/tmp/zed-workspaces" }],
        });
        expect(await violationsOf(noHostTakeover, fixture)).toEqual([]);
    });

    it("fails a local-driver volume that binds the host's root, and passes a plain one", async () => {
        const bind = {
            type: "docker:index/volume:Volume",
            props: { name: "root", driver: "local", driverOpts: { type: "none", o: "bind", device: "/" } },
        };
        expect(await violationsOf(noHostTakeover, bind)).toEqual(["A local-driver volume must not bind the host's root folder (/)."]);
        const unnamedDriver = { ...bind, props: { name: "root", driverOpts: { type: "none", o: "rbind,ro", device: "/etc" } } };
        expect(await violationsOf(noHostTakeover, unnamedDriver)).toEqual([
            "A local-driver volume must not bind the host's system folder /etc (/etc).",
        ]);
        expect(await violationsOf(noHostTakeover, { type: "docker:index/volume:Volume", props: { name: "ws" } })).toEqual([]);
    });

    /** A runner mounting a volume created on the fly from these volume options. */
    const mountingVolume = (volumeOptions: Record<string, any> | undefined) =>
        runner({ mounts: [{ type: "volume", source: "hostroot", target: "/host", volumeOptions }] });

    it.each([
        [{ driverOptions: { type: "none", o: "bind", device: "/" } }, "the host's root folder (/)"],
        [{ driverName: "local", driverOptions: { type: "none", o: "bind", device: "//" } }, "the host's root folder (//)"],
        [{ driverOptions: { type: "none", o: "ro,bind", device: "/var/run" } }, "/var/run, which holds the Docker socket (/var/run)"],
        [
            { driverOptions: { o: "rbind", device: "/var/lib/docker/volumes" } },
            "/var/lib/docker/volumes, inside a container engine's folder (/var/lib/docker) (/var/lib/docker/volumes)",
        ],
    ])("fails a runner mount whose local volume options %j bind a host folder", async (volumeOptions, what) => {
        expect(await violationsOf(noHostTakeover, mountingVolume(volumeOptions))).toEqual([
            `Runner container must not mount a local volume that binds ${what}.`,
        ]);
    });

    it.each([
        ["no volume options", undefined],
        ["a bind of an ordinary folder", { driverOptions: { type: "none", o: "bind", device: "/srv/zed-cache" } }],
        ["an NFS volume", { driverOptions: { type: "nfs", o: "addr=10.0.0.5,rw", device: ":/export" } }],
        ["another driver's options", { driverName: "rexray/ebs", driverOptions: { o: "bind", device: "/" } }],
    ])("passes a runner mount with %s", async (_, volumeOptions) => {
        expect(await violationsOf(noHostTakeover, mountingVolume(volumeOptions))).toEqual([]);
    });

    it("fails host devices, unconfined seccomp or AppArmor, and every shared namespace", async () => {
        const fixture = runner({
            devices: [{ hostPath: "/dev/kvm" }],
            securityOpts: ["seccomp=unconfined", "apparmor:unconfined", "no-new-privileges"],
            usernsMode: "host",
            ipcMode: "host",
            cgroupnsMode: "host",
            networkMode: "container:other",
        });
        expect(await violationsOf(noHostTakeover, fixture)).toEqual([
            "Runner container must not share another container's namespace (networkMode: container:other).",
            "Runner container must not use the host's namespace (ipcMode: host).",
            "Runner container must not use the host's namespace (usernsMode: host).",
            "Runner container must not use the host's namespace (cgroupnsMode: host).",
            "Runner container must not be given host devices (/dev/kvm).",
            'Runner container must keep its confinement (securityOpts "seccomp=unconfined").',
            'Runner container must keep its confinement (securityOpts "apparmor:unconfined").',
        ]);
    });

    it("passes private namespaces and confinement that only adds restrictions", async () => {
        expect(
            await violationsOf(
                noHostTakeover,
                runner({ ipcMode: "private", cgroupnsMode: "private", securityOpts: ["no-new-privileges"] }),
            ),
        ).toEqual([]);
    });

    it("allows capabilities listed in policy config", async () => {
        expect(
            await violationsOf(noHostTakeover, runner({ capabilities: { adds: ["SYS_PTRACE"] } }), { allowedCapabilities: ["SYS_PTRACE"] }),
        ).toEqual([]);
    });
});
