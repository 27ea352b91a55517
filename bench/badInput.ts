// `npm run bench:bad-input`: how long a stack config value of any size takes to be refused.
// Every key, given values of 16 kB to 8 MB in shapes that trouble patterns (letters, dotted
// names, URL pieces, brackets, spaces), through parseConfig as the program and the commands
// call it, on a runner stack and on a sandbox stack; then the same values through each key's
// own checks and the message masking with the length cap out of the way, so the figures show
// the checks themselves are linear; then a stack file read by the commands' loader, and a
// sandbox.sh of that size read by import-env. Figures only: nothing here asserts a time.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { CONFIG_KEYS } from "../components/config/schema";
import { maskValue } from "../contract";
import { MAX_VALUE_CHARS } from "../components/config/values";
import { parseConfig } from "../components/stackPlan";
import { KEY_SCHEMAS } from "../components/config/schema";
import { readSandboxScript } from "../cli/imports/sandboxScript";
import { CommandSpec, helpText, parseCommandLine } from "../cli/lib/args";
import { MAX_FILE_BYTES } from "../cli/lib/files";
import { loadStackFiles, runCommand } from "../cli/stackFiles";

export const BAD_INPUT: CommandSpec = {
    name: "bench:bad-input",
    summary:
        "Times how long stack config values of 16 kB to 8 MB take to be refused, key by key, on a runner and a sandbox stack, and a stack file and a sandbox.sh of that size. Figures only.",
    options: {},
};

const SIZES: ReadonlyArray<readonly [string, number]> = [
    ["16 kB", 16 * 1024],
    ["64 kB", 64 * 1024],
    ["1 MB", 1024 * 1024],
    ["8 MB", 8 * 1024 * 1024],
];
/** Repeated units: each is the worst case of some pattern a value meets. */
const SHAPES = ["a", "7", "a.", "a-", "a://", "a:", "?", "[", '{"a":', " ", "a@", "ssh://a@b:", "/", "a.b:1/"];
const context = { stackName: "dev", machineHostName: "bench" };
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

function value(unit: string, size: number): string {
    return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function timed(run: () => unknown): number {
    const start = performance.now();
    try {
        run();
    } catch {
        // Refusal is the expected outcome; only the time matters here.
    }
    return performance.now() - start;
}

/** The slowest key and shape at one size, for `run`. */
function slowest(size: number, run: (key: string, text: string) => unknown): { ms: number; key: string; shape: string } {
    let worst = { ms: 0, key: "", shape: "" };
    for (const shape of SHAPES) {
        const text = value(shape, size);
        for (const key of CONFIG_KEYS) {
            const ms = timed(() => run(key, text));
            if (ms > worst.ms) worst = { ms, key, shape };
        }
    }
    return worst;
}

function main(argv: readonly string[]): void {
    if (parseCommandLine(BAD_INPUT, argv, process.env).help) return void console.log(helpText(BAD_INPUT));
    console.log(`Every key (${CONFIG_KEYS.length}) x ${SHAPES.length} shapes; a value may have at most ${MAX_VALUE_CHARS} characters.`);
    console.log(
        `size   | parseConfig, runner stack (slowest key, shape) | parseConfig, sandbox stack (slowest) | key checks + masking, no cap (slowest) | ` +
            `a stack file (value of at most ${MAX_FILE_BYTES - 100}) via loadStackFiles | a sandbox.sh via import-env's reader`,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bad-input-"));
    try {
        fs.copyFileSync(path.join(__dirname, "..", "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        for (const [label, size] of SIZES) {
            const parsed = slowest(size, (key, text) => parseConfig({ apiToken: "bench-token-3f9a1c", [key]: text }, context));
            const sandbox = slowest(size, (key, text) =>
                parseConfig(
                    {
                        apiToken: "bench-token-3f9a1c",
                        workload: "sandbox",
                        helixVersion: "2.12.2",
                        apiHost: "https://h.example.com",
                        [key]: text,
                    },
                    context,
                ),
            );
            const direct = slowest(size, (key, text) => {
                (KEY_SCHEMAS as Record<string, { safeParse(v: unknown): unknown }>)[key].safeParse(text);
                return maskValue(text);
            });
            // The loader refuses a file over MAX_FILE_BYTES unread: keep the value under it, to time the YAML parser too.
            const inFile = Math.min(size, MAX_FILE_BYTES - 100);
            fs.writeFileSync(path.join(dir, "Pulumi.b.yaml"), `config:\n  zed-runner:runnerIdPrefix: ${value("a", inFile)}\n`);
            const file = timed(() => loadStackFiles("b", dir));
            // A settings block line and a docker run flag of that size, as a hostile sandbox.sh would carry them.
            const script = `#!/bin/bash\nHELIX_API_URL="${value("a.", size / 2)}"\ndocker run -e ${value("X", size / 2)}=1 ghcr.io/helixml/helix-sandbox:2.12.2\n`;
            const sandboxScript = timed(() => readSandboxScript(script, "sandbox.sh"));
            console.log(
                `${label.padEnd(6)} | ${fmt(parsed.ms).padStart(9)} (${parsed.key}, ${JSON.stringify(parsed.shape)}) | ` +
                    `${fmt(sandbox.ms).padStart(9)} (${sandbox.key}, ${JSON.stringify(sandbox.shape)}) | ` +
                    `${fmt(direct.ms).padStart(9)} (${direct.key}, ${JSON.stringify(direct.shape)}) | ${fmt(file)} | ${fmt(sandboxScript)}`,
            );
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) void runCommand(async () => (main(process.argv.slice(2)), 0));
