// A stack whose docker:host moves `pulumi up` to another engine: the commands read it
// from the stack file and use that engine too, naming it, instead of this machine's.
import * as fs from "node:fs";
import * as path from "node:path";
import type Docker from "dockerode";

// The commands find stack files in the project root: a temporary one here, removed after.
jest.mock("../../components/paths", () => {
    const nodeFs = jest.requireActual<typeof import("node:fs")>("node:fs");
    const nodeOs = jest.requireActual<typeof import("node:os")>("node:os");
    const nodePath = jest.requireActual<typeof import("node:path")>("node:path");
    return { PROJECT_ROOT: nodeFs.mkdtempSync(nodePath.join(nodeOs.tmpdir(), "local-engine-")) };
});

import { renderPlan } from "../../cli/plan";
import { collectStatus, selectContainers } from "../../cli/placements/dockerHosts";
import { RUNNER_COMMANDS } from "../../cli/workloads/runner";
import { loadStackFiles } from "../../cli/stackFiles";
import type { HostIdentity } from "../../components/placements/placement";
import { PROJECT_ROOT } from "../../components/paths";
import { hostsOf } from "../fixtures/placements";

const ROOT = path.resolve(__dirname, "../..");
const TOKEN = "tok-local-engine-6d2f";

beforeAll(() => {
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(PROJECT_ROOT, "Pulumi.yaml"));
    fs.writeFileSync(
        path.join(PROJECT_ROOT, "Pulumi.remote.yaml"),
        [
            "config:",
            `  zed-runner:apiToken: ${TOKEN}`,
            "  zed-runner:hostName: box",
            "  zed-runner:replicas: 2",
            "  docker:host: ssh://ops@gpu-a.example.com:2222",
            "  docker:sshOpts:",
            "    - -o",
            "    - ConnectTimeout=5",
            "",
        ].join("\n"),
    );
    fs.writeFileSync(path.join(PROJECT_ROOT, "Pulumi.here.yaml"), `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:hostName: box\n`);
    fs.writeFileSync(
        path.join(PROJECT_ROOT, "Pulumi.typo.yaml"),
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:hostName: box\n  zed_runner:replicas: 3\n`,
    );
});

afterAll(() => {
    fs.rmSync(PROJECT_ROOT, { recursive: true, force: true });
});

const REMOTE = { host: "ssh://ops@gpu-a.example.com:2222", certPath: undefined, sshOpts: ["-o", "ConnectTimeout=5"] };

describe("a stack with docker:host", () => {
    it("is planned on that engine, named", () => {
        expect(renderPlan("remote").split("\n")[2]).toBe("Host box (ssh://ops@gpu-a.example.com:2222): 2 runners");
        expect(renderPlan("here").split("\n")[2]).toBe("Host box (this machine's Docker engine): 1 runner");
    });

    it("has its status taken from that engine", async () => {
        const { parsed } = loadStackFiles("remote");
        const reached: HostIdentity[] = [];
        /** TEST DOUBLE for an engine that does not answer. */
        const deadEngine = { ping: async () => Promise.reject(new Error("connect ECONNREFUSED")) } as unknown as Docker;
        const rows = await collectStatus("remote", hostsOf(parsed), RUNNER_COMMANDS, (host) => {
            reached.push(host);
            return deadEngine;
        });
        expect(reached.map((h) => [h.name, h.connection])).toEqual([["box", REMOTE]]);
        expect(rows[0].error).toContain("Cannot reach the Docker engine of host box at ssh://ops@gpu-a.example.com:2222");
    });

    it("has its logs read from that engine", () => {
        const { parsed } = loadStackFiles("remote");
        expect(selectContainers(hostsOf(parsed), "2", false, RUNNER_COMMANDS).map((t) => [t.container.id, t.host.connection])).toEqual([
            ["external-zed-box-2", REMOTE],
        ]);
    });
});

it("plan warns about a key in a misspelt namespace", () => {
    expect(renderPlan("typo")).toContain(
        "\n  - zed_runner:replicas is ignored: it is in namespace zed_runner, not zed-runner. If it was meant for zed-runner, " +
            "set it as zed-runner:replicas (`pulumi config rm zed_runner:replicas`, then `pulumi config set replicas ...`).",
    );
});
