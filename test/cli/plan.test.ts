import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { plan, renderPlan } from "../../cli/plan";
import { loadStackFiles, readStackConfig } from "../../cli/stackFiles";
import { hostsOf } from "../fixtures/placements";
import { TEST_TOKEN } from "../fixtures/configs";
import { runProgram } from "../support/program";
import { hostEngine } from "../support/hostEngine";
import { scratchProject } from "./lib/scratch";

const host = os
    .hostname()
    .split(".")[0]
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");

describe("npm run plan", () => {
    it("prints the dev stack's runners, image, networks, the missing token and the hostName to pin", () => {
        const text = renderPlan("dev", { env: {} });
        expect(text.split("\n").slice(0, 6)).toEqual([
            "Stack dev: control plane http://api:8080, token not set (pulumi up refuses until you run `pulumi config set --secret apiToken <token>` here, or set ZED_RUNNER_API_TOKEN for npm run deploy)",
            `hostName: ${host}, this machine's name; the first npm run deploy pins it in Pulumi.dev.yaml`,
            "",
            `Host ${host} (this machine's Docker engine): 2 runners`,
            "Image: build Dockerfile.zed-agent (baseImage debian:bookworm-slim, Zed from zed-build/zed, the runner agent from agent/)",
            "Joins Docker networks: helix_default",
        ]);
        expect(text).toMatch(
            new RegExp(
                `external-zed-${host}-2 +helix-zed-agent-dev-2 +127\\.0\\.0\\.1:3390 +127\\.0\\.0\\.1:5901 +http://127\\.0\\.0\\.1:3031/health`,
            ),
        );
    });

    it("prints a fleet stack host by host", () => {
        const text = renderPlan("fleet");
        expect(text).toContain("Host gpu-a (ssh://ops@gpu-a.example.com): 4 runners");
        expect(text).toContain("Host gpu-b (ssh://ops@gpu-b.example.com:2222): 2 runners");
        // The fleet reaches desktops through the control plane: only health ports are published.
        expect(text).toMatch(/external-zed-gpu-b-2 +helix-zed-agent-fleet-2 +- +- +http:\/\/127\.0\.0\.1:3031\/health/);
    });

    it("names a missing stack file and the stacks there are", () => {
        expect(() => renderPlan("prod")).toThrow("No stack file Pulumi.prod.yaml: create the stack with `pulumi stack init prod`");
        expect(() => renderPlan("prod")).toThrow("one of: dev, fleet");
    });

    it("knows a token given in ZED_RUNNER_API_TOKEN, and never shows it", () => {
        const token = "tok-from-the-environment-8f3a";
        const text = renderPlan("dev", { env: { ZED_RUNNER_API_TOKEN: token } });
        expect(text.split("\n")[0]).toBe(
            "Stack dev: control plane http://api:8080, token [secret] from ZED_RUNNER_API_TOKEN (npm run deploy stores it as the stack's secret apiToken)",
        );
        expect(text).not.toContain(token);
    });

    it("says when the Zed binary the image build needs is missing, and not when it is there", () => {
        const root = scratchProject({ dev: "config:\n  zed-runner:hostName: box\n" });
        const missing = "The Zed binary zed-build/zed is missing: the image build in pulumi up needs it.";
        expect(renderPlan("dev", { root, env: {} })).toContain(missing);
        fs.mkdirSync(path.join(root, "zed-build"));
        fs.writeFileSync(path.join(root, "zed-build/zed"), "#!/bin/sh\n");
        expect(renderPlan("dev", { root, env: {} })).not.toContain(missing);
        // A prebuilt image needs no binary.
        fs.writeFileSync(
            path.join(root, "Pulumi.pulled.yaml"),
            "config:\n  zed-runner:hostName: box\n  zed-runner:image: registry.example.com/zed:1\n",
        );
        fs.rmSync(path.join(root, "zed-build"), { recursive: true });
        expect(renderPlan("pulled", { root, env: {} })).not.toContain(missing);
    });

    it("says nothing of pinning when hostName is set", () => {
        const root = scratchProject({ dev: "config:\n  zed-runner:hostName: gpu-7\n" });
        expect(renderPlan("dev", { root, env: {} })).not.toContain("pins it");
        expect(renderPlan("dev", { root, env: {} })).toContain("Host gpu-7 (this machine's Docker engine): 1 runner");
    });

    it("exits 1 when it says pulumi up will refuse the stack: no token, or one in plain text", async () => {
        const root = scratchProject({
            dev: "config:\n  zed-runner:hostName: gpu-7\n",
            plain: "config:\n  zed-runner:hostName: gpu-7\n  zed-runner:apiToken: tok-in-plain-text-5d1c\n",
            sealed: "config:\n  zed-runner:hostName: gpu-7\n  zed-runner:apiToken:\n    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBB\n",
        });
        const printed = jest.spyOn(console, "log").mockImplementation(() => undefined);
        try {
            expect(await plan(["--stack", "dev"], {}, { root })).toBe(1);
            expect(await plan(["--stack", "plain"], {}, { root })).toBe(1);
            expect(await plan(["--stack", "sealed"], {}, { root })).toBe(0);
            // deploy stores a token from the environment before pulumi up runs: nothing is refused.
            expect(await plan(["--stack", "dev"], { ZED_RUNNER_API_TOKEN: "tok-from-the-environment-8f3a" }, { root })).toBe(0);
        } finally {
            printed.mockRestore();
        }
    });

    it("exits 1, saying why without showing it, when pulumi up would refuse the token in ZED_RUNNER_API_TOKEN", async () => {
        const root = scratchProject({
            dev: "config:\n  zed-runner:hostName: gpu-7\n",
            lab: "config:\n  zed-runner:hostName: gpu-7\n  zed-runner:allowInsecureToken: true\n",
        });
        const printed: string[] = [];
        const log = jest.spyOn(console, "log").mockImplementation((text: string) => void printed.push(text));
        try {
            expect(await plan(["--stack", "dev"], { ZED_RUNNER_API_TOKEN: "oh-hallo-insecure-token" }, { root })).toBe(1);
            expect(printed.join("\n")).toContain(
                "pulumi up would refuse it:\n  - ZED_RUNNER_API_TOKEN is the insecure default from Helix's examples: use the runner token your control plane is configured with, or set allowInsecureToken to true for a throwaway test",
            );
            expect(await plan(["--stack", "dev"], { ZED_RUNNER_API_TOKEN: "abc s3cret\nghi" }, { root })).toBe(1);
            expect(printed.join("\n")).toContain("  - ZED_RUNNER_API_TOKEN has a space, tab, line break or control character inside it");
            expect(printed.join("\n")).not.toContain("s3cret");
            // The stack's own allowInsecureToken counts, as it does for pulumi up.
            expect(await plan(["--stack", "lab"], { ZED_RUNNER_API_TOKEN: "oh-hallo-insecure-token" }, { root })).toBe(0);
        } finally {
            log.mockRestore();
        }
    });

    it("refuses arguments it does not know, and the stack npm took", async () => {
        await expect(plan(["-s", "fleet"], {})).rejects.toThrow("Unknown option -s");
        await expect(plan(["fleet"], {})).rejects.toThrow("Unexpected argument fleet");
        await expect(plan(["fleet"], { npm_config_stack: "true" })).rejects.toThrow("run: npm run plan -- --stack fleet");
    });

    it("treats secure values as present and never shows them", () => {
        const { raw, secureKeys } = readStackConfig("dev");
        expect(secureKeys.size).toBe(0);
        expect(raw.apiHost).toBe("http://api:8080");
        expect(raw.replicas).toBe("2");
        expect(raw.networks).toBe('["helix_default"]');
    });

    it("agrees with the program on every runner ID, container name and port", async () => {
        const { parsed } = loadStackFiles("fleet");
        const planned = hostsOf(parsed).flatMap((h) =>
            h.runners.map((r) => ({
                runnerId: r.runnerId,
                name: r.containerName,
                ports: r.ports.map((p) => [p.internal, p.external, p.ip]),
            })),
        );
        const { raw } = readStackConfig("fleet");
        const { engine, error } = await runProgram({ ...raw, apiToken: TEST_TOKEN }, "fleet");
        expect(error).toBeUndefined();
        const declared = engine.ofType("docker:index/container:Container").map((c) => {
            const env: string[] = c.inputs.envs.value ?? c.inputs.envs;
            return {
                runnerId: env.find((e) => e.startsWith("RUNNER_ID="))!.slice("RUNNER_ID=".length),
                name: c.inputs.name,
                ports: c.inputs.ports.map((p: any) => [p.internal, p.external, p.ip]),
            };
        });
        expect(declared).toEqual(planned);
        expect(planned).toHaveLength(6);
    });
});

