// Reading stack files as the Pulumi CLI would hand them to the program, and refusing
// broken ones with the file and line instead of a stack trace.
import * as fs from "node:fs";
import * as path from "node:path";
import { hostNameToPin, loadStackFiles, readStackConfig, writeHostEntryConfig } from "../../cli/stackFiles";
import { unpinnedHostNameWarning } from "../../components/config/warnings";
import { scratchProject } from "./lib/scratch";

/** A project folder with the real Pulumi.yaml and a stack file of `text`. */
function project(text: string, stack = "t"): string {
    return scratchProject({ [stack]: text }, "stack-files-");
}

describe("the hostName a first deploy pins", () => {
    it.each([
        ["unset", "config: {}\n", "builder-01"],
        ["set", "config:\n  zed-runner:hostName: gpu-7\n", undefined],
        ["beside a runnerIdPrefix", "config:\n  zed-runner:runnerIdPrefix: lab\n", undefined],
        ["on a fleet", 'config:\n  zed-runner:hosts:\n    - {name: a, dockerHost: "ssh://ops@a", replicas: 1}\n', undefined],
    ])("is the machine's name made safe when hostName is %s", (_, text, expected) => {
        expect(hostNameToPin("t", project(text), "Builder-01.example.internal")).toBe(expected);
    });

    it("is what the program warns about when it runs without one", () => {
        expect(unpinnedHostNameWarning({}, "builder-01.example")).toBe(
            "hostName is not set, so runner IDs carry this machine's name (builder-01): a pulumi up from another machine would replace every runner. Pin it with `pulumi config set hostName builder-01` (npm run deploy does so on first deploy).",
        );
        expect(unpinnedHostNameWarning({ hostName: "gpu-7" }, "builder-01")).toBeUndefined();
    });
});

describe("readStackConfig", () => {
    it("passes plain scalars as the text written, as Pulumi does, so plan and program read them alike", () => {
        const { raw } = readStackConfig(
            "t",
            project("config:\n  zed-runner:replicas: 0x10\n  zed-runner:persistWorkspaces: True\n  zed-runner:concurrency: 2.0\n"),
        );
        expect([raw.replicas, raw.persistWorkspaces, raw.concurrency]).toEqual(["0x10", "True", "2.0"]);
        expect(() => loadStackFiles("t", project("config:\n  zed-runner:replicas: 0x10\n"))).toThrow(
            'replicas (got "0x10") must be an integer from 0 to 1000',
        );
    });

    it("reads YAML merge keys", () => {
        const text =
            "base: &base\n  name: gpu-a\n  dockerHost: ssh://ops@gpu-a\nconfig:\n  zed-runner:hosts:\n    - <<: *base\n      replicas: 2\n";
        expect(JSON.parse(readStackConfig("t", project(text)).raw.hosts ?? "null")).toEqual([
            { name: "gpu-a", dockerHost: "ssh://ops@gpu-a", replicas: 2 },
        ]);
    });

    it.each([
        [
            "broken YAML",
            "config:\n  zed-runner:replicas: [1, 2\n",
            /The stack file is not valid YAML:\n {2}.*Pulumi\.t\.yaml:\d+:\d+: Flow sequence in block collection must be sufficiently indented and end with a \]/,
        ],
        [
            "a key set twice",
            "config:\n  zed-runner:replicas: 1\n  zed-runner:replicas: 2\n",
            /Pulumi\.t\.yaml:3:3: the key "zed-runner:replicas" is set twice/,
        ],
        ["config that is not a map", "config: [1, 2]\n", /config must be a map of keys to values/],
    ])("refuses %s, naming the file and line", (_, text, message) => {
        expect(() => readStackConfig("t", project(text))).toThrow(message);
    });

    it("refuses an alias bomb", () => {
        const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
        for (let i = 1; i < 9; i++)
            levels.push(
                `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
                    .fill(`*${String.fromCharCode(96 + i)}`)
                    .join(", ")}]`,
            );
        expect(() => readStackConfig("t", project(`${levels.join("\n")}\nconfig:\n  zed-runner:replicas: 1\n`))).toThrow(
            /cannot be read: Excessive alias count/,
        );
    });

    it("refuses a stack file with thousands of keys", () => {
        const text = `config:\n${Array.from({ length: 30_000 }, (_, i) => `  zed-runner:key${i}: ${i}`).join("\n")}\n`;
        expect(() => readStackConfig("t", project(text))).toThrow(
            "The stack file Pulumi.t.yaml sets 30000 config keys; more than 1000 is not a zed-runner stack.",
        );
    });

    it("says so when the stack file is a directory", () => {
        const dir = project("config: {}\n", "x");
        fs.mkdirSync(path.join(dir, "Pulumi.d.yaml"));
        expect(() => readStackConfig("d", dir)).toThrow(/The stack file .*Pulumi\.d\.yaml is not a file \(it is a directory\)\./);
    });
});

describe("writeHostEntryConfig", () => {
    const fileIn = (root: string) => path.join(root, "Pulumi.fleet.yaml");

    it("sets a key in one entry of a YAML list, comments and the other entries kept", () => {
        const text = "config:\n  zed-runner:hosts:\n    - name: a # first\n      replicas: 1\n    - name: b\n      replicas: 2\n";
        const root = scratchProject({ fleet: text });
        writeHostEntryConfig(fileIn(root), 1, { gpuVendor: "intel" });
        expect(fs.readFileSync(fileIn(root), "utf8")).toBe(
            "config:\n  zed-runner:hosts:\n    - name: a # first\n      replicas: 1\n    - name: b\n      replicas: 2\n      gpuVendor: intel\n",
        );
    });

    it("rewrites a list given as JSON text, as `pulumi config set hosts` writes it", () => {
        const root = scratchProject({ fleet: `config:\n  zed-runner:hosts: '[{"name":"a","replicas":1}]'\n` });
        writeHostEntryConfig(fileIn(root), 0, { gpuVendor: "amd" });
        expect(JSON.parse(readStackConfig("fleet", root).raw.hosts!)).toEqual([{ name: "a", replicas: 1, gpuVendor: "amd" }]);
    });

    it("refuses an entry that is not there, writing nothing", () => {
        const text = "config:\n  zed-runner:hosts:\n    - name: a\n";
        const root = scratchProject({ fleet: text });
        expect(() => writeHostEntryConfig(fileIn(root), 3, { gpuVendor: "amd" })).toThrow(/has no hosts entry 4 to write gpuVendor into/);
        expect(fs.readFileSync(fileIn(root), "utf8")).toBe(text);
    });
});

it("writeHostEntryConfig refuses an entry a JSON list does not have, writing nothing", () => {
    const text = `config:\n  zed-runner:hosts: '[{"name":"a"}]'\n`;
    const root = scratchProject({ fleet: text });
    expect(() => writeHostEntryConfig(path.join(root, "Pulumi.fleet.yaml"), 1, { gpuVendor: "amd" })).toThrow(/has no hosts entry 2/);
    expect(fs.readFileSync(path.join(root, "Pulumi.fleet.yaml"), "utf8")).toBe(text);
});
