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

    it("takes a mirrored image as sandboxImage, not helixVersion, with --allow-mirror", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace("    ghcr.io/helixml/", "    registry.example.com/helixml/"));
        expect((await run([file, "--allow-mirror"], dir)).code).toBe(0);
        expect(stackConfig(dir)["zed-runner:sandboxImage"]).toBe("registry.example.com/helixml/helix-sandbox:2.12.2");
        expect(stackConfig(dir)["zed-runner:helixVersion"]).toBeUndefined();
        // The operator's word, given with the flag.
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

/** The fixture with `line` added where the script's logic starts (line 28, after the compose check). */
const later = (line: string) => (t: string) => t.replace("\ndocker network inspect", `\n${line}\ndocker network inspect`);
/** The fixture with `line` added after its last line. */
const atEnd = (line: string) => (t: string) => `${t}${line}\n`;

/** Refuses `file` with `message`, writes no stack file, and never shows the token. */
async function expectRefused(dir: string, file: string, message: RegExp | string, argv: string[] = []): Promise<void> {
    const error = await run([file, ...argv], dir).then(
        () => undefined,
        (err: Error) => err,
    );
    expect(error?.message).toEqual(expect.stringMatching(typeof message === "string" ? escape(message) : message));
    expect(error?.message).toContain("Nothing was written");
    expect(error?.message).not.toContain(TOKEN);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("Pulumi.") && f !== "Pulumi.yaml")).toEqual([]);
}
const escape = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

