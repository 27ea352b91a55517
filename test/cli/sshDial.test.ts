// The ssh:// connection of status and logs: the ssh arguments (as the Docker CLI builds
// them, with the host's sshOpts), what is refused before ssh runs, ssh's environment, and
// the messages for ssh's failures. The last part drives dockerFor through a fake `ssh`
// on PATH (a test double at the process boundary: it records its arguments and
// environment and answers the Engine API's ping, or fails as ssh does).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerFor, requireEngine } from "../../cli/engine";
import { SshConfigError, explainSshFailure, parseSshAddress, sshArgs, sshEnv } from "../../cli/lib/sshDial";
import { UserError } from "../../cli/lib/errors";
import type { HostIdentity } from "../../components/placements/placement";

const DIAL = ["docker", "system", "dial-stdio"];
const ENFORCED = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"];

describe("parseSshAddress", () => {
    it.each([
        ["ssh://ops@gpu-a.example.com", { user: "ops", host: "gpu-a.example.com", port: undefined }],
        ["ssh://ops@gpu-b.example.com:2222", { user: "ops", host: "gpu-b.example.com", port: 2222 }],
        ["ssh://gpu-c", { user: undefined, host: "gpu-c", port: undefined }],
        ["ssh://ops@[2001:db8::1]:2200", { user: "ops", host: "2001:db8::1", port: 2200 }],
        ["ssh://first%2Elast@gpu-d", { user: "first.last", host: "gpu-d", port: undefined }],
    ])("reads %s", (address, expected) => {
        expect(parseSshAddress(address)).toEqual(expected);
    });

    it.each([
        ["ssh://ops:hunter2@gpu-a", "must not carry a password"],
        ["ssh://ops@gpu-a/var/run/docker.sock", "with nothing after the host"],
        ["tcp://gpu-a:2376", "is not an ssh:// address"],
        ["ssh://", "names no host"],
        ["ssh://ops:hunter2@bad host", '"ssh://ops:***@bad host" is not an ssh:// address'],
    ])("refuses %s", (address, message) => {
        expect(() => parseSshAddress(address)).toThrow(SshConfigError);
        expect(() => parseSshAddress(address)).toThrow(message);
    });

    it("never repeats a password in its message", () => {
        expect(() => parseSshAddress("ssh://ops:hunter2@gpu-a")).toThrow(
            expect.objectContaining({ message: expect.not.stringContaining("hunter2") }),
        );
    });
});

describe("sshArgs", () => {
    it("builds the Docker CLI's command: checks enforced first, a connect timeout, no terminal, login, port, --, host, dial-stdio", () => {
        expect(sshArgs({ user: "ops", host: "gpu-b", port: 2222 })).toEqual([
            ...ENFORCED,
            "-o",
            "ConnectTimeout=30",
            "-T",
            "-l",
            "ops",
            "-p",
            "2222",
            "--",
            "gpu-b",
            ...DIAL,
        ]);
    });

    it("leaves login and port to ssh's config when the address has none", () => {
        expect(sshArgs({ host: "gpu-alias" })).toEqual([...ENFORCED, "-o", "ConnectTimeout=30", "-T", "--", "gpu-alias", ...DIAL]);
    });

    it("passes the host's sshOpts through, each item one argument, before the address's login and port", () => {
        const opts = [
            "-F",
            "/home/ops/.ssh/fleet_config",
            "-o",
            "ConnectTimeout=5",
            "-i",
            "/keys/id ed25519",
            "-J",
            "bastion",
            "-p",
            "2200",
        ];
        expect(sshArgs({ user: "ops", host: "gpu-a" }, opts)).toEqual([...ENFORCED, ...opts, "-T", "-l", "ops", "--", "gpu-a", ...DIAL]);
    });

    it("keeps a host that looks like an option after --", () => {
        const args = sshArgs({ host: "-oProxyCommand=touch /tmp/x" });
        expect(args.slice(-5)).toEqual(["--", "-oProxyCommand=touch /tmp/x", ...DIAL]);
    });

    it("never adds an option that turns off host key checks, whatever it is given", () => {
        const args = sshArgs({ user: "ops", host: "gpu-a", port: 22 }, ["-o", "StrictHostKeyChecking=accept-new", "-p", "22"]);
        // ssh takes the first value of a setting: the enforced check comes before the host's options.
        expect(args.indexOf("StrictHostKeyChecking=yes")).toBeLessThan(args.indexOf("StrictHostKeyChecking=accept-new"));
        expect(args.join(" ")).not.toMatch(/StrictHostKeyChecking=(no|off)|UserKnownHostsFile=\/dev\/null/i);
    });

    it.each([
        [["-o", "StrictHostKeyChecking=no"], "turn off host key checking (StrictHostKeyChecking=no)"],
        [["-oStrictHostKeyChecking no"], "turn off host key checking (StrictHostKeyChecking=no)"],
        [["-o", "stricthostkeychecking = off"], "turn off host key checking (StrictHostKeyChecking=off)"],
        [["-4", "-o", 'StrictHostKeyChecking="no"'], "turn off host key checking (StrictHostKeyChecking=no)"],
        [["-o", "UserKnownHostsFile=/dev/null"], "UserKnownHostsFile=/dev/null"],
        [["Port=2222"], '"Port=2222" is not an ssh option'],
        [["--", "gpu-b"], '"--" is not an ssh option'],
        [["-i"], '"-i" needs a value'],
        [["-o", "=yes"], "is not an ssh option such as -o Port=2222"],
    ])("refuses sshOpts %j", (opts, message) => {
        expect(() => sshArgs({ host: "gpu-a" }, opts)).toThrow(SshConfigError);
        expect(() => sshArgs({ host: "gpu-a" }, opts)).toThrow(message);
    });

    it("reads an option's argument as its value, not as an option of its own", () => {
        // "-o" here is the identity file's name, not an option.
        expect(() => sshArgs({ host: "gpu-a" }, ["-i", "-o", "-p", "2200"])).not.toThrow();
    });
});

