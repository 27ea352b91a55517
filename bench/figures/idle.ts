// Idle cost: memory and CPU per runner with no Zed session, read as `npm run status` reads them.
import type Docker from "dockerode";
import { cpuPercent, memoryBytes } from "../../cli/report/dockerStats";
import type { BenchOptions } from "../options";
import { Report, median } from "../report";

export async function idleFigures(report: Report, options: BenchOptions, containers: Docker.Container[]): Promise<void> {
    const idleSeconds = options.quick ? 10 : 30;
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const mem: number[] = [];
    const cpu: number[] = [];
    for (const c of containers) {
        const s: any = await c.stats({ stream: false });
        // As `npm run status` reads them, so the bench and the command report the same figures.
        mem.push(memoryBytes(s) ?? 0);
        cpu.push(cpuPercent(s) ?? 0);
    }
    report.record({
        section: "idle",
        what: `memory per runner after ${idleSeconds} s idle (no Zed session)`,
        value: `${(median(mem) / 1024 / 1024).toFixed(1)} MiB (min ${(Math.min(...mem) / 1024 / 1024).toFixed(1)}, max ${(Math.max(...mem) / 1024 / 1024).toFixed(1)})`,
        runs: `median of ${mem.length} runners`,
        target: "< 70 MiB",
        met: median(mem) < 70 * 1024 * 1024,
    });
    report.record({
        section: "idle",
        what: "CPU per idle runner",
        value: `${median(cpu).toFixed(2)}% of one core`,
        runs: `median of ${cpu.length} runners, Docker's 1 s sample`,
    });
}
