// Scratch folders for the command tests, every one removed after its test file: a test
// leaves nothing in /tmp (project folders with stack files, env files, stub CLIs).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const made: string[] = [];

afterAll(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder under the system's temp folder, removed after the test file. */
export function scratchDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
}

/** A scratch project: this project's Pulumi.yaml and the given stack files (`{ dev: "config: ..." }`). */
export function scratchProject(stacks: Record<string, string> = {}, prefix = "zr-cli-"): string {
    const dir = scratchDir(prefix);
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const [stack, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
}

/** A `pulumi` on PATH that records its arguments, standard input and working folder (TEST DOUBLE for the Pulumi CLI). */
export function stubPulumi(exitCode = 0): { env: NodeJS.ProcessEnv; record: string } {
    const dir = scratchDir("stub-pulumi-");
    const record = path.join(dir, "record");
    fs.writeFileSync(
        path.join(dir, "pulumi"),
        `#!/bin/sh\n# TEST DOUBLE for the Pulumi CLI: records argv, stdin and the working folder.\n` +
            `[ "$1" = version ] && { echo v3.0.0; exit 0; }\n` +
            `printf '%s\\n' "$@" > "${record}.args"\npwd > "${record}.cwd"\nprintf '%s' "\${PULUMI_BACKEND_URL:-unset}" > "${record}.backend"\n` +
            `cat > "${record}.stdin"\necho "error: something went wrong" >&2\nexit ${exitCode}\n`,
        { mode: 0o755 },
    );
    return { env: { PATH: `${dir}:${process.env.PATH}` }, record };
}

export { ROOT };
