// Bad input on every surface an operator feeds: stack config values, stack files,
// env files and command-line arguments. Each must be refused with a message that
// names what is wrong, and no message may carry a secret (the token, a URL's
// password, a value set with --secret). Nothing is created: these never reach a
// resource.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deployPlan } from "../../cli/deploy";
import { importEnv } from "../../cli/importEnv";
import { parseSince } from "../../cli/logs";
import { selectContainers } from "../../cli/placements/dockerHosts";
import { RUNNER_COMMANDS } from "../../cli/workloads/runner";
import { loadStackFiles, parseArgs } from "../../cli/stackFiles";
import { CONFIG_KEYS, SECRET_KEYS } from "../../components/config/schema";
import { MAX_VALUE_CHARS } from "../../components/config/values";
import { parseConfig } from "../../components/stackPlan";
import { BAD_INPUTS } from "../fixtures/configs";
import { hostsOf } from "../fixtures/placements";

const ROOT = path.resolve(__dirname, "../..");
/** The secrets no message may show. */
const TOKEN = "tok-SECRET-7f3a9c2b5e";
const PASSWORD = "hunter2-SECRET";
const SECRETS = [TOKEN, PASSWORD];
const context = { stackName: "dev", machineHostName: "box" };

function messageOf(run: () => unknown): string {
    try {
        run();
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("expected the input to be refused");
}

async function asyncMessageOf(run: () => Promise<unknown>): Promise<string> {
    try {
        await run();
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("expected the input to be refused");
}

function expectClean(message: string): void {
    for (const secret of SECRETS) expect(message).not.toContain(secret);
}

/** Stack config values, beyond the shared table: ones that carry secrets. */
const SECRET_BEARING: ReadonlyArray<readonly [string, string, string]> = [
    [
        "apiHost",
        `https://ops:${PASSWORD}@helix.example.com`,
        'apiHost (got "https://ops:***@helix.example.com") must not carry credentials',
    ],
    ["apiHost", `https://helix.example.com/?token=${PASSWORD}`, "must not have a query string"],
    ["apiHost", `https://helix.example.com/#${PASSWORD}`, "must not have a query string or fragment"],
    ["apiHost", `ftp://ops:${PASSWORD}@helix.example.com`, "must use http:// or https://"],
    ["apiToken", ` ${TOKEN}`, "apiToken has leading or trailing whitespace"],
    ["apiToken", `${TOKEN}\n`, "apiToken has leading or trailing whitespace"],
    [
        "hosts",
        JSON.stringify([{ name: "a", dockerHost: `ssh://ops:${PASSWORD}@a`, replicas: 1 }]),
        'hosts[0].dockerHost (got "ssh://ops:***@a") must not carry a password',
    ],
    ["networks", JSON.stringify([PASSWORD.replace("-", " ")]), "networks[0]"],
];

describe.each([...BAD_INPUTS, ...SECRET_BEARING])("stack config %s=%j", (key, value, fragment) => {
    it("is refused, naming the key, without a secret", () => {
        const message = messageOf(() => parseConfig({ apiToken: TOKEN, [key]: value }, context));
        expect(message).toContain("Invalid stack config for zed-runner");
        expect(message).toContain(key);
        expect(message).toContain(fragment);
        expectClean(message);
    });
});

// A value of any size is refused, quickly (bench/badInput.ts prints how quickly: no time is
// asserted here). A 1 MB runnerIdPrefix used to keep the message masking busy for tens of minutes.
const MEGABYTE = 1024 * 1024;
describe.each(CONFIG_KEYS)("a 1 MB %s", (key) => {
    it("is refused, naming the key and the limit, without a secret", () => {
        const huge = `https://ops:${PASSWORD}@`.padEnd(MEGABYTE, "a");
        const message = messageOf(() => parseConfig({ apiToken: TOKEN, [key]: huge }, context));
        expect(message).toContain(`${key}${SECRET_KEYS.has(key) ? " is" : ' (got "https://ops:***@aaaa'}`);
        expect(message).toContain(`is ${MEGABYTE} characters long; a value may have at most ${MAX_VALUE_CHARS}`);
        expectClean(message);
        expect(message.length).toBeLessThan(10_000);
    });
});

it("refuses a 1 MB value of letters alone, the shape that made masking quadratic", () => {
    const message = messageOf(() => parseConfig({ apiToken: TOKEN, runnerIdPrefix: "a".repeat(MEGABYTE) }, context));
    expect(message).toContain(`runnerIdPrefix (got "${"a".repeat(77)}...") is ${MEGABYTE} characters long`);
});

it("shows a 1 MB unknown key's name cut short", () => {
    const message = messageOf(() => parseConfig({ apiToken: TOKEN, ["k".repeat(MEGABYTE)]: "1" }, context));
    expect(message).toContain(`${"k".repeat(77)}... is not a zed-runner config key`);
    expect(message.length).toBeLessThan(10_000);
});

/** Every project folder a test made, removed after it. */
const projects: string[] = [];
afterEach(() => {
    for (const dir of projects.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A project folder with the real Pulumi.yaml and one stack file; removed after the test. */
function projectWith(stackText: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bad-inputs-"));
    projects.push(dir);
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), stackText);
    return dir;
}

const STACK_FILES: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["broken YAML", `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:replicas: [1\n`, /Pulumi\.t\.yaml:\d+:\d+: /],
    [
        "a key set twice",
        `config:\n  zed-runner:replicas: 1\n  zed-runner:replicas: 2\n`,
        /Pulumi\.t\.yaml:3:3: the key "zed-runner:replicas" is set twice/,
    ],
    ["a tab-indented file", `config:\n\tzed-runner:replicas: 1\n`, /Pulumi\.t\.yaml:\d+:\d+: /],
    ["config as a list", "config:\n  - zed-runner:replicas\n", /config must be a map of keys to values/],
    ["an unknown key", `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:replica: 3\n`, /replica is not a zed-runner config key/],
    [
        "a hex replicas Pulumi passes as text",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:replicas: 0x10\n`,
        /replicas \(got "0x10"\) must be an integer/,
    ],
    [
        "a capitalised boolean",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:persistWorkspaces: True\n`,
        /persistWorkspaces \(got "True"\) must be true or false/,
    ],
    [
        "a float replicas",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:replicas: 2.0\n`,
        /replicas \(got "2.0"\) must be an integer/,
    ],
    [
        "the token in plain text with a password in apiHost",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:apiHost: https://ops:${PASSWORD}@helix\n`,
        /apiHost \(got "https:\/\/ops:\*\*\*@helix"\)/,
    ],
    ["a removed key", `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:helixImage: x\n`, /helixImage is no longer used/],
    [
        "replicas beside hosts",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:replicas: 4\n  zed-runner:hosts:\n    - {name: a, dockerHost: "ssh://ops@a", replicas: 1}\n`,
        /replicas \(got "4"\) has no effect when hosts is set/,
    ],
    [
        "two hosts on one engine",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:hosts:\n    - {name: a, dockerHost: "unix:///var/run/docker.sock", replicas: 1}\n    - {name: b, dockerHost: "unix:///var/run//docker.sock", replicas: 1}\n`,
        /repeats hosts\[0\]\.dockerHost/,
    ],
    [
        "a value of nearly 1 MB",
        `config:\n  zed-runner:apiToken: ${TOKEN}\n  zed-runner:runnerIdPrefix: ${"a".repeat(1_000_000)}\n`,
        /runnerIdPrefix \(got "a{77}\.\.\."\) is 1000000 characters long; a value may have at most/,
    ],
    [
        "an alias bomb",
        `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nconfig:\n  zed-runner:replicas: 1\n`,
        /Excessive alias count/,
    ],
];

describe.each(STACK_FILES)("a stack file with %s", (_, text, expected) => {
    it("is refused with what and where, without a secret", () => {
        const message = messageOf(() => loadStackFiles("t", projectWith(text)));
        expect(message).toMatch(expected);
        expectClean(message);
    });
});

const ENV_FILES: ReadonlyArray<readonly [string, string, RegExp]> = [
    [
        "a loopback-free bad API host",
        `API_HOST=ftp://helix\nAPI_TOKEN=${TOKEN}\n`,
        /apiHost \(got "ftp:\/\/helix"\) must use http:\/\/ or https:\/\//,
    ],
    [
        "credentials in API_HOST",
        `API_HOST=https://ops:${PASSWORD}@helix.example.com\nAPI_TOKEN=${TOKEN}\n`,
        /apiHost \(got "https:\/\/ops:\*\*\*@helix\.example\.com"\) must not carry credentials/,
    ],
    [
        "a zero concurrency",
        `API_HOST=https://helix.example.com\nCONCURRENCY=0\nAPI_TOKEN=${TOKEN}\n`,
        /concurrency \(got "0"\) must be an integer from 1 to 64/,
    ],
    [
        "a negative MAX_TASKS",
        `API_HOST=https://helix.example.com\nMAX_TASKS=-1\n`,
        /maxTasks \(got "-1"\) must be an integer from 0 to 1000000/,
    ],
    [
        "a system WORKSPACE_DIR",
        `API_HOST=https://helix.example.com\nWORKSPACE_DIR=/etc\n`,
        /workspaceDir \(got "\/etc"\) must not be in the system folder \/etc/,
    ],
    [
        "an unknown LOG_LEVEL",
        `API_HOST=https://helix.example.com\nLOG_LEVEL=loud\nAPI_TOKEN=${TOKEN}\n`,
        /logLevel \(got "loud"\) must be one of debug, info, warn, error/,
    ],
    [
        "a tiny display",
        `API_HOST=https://helix.example.com\nDISPLAY_WIDTH=10\n`,
        /displayWidth \(got "10"\) must be an integer from 640 to 7680/,
    ],
    [
        "a bad RUNNER_ID",
        `API_HOST=https://helix.example.com\nRUNNER_ID=-bad id\n`,
        /runnerIdPrefix \(got "-bad id"\) must start with a letter or digit/,
    ],
    ["no variables", "# only a comment\n", /sets no variables/],
];

describe.each(ENV_FILES)("an env file with %s", (_, text, expected) => {
    it("is refused with the key, without a secret, and writes nothing", async () => {
        const dir = projectWith("config: {}\n");
        const env = path.join(dir, "runner.env");
        fs.writeFileSync(env, text);
        const spy = jest.spyOn(console, "log").mockImplementation(() => undefined);
        try {
            const message = await asyncMessageOf(() => importEnv([env, "--stack", "fresh"], dir, { PATH: "/nonexistent" }));
            expect(message).toMatch(expected);
            expectClean(message);
            expect(fs.existsSync(path.join(dir, "Pulumi.fresh.yaml"))).toBe(false);
        } finally {
            spy.mockRestore();
        }
    });
});

const fleetHosts = hostsOf(
    parseConfig(
        {
            apiToken: TOKEN,
            hosts: JSON.stringify([
                { name: "a", dockerHost: "ssh://ops@a", replicas: 2 },
                { name: "b", dockerHost: "ssh://ops@b", replicas: 1 },
            ]),
        },
        context,
    ),
);
const PASSPHRASE = { PULUMI_CONFIG_PASSPHRASE: PASSWORD };

const ARGUMENTS: ReadonlyArray<readonly [string, () => unknown, string]> = [
    [
        "an unknown option",
        () => parseArgs(["--stak", "dev"], { values: ["stack"], flags: [] }),
        "Unknown option --stak; known options: --stack.",
    ],
    ["an option without its value", () => parseArgs(["--stack"], { values: ["stack"], flags: [] }), "--stack needs a value."],
    [
        "an option followed by another",
        () => parseArgs(["--stack", "--json"], { values: ["stack"], flags: ["json"] }),
        "--stack needs a value.",
    ],
    [
        "deploy with --preview and --destroy",
        () => deployPlan(["--preview", "--destroy"], PASSPHRASE),
        "Choose one of --preview and --destroy.",
    ],
    ["deploy with a stray argument", () => deployPlan(["up"], PASSPHRASE), "Unexpected argument up"],
    ["deploy without a passphrase", () => deployPlan([], {}), "Set PULUMI_CONFIG_PASSPHRASE"],
    [
        "deploy with a missing passphrase file",
        () => deployPlan([], { PULUMI_CONFIG_PASSPHRASE_FILE: "/nonexistent/pass" }),
        "PULUMI_CONFIG_PASSPHRASE_FILE names /nonexistent/pass, which does not exist.",
    ],
    ["logs --since in the wrong form", () => parseSince("ten minutes"), "--since takes a duration such as 10m"],
    [
        "logs by index on a fleet",
        () => selectContainers(fleetHosts, "1", false, RUNNER_COMMANDS),
        "This stack has 2 hosts: name the runner by its ID",
    ],
    [
        "logs for a runner ID that is not planned",
        () => selectContainers(fleetHosts, "external-zed-c-1", false, RUNNER_COMMANDS),
        "No runner with ID external-zed-c-1",
    ],
    [
        "logs with no runner named",
        () => selectContainers(fleetHosts, undefined, false, RUNNER_COMMANDS),
        "Name a runner by index or runner ID",
    ],
    [
        "a stack with no file",
        () => loadStackFiles("no-such-stack", projectWith("config: {}\n")),
        "Pulumi.no-such-stack.yaml: create the stack with `pulumi stack init no-such-stack`",
    ],
];

describe.each(ARGUMENTS)("the command line with %s", (_, run, expected) => {
    it("is refused, naming the option, without a secret", () => {
        const message = messageOf(run);
        expect(message).toContain(expected);
        expectClean(message);
    });
});

it("covers at least 100 bad inputs", () => {
    expect(BAD_INPUTS.length + SECRET_BEARING.length + STACK_FILES.length + ENV_FILES.length + ARGUMENTS.length).toBeGreaterThanOrEqual(
        100,
    );
});