describe("import-env reads sandbox.sh as bash would run it (#30)", () => {
    // Any later change of a setting, in any form bash takes, is refused by its line: the import
    // would otherwise write the value bash does not use.
    it.each([
        ["an append", later('HELIX_API_URL+=":8443"'), /line 28: HELIX_API_URL\+= appends to HELIX_API_URL/],
        [
            "declare",
            later('declare HELIX_API_URL="http://evil.example.com"'),
            /line 28: `declare` is not a command .*; it names HELIX_API_URL/,
        ],
        ["readonly", later('readonly HELIX_API_URL="http://evil.example.com"'), /line 28: `readonly` is not a command/],
        ["typeset", later("typeset -g SANDBOX_TAG=2.9.0"), /line 28: `typeset` is not a command .*names SANDBOX_TAG/],
        [
            "an assignment after &&",
            later('true && HELIX_API_URL="http://evil.example.com"'),
            /line 28: HELIX_API_URL is assigned in a list/,
        ],
        [
            "an assignment after ;",
            later('true; HELIX_API_URL="http://evil.example.com"'),
            /line 28: HELIX_API_URL is assigned again \(first on line 15\)/,
        ],
        ["export of a new value", later('export HELIX_API_URL="http://evil.example.com"'), /line 28: HELIX_API_URL is assigned again/],
        ["printf -v", later('printf -v HELIX_API_URL %s "http://evil.example.com"'), /line 28: `printf` is not a command/],
        ["eval", later('eval "HELIX_API_URL=http://evil.example.com"'), /line 28: `eval` is not a command .*names HELIX_API_URL/],
        ["a sourced file", later(". /etc/helix/override.env"), /line 28: `\.` runs another file \(\/etc\/helix\/override\.env\)/],
        ["source", later('source "/etc/helix/override.env"'), /line 28: `source` runs another file/],
        ["the .env sourced after the block", later('. "$SCRIPT_DIR/.env"'), /line 28: the \.env is sourced after the settings block/],
        ["let", later("let MAX_SANDBOXES=11"), /line 28: `let` is not a command .*names MAX_SANDBOXES/],
        ["read", later("read -r HELIX_API_URL < /etc/helix/url"), /line 28: `read` is not a command/],
        ["mapfile", later("mapfile -t HELIX_API_URL < /etc/helix/url"), /line 28: `mapfile` is not a command/],
        [
            "a for loop over a setting",
            later("for HELIX_API_URL in http://evil.example.com; do echo; done"),
            /line 28: `for HELIX_API_URL in \.\.\.` assigns HELIX_API_URL/,
        ],
        ["unset", later("unset RUNNER_TOKEN"), /line 28: `unset` is not a command .*names RUNNER_TOKEN/],
        ["a := default", later('echo "${SANDBOX_TAG:=2.9.0}"'), /line 28: \$\{SANDBOX_TAG:=\.\.\.\} assigns SANDBOX_TAG/],
        [
            "arithmetic that assigns",
            later("echo $((MAX_SANDBOXES=11))"),
            /line 28: arithmetic \(\$\(\(MAX_SANDBOXES=11\)\)\) names MAX_SANDBOXES/,
        ],
        ["an assignment in a subshell", later("(HELIX_API_URL=http://evil.example.com)"), /line 28: a subshell/],
        ["IFS, which changes how bash splits the flags", later("IFS=,"), /line 28: IFS is not a variable install.sh writes/],
        ["set -o", later("set -o noglob"), /line 28: `set` with options install.sh does not write/],
        ["a trap", later("trap 'HELIX_API_URL=x' DEBUG"), /line 28: `trap` is not a command/],
        ["exit before the docker run", later("exit 0"), /line 28: `exit` before the `docker run` on line 53/],
        [
            "another SCRIPT_DIR (which names the .env sourced)",
            (t: string) => t.replace('SCRIPT_DIR="$(cd', 'SCRIPT_DIR=/etc/evil\nX="$(cd'),
            /line 8: SCRIPT_DIR is not the script's own folder/,
        ],
    ])("refuses %s", async (_what, edit, message) => {
        const dir = scratchProject();
        await expectRefused(dir, edited(dir, edit), message);
    });

    // The docker run is expanded as bash expands it: flag variables at the value bash gives them
    // there, through the same flag table as the flags written out.
    it.each([
        [
            "a -e of a setting written out",
            (t: string) => t.replace('-e HELIX_API_URL="$HELIX_API_URL"', "-e HELIX_API_URL=http://other.example.com"),
            /line 57: `docker run` passes HELIX_API_URL other than from the block at the top/,
        ],
        [
            "a -e of the token written out",
            (t: string) => t.replace('-e RUNNER_TOKEN="$RUNNER_TOKEN"', "-e RUNNER_TOKEN=otherToken123"),
            /line 59: `docker run` passes RUNNER_TOKEN other than from the block/,
        ],
        [
            "a -e of a setting with more after it",
            (t: string) => t.replace('-e HELIX_API_URL="$HELIX_API_URL"', '-e HELIX_API_URL="${HELIX_API_URL}/x"'),
            /line 57: `docker run` passes HELIX_API_URL other than/,
        ],
        [
            "flags smuggled in VIRTIO_FLAGS",
            (t: string) => t.replace('VIRTIO_FLAGS=""', 'VIRTIO_FLAGS="-v /:/host --pid host"'),
            /line 31 \(VIRTIO_FLAGS, expanded in the `docker run` on line 52\): `-v \/:\/host` is not what install.sh writes/,
        ],
        [
            "settings smuggled in VIRTIO_FLAGS",
            (t: string) => t.replace('VIRTIO_FLAGS=""', 'VIRTIO_FLAGS="-e GPU_VENDOR=amd -e RUNNER_TOKEN=other"'),
            /line 31 \(VIRTIO_FLAGS.*\): `docker run` passes GPU_VENDOR twice[\s\S]*passes RUNNER_TOKEN other than from the block/,
        ],
        [
            "the host's Docker socket set outside install.sh's if",
            (t: string) =>
                t.replace(
                    'if [ "$GPU_VENDOR" != "virtio" ]',
                    'PRIVILEGED_DOCKER_FLAGS="-v /var/run/docker.sock:/var/run/host-docker.sock:rw"\nif [ "$GPU_VENDOR" != "virtio" ]',
                ),
            /line 47 \(PRIVILEGED_DOCKER_FLAGS.*\): `-v \/var\/run\/docker\.sock/,
        ],
        [
            "flags appended to GPU_FLAGS",
            (t: string) => t.replace('if [ "$PRIVILEGED_DOCKER"', 'GPU_FLAGS+=" --cap-add SYS_ADMIN"\nif [ "$PRIVILEGED_DOCKER"'),
            /line 42 \(GPU_FLAGS.*\): the `docker run` flag "--cap-add"/,
        ],
        [
            "a flag variable set where bash's path depends on the host",
            (t: string) => t.replace('if [ "$PRIVILEGED_DOCKER" = "true" ]', "if [ -e /etc/dev-mode ]"),
            /line 43: PRIVILEGED_DOCKER_FLAGS is assigned in the `if` on line 42, whose test depends on the host/,
        ],
        [
            "a flag variable bash takes from the environment",
            (t: string) => t.replace('VIRTIO_FLAGS=""\n', ""),
            /the `docker run` expands \$VIRTIO_FLAGS, which the script does not set before it/,
        ],
        [
            "another DOCKER_VOLUME",
            (t: string) => t.replace('DOCKER_VOLUME="${SANDBOX_DOCKER_VOLUME:-sandbox-storage}"', 'DOCKER_VOLUME="x -v /:/host"'),
            /line 48: DOCKER_VOLUME is x -v \/:\/host; install.sh writes/,
        ],
        [
            "a docker function",
            (t: string) => t.replace("# shellcheck disable=SC2086\n", 'docker() { command docker "$@" -v /:/host; }\n'),
            /line 51: a function definition \(docker\).*in place of every docker command after it/,
        ],
        [
            "an alias of docker",
            (t: string) =>
                t.replace("# shellcheck disable=SC2086\n", 'shopt -s expand_aliases; alias docker="docker --host tcp://evil:2375"\n'),
            /line 51: `alias` is not a command/,
        ],
        [
            "a glob in the run",
            (t: string) => t.replace("    --privileged \\\n", "    --privileged \\\n    --device /dev/nvidia* \\\n"),
            /line 54: \/dev\/nvidia\* is unquoted, so bash would expand it/,
        ],
        [
            "--privileged=false",
            (t: string) => t.replace("    --privileged \\\n", "    --privileged=false \\\n"),
            /line 53: `--privileged=false` is not what install.sh writes/,
        ],
        [
            "a command substitution in the run",
            (t: string) => t.replace("    --privileged \\\n", "    --privileged \\\n    $(echo -v /:/host) \\\n"),
            /line 54: a command substitution in the `docker run`/,
        ],
        [
            "a GPU device gpuVendor does not add",
            (t: string) => t.replace("--runtime nvidia --device /dev/dri", "--runtime nvidia --device /dev/dri --device /dev/kfd"),
            /line 34: docker run passes --device \/dev\/kfd, which gpuVendor nvidia does not/,
        ],
        [
            "a GPU variable of another value",
            (t: string) => t.replace("-e NVIDIA_VISIBLE_DEVICES=all", "-e NVIDIA_VISIBLE_DEVICES=0"),
            /line 35: docker run passes NVIDIA_VISIBLE_DEVICES=0; with GPU_VENDOR nvidia the sandboxes run with all/,
        ],
    ])("refuses %s", async (_what, edit, message) => {
        const dir = scratchProject();
        await expectRefused(dir, edited(dir, edit), message);
    });

    // Every docker invocation is found wherever bash would run one, and only install.sh's own pass.
    it.each([
        [
            "through sudo",
            "sudo docker run -d --privileged -v /:/host alpine sleep 1d",
            /line 79: a second `docker run` \(the first is on line 52\), through `sudo`/,
        ],
        ["after &&", "true && docker run -d --privileged -v /:/host alpine", /line 79: a second `docker run` \(the first is on line 52\)/],
        [
            "by its path",
            "/usr/bin/docker run -d alpine",
            /line 79: a second `docker run` \(the first is on line 52\), as \/usr\/bin\/docker/,
        ],
        [
            "with another context",
            "docker --context other run -d --privileged alpine",
            /line 79: a second `docker run` .*with docker's global options/,
        ],
        [
            "as create and start",
            "docker create --name x --privileged -v /:/host alpine && docker start x",
            /line 79: a second `docker run`/,
        ],
        ["through exec", "exec docker run alpine", /line 79: a second `docker run` .*through `exec`/],
        ["in a command substitution", '[ -n "$(docker run -d alpine)" ]', /line 79: a second `docker run`/],
        ["in backquotes", "echo `docker run -d alpine`", /line 79: a second `docker run`/],
        ["in a process substitution", "grep -q x <(docker run alpine)", /line 79: a process substitution/],
        ["split over a line continuation", "doc\\\nker run -d alpine", /line 79: a second `docker run`/],
        [
            "through xargs",
            "echo run | xargs docker",
            /line 79: a docker command install.sh does not write \(docker \.\.\., through `xargs`\)/,
        ],
        ["another docker command", "docker pull alpine", /line 79: a docker command install.sh does not write \(docker pull\)/],
        ["a command named by a variable", 'D=docker\n"$D" run alpine', /line 80: the command \$D is an expansion/],
    ])("refuses a docker command %s", async (_what, line, message) => {
        const dir = scratchProject();
        await expectRefused(dir, edited(dir, atEnd(line)), message);
    });

    it("refuses a docker run that is not a command of its own", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace("docker run $GPU_FLAGS", "true && docker run $GPU_FLAGS"));
        await expectRefused(dir, file, /no `docker run` is a command of its own at the top of the script/);
    });

    it.each([
        ["<<\\EOF", "cat <<\\EOF >/dev/null\nHELIX_SANDBOX_REGISTRY=evil.example.com\nEOF", /line 79: a heredoc \(<<\\EOF\)/],
        ['<<"EOF"', 'cat <<"EOF" >/dev/null\nX=1\nEOF', /line 79: a heredoc \(<<"EOF"\)/],
        ["<<-EOF", "cat <<-EOF >/dev/null\n\tX=1\n\tEOF", /line 79: a heredoc \(<<-EOF\)/],
        ["a here-string", 'grep -q x <<< "$HELIX_API_URL"', /line 79: a here-string \(<<<\)/],
    ])("refuses a heredoc %s, whatever its delimiter", async (_what, lines, message) => {
        const dir = scratchProject();
        await expectRefused(dir, edited(dir, atEnd(lines)), message);
    });

    it("skips a heredoc's body as bash does, and names the lines after it rightly", async () => {
        const dir = scratchProject();
        const file = edited(dir, atEnd("cat <<\\EOF >/dev/null\ndocker run in the body is text\nEOF\nunset RUNNER_TOKEN"));
        const message = await run([file], dir).catch((err: Error) => err.message);
        expect(message).toMatch(/line 79: a heredoc/);
        expect(message).toMatch(/line 82: `unset` is not a command/);
        expect(message).not.toMatch(/line 80/);
    });

    it("refuses a heredoc inside the docker run", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) =>
            t.replace("    --privileged \\\n", "    --privileged \\\n    $(cat <<EOF\n-v /:/host\nEOF\n) \\\n"),
        );
        await expectRefused(dir, file, /line 54: a heredoc \(<<EOF\)/);
    });

    // Values as bash unquotes them; what cannot be modelled is refused, the token never shown.
    it.each([
        ["a trailing space", "Zq7fakeT0ken9Xyw ", /line 17: RUNNER_TOKEN starts or ends with a space, tab or line break/],
        ["a trailing tab", "Zq7fakeT0ken9Xyw\t", /line 17: RUNNER_TOKEN starts or ends with a space, tab or line break/],
        ["a leading space", " Zq7fakeT0ken9Xyw", /line 17: RUNNER_TOKEN starts or ends with a space/],
        ["a } in it", "abc}def", /line 17: RUNNER_TOKEN's value is more than install.sh's "\$\{RUNNER_TOKEN:-value\}"/],
        ["an ANSI-C string", "$'Zq7\\x41ke'", /line 17: an ANSI-C \$'\.\.\.' string/],
        ["a $ in it", "ab$cd", /line 17: RUNNER_TOKEN's default \(\$\{RUNNER_TOKEN:-\.\.\.\}\) holds quotes, a \$/],
        ["quotes in it", "ab'cd'", /line 17: RUNNER_TOKEN's default .* holds quotes/],
        ["a backslash in it", "ab\\cd", /line 17: RUNNER_TOKEN's default .* holds quotes, a \$, a ` or a backslash/],
    ])("refuses a default token with %s, never showing it", async (_what, value, message) => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            // A replacer function: in a replacement string, $' is a pattern of its own.
            edited(dir, (t) => t.replace(`:-${TOKEN}}`, () => `:-${value}}`)),
            message,
        );
    });

    it.each([
        [
            "a ~, which bash expands",
            (t: string) => t.replace('SANDBOX_INSTANCE_ID="gpu-box-7"', "SANDBOX_INSTANCE_ID=~root"),
            /line 16: SANDBOX_INSTANCE_ID's value has an unquoted ~/,
        ],
        [
            "another variable's default",
            (t: string) => t.replace(`RUNNER_TOKEN="\${RUNNER_TOKEN:-${TOKEN}}"`, `RUNNER_TOKEN="\${HELIX_TOKEN:-${TOKEN}}"`),
            /line 17: RUNNER_TOKEN is a shell expression \(a command substitution or a variable\)/,
        ],
        [
            "a command substitution in the default",
            (t: string) => t.replace(`:-${TOKEN}}`, ":-$(cat /etc/token)}"),
            /line 17: RUNNER_TOKEN's default/,
        ],
        [
            "a tag bash would split",
            (t: string) => t.replace('SANDBOX_TAG="2.12.2"', 'SANDBOX_TAG="2.12.2 --privileged"'),
            /SANDBOX_TAG \(line 14\) holds a space or a pattern/,
        ],
    ])("refuses a value with %s", async (_what, edit, message) => {
        const dir = scratchProject();
        const file = edited(dir, edit);
        await expect(run([file], dir)).rejects.toThrow(message);
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it.each([
        ["a token in single quotes with a $", (t: string) => t.replace(`"\${RUNNER_TOKEN:-${TOKEN}}"`, "'Zq7$fakeT0ken9'")],
        ["the default without a colon", (t: string) => t.replace(`\${RUNNER_TOKEN:-`, "${RUNNER_TOKEN-")],
        ["an indented block line", (t: string) => t.replace('GPU_VENDOR="nvidia"', '  GPU_VENDOR="nvidia"')],
        ["export in the block", (t: string) => t.replace('GPU_VENDOR="nvidia"', 'export GPU_VENDOR="nvidia"')],
        ["a value over a line continuation", (t: string) => t.replace('"https://helix.example.com"', '"https://helix.exa"\\\n"mple.com"')],
        ["the -e quoted whole", (t: string) => t.replace('-e HELIX_API_URL="$HELIX_API_URL"', '"-e" "HELIX_API_URL=$HELIX_API_URL"')],
        ["--env=", (t: string) => t.replace("-e HYDRA_ENABLED=true", "--env=HYDRA_ENABLED=true")],
        ["the image beside the last flag", (t: string) => t.replace("rmw' \\\n    ghcr.io", "rmw' ghcr.io")],
        ["the release written into the image", (t: string) => t.replace(":${SANDBOX_TAG}\n", ":2.12.2\n")],
        ["a redirection of the run", (t: string) => t.replace(":${SANDBOX_TAG}\n", ":${SANDBOX_TAG} >/dev/null\n")],
    ])("takes what bash runs the same: %s", async (_what, edit) => {
        const dir = scratchProject();
        const { code } = await run([edited(dir, edit)], dir);
        expect(code).toBe(0);
        expect(stackConfig(dir)).toMatchObject({ "zed-runner:apiHost": "https://helix.example.com", "zed-runner:gpuVendor": "nvidia" });
    });

    it("reads the flag variables down the branch bash takes for GPU_VENDOR", async () => {
        const dir = scratchProject({ dev: 'config:\n  zed-runner:workload: sandbox\n  zed-runner:allowNoGpu: "true"\n' });
        const file = edited(dir, (t) => t.replace('GPU_VENDOR="nvidia"', 'GPU_VENDOR="none"'));
        expect((await run([file], dir)).code).toBe(0);
        expect(stackConfig(dir)["zed-runner:gpuVendor"]).toBe("none");
    });

    it("never shows the token, wherever the script repeats it", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace("    --privileged \\\n", `    --privileged \\\n    --label ${TOKEN} \\\n`));
        await expectRefused(dir, file, /line 54: the `docker run` flag "\*\*\*" is not one install.sh writes/);
    });
});

