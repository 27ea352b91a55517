// Reads the `zed-runner:*` stack config through Pulumi's runtime and validates
// it with the pure parser. Invalid config stops the program here, before any
// resource is registered.
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ParsedConfig, parseConfig } from "./config";
import { PlanError } from "./plan";

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
        const parsed = parseConfig(readRawConfig(namespace), {
            stackName: pulumi.getStack(),
            machineHostName: os.hostname(),
        });
        for (const warning of parsed.warnings) pulumi.log.warn(warning);
        return parsed;
    } catch (err) {
        throw asRunError(err);
    }
}

/** Turns our own validation errors into RunErrors; anything else is a bug and keeps its stack. */
export function asRunError(err: unknown): unknown {
    return err instanceof ConfigError || err instanceof PlanError ? new pulumi.RunError(err.message) : err;
}
