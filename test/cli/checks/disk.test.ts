// Free disk under a host's Docker root: this machine's file system, `df` over ssh (a TEST DOUBLE
// for ssh that records how it was run and prints what df prints), or no way for tcp://.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freeSpaceOn, parseDfAvailable } from "../../../cli/checks/disk";

const DF =
    "Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/nvme0n1p2  1921724696 412345678 1411234567      23% /\n";

describe("parseDfAvailable", () => {
    it("reads the Available column of df -Pk, in bytes", () => {
        expect(parseDfAvailable(DF)).toBe(1411234567 * 1024);
    });

    it.each([
        ["", "nothing"],
        ["Filesystem 1024-blocks Used Available\n", "no line"],
        [`${DF}/dev/sdb 1 1 1 1% /x\n`, "two lines"],
        ["Filesystem a b c\n/dev/x 1 2 lots 5% /\n", "a word"],
    ])("refuses %j (%s)", (output) => {
        expect(parseDfAvailable(output)).toBeUndefined();
    });
});

describe("freeSpaceOn", () => {
    it("reads this machine's file system for a local engine, as statfs says", async () => {
        const dir = os.tmpdir();
        const stats = fs.statfsSync(dir);
        const free = await freeSpaceOn({ name: "box", connection: undefined }, {})(dir);
        // The same file system a moment later: within 1 GB of what statfs said.
        expect(typeof free).toBe("number");
        expect(Math.abs((free as number) - stats.bavail * stats.bsize)).toBeLessThan(1e9);
    });

    it("says why when Docker's root is not on this machine (an engine in a VM)", async () => {
        const free = await freeSpaceOn({ name: "box", connection: undefined }, {})("/no/such/docker/root");
        expect(free).toMatch(/^\/no\/such\/docker\/root could not be read on this machine \(.*ENOENT/);
    });

    it("has no way for a tcp:// engine, nor for DOCKER_HOST set to one", async () => {
        expect(await freeSpaceOn({ name: "b", connection: { host: "tcp://gpu-b:2376" } })("/var/lib/docker")).toBe(
            "a tcp:// engine gives no way to read its host's free disk",
        );
        expect(await freeSpaceOn({ name: "b", connection: undefined }, { DOCKER_HOST: "tcp://gpu-b:2376" })("/var/lib/docker")).toBe(
            "a tcp:// engine gives no way to read its host's free disk",
        );
    });

    describe("over ssh", () => {
        let dir: string;
        let record: string;
        beforeAll(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "zed-runner-df-ssh-"));
            record = path.join(dir, "record.json");
            fs.writeFileSync(
                path.join(dir, "ssh"),
                `#!${process.execPath}
require("fs").writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }));
if (process.env.FAKE_SSH === "stranger") {
    process.stderr.write("Host key verification failed.\\r\\n");
    process.exit(255);
}
process.stdout.write(${JSON.stringify(DF)});
`,
                { mode: 0o755 },
            );
        });
        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
        const host = { name: "gpu-a", connection: { host: "ssh://ops@gpu-a:2222", sshOpts: ["-i", "/keys/fleet"] } };
        const env = (mode: string) => ({ PATH: process.env.PATH, FAKE_SSH: mode, ZED_RUNNER_API_TOKEN: "the-runner-token" });

        it("runs df -Pk on the host through ssh as the engine connection does, host key checked, no secret passed", async () => {
            expect(await freeSpaceOn(host, env("df"), path.join(dir, "ssh"))("/var/lib/docker")).toBe(1411234567 * 1024);
            const seen = JSON.parse(fs.readFileSync(record, "utf8")) as { argv: string[]; env: Record<string, string> };
            expect(seen.argv).toEqual([
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
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
                "df",
                "-Pk",
                "--",
                "'/var/lib/docker'",
            ]);
            expect(seen.env.ZED_RUNNER_API_TOKEN).toBeUndefined();
        });

        it("says what ssh said when it fails", async () => {
            expect(await freeSpaceOn(host, env("stranger"), path.join(dir, "ssh"))("/var/lib/docker")).toBe(
                "df over ssh failed: Host key verification failed.",
            );
        });
    });
});
