// The PIDs limit's dynamic provider as `pulumi up` ships it: serialized by Pulumi's real closure
// serializer (the other unit tests stand it in, see test/support/jestSetup.ts), loaded back from
// that text, and run against a stand-in `docker` on PATH that records what it was asked.
jest.unmock("@pulumi/pulumi/runtime/closure/serializeClosure");
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { pidsLimitProvider } from "../../../components/runner/containerPidsLimit";

const SECRET = "tok-never-in-the-provider-4f1c";

describe("the serialized PIDs limit provider", () => {
    let dir: string;
    const savedEnv = { ...process.env };
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pids-provider-"));
        // A stand-in Docker CLI: records its arguments and whether a secret reached its environment.
        fs.writeFileSync(
            path.join(dir, "docker"),
            `#!/bin/sh\necho "$@" >> "${dir}/calls"\nenv | grep -c "${SECRET}" >> "${dir}/secret-seen" || true\n`,
            { mode: 0o755 },
        );
        process.env.PATH = `${dir}:${process.env.PATH}`;
        process.env.ZED_RUNNER_API_TOKEN = SECRET;
        delete process.env.DOCKER_HOST;
    });
    afterAll(() => {
        process.env = savedEnv;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("serializes, and the loaded copy runs docker update --pids-limit on the local engine without the process's secrets", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => pidsLimitProvider, { allowSecrets: true }); // as pulumi.dynamic does
        expect(serialized.text).not.toContain(SECRET);
        const file = path.join(dir, "provider.js");
        fs.writeFileSync(file, serialized.text);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = (require(file) as { handler: () => typeof pidsLimitProvider }).handler();

        await loaded.create({ containerId: "abc123", containerName: "helix-zed-agent-dev-1", pidsLimit: 256 });
        await loaded.delete!("helix-zed-agent-dev-1-pids-limit", {
            containerId: "abc123",
            containerName: "helix-zed-agent-dev-1",
            pidsLimit: 256,
        });

        expect(fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n")).toEqual([
            "update --pids-limit 256 abc123",
            "update --pids-limit -1 abc123",
        ]);
        expect(fs.readFileSync(path.join(dir, "secret-seen"), "utf8").trim().split("\n")).toEqual(["0", "0"]);
    });
});
