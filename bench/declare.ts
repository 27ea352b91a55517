// Prints, as JSON, the container inputs index.ts declares for REPLICAS runners whose control
// plane is the bench's fake one on PORT, with the token in BENCH_TOKEN:
// `BENCH_TOKEN=... node -r ts-node/register/transpile-only bench/declare.ts REPLICAS PORT`.
// It uses the tests' recording mock engine, run in its own process.
import * as pulumi from "@pulumi/pulumi";
import { allRegistered, installMocks, stackConfig } from "../test/support/mocks";

async function main(): Promise<void> {
    const [replicas, port] = process.argv.slice(2);
    const engine = await installMocks(pulumi, "bench");
    pulumi.runtime.setAllConfig(
        stackConfig({
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
            // Published too, so the bench can compare direct connections with the control plane's tunnels.
            publishDesktopPorts: "true",
        }),
        ["zed-runner:apiToken"],
    );
    await engine.run(() => import("../index"));
    await allRegistered();
    process.stdout.write(JSON.stringify(engine.ofType("docker:index/container:Container").map((c) => c.inputs)));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
