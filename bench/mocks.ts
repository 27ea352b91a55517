// The SDK's mocks, as lean as they can be, shared by the program and the baseline so
// that both pay the same engine cost and the ratio measures our code alone.
import * as pulumi from "@pulumi/pulumi";

export async function installLeanMocks(stack: string): Promise<void> {
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "docker:index/image:Image") state.repoDigest = `sha256:${"0".repeat(64)}`;
                if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:${"1".repeat(64)}`;
                if (args.type === "random:index/randomPassword:RandomPassword") state.result = "x".repeat(Number(args.inputs.length));
                return { id: `${args.name}-id`, state };
            },
            call(args) {
                return args.token === "docker:index/getNetwork:getNetwork" ? { name: args.inputs.name } : {};
            },
        },
        "zed-runner",
        stack,
        false,
    );
}

/** Stack config for `runners` runners on one host, or spread over `hosts` SSH hosts. */
export function benchConfig(runners: number, hosts: number): Record<string, string> {
    const config: Record<string, string> = {
        "zed-runner:apiToken": "bench-token-0123456789",
        "zed-runner:apiHost": "https://helix.example.com",
        "zed-runner:hostName": "bench",
        // Wide port bases so 500 runners fit without collisions.
        "zed-runner:rdpPortBase": "10000",
        "zed-runner:vncPortBase": "20000",
        "zed-runner:healthPortBase": "30000",
    };
    if (hosts <= 1) {
        config["zed-runner:replicas"] = String(runners);
    } else {
        const list = Array.from({ length: hosts }, (_, i) => ({
            name: `host-${i + 1}`,
            dockerHost: `ssh://bench@host-${i + 1}`,
            replicas: runners / hosts,
        }));
        config["zed-runner:hosts"] = JSON.stringify(list);
    }
    return config;
}
