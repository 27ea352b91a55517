import type Docker from "dockerode";
import { logs, parseSince } from "../../cli/logs";
import { interleave } from "../../cli/logStreams";
import { selectContainers } from "../../cli/placements/dockerHosts";
import { RUNNER_COMMANDS } from "../../cli/workloads/runner";
import { parseConfig } from "../../components/stackPlan";
import { MINIMAL } from "../fixtures/configs";
import { hostsOf } from "../fixtures/placements";
import { scratchProject } from "./lib/scratch";

const context = { stackName: "dev", machineHostName: "box" };
const single = hostsOf(parseConfig({ ...MINIMAL, hostName: "box", replicas: "3" }, context));
const fleet = hostsOf(
    parseConfig(
        {
            ...MINIMAL,
            hosts: JSON.stringify([
                { name: "a", dockerHost: "ssh://a", replicas: 1 },
                { name: "b", dockerHost: "ssh://b", replicas: 2 },
            ]),
        },
        context,
    ),
);

describe("selectRunners", () => {
    it("finds a runner by index on a single host", () => {
        expect(selectContainers(single, "2", false, RUNNER_COMMANDS).map((t) => t.container.containerName)).toEqual([
            "helix-zed-agent-dev-2",
        ]);
    });

    it("finds a runner by ID across hosts", () => {
        const [t] = selectContainers(fleet, "external-zed-b-2", false, RUNNER_COMMANDS);
        expect([t.host.name, t.container.containerName]).toEqual(["b", "helix-zed-agent-dev-2"]);
    });

    it("selects every runner with --all", () => {
        expect(selectContainers(fleet, undefined, true, RUNNER_COMMANDS).map((t) => t.container.id)).toEqual([
            "external-zed-a-1",
            "external-zed-b-1",
            "external-zed-b-2",
        ]);
    });

    it.each([
        [single, "9", "No runner 9: the stack plans runners 1 to 3."],
        [
            single,
            "external-zed-box-9",
            "No runner with ID external-zed-box-9; the stack's runners: external-zed-box-1, external-zed-box-2, external-zed-box-3.",
        ],
        [fleet, "1", "This stack has 2 hosts: name the runner by its ID, e.g. external-zed-a-1."],
        [single, undefined, "Name a runner by index or runner ID"],
    ])("refuses an unclear choice", (hosts, which, message) => {
        expect(() => selectContainers(hosts, which, false, RUNNER_COMMANDS)).toThrow(message);
    });
});

describe("parseSince", () => {
    const now = new Date("2026-11-24T07:00:00Z");
    it.each([
        ["10m", now.getTime() / 1000 - 600],
        ["2h", now.getTime() / 1000 - 7200],
        ["2026-11-24T06:00:00Z", now.getTime() / 1000 - 3600],
    ])("reads %s", (since, expected) => {
        expect(parseSince(since, now)).toBe(expected);
    });

    it("refuses anything else, saying what it takes", () => {
        expect(() => parseSince("yesterday", now)).toThrow("--since takes a duration such as 10m, 2h, 1d");
    });
});

describe("interleave", () => {
    it("orders every runner's lines by Docker's timestamps and prefixes the runner ID", () => {
        expect(
            interleave([
                { id: "r-1", text: "2026-11-24T06:00:01.000000000Z start\n2026-11-24T06:00:03.000000000Z connected\n" },
                { id: "r-2", text: "2026-11-24T06:00:02.000000000Z start\n" },
            ]),
        ).toEqual(["r-1 | start", "r-2 | start", "r-1 | connected"]);
    });
});

describe("npm run logs: nothing to follow", () => {
    /** TEST DOUBLE for a Docker engine that answers and has no container of the stack. */
    const emptyEngine = {
        ping: async () => "OK",
        getContainer: () => ({ logs: async () => Promise.reject(Object.assign(new Error("no such container"), { statusCode: 404 })) }),
    } as unknown as Docker;
    let stderr: jest.SpyInstance;
    beforeEach(() => {
        stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    });
    afterEach(() => stderr.mockRestore());
    const written = () => stderr.mock.calls.map((c) => String(c[0])).join("");

    it("says so and exits 1 when the stack plans no runners", async () => {
        const root = scratchProject({ dev: 'config:\n  zed-runner:hostName: box\n  zed-runner:replicas: "0"\n' });
        expect(await logs(["--all", "--follow"], {}, { root, engines: { docker: () => emptyEngine } })).toBe(1);
        expect(written()).toBe("Stack dev plans no runners (replicas is 0): there is nothing to follow.\n");
    });

    it("says so and exits 1 when no runner has a container", async () => {
        const root = scratchProject({ dev: 'config:\n  zed-runner:hostName: box\n  zed-runner:replicas: "2"\n' });
        expect(await logs(["--all", "--follow"], {}, { root, engines: { docker: () => emptyEngine } })).toBe(1);
        expect(written()).toContain("Runner external-zed-box-1 has no container helix-zed-agent-dev-1 on host box");
        expect(written()).toContain("None of stack dev's 2 runners has a container (see `npm run status`): there is nothing to follow.\n");
    });

    it("refuses arguments it does not know, a runner beside --all, and a stack without its file", async () => {
        const root = scratchProject({ dev: "config:\n  zed-runner:hostName: box\n" });
        const deps = { root, engines: { docker: () => emptyEngine } };
        await expect(logs(["-f"], {}, deps)).rejects.toThrow("Unknown option -f");
        await expect(logs(["1", "--all"], {}, deps)).rejects.toThrow("Name one runner (1) or pass --all, not both.");
        await expect(logs(["--all", "--stack", "prdo"], {}, deps)).rejects.toThrow("or pass --stack with one of: dev.");
    });
});
