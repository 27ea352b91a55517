// The runner protocol against the fake control plane: a launch message to the running reply (stub
// Zed), and the control plane back after 5 s away to every runner reconnected.
import { performance } from "node:perf_hooks";
import { eventually } from "../../test/support/eventually";
import type { FakeControlPlane } from "../../test/support/fakeControlPlane";
import { runnerIdOf } from "../engine";
import type { BenchOptions } from "../options";
import { Report, fmtMs, median } from "../report";

export async function protocolFigures(
    report: Report,
    options: BenchOptions,
    declared: any[],
    controlPlane: FakeControlPlane,
): Promise<void> {
    const runnerIds: string[] = declared.map(runnerIdOf);
    await eventually("every runner connected", () => controlPlane.connectedRunnerIds().length === runnerIds.length, 60_000);
    const launches: number[] = [];
    for (let i = 0; i < (options.quick ? 5 : 20); i++) {
        const launch = await controlPlane.launch({ session_id: `bench_${i}` }, runnerIds[1]);
        if (launch.reply.status !== "running") throw new Error(`launch ${i} answered ${launch.reply.status}: ${launch.reply.error}`);
        launches.push(launch.ms);
        await controlPlane.stop(`bench_${i}`, runnerIds[1]);
    }
    report.record({
        section: "protocol",
        what: "launch message -> running reply (stub Zed)",
        value: fmtMs(median(launches)),
        runs: `median of ${launches.length} launches (max ${fmtMs(Math.max(...launches))})`,
        target: "< 200 ms",
        met: median(launches) < 200,
    });

    const back: number[] = [];
    for (let r = 0; r < (options.quick ? 1 : 3); r++) {
        await controlPlane.goAway();
        // The outage the figure names.
        await new Promise((res) => setTimeout(res, 5000));
        const t0 = performance.now();
        await controlPlane.listen();
        await eventually("every runner back", () => controlPlane.connectedRunnerIds().length === runnerIds.length, 30_000, 10);
        back.push(performance.now() - t0);
    }
    report.record({
        section: "protocol",
        what: `control plane back after 5 s -> all ${runnerIds.length} runners reconnected`,
        value: fmtMs(median(back)),
        runs: `median of ${back.length} outages (max ${fmtMs(Math.max(...back))})`,
        target: "< 2 s",
        met: median(back) < 2000,
    });
}
