// Installing the Pulumi CLI into the project when there is none, so that a first
// `npm run deploy` needs no `curl | sh` and changes nothing outside the project (no PATH,
// no shell profile). Asked first on a terminal, as every change is; --yes installs without
// asking; without either it refuses. The download itself is the Automation API's
// PulumiCommand.install, behind CliInstaller so tests replace it and download nothing.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describeError } from "../../contract";
import { UserError } from "./errors";
import { shown } from "./files";
import { Prompt } from "./prompt";
import { MISSING_CLI_MESSAGE, PROJECT_CLI_DIR, PULUMI_CLI_VERSION, PulumiCli, cliVersion, projectCliRoot } from "./pulumiCli";

/** Installs Pulumi CLI `version` so that `<installRoot>/bin/pulumi` runs: the boundary tests replace. */
export type CliInstaller = (installRoot: string, version: string, env: NodeJS.ProcessEnv) => Promise<void>;

/**
 * What the installer's environment keeps of the operator's: finding programs, a temporary
 * folder, proxies and CA certificates. Nothing else, since it runs a script downloaded at
 * that moment: no runner token, no passphrase, no cloud or GitHub credentials.
 */
const INSTALLER_ENV = [
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
];

export function installerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return Object.fromEntries(INSTALLER_ENV.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}

/**
 * Run in a child Node process: PulumiCommand.install runs Pulumi's install script with its
 * own process's environment, and this one's holds the operator's secrets.
 */
const INSTALL_IN_CHILD = `
const [automation, semver, root, version] = process.argv.slice(1);
require(automation)
    .PulumiCommand.install({ root, version: new (require(semver).SemVer)(version) })
    .then(() => process.exit(0), (err) => { process.stderr.write(String((err && err.message) || err)); process.exit(1); });
`;

/**
 * The real installer: the Automation API's PulumiCommand.install (its module can be named, for
 * the test that runs this without downloading). It downloads https://get.pulumi.com/install.sh
 * and runs it with --install-root, --version and --no-edit-path.
 */
export function automationInstaller(automationModule = require.resolve("@pulumi/pulumi/automation")): CliInstaller {
    // The semver the SDK itself uses, to hand it the SemVer it expects.
    const semverModule = require.resolve("semver", { paths: [require.resolve("@pulumi/pulumi")] });
    return (installRoot, version, env) =>
        new Promise((resolve, reject) => {
            const child = spawn(process.execPath, ["-e", INSTALL_IN_CHILD, automationModule, semverModule, installRoot, version], {
                env: installerEnv(env),
                stdio: ["ignore", "ignore", "pipe"],
            });
            let stderr = "";
            child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
            child.on("error", reject);
            child.on("close", (code, signal) =>
                code === 0 ? resolve() : reject(new Error(stderr.trim() || `the installer exited with ${signal ?? `status ${code}`}`)),
            );
        });
}

/** What deploy needs to get a CLI. */
export interface CliSetup {
    /** The project folder: the CLI goes into its PROJECT_CLI_DIR. */
    readonly root: string;
    readonly env: NodeJS.ProcessEnv;
    readonly prompt: Prompt;
    /** --yes: install without asking. */
    readonly yes: boolean;
    readonly find: (env: NodeJS.ProcessEnv) => PulumiCli | undefined;
    readonly install: CliInstaller;
    readonly write: (text: string) => void;
}

/**
 * The CLI to deploy with: the one found, or, with the operator's yes (or --yes), the pinned
 * version installed into the project. Refuses without a terminal and without --yes, and on a no.
 */
export async function ensurePulumiCli(setup: CliSetup): Promise<PulumiCli> {
    const found = setup.find(setup.env);
    if (found) return found;
    const target = projectCliRoot(setup.root);
    if (!setup.yes) {
        if (!setup.prompt.interactive) {
            throw new UserError(
                `${MISSING_CLI_MESSAGE} Or rerun with --yes: deploy then installs Pulumi CLI v${PULUMI_CLI_VERSION} into ${shown(target)} ` +
                    `without asking (it asks first, and there is no terminal to ask on).`,
            );
        }
        setup.write(
            `The Pulumi CLI is not installed (no \`pulumi\` on PATH). deploy can install v${PULUMI_CLI_VERSION} into ${shown(target)}, ` +
                `for this project only: Pulumi's install script (https://get.pulumi.com/install.sh) downloads the release from ` +
                `https://github.com/pulumi/pulumi/releases (or get.pulumi.com). Nothing outside ${PROJECT_CLI_DIR} changes.\n`,
        );
        if (!(await setup.prompt.confirm(`Install Pulumi CLI v${PULUMI_CLI_VERSION} into ${shown(target)}?`))) {
            throw new UserError(MISSING_CLI_MESSAGE);
        }
    }
    return installIntoProject(setup, target);
}

/**
 * Installs into a fresh folder beside the target and moves it into place only once its
 * `pulumi version` answers with the pinned version: a failed or interrupted install leaves
 * nothing at the target that a later run would take for a working CLI.
 */
async function installIntoProject(setup: CliSetup, target: string): Promise<PulumiCli> {
    setup.write(
        `Installing Pulumi CLI v${PULUMI_CLI_VERSION} into ${shown(target)} (downloading the release; this can take a minute)...\n`,
    );
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const staging = fs.mkdtempSync(`${target}.installing-`);
    try {
        await setup.install(staging, PULUMI_CLI_VERSION, setup.env);
        const command = path.join(staging, "bin", "pulumi");
        const version = cliVersion(command, setup.env);
        if (version !== PULUMI_CLI_VERSION) {
            throw new Error(
                version === undefined
                    ? `the installer finished but ${shown(command)} does not run`
                    : `the installed CLI reports version ${version}, not ${PULUMI_CLI_VERSION}`,
            );
        }
        // Whatever is at the target did not answer as the pinned version when the CLI was looked for: replace it.
        fs.rmSync(target, { recursive: true, force: true });
        fs.renameSync(staging, target);
    } catch (err) {
        fs.rmSync(staging, { recursive: true, force: true });
        throw new UserError(
            `Installing Pulumi CLI v${PULUMI_CLI_VERSION} into ${shown(target)} failed, and nothing was left there: ${describeError(err)}\n` +
                MISSING_CLI_MESSAGE,
        );
    }
    setup.write(
        `Installed Pulumi CLI v${PULUMI_CLI_VERSION} into ${shown(target)}; later runs use it. \`rm -rf ${PROJECT_CLI_DIR}\` removes it.\n`,
    );
    return { command: path.join(target, "bin", "pulumi"), root: target };
}
