// `npm run status`, `npm run logs` and `npm run plan -- --check-hosts` on ssh:// hosts, over a real OpenSSH server on this
// machine (test/support/sshd.ts, installed by .ci/sshd.sh) whose `docker` is this
// machine's CLI talking to this engine: the commands must connect as `pulumi up` does,
// with the system's ssh and the host's sshOpts, and refuse a host key they cannot verify.
import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../../components/paths";
import { loadStackFiles, stackFilePath } from "../../cli/stackFiles";
import type { StatusRow } from "../../cli/report/model";
import { hostsOf } from "../fixtures/placements";
import { docker, eventually, removeLabelled, requireEngine } from "../support/docker";
import { TestSshd, startSshd } from "../support/sshd";
import { LABELS } from "../../components/labels";

const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";
const ID = `sshe2e${process.pid}`;
const LOG_LINE = `hello through ssh from ${ID}`;

interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs an operator command as `npm run <command>` does, with `agent` as its ssh agent (none by default). */
function runCli(command: "status" | "logs" | "plan", args: string[], agent?: string): Promise<Run> {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
    delete env.SSH_AUTH_SOCK;
    if (agent) env.SSH_AUTH_SOCK = agent;
    return new Promise((resolve) => {
        execFile(
            path.join(PROJECT_ROOT, "node_modules", ".bin", "ts-node"),
            ["--transpile-only", path.join("cli", `${command}.ts`), ...args],
            { cwd: PROJECT_ROOT, env, timeout: 240000 },
            (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
        );
    });
}

let sshd: TestSshd;
let agent: ChildProcess | undefined;
const stacks: string[] = [];

/** A stack with one host at `dockerHost` (with `sshOpts`), and the engine's container for its runner 1. */
async function stackWithRunner(name: string, dockerHost: string, sshOpts: string[]): Promise<{ stack: string; container: string }> {
    const stack = `${ID}-${name}`;
    stacks.push(stack);
    fs.writeFileSync(
        stackFilePath(stack),
        [
            "config:",
            "  zed-runner:apiHost: http://helix.invalid:8080",
            `  zed-runner:hostName: ${ID}`,
            "  zed-runner:hosts:",
            "    - name: viassh",
            `      dockerHost: ${dockerHost}`,
            `      sshOpts: ${JSON.stringify(sshOpts)}`,
            "      replicas: 1",
            "",
        ].join("\n"),
    );
    const { parsed } = loadStackFiles(stack);
    const [runner] = hostsOf(parsed)[0].runners;
    // Created with the engine's own API, not through ssh: what the commands then see over ssh is the engine's.
    const container = await docker.createContainer({
        name: runner.containerName,
        Image: BASE_IMAGE,
        Cmd: ["sh", "-c", `echo '${LOG_LINE}'; exec sleep 3600`],
        Labels: runner.labels,
    });
    await container.start();
    return { stack, container: runner.containerName };
}

function rowsOf(run: Run): StatusRow[] {
    try {
        return JSON.parse(run.stdout).runners;
    } catch {
        throw new Error(`status printed no JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
    }
}

beforeAll(async () => {
    await requireEngine();
    if (!fs.existsSync("/usr/sbin/sshd")) throw new Error("No OpenSSH server here: run `bash .ci/sshd.sh` first.");
    sshd = await startSshd();
});

afterAll(async () => {
    for (const stack of stacks) {
        fs.rmSync(stackFilePath(stack), { force: true });
        await removeLabelled(LABELS.stack, stack);
    }
    if (agent && agent.exitCode === null && agent.signalCode === null) {
        const exited = new Promise((resolve) => agent!.once("exit", resolve));
        agent.kill();
        await exited;
    }
    await sshd?.stop();
});

describe("status and logs on an ssh:// host", () => {
    let knownHosts: string;
    let config: string;

    beforeAll(() => {
        knownHosts = path.join(sshd.dir, "known_hosts");
        fs.writeFileSync(knownHosts, sshd.knownHostsLine);
        config = sshd.clientConfig("ssh_config", knownHosts, [`${ID}-alias`]);
    });

    it("lists the stack's container through ssh when the host key is in known_hosts, and shows its logs", async () => {
        const { stack, container } = await stackWithRunner("known", `ssh://${sshd.user}@127.0.0.1:${sshd.port}`, ["-F", config]);

        const status = await runCli("status", ["--stack", stack, "--json"]);
        const rows = rowsOf(status);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ host: "viassh", container });
        expect(rows[0].status).not.toBe("unreachable");
        expect(rows[0].error).toBeUndefined();
        expect(rows[0].observed).toMatchObject({ name: container, state: "running" });
        expect(status.stderr).not.toContain("DEP0170");

        const logs = await runCli("logs", ["--stack", stack, "1"]);
        expect({ code: logs.code, stdout: logs.stdout }).toEqual({ code: 0, stdout: `${LOG_LINE}\n` });
        expect(logs.stderr).not.toContain("DEP0170");
    });

    it("takes the port from sshOpts, and a host alias with its HostName and Port from the ssh config", async () => {
        const viaPort = await stackWithRunner("port", `ssh://${sshd.user}@127.0.0.1`, ["-F", config, "-o", `Port=${sshd.port}`]);
        const viaAlias = await stackWithRunner("alias", `ssh://${sshd.user}@${ID}-alias`, ["-F", config]);
        for (const { stack, container } of [viaPort, viaAlias]) {
            const status = await runCli("status", ["--stack", stack, "--json"]);
            const rows = rowsOf(status);
            expect(rows.map((r) => [r.container, r.observed?.state, r.error])).toEqual([[container, "running", undefined]]);
            expect(status.stderr).not.toContain("DEP0170");
        }
    });

    it("refuses a host whose key is not in known_hosts, naming the host and the fix, and lists nothing", async () => {
        const empty = path.join(sshd.dir, "empty_known_hosts");
        fs.writeFileSync(empty, "");
        const strangers = sshd.clientConfig("strangers_config", empty);
        const address = `ssh://${sshd.user}@127.0.0.1:${sshd.port}`;
        const { stack, container } = await stackWithRunner("unknown", address, ["-F", strangers]);
        // An ssh agent holding the login key: a client that accepted any host key (ssh2 with the agent) would get in.
        const agentSocket = path.join(sshd.dir, "agent.sock");
        agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
        await eventually("the ssh agent's socket", () => fs.existsSync(agentSocket), 30000);
        execFileSync("ssh-add", ["-q", path.join(sshd.dir, "client_key")], {
            env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
            stdio: "ignore",
        });

        const status = await runCli("status", ["--stack", stack, "--json"], agentSocket);
        const rows = rowsOf(status);
        expect(status.code).toBe(1);
        expect(rows.map((r) => [r.container, r.status, r.observed])).toEqual([[container, "unreachable", undefined]]);
        expect(rows[0].error).toContain(`host viassh at ${address}`);
        expect(rows[0].error).toContain("is not in known_hosts");
        expect(rows[0].error).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts`);
        expect(status.stderr).not.toContain("DEP0170");
        // Nothing was added on the way: the next connection is refused again.
        expect(fs.readFileSync(empty, "utf8")).toBe("");

        const logs = await runCli("logs", ["--stack", stack, "1"], agentSocket);
        expect(logs.code).toBe(1);
        expect(logs.stdout).toBe("");
        expect(logs.stderr).toContain(`Cannot reach the Docker engine of host viassh at ${address}`);
        expect(logs.stderr).toContain("is not in known_hosts");
        expect(logs.stderr).not.toContain(LOG_LINE);
        expect(logs.stderr).not.toContain("DEP0170");
    });
});

describe("host checks and gpuVendor auto on an ssh:// host", () => {
    /** A sandbox stack with one host reached through the test sshd, gpuVendor left to auto unless `gpuVendor` is given. */
    function sandboxStack(name: string, gpuVendor?: string, replicas = 1): string {
        const stack = `${ID}-${name}`;
        stacks.push(stack);
        const knownHosts = path.join(sshd.dir, "known_hosts");
        fs.writeFileSync(knownHosts, sshd.knownHostsLine);
        const config = sshd.clientConfig("ssh_config", knownHosts);
        fs.writeFileSync(
            stackFilePath(stack),
            [
                "config:",
                "  zed-runner:workload: sandbox",
                "  zed-runner:apiHost: https://helix.example.com",
                "  zed-runner:helixVersion: 2.12.2",
                "  zed-runner:hosts:",
                "    - name: viassh",
                `      dockerHost: ssh://${sshd.user}@127.0.0.1:${sshd.port}`,
                `      sshOpts: ${JSON.stringify(["-F", config])}`,
                `      replicas: ${replicas}`,
                ...(gpuVendor ? [`      gpuVendor: ${gpuVendor}`] : []),
                "",
            ].join("\n"),
        );
        return stack;
    }
    // This machine, behind the sshd, as its engine shows it.
    const gpuNodes = ["/dev/nvidiactl", "/dev/kfd", "/dev/dri"].filter((d) => fs.existsSync(d));

    it("asks the host's engine through ssh which GPU it has: this machine has none, so deploy would refuse it", async () => {
        const stack = sandboxStack("gpu");
        const before = fs.readFileSync(stackFilePath(stack), "utf8");
        const run = await runCli("plan", ["--stack", stack, "--check-hosts"]);
        const runtimes = Object.keys(((await docker.info()) as { Runtimes?: object }).Runtimes ?? {});
        if (gpuNodes.length === 0 && !runtimes.includes("nvidia")) {
            expect(run.code).toBe(1);
            expect(run.stdout).toContain(
                "Stack " +
                    stack +
                    "'s gpuVendor is auto, and npm run deploy would refuse it:\n  host viassh: gpuVendor is auto, and it has no GPU",
            );
        } else expect(run.stdout).toContain("gpuVendor is auto; each host's GPU");
        expect(fs.readFileSync(stackFilePath(stack), "utf8")).toBe(before);
    });

    it("checks the host through ssh as on this machine: each device node it lacks named with its fix", async () => {
        const stack = sandboxStack("intel", "intel");
        const run = await runCli("plan", ["--stack", stack, "--check-hosts"]);
        const missing = ["/dev/uinput", "/dev/uhid", "/dev/dri"].filter((d) => !fs.existsSync(d));
        expect(missing.length).toBeGreaterThan(0);
        expect(run.code).toBe(1);
        expect(run.stdout).toContain("Host checks: pulumi up would fail on these hosts:");
        for (const device of missing) expect(run.stdout).toMatch(new RegExp(`\n  viassh: .*${device}`));
    });

    it("reads the host's free disk with df through ssh, and warns when the new sandboxes need more", async () => {
        const stack = sandboxStack("disk", "intel", 100);
        const run = await runCli("plan", ["--stack", stack, "--check-hosts"]);
        const { DockerRootDir } = (await docker.info()) as { DockerRootDir: string };
        const stats = fs.statfsSync(DockerRootDir);
        const warning = new RegExp(
            `\n  viassh: warning: (\\d+) GB free under Docker's root ${DockerRootDir}, and the 100 new volumes`,
        ).exec(run.stdout);
        expect(warning).not.toBeNull();
        expect(Math.abs(Number(warning![1]) - (stats.bavail * stats.bsize) / 1e9)).toBeLessThan(2);
    });
});
