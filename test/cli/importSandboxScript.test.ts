// `npm run import-env` on the sandbox.sh Helix's `install.sh --sandbox` writes: a sandbox stack
// from its settings block and its `docker run`, the token only as a secret, and a refusal by
// line for whatever the installer does not write.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { importEnv } from "../../cli/importEnv";
import type { Prompt } from "../../cli/lib/prompt";
import { ROOT, scratchProject, stubPulumi } from "./lib/scratch";

const SANDBOX_SH = path.join(ROOT, "test/fixtures/helix-install/sandbox.sh");
const FIXTURE = fs.readFileSync(SANDBOX_SH, "utf8");
const TOKEN = "Zq7fakeT0ken9Xyw";

/** TEST DOUBLE for the operator's terminal: not a terminal, so nothing is asked. */
const noTerminal: Prompt = { interactive: false, confirm: async () => Promise.reject(new Error("asked without a terminal")) };

/** TEST DOUBLE for a terminal whose operator answers `answer`; records the questions. */
function terminal(answer: boolean): Prompt & { questions: string[] } {
    const questions: string[] = [];
    return { interactive: true, questions, confirm: async (q) => (questions.push(q), answer) };
}

async function run(
    argv: string[],
    root: string,
    prompt: Prompt = noTerminal,
    env: NodeJS.ProcessEnv = { PATH: "/nonexistent" },
): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const spy = jest.spyOn(console, "log").mockImplementation((...args) => void lines.push(args.join(" ")));
    try {
        const code = await importEnv(argv, root, env, prompt);
        return { code, out: lines.join("\n") };
    } finally {
        spy.mockRestore();
    }
}

/** The fixture with `edit` applied, written into `dir`. */
function edited(dir: string, edit: (text: string) => string): string {
    const file = path.join(dir, "sandbox.sh");
    const text = edit(FIXTURE);
    expect(text).not.toBe(FIXTURE);
    fs.writeFileSync(file, text);
    return file;
}

