import { interleave, parseSince, selectRunners } from "../../cli/logs";
import { parseConfig } from "../../components/config";
import { MINIMAL } from "../fixtures/configs";

const context = { stackName: "dev", machineHostName: "box" };
const single = parseConfig({ ...MINIMAL, hostName: "box", replicas: "3" }, context).hosts;
const fleet = parseConfig(
    {
        ...MINIMAL,
        hosts: JSON.stringify([
            { name: "a", dockerHost: "ssh://a", replicas: 1 },
            { name: "b", dockerHost: "ssh://b", replicas: 2 },
        ]),
    },
    context,
).hosts;

describe("selectRunners", () => {
    it("finds a runner by index on a single host", () => {
        expect(selectRunners(single, "dev", "2", false).map((t) => t.runner.containerName)).toEqual(["helix-zed-agent-dev-2"]);
    });

    it("finds a runner by ID across hosts", () => {
        const [t] = selectRunners(fleet, "dev", "external-zed-b-2", false);
        expect([t.host.name, t.runner.containerName]).toEqual(["b", "helix-zed-agent-dev-2"]);
    });

    it("selects every runner with --all", () => {
        expect(selectRunners(fleet, "dev", undefined, true).map((t) => t.runner.runnerId)).toEqual([
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
        expect(() => selectRunners(hosts, "dev", which, false)).toThrow(message);
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
                { runnerId: "r-1", text: "2026-11-24T06:00:01.000000000Z start\n2026-11-24T06:00:03.000000000Z connected\n" },
                { runnerId: "r-2", text: "2026-11-24T06:00:02.000000000Z start\n" },
            ]),
        ).toEqual(["r-1 | start", "r-2 | start", "r-1 | connected"]);
    });
});
