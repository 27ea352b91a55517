// Setting a secret through the Pulumi CLI, against a stub `pulumi` on PATH that
// records its arguments and standard input (TEST DOUBLE for the CLI).
import * as fs from "node:fs";
import * as os from "node:os";
import { setSecretConfig } from "../../../cli/lib/pulumiCli";
import { NASTY_TOKEN } from "../../support/secrets";
import { stubPulumi } from "./scratch";

describe("setSecretConfig", () => {
    it("hands the value to `pulumi config set --secret` on stdin, never in its arguments", () => {
        const { env, record } = stubPulumi();
        expect(setSecretConfig("apiToken", NASTY_TOKEN, "dev", os.tmpdir(), env)).toEqual({ ok: true });
        const args = fs.readFileSync(`${record}.args`, "utf8").trim().split("\n");
        expect(args).toEqual(["config", "set", "--secret", "apiToken", "--stack", "dev", "--non-interactive"]);
        expect(fs.readFileSync(`${record}.stdin`, "utf8")).toBe(NASTY_TOKEN);
    });

    it("reports the CLI's error without the value", () => {
        const { env } = stubPulumi(1);
        const result = setSecretConfig("apiToken", NASTY_TOKEN, "dev", os.tmpdir(), env);
        expect(result).toEqual({ ok: false, error: "error: something went wrong" });
    });
});
