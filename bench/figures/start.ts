// Start-up: from starting 1 and 3 runners together to the slowest one's /health 200, and to
// Docker's healthy. The last run of three runners is handed on, still running, to the figures
// that need runners up (idle, crash, protocol, tunnel) before it is removed.
import { performance } from "node:perf_hooks";
import type Docker from "dockerode";
import { removeLabelled } from "../../test/support/docker";
import { eventually } from "../../test/support/eventually";
import { STACK, createRunners, declaredContainers, dockerHealthy, health200, healthPort } from "../engine";
import type { BenchOptions } from "../options";
import { Report, fmtMs, median } from "../report";
import { LABELS } from "../../components/labels";

/** Given the three running runners of the last run and their declared inputs, in the same order. */
export type WithRunningRunners = (containers: Docker.Container[], declared: any[]) => Promise<void>;

export async function startFigures(
    report: Report,
    options: BenchOptions,
    imageId: string,
    controlPlanePort: number,
    withRunningRunners: WithRunningRunners,
): Promise<void> {
    const runs = options.quick ? 1 : 3;
    for (const count of [1, 3]) {
        const toHealth: number[] = [];
        const toHealthy: number[] = [];
        for (let r = 0; r < runs; r++) {
            const declared = await declaredContainers(count, controlPlanePort);
            const containers = await createRunners(declared, imageId);
            const t0 = performance.now();
            await Promise.all(containers.map((c) => c.start()));
            const h = await Promise.all(
                declared.map((d) =>
                    eventually("a runner's /health 200", () => health200(healthPort(d)), 60_000).then(() => performance.now() - t0),
                ),
            );
            const d = await Promise.all(
                containers.map((c) =>
                    eventually("Docker's healthy", () => dockerHealthy(c), 90_000, 200).then(() => performance.now() - t0),
                ),
            );
            toHealth.push(Math.max(...h));
            toHealthy.push(Math.max(...d));
            if (count === 3 && r === runs - 1) await withRunningRunners(containers, declared);
            await removeLabelled(LABELS.stack, STACK);
        }
        const target = count === 1 ? 5000 : 7000;
        report.record({
            section: "start",
            what: `start to /health 200, ${count} runner${count === 1 ? "" : "s"} together (slowest)`,
            value: fmtMs(median(toHealth)),
            runs: `median of ${runs} runs`,
            target: `< ${target / 1000} s`,
            met: median(toHealth) < target,
        });
        report.record({
            section: "start",
            what: `start to Docker's healthy, ${count} runner${count === 1 ? "" : "s"} together (slowest)`,
            value: fmtMs(median(toHealthy)),
            runs: `median of ${runs} runs`,
        });
    }
}
