// The agent's log never carries a secret, in any encoding it could leave in.
import * as fs from "node:fs";
import * as path from "node:path";
import { Redactor, createLogger } from "../../agent/log";
import { NASTY_TOKEN, leakedRuns } from "../support/secrets";

function loggerWith(...secrets: string[]) {
    const lines: string[] = [];
    const redactor = new Redactor();
    secrets.forEach((s) => redactor.add(s));
    return { log: createLogger("debug", redactor, (l) => lines.push(l)), lines };
}

describe("Redactor", () => {
    const forms: [string, (s: string) => string][] = [
        ["raw", (s) => s],
        ["JSON-escaped", (s) => JSON.stringify({ token: s })],
        ["URL-encoded", (s) => `access_token=${encodeURIComponent(s)}`],
        ["form-encoded", (s) => new URLSearchParams({ access_token: s }).toString()],
        ["in a lower-case URL encoding", (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
        ["base64 of a payload, at offset 0", (s) => Buffer.from(`${s} in a payload`).toString("base64")],
        ["base64 of a payload, at offset 1", (s) => Buffer.from(`x${s} in a payload`).toString("base64")],
        ["base64 of a payload, at offset 2", (s) => Buffer.from(`xy${s} in a payload`).toString("base64")],
        ["base64 of a JSON payload", (s) => Buffer.from(JSON.stringify({ rdp_password: s, other: 1 })).toString("base64")],
        ["base64url", (s) => Buffer.from(`..${s}..`).toString("base64url")],
    ];

    it.each(forms)("masks the token %s", (_, encode) => {
        const { log, lines } = loggerWith(NASTY_TOKEN);
        const text = encode(NASTY_TOKEN);
        log.info(`dialing with ${text}`);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain("[redacted]");
        expect(leakedRuns(lines[0].replace("zed-runner: info: dialing with ", ""), NASTY_TOKEN)).toEqual([]);
    });

    it("masks a password added later, and leaves ordinary text alone", () => {
        const { log, lines } = loggerWith("first-secret-1");
        log.redactor.add("laterpassword16c");
        log.info("session s: password laterpassword16c set; first-secret-1 gone");
        expect(lines[0]).toBe("zed-runner: info: session s: password [redacted] set; [redacted] gone");
    });

    it("keeps one event on one line, so a message cannot forge log lines", () => {
        const { log, lines } = loggerWith();
        log.warn("a\nzed-runner: info: forged");
        expect(lines).toEqual(["zed-runner: warn: a\\nzed-runner: info: forged"]);
    });

    it("filters by level and scopes child loggers", () => {
        const lines: string[] = [];
        const log = createLogger("warn", new Redactor(), (l) => lines.push(l));
        log.info("hidden");
        log.child("session s1").warn("shown");
        expect(lines).toEqual(["zed-runner: warn: [session s1] shown"]);
    });
});

describe("describeError in the agent", () => {
    it("is the one way agent/ turns an unknown error into text", () => {
        const agent = path.resolve(__dirname, "../../agent");
        const elsewhere = fs
            .readdirSync(agent)
            .filter((f) => f.endsWith(".ts") && f !== "log.ts")
            .flatMap((f) =>
                fs
                    .readFileSync(path.join(agent, f), "utf8")
                    .split("\n")
                    .filter((line) => /as Error\)\.message|String\((?:err|error|e)\)|\b(?:err|error)\.(?:message|stack)\b/.test(line))
                    .map((line) => `${f}: ${line.trim()}`),
            );
        expect(elsewhere).toEqual([]);
    });
});
