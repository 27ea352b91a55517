// The program's config loader under Pulumi's mocks: warnings about keys in a misspelt
// namespace reach Pulumi's log, and the stack's docker:* keys are left to the default
// provider, so the local placement is declared as it always was.
import * as os from "node:os";
import { sanitizeHostName } from "../../components/config/values";
import { MINIMAL } from "../fixtures/configs";
import { MockEngine, allRegistered, installMocks, promiseOf, stackConfig } from "../support/mocks";

interface Run {
    readonly engine: MockEngine;
    readonly warnings: string[];
    readonly hosts: Record<string, { dockerHost: string }> | undefined;
}

/** index.ts under mocks with MINIMAL and `extra`, full keys with their namespaces. */
async function runWith(extra: Record<string, string>): Promise<Run> {
    jest.resetModules();
    const pulumi = await import("@pulumi/pulumi");
    const engine = await installMocks(pulumi, "dev");
    pulumi.runtime.setAllConfig({ ...stackConfig(MINIMAL), ...extra }, ["zed-runner:apiToken"]);
    const warnings: string[] = [];
    const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(async (message: string) => {
        warnings.push(message);
    });
    try {
        const program = await engine.run(() => import("../../index"));
        await promiseOf(program.credentials);
        await allRegistered();
        return { engine, warnings, hosts: program.hosts as Run["hosts"] };
    } finally {
        warn.mockRestore();
    }
}

describe("loadStackConfig", () => {
    it("warns through Pulumi's log about keys in a namespace that looks like zed-runner's, or named like ours", async () => {
        const { warnings } = await runWith({
            "zed_runner:replicas": "3",
            "zedrunner:apiHost": "https://helix.example.com",
            "helix:runnerIdPrefix": "gpu",
            "docker:host": "unix:///var/run/docker.sock",
            "random:seed": "1",
            "team:owner": "ops",
            "zed-runner:hostName": "box",
        });
        expect(warnings).toEqual([
            "zed_runner:replicas is ignored: it is in namespace zed_runner, not zed-runner. If it was meant for zed-runner, " +
                "set it as zed-runner:replicas (`pulumi config rm zed_runner:replicas`, then `pulumi config set replicas ...`).",
            "zedrunner:apiHost is ignored: it is in namespace zedrunner, not zed-runner. If it was meant for zed-runner, " +
                "set it as zed-runner:apiHost (`pulumi config rm zedrunner:apiHost`, then `pulumi config set apiHost ...`).",
            "helix:runnerIdPrefix is ignored: it is in namespace helix, not zed-runner. If it was meant for zed-runner, " +
                "set it as zed-runner:runnerIdPrefix (`pulumi config rm helix:runnerIdPrefix`, then `pulumi config set runnerIdPrefix ...`).",
        ]);
    });

    it("warns through Pulumi's log when hostName is unset, so runner IDs would follow the machine running pulumi up", async () => {
        const machine = sanitizeHostName(os.hostname());
        const { warnings } = await runWith({});
        expect(warnings).toEqual([
            `hostName is not set, so runner IDs carry this machine's name (${machine}): a pulumi up from another machine would replace every runner. ` +
                `Pin it with \`pulumi config set hostName ${machine}\` (npm run deploy does so on first deploy).`,
        ]);
        expect((await runWith({ "zed-runner:hostName": "box" })).warnings).toEqual([]);
    });

    it("leaves docker:host to the default provider: no explicit provider, the same runner names", async () => {
        const plain = await runWith({});
        const remote = await runWith({ "docker:host": "ssh://ops@gpu-a.example.com", "docker:sshOpts": '["-p","2222"]' });
        const shape = (engine: MockEngine) =>
            engine.registrations.filter((r) => r.custom).map((r) => [r.type, r.name, r.provider === undefined]);
        expect(remote.engine.registrations.filter((r) => r.type.startsWith("pulumi:providers:"))).toEqual([]);
        expect(shape(remote.engine)).toEqual(shape(plain.engine));
        expect(remote.engine.byName("zed-runner").custom).toBe(false);
        expect(Object.values(remote.hosts ?? {}).map((h) => h.dockerHost)).toEqual(["local"]);
    });
});
