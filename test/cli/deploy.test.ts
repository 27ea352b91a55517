import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { parse } from "yaml";
import { DeployDeps, DeployPlan, StackOperations, deploy, deployPlan, renderOutputs } from "../../cli/deploy";
import { fetchControlPlaneRelease } from "../../cli/lib/controlPlane";
import { CliInstaller } from "../../cli/lib/installPulumiCli";
import { MISSING_CLI_MESSAGE, PULUMI_CLI_VERSION, PulumiCli, findPulumiCli } from "../../cli/lib/pulumiCli";
import { Prompt, terminalPrompt } from "../../cli/lib/prompt";
import { UserError, projectBackendUrl } from "../../cli/stackFiles";
import { FakeControlPlane } from "../support/fakeControlPlane";
import { hostEngine } from "../support/hostEngine";
import { ROOT, scratchDir, scratchProject, stubPulumi } from "./lib/scratch";

const passphrase = { PULUMI_CONFIG_PASSPHRASE: "correct horse" };
const DEV = '# my machine\nconfig:\n  zed-runner:apiHost: http://api:8080 # the compose network\n  zed-runner:replicas: "2"\n';

describe("npm run deploy: arguments and defaults", () => {
    const root = scratchProject({ dev: DEV, prod: "config: {}\n" });

    it("runs `up` on the dev stack with state in the backend Pulumi.yaml names", () => {
        expect(deployPlan(["--yes"], passphrase, root, false, "builder-01.example")).toEqual({
            stack: "dev",
            operation: "up",
            backendUrl: `file://${root}/.state`,
            envVars: { PULUMI_SKIP_UPDATE_CHECK: "true" },
            confirm: false,
            installWithoutAsking: true,
            pinHostName: "builder-01",
        });
    });

    it.each([
        [["--preview"], "preview"],
        [["--destroy", "--yes"], "destroy"],
        [["--stack", "prod", "--preview"], "preview"],
    ])("reads %j as %s", (argv, operation) => {
        expect(deployPlan(argv, passphrase, root).operation).toBe(operation);
    });

    it("takes --stack NAME and --stack=NAME", () => {
        expect(deployPlan(["--stack", "prod", "--preview"], passphrase, root).stack).toBe("prod");
        expect(deployPlan(["--stack=prod", "--preview"], passphrase, root).stack).toBe("prod");
    });

    it("takes a token from ZED_RUNNER_API_TOKEN, never into the CLI's environment", () => {
        const plan = deployPlan(["--preview"], { ...passphrase, ZED_RUNNER_API_TOKEN: "tok-123456" }, root);
        expect(plan.apiToken).toBe("tok-123456");
        expect(JSON.stringify(plan.envVars)).not.toContain("tok-123456");
        expect(deployPlan(["--preview"], passphrase, root)).not.toHaveProperty("apiToken");
    });

    it("refuses a token from ZED_RUNNER_API_TOKEN that pulumi up would refuse, before anything runs, never showing it", () => {
        for (const token of ["oh-hallo-insecure-token", " tok-123456", "tok s3cret"]) {
            let message = "";
            try {
                deployPlan(["--preview"], { ...passphrase, ZED_RUNNER_API_TOKEN: token }, root);
            } catch (err) {
                message = (err as Error).message;
            }
            expect(message).toMatch(/^ZED_RUNNER_API_TOKEN is not stored: pulumi up would refuse it\.\n {2}- ZED_RUNNER_API_TOKEN /);
            expect(message).toMatch(/Nothing was changed\.$/);
            expect(message).not.toContain("s3cret");
        }
    });

    it("keeps a backend the operator chose", () => {
        expect(deployPlan(["--preview"], { ...passphrase, PULUMI_BACKEND_URL: "s3://state-bucket" }, root).backendUrl).toBe(
            "s3://state-bucket",
        );
    });

    it("accepts a passphrase file that exists", () => {
        const file = path.join(scratchDir("zr-pass-"), "pass");
        fs.writeFileSync(file, "secret\n");
        expect(deployPlan(["--preview"], { PULUMI_CONFIG_PASSPHRASE_FILE: file }, root).operation).toBe("preview");
    });

    it.each([
        [["--preview", "--destroy"], passphrase, "Choose one of --preview and --destroy."],
        [
            ["--force"],
            passphrase,
            "Unknown option --force; known options: --stack, --preview, --destroy, --yes, --create, --skip-host-checks.",
        ],
        [["--stack"], passphrase, "--stack needs a value."],
        [["prod"], passphrase, "Unexpected argument prod"],
        [[], {}, "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE, a file holding it)"],
        [
            [],
            { PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent/pass" },
            "PULUMI_CONFIG_PASSPHRASE_FILE names /nonexistent/pass, which does not exist.",
        ],
        [[], { ...passphrase, npm_config_preview: "true" }, "npm took --preview for itself"],
    ])("refuses %j with %j", (argv, env, message) => {
        expect(() => deployPlan(argv as string[], env as NodeJS.ProcessEnv, root)).toThrow(UserError);
        expect(() => deployPlan(argv as string[], env as NodeJS.ProcessEnv, root)).toThrow(message);
    });
});

describe("npm run deploy: a stack must have its file", () => {
    const root = scratchProject({ dev: DEV, prod: "config: {}\n" });

    it("refuses a misspelt stack, listing the stacks there are", () => {
        expect(() => deployPlan(["--stack", "prdo", "--yes"], passphrase, root)).toThrow(
            "No stack file " + path.join(root, "Pulumi.prdo.yaml") + ": create the stack with `pulumi stack init prdo`",
        );
        expect(() => deployPlan(["--stack", "prdo", "--yes"], passphrase, root)).toThrow(
            "(or `npm run deploy -- --stack prdo --create`), or pass --stack with one of: dev, prod.",
        );
    });

    it("creates it with --create, pinning this machine's name", () => {
        const plan = deployPlan(["--stack", "gpu", "--create", "--yes"], passphrase, root, false, "box");
        expect([plan.stack, plan.operation, plan.pinHostName]).toEqual(["gpu", "up", "box"]);
    });
});

describe("npm run deploy: asks before it changes anything", () => {
    const root = scratchProject({ dev: DEV });

    it.each([
        [["--destroy"], "deploy destroys stack dev's runners and asks first, but there is no terminal to ask on. Rerun with --yes"],
        [[], "deploy changes stack dev's runners and asks first, but there is no terminal to ask on. Rerun with --yes"],
    ])("refuses %j without a terminal and without --yes", (argv, message) => {
        expect(() => deployPlan(argv, passphrase, root, false)).toThrow(message);
    });

    it("asks on a terminal, shows nothing to ask for a preview, and --yes asks nothing", () => {
        expect(deployPlan([], passphrase, root, true).confirm).toBe(true);
        expect(deployPlan(["--destroy"], passphrase, root, true).confirm).toBe(true);
        expect(deployPlan(["--preview"], passphrase, root, false).confirm).toBe(false);
        expect(deployPlan(["--yes"], passphrase, root, false).confirm).toBe(false);
    });
});

/** TEST DOUBLE for the Automation API's stack: records what deploy asks of it. */
function recordingStack(calls: string[]): StackOperations {
    return {
        preview: async (out) => void (calls.push("preview"), out("+ 2 to create\n")),
        previewDestroy: async (out) => void (calls.push("previewDestroy"), out("- 5 to delete\n")),
        up: async () => (calls.push("up"), { runnerIds: { value: ["external-zed-box-1"], secret: false } }),
        destroy: async () => void calls.push("destroy"),
    };
}

/** TEST DOUBLE for the operator at a terminal, answering `answer`. */
function answering(answer: boolean, questions: string[]): Prompt {
    return { interactive: true, confirm: async (q) => (questions.push(q), answer) };
}

function depsFor(root: string, prompt: Prompt, calls: string[], out: string[]): DeployDeps {
    return {
        root,
        prompt,
        machineHostName: "box.example.internal",
        findCli: () => ({ command: "pulumi" }),
        installCli: async () => void calls.push("install"),
        openStack: async (plan: DeployPlan, _env, cli: PulumiCli) => (
            calls.push(`open ${plan.stack} with ${cli.command}`),
            recordingStack(calls)
        ),
        storeToken: (_token, _plan, _env, cli) => (calls.push(`store token with ${cli.command}`), { ok: true }),
        write: (text) => void out.push(text),
        // TEST DOUBLE for the control plane's GET /api/v1/config: Helix 2.12.3.
        fetchRelease: async (apiHost) => (calls.push(`release of ${apiHost}`), { release: "2.12.3" }),
        // TEST DOUBLE for the stack's engine: one sandbox restarting, as on a failed desktop pull.
        engines: { docker: () => restartingSandboxEngine(calls) },
    };
}

/** TEST DOUBLE for a prepared host's engine whose one sandbox of stack `sandbox` keeps restarting, logging why. */
function restartingSandboxEngine(calls: string[]): Docker {
    const frame = (text: string) => Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, text.length]), Buffer.from(text)]);
    return {
        ...hostEngine(),
        listContainers: async () => [
            {
                Id: "s1",
                Labels: { "zed-runner.stack": "sandbox", "zed-runner.workload": "sandbox", "zed-runner.sandbox-id": "sandbox-gpu-1-1" },
            },
        ],
        getContainer: (id: string) => ({
            inspect: async () => ({
                Name: "/helix-sandbox-sandbox-1",
                State: { Running: false, Status: "restarting" },
                RestartCount: 4,
                Image: "sha256:1",
            }),
            logs: async (options: { tail?: number }) => (
                calls.push(`logs of ${id}, last ${options.tail}`),
                frame("[stand-in] could not pull the desktop image\n")
            ),
        }),
    } as unknown as Docker;
}

