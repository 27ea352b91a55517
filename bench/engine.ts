// What the engine figures share: the bench's stack and token, the runners index.ts declares (in a
// child process, bench/declare.ts), created on the engine, and the probes that say when one is up.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import type Docker from "dockerode";
import { CONTAINER_PORTS } from "../contract";
import { docker } from "../test/support/docker";
import { createDeclaredContainers } from "../test/support/stack";
import { LABELS } from "../components/labels";

export const ROOT = path.resolve(__dirname, "..");
export const STACK = "bench";
/** The bench's runner token: random per run, with the characters that need escaping. */
export const BENCH_TOKEN = `bench"\\%+/=${crypto.randomBytes(8).toString("hex")}`;
export const BASE_IMAGE = process.env.BASE_IMAGE ?? "debian:bookworm-slim";

export async function engineAnswers(): Promise<boolean> {
    try {
        await docker.ping();
        return true;
    } catch {
        return false;
    }
}

/**
 * The container inputs index.ts declares for `replicas` runners (in a child process, under the test
 * mocks); `config` adds to or overrides the bench's stack config (bench/declare.ts).
 */
export async function declaredContainers(replicas: number, controlPlanePort: number, config: Record<string, string> = {}): Promise<any[]> {
    const out = execFileSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(__dirname, "declare.ts"), String(replicas), String(controlPlanePort)],
        {
            cwd: ROOT,
            env: { ...process.env, BENCH_TOKEN, BENCH_EXTRA_CONFIG: JSON.stringify(config) },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        },
    );
    return JSON.parse(out);
}

/** Creates (not starts) the declared containers, and their network if it is missing, on `client`'s engine. */
export async function createRunners(declared: any[], imageId: string, client: Docker = docker): Promise<Docker.Container[]> {
    const network = declared[0].networksAdvanced[0].name as string;
    if ((await client.listNetworks({ filters: JSON.stringify({ name: [network] }) })).length === 0) {
        await client.createNetwork({ Name: network, Driver: "bridge", Labels: { [LABELS.stack]: STACK } });
    }
    return createDeclaredContainers(declared, imageId, client);
}

/** RUNNER_ID of a declared container. */
export const runnerIdOf = (inputs: any): string =>
    inputs.envs.value.find((e: string) => e.startsWith("RUNNER_ID=")).slice("RUNNER_ID=".length);

export const healthPort = (inputs: any) => inputs.ports.find((p: any) => p.internal === CONTAINER_PORTS.health).external as number;

/** true once the runner's /health answers 200 (undefined before, for `eventually`). */
export const health200 = async (port: number) =>
    (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })).status === 200 ? true : undefined;

/** true once Docker's own health check says healthy (undefined before, for `eventually`). */
export const dockerHealthy = async (c: Docker.Container) => ((await c.inspect()).State.Health?.Status === "healthy" ? true : undefined);
