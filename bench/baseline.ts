// The baseline: the same resources the program declares for a bench config, registered
// directly, with literal inputs: no config parsing, no plan, no component. Not yet the PIDs
// limit's dynamic resource (ContainerPidsLimit), which the program registers beside each container.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export function registerDirectly(runners: number, hosts: number): void {
    const token = pulumi.secret("bench-token-0123456789");
    const perHost = hosts <= 1 ? runners : runners / hosts;
    for (let h = 1; h <= Math.max(1, hosts); h++) {
        const prefix = hosts <= 1 ? "zed-runner" : `zed-runner-host-${h}`;
        const opts = hosts <= 1 ? {} : { provider: new docker.Provider(`docker-host-${h}`, { host: `ssh://bench@host-${h}` }) };
        const image = new docker.Image(
            `${prefix}-image`,
            {
                imageName: "helix-zed-agent:bench",
                skipPush: true,
                build: { context: ".", dockerfile: "./Dockerfile.zed-agent", args: { BASE_IMAGE: "debian:bookworm-slim" } },
            },
            opts,
        );
        const network = new docker.Network(`${prefix}-network`, { name: "helix-zed-agent-bench-net", driver: "bridge" }, opts);
        for (let i = 1; i <= perHost; i++) {
            const rdp = new random.RandomPassword(`${prefix}-runner-${i}-rdp-password`, { length: 24, special: false }, opts);
            const vnc = new random.RandomPassword(`${prefix}-runner-${i}-vnc-password`, { length: 8, special: false }, opts);
            const id = `external-zed-bench-${i}`;
            new docker.Container(
                `${prefix}-runner-${i}`,
                {
                    name: `helix-zed-agent-bench-${i}`,
                    image: image.repoDigest,
                    restart: "unless-stopped",
                    envs: pulumi.secret(
                        pulumi
                            .all([token, rdp.result, vnc.result])
                            .apply(([t, r, v]) => [
                                "API_HOST=https://helix.example.com",
                                `RUNNER_ID=${id}`,
                                "CONCURRENCY=1",
                                "MAX_TASKS=0",
                                "SESSION_TIMEOUT=3600",
                                "STOP_GRACE_SECONDS=30",
                                "WORKSPACE_DIR=/tmp/zed-workspaces",
                                "LOG_LEVEL=info",
                                "DISPLAY=:1",
                                "DISPLAY_WIDTH=1920",
                                "DISPLAY_HEIGHT=1080",
                                `API_TOKEN=${t}`,
                                `RDP_PASSWORD=${r}`,
                                `VNC_PASSWORD=${v}`,
                            ]),
                    ),
                    ports: [
                        { internal: 3389, external: 10000 + i - 1, ip: "127.0.0.1", protocol: "tcp" },
                        { internal: 5900, external: 20000 + i - 1, ip: "127.0.0.1", protocol: "tcp" },
                        { internal: 3030, external: 30000 + i - 1, ip: "127.0.0.1", protocol: "tcp" },
                    ],
                    hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
                    networksAdvanced: [{ name: network.name, aliases: [`helix-zed-agent-bench-${i}`] }],
                    healthcheck: {
                        // HEALTHCHECK_COMMAND (contract/image.ts), written out as every input here is.
                        tests: ["CMD", "/usr/local/bin/zed-runner", "healthcheck"],
                        interval: "10s",
                        timeout: "5s",
                        startPeriod: "30s",
                        retries: 3,
                    },
                    wait: true,
                    waitTimeout: 120,
                    stopSignal: "SIGTERM",
                    stopTimeout: 30,
                    destroyGraceSeconds: 30,
                    logDriver: "json-file",
                    logOpts: { "max-size": "10m", "max-file": "3" },
                    memory: 4096,
                    shmSize: 1024,
                    cpuShares: 512,
                    readOnly: true,
                    securityOpts: ["no-new-privileges:true"],
                    tmpfs: { "/run": "rw,noexec,nosuid,nodev,mode=755", "/tmp": "rw,exec,nosuid,nodev,mode=1777" },
                    mounts: [
                        { target: "/home/zed", type: "volume" },
                        { target: "/workspace", type: "volume" },
                        { target: "/tmp/zed-workspaces", type: "volume" },
                    ],
                    labels: [
                        { label: "zed-runner.project", value: "zed-runner" },
                        { label: "zed-runner.stack", value: "bench" },
                        { label: "zed-runner.runner-id", value: id },
                        { label: "zed-runner.index", value: String(i) },
                    ],
                },
                { ...opts, deleteBeforeReplace: true, replaceOnChanges: ["healthcheck"], additionalSecretOutputs: ["envs"] },
            );
        }
    }
}
