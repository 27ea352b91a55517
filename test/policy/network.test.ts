import { apiHostTls, noHostTakeover, remoteDesktopNotPublic } from "../../policy/network";
import { runner, runnerProps, withEnv } from "./fixtures";
import { violationsOf } from "./harness";

const portsOn = (ip: string | undefined) =>
    runnerProps().ports.map((p: Record<string, unknown>) => (ip === undefined ? { internal: p.internal, external: p.external } : { ...p, ip }));

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

    it("fails ports with no ip, which Docker publishes on every interface", async () => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports: portsOn(undefined) }))).toHaveLength(2);
    });

    it("covers the whole RDP and VNC ranges", async () => {
        const ports = [{ internal: 3409, external: 13409, ip: "0.0.0.0" }, { internal: 5921, external: 15921, ip: "0.0.0.0" }, { internal: 5922, external: 15922, ip: "0.0.0.0" }];
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports }))).toHaveLength(2);
    });

    it("allows addresses listed in policy config", async () => {
        expect(await violationsOf(remoteDesktopNotPublic, runner({ ports: portsOn("0.0.0.0") }), { allowedBindAddresses: ["0.0.0.0"] })).toEqual([]);
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

    it.each(["http://localhost:8080", "http://127.0.0.1", "http://host.docker.internal:80"])("passes http to this machine (%s)", async (host) => {
        expect(await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", host) }))).toEqual([]);
    });

    it("allows hosts listed in policy config", async () => {
        expect(await violationsOf(apiHostTls, runner({ envs: withEnv("API_HOST", "http://api:8080") }), { allowedHttpHosts: ["api"] })).toEqual([]);
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
            "Runner container must not mount the Docker socket (/var/run/docker.sock).",
            "Runner container must not mount the Docker socket (/run/docker.sock).",
            "Runner container must not add capabilities: SYS_ADMIN, NET_ADMIN.",
        ]);
    });

    it("allows capabilities listed in policy config", async () => {
        expect(await violationsOf(noHostTakeover, runner({ capabilities: { adds: ["SYS_PTRACE"] } }), { allowedCapabilities: ["SYS_PTRACE"] })).toEqual([]);
    });
});