describe("sshEnv", () => {
    it("hands ssh this environment less anything that may hold a secret", () => {
        const env = sshEnv({
            HOME: "/home/ops",
            PATH: "/usr/bin",
            SSH_AUTH_SOCK: "/run/agent.sock",
            ZED_RUNNER_API_TOKEN: "tok",
            PULUMI_CONFIG_PASSPHRASE: "pass",
            PULUMI_ACCESS_TOKEN: "pul",
            GITHUB_TOKEN: "gh",
            DB_PASSWORD: "pw",
        });
        expect(env).toEqual({ HOME: "/home/ops", PATH: "/usr/bin", SSH_AUTH_SOCK: "/run/agent.sock" });
    });
});

describe("explainSshFailure", () => {
    const unknown =
        "No ED25519 host key is known for [10.0.0.7]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n";

    it("names the host of an unknown key and the fix, with ssh's own words", () => {
        expect(explainSshFailure({ user: "ops", host: "gpu-b", port: 2222 }, 255, unknown)).toBe(
            "ssh to ops@gpu-b:2222 refused: the host key of [10.0.0.7]:2222 is not in known_hosts (ssh: No ED25519 host key is known for [10.0.0.7]:2222 and you have requested strict checking. Host key verification failed.). " +
                "status and logs never accept an unknown host key. Check the key's fingerprint with the host's owner, then add it: " +
                "`ssh-keyscan -p 2222 10.0.0.7 >> ~/.ssh/known_hosts` (or connect once by hand: `ssh -p 2222 ops@10.0.0.7`).",
        );
    });

    it("leaves out the default port", () => {
        const said =
            "No ED25519 host key is known for gpu-a.example.com and you have requested strict checking.\nHost key verification failed.\n";
        expect(explainSshFailure({ user: "ops", host: "gpu-a.example.com" }, 255, said)).toContain(
            "`ssh-keyscan gpu-a.example.com >> ~/.ssh/known_hosts` (or connect once by hand: `ssh ops@gpu-a.example.com`)",
        );
    });

    it("warns of a changed key instead of offering to add it", () => {
        const said = [
            "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
            "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
            "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
            "Host key verification failed.",
        ].join("\n");
        const message = explainSshFailure({ user: "ops", host: "gpu-a" }, 255, said);
        expect(message).toContain("ssh to ops@gpu-a refused: the host's key has CHANGED");
        expect(message).not.toContain("ssh-keyscan");
        expect(message).not.toContain("@@@");
    });

    it("explains a refused login and a host without docker", () => {
        expect(explainSshFailure({ user: "ops", host: "gpu-a" }, 255, "ops@gpu-a: Permission denied (publickey).\n")).toBe(
            "ssh to ops@gpu-a could not log in (ssh: ops@gpu-a: Permission denied (publickey).). status and logs use your ssh keys, agent and ~/.ssh/config, never a password: `ssh ops@gpu-a docker version` must work without a prompt.",
        );
        expect(explainSshFailure({ host: "gpu-a" }, 127, "bash: line 1: docker: command not found\n")).toContain(
            "logged in, but the host has no docker command on its PATH",
        );
    });
});

