// A fleet from one stack: what `hosts` declares, and which resources a config change touches.
// Each guarantee compares the URNs and inputs captured under Pulumi's mocks before and after.
import { MINIMAL, PUBLISHED } from "../fixtures/configs";
import { Registration } from "../support/mocks";
import { runProgram } from "../support/program";

interface Host {
    name: string;
    dockerHost: string;
    replicas: number;
    [override: string]: unknown;
}

const A: Host = { name: "gpu-a", dockerHost: "ssh://ops@gpu-a.example.com", replicas: 2 };
const B: Host = { name: "gpu-b", dockerHost: "ssh://ops@gpu-b.example.com:2222", replicas: 1 };
const C: Host = { name: "gpu-c", dockerHost: "tcp://gpu-c.example.com:2376", certPath: "/etc/docker/certs/gpu-c", replicas: 1 };

/** Every resource the program registers, by URN, with its inputs. */
async function snapshot(hosts: Host[]): Promise<Map<string, string>> {
    const { engine, error } = await runProgram({ ...MINIMAL, apiHost: "https://helix.example.com", hosts: JSON.stringify(hosts) });
    if (error) throw error;
    return new Map(engine.registrations.map((r: Registration) => [r.urn!, JSON.stringify(r.inputs)]));
}

/** URNs only in `after`, only in `before`, and in both with different inputs. */
function diff(before: Map<string, string>, after: Map<string, string>) {
    const short = (urn: string) => urn.split("::").pop()!;
    return {
        added: [...after.keys()]
            .filter((u) => !before.has(u))
            .map(short)
            .sort(),
        removed: [...before.keys()]
            .filter((u) => !after.has(u))
            .map(short)
            .sort(),
        changed: [...after.keys()]
            .filter((u) => before.has(u) && before.get(u) !== after.get(u))
            .map(short)
            .sort(),
    };
}

