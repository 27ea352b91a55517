import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { importEnv, mapEnv } from "../../cli/importEnv";

const ROOT = path.resolve(__dirname, "../..");
const SEED_ENV = path.join(ROOT, "test/fixtures/external-zed-agent.env.example");

/** A scratch project folder with this project's Pulumi.yaml. */
function scratchProject(stackFile?: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zr-import-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    if (stackFile !== undefined) fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackFile);
    return dir;
}

async function run(argv: string[], root: string): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const spy = jest.spyOn(console, "log").mockImplementation((...args) => void lines.push(args.join(" ")));
    try {
        const code = await importEnv(argv, root, { PATH: "/nonexistent" });
        return { code, out: lines.join("\n") };
    } finally {
        spy.mockRestore();
    }
}

describe("npm run import-env", () => {
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
        expect(out).toContain("  pulumi config set --secret apiToken --stack dev");
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
        [[], "Usage: npm run import-env -- PATH [--stack NAME] [--set-token]"],
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
});
