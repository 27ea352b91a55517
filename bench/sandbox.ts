// `npm run bench:sandbox [-- --rounds N]`: how long from deploy to every sandbox placeable. The
// sandboxes index.ts declares for a sandbox stack (in a child process, bench/declare.ts) are created
// and started on this machine's engine from the declared inputs, running the STAND-IN SANDBOX image
// (Helix's cannot run here: no --privileged, no ghcr.io, no GPU), against the fake control plane's
// Helix 2.12.2 sandbox side, with the real 30 s heartbeat. "Placeable" is the control plane's own
// test (connected, heard within 90 s, a GPU vendor that can host a desktop, the desktop offered).
// Cold: new volumes, so each boot pulls the desktop image from the test registry (a stand-in image
// of a few MB: Helix's is about 7 GB, which a real first boot adds at the host's download speed).
// Warm: the same volumes, new IDs, as after a host's reboot. Figures only: nothing asserts a time.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { CommandSpec, helpText, parseCommandLine } from "../cli/lib/args";
import { UserError } from "../cli/lib/errors";
import { runCommand } from "../cli/stackFiles";
import { LABELS } from "../components/labels";
import { FakeControlPlane } from "../test/support/fakeControlPlane";
import { startDesktopRegistry } from "../test/support/desktopRegistry";
import { docker, eventually, removeLabelled } from "../test/support/docker";
import type { Registration } from "../test/support/mocks";
import { type DeclaredSandboxes, buildStandInSandboxImage, standInSandboxConfig, startDeclaredSandbox } from "../test/support/sandboxStack";
import { dockerBridgeAddress } from "../test/support/stack";
import { BASE_IMAGE, ROOT, engineAnswers } from "./engine";
import { fmtMs, machine, median } from "./report";

const STACK = "bench-sandbox";
const NETWORK = `${STACK}-net`;
const REGISTRY_LABEL = `${STACK}-registry`;
const HELIX_VERSION = "2.12.2";
const DESKTOP_TAG = `${HELIX_VERSION}-linux-${process.arch === "x64" ? "amd64" : process.arch}`;
const TOKEN = crypto.randomBytes(16).toString("hex");

/** What index.ts declares for `config`, in a child process (the bench runs outside Jest). */
function declared(config: Record<string, string>): DeclaredSandboxes {
    const resources: Registration[] = JSON.parse(
        execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "declare.ts"), "--stack", STACK], {
            cwd: ROOT,
            env: { ...process.env, BENCH_CONFIG: JSON.stringify(config), BENCH_NETWORKS: JSON.stringify([NETWORK]) },
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        }),
    );
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
        containers: ofType("docker:index/container:Container"),
        volumes: ofType("docker:index/volume:Volume"),
        images: ofType("docker:index/remoteImage:RemoteImage"),
    };
}

/** The instance IDs `declaration` gives its sandboxes. */
const idsOf = (declaration: DeclaredSandboxes): string[] =>
    declaration.containers.map((c) => {
        const envs: string[] = c.inputs.envs.value ?? c.inputs.envs;
        return envs.find((e) => e.startsWith("SANDBOX_INSTANCE_ID="))!.slice("SANDBOX_INSTANCE_ID=".length);
    });

/** Starts every declared sandbox and resolves with the ms until the control plane could place a desktop on each. */
async function untilPlaceable(controlPlane: FakeControlPlane, declaration: DeclaredSandboxes, imageId: string): Promise<number> {
    const ids = idsOf(declaration).sort();
    const started = Date.now();
    for (let i = 1; i <= declaration.containers.length; i++)
        await startDeclaredSandbox(declaration, i, imageId, {
            inPlaceOfPrivileged: "nested-engine",
            standInEnv: { STAND_IN_DOCKERD_TIMEOUT: "120" },
        });
    await eventually(
        `sandboxes ${ids.join(", ")} placeable`,
        () => ids.every((id) => controlPlane.placeableSandboxIds("ubuntu").includes(id)),
        600_000,
        200,
    );
    return Date.now() - started;
}