describe("npm run plan -- --check-hosts", () => {
    const SANDBOX =
        "config:\n  zed-runner:workload: sandbox\n  zed-runner:apiHost: https://helix.example.com\n  zed-runner:helixVersion: 2.12.2\n  zed-runner:gpuVendor: nvidia\n  zed-runner:hostName: gpu-1\n";

    /** What plan printed, and its exit status, with the host's engine `engine` (and the stack file `file`, read back). */
    async function checked(
        engine: Parameters<typeof hostEngine>[0],
        stackFile = SANDBOX,
        argv = ["--check-hosts"],
    ): Promise<{ code: number; text: string; file: string }> {
        const root = scratchProject({ sandbox: stackFile });
        const printed = jest.spyOn(console, "log").mockImplementation(() => undefined);
        try {
            // The token comes as deploy would take it, so the exit status is the host checks' alone.
            const env = { ZED_RUNNER_API_TOKEN: "tok-from-the-environment-8f3a" };
            const code = await plan(["--stack", "sandbox", ...argv], env, { root, engines: { docker: () => hostEngine(engine) } });
            const file = fs.readFileSync(path.join(root, "Pulumi.sandbox.yaml"), "utf8");
            return { code, text: printed.mock.calls.map((c) => String(c[0])).join("\n"), file };
        } finally {
            printed.mockRestore();
        }
    }

    describe("with gpuVendor auto", () => {
        const AUTO = SANDBOX.replace("  zed-runner:gpuVendor: nvidia\n", "");

        it("shows each host's GPU as deploy would pin it, plans and checks with it, and writes nothing", async () => {
            const { code, text, file } = await checked(
                { devices: ["/dev/uinput", "/dev/uhid", "/dev/kfd", "/dev/dri"], runtimes: ["runc"] },
                AUTO,
            );
            expect(code).toBe(0);
            expect(text).toMatch(
                /^gpuVendor is auto; each host's GPU, as Helix's installer detects it \(npm run deploy pins it\):\n  gpu-1: amd \(ROCm's \/dev\/kfd beside \/dev\/dri\)\n/,
            );
            expect(text).toMatch(/\nsandbox-gpu-1-1 +helix-sandbox-sandbox-1 +amd /);
            expect(text).toContain("Host checks: every host is ready.");
            expect(file).toBe(AUTO);
        });

        it("says a host without a GPU would be refused, exit 1", async () => {
            const { code, text } = await checked({ devices: ["/dev/uinput", "/dev/uhid"], runtimes: ["runc"] }, AUTO);
            expect(code).toBe(1);
            expect(text).toContain(
                "Stack sandbox's gpuVendor is auto, and npm run deploy would refuse it:\n  host gpu-1: gpuVendor is auto, and it has no GPU",
            );
        });

        it("offline, is the one problem, pointing at --check-hosts", async () => {
            await expect(checked({}, AUTO, [])).rejects.toThrow(
                /gpuVendor is auto \(the default\).*`npm run plan -- --check-hosts` shows what it finds/,
            );
        });
    });

    it("says every host is ready after the offline plan, exit 0", async () => {
        const { code, text } = await checked({});
        expect(code).toBe(0);
        expect(text).toMatch(
            /Host gpu-1 \(this machine's Docker engine\): 1 Helix sandbox, privileged[\s\S]*\nHost checks: every host is ready\.\n  gpu-1: ready$/,
        );
    });

    it("lists what an unprepared host lacks, with its fixes, exit 1", async () => {
        const { code, text } = await checked({ version: "20.10.24+dfsg1", runtimes: ["runc"], devices: ["/dev/dri", "/dev/uinput"] });
        expect(code).toBe(1);
        expect(text).toContain("Host checks: pulumi up would fail on these hosts:\n  gpu-1: Docker has no nvidia runtime");
        expect(text).toContain("  gpu-1: the host has no /dev/uhid, which every sandbox is given: `sudo modprobe -a uhid`");
    });
});

describe("reading stack files", () => {
    it("shows an encrypted token as [secret] and counts it as set", () => {
        const dir = scratchProject({ prod: "config:\n  zed-runner:apiToken:\n    secure: v1:AAAAencrypted==\n  aws:region: us-east-1\n" });
        const file = readStackConfig("prod", dir);
        expect(file.raw.apiToken).toBe("[secret]");
        expect([...file.secureKeys]).toEqual(["apiToken"]);
        expect(file.raw).not.toHaveProperty("region");
        expect(JSON.stringify(file.raw)).not.toContain("AAAAencrypted");
    });
});