describe("npm run deploy on a sandbox stack: the control plane's release", () => {
    const SANDBOX =
        "config:\n  zed-runner:workload: sandbox\n  zed-runner:apiHost: https://helix.example.com\n  zed-runner:helixVersion: 2.12.2\n  zed-runner:gpuVendor: nvidia\n  zed-runner:hostName: gpu-1\n";

    it("says, before the preview, that the stack pins another release than the control plane's, and how to bring them level", async () => {
        const root = scratchProject({ sandbox: SANDBOX });
        const [calls, questions, out] = [[], [], []] as string[][];
        expect(await deploy(["--stack", "sandbox", "--preview"], passphrase, depsFor(root, answering(true, questions), calls, out))).toBe(
            0,
        );
        expect(calls).toEqual(["open sandbox with pulumi", "release of https://helix.example.com", "preview"]);
        expect(out.join("")).toContain(
            "The control plane at https://helix.example.com runs Helix 2.12.3; this stack pins 2.12.2: set helixVersion in Pulumi.sandbox.yaml " +
                "to the control plane's release, then `npm run deploy -- --stack sandbox`.\n+ 2 to create",
        );
    });

    it("after a failed up, names each sandbox that is not healthy, its restarts and its last log lines, then fails with the error", async () => {
        const root = scratchProject({ sandbox: SANDBOX });
        const [calls, questions, out] = [[], [], []] as string[][];
        const deps = depsFor(root, answering(true, questions), calls, out);
        const failing: DeployDeps = {
            ...deps,
            openStack: async () => ({
                ...recordingStack(calls),
                up: async () => {
                    throw new Error("the container helix-sandbox-sandbox-1 did not become healthy within 1800 s");
                },
            }),
        };
        await expect(deploy(["--stack", "sandbox", "--yes"], passphrase, failing)).rejects.toThrow("did not become healthy within 1800 s");
        expect(out.join("")).toContain(
            "What is not healthy on stack sandbox's hosts:\n" +
                "Sandbox sandbox-gpu-1-1 (container helix-sandbox-sandbox-1 on host gpu-1) is restarting, restarted 4 times; its last log lines:\n" +
                "    [stand-in] could not pull the desktop image\n",
        );
        expect(calls).toContain("logs of helix-sandbox-sandbox-1, last 15");
    });

    it("checks the host before anything: refused on an unprepared one, every gap named with its fix, nothing opened or written", async () => {
        const root = scratchProject({ sandbox: SANDBOX });
        const [calls, questions, out] = [[], [], []] as string[][];
        const unprepared: DeployDeps = {
            ...depsFor(root, answering(true, questions), calls, out),
            engines: { docker: () => hostEngine({ devices: ["/dev/dri"], runtimes: ["runc"] }) },
        };
        await expect(deploy(["--stack", "sandbox", "--yes"], passphrase, unprepared)).rejects.toThrow(
            "Stack sandbox's hosts are not ready; pulumi up would fail on them:\n" +
                "  gpu-1: Docker has no nvidia runtime, so it refuses --runtime nvidia: install the NVIDIA container toolkit, then " +
                "`sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker` (or set gpuVendor to the host's GPU)\n" +
                "  gpu-1: the host has no /dev/uinput or /dev/uhid, which every sandbox is given: `sudo modprobe -a uinput uhid`, and to load them " +
                "at every boot, `printf 'uinput\\nuhid\\n' | sudo tee /etc/modules-load.d/helix-sandbox.conf`\n" +
                "Nothing was changed.",
        );
        expect(calls).toEqual([]);
        expect(fs.readFileSync(path.join(root, "Pulumi.sandbox.yaml"), "utf8")).toBe(SANDBOX);
        // --skip-host-checks goes ahead, and says so.
        expect(await deploy(["--stack", "sandbox", "--yes", "--skip-host-checks"], passphrase, unprepared)).toBe(0);
        expect(out.join("")).toContain("Host checks skipped (--skip-host-checks)");
        expect(calls).toContain("up");
    });

    describe("helixVersion: auto", () => {
        const AUTO =
            "config:\n  zed-runner:workload: sandbox\n  zed-runner:apiHost: https://helix.example.com\n  zed-runner:helixVersion: auto # from the control plane\n  zed-runner:gpuVendor: nvidia\n  zed-runner:hostName: gpu-1\n";
        const fileOf = (root: string) => fs.readFileSync(path.join(root, "Pulumi.sandbox.yaml"), "utf8");

        it("pins the control plane's release before the preview, comments kept, and keeps it once the changes are made", async () => {
            const root = scratchProject({ sandbox: AUTO });
            const [calls, questions, out] = [[], [], []] as string[][];
            expect(await deploy(["--stack", "sandbox"], passphrase, depsFor(root, answering(true, questions), calls, out))).toBe(0);
            expect(calls).toEqual([
                "open sandbox with pulumi",
                "release of https://helix.example.com",
                "release of https://helix.example.com",
                "preview",
                "up",
            ]);
            expect(parse(fileOf(root)).config["zed-runner:helixVersion"]).toBe("2.12.3");
            expect(fileOf(root)).toContain("# from the control plane");
            expect(out.join("")).toContain(
                "helixVersion is auto: the control plane at https://helix.example.com runs Helix 2.12.3; pinned helixVersion: 2.12.3 in",
            );
            // Pinned to the control plane's release: nothing to say about a difference.
            expect(out.join("")).not.toContain("this stack pins");
        });

        it("puts auto back when the operator declines, and after a preview: nothing changed", async () => {
            for (const [argv, answer] of [
                [["--stack", "sandbox"], false],
                [["--stack", "sandbox", "--preview"], true],
            ] as const) {
                const root = scratchProject({ sandbox: AUTO });
                const [calls, questions, out] = [[], [], []] as string[][];
                await deploy([...argv], passphrase, depsFor(root, answering(answer, questions), calls, out));
                expect(calls).toContain("preview");
                expect(calls).not.toContain("up");
                expect(fileOf(root)).toBe(AUTO);
                expect(out.join("")).toContain("Put helixVersion: auto back in");
            }
        });

        it("refuses, changing nothing, when the control plane's release cannot be read", async () => {
            const root = scratchProject({ sandbox: AUTO });
            const [calls, questions, out] = [[], [], []] as string[][];
            const deps: DeployDeps = {
                ...depsFor(root, answering(true, questions), calls, out),
                fetchRelease: async () => ({
                    error: "https://helix.example.com/api/v1/config did not answer: getaddrinfo ENOTFOUND helix.example.com",
                }),
            };
            await expect(deploy(["--stack", "sandbox", "--yes"], passphrase, deps)).rejects.toThrow(
                "helixVersion is auto, but the control plane's release could not be read " +
                    "(https://helix.example.com/api/v1/config did not answer: getaddrinfo ENOTFOUND helix.example.com). " +
                    "Set helixVersion to its release, such as 2.12.2, in",
            );
            expect(calls).not.toContain("preview");
            expect(fileOf(root)).toBe(AUTO);
        });

        it("reads the release over HTTP from the fake control plane, and follows it when the control plane is upgraded", async () => {
            const controlPlane = new FakeControlPlane({ token: "a-token-of-the-fake-control-plane" });
            await controlPlane.listen("127.0.0.1", 0);
            try {
                for (const release of ["2.12.2", "2.12.3"]) {
                    controlPlane.upgrade(release);
                    const root = scratchProject({ sandbox: AUTO });
                    const [calls, questions, out] = [[], [], []] as string[][];
                    // The stack's control plane, https://helix.example.com, is the fake on loopback here (loopback is no apiHost a sandbox takes).
                    const deps: DeployDeps = {
                        ...depsFor(root, answering(true, questions), calls, out),
                        fetchRelease: (apiHost) =>
                            fetchControlPlaneRelease(apiHost.replace("https://helix.example.com", controlPlane.apiHost())),
                    };
                    expect(await deploy(["--stack", "sandbox", "--yes"], passphrase, deps)).toBe(0);
                    expect(parse(fileOf(root)).config["zed-runner:helixVersion"]).toBe(release);
                }
            } finally {
                await controlPlane.close();
            }
        });
    });

    describe("gpuVendor: auto", () => {
        // No gpuVendor: a sandbox stack's default is auto.
        const LOCAL =
            "config:\n  zed-runner:workload: sandbox\n  zed-runner:apiHost: https://helix.example.com\n  zed-runner:helixVersion: 2.12.2\n  zed-runner:hostName: gpu-1\n";
        const HOSTS =
            "config:\n  zed-runner:workload: sandbox\n  zed-runner:apiHost: https://helix.example.com\n  zed-runner:helixVersion: 2.12.2\n" +
            "  zed-runner:hosts:\n    - name: gpu-a # the NVIDIA box\n      dockerHost: ssh://ops@gpu-a.example.com\n      replicas: 1\n" +
            "    - name: gpu-b\n      dockerHost: ssh://ops@gpu-b.example.com\n      replicas: 1\n" +
            "    - name: gpu-c\n      dockerHost: ssh://ops@gpu-c.example.com\n      replicas: 1\n      gpuVendor: nvidia\n";
        const fileOf = (root: string) => fs.readFileSync(path.join(root, "Pulumi.sandbox.yaml"), "utf8");
        /** TEST DOUBLE engines: an NVIDIA host (a and c), an Intel one (b), each prepared for sandboxes. */
        const engines = (asked: string[]) => ({
            docker: (host: { name: string }) => (
                asked.push(host.name),
                hostEngine(host.name === "gpu-b" ? { devices: ["/dev/uinput", "/dev/uhid", "/dev/dri"], runtimes: ["runc"] } : {})
            ),
        });

        it("pins this machine's GPU, as the installer detects it, before the host checks and the preview", async () => {
            const root = scratchProject({ sandbox: LOCAL });
            const [calls, questions, out] = [[], [], []] as string[][];
            const deps: DeployDeps = { ...depsFor(root, answering(true, questions), calls, out), engines: engines([]) };
            expect(await deploy(["--stack", "sandbox"], passphrase, deps)).toBe(0);
            expect(parse(fileOf(root)).config["zed-runner:gpuVendor"]).toBe("nvidia");
            expect(out.join("")).toContain(
                `gpuVendor is auto; each host's GPU, as Helix's installer detects it, pinned in ${path.join(root, "Pulumi.sandbox.yaml")} (commit it):\n` +
                    "  gpu-1: nvidia (the NVIDIA driver's /dev/nvidiactl)\n",
            );
            expect(out.join("").indexOf("gpuVendor is auto")).toBeLessThan(out.join("").indexOf("+ 2 to create"));
        });

        it("pins each listed host's own GPU in its entry, comments kept, and leaves a host that sets its own alone", async () => {
            const root = scratchProject({ sandbox: HOSTS });
            const [calls, questions, out, asked] = [[], [], [], []] as string[][];
            const deps: DeployDeps = { ...depsFor(root, answering(true, questions), calls, out), engines: engines(asked) };
            expect(await deploy(["--stack", "sandbox", "--yes"], passphrase, deps)).toBe(0);
            const hosts = parse(fileOf(root)).config["zed-runner:hosts"];
            expect(hosts.map((h: { name: string; gpuVendor: string }) => [h.name, h.gpuVendor])).toEqual([
                ["gpu-a", "nvidia"],
                ["gpu-b", "intel"],
                ["gpu-c", "nvidia"],
            ]);
            expect(fileOf(root)).toContain("# the NVIDIA box");
            expect(out.join("")).toContain("  gpu-b: intel (/dev/dri without an NVIDIA driver or ROCm)\n");
            expect(out.join("")).not.toContain("  gpu-c: ");
            expect(calls).toContain("up");
        });

        it("puts auto back after a preview, and when the host checks then refuse", async () => {
            const root = scratchProject({ sandbox: LOCAL });
            const [calls, questions, out] = [[], [], []] as string[][];
            const deps: DeployDeps = { ...depsFor(root, answering(true, questions), calls, out), engines: engines([]) };
            expect(await deploy(["--stack", "sandbox", "--preview"], passphrase, deps)).toBe(0);
            expect(fileOf(root)).toBe(LOCAL);
            expect(out.join("")).toContain(`Put gpuVendor: auto back in ${path.join(root, "Pulumi.sandbox.yaml")}.`);
            // An NVIDIA driver without the container toolkit: detected nvidia, then refused by the checks, the file as it was.
            const noToolkit: DeployDeps = { ...deps, engines: { docker: () => hostEngine({ runtimes: ["runc"] }) } };
            await expect(deploy(["--stack", "sandbox", "--yes"], passphrase, noToolkit)).rejects.toThrow(
                /^Stack sandbox's hosts are not ready.*\n  gpu-1: Docker has no nvidia runtime/s,
            );
            expect(fileOf(root)).toBe(LOCAL);
            expect(calls).not.toContain("up");
        });

        it("refuses a host without a GPU, naming it and both ways out, and changes nothing", async () => {
            const root = scratchProject({ sandbox: LOCAL });
            const [calls, questions, out] = [[], [], []] as string[][];
            const deps: DeployDeps = {
                ...depsFor(root, answering(true, questions), calls, out),
                engines: { docker: () => hostEngine({ devices: ["/dev/uinput", "/dev/uhid"], runtimes: ["runc"] }) },
            };
            await expect(deploy(["--stack", "sandbox", "--yes"], passphrase, deps)).rejects.toThrow(
                "Stack sandbox's gpuVendor cannot be pinned:\n" +
                    "  host gpu-1: gpuVendor is auto, and it has no GPU (no /dev/nvidiactl, nvidia runtime, /dev/kfd or /dev/dri): " +
                    "Helix 2.11.33 and later place no session on a sandbox without one. Install the GPU's driver (docs/sandbox.md#host-prerequisites), " +
                    "or set gpuVendor: none and allowNoGpu: true to deploy it anyway.\nNothing was changed.",
            );
            expect([calls, fileOf(root)]).toEqual([[], LOCAL]);
            // allowNoGpu accepts it: none is pinned.
            fs.writeFileSync(path.join(root, "Pulumi.sandbox.yaml"), `${LOCAL}  zed-runner:allowNoGpu: true\n`);
            expect(await deploy(["--stack", "sandbox", "--yes"], passphrase, deps)).toBe(0);
            expect(parse(fileOf(root)).config["zed-runner:gpuVendor"]).toBe("none");
        });
    });

    it("asks nothing of the control plane for a runner stack, or before a destroy", async () => {
        const root = scratchProject({ dev: DEV, sandbox: SANDBOX });
        const [calls, questions, out] = [[], [], []] as string[][];
        await deploy(["--preview"], passphrase, depsFor(root, answering(true, questions), calls, out));
        await deploy(["--stack", "sandbox", "--destroy", "--yes"], passphrase, depsFor(root, answering(true, questions), calls, out));
        expect(calls.filter((c) => c.startsWith("release of"))).toEqual([]);
    });
});