describe("a fleet declared with hosts", () => {
    it("declares one provider and one ZedRunner per host, and every container uses its host's provider", async () => {
        const { engine, program } = await runProgram({
            ...MINIMAL,
            apiHost: "https://helix.example.com",
            hosts: JSON.stringify([A, B, C]),
        });
        expect(
            engine.registrations.filter((r) => r.type === "pulumi:providers:docker").map((r) => [r.name, r.inputs.host, r.inputs.certPath]),
        ).toEqual([
            ["docker-gpu-a", "ssh://ops@gpu-a.example.com", undefined],
            ["docker-gpu-b", "ssh://ops@gpu-b.example.com:2222", undefined],
            ["docker-gpu-c", "tcp://gpu-c.example.com:2376", "/etc/docker/certs/gpu-c"],
        ]);
        expect(engine.registrations.filter((r) => r.type === "zed-runner:index:ZedRunner").map((r) => r.name)).toEqual([
            "zed-runner-gpu-a",
            "zed-runner-gpu-b",
            "zed-runner-gpu-c",
        ]);
        for (const container of engine.ofType("docker:index/container:Container")) {
            const host = container.name.replace(/^zed-runner-(gpu-.)-runner-\d+$/, "$1");
            expect(container.provider).toContain(`::docker-${host}::`);
        }
        // The image is built on each host's own engine.
        expect(engine.ofType("docker:index/image:Image").map((r) => r.provider?.split("::")[3])).toEqual([
            "docker-gpu-a",
            "docker-gpu-b",
            "docker-gpu-c",
        ]);
        expect(program!.runnerIds).toEqual([
            "external-zed-gpu-a-1",
            "external-zed-gpu-a-2",
            "external-zed-gpu-b-1",
            "external-zed-gpu-c-1",
        ]);
        expect(Object.keys(program!.hosts!)).toEqual(["gpu-a", "gpu-b", "gpu-c"]);
        expect(program!.hosts!["gpu-a"]).toMatchObject({
            dockerHost: "ssh://ops@gpu-a.example.com",
            runnerIds: ["external-zed-gpu-a-1", "external-zed-gpu-a-2"],
            containerNames: ["helix-zed-agent-dev-1", "helix-zed-agent-dev-2"],
        });
        expect(program!.image).toBeUndefined();
    });

    it("never uses the default provider once hosts is set", async () => {
        const { engine } = await runProgram({ ...MINIMAL, apiHost: "https://helix.example.com", hosts: JSON.stringify([A]) });
        const custom = engine.registrations.filter((r) => r.custom && r.type !== "pulumi:providers:docker" && r.type.startsWith("docker:"));
        expect(custom.length).toBeGreaterThan(0);
        for (const r of custom) expect(r.provider).toContain("::docker-gpu-a::");
    });

    it("applies per-host overrides to that host only", async () => {
        const { engine } = await runProgram({
            ...MINIMAL,
            apiHost: "https://helix.example.com",
            publishDesktopPorts: "true",
            memoryMb: "2048",
            hosts: JSON.stringify([{ ...A, memoryMb: 8192, bindAddress: "10.0.0.5", rdpPortBase: 13389 }, B]),
        });
        const a1 = engine.byName("zed-runner-gpu-a-runner-1").inputs;
        const b1 = engine.byName("zed-runner-gpu-b-runner-1").inputs;
        expect([a1.memory, b1.memory]).toEqual([8192, 2048]);
        expect(a1.ports[0]).toEqual({ internal: 3389, external: 13389, ip: "10.0.0.5", protocol: "tcp" });
        expect(b1.ports[0]).toEqual({ internal: 3389, external: 3389, ip: "127.0.0.1", protocol: "tcp" });
    });

    it("applies per-host hardening overrides to that host only, and sets each host's PIDs limit on that host's engine", async () => {
        const { engine } = await runProgram({
            ...MINIMAL,
            apiHost: "https://helix.example.com",
            hosts: JSON.stringify([{ ...A, pidsLimit: 4096, cpuShares: 0, readOnlyRootFilesystem: false, noNewPrivileges: false }, B, C]),
        });
        const a1 = engine.byName("zed-runner-gpu-a-runner-1").inputs;
        const b1 = engine.byName("zed-runner-gpu-b-runner-1").inputs;
        expect([a1.readOnly, b1.readOnly]).toEqual([false, true]);
        expect([a1.securityOpts, b1.securityOpts]).toEqual([[], ["no-new-privileges:true"]]);
        expect([a1.cpuShares, b1.cpuShares]).toEqual([undefined, 512]);
        const limits = ["gpu-a-runner-1", "gpu-b-runner-1", "gpu-c-runner-1"].map(
            (n) => engine.byName(`zed-runner-${n}-pids-limit`).inputs,
        );
        expect(limits.map((l) => [l.pidsLimit, l.connection])).toEqual([
            [4096, { host: "ssh://ops@gpu-a.example.com" }],
            [1024, { host: "ssh://ops@gpu-b.example.com:2222" }],
            [1024, { host: "tcp://gpu-c.example.com:2376", certPath: "/etc/docker/certs/gpu-c" }],
        ]);
    });
});