/** Removes the stack's containers, keeping its volumes (as keepVolumes does). */
async function removeContainers(): Promise<void> {
    for (const info of await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`] }) }))
        await docker.getContainer(info.Id).remove({ force: true });
}

export const BENCH_SANDBOX: CommandSpec = {
    name: "bench:sandbox",
    summary:
        "Times deploy to every sandbox placeable (1 and 3 sandboxes, cold and warm) with the stand-in sandbox against the fake control plane, on this machine's Docker engine. Figures only.",
    options: { rounds: { type: "string", description: "rounds per figure, 1 to 20 (default 3)" } },
};

async function main(argv: readonly string[]): Promise<number> {
    const { values, help } = parseCommandLine(BENCH_SANDBOX, argv, process.env);
    if (help) {
        console.log(helpText(BENCH_SANDBOX));
        return 0;
    }
    const rounds = Number(values.rounds ?? "3");
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
        throw new UserError(`--rounds must be a whole number from 1 to 20 (got ${JSON.stringify(values.rounds)}).`);
    if (!(await engineAnswers())) throw new UserError("No Docker engine answers: run `bash .ci/engine.sh` first.");
    console.log(`Machine: ${machine()}\n`);
    const controlPlane = new FakeControlPlane({ token: TOKEN });
    const port = await controlPlane.listen(dockerBridgeAddress());
    await removeLabelled(LABELS.stack, STACK);
    await removeLabelled(LABELS.stack, REGISTRY_LABEL);
    try {
        // Labelled apart from the sandboxes, so that a cold round removes their volumes and not the registry.
        const registry = await startDesktopRegistry({
            network: NETWORK,
            label: LABELS.stack,
            value: REGISTRY_LABEL,
            baseImage: BASE_IMAGE,
        });
        console.log("desktop registry up; pushing the stand-in desktop image");
        await registry.push(DESKTOP_TAG);
        console.log("building the stand-in sandbox image");
        const imageId = await buildStandInSandboxImage("zed-bench-stand-in-sandbox:bench", BASE_IMAGE);
        const config = (replicas: number, round: string) => ({
            ...standInSandboxConfig({ port, token: TOKEN, network: NETWORK, helixVersion: HELIX_VERSION }),
            replicas: String(replicas),
            hostName: "bench",
            // New IDs each round: the control plane's placement looks at each ID's own heartbeats.
            instanceIdPrefix: `bench-${round}`,
        });
        console.log("deploy -> every sandbox placeable (stand-in sandbox, fake control plane, 30 s heartbeat)");
        for (const replicas of [1, 3]) {
            const cold: number[] = [];
            const warm: number[] = [];
            for (let round = 1; round <= rounds; round++) {
                // Cold: the sandboxes' volumes go too, so each boot pulls the desktop image.
                await removeLabelled(LABELS.stack, STACK);
                cold.push(await untilPlaceable(controlPlane, declared(config(replicas, `c${round}`)), imageId));
                await removeContainers();
                warm.push(await untilPlaceable(controlPlane, declared(config(replicas, `w${round}`)), imageId));
            }
            console.log(
                `  ${replicas} sandbox${replicas === 1 ? "" : "es"}: cold ${fmtMs(median(cold))} median (${cold.map(fmtMs).join(", ")}), ` +
                    `warm ${fmtMs(median(warm))} median (${warm.map(fmtMs).join(", ")}), over ${rounds} round${rounds === 1 ? "" : "s"}`,
            );
        }
    } finally {
        await removeLabelled(LABELS.stack, STACK).catch(() => undefined);
        await removeLabelled(LABELS.stack, REGISTRY_LABEL).catch(() => undefined);
        await controlPlane.close();
    }
    return 0;
}

if (require.main === module) void runCommand(() => main(process.argv.slice(2)));
