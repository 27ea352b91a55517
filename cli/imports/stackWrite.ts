// The stack side of both imports (envFile.ts, sandboxImport.ts): what Pulumi.<stack>.yaml already
// sets, which an import keeps; the check with the program's own schema, so nothing the program
// would refuse is written; the question before writing; and the token, which only ever reaches
// the stack as a secret through the Pulumi CLI, never in plain text.
import * as fs from "node:fs";
import * as os from "node:os";
import { ConfigError } from "../../components/config/values";
import { parseConfig } from "../../components/stackPlan";
import { readYamlFile, shown } from "../lib/files";
import { Prompt } from "../lib/prompt";
import { PulumiCli, setSecretConfig } from "../lib/pulumiCli";
import { PROJECT, SECRET_PLACEHOLDER, UserError, readStackConfig, stackFilePath } from "../stackFiles";
import { TOKEN_ENV } from "../deploy";

/** What an import is asked to do: the file read, and where and how to write what it holds. */
export interface ImportRequest {
    readonly text: string;
    /** The file's path, as messages name it. */
    readonly path: string;
    readonly stack: string;
    readonly root: string;
    readonly env: NodeJS.ProcessEnv;
    /** The Pulumi CLI, found exactly when --set-token was given. */
    readonly cli: PulumiCli | undefined;
    readonly prompt: Prompt;
    /** --allow-mirror: the operator's word that a sandbox.sh's mirror of the image is theirs, where no terminal can ask. */
    readonly allowMirror: boolean;
}

/** What an import writes, keeps and leaves out: what both imports print. */
export interface ImportedSettings {
    /** config key -> value to write. */
    readonly written: Record<string, string>;
    /** config keys the stack file already set, left as they are. */
    readonly kept: string[];
    readonly notes: string[];
    /** Variables or settings not imported, with the reason. */
    readonly skipped: { name: string; reason: string }[];
}

/** The stack file's config as the program reads it, and the keys it sets, when the file exists. */
export function existingStack(stack: string, root: string) {
    const file = stackFilePath(stack, root);
    const existing = fs.existsSync(file) ? readStackConfig(stack, root) : undefined;
    const existingKeys = new Set(
        Object.keys(existing ? (readYamlFile(file, "The stack file").value?.config ?? {}) : {}).map((k) => k.replace(`${PROJECT}:`, "")),
    );
    return { existing, existingKeys };
}

/** Validates what the stack would hold, with the program's schema, before anything is written. */
export function validate(
    raw: Record<string, unknown> | undefined,
    written: Record<string, string>,
    stack: string,
    asFileError: (err: ConfigError) => UserError,
): void {
    const merged = { ...(raw ?? {}), ...written, apiToken: SECRET_PLACEHOLDER };
    try {
        parseConfig(merged, { stackName: stack, machineHostName: os.hostname() });
    } catch (err) {
        if (err instanceof ConfigError) throw asFileError(err);
        throw err;
    }
}

/**
 * A config error as the imported file's problem: the fix is in that file, not in `pulumi config set`.
 * `sourceOf` names where a written key came from (the env variable, or sandbox.sh's line).
 */
export function envFileError(
    err: ConfigError,
    envPath: string,
    stackFile: string,
    written: Record<string, string>,
    sourceOf: (key: string) => string,
): UserError {
    const culprits = Object.keys(written).filter((key) => err.problems.some((p) => p.startsWith(key) || p.includes(` ${key} `)));
    const where =
        culprits.length > 0
            ? `Fix ${culprits.map((k) => `${sourceOf(k)} (${k})`).join(", ")} in ${envPath}`
            : `Fix them in ${shown(stackFile)}`;
    return new UserError(
        `${envPath} has settings the program refuses (${err.problems.length} problem${err.problems.length === 1 ? "" : "s"}):\n` +
            err.problems.map((p) => `  - ${p}`).join("\n") +
            `\n${where} and run import-env again. Nothing was written to ${shown(stackFile)}.`,
    );
}

/**
 * On a terminal, shows what would be written and asks first (as deploy does before a change);
 * false when the operator says no. Without a terminal it writes, as a script expects.
 */
export async function confirmWrite(
    prompt: Prompt,
    file: string,
    result: ImportedSettings,
    storedToken: string | undefined,
): Promise<boolean> {
    if (!prompt.interactive) return true;
    console.log(importedLines(file, result, "Would write").join("\n"));
    const andToken = storedToken ? ` and store ${storedToken} as its secret apiToken` : "";
    if (await prompt.confirm(`Write these settings to ${shown(file)}${andToken}?`)) return true;
    console.log("Nothing was written.");
    return false;
}

/** What an import wrote, kept and left out: the lines both imports print first. */
export function importedLines(file: string, result: ImportedSettings, verb = "Wrote"): string[] {
    const out: string[] = [`${verb} ${Object.keys(result.written).length} setting(s) to ${file}:`];
    for (const [k, v] of Object.entries(result.written)) out.push(`  ${k}: ${v}`);
    if (result.kept.length > 0) out.push(`Kept what ${file} already set: ${result.kept.join(", ")}.`);
    for (const note of result.notes) out.push(`Note: ${note}.`);
    if (result.skipped.length > 0) {
        out.push("Not imported:");
        for (const s of result.skipped) out.push(`  ${s.name}: ${s.reason}`);
    }
    return out;
}

/**
 * Stores the imported token as the stack's secret apiToken through `cli` (found when --set-token
 * was given), or says how to; returns the line to print, which never holds the token.
 */
export function storeToken(
    variable: string,
    token: string,
    where: { stack: string; root: string; env: NodeJS.ProcessEnv; cli: PulumiCli | undefined },
    note = "",
): string {
    if (!where.cli)
        return (
            `The token (${variable}) is not written in plain text. Rerun with --set-token to store it as the stack's secret ` +
            `(needs the Pulumi CLI), or hand it to \`npm run deploy\` in ${TOKEN_ENV}.`
        );
    const set = setSecretConfig("apiToken", token, where.stack, where.root, where.env, where.cli);
    if (!set.ok) throw new UserError(`Storing ${variable} as the secret apiToken of stack ${where.stack} failed: ${set.error}`);
    return `Set apiToken as a secret of stack ${where.stack} through the Pulumi CLI${note}.`;
}
