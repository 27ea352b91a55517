// The whole pack against what index.ts declares under Pulumi's mocks, as `pulumi preview --policy-pack ./policy` would run it.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { readStackConfig } from "../../cli/stackFiles";
import { policies } from "../../policy/policies";
import { TEST_TOKEN } from "../fixtures/configs";
import { runnerConfig } from "../fixtures/placements";
import { allRegistered, promiseOf } from "../support/mocks";
import { runProgram } from "../support/program";
import { Fixture, fixturesOf, stackViolationsOf, violationsOf } from "./harness";

/** Every violation of every policy, as "policy-name (level): message". */
async function runPack(fixtures: Fixture[]): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        const label = `${policy.name} (${policy.enforcementLevel})`;
        if ("validateStack" in policy) {
            for (const v of await stackViolationsOf(policy as StackValidationPolicy, fixtures)) found.push(`${label}: ${v}`);
        } else {
            for (const fixture of fixtures) {
                for (const v of await violationsOf(policy as ResourceValidationPolicy, fixture)) found.push(`${label}: ${v}`);
            }
        }
    }
    return found;
}

describe("the policy pack on index.ts", () => {
    it("has twenty policies with unique names and fix-it descriptions", () => {
        expect(policies.map((p) => p.name)).toEqual([
            "runner-token-not-default",
            "runner-token-secret",
            "remote-desktop-not-public",
            "restart-policy",
            "healthcheck-required",
            "no-host-takeover",
            "resource-limits",
            "log-rotation",
            "image-pinned",
            "api-host-tls",
            "unique-runners",
            "runner-hardened",
            "runner-pids-limit",
            "sandbox-privileged-only",
            "sandbox-token-secret",
            "sandbox-no-docker-socket",
            "sandbox-image-pinned",
            "sandbox-own-volumes",
            "sandbox-ids-unique",
            "sandbox-no-published-ports",
            "sandbox-as-helix-runs-it",
        ]);
        for (const p of policies) expect(p.description).toMatch(/^Checks that .+Fix/s);
    });

    it("passes every mandatory policy for the dev stack; only api-host-tls advises about http://api:8080", async () => {
        const { engine, error } = await runProgram({ ...readStackConfig("dev").raw, apiToken: TEST_TOKEN, hostName: "box" }, "dev", [
            "helix_default",
        ]);
        expect(error).toBeUndefined();
        expect(await runPack(fixturesOf(engine.registrations))).toEqual([
            "api-host-tls (advisory): API_HOST must use https: http://api:8080 would send the runner token unencrypted.",
            "api-host-tls (advisory): API_HOST must use https: http://api:8080 would send the runner token unencrypted.",
        ]);
    });

    it("passes every policy for a remote control plane over https", async () => {
        const { engine } = await runProgram({ apiToken: TEST_TOKEN, apiHost: "https://helix.example.com", replicas: "3" });
        expect(await runPack(fixturesOf(engine.registrations))).toEqual([]);
    });

    it("passes every policy for a sandbox stack on two hosts, as the program declares it", async () => {
        const { engine, error } = await runProgram({
            apiToken: TEST_TOKEN,
            apiHost: "https://helix.example.com",
            workload: "sandbox",
            helixVersion: "2.12.2",
            gpuVendor: "nvidia",
            hosts: JSON.stringify([
                { name: "gpu-a", dockerHost: "ssh://ops@gpu-a", replicas: 2 },
                { name: "gpu-b", dockerHost: "ssh://ops@gpu-b", replicas: 1 },
            ]),
        });
        expect(error).toBeUndefined();
        const fixtures = fixturesOf(engine.registrations);
        expect(fixtures.filter((f) => f.type === "docker:index/container:Container")).toHaveLength(3);
        expect(await runPack(fixtures)).toEqual([]);
    });

    it("reports exactly the unsafe settings of an unsafe stack", async () => {
        // The program warns about the same settings through Pulumi's log (console.warn under mocks).
        const warned = jest.spyOn(console, "warn").mockImplementation(() => undefined);
        const { engine, error } = await runProgram({
            apiToken: "oh-hallo-insecure-token",
            allowInsecureToken: "true",
            apiHost: "https://helix.example.com",
            bindAddress: "0.0.0.0",
            publishDesktopPorts: "true",
            restartPolicy: "no",
            hostName: "box",
            replicas: "1",
        });
        expect(error).toBeUndefined();
        expect(
            warned.mock.calls.map(
                (c) =>
                    String(c[0])
                        .replace(/^warning: \[runtime\] /, "")
                        .split(":")[0],
            ),
        ).toEqual([
            "apiToken is the insecure default from Helix's examples; accepted because allowInsecureToken is true. Never do this on a shared network.",
            "restartPolicy is no",
            "bindAddress is 0.0.0.0",
        ]);
        warned.mockRestore();
        // A second component with its own names and ports but the same runner IDs.
        const { ZedRunner } = await import("../../components/runner/zedRunner");
        const { parseConfig } = await import("../../components/stackPlan");
        const { placement } = runnerConfig(
            parseConfig(
                {
                    apiToken: TEST_TOKEN,
                    apiHost: "https://helix.example.com",
                    hostName: "box",
                    containerNamePrefix: "copy",
                    rdpPortBase: "13389",
                    vncPortBase: "15900",
                    healthPortBase: "13030",
                },
                { stackName: "dev", machineHostName: "box" },
            ),
        );
        if (placement.kind !== "local") throw new Error(`expected the local placement, got ${placement.kind}`);
        const copy = new ZedRunner("copy", { host: placement.host, apiToken: TEST_TOKEN });
        await promiseOf(copy.containers[0].urn);
        await allRegistered();

        expect(await runPack(fixturesOf(engine.registrations))).toEqual([
            "runner-token-not-default (mandatory): Runner container must not use Helix's example token oh-hallo-insecure-token: anyone could register runners with it.",
            'remote-desktop-not-public (mandatory): RDP port 3389 must not be published on every interface (ip "0.0.0.0"); bind it to 127.0.0.1 or a private address.',
            'remote-desktop-not-public (mandatory): VNC port 5900 must not be published on every interface (ip "0.0.0.0"); bind it to 127.0.0.1 or a private address.',
            'restart-policy (mandatory): Runner container must restart unless-stopped or always (restart is "no").',
            'unique-runners (mandatory): Runners must have unique RUNNER_IDs per control plane: "external-zed-box-1" is used by zed-runner-runner-1, copy-runner-1.',
        ]);
    });
});
