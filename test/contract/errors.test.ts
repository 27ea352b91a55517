// describeError is the one way the agent, the commands, the program and the bench turn an
// unknown thrown value into text.
import * as fs from "node:fs";
import * as path from "node:path";
import { describeError } from "../../contract";

const ROOT = path.resolve(__dirname, "../..");

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(rel);
        return entry.name.endsWith(".ts") ? [rel] : [];
    });
}

describe("describeError", () => {
    it("gives an error's message, never its stack, and something for what is not an error", () => {
        expect(describeError(new Error("connect ECONNREFUSED 127.0.0.1:3389"))).toBe("connect ECONNREFUSED 127.0.0.1:3389");
        expect(describeError(Object.assign(new Error(""), { name: "AbortError" }))).toBe("AbortError");
        expect(describeError({ message: "from another realm" })).toBe("from another realm");
        expect(describeError("a string")).toBe("a string");
        expect(describeError(undefined)).toBe("undefined");
    });

    it("is the one formatter of unknown errors in agent/, cli/, components/, policy/ and bench/", () => {
        // The shapes the hand-written formatters had: a cast of an unknown error to read its message.
        const handWritten = /\((?:err|error|e) as Error\)\.message|\?\? String\((?:err|error|e)\)/;
        const offenders = ["agent", "cli", "components", "policy", "bench"].flatMap(sourceFiles).flatMap((file) =>
            fs
                .readFileSync(path.join(ROOT, file), "utf8")
                .split("\n")
                .filter((line) => handWritten.test(line))
                .map((line) => `${file}: ${line.trim()}`),
        );
        expect(offenders).toEqual([]);
    });
});
