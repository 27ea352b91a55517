import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { importEnv, mapEnv, placeholderToken } from "../../cli/importEnv";
import type { Prompt } from "../../cli/lib/prompt";
import { PULUMI_CLI_VERSION } from "../../cli/lib/pulumiCli";
import { ROOT, scratchDir, scratchProject as project, stubPulumi } from "./lib/scratch";

const SEED_ENV = path.join(ROOT, "test/fixtures/external-zed-agent.env.example");

/** A scratch project folder with this project's Pulumi.yaml, and a dev stack file of `stackFile`. */
function scratchProject(stackFile?: string): string {
    return project(stackFile === undefined ? {} : { dev: stackFile }, "zr-import-");
}

/** TEST DOUBLE for the operator's terminal: not a terminal, so nothing is asked. */
const noTerminal: Prompt = { interactive: false, confirm: async () => Promise.reject(new Error("asked without a terminal")) };

async function run(
    argv: string[],
    root: string,
    env: NodeJS.ProcessEnv = { PATH: "/nonexistent" },
    prompt: Prompt = noTerminal,
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

describe("npm run import-env", () => {
    it("on a terminal, shows what it would write and writes nothing when the answer is no", async () => {
        const dir = scratchProject();
        const questions: string[] = [];
        const answer = (yes: boolean): Prompt => ({ interactive: true, confirm: async (q) => (questions.push(q), yes) });
        const no = await run([SEED_ENV], dir, undefined, answer(false));
        expect([no.code, fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))]).toEqual([1, false]);
        expect(no.out).toContain(
            `Would write 10 setting(s) to ${path.join(dir, "Pulumi.dev.yaml")}:\n  apiHost: http://host.docker.internal:80`,
        );
        expect(no.out).toContain("Nothing was written.");
        const yes = await run([SEED_ENV], dir, undefined, answer(true));
        expect(yes.code).toBe(0);
        expect(parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).config["zed-runner:apiHost"]).toBe(
            "http://host.docker.internal:80",
        );
        expect(questions).toEqual(Array(2).fill(`Write these settings to ${path.join(dir, "Pulumi.dev.yaml")}?`));
    });

    it("imports the seed's example env file into a new stack file", async () => {
        const dir = scratchProject();
        const { code, out } = await run([SEED_ENV], dir);
        expect(code).toBe(0);
        const written = parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).config;
        expect(written).toEqual({
            "zed-runner:apiHost": "http://host.docker.internal:80",
            "zed-runner:runnerIdPrefix": "external-zed-dev-machine",
            "zed-runner:concurrency": "1",
            "zed-runner:maxTasks": "0",
            "zed-runner:sessionTimeout": "3600",
            "zed-runner:workspaceDir": "/tmp/zed-workspaces",
            "zed-runner:displayWidth": "1920",
            "zed-runner:displayHeight": "1080",
            "zed-runner:containerNamePrefix": "helix-external-zed-agent",
            "zed-runner:logLevel": "info",
        });
        expect(out).toContain("Note: API_HOST: http://localhost:80 is loopback");
        expect(out).toContain("DISPLAY_NUM: the image always uses display :1");
        expect(out).toContain("MAX_SESSIONS: no longer used: concurrency caps live sessions");
        expect(out).toContain("DOCKER_IMAGE: helix-zed-agent:latest is the script's locally built image");
        // The example's token is a placeholder: not a token to store, and the fix is in the env file.
        expect(out).toContain(`API_TOKEN in ${SEED_ENV} is the example file's placeholder, not a runner token: not imported.`);
        expect(out).not.toContain("pulumi config set");
    });

    it("never writes or prints the token", async () => {
        const dir = scratchProject();
        const { out } = await run([SEED_ENV], dir);
        expect(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).not.toContain("your-runner-token-here");
        expect(out).not.toContain("your-runner-token-here");
    });

    it("keeps keys and comments the stack file already has", async () => {
        const dir = scratchProject('# my runners\nconfig:\n  zed-runner:concurrency: "4"\n  zed-runner:replicas: "3"\n');
        const { out } = await run([SEED_ENV, "--stack", "dev"], dir);
        const text = fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8");
        expect(text.startsWith("# my runners\n")).toBe(true);
        const config = parse(text).config;
        expect(config["zed-runner:concurrency"]).toBe("4");
        expect(config["zed-runner:replicas"]).toBe("3");
        expect(config["zed-runner:logLevel"]).toBe("info");
        expect(out).toContain("Kept what");
        expect(out).toContain("concurrency");
    });

    it("reports invalid values like the program and writes nothing", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "bad.env");
        fs.writeFileSync(env, "API_HOST=ftp://helix\nCONCURRENCY=0\nLOG_LEVEL=loud\n");
        await expect(run([env], dir)).rejects.toThrow(
            /apiHost \(got "ftp:\/\/helix"\) must use http:\/\/ or https:\/\/[\s\S]*concurrency \(got "0"\) must be an integer from 1 to 64[\s\S]*logLevel/,
        );
        await expect(run([env], dir)).rejects.toThrow("Nothing was written");
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it.each([
        [[], "import-env needs PATH.\nUsage: npm run import-env -- PATH [--stack NAME] [--set-token]"],
        [["a.env", "b.env"], "Unexpected argument b.env: import-env takes PATH only."],
        [["/nonexistent/file.env"], "The env file /nonexistent/file.env does not exist."],
        [["/tmp"], "The env file /tmp is not a file (it is a directory)."],
    ])("refuses %j", async (argv, message) => {
        await expect(run(argv, scratchProject())).rejects.toThrow(message);
    });

    it("refuses a file with no variables", async () => {
        const dir = scratchProject();
        fs.writeFileSync(path.join(dir, "empty.env"), "# nothing here\n");
        await expect(run([path.join(dir, "empty.env")], dir)).rejects.toThrow("sets no variables");
    });

    it("maps a prebuilt image other than the script's local one", () => {
        expect(mapEnv({ DOCKER_IMAGE: "registry.example.com/zed:1.2" }, new Set()).written).toEqual({
            image: "registry.example.com/zed:1.2",
        });
    });

    it("explains variables it does not know", () => {
        expect(mapEnv({ FOO: "1", RDP_PASSWORD: "x" }, new Set()).skipped).toEqual([
            { name: "FOO", reason: "not a setting of Helix's runner script" },
            { name: "RDP_PASSWORD", reason: "generated per runner; see `pulumi stack output credentials --show-secrets`" },
        ]);
    });

    it("reads a relative path from the folder npm was run in (INIT_CWD), not the project's", async () => {
        const dir = scratchProject();
        const mine = scratchDir("zr-home-");
        fs.writeFileSync(path.join(mine, "runner.env"), "API_HOST=https://helix.example.com\nCONCURRENCY=3\n");
        const { code } = await run(["runner.env"], dir, { PATH: "/nonexistent", INIT_CWD: mine });
        expect(code).toBe(0);
        expect(parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).config["zed-runner:concurrency"]).toBe("3");
    });

    it("fails with --set-token when the Pulumi CLI is missing, writing nothing", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, "API_HOST=https://helix.example.com\nAPI_TOKEN=tok-5c1f9e2a7b3d\n");
        await expect(run([env, "--set-token"], dir)).rejects.toThrow(
            "--set-token stores the token through the Pulumi CLI, which is not installed (no `pulumi` on PATH); nothing was written.",
        );
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("stores the token with --set-token through the CLI, in the project folder whose Pulumi.yaml names the backend", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, "API_HOST=https://helix.example.com\nAPI_TOKEN=tok-5c1f9e2a7b3d\n");
        const { env: withStub, record } = stubPulumi();
        const { code, out } = await run([env, "--set-token"], dir, withStub);
        expect(code).toBe(0);
        expect(out).toContain("Set apiToken as a secret of stack dev through the Pulumi CLI.");
        expect(fs.readFileSync(`${record}.stdin`, "utf8")).toBe("tok-5c1f9e2a7b3d");
        expect(fs.readFileSync(`${record}.cwd`, "utf8").trim()).toBe(fs.realpathSync(dir));
        expect(fs.readFileSync(`${record}.backend`, "utf8")).toBe("unset");
        expect(parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")).backend).toEqual({ url: "file://./.state" });
    });

    it("stores the token through the CLI `npm run deploy` installed into the project, when none is on PATH", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, "API_HOST=https://helix.example.com\nAPI_TOKEN=tok-5c1f9e2a7b3d\n");
        const bin = path.join(dir, ".pulumi-cli", PULUMI_CLI_VERSION, "bin");
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(
            path.join(bin, "pulumi"),
            `#!/bin/sh\n# TEST DOUBLE for the project's installed Pulumi CLI: records argv, stdin and PATH.\n` +
                `[ "$1" = version ] && { echo v${PULUMI_CLI_VERSION}; exit 0; }\n` +
                `printf '%s\\n' "$@" > "${bin}/args"\nprintf '%s' "$PATH" > "${bin}/path"\n/bin/cat > "${bin}/stdin"\n`,
            { mode: 0o755 },
        );
        const { code } = await run([env, "--set-token"], dir, { PATH: "/nonexistent" });
        expect(code).toBe(0);
        expect(fs.readFileSync(path.join(bin, "args"), "utf8")).toContain("config\nset\n--secret\napiToken\n");
        expect(fs.readFileSync(path.join(bin, "stdin"), "utf8")).toBe("tok-5c1f9e2a7b3d");
        // Its own folder first on PATH, as the Automation API runs it, for its bundled plugins.
        expect(fs.readFileSync(path.join(bin, "path"), "utf8")).toBe(`${bin}:/nonexistent`);
    });

    it.each([["your-runner-token-here"], ["$RUNNER_TOKEN"], ["${RUNNER_TOKEN:-changeme}"], ["<your token>"]])(
        "refuses the placeholder token %s with --set-token, writing and storing nothing",
        async (token) => {
            const dir = scratchProject();
            const env = path.join(dir, "runner.env");
            fs.writeFileSync(env, `API_HOST=https://helix.example.com\nAPI_TOKEN='${token}'\n`);
            const { env: withStub, record } = stubPulumi();
            await expect(run([env, "--set-token"], dir, withStub)).rejects.toThrow(
                new RegExp(
                    `API_TOKEN in ${env.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is .*: put your control plane's runner token there and run again. Nothing was written.`,
                ),
            );
            expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
            expect(fs.existsSync(`${record}.stdin`)).toBe(false);
        },
    );

    it("takes a real token for a token", () => {
        expect(placeholderToken("tok-5c1f9e2a7b3d")).toBeUndefined();
        expect(placeholderToken("$RUNNER")).toBe("a shell variable that is never expanded in an env file");
    });

    it("names the fix in the env file, not `pulumi config set`", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "bad.env");
        fs.writeFileSync(env, "API_HOST=https://helix.example.com\nCONCURRENCY=0\n");
        const message = await run([env], dir).then(
            () => "",
            (err: Error) => err.message,
        );
        expect(message).toContain('concurrency (got "0") must be an integer from 1 to 64');
        expect(message).toContain(`Fix CONCURRENCY (concurrency) in ${env} and run import-env again.`);
        expect(message).not.toContain("pulumi config set");
    });

    it("advises --set-token or ZED_RUNNER_API_TOKEN for a real token, not `pulumi config set`", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, "API_HOST=https://helix.example.com\nAPI_TOKEN=tok-5c1f9e2a7b3d\n");
        const { out } = await run([env], dir);
        expect(out).toContain(
            "Rerun with --set-token to store it as the stack's secret (needs the Pulumi CLI), or hand it to `npm run deploy` in ZED_RUNNER_API_TOKEN.",
        );
        expect(out).not.toContain("tok-5c1f9e2a7b3d");
        expect(out).not.toContain("pulumi config set");
    });

    // #30: a bad --stack is refused before any file is read or process run.
    it("refuses a bad --stack before reading the file", async () => {
        const dir = scratchProject();
        await expect(run(["/nonexistent/sandbox.sh", "--stack", "x/../../evil"], dir)).rejects.toThrow(
            '--stack "x/../../evil" is not a stack name',
        );
    });

    it("refuses a bad --stack before running the Pulumi CLI for --set-token", async () => {
        const dir = scratchProject();
        const bin = scratchDir("zr-pulumi-");
        const log = path.join(bin, "calls");
        fs.writeFileSync(
            path.join(bin, "pulumi"),
            `#!/bin/sh
# TEST DOUBLE for the Pulumi CLI: records every call, \`version\` included.
printf '%s\\n' "$*" >> "${log}"
echo v3.0.0
`,
            { mode: 0o755 },
        );
        await expect(run([SEED_ENV, "--stack", "x/../../evil", "--set-token"], dir, { PATH: `${bin}:/usr/bin:/bin` })).rejects.toThrow(
            "is not a stack name",
        );
        expect(fs.existsSync(log)).toBe(false);
    });

    // #30: a file that is not what it claims to be writes nothing.
    it.each([
        [
            "a shell script without its #! line",
            "API_HOST=https://helix.example.com\nif [ -f x ]; then echo; fi\n",
            /line 2 is no NAME=value line, and it looks like a shell script/,
        ],
        ["a docker run", "API_HOST=https://helix.example.com\ndocker run -d alpine\n", /line 2 is no NAME=value line/],
        [
            "Helix's sandbox.sh without its #! line",
            "SANDBOX_TAG=2.12.2\ndocker run ghcr.io/helixml/helix-sandbox:2.12.2\n",
            /line 2 is no NAME=value line, and it looks like Helix's sandbox.sh without its #!\/bin\/bash first line/,
        ],
        [
            "none of the runner script's variables",
            "SANDBOX_TAG=2.12.2\nFOO=bar\n",
            /sets none of the variables of Helix's runner env file \(API_HOST, API_TOKEN/,
        ],
    ])("refuses %s, writing nothing", async (_what, text, message) => {
        const dir = scratchProject();
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, text);
        await expect(run([env], dir)).rejects.toThrow(message);
        await expect(run([env], dir)).rejects.toThrow("Nothing was written.");
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });

    it("takes a quoted value over two lines, a byte-order mark and CRLF line ends, as dotenv reads them", async () => {
        const dir = scratchProject();
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, '\uFEFFAPI_HOST=https://helix.example.com\r\nRUST_LOG="a\r\nb"\r\n# done\r\nLOG_LEVEL=debug\r\n');
        expect((await run([env], dir)).code).toBe(0);
        expect(parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).config).toEqual({
            "zed-runner:apiHost": "https://helix.example.com",
            "zed-runner:logLevel": "debug",
        });
    });

    it.each([["tok-5c1f9e2a 7b3d"], ["tok-5c1f9e2a7b3d "], ["\ttok-5c1f9e2a7b3d"]])(
        "refuses API_TOKEN %j with whitespace in it, storing and showing nothing",
        async (token) => {
            const dir = scratchProject();
            const env = path.join(dir, "runner.env");
            fs.writeFileSync(env, `API_HOST=https://helix.example.com\nAPI_TOKEN="${token}"\n`);
            const { env: withStub, record } = stubPulumi();
            const message = await run([env, "--set-token"], dir, withStub).catch((err: Error) => err.message);
            expect(message).toContain("API_TOKEN in");
            expect(message).toContain("has a space, tab, line break or control character in it (or at its start or end)");
            expect(message).not.toContain(token.trim());
            expect(fs.existsSync(`${record}.stdin`)).toBe(false);
            expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
        },
    );

    it("refuses --allow-mirror for an env file", async () => {
        const dir = scratchProject();
        await expect(run([SEED_ENV, "--allow-mirror"], dir)).rejects.toThrow("--allow-mirror is for a sandbox.sh whose image is a mirror");
        expect(fs.existsSync(path.join(dir, "Pulumi.dev.yaml"))).toBe(false);
    });
});
