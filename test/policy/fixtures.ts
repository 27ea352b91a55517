// A compliant runner container, as the ZedRunner component declares one, and a compliant Helix
// sandbox; tests change one property at a time.
import {
    GPU_VENDOR_SETUP,
    SANDBOX_DEVICES,
    SANDBOX_DEVICE_CGROUP_RULES,
    SANDBOX_FIXED_ENV,
    SANDBOX_HEALTHCHECK_COMMAND,
} from "../../contract";
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

/**
 * A compliant sandbox container, as Helix's install.sh runs one (docs/protocol.md §7): Helix's
 * image at a release, privileged, the token in a secret environment, its own volumes, no ports.
 */
export function sandboxProps(n = 1): Record<string, any> {
    const nvidia = GPU_VENDOR_SETUP.nvidia;
    return {
        name: `helix-sandbox-dev-${n}`,
        image: "ghcr.io/helixml/helix-sandbox:2.12.2",
        privileged: true,
        restart: "always",
        envs: [
            "HELIX_API_URL=https://helix.example.com",
            "RUNNER_TOKEN=a-real-runner-token-9f8e7d",
            `SANDBOX_INSTANCE_ID=box-${n}`,
            "GPU_VENDOR=nvidia",
            ...Object.entries({ ...SANDBOX_FIXED_ENV, ...nvidia.env }).map(([k, v]) => `${k}=${v}`),
        ],
        runtime: "nvidia",
        gpus: "all",
        devices: [...SANDBOX_DEVICES, ...nvidia.devices].map((d) => ({ hostPath: d, containerPath: d, permissions: "rwm" })),
        deviceCgroupRules: [...SANDBOX_DEVICE_CGROUP_RULES],
        volumes: [
            { volumeName: `helix-sandbox-dev-${n}-docker`, containerPath: "/var/lib/docker" },
            { volumeName: `helix-sandbox-dev-${n}-data`, containerPath: "/data" },
            { volumeName: `helix-sandbox-dev-${n}-hydra`, containerPath: "/hydra-data" },
            { hostPath: "/run/udev", containerPath: "/run/udev" },
            { hostPath: "/var/run/sandbox", containerPath: "/var/run/sandbox" },
        ],
        healthcheck: { tests: [...SANDBOX_HEALTHCHECK_COMMAND], interval: "30s", timeout: "10s", startPeriod: "120s", retries: 3 },
        wait: true,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
    };
}

/** The compliant sandbox number `n` with `changes` applied; a value of undefined removes the property. */
export function sandbox(changes: Record<string, any> = {}, extra: Partial<Fixture> = {}, n = 1): Fixture {
    const props = { ...sandboxProps(n), ...changes };
    for (const [k, v] of Object.entries(changes)) if (v === undefined) delete props[k];
    return { type: CONTAINER, name: `sandbox-${n}`, props, additionalSecretOutputs: ["envs"], ...extra };
}

/** The compliant sandbox's environment with one variable set (or removed with undefined). */
export function withSandboxEnv(name: string, value: string | undefined, n = 1): string[] {
    const envs = (sandboxProps(n).envs as string[]).filter((e) => !e.startsWith(`${name}=`));
    return value === undefined ? envs : [...envs, `${name}=${value}`];
}
