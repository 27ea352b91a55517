// The image's `agent` build stage, without Docker: agent/ and contract/ alone, with only the
// three packages the Dockerfile copies, compile with agent/tsconfig.json into JavaScript whose
// every relative require lands on a file it emitted. So the agent reaches into no other folder
// of the project (the Dockerfile sends no other), and the contract stays import-free.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

describe("the agent's image build", () => {
    let work: string;
    beforeAll(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "zed-agent-build-"));
    });
    afterAll(() => {
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("compiles from agent/ and contract/ with typescript, ws and zod alone", () => {
        const src = path.join(work, "src");
        const out = path.join(work, "out");
        for (const folder of ["agent", "contract"]) fs.cpSync(path.join(ROOT, folder), path.join(src, folder), { recursive: true });
        fs.mkdirSync(path.join(src, "node_modules"));
        for (const pkg of ["typescript", "ws", "zod"])
            fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules", pkg)), path.join(src, "node_modules", pkg), "dir");
        execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "agent/tsconfig.json", "--outDir", out], {
            cwd: src,
            stdio: "pipe",
        });

        const emitted = (dir: string): string[] =>
            fs
                .readdirSync(dir, { withFileTypes: true })
                .flatMap((e) => (e.isDirectory() ? emitted(path.join(dir, e.name)) : [path.join(dir, e.name)]));
        const files = emitted(out).map((f) => path.relative(out, f));
        expect(files.filter((f) => !/^(agent|contract)\/[A-Za-z]+\.js$/.test(f))).toEqual([]);
        expect(files).toEqual(expect.arrayContaining(["agent/main.js", "agent/settings.js", "contract/index.js"]));

        const unresolved: string[] = [];
        for (const file of files) {
            const text = fs.readFileSync(path.join(out, file), "utf8");
            for (const [, target] of text.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
                const resolved = path.join(out, path.dirname(file), target);
                if (!fs.existsSync(`${resolved}.js`) && !fs.existsSync(path.join(resolved, "index.js")))
                    unresolved.push(`${file}: ${target}`);
            }
        }
        expect(unresolved).toEqual([]);
    });
});
