// describeError is the one way the agent, the commands, the program and the bench turn an
// unknown thrown value into text.
import * as fs from "node:fs";
import * as path from "node:path";
import { describeError, maskValue, printable } from "../../contract";

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

describe("maskValue", () => {
    it.each([
        // A password holding '@', '/', ':' or a space goes whole: the user-info runs to the last '@'.
        ["https://user:p@ss3cret@helix.example.com", "https://user:***@helix.example.com"],
        ["https://user:p ss3cret@helix.example.com", "https://user:***@helix.example.com"],
        ["https://user:p/ss3cret@helix.example.com/api", "https://user:***@helix.example.com/api"],
        ["ssh://ops:s3cret@pw@h1.example.com", "ssh://ops:***@h1.example.com"],
        ["ssh://ops:s3 cret@h1.example.com", "ssh://ops:***@h1.example.com"],
        // A scheme-relative URL has user-info as a URL does.
        ["//user:s3cretpw@helix.example.com", "//user:***@helix.example.com"],
        ["//s3cretpw@helix.example.com", "//***@helix.example.com"],
        // A user name that is no plain name is no user name.
        ["http://us er:s3cretpw@helix .example.com", "http://***@helix .example.com"],
        // A query or a fragment goes to the end, spaces and all.
        ["registry.example.com?token=abc def", "registry.example.com?***"],
        ["https://helix.example.com/#s3cret tail", "https://helix.example.com/#***"],
        // An image's digest is no user-info, even after a registry with a port.
        [
            `registry:5000/helixml/helix-sandbox:2.12.2@sha256:${"a".repeat(8)}`,
            `registry:5000/helixml/helix-sandbox:2.12.2@sha256:${"a".repeat(8)}`,
        ],
    ])("shows %s as %s", (value, shown) => expect(maskValue(value)).toBe(shown));

    it("never shows a control character raw, line breaks and tabs included", () => {
        expect(maskValue("https://helix.example.com\u009b2J")).toBe("https://helix.example.com\\u009b2J");
        expect(maskValue("bad\u001b[2Jkey")).toBe("bad\\u001b[2Jkey");
        expect(maskValue("a\nb\tc")).toBe("a\\nb\\tc");
    });
});

describe("printable", () => {
    it("escapes C0 and C1 controls, DEL and bidirectional overrides, and keeps line breaks and tabs", () => {
        expect(printable("a\u001b[31mb\u009bc\u007fd\u202ee\u2066f")).toBe("a\\u001b[31mb\\u009bc\\u007fd\\u202ee\\u2066f");
        expect(printable("line one\n\tline two")).toBe("line one\n\tline two");
        expect(printable("bücher.example.com")).toBe("bücher.example.com");
    });
});
