// End to end: the host checks (cli/checks/) against a real Docker engine, this machine's, which is
// a real unprepared sandbox host: no nvidia runtime, and no /dev/uinput or /dev/uhid (what it
// lacks is read from the machine itself, so the test holds wherever it runs, the Docker 26 node
// included). Each device is tried with a probe container the engine refuses to start without it.
import * as fs from "node:fs";
import * as os from "node:os";
import { probeEngine, probeGpu } from "../../cli/checks/probe";
import { detectGpuVendor } from "../../cli/checks/gpuRules";
import { plan } from "../../cli/plan";
import { placementCommands } from "../../cli/placements";
import { parseConfig } from "../../components/stackPlan";
import { TEST_TOKEN } from "../fixtures/configs";
import { docker, requireEngine } from "../support/docker";
import { type PreparedHost, startPreparedHost } from "../support/preparedHost";
import { scratchProject } from "../cli/lib/scratch";

const context = { stackName: "e2e-host-checks", machineHostName: os.hostname() };
const SANDBOX = {
    workload: "sandbox",
    apiToken: TEST_TOKEN,
    apiHost: "https://helix.example.com",
    helixVersion: "2.12.2",
    gpuVendor: "nvidia",
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

    it("warn when the new sandboxes' desktop images take more than Docker's root has free, saying how much", async () => {
        const { DockerRootDir } = (await docker.info()) as { DockerRootDir: string };
        const [check] = await placementCommands(parseConfig({ ...SANDBOX, replicas: "100" }, context)).checkHosts({ docker: () => docker });
        const stats = fs.statfsSync(DockerRootDir);
        const [warning] = check.warnings ?? [];
        const free = Number(/^(\d+) GB free under Docker's root /.exec(warning)?.[1]);
        expect(warning).toContain(
            `under Docker's root ${DockerRootDir}, and the 100 new volumes planned there (desktop images) take 5000 GB at least`,
        );
        expect(Math.abs(free - (stats.bavail * stats.bsize) / 1e9)).toBeLessThan(2);
        // One sandbox on this machine: its 50 GB against what is free here.
        const [one] = await placementCommands(parseConfig(SANDBOX, context)).checkHosts({ docker: () => docker });
        expect(one.warnings?.length).toBe(stats.bavail * stats.bsize < 50e9 ? 1 : 0);
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
        expect(checks).toEqual([{ host: "e2e-box", problems: [], warnings: [] }]);
    });
});

describe("gpuVendor auto on this machine's engine", () => {
    it("finds what Helix's installer would find here, from the device nodes and runtimes the engine has", async () => {
        const runtimes = Object.keys(((await docker.info()) as { Runtimes?: object }).Runtimes ?? {});
        const facts = await probeGpu(docker);
        expect(facts.uncheckedDevices).toEqual([]);
        expect(facts.runtimes).toEqual(runtimes);
        // What the engine's host has, read from its file system (the tests run beside their engine).
        expect(facts.presentDevices).toEqual(["/dev/nvidiactl", "/dev/kfd", "/dev/dri"].filter((d) => fs.existsSync(d)));
        if (facts.presentDevices.length === 0 && !runtimes.includes("nvidia"))
            expect(detectGpuVendor(facts)).toMatchObject({ vendor: "none" });
        expect(await probeLeftovers()).toEqual([]);
    });
});

describe("a host prepared as Helix's installer prepares one (device nodes, an nvidia runtime entry)", () => {
    let host: PreparedHost;
    // A stack file as a new user writes it: gpuVendor left to auto.
    const STACK =
        "config:\n  zed-runner:workload: sandbox\n  zed-runner:apiHost: https://helix.example.com\n  zed-runner:helixVersion: 2.12.2\n  zed-runner:hostName: e2e-box\n";

    beforeAll(async () => {
        host = await startPreparedHost(process.env.BASE_IMAGE ?? "debian:bookworm-slim");
    }, 600_000);

    afterAll(async () => {
        await host?.remove();
    });

    it("passes the checks the unprepared machine fails, for the same NVIDIA sandbox stack", async () => {
        const [check] = await placementCommands(parseConfig(SANDBOX, context)).checkHosts({ docker: () => host.docker });
        expect([check.host, check.problems]).toEqual(["e2e-box", []]);
    });

    it("is found to have an NVIDIA GPU by gpuVendor auto, and planned and checked with it, nothing written", async () => {
        const root = scratchProject({ sandbox: STACK });
        const printed = jest.spyOn(console, "log").mockImplementation(() => undefined);
        let code: number;
        let text: string;
        try {
            const env = { ZED_RUNNER_API_TOKEN: TEST_TOKEN };
            code = await plan(["--stack", "sandbox", "--check-hosts"], env, { root, engines: { docker: () => host.docker } });
            text = printed.mock.calls.map((c) => String(c[0])).join("\n");
        } finally {
            printed.mockRestore();
        }
        expect(text).toContain(
            "gpuVendor is auto; each host's GPU, as Helix's installer detects it (npm run deploy pins it):\n  e2e-box: nvidia (the NVIDIA driver's /dev/nvidiactl)",
        );
        expect(text).toContain("Host checks: every host is ready.\n  e2e-box: ready");
        expect(code).toBe(0);
        expect(fs.readFileSync(`${root}/Pulumi.sandbox.yaml`, "utf8")).toBe(STACK);
    });
});