describe("import-env on install.sh's whole sandbox.sh", () => {
    const COLOCATED = path.join(ROOT, "test/fixtures/helix-install/sandbox-colocated.sh");
    const colocated = fs.readFileSync(COLOCATED, "utf8");
    const write = (dir: string, text: string) => {
        const file = path.join(dir, "sandbox.sh");
        fs.writeFileSync(file, text);
        return file;
    };

    it("imports the script install.sh writes beside a control plane, its if/elif chain, network check and clean-up included", async () => {
        const dir = scratchProject();
        const { code, out } = await run([COLOCATED], dir);
        expect(code).toBe(0);
        expect(stackConfig(dir)).toEqual({
            "zed-runner:workload": "sandbox",
            "zed-runner:helixVersion": "2.12.2",
            "zed-runner:apiHost": "http://api:8080",
            "zed-runner:networks": '["helix_default"]',
            "zed-runner:instanceIdPrefix": "amd-box-2",
            "zed-runner:gpuVendor": "amd",
        });
        expect(out).not.toContain("Hq3fakeT0ken7Pzm");
    });

    it.each([["nvidia"], ["intel"]])("takes the %s branch of the chain", async (vendor) => {
        const dir = scratchProject();
        expect((await run([write(dir, colocated.replace('GPU_VENDOR="amd"', `GPU_VENDOR="${vendor}"`))], dir)).code).toBe(0);
        expect(stackConfig(dir)["zed-runner:gpuVendor"]).toBe(vendor);
    });

    it("names GPU_VENDOR for neuron, whose device loop it does not read", async () => {
        const dir = scratchProject();
        const file = write(dir, colocated.replace('GPU_VENDOR="amd"', 'GPU_VENDOR="neuron"'));
        await expect(run([file], dir)).rejects.toThrow(
            `line ${lineOf(colocated, "GPU_VENDOR=")}: GPU_VENDOR is neuron; gpuVendor takes nvidia, amd, intel, none`,
        );
    });

    it("refuses development mode by its setting", async () => {
        const dir = scratchProject();
        const file = write(dir, colocated.replace('PRIVILEGED_DOCKER="false"', 'PRIVILEGED_DOCKER="true"'));
        await expect(run([file], dir)).rejects.toThrow(
            `line ${lineOf(colocated, "PRIVILEGED_DOCKER=")}: PRIVILEGED_DOCKER is true (Helix's development mode: the \`docker run\` binds ` +
                `the host's Docker socket into the sandbox, with PRIVILEGED_DOCKER_FLAGS from line ${lineOf(colocated, '    PRIVILEGED_DOCKER_FLAGS="-v')})`,
        );
    });
});

