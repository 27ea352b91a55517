// Start to Docker's healthy, per engine: 1 and 10 runners started together, on this machine's
// engine and, with --engine26, on the Docker 26 engine of .ci/engine26.sh. Where the engine has the
// health check's start interval (Docker 25+, Engine API 1.44), without and with healthStartInterval:
// `pulumi up` waits for this, not for /health. The runners on the other engine reach the fake
// control plane at this machine's bridge address, routed out of the engine's container.
import { performance } from "node:perf_hooks";
import Docker from "dockerode";
import { docker, removeLabelled } from "../../test/support/docker";
import { eventually } from "../../test/support/eventually";
import { dockerBridgeAddress } from "../../test/support/stack";
import { STACK, createRunners, declaredContainers, dockerHealthy } from "../engine";
import type { BenchOptions } from "../options";
import { Report, fmtMs, median } from "../report";
import { LABELS } from "../../components/labels";

/** Where .ci/engine26.sh's engine answers (its `up` prints it). */
const ENGINE26_SOCKET = process.env.ENGINE26_SOCKET ?? "/var/tmp/zed-engine26/sock/docker.sock";

/** The first Engine API version with the health check's start interval (Docker 25). */
const START_INTERVAL_API = [1, 44];

const apiAtLeast = (version: string, [major, minor]: number[]) => {
    const [a, b] = version.split(".").map(Number);
    return a > major || (a === major && b >= minor);
};

/** Copies the image into another engine (docker save | docker load); the ID stays the same. */
async function copyImage(imageId: string, to: Docker): Promise<void> {
    if (
        await to
            .getImage(imageId)
            .inspect()
            .then(
                () => true,
                () => false,
            )
    )
        return;
    const tar = await docker.getImage(imageId).get();
    const progress = await to.loadImage(tar, { quiet: true });
    await new Promise((resolve, reject) => to.modem.followProgress(progress, (err) => (err ? reject(err) : resolve(undefined))));
    await to.getImage(imageId).inspect();
}

async function measure(
    report: Report,
    options: BenchOptions,
    client: Docker,
    engine: string,
    imageId: string,
    controlPlanePort: number,
    config: Record<string, string>,
): Promise<void> {
    const runs = options.quick ? 1 : 3;
    const variant = config.healthStartInterval === "true" ? "healthStartInterval on" : "no start interval";
    for (const count of options.quick ? [1] : [1, 10]) {
        const times: number[] = [];
        for (let r = 0; r < runs; r++) {
            const declared = await declaredContainers(count, controlPlanePort, config);
            const containers = await createRunners(declared, imageId, client);
            const t0 = performance.now();
            await Promise.all(containers.map((c) => c.start()));
            const healthy = await Promise.all(
                containers.map((c) =>
                    eventually("Docker's healthy", () => dockerHealthy(c), 120_000, 100).then(() => performance.now() - t0),
                ),
            );
            times.push(Math.max(...healthy));
            await removeLabelled(LABELS.stack, STACK, client);
        }
        report.record({
            section: "healthy",
            what: `Docker ${engine}, ${variant}: start to Docker's healthy, ${count} runner${count === 1 ? "" : "s"} together (slowest)`,
            value: fmtMs(median(times)),
            runs: `median of ${runs} runs`,
        });
    }
}

/** The figures on one engine: without the start interval, and with it where the engine has it. */
async function engineHealthyFigures(
    report: Report,
    options: BenchOptions,
    client: Docker,
    imageId: string,
    controlPlanePort: number,
    config: Record<string, string>,
): Promise<void> {
    const { Version, ApiVersion } = await client.version();
    await removeLabelled(LABELS.stack, STACK, client);
    try {
        await measure(report, options, client, Version, imageId, controlPlanePort, config);
        if (apiAtLeast(ApiVersion, START_INTERVAL_API)) {
            await measure(report, options, client, Version, imageId, controlPlanePort, { ...config, healthStartInterval: "true" });
        }
    } finally {
        await removeLabelled(LABELS.stack, STACK, client).catch(() => undefined);
    }
}

export async function healthyFigures(report: Report, options: BenchOptions, imageId: string, controlPlanePort: number): Promise<void> {
    await engineHealthyFigures(report, options, docker, imageId, controlPlanePort, {});
    if (!options.engine26) return;
    const engine26 = new Docker({ socketPath: ENGINE26_SOCKET });
    await copyImage(imageId, engine26);
    // host.docker.internal is the inner engine's own bridge there: name this machine's instead.
    await engineHealthyFigures(report, options, engine26, imageId, controlPlanePort, {
        apiHost: `http://${dockerBridgeAddress()}:${controlPlanePort}`,
    });
}