describe("dockerFor on an ssh:// host", () => {
    let dir: string;
    let record: string;
    const host = (address: string, sshOpts?: string[]): HostIdentity => ({ name: "gpu-a", connection: { host: address, sshOpts } });

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "zed-runner-fake-ssh-"));
        record = path.join(dir, "record.json");
        // The fake ssh: records argv and environment, then acts on FAKE_SSH: "engine" answers
        // one HTTP request as the Engine API's /_ping does; "stranger" fails as ssh does on an unknown host key.
        fs.writeFileSync(
            path.join(dir, "ssh"),
            `#!${process.execPath}
const fs = require("fs");
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }));
if (process.env.FAKE_SSH === "stranger") {
    process.stderr.write("No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\\r\\nHost key verification failed.\\r\\n");
    process.exit(255);
}
let request = "";
process.stdin.on("data", (d) => {
    request += d;
    if (request.includes("\\r\\n\\r\\n")) {
        process.stdout.write("HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 2\\r\\n\\r\\nOK");
    }
});
process.stdin.on("end", () => process.exit(0));
`,
            { mode: 0o755 },
        );
    });

    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const env = (mode: string): NodeJS.ProcessEnv => ({
        PATH: `${dir}:${process.env.PATH}`,
        HOME: os.homedir(),
        FAKE_SSH: mode,
        ZED_RUNNER_API_TOKEN: "the-runner-token",
        PULUMI_CONFIG_PASSPHRASE: "the-passphrase",
    });

    it("speaks the Engine API over ssh running docker system dial-stdio, with the host's sshOpts and no secret", async () => {
        const target = host("ssh://ops@gpu-a:2222", ["-i", "/keys/fleet"]);
        const docker = dockerFor(target, env("engine"));
        try {
            await requireEngine(docker, target, env("engine"));
        } finally {
            (docker.modem as unknown as { agent: { destroy(): void } }).agent.destroy();
        }
        const seen = JSON.parse(fs.readFileSync(record, "utf8")) as { argv: string[]; env: Record<string, string> };
        expect(seen.argv).toEqual([
            ...ENFORCED,
            "-i",
            "/keys/fleet",
            "-o",
            "ConnectTimeout=30",
            "-T",
            "-l",
            "ops",
            "-p",
            "2222",
            "--",
            "gpu-a",
            ...DIAL,
        ]);
        expect(seen.env.FAKE_SSH).toBe("engine");
        expect(JSON.stringify(seen)).not.toMatch(/the-runner-token|the-passphrase/);
    });

    it("reports an unknown host key with the host, its address and the fix", async () => {
        const target = host("ssh://ops@127.0.0.1:2222");
        const docker = dockerFor(target, env("stranger"));
        const failure = requireEngine(docker, target, env("stranger"));
        await expect(failure).rejects.toThrow(UserError);
        await expect(failure).rejects.toThrow(
            "Cannot reach the Docker engine of host gpu-a at ssh://ops@127.0.0.1:2222: ssh to ops@127.0.0.1:2222 refused: the host key of [127.0.0.1]:2222 is not in known_hosts",
        );
        await expect(failure).rejects.toThrow("`ssh-keyscan -p 2222 127.0.0.1 >> ~/.ssh/known_hosts`");
    });

    it("refuses sshOpts that turn off host key checks before running ssh, naming the host", () => {
        fs.rmSync(record, { force: true });
        expect(() => dockerFor(host("ssh://ops@gpu-a", ["-o", "StrictHostKeyChecking=no"]), env("engine"))).toThrow(
            new UserError(
                "Host gpu-a: sshOpts turn off host key checking (StrictHostKeyChecking=no): status and logs verify host keys against known_hosts, as ssh does by default. " +
                    "Remove that option and add the host's key to known_hosts (ssh-keyscan, or ssh to the host once by hand).",
            ),
        );
        expect(fs.existsSync(record)).toBe(false);
    });

    it("says when there is no ssh to run", async () => {
        const target = host("ssh://ops@gpu-a");
        const docker = dockerFor(target, { PATH: dir + "/nowhere", HOME: os.homedir() });
        await expect(requireEngine(docker, target, {})).rejects.toThrow(
            "Cannot reach the Docker engine of host gpu-a at ssh://ops@gpu-a: Cannot run ssh: it is not installed or not on the PATH",
        );
    });
});
