// The real installer of the Pulumi CLI, run against a stand-in for the Automation API's
// module (TEST DOUBLE for @pulumi/pulumi/automation: nothing is downloaded), and the pin.
import * as fs from "node:fs";
import * as path from "node:path";
import { automationInstaller, installerEnv } from "../../../cli/lib/installPulumiCli";
import { PULUMI_CLI_VERSION } from "../../../cli/lib/pulumiCli";
import { NASTY_TOKEN, leakedRuns } from "../../support/secrets";
import { ROOT, scratchDir } from "./scratch";

const operatorEnv: NodeJS.ProcessEnv = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/home/ops",
    HTTPS_PROXY: "http://proxy.example:3128",
    no_proxy: "localhost",
    SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
    ZED_RUNNER_API_TOKEN: NASTY_TOKEN,
    PULUMI_CONFIG_PASSPHRASE: NASTY_TOKEN,
    PULUMI_ACCESS_TOKEN: NASTY_TOKEN,
    GITHUB_TOKEN: NASTY_TOKEN,
    AWS_SECRET_ACCESS_KEY: NASTY_TOKEN,
};

/**
 * TEST DOUBLE for @pulumi/pulumi/automation: its PulumiCommand.install records the options it
 * is given and the environment Pulumi's install script would inherit, then writes a stand-in
 * `pulumi`, or fails with `failure`.
 */
function standInAutomation(failure?: string): { module: string; record: string } {
    const dir = scratchDir("stand-in-automation-");
    const record = path.join(dir, "record.json");
    const module = path.join(dir, "automation.js");
    fs.writeFileSync(
        module,
        `// TEST DOUBLE for @pulumi/pulumi/automation.\nconst fs = require("fs"), path = require("path");\n` +
            `exports.PulumiCommand = { install: async (opts) => {\n` +
            `  fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ root: opts.root, version: opts.version.version, ` +
            `semver: typeof opts.version.compare === "function", env: process.env }));\n` +
            (failure
                ? `  throw new Error(${JSON.stringify(failure)});\n`
                : `  fs.mkdirSync(path.join(opts.root, "bin"), { recursive: true });\n` +
                  `  fs.writeFileSync(path.join(opts.root, "bin", "pulumi"), "#!/bin/sh\\necho v" + opts.version.version + "\\n", { mode: 0o755 });\n`) +
            `} };\n`,
    );
    return { module, record };
}

describe("the Pulumi CLI installer", () => {
    it("calls PulumiCommand.install with the install root and the version as a SemVer", async () => {
        const { module, record } = standInAutomation();
        const root = path.join(scratchDir("zr-cli-root-"), PULUMI_CLI_VERSION);
        await automationInstaller(module)(root, PULUMI_CLI_VERSION, operatorEnv);
        const seen = JSON.parse(fs.readFileSync(record, "utf8"));
        expect([seen.root, seen.version, seen.semver]).toEqual([root, PULUMI_CLI_VERSION, true]);
        expect(fs.readFileSync(path.join(root, "bin", "pulumi"), "utf8")).toContain(`echo v${PULUMI_CLI_VERSION}`);
    });

    it("runs it where the downloaded script sees no token, passphrase or credential, only what downloading needs", async () => {
        const { module, record } = standInAutomation();
        await automationInstaller(module)(path.join(scratchDir("zr-cli-root-"), "v"), PULUMI_CLI_VERSION, operatorEnv);
        const env = JSON.parse(fs.readFileSync(record, "utf8")).env as Record<string, string>;
        expect(leakedRuns(JSON.stringify(env), NASTY_TOKEN)).toEqual([]);
        expect(env).toMatchObject({
            PATH: operatorEnv.PATH,
            HOME: "/home/ops",
            HTTPS_PROXY: "http://proxy.example:3128",
            no_proxy: "localhost",
            SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
        });
        expect(installerEnv(operatorEnv)).toEqual({
            PATH: operatorEnv.PATH,
            HOME: "/home/ops",
            HTTPS_PROXY: "http://proxy.example:3128",
            no_proxy: "localhost",
            SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
        });
    });

    it("fails with the Automation API's own message", async () => {
        const { module } = standInAutomation("Failed to download https://get.pulumi.com/install.sh: 404 Not Found");
        await expect(
            automationInstaller(module)(path.join(scratchDir("zr-cli-root-"), "v"), PULUMI_CLI_VERSION, operatorEnv),
        ).rejects.toThrow("Failed to download https://get.pulumi.com/install.sh: 404 Not Found");
    });
});

describe("the pinned CLI version", () => {
    it("is the version of the @pulumi/pulumi SDK the project locks", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
        expect(lock.packages["node_modules/@pulumi/pulumi"].version).toBe(PULUMI_CLI_VERSION);
        const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8"));
        expect(sdk.version).toBe(PULUMI_CLI_VERSION);
    });

    it("is the one the README says is downloaded, wherever it names a version", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        expect(readme).toContain(`Pulumi CLI v${PULUMI_CLI_VERSION}`);
        expect(readme).toContain(`pulumi-v${PULUMI_CLI_VERSION}-`);
        expect([...new Set(readme.match(/\b3\.\d+\.\d+\b/g))]).toEqual([PULUMI_CLI_VERSION]);
    });
});
