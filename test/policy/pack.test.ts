// The whole pack against what index.ts declares under Pulumi's mocks, as `pulumi preview --policy-pack ./policy` would run it.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { readStackConfig } from "../../cli/stackFiles";
import { parseImageReference } from "../../contract";
import { policies } from "../../policy/policies";
import { MINIMAL_SANDBOX, TEST_TOKEN } from "../fixtures/configs";
import { runnerConfig } from "../fixtures/placements";
import { allRegistered, promiseOf } from "../support/mocks";
import { runProgram } from "../support/program";
import { Fixture, fixturesOf, stackViolationsOf, violationsOf } from "./harness";

/** Every violation of every policy, as "policy-name (level): message", each policy with its config from `config`. */
async function runPack(fixtures: Fixture[], config: Record<string, Record<string, unknown>> = {}): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        const label = `${policy.name} (${policy.enforcementLevel})`;
        const own = config[policy.name] ?? {};
        if ("validateStack" in policy) {
            for (const v of await stackViolationsOf(policy as StackValidationPolicy, fixtures, own)) found.push(`${label}: ${v}`);
        } else {
            for (const fixture of fixtures) {
                for (const v of await violationsOf(policy as ResourceValidationPolicy, fixture, own)) found.push(`${label}: ${v}`);
            }
        }
    }
    return found;
}

describe("the policy pack on index.ts", () => {
    it("has twenty-one policies with unique names and fix-it descriptions", () => {
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
            ...MINIMAL_SANDBOX,
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

    it("passes a sandbox stack as the real provider shows it: a repoDigest without a tag, then the image ID in the state", async () => {
        const { engine, error } = await runProgram({
            ...MINIMAL_SANDBOX,
            replicas: "2",
        });
        expect(error).toBeUndefined();
        const fixtures = fixturesOf(engine.registrations);
        const pulls = fixtures.filter((f) => f.type === "docker:index/remoteImage:RemoteImage");
        expect(pulls).toHaveLength(2);
        // Docker's repo digests carry no tag (the mocks' keep it): the release is only in the RemoteImage's name.
        const outputs = pulls.map((f, i) => {
            const { repository } = parseImageReference(f.props.name);
            return { repoDigest: `${repository}@sha256:${String(i).repeat(64)}`, imageId: `sha256:${String(i + 5).repeat(64)}` };
        });
        const withOutputs = (image: "repoDigest" | "imageId", name = "ghcr.io/helixml/helix-sandbox:2.12.2") =>
            fixtures.map((f) => {
                const i = pulls.indexOf(f);
                if (i >= 0) return { ...f, props: { ...f.props, name, ...outputs[i] } };
                if (f.type !== "docker:index/container:Container") return f;
                const n = Number(/(\d+)$/.exec(f.props.name)![1]) - 1;
                return { ...f, props: { ...f.props, image: outputs[n][image] } };
            });
        expect(await runPack(withOutputs("repoDigest"))).toEqual([]);
        // privileged-only reads a container's inputs (the repoDigest); the stack check reads its state, where the image ID is.
        const imageIds = withOutputs("imageId");
        const stackPolicies = policies.filter((p) => "validateStack" in p) as StackValidationPolicy[];
        for (const policy of stackPolicies) expect(await stackViolationsOf(policy, imageIds)).toEqual([]);
        // Pulled at latest, the digest is refused through its RemoteImage.
        expect(await runPack(withOutputs("repoDigest", "ghcr.io/helixml/helix-sandbox:latest"))).toHaveLength(2);
    });

    it("passes every policy for a sandbox stack with a mirror's image, extra variables, a registry mirror and networks", async () => {
        const { engine, error } = await runProgram(
            {
                ...MINIMAL_SANDBOX,
                helixVersion: "",
                sandboxImage: "registry.example.com/helixml/helix-sandbox:2.12.2",
                allowSandboxImageMirror: "true",
                registryMirror: "registry.example.com",
                networks: JSON.stringify(["helix_default"]),
                extraEnv: JSON.stringify({ HTTPS_PROXY: "http://proxy.example.com:3128", NO_PROXY: "localhost,api" }),
                replicas: "2",
            },
            "dev",
            ["helix_default"],
        );
        expect(error).toBeUndefined();
        const fixtures = fixturesOf(engine.registrations);
        expect(fixtures.filter((f) => f.type === "docker:index/container:Container")).toHaveLength(2);
        // The mirror's repository is a sandbox's to the pack: allowed once listed, and refused until then.
        const mirrors = { sandboxImageMirrors: ["registry.example.com/helixml/helix-sandbox"] };
        expect(await runPack(fixtures, { "sandbox-privileged-only": mirrors })).toEqual([]);
        expect(await runPack(fixtures)).toHaveLength(2);
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
