// The leak detector the secret tests rely on: it must find what leaked, and only that.
import { NASTY_TOKEN, leakedRuns } from "./secrets";

describe("leakedRuns", () => {
    const hexToken = "tok-0123456789abcdef01234567";

    it("finds six characters of a token as text, URL-encoded and base64'd", () => {
        expect(leakedRuns(`dialing ${NASTY_TOKEN.slice(7, 13)} now`, NASTY_TOKEN)).toEqual([NASTY_TOKEN.slice(7, 13)]);
        expect(leakedRuns(encodeURIComponent(NASTY_TOKEN), NASTY_TOKEN)).toContain("with%o");
        const b64 = Buffer.from(`x${NASTY_TOKEN}`).toString("base64url");
        expect(leakedRuns(`Authorization: ${b64}`, NASTY_TOKEN).length).toBeGreaterThan(0);
    });

    it("needs nine hex digits to call a run of hex a leak, as IDs and digests are hex", () => {
        const containerId = "e3b0c44298fc1c149afbf4c8996fb9240123456ab8e3b0c4";
        expect(leakedRuns(containerId, hexToken)).toEqual([]);
        expect(leakedRuns(`id ${"89abcdef0"}`, hexToken)).toEqual(["89abcdef0"]);
        expect(leakedRuns("tok-012", hexToken)).toEqual(["tok-012"]);
    });

    it("takes a secret too short for one run whole", () => {
        expect(leakedRuns("pw=ab12", "ab12")).toEqual(["ab12"]);
        expect(leakedRuns("pw=ab1", "ab12")).toEqual([]);
    });

    it("reads nothing into text without the secret", () => {
        expect(leakedRuns("[redacted] and more [redacted]", NASTY_TOKEN)).toEqual([]);
    });
});