const stackConfig = (dir: string, stack = "dev") => parse(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8")).config;
const lineOf = (text: string, start: string) => text.split("\n").findIndex((l) => l.startsWith(start)) + 1;

describe("npm run import-env on install.sh's sandbox.sh", () => {
    it("imports the fixture of the generated sandbox.sh into a new sandbox stack", async () => {
        const dir = scratchProject();
        const { code, out } = await run([SANDBOX_SH], dir);
        expect(code).toBe(0);
        expect(stackConfig(dir)).toEqual({
            "zed-runner:workload": "sandbox",
            "zed-runner:helixVersion": "2.12.2",
            "zed-runner:apiHost": "https://helix.example.com",
            "zed-runner:instanceIdPrefix": "gpu-box-7",
            "zed-runner:gpuVendor": "nvidia",
        });
        expect(out).toContain("Note: SANDBOX_INSTANCE_ID: sandbox.sh ran one sandbox as gpu-box-7; these are gpu-box-7-1, gpu-box-7-2");
        expect(out).toContain("Note: HELIX_API_URL: sandbox.sh used http://api:8080 instead whenever a Helix control plane container ran");
        expect(out).toContain("MAX_SANDBOXES: not set: the image's and Hydra's default is the same (10)");
        expect(out).toContain("HELIX_HOSTNAME: not set: nothing in the image reads it at 2.12.2");
        expect(out).toContain("PRIVILEGED_DOCKER: not set, which the image reads as false");
        expect(out).toContain("The token (RUNNER_TOKEN) is not written in plain text. Rerun with --set-token");
    });

    it("never writes or prints the token", async () => {
        const dir = scratchProject();
        const { out } = await run([SANDBOX_SH], dir);
        expect(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).not.toContain(TOKEN);
        expect(out).not.toContain(TOKEN);
    });

    it("stores RUNNER_TOKEN with --set-token on the CLI's standard input, never in its arguments or environment", async () => {
        const dir = scratchProject();
        const { env: withStub, record } = stubPulumi();
        const { code, out } = await run([SANDBOX_SH, "--set-token"], dir, noTerminal, withStub);
        expect(code).toBe(0);
        expect(out).toContain("Set apiToken as a secret of stack dev through the Pulumi CLI");
        expect(fs.readFileSync(`${record}.stdin`, "utf8")).toBe(TOKEN);
        expect(fs.readFileSync(`${record}.args`, "utf8").split("\n")).toEqual([
            "config",
            "set",
            "--secret",
            "apiToken",
            "--stack",
            "dev",
            "--non-interactive",
            "",
        ]);
        expect(JSON.stringify(withStub)).not.toContain(TOKEN);
        expect(out).not.toContain(TOKEN);
    });

    it("refuses install.sh's marker for a missing token with --set-token, naming the line", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace(`:-${TOKEN}}`, ":-__DEFAULT_RUNNER_TOKEN__}"));
        const { env: withStub, record } = stubPulumi();
        await expect(run([file, "--set-token"], dir, noTerminal, withStub)).rejects.toThrow(
            `RUNNER_TOKEN (line ${lineOf(FIXTURE, "RUNNER_TOKEN=")}) in ${file} is install.sh's marker for a token it did not have`,
        );
        expect(fs.existsSync(`${record}.stdin`)).toBe(false);
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("joins helix_default when the control plane is Helix's compose service beside it", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace('HELIX_API_URL="https://helix.example.com"', 'HELIX_API_URL="http://api:8080"'));
        const { out } = await run([file], dir);
        expect(stackConfig(dir)["zed-runner:apiHost"]).toBe("http://api:8080");
        expect(stackConfig(dir)["zed-runner:networks"]).toBe('["helix_default"]');
        expect(out).toContain("http://api:8080 is Helix's compose service: the sandboxes join helix_default");
    });

    it("takes a mirrored image as sandboxImage, not helixVersion", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace("    ghcr.io/helixml/", "    registry.example.com/helixml/"));
        await run([file], dir);
        expect(stackConfig(dir)["zed-runner:sandboxImage"]).toBe("registry.example.com/helixml/helix-sandbox:2.12.2");
        expect(stackConfig(dir)["zed-runner:helixVersion"]).toBeUndefined();
        // The script ran it privileged with the token already: acknowledged, and said so.
        expect(stackConfig(dir)["zed-runner:allowSandboxImageMirror"]).toBe("true");
    });

    it("unquotes values as bash does: quotes joined, escapes taken, a comment after", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) =>
            t
                .replace('HELIX_API_URL="https://helix.example.com"', "HELIX_API_URL='https://helix'\".example.com\" # the control plane")
                .replace('SANDBOX_INSTANCE_ID="gpu-box-7"', "SANDBOX_INSTANCE_ID=gpu\\-box-7"),
        );
        await run([file], dir);
        expect(stackConfig(dir)["zed-runner:apiHost"]).toBe("https://helix.example.com");
        expect(stackConfig(dir)["zed-runner:instanceIdPrefix"] ?? stackConfig(dir)["zed-runner:hostName"]).toMatch(/gpu-box/);
    });

    it("takes a registry mirror the docker run passes as registryMirror", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) =>
            t
                .replace('PRIVILEGED_DOCKER="false"\n', 'PRIVILEGED_DOCKER="false"\nHELIX_SANDBOX_REGISTRY="mirror.example.com:5000"\n')
                .replace(
                    "    -e HYDRA_ENABLED=true",
                    '    -e HELIX_SANDBOX_REGISTRY="$HELIX_SANDBOX_REGISTRY" \\\n    -e HYDRA_ENABLED=true',
                ),
        );
        await run([file], dir);
        expect(stackConfig(dir)["zed-runner:registryMirror"]).toBe("mirror.example.com:5000");
    });

    it.each([
        [
            "an unknown setting",
            (t: string) => t.replace('GPU_VENDOR="nvidia"\n', 'GPU_VENDOR="nvidia"\nSHM_SIZE="8g"\n'),
            /line \d+: SHM_SIZE is not a variable install.sh writes/,
        ],
        [
            "a GPU vendor the stack does not run",
            (t: string) => t.replace('GPU_VENDOR="nvidia"', 'GPU_VENDOR="neuron"'),
            /line \d+: GPU_VENDOR is neuron; gpuVendor takes nvidia, amd, intel, none/,
        ],
        [
            "Helix's development mode",
            (t: string) => t.replace('PRIVILEGED_DOCKER="false"', 'PRIVILEGED_DOCKER="true"'),
            /line \d+: PRIVILEGED_DOCKER is true/,
        ],
        [
            "another MAX_SANDBOXES",
            (t: string) => t.replace('MAX_SANDBOXES="10"', 'MAX_SANDBOXES="4"'),
            /line \d+: MAX_SANDBOXES is 4; no key sets it/,
        ],
        [
            "a flag install.sh does not pass",
            (t: string) => t.replace("    -e HYDRA_ENABLED=true", "    -e HYDRA_DEBUG=1 \\\n    -e HYDRA_ENABLED=true"),
            /line \d+: docker run passes HYDRA_DEBUG, which install.sh does not/,
        ],
        [
            "a changed fixed flag",
            (t: string) => t.replace("HELIX_FRAME_EXPORT_PORT:-15937", "HELIX_FRAME_EXPORT_PORT:-16000"),
            /line \d+: docker run passes HELIX_FRAME_EXPORT_PORT=16000; the sandboxes run with 15937/,
        ],
        [
            "a mirror the script does not set",
            (t: string) =>
                t.replace(
                    "    -e HYDRA_ENABLED=true",
                    '    -e HELIX_SANDBOX_REGISTRY="$HELIX_SANDBOX_REGISTRY" \\\n    -e HYDRA_ENABLED=true',
                ),
            /docker run passes HELIX_SANDBOX_REGISTRY from \$HELIX_SANDBOX_REGISTRY, which sandbox.sh itself does not set/,
        ],
        [
            "a shell expression",
            (t: string) => t.replace('SANDBOX_INSTANCE_ID="gpu-box-7"', 'SANDBOX_INSTANCE_ID="$(hostname)"'),
            /line \d+: SANDBOX_INSTANCE_ID is a shell expression \(\$\(hostname\)\)/,
        ],
        [
            "an empty tag",
            (t: string) => t.replace('SANDBOX_TAG="2.12.2"', 'SANDBOX_TAG=""'),
            /the image ghcr.io\/helixml\/helix-sandbox: has no release tag \(SANDBOX_TAG, line \d+, is empty\)/,
        ],
        // Read the way bash would run it (#30).
        [
            "a heredoc",
            (t: string) =>
                t.replace(
                    "# Filled in by the installer\n",
                    "cat > /tmp/extra.env <<EOF\nHELIX_API_URL=https://elsewhere.example.com\nEOF\n# Filled in by the installer\n",
                ),
            /line 13: a heredoc \(<<EOF\), which import-env does not read/,
        ],
        [
            "a setting assigned again later, which bash would use",
            (t: string) =>
                t.replace('PRIVILEGED_DOCKER="false"\n', 'PRIVILEGED_DOCKER="false"\nHELIX_API_URL="https://other.example.com"\n'),
            /line 22: HELIX_API_URL is assigned again \(first on line 15\); bash would use this one/,
        ],
        [
            "a setting changed inside the script's logic",
            (t: string) =>
                t.replace('    PRIVILEGED_DOCKER_FLAGS=""\n', '    PRIVILEGED_DOCKER_FLAGS=""\n    RUNNER_TOKEN="another-token-8c1f"\n'),
            /line \d+: RUNNER_TOKEN is assigned inside the script's logic/,
        ],
        [
            "a token from a command substitution, without showing it",
            (t: string) => t.replace('RUNNER_TOKEN="${RUNNER_TOKEN:-Zq7fakeT0ken9Xyw}"', 'RUNNER_TOKEN="$(cat /run/secrets/helix-token)"'),
            /line 17: RUNNER_TOKEN is a shell expression \(a command substitution or a variable\), which import-env does not run/,
        ],
        [
            "a token with a space",
            (t: string) => t.replace("Zq7fakeT0ken9Xyw", "Zq7fake T0ken9Xyw"),
            /line 17: RUNNER_TOKEN has a space, tab, line break or control character inside it.*pulumi up would refuse it as apiToken/,
        ],
        [
            "a token over two lines",
            (t: string) => t.replace("Zq7fakeT0ken9Xyw", "Zq7fake\nT0ken9Xyw"),
            /line 17: RUNNER_TOKEN has a space, tab, line break or control character inside it/,
        ],
        [
            "a command after an assignment",
            (t: string) => t.replace('GPU_VENDOR="nvidia"', "GPU_VENDOR=nvidia curl -s https://example.com/x"),
            /line 18: GPU_VENDOR's value is followed by more on its line: bash would run that as a command/,
        ],
        [
            "a second docker run",
            (t: string) =>
                t.replace('echo "helix-sandbox started', 'docker run -d --name helper alpine:3 sleep 1\necho "helix-sandbox started'),
            /line \d+: a second `docker run` \(the first is on line 52\)/,
        ],
        [
            "a docker run flag install.sh does not write",
            (t: string) => t.replace("    --privileged \\\n", "    --privileged \\\n    --pid=host \\\n"),
            /line 54: the `docker run` flag "--pid" is not one install.sh writes, and the stack has no key for it/,
        ],
        [
            "a docker run volume install.sh does not write",
            (t: string) => t.replace("    -v sandbox-data:/data \\\n", "    -v sandbox-data:/data \\\n    -v /:/host \\\n"),
            /line \d+: `-v \/:\/host` is not what install.sh writes/,
        ],
    ])("refuses %s by its line and writes nothing", async (_what, edit, message) => {
        const dir = scratchProject();
        const file = edited(dir, edit);
        await expect(run([file], dir)).rejects.toThrow(message);
        await expect(run([file], dir)).rejects.toThrow("Nothing was written.");
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("names the exact line of an unknown setting", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace('GPU_VENDOR="nvidia"\n', 'GPU_VENDOR="nvidia"\nSHM_SIZE="8g"\n'));
        const line = lineOf(fs.readFileSync(file, "utf8"), "SHM_SIZE=");
        await expect(run([file], dir)).rejects.toThrow(`line ${line}: SHM_SIZE is not a variable install.sh writes into sandbox.sh`);
    });

    it("refuses a script whose docker run does not end in the sandbox image", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) =>
            t.replace("    ghcr.io/helixml/helix-sandbox:${SANDBOX_TAG}", "    ghcr.io/helixml/helix-sandbox:${SANDBOX_TAG} --debug"),
        );
        await expect(run([file], dir)).rejects.toThrow(
            `${file}: the \`docker run\` on line ${lineOf(FIXTURE, "docker run ")} does not end in Helix's sandbox image on a line of its own (ghcr.io/helixml/helix-sandbox:<tag>), as install.sh writes it.`,
        );
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("reports a value the program refuses with the line it came from", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace('HELIX_API_URL="https://helix.example.com"', 'HELIX_API_URL="http://localhost:8080"'));
        const line = lineOf(FIXTURE, "HELIX_API_URL=");
        await expect(run([file], dir)).rejects.toThrow(`Fix HELIX_API_URL (line ${line}) (apiHost) in ${file} and run import-env again.`);
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("asks on a terminal before writing, and writes nothing on no", async () => {
        const dir = scratchProject();
        const no = terminal(false);
        const { code, out } = await run([SANDBOX_SH], dir, no);
        expect(code).toBe(1);
        expect(no.questions).toEqual([`Write these settings to ${path.join(dir, "Pulumi.dev.yaml")}?`]);
        expect(out).toContain("Would write 5 setting(s)");
        expect(out).toContain("  workload: sandbox");
        expect(out.split("\n").pop()).toBe("Nothing was written.");
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);

        const yes = terminal(true);
        expect((await run([SANDBOX_SH], dir, yes)).code).toBe(0);
        expect(yes.questions).toHaveLength(1);
        expect(stackConfig(dir)["zed-runner:workload"]).toBe("sandbox");
    });

    it("refuses to turn a runner stack into a sandbox stack", async () => {
        const dir = scratchProject({ dev: 'config:\n  zed-runner:replicas: "3"\n' });
        await expect(run([SANDBOX_SH], dir)).rejects.toThrow(
            /is a runner stack \(workload not set\): importing .* would turn it into a sandbox stack, .* Import into a new stack \(--stack NAME\), or set workload: sandbox .* first\. Nothing was written\./,
        );
        expect(stackConfig(dir)).toEqual({ "zed-runner:replicas": "3" });
    });

    it("says a runner stack that sets workload: runner is one", async () => {
        const dir = scratchProject({ dev: "config:\n  zed-runner:workload: runner\n" });
        await expect(run([SANDBOX_SH], dir)).rejects.toThrow("is a runner stack (workload set to runner)");
    });

    it("refuses a script with no docker run", async () => {
        const dir = scratchProject();
        const file = path.join(dir, "sandbox.sh");
        fs.writeFileSync(file, "#!/bin/bash\necho helix-sandbox\n");
        await expect(run([file], dir)).rejects.toThrow(
            `${file} runs no \`docker run\`: it is not the sandbox.sh Helix's install.sh writes.`,
        );
    });

    it("keeps what a sandbox stack file already sets", async () => {
        const dir = scratchProject({
            dev: '# mine\nconfig:\n  zed-runner:workload: sandbox\n  zed-runner:gpuVendor: amd\n  zed-runner:replicas: "2"\n',
        });
        const { out } = await run([SANDBOX_SH], dir);
        const text = fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8");
        expect(text.startsWith("# mine\n")).toBe(true);
        expect(stackConfig(dir)).toEqual({
            "zed-runner:workload": "sandbox",
            "zed-runner:gpuVendor": "amd",
            "zed-runner:replicas": "2",
            "zed-runner:helixVersion": "2.12.2",
            "zed-runner:apiHost": "https://helix.example.com",
            "zed-runner:instanceIdPrefix": "gpu-box-7",
        });
        expect(out).toContain("Kept what");
        expect(out).toMatch(/already set: workload, gpuVendor\./);
    });
});