describe("npm run deploy: the token and child processes", () => {
    it("stores the token as the secret, and gives no child (the CLI, its installer, the program) the token in its environment", async () => {
        const root = scratchProject({ dev: DEV });
        const calls: string[] = [];
        const envs: NodeJS.ProcessEnv[] = [];
        const tokens: string[] = [];
        const deps: DeployDeps = {
            ...depsFor(root, answering(true, []), calls, []),
            findCli: (e) => (envs.push(e), { command: "pulumi" }),
            openStack: async (_plan, e) => (envs.push(e), recordingStack(calls)),
            storeToken: (token, _plan, e) => (tokens.push(token), envs.push(e), { ok: true }),
        };
        expect(await deploy([], { ...passphrase, ZED_RUNNER_API_TOKEN: "tok-123456", KEEP: "1" }, deps)).toBe(0);
        expect(tokens).toEqual(["tok-123456"]);
        expect(envs).toHaveLength(3);
        for (const e of envs)
            expect([e.ZED_RUNNER_API_TOKEN, e.KEEP, JSON.stringify(e).includes("tok-123456")]).toEqual([undefined, "1", false]);
    });
});

describe("npm run deploy: the question, then the change", () => {
    it("shows the changes and changes nothing when the answer is no", async () => {
        const root = scratchProject({ dev: DEV });
        const [calls, questions, out] = [[], [], []] as string[][];
        expect(await deploy([], passphrase, depsFor(root, answering(false, questions), calls, out))).toBe(1);
        expect(calls).toEqual(["open dev with pulumi", "preview"]);
        expect(questions).toEqual(["Make these changes to stack dev?"]);
        expect(out.join("")).toContain("+ 2 to create\nNothing was changed.");
        expect(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")).toBe(DEV);
    });

    it("goes ahead on yes, pinning hostName into the stack file with its comments kept", async () => {
        const root = scratchProject({ dev: DEV });
        const [calls, questions, out] = [[], [], []] as string[][];
        expect(await deploy([], passphrase, depsFor(root, answering(true, questions), calls, out))).toBe(0);
        expect(calls).toEqual(["open dev with pulumi", "preview", "up"]);
        const text = fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8");
        expect(text).toContain("# my machine\n");
        expect(text).toContain("# the compose network");
        expect(parse(text).config).toEqual({
            "zed-runner:apiHost": "http://api:8080",
            "zed-runner:replicas": "2",
            "zed-runner:hostName": "box",
        });
        expect(out.join("")).toContain("Pinned hostName: box in");
        expect(out.join("")).toContain('Outputs:\n  runnerIds: [\n    "external-zed-box-1"\n  ]');
    });

    it("pins nothing when hostName is set, and asks nothing with --yes", async () => {
        const pinned = `${DEV}  zed-runner:hostName: gpu-7\n`;
        const root = scratchProject({ dev: pinned });
        const [calls, questions, out] = [[], [], []] as string[][];
        expect(await deploy(["--yes"], passphrase, depsFor(root, answering(false, questions), calls, out))).toBe(0);
        expect(calls).toEqual(["open dev with pulumi", "up"]);
        expect(questions).toEqual([]);
        expect(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")).toBe(pinned);
    });

    it("previews a destroy before asking, and destroys on yes", async () => {
        const root = scratchProject({ dev: DEV });
        const [calls, questions, out] = [[], [], []] as string[][];
        expect(await deploy(["--destroy"], passphrase, depsFor(root, answering(true, questions), calls, out))).toBe(0);
        expect(calls).toEqual(["open dev with pulumi", "previewDestroy", "destroy"]);
        expect(questions).toEqual(["Destroy every resource of stack dev, its runners included?"]);
    });

    it("says which hostName the first deploy pins, on a preview, without writing it", async () => {
        const root = scratchProject({ dev: DEV });
        const [calls, questions, out] = [[], [], []] as string[][];
        expect(await deploy(["--preview"], passphrase, depsFor(root, answering(false, questions), calls, out))).toBe(0);
        expect(calls).toEqual(["open dev with pulumi", "preview"]);
        expect(out.join("")).toContain("The first `npm run deploy` of stack dev pins hostName: box in");
        expect(fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8")).toBe(DEV);
    });

    it("prints its usage with --help and touches nothing", async () => {
        const out: string[] = [];
        const deps = { ...depsFor(scratchProject(), answering(true, []), [], out), findCli: () => undefined };
        expect(await deploy(["--help"], {}, deps)).toBe(0);
        expect(out.join("")).toMatch(
            /^Usage: npm run deploy -- \[--stack NAME\] \[--preview\] \[--destroy\] \[--yes\] \[--create\] \[--skip-host-checks\]\n/,
        );
    });
});

describe("the terminal prompt", () => {
    const tty = (input: string) => {
        const stream = Object.assign(new PassThrough(), { isTTY: true });
        stream.end(input);
        return stream;
    };
    const output = () => Object.assign(new PassThrough(), { isTTY: true });

    it.each([
        ["y\n", true],
        ["yes\n", true],
        ["n\n", false],
        ["\n", false],
        ["", false],
    ])("reads %j as %s", async (typed, answer) => {
        const out = output();
        const prompt = terminalPrompt(tty(typed), out);
        expect(prompt.interactive).toBe(true);
        expect(await prompt.confirm("Make these changes?")).toBe(answer);
        expect(String(out.read())).toBe("Make these changes? [y/N] ");
    });

    it("is not interactive on a pipe", () => {
        expect(terminalPrompt(new PassThrough(), output()).interactive).toBe(false);
    });

    it("answers through a real pseudo-terminal", () => {
        // util-linux `script` gives the child a pseudo-terminal and forwards what we type to it.
        const code =
            "const p = require('./cli/lib/prompt').terminalPrompt(); " +
            "p.confirm('Go?').then((a) => { console.log('interactive=' + p.interactive + ' answer=' + a); process.exit(0); });";
        const command = `node -r ts-node/register/transpile-only -e "${code}"`;
        const result = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: ROOT, input: "y\n", encoding: "utf8" });
        expect(result.stdout).toContain("Go? [y/N]");
        expect(result.stdout).toContain("interactive=true answer=true");
    });
});

describe("npm run deploy: without a terminal, for real", () => {
    it("refuses an up on a piped stdin, naming --yes, before anything runs", () => {
        const root = ROOT;
        const result = spawnSync("node", ["-r", "ts-node/register/transpile-only", "cli/deploy.ts"], {
            cwd: root,
            env: { PATH: process.env.PATH, ...passphrase },
            input: "y\n",
            encoding: "utf8",
        });
        expect(result.stderr).toContain("there is no terminal to ask on. Rerun with --yes to go ahead without asking");
        expect(result.status).toBe(1);
    });
});

/**
 * TEST DOUBLE for Pulumi's installer (PulumiCommand.install): downloads nothing, records the
 * call and writes a stand-in `pulumi` into the install root that answers `version` with
 * `reports`, or fails as told.
 */
function standInInstaller(installs: string[], how: { reports?: string; fails?: string } = {}): CliInstaller {
    return async (installRoot, version) => {
        installs.push(`${path.basename(path.dirname(installRoot))}/${path.basename(installRoot).replace(/-\w+$/, "-*")} ${version}`);
        fs.mkdirSync(path.join(installRoot, "bin"), { recursive: true });
        fs.writeFileSync(
            path.join(installRoot, "bin", "pulumi"),
            `#!/bin/sh\n# TEST DOUBLE for an installed Pulumi CLI.\n[ "$1" = version ] && { echo v${how.reports ?? version}; exit 0; }\nexit 1\n`,
            { mode: 0o755 },
        );
        if (how.fails) throw new Error(how.fails);
    };
}

describe("npm run deploy: without the Pulumi CLI", () => {
    /** A project and an environment whose PATH has no `pulumi`, with the real look-up of the CLI. */
    function noCli(answer: boolean, interactive = true, how: { reports?: string; fails?: string } = {}) {
        const root = scratchProject({ dev: DEV });
        const env = { ...passphrase, PATH: scratchDir("zr-nopulumi-") };
        const [calls, questions, out, installs] = [[], [], [], []] as string[][];
        const prompt = { ...answering(answer, questions), interactive };
        const deps: DeployDeps = {
            ...depsFor(root, prompt, calls, out),
            findCli: (e) => findPulumiCli(root, e),
            installCli: standInInstaller(installs, how),
        };
        const installed = path.join(root, ".pulumi-cli", PULUMI_CLI_VERSION, "bin", "pulumi");
        return { root, env, deps, calls, questions, out, installs, installed };
    }

    it("asks on a terminal, installs the pinned version into the project on yes, and deploys with it", async () => {
        const t = noCli(true);
        expect(PULUMI_CLI_VERSION).toMatch(/^3\.\d+\.\d+$/);
        expect(await deploy([], { ...t.env, ZED_RUNNER_API_TOKEN: "tok-123456" }, t.deps)).toBe(0);
        expect(t.questions).toEqual([
            `Install Pulumi CLI v${PULUMI_CLI_VERSION} into ${path.dirname(path.dirname(t.installed))}?`,
            "Make these changes to stack dev?",
        ]);
        expect(t.installs).toEqual([`.pulumi-cli/${PULUMI_CLI_VERSION}.installing-* ${PULUMI_CLI_VERSION}`]);
        expect(t.calls).toEqual([`open dev with ${t.installed}`, `store token with ${t.installed}`, "preview", "up"]);
        // Only the installed version is left, under the project's git-ignored folder.
        expect(fs.readdirSync(path.join(t.root, ".pulumi-cli"))).toEqual([PULUMI_CLI_VERSION]);
        const said = t.out.join("");
        expect(said).toContain(
            "Pulumi's install script (https://get.pulumi.com/install.sh) downloads the release from https://github.com/pulumi/pulumi/releases",
        );
        expect(said).toContain(`Installed Pulumi CLI v${PULUMI_CLI_VERSION} into`);
        expect(said).toContain("`rm -rf .pulumi-cli` removes it.");
    });

    it("uses the installed CLI on later runs without asking or installing again", async () => {
        const t = noCli(true);
        await deploy(["--yes"], t.env, t.deps);
        const [calls, questions] = [[], []] as string[][];
        const again = {
            ...t.deps,
            prompt: answering(true, questions),
            openStack: async (_p: DeployPlan, _e: NodeJS.ProcessEnv, cli: PulumiCli) => (
                calls.push(`open with ${cli.command} in ${cli.root}`),
                recordingStack(calls)
            ),
        };
        expect(await deploy([], t.env, again)).toBe(0);
        expect(t.installs).toHaveLength(1);
        expect(questions).toEqual(["Make these changes to stack dev?"]);
        expect(calls[0]).toBe(`open with ${t.installed} in ${path.join(t.root, ".pulumi-cli", PULUMI_CLI_VERSION)}`);
    });

    it("stops on no with the install instructions, installing nothing", async () => {
        const t = noCli(false);
        await expect(deploy([], t.env, t.deps)).rejects.toThrow(MISSING_CLI_MESSAGE);
        expect(t.questions).toEqual([expect.stringMatching(/^Install Pulumi CLI v/)]);
        expect([t.installs, t.calls]).toEqual([[], []]);
        expect(fs.existsSync(path.join(t.root, ".pulumi-cli"))).toBe(false);
        expect(MISSING_CLI_MESSAGE).toContain("curl -fsSL https://get.pulumi.com | sh");
        expect(MISSING_CLI_MESSAGE).toContain("npm run plan");
    });

    it("refuses without a terminal and without --yes, naming --yes, installing nothing", async () => {
        const t = noCli(true, false);
        const run = deploy(["--preview"], t.env, t.deps);
        await expect(run).rejects.toThrow(UserError);
        await expect(deploy(["--preview"], t.env, t.deps)).rejects.toThrow(
            `${MISSING_CLI_MESSAGE} Or rerun with --yes: deploy then installs Pulumi CLI v${PULUMI_CLI_VERSION} into`,
        );
        expect([t.questions, t.installs, t.calls]).toEqual([[], [], []]);
        expect(fs.existsSync(path.join(t.root, ".pulumi-cli"))).toBe(false);
    });

    it("installs without asking with --yes, on a terminal or not", async () => {
        for (const interactive of [true, false]) {
            const t = noCli(false, interactive);
            expect(await deploy(["--preview", "--yes"], t.env, t.deps)).toBe(0);
            expect(t.questions).toEqual([]);
            expect(t.installs).toHaveLength(1);
            expect(t.calls).toEqual([`open dev with ${t.installed}`, "preview"]);
        }
    });

    it.each([
        [
            { fails: "Failed to download https://get.pulumi.com/install.sh: 503 Service Unavailable" },
            "Failed to download https://get.pulumi.com/install.sh: 503 Service Unavailable",
        ],
        [{ reports: "3.1.0" }, `the installed CLI reports version 3.1.0, not ${PULUMI_CLI_VERSION}`],
    ])("reports a failed install (%j), leaves nothing that looks installed, and offers again next time", async (how, reason) => {
        const t = noCli(true, true, how);
        const run = deploy(["--yes"], t.env, t.deps);
        await expect(run).rejects.toThrow(UserError);
        await expect(deploy(["--yes"], t.env, t.deps)).rejects.toThrow(
            `Installing Pulumi CLI v${PULUMI_CLI_VERSION} into ${path.join(t.root, ".pulumi-cli", PULUMI_CLI_VERSION)} failed, and nothing was left there: ${reason}\n${MISSING_CLI_MESSAGE}`,
        );
        expect(t.installs).toHaveLength(2);
        expect(t.calls).toEqual([]);
        expect(fs.readdirSync(path.join(t.root, ".pulumi-cli"))).toEqual([]);
        expect(findPulumiCli(t.root, t.env)).toBeUndefined();
    });

    it("never installs when a CLI is on PATH", async () => {
        const t = noCli(true);
        const { env } = stubPulumi();
        expect(await deploy(["--yes"], { ...passphrase, ...env }, t.deps)).toBe(0);
        expect(t.installs).toEqual([]);
        expect(t.calls).toEqual(["open dev with pulumi", "up"]);
        expect(fs.existsSync(path.join(t.root, ".pulumi-cli"))).toBe(false);
    });

    it("checks the passphrase before looking for the CLI", async () => {
        await expect(deploy([], { PATH: "/nonexistent" })).rejects.toThrow("Set PULUMI_CONFIG_PASSPHRASE");
    });
});

describe("one state backend", () => {
    it("is named in Pulumi.yaml, so plain pulumi commands in this folder use the one deploy uses", () => {
        expect(parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).backend).toEqual({ url: "file://./.state" });
        expect(projectBackendUrl(ROOT)).toBe(`file://${ROOT}/.state`);
        expect(deployPlan(["--preview"], passphrase, ROOT).backendUrl).toBe(`file://${ROOT}/.state`);
        // The CLI does not create the folder of a file:// backend: it is kept in git.
        expect(fs.existsSync(path.join(ROOT, ".state/.gitkeep"))).toBe(true);
    });

    it("does not override the project's backend in the CLI's environment", () => {
        expect(deployPlan(["--preview"], passphrase, ROOT).envVars).not.toHaveProperty("PULUMI_BACKEND_URL");
    });
});

describe("npm run deploy: outputs", () => {
    it("prints outputs with secrets hidden", () => {
        expect(
            renderOutputs({
                runnerIds: { value: ["r-1"], secret: false },
                credentials: { value: [{ rdpPassword: "hunter22" }], secret: true },
            }),
        ).toBe('Outputs:\n  runnerIds: [\n    "r-1"\n  ]\n  credentials: [secret]');
    });
});