describe("import-env refuses a file that is not what it claims to be", () => {
    it("refuses sandbox.sh with a byte-order mark, writing nothing", async () => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            edited(dir, (t) => `\uFEFF${t}`),
            /starts with a byte-order mark .* save it without one/,
        );
    });

    it("refuses sandbox.sh without its #! line, saying what it looks like", async () => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            edited(dir, (t) => t.replace("#!/bin/bash\n", "")),
            /is not an env file: line 8 is no NAME=value line, and it looks like Helix's sandbox.sh without its #!\/bin\/bash first line/,
        );
    });

    it("says a CRLF sandbox.sh has DOS line ends", async () => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            edited(dir, (t) => t.replace(/\n/g, "\r\n")),
            /has DOS \(CRLF\) line ends \(line 1 first\): bash would read a carriage return into every value/,
        );
    });

    it("refuses a script for another interpreter", async () => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            edited(dir, (t) => t.replace("#!/bin/bash", "#!/usr/bin/python3")),
            /starts with #!\/usr\/bin\/python3: it is a script, but not for bash/,
        );
    });

    it("refuses a script that never names the sandbox image", async () => {
        const dir = scratchProject();
        const file = path.join(dir, "other.sh");
        fs.writeFileSync(file, "#!/bin/bash\nAPI_HOST=https://helix.example.com\n");
        await expectRefused(dir, file, /is a script \(#!\/bin\/bash\) that never names Helix's sandbox image/);
    });

    it("refuses a script far larger than install.sh's, unread", async () => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            edited(dir, (t) => t + "echo\n".repeat(3000)),
            /is over 2000 lines or 64 kB/,
        );
    });

    it("says what is allowed for an image pinned by digest", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace(":${SANDBOX_TAG}\n", `@sha256:${"a".repeat(64)}\n`));
        await expect(run([file], dir)).rejects.toThrow(
            /Line 76 pins it by a digest .* import-env does not carry over: it reads the release from the tag\. .*What import-env reads there: ghcr\.io\/helixml\/helix-sandbox:<release> \(the release written out, or \$\{SANDBOX_TAG\}\), or a mirror's <registry>\/<path>\/helix-sandbox:<release>/,
        );
    });

    it("says what is allowed for an image tag from another variable", async () => {
        const dir = scratchProject();
        const file = edited(dir, (t) => t.replace(":${SANDBOX_TAG}\n", ":${OTHER_TAG:-2.9.0}\n"));
        await expect(run([file], dir)).rejects.toThrow(
            /It ends in ghcr\.io\/helixml\/helix-sandbox:\$\{OTHER_TAG:-2\.9\.0\} \(line 76\), which is no image written out: its tag may be \$\{SANDBOX_TAG\}/,
        );
    });
});

