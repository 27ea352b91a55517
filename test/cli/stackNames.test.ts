// A stack name is a name: every command refuses a --stack that Pulumi would refuse (a path, above
// all) before it reads or writes a file, so `--stack x/../../elsewhere/compose` reaches nothing
// outside the project folder.
import * as fs from "node:fs";
import * as path from "node:path";
import { deploy } from "../../cli/deploy";
import { importEnv } from "../../cli/importEnv";
import { logs } from "../../cli/logs";
import { plan } from "../../cli/plan";
import { stackNameProblem } from "../../cli/stackFiles";
import { hostEngine } from "../support/hostEngine";
import { scratchDir, scratchProject } from "./lib/scratch";

const SEED_ENV = path.resolve(__dirname, "../fixtures/external-zed-agent.env.example");

describe("stackNameProblem", () => {
    it.each(["dev", "prod-eu.1", "my_stack", "A".repeat(100), "..", "."])("takes %j, as Pulumi does", (name) =>
        expect(stackNameProblem(name)).toBeUndefined(),
    );

    it.each([
        ["x/../../elsewhere/compose", '"x/../../elsewhere/compose"'],
        ["org/project/dev", '"org/project/dev"'],
        ["", '""'],
        ["has space", '"has space"'],
        ["tab\there", '"tab\\there"'],
        ["A".repeat(101), `"${"A".repeat(57)}..."`],
        ["dev\n", '"dev\\n"'],
    ])("refuses %j, showing it escaped and cut", (name, shown) => {
        expect(stackNameProblem(name)).toBe(
            `--stack ${shown} is not a stack name: Pulumi takes letters, digits, '-', '_' and '.' (1 to 100 of them), ` +
                "and each stack's config is Pulumi.<stack>.yaml in this folder. Nothing was read or written.",
        );
    });
});

describe("every command, given a stack name with a path", () => {
    const EVIL = "x/../../elsewhere/compose";

    /** A project folder inside a folder that also holds elsewhere/compose.yaml, the file a path would reach. */
    function projectBesideATarget(): { root: string; target: string; before: string } {
        const outer = scratchDir("stack-names-");
        const root = scratchProject({ dev: "config: {}\n" });
        const inner = path.join(outer, "project");
        fs.cpSync(root, inner, { recursive: true });
        const target = path.join(outer, "elsewhere", "compose.yaml");
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const before = "services:\n  api:\n    image: helix\n";
        fs.writeFileSync(target, before);
        return { root: inner, target, before };
    }

    it("import-env refuses it and writes nothing there", async () => {
        const { root, target, before } = projectBesideATarget();
        await expect(importEnv([SEED_ENV, "--stack", EVIL], root, { PATH: "/nonexistent" })).rejects.toThrow(
            `--stack "${EVIL}" is not a stack name`,
        );
        expect(fs.readFileSync(target, "utf8")).toBe(before);
        expect(fs.readdirSync(root).filter((f) => f.startsWith("Pulumi."))).toEqual(["Pulumi.dev.yaml", "Pulumi.yaml"]);
    });

    it("plan, logs and deploy refuse it before reading anything", async () => {
        const { root, target, before } = projectBesideATarget();
        await expect(plan(["--stack", EVIL], {}, { root })).rejects.toThrow("is not a stack name");
        await expect(logs(["--all", "--stack", EVIL], {}, { root, engines: { docker: () => hostEngine() } })).rejects.toThrow(
            "is not a stack name",
        );
        await expect(deploy(["--stack", EVIL, "--yes", "--create"], { PULUMI_CONFIG_PASSPHRASE: "p" })).rejects.toThrow(
            "is not a stack name",
        );
        expect(fs.readFileSync(target, "utf8")).toBe(before);
    });
});
