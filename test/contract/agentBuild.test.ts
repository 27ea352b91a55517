// The image's `agent` build stage, without Docker: agent/ and contract/ alone, with only the
// packages the Dockerfile copies, compile with agent/tsconfig.json into JavaScript whose
// every relative require lands on a file it emitted, and whose every package require is one the
// image gets, with all that package needs in turn. So the agent reaches into no other folder
// of the project (the Dockerfile sends no other), and the contract stays import-free.
import { builtinModules } from "node:module";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IMAGE_BUILD_INPUTS } from "../../contract";

const ROOT = path.resolve(__dirname, "../..");
/** The packages the image build gets from the project's node_modules. */
const PACKAGES = IMAGE_BUILD_INPUTS.filter((p) => p.startsWith("node_modules/")).map((p) => p.slice("node_modules/".length));

/** `name` and every package it depends on, from the installed package.json files. */
function withDependencies(name: string, seen = new Set<string>()): Set<string> {
    if (seen.has(name)) return seen;
    seen.add(name);
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8"));
    for (const dep of Object.keys(manifest.dependencies ?? {})) withDependencies(dep, seen);
    return seen;
}

describe("the agent's image build", () => {
    let work: string;
    beforeAll(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "zed-agent-build-"));
    });
    afterAll(() => {
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("compiles from agent/ and contract/ with the packages the image gets alone, and each package it requires loads from them", () => {
        const src = path.join(work, "src");
        const out = path.join(work, "out");
        for (const folder of ["agent", "contract"]) fs.cpSync(path.join(ROOT, folder), path.join(src, folder), { recursive: true });
        for (const pkg of PACKAGES) {
            fs.mkdirSync(path.dirname(path.join(src, "node_modules", pkg)), { recursive: true });
            fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules", pkg)), path.join(src, "node_modules", pkg), "dir");
        }
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

        const required = new Set<string>();
        for (const file of files) {
            const text = fs.readFileSync(path.join(out, file), "utf8");
            for (const [, target] of text.matchAll(/require\("([^."][^"]*)"\)/g)) {
                if (target.startsWith("node:") || builtinModules.includes(target)) continue;
                required.add(target.startsWith("@") ? target.split("/").slice(0, 2).join("/") : target.split("/")[0]);
            }
        }
        expect([...required].sort()).toEqual(["prom-client", "ws", "zod"]);
        const needed = [...required].flatMap((pkg) => [...withDependencies(pkg)]);
        expect(needed.filter((pkg) => !PACKAGES.includes(pkg))).toEqual([]);

        // The emitted metrics module, run with the image's packages alone beside it, serves its text.
        fs.symlinkSync(path.join(src, "node_modules"), path.join(out, "node_modules"), "dir");
        // --preserve-symlinks: packages are looked up beside the emitted files, not in the project's node_modules.
        const scrape = `const m = new (require(${JSON.stringify(path.join(out, "agent/metrics.js"))}).RunnerMetrics)({ processMetrics: true });
            m.scrape().then((t) => process.stdout.write(t));`;
        const text = execFileSync(process.execPath, ["--preserve-symlinks", "-e", scrape], { cwd: work, encoding: "utf8" });
        expect(text).toContain("# TYPE zed_runner_sessions_started_total counter");
        expect(text).toContain("process_cpu_user_seconds_total");
    });
});
