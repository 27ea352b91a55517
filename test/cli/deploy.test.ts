import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deploy, deployPlan, renderOutputs } from "../../cli/deploy";
import { MISSING_CLI_MESSAGE } from "../../cli/lib/pulumiCli";
import { UserError } from "../../cli/stackFiles";

const passphrase = { PULUMI_CONFIG_PASSPHRASE: "correct horse" };

describe("npm run deploy: arguments and defaults", () => {
    it("runs `up` on the dev stack with state in the project's .state folder", () => {
        expect(deployPlan([], passphrase, "/srv/zed-runner")).toEqual({
            stack: "dev",
            operation: "up",
            backendUrl: "file:///srv/zed-runner/.state",
            envVars: { PULUMI_BACKEND_URL: "file:///srv/zed-runner/.state", PULUMI_SKIP_UPDATE_CHECK: "true" },
        });
    });

    it.each([
        [["--preview"], "preview"],
        [["--destroy"], "destroy"],
        [["--stack", "prod", "--preview"], "preview"],
    ])("reads %j as %s", (argv, operation) => {
        expect(deployPlan(argv, passphrase).operation).toBe(operation);
    });

    it("takes --stack NAME and --stack=NAME", () => {
        expect(deployPlan(["--stack", "gpu"], passphrase).stack).toBe("gpu");
        expect(deployPlan(["--stack=gpu"], passphrase).stack).toBe("gpu");
    });

    it("takes a token from ZED_RUNNER_API_TOKEN, never into the CLI's environment", () => {
        const plan = deployPlan([], { ...passphrase, ZED_RUNNER_API_TOKEN: "tok-123456" });
        expect(plan.apiToken).toBe("tok-123456");
        expect(JSON.stringify(plan.envVars)).not.toContain("tok-123456");
        expect(deployPlan([], passphrase)).not.toHaveProperty("apiToken");
    });

    it("keeps a backend the operator chose", () => {
        expect(deployPlan([], { ...passphrase, PULUMI_BACKEND_URL: "s3://state-bucket" }).backendUrl).toBe("s3://state-bucket");
    });

    it("accepts a passphrase file that exists", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zr-")), "pass");
        fs.writeFileSync(file, "secret\n");
        expect(deployPlan([], { PULUMI_CONFIG_PASSPHRASE_FILE: file }).operation).toBe("up");
    });

    it.each([
        [["--preview", "--destroy"], passphrase, "Choose one of --preview and --destroy."],
        [["--force"], passphrase, "Unknown option --force; known options: --stack, --preview, --destroy."],
        [["--stack"], passphrase, "--stack needs a value."],
        [["prod"], passphrase, "Unexpected argument prod"],
        [[], {}, "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE, a file holding it)"],
        [
            [],
            { PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent/pass" },
            "PULUMI_CONFIG_PASSPHRASE_FILE names /nonexistent/pass, which does not exist.",
        ],
    ])("refuses %j with %j", (argv, env, message) => {
        expect(() => deployPlan(argv as string[], env as NodeJS.ProcessEnv)).toThrow(UserError);
        expect(() => deployPlan(argv as string[], env as NodeJS.ProcessEnv)).toThrow(message);
    });
});

describe("npm run deploy: without the Pulumi CLI", () => {
    it("stops at once, saying how to install it and pointing at npm run plan", async () => {
        const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), "zr-nopulumi-"));
        await expect(deploy([], { ...passphrase, PATH: emptyPath })).rejects.toThrow(MISSING_CLI_MESSAGE);
        expect(MISSING_CLI_MESSAGE).toContain("https://www.pulumi.com/docs/install/");
        expect(MISSING_CLI_MESSAGE).toContain("npm run plan");
    });

    it("checks the passphrase before looking for the CLI", async () => {
        await expect(deploy([], { PATH: "/nonexistent" })).rejects.toThrow("Set PULUMI_CONFIG_PASSPHRASE");
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
