// Prints, as JSON, the container inputs index.ts declares for REPLICAS runners whose control
// plane is the bench's fake one on PORT, with the token in BENCH_TOKEN:
// `BENCH_TOKEN=... node -r ts-node/register/transpile-only bench/declare.ts REPLICAS PORT`.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { allRegistered } from "./mocks";

async function main(): Promise<void> {
    const [replicas, port] = process.argv.slice(2);
    const containers: unknown[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                if (args.type === "docker:index/container:Container") containers.push(args.inputs);
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "docker:index/image:Image") state.repoDigest = "bench-image";
                if (args.type === "random:index/randomPassword:RandomPassword") {
                    // Passwords as the random provider makes them: letters and digits of the asked length.
                    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                    state.result = Array.from(crypto.randomBytes(Number(args.inputs.length)), (b) => alphabet[b % alphabet.length]).join(
                        "",
                    );
                }
                return { id: `${args.name}-id`, state };
            },
            call: () => ({}),
        },
        "zed-runner",
        "bench",
        false,
    );
    pulumi.runtime.setAllConfig(
        {
            "zed-runner:apiToken": process.env.BENCH_TOKEN ?? "",
            "zed-runner:apiHost": `http://host.docker.internal:${port}`,
            "zed-runner:replicas": replicas,
            "zed-runner:hostName": "bench",
            "zed-runner:containerNamePrefix": "zed-bench",
            "zed-runner:rdpPortBase": "53389",
            "zed-runner:vncPortBase": "55900",
            "zed-runner:healthPortBase": "53030",
            "zed-runner:memoryMb": "1024",
            "zed-runner:shmSizeMb": "256",
            "zed-runner:zedBuildDir": "test/fixtures/zed-build",
            // Published too, so the bench can compare direct connections with the control plane's tunnels.
            "zed-runner:publishDesktopPorts": "true",
        },
        ["zed-runner:apiToken"],
    );
    await import("../index");
    await allRegistered();
    process.stdout.write(JSON.stringify(containers));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
