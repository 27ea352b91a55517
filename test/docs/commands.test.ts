// The README's command list must be package.json's scripts: every script documented, no
// documented `npm run x` that does not exist, and each operator command's usage as its own
// argument parser states it (the line `--help` prints).
import * as fs from "node:fs";
import * as path from "node:path";
import { usageLine } from "../../cli/lib/args";
import { DEPLOY } from "../../cli/deploy";
import { IMPORT_ENV } from "../../cli/importEnv";
import { LOGS } from "../../cli/logs";
import { PLAN } from "../../cli/plan";
import { STATUS } from "../../cli/status";
import { ROOT, docFiles, keyRows, readDoc, section } from "./markdown";

const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>);
/** Scripts that are not for users, and so need not be in the README. None today. */
const INTERNAL_SCRIPTS: readonly string[] = [];

/** The scripts a text names: `npm run <name>` and `npm test`. */
function namedScripts(text: string): string[] {
    const named = [...text.matchAll(/npm run ([A-Za-z0-9:_-]+)/g)].map((m) => m[1]);
    if (/npm test\b/.test(text)) named.push("test");
    return [...new Set(named)];
}

describe("the README's commands", () => {
    const commands = section(readDoc("README.md"), "Commands");

    it("document every script package.json has, and no other", () => {
        const userFacing = scripts.filter((s) => !INTERNAL_SCRIPTS.includes(s));
        expect(namedScripts(commands).sort()).toEqual(userFacing.sort());
    });

    it("give each operator command's usage exactly as its parser states it", () => {
        const documented = keyRows(commands).map((r) => r.key);
        expect(documented).toEqual([PLAN, DEPLOY, IMPORT_ENV, STATUS, LOGS].map(usageLine));
    });
});

describe.each(docFiles().map((f) => [f]))("%s", (file) => {
    it("names only npm scripts that exist", () => {
        expect(namedScripts(readDoc(file)).filter((s) => !scripts.includes(s))).toEqual([]);
    });
});