describe("import-env and a mirror of the sandbox image", () => {
    const mirrored = (t: string) => t.replace("    ghcr.io/helixml/", "    evil.example.com/x/");

    it("refuses it without a terminal unless --allow-mirror is given", async () => {
        const dir = scratchProject();
        await expectRefused(
            dir,
            edited(dir, mirrored),
            /runs the image evil\.example\.com\/x\/helix-sandbox:2\.12\.2, not ghcr\.io\/helixml\/helix-sandbox: the stack would run it privileged, with the runner token.*run import-env again with --allow-mirror/,
        );
    });

    it("asks on a terminal, and writes nothing on no", async () => {
        const dir = scratchProject();
        const no = terminal(false);
        const { code, out } = await run([edited(dir, mirrored)], dir, no);
        expect(code).toBe(1);
        expect(no.questions).toEqual([
            expect.stringMatching(
                /evil\.example\.com\/x\/helix-sandbox:2\.12\.2, not ghcr.io.*Is it your mirror of Helix's sandbox image\?$/,
            ),
        ]);
        expect(out).toBe("Nothing was written.");
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("writes it on a terminal's yes, then asks to write as for any import", async () => {
        const dir = scratchProject();
        const yes = terminal(true);
        expect((await run([edited(dir, mirrored)], dir, yes)).code).toBe(0);
        expect(yes.questions).toHaveLength(2);
        expect(stackConfig(dir)).toMatchObject({
            "zed-runner:sandboxImage": "evil.example.com/x/helix-sandbox:2.12.2",
            "zed-runner:allowSandboxImageMirror": "true",
        });
    });

    it("does not ask when the stack file already says whether mirrors are allowed", async () => {
        const dir = scratchProject({ dev: 'config:\n  zed-runner:workload: sandbox\n  zed-runner:allowSandboxImageMirror: "true"\n' });
        expect((await run([edited(dir, mirrored)], dir)).code).toBe(0);
        expect(stackConfig(dir)["zed-runner:sandboxImage"]).toBe("evil.example.com/x/helix-sandbox:2.12.2");
    });

    it("documents --allow-mirror in --help", async () => {
        const { out } = await run(["--help"], scratchProject());
        expect(out).toMatch(/--allow-mirror\s+sandbox\.sh only: its image is your mirror of Helix's sandbox image/);
    });
});
