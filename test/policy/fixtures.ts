// A compliant runner container, as the ZedRunner component declares one; tests change one property at a time.
import type { Fixture } from "./harness";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const SERVICE = "docker:index/service:Service";

export function runnerProps(): Record<string, any> {
    return {
        name: "helix-zed-agent-dev-1",
        image: "sha256:" + "a".repeat(64),
        restart: "unless-stopped",
        envs: [
            "API_HOST=https://helix.example.com",
            "RUNNER_ID=external-zed-box-1",
            "CONCURRENCY=1",
            "API_TOKEN=a-real-runner-token-9f8e7d",
            "RDP_PASSWORD=abcdefghijklmnopqrstuvwx",
            "VNC_PASSWORD=abcdefgh",
        ],
        ports: [
            { internal: 3389, external: 3389, ip: "127.0.0.1", protocol: "tcp" },
            { internal: 5900, external: 5900, ip: "127.0.0.1", protocol: "tcp" },
            { internal: 3030, external: 3030, ip: "127.0.0.1", protocol: "tcp" },
        ],
        healthcheck: {
            tests: ["CMD", "/usr/local/bin/zed-runner", "healthcheck"],
            interval: "10s",
            timeout: "5s",
            startPeriod: "30s",
            retries: 3,
        },
        wait: true,
        waitTimeout: 120,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        memory: 4096,
        shmSize: 1024,
    };
}

/** The compliant runner with `changes` applied; a value of undefined removes the property. */
export function runner(changes: Record<string, any> = {}, extra: Partial<Fixture> = {}): Fixture {
    const props = { ...runnerProps(), ...changes };
    for (const [k, v] of Object.entries(changes)) if (v === undefined) delete props[k];
    return { type: CONTAINER, props, additionalSecretOutputs: ["envs"], ...extra };
}

/** The compliant runner's environment with one variable set (or removed with undefined). */
export function withEnv(name: string, value: string | undefined): string[] {
    const envs = (runnerProps().envs as string[]).filter((e) => !e.startsWith(`${name}=`));
    return value === undefined ? envs : [...envs, `${name}=${value}`];
}
