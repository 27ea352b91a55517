import { uniqueRunners } from "../../policy/fleet";
import { runner, runnerProps, withEnv } from "./fixtures";
import { Fixture, stackViolationsOf } from "./harness";

/** Runner n of a compliant fleet: its own name, ID and ports. */
function nth(n: number, extra: Partial<Fixture> = {}, changes: Record<string, any> = {}): Fixture {
    const ports = runnerProps().ports.map((p: any) => ({ ...p, external: p.external + n }));
    const envs = withEnv("RUNNER_ID", `external-zed-box-${n}`);
    return { ...runner({ name: `helix-zed-agent-dev-${n}`, ports, envs, ...changes }), name: `runner-${n}`, ...extra };
}

describe("unique-runners", () => {
    it("passes distinct names, IDs and ports", async () => {
        expect(await stackViolationsOf(uniqueRunners, [nth(1), nth(2), nth(3)])).toEqual([]);
    });

    it("fails a shared container name", async () => {
        expect(await stackViolationsOf(uniqueRunners, [nth(1), nth(2, {}, { name: "helix-zed-agent-dev-1" })])).toEqual([
            'Containers must have unique names on a Docker host: "helix-zed-agent-dev-1" is used by runner-1, runner-2.',
        ]);
    });

    it("fails a shared RUNNER_ID for one control plane, even across Docker hosts", async () => {
        const other = nth(
            2,
            { provider: { urn: "urn:provider:b", host: "ssh://b" } },
            { envs: withEnv("RUNNER_ID", "external-zed-box-1") },
        );
        expect(await stackViolationsOf(uniqueRunners, [nth(1), other])).toEqual([
            'Runners must have unique RUNNER_IDs per control plane: "external-zed-box-1" is used by runner-1, runner-2.',
        ]);
    });

    it("fails a host port bound twice, counting 0.0.0.0 as every address", async () => {
        const wide = nth(2, {}, { ports: [{ internal: 3389, external: 3390, ip: "0.0.0.0", protocol: "tcp" }] });
        expect(await stackViolationsOf(uniqueRunners, [nth(1), wide])).toEqual([
            "Containers must not publish the same host port: runner-1 and runner-2 both bind 127.0.0.1:3390/tcp and *:3390/tcp.",
        ]);
    });

    it("allows the same name and ports on different Docker hosts", async () => {
        const a = nth(1, { provider: { urn: "urn:provider:a", host: "ssh://a" } });
        const b = nth(
            1,
            { name: "runner-1b", provider: { urn: "urn:provider:b", host: "ssh://b" } },
            { envs: withEnv("RUNNER_ID", "external-zed-b-1") },
        );
        expect(await stackViolationsOf(uniqueRunners, [a, b])).toEqual([]);
    });

    it.each([
        ["unix:///var/run/docker.sock", "unix:///run/docker.sock"],
        ["ssh://ops@gpu-a", "ssh://admin@GPU-A.:22"],
    ])("counts %s and %s as one Docker host", async (first, second) => {
        const a = nth(1, { provider: { urn: "urn:provider:a", host: first } });
        const b = nth(2, { provider: { urn: "urn:provider:b", host: second } }, { name: "helix-zed-agent-dev-1" });
        expect(await stackViolationsOf(uniqueRunners, [a, b])).toEqual([
            'Containers must have unique names on a Docker host: "helix-zed-agent-dev-1" is used by runner-1, runner-2.',
        ]);
    });

    it.each([
        ["https://helix.example.com", "https://HELIX.example.com./"],
        ["https://helix.example.com", "https://helix.example.com:443"],
        ["https://bücher.example.com", "https://xn--bcher-kva.example.com"],
    ])("counts %s and %s as one control plane for RUNNER_IDs", async (first, second) => {
        const a = nth(
            1,
            {},
            {
                envs: withEnv("API_HOST", first)
                    .filter((e) => !e.startsWith("RUNNER_ID="))
                    .concat("RUNNER_ID=zed-1"),
            },
        );
        const b = nth(
            2,
            { provider: { urn: "urn:provider:b", host: "ssh://b" } },
            {
                envs: withEnv("API_HOST", second)
                    .filter((e) => !e.startsWith("RUNNER_ID="))
                    .concat("RUNNER_ID=zed-1"),
            },
        );
        expect(await stackViolationsOf(uniqueRunners, [a, b])).toEqual([
            'Runners must have unique RUNNER_IDs per control plane: "zed-1" is used by runner-1, runner-2.',
        ]);
    });

    it.each([
        ["ssh://bücher.example.com", "ssh://ops@xn--bcher-kva.example.com"],
        ["unix:///var/run/docker.sock", undefined],
    ])("counts %s and %s as one Docker host for names", async (first, second) => {
        const a = nth(1, { provider: { urn: "urn:provider:a", host: first } });
        const b = nth(2, second === undefined ? {} : { provider: { urn: "urn:provider:b", host: second } }, {
            name: "helix-zed-agent-dev-1",
        });
        expect(await stackViolationsOf(uniqueRunners, [a, b])).toEqual([
            'Containers must have unique names on a Docker host: "helix-zed-agent-dev-1" is used by runner-1, runner-2.',
        ]);
    });

    it("ignores resources with no names or ports", async () => {
        expect(await stackViolationsOf(uniqueRunners, [{ type: "docker:index/network:Network", props: { name: "n" } }, nth(1)])).toEqual(
            [],
        );
    });
});
