// One timed run, in a fresh process: `node -r ts-node/register/transpile-only bench/programRun.ts
// <program|baseline> RUNNERS HOSTS`. Prints {"ms": ..., "resources": ...} as JSON.
import { performance } from "node:perf_hooks";
import * as pulumi from "@pulumi/pulumi";
import { allRegistered } from "../test/support/mocks";
import { benchConfig, installLeanMocks } from "./mocks";

async function main(): Promise<void> {
    const [which, runnersArg, hostsArg] = process.argv.slice(2);
    const runners = Number(runnersArg);
    const hosts = Number(hostsArg);
    await installLeanMocks("bench");
    pulumi.runtime.setAllConfig(benchConfig(runners, hosts), ["zed-runner:apiToken"]);
    // Module loading is not what we measure: load the SDKs and our modules first.
    await import("@pulumi/docker");
    await import("@pulumi/random");
    const baseline = await import("./baseline");
    if (which === "program") {
        await import("../components/stackConfig");
        await import("../components/deployment");
    }
    const started = performance.now();
    if (which === "program") await import("../index");
    else baseline.registerDirectly(runners, hosts);
    await allRegistered();
    const ms = performance.now() - started;
    console.log(JSON.stringify({ ms }));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
