// The program's own cost under Pulumi's mocks: index.ts against a bare baseline for growing stacks,
// each run in a fresh Node process (bench/programRun.ts), and the runner plan on its own.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseSettings } from "../../components/stackPlan";
import { planRunners } from "../../components/runner/plan";
import { benchConfig } from "../mocks";
import type { BenchOptions } from "../options";
import { Report, fmtMs, median } from "../report";

const ROOT = path.resolve(__dirname, "../..");

/** One timed run of the program or the baseline, in its own process; milliseconds. */
function timedRun(which: "program" | "baseline", runners: number, hosts: number): number {
    const out = execFileSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(ROOT, "bench/programRun.ts"), which, String(runners), String(hosts)],
        {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        },
    );
    return JSON.parse(out.trim().split("\n").pop()!).ms;
}

export function programFigures(report: Report, options: BenchOptions): void {
    const runs = options.quick ? 3 : 5;
    const sizes: [number, number][] = options.quick
        ? [
              [1, 1],
              [10, 1],
              [50, 1],
              [100, 1],
          ]
        : [
              [1, 1],
              [10, 1],
              [50, 1],
              [100, 1],
              [500, 1],
              [500, 10],
          ];
    const program = new Map<string, number>();
    for (const [runners, hosts] of sizes) {
        const p: number[] = [];
        const b: number[] = [];
        // Alternate the two so drift on a shared machine hits both alike.
        for (let i = 0; i < runs; i++) {
            p.push(timedRun("program", runners, hosts));
            b.push(timedRun("baseline", runners, hosts));
        }
        const label = hosts > 1 ? `${hosts} hosts x ${runners / hosts} runners` : `${runners} runner${runners === 1 ? "" : "s"}`;
        const ratio = median(p) / median(b);
        program.set(label, median(p));
        const targeted = hosts === 1 && (runners === 50 || runners === 500);
        report.record({
            section: "program",
            what: `index.ts, ${label}: program / baseline`,
            value: `${fmtMs(median(p))} / ${fmtMs(median(b))} = ${ratio.toFixed(3)}`,
            runs: `median of ${runs} runs each`,
            ...(targeted ? { target: "< 1.15", met: ratio < 1.15 } : {}),
        });
    }
    const t50 = program.get("50 runners");
    const t500 = program.get("500 runners");
    if (t50 && t500) {
        const growth = t500 / t50;
        report.record({
            section: "program",
            what: "growth t(500) / t(50)",
            value: growth.toFixed(2),
            runs: "from the medians above",
            target: "< 11",
            met: growth < 11,
        });
    }
    planFigure(report);
}

/** The runner plan for 500 runners, in this process. */
function planFigure(report: Report): void {
    const settings = parseSettings(
        Object.fromEntries(Object.entries(benchConfig(500, 1)).map(([k, v]) => [k.replace("zed-runner:", ""), v])),
        { stackName: "bench", machineHostName: "bench" },
    );
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        planRunners(settings, { project: "zed-runner", stackName: "bench" });
        times.push(performance.now() - t0);
    }
    report.record({
        section: "program",
        what: "runner plan for 500 runners",
        value: fmtMs(median(times)),
        runs: "median of 100 runs",
        target: "< 20 ms",
        met: median(times) < 20,
    });
}
