// Prints, as JSON, what index.ts declares, in its own process under the tests' recording mock engine:
//   `BENCH_TOKEN=... node -r ts-node/register/transpile-only bench/declare.ts REPLICAS PORT`
//     the container inputs for REPLICAS runners whose control plane is the bench's fake one on PORT
//     (BENCH_EXTRA_CONFIG='{...}' adds to or overrides their config);
//   `BENCH_CONFIG='{...}' node -r ts-node/register/transpile-only bench/declare.ts --stack NAME`
//     every custom resource (type, name, inputs; secrets in the SDK's wire form) for that stack config
//     (BENCH_NETWORKS='["net"]': the networks it names that exist).
import * as pulumi from "@pulumi/pulumi";
import { allRegistered, installMocks, stackConfig } from "../test/support/mocks";

/** The bench's container runners: published desktop ports too, to compare direct connections with the tunnels. */
function containerConfig(replicas: string, port: string): Record<string, string> {
    return {
        apiToken: process.env.BENCH_TOKEN ?? "",
        apiHost: `http://host.docker.internal:${port}`,
        replicas,
        hostName: "bench",
        containerNamePrefix: "zed-bench",
        rdpPortBase: "53389",
        vncPortBase: "55900",
        healthPortBase: "53030",
        memoryMb: "1024",
        shmSizeMb: "256",
        zedBuildDir: "test/fixtures/zed-build",
        publishDesktopPorts: "true",
        // What a figure varies (healthStartInterval, an apiHost another engine's runners reach), as JSON.
        ...(JSON.parse(process.env.BENCH_EXTRA_CONFIG ?? "{}") as Record<string, string>),
    };
}

async function main(): Promise<void> {
    const [first, second] = process.argv.slice(2);
    const everything = first === "--stack";
    const config = everything ? (JSON.parse(process.env.BENCH_CONFIG ?? "{}") as Record<string, string>) : containerConfig(first, second);
    const engine = await installMocks(pulumi, everything ? second : "bench");
    // The Docker networks the stack names that exist on the engine (BENCH_NETWORKS='["net"]').
    for (const network of JSON.parse(process.env.BENCH_NETWORKS ?? "[]") as string[]) engine.existingNetworks.add(network);
    pulumi.runtime.setAllConfig(stackConfig(config), ["zed-runner:apiToken", "zed-runner:registryPassword"]);
    await engine.run(() => import("../index"));
    await allRegistered();
    const out = everything
        ? engine.registrations.filter((r) => r.custom).map(({ type, name, inputs }) => ({ type, name, inputs }))
        : engine.ofType("docker:index/container:Container").map((c) => c.inputs);
    process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