describe("which resources a fleet change touches", () => {
    it("raising a host's replicas adds exactly the new runner's resources", async () => {
        const before = await snapshot([A, B]);
        const after = await snapshot([{ ...A, replicas: 3 }, B]);
        expect(diff(before, after)).toEqual({
            added: [
                "zed-runner-gpu-a-runner-3",
                "zed-runner-gpu-a-runner-3-pids-limit",
                "zed-runner-gpu-a-runner-3-rdp-password",
                "zed-runner-gpu-a-runner-3-vnc-password",
            ],
            removed: [],
            changed: [],
        });
    });

    it("lowering it removes only the highest-numbered runners", async () => {
        const before = await snapshot([{ ...A, replicas: 4 }, B]);
        const after = await snapshot([{ ...A, replicas: 2 }, B]);
        expect(diff(before, after)).toEqual({
            added: [],
            removed: [
                "zed-runner-gpu-a-runner-3",
                "zed-runner-gpu-a-runner-3-pids-limit",
                "zed-runner-gpu-a-runner-3-rdp-password",
                "zed-runner-gpu-a-runner-3-vnc-password",
                "zed-runner-gpu-a-runner-4",
                "zed-runner-gpu-a-runner-4-pids-limit",
                "zed-runner-gpu-a-runner-4-rdp-password",
                "zed-runner-gpu-a-runner-4-vnc-password",
            ],
            changed: [],
        });
    });

    it("adding a host touches only that host's resources, and removing one only its own", async () => {
        const two = await snapshot([A, B]);
        const three = await snapshot([A, B, C]);
        const added = diff(two, three);
        expect(added.removed).toEqual([]);
        expect(added.changed).toEqual([]);
        expect(added.added.every((name) => name.includes("gpu-c"))).toBe(true);
        expect(added.added).toEqual(
            expect.arrayContaining([
                "docker-gpu-c",
                "zed-runner-gpu-c",
                "zed-runner-gpu-c-image",
                "zed-runner-gpu-c-network",
                "zed-runner-gpu-c-runner-1",
            ]),
        );
        const withoutB = await snapshot([A, C]);
        const removed = diff(three, withoutB);
        expect(removed.added).toEqual([]);
        expect(removed.changed).toEqual([]);
        expect(removed.removed.length).toBeGreaterThan(0);
        expect(removed.removed.every((name) => name.includes("gpu-b"))).toBe(true);
    });

    it("reordering hosts touches nothing", async () => {
        const before = await snapshot([A, B, C]);
        const after = await snapshot([C, A, B]);
        expect(diff(before, after)).toEqual({ added: [], removed: [], changed: [] });
    });

    it("changing a per-host override touches only that host", async () => {
        const before = await snapshot([A, B]);
        const after = await snapshot([{ ...A, cpus: 2 }, B]);
        expect(diff(before, after)).toEqual({
            added: [],
            removed: [],
            changed: ["zed-runner-gpu-a-runner-1", "zed-runner-gpu-a-runner-2"],
        });
    });

    it("scaling the implicit single host adds one runner and touches nothing else", async () => {
        const run = async (replicas: string) => {
            const { engine } = await runProgram({ ...MINIMAL, replicas });
            return new Map(engine.registrations.map((r) => [r.urn!, JSON.stringify(r.inputs)]));
        };
        expect(diff(await run("2"), await run("3"))).toEqual({
            added: [
                "zed-runner-runner-3",
                "zed-runner-runner-3-pids-limit",
                "zed-runner-runner-3-rdp-password",
                "zed-runner-runner-3-vnc-password",
            ],
            removed: [],
            changed: [],
        });
    });
});

describe("fleet config errors", () => {
    const refuse = async (hosts: unknown, extra: Record<string, string> = {}) => {
        const { engine, error } = await runProgram({
            ...PUBLISHED,
            ...extra,
            hosts: typeof hosts === "string" ? hosts : JSON.stringify(hosts),
        });
        expect(engine.registrations).toHaveLength(0);
        return error?.message ?? "";
    };

    it("names the host and key of a bad value", async () => {
        expect(await refuse([A, { ...B, replicas: -2 }])).toContain("hosts[1].replicas (got -2) must be an integer from 0 to 1000");
    });

    it("refuses duplicate host names and Docker hosts", async () => {
        const message = await refuse([A, { ...B, name: A.name }, { ...C, dockerHost: A.dockerHost, certPath: undefined }]);
        expect(message).toContain('hosts[1].name (got "gpu-a") repeats hosts[0].name; each host needs its own');
        expect(message).toContain('hosts[2].dockerHost (got "ssh://ops@gpu-a.example.com") repeats hosts[0].dockerHost');
    });

    it("requires TLS certificates for tcp://", async () => {
        expect(await refuse([{ ...C, certPath: undefined }])).toContain("hosts[0].certPath is required with a tcp:// dockerHost");
    });

    it("refuses an unknown Docker host scheme and unknown host keys", async () => {
        const message = await refuse([{ ...A, dockerHost: "http://gpu-a:2375", replica: 3 }]);
        expect(message).toContain(
            'hosts[0].dockerHost (got "http://gpu-a:2375") must be unix:///path/to/docker.sock, ssh://user@host[:port] or tcp://host:port',
        );
        expect(message).toContain("hosts[0].replica is not a host key");
    });

    it("refuses two hosts whose runners would share runner IDs", async () => {
        const message = await refuse([
            { ...A, runnerIdPrefix: "shared" },
            { ...B, runnerIdPrefix: "shared" },
        ]);
        expect(message).toContain("runner ID shared-1 is planned on both host gpu-a and host gpu-b");
    });

    it("names the host of a port collision", async () => {
        expect(await refuse([A, { ...B, replicas: 3, vncPortBase: 3390 }])).toContain("host gpu-b: host port 3390 is both");
    });

    it("refuses hosts that is not a list", async () => {
        expect(await refuse("gpu-a")).toContain(`hosts (got "gpu-a") must be a list of hosts, each with name, dockerHost and replicas`);
    });
});
