// End to end: the host checks (cli/checks/) against a real Docker engine, this machine's, which is
// a real unprepared sandbox host: no nvidia runtime, and no /dev/uinput or /dev/uhid (what it
// lacks is read from the machine itself, so the test holds wherever it runs, the Docker 26 node
// included). Each device is tried with a probe container the engine refuses to start without it.
import * as fs from "node:fs";
import * as os from "node:os";
import { probeEngine } from "../../cli/checks/probe";
import { placementCommands } from "../../cli/placements";
import { parseConfig } from "../../components/stackPlan";
import { TEST_TOKEN } from "../fixtures/configs";
import { docker, requireEngine } from "../support/docker";

const context = { stackName: "e2e-host-checks", machineHostName: os.hostname() };
const SANDBOX = {
    workload: "sandbox",
    apiToken: TEST_TOKEN,
    apiHost: "https://helix.example.com",
    helixVersion: "2.12.2",
    hostName: "e2e-box",
};

/** Whatever the probe left on the engine: it must leave nothing. */
async function probeLeftovers(): Promise<string[]> {
    const filters = JSON.stringify({ label: ["zed-runner.host-check"] });
    const containers = await docker.listContainers({ all: true, filters });
    const images = await docker.listImages({ filters: JSON.stringify({ reference: ["zed-runner-host-check"] }) });
    return [...containers.map((c) => `container ${c.Id}`), ...images.map((i) => `image ${i.Id}`)];
}

beforeAll(async () => {
    await requireEngine();
});

describe("host checks on this machine's engine", () => {
    it("refuse an NVIDIA sandbox stack here, naming the runtime and each device node the machine lacks with its fix", async () => {
        const missing = ["/dev/uinput", "/dev/uhid", "/dev/dri"].filter((d) => !fs.existsSync(d));
        const runtimes = Object.keys(((await docker.info()) as { Runtimes?: object }).Runtimes ?? {});
        const [check] = await placementCommands(parseConfig(SANDBOX, context)).checkHosts({ docker: () => docker });
        expect(check.host).toBe("e2e-box");
        if (!runtimes.includes("nvidia"))
            expect(check.problems).toContainEqual(expect.stringMatching(/^Docker has no nvidia runtime, so it refuses --runtime nvidia/));
        for (const device of missing) expect(check.problems.join("\n")).toContain(device);
        expect(check.problems.length).toBeGreaterThan(0);
        expect(await probeLeftovers()).toEqual([]);
    });

    it("tell a device node the host has from one it lacks", async () => {
        const facts = await probeEngine(docker, { devices: ["/dev/null", "/dev/zed-runner-no-such-device"], runtime: undefined });
        expect([facts.missingDevices, facts.uncheckedDevices]).toEqual([["/dev/zed-runner-no-such-device"], []]);
        expect(facts.serverVersion).toMatch(/^\d+\.\d+/);
        expect(await probeLeftovers()).toEqual([]);
    });

    it("find a runner stack's host ready: its engine is new enough, and a runner needs no device", async () => {
        const checks = await placementCommands(parseConfig({ apiToken: TEST_TOKEN, hostName: "e2e-box" }, context)).checkHosts({
            docker: () => docker,
        });
        expect(checks).toEqual([{ host: "e2e-box", problems: [] }]);
    });
});
