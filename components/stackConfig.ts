// Reads the `zed-runner:*` stack config through Pulumi's runtime and validates
// it with the pure parser. Invalid config stops the program here, before any
// resource is registered.
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { printable } from "../contract";
import { ConfigError } from "./config/values";
import { type ParsedConfig, parseConfig } from "./stackPlan";
import { unpinnedHostNameWarning } from "./config/warnings";
import { PlanError } from "./runner/plan";

/** Raw values of every `<namespace>:*` key set for the stack, without the prefix. */
export function readRawConfig(namespace: string): Record<string, string> {
    const raw: Record<string, string> = {};
    const prefix = `${namespace}:`;
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    return raw;
}

/**
 * The validated stack config. Warnings go to Pulumi's log; errors become a
 * RunError, which Pulumi prints without a stack trace.
 */
export function loadStackConfig(): ParsedConfig {
    const namespace = new pulumi.Config().name;
    try {
        const raw = readRawConfig(namespace);
        const parsed = parseConfig(raw, {
            stackName: pulumi.getStack(),
            machineHostName: os.hostname(),
            // The plan's labels carry the project the components label the rest with.
            project: pulumi.getProject(),
            secretKeys: new Set(Object.keys(raw).filter((key) => isSecretConfig(`${namespace}:${key}`))),
            // For the misspelt-namespace warnings. The docker:* keys are deliberately not passed as
            // dockerConfig: the default provider reads them itself, and a connection on the local
            // placement would make it an explicit provider, replacing every running runner.
            otherKeys: Object.keys(pulumi.runtime.allConfig()).filter((key) => !key.startsWith(`${namespace}:`)),
        });
        for (const warning of [...parsed.warnings, unpinnedHostNameWarning(raw, os.hostname())])
            if (warning) pulumi.log.warn(printable(warning));
        return parsed;
    } catch (err) {
        throw asRunError(err);
    }
}

/**
 * Whether the stack set `key` with --secret, so messages show it as [secret]. The SDK
 * exports `runtime.isConfigSecret` at run time but not in its typings; without it, no
 * value is known secret and messages still mask URL credentials.
 */
function isSecretConfig(key: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return typeof check === "function" ? check(key) : false;
}

/** Turns our own validation errors into RunErrors; anything else is a bug and keeps its stack. */
export function asRunError(err: unknown): unknown {
    return err instanceof ConfigError || err instanceof PlanError ? new pulumi.RunError(err.message) : err;
}
