// How long `npm run test:e2e` takes end to end, images cached (a full run only).
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { ROOT } from "../engine";
import { Report, fmtMs } from "../report";

export function e2eFigure(report: Report): void {
    const t0 = performance.now();
    const result = spawnSync("npm", ["run", "test:e2e", "--", "--ci"], { cwd: ROOT, encoding: "utf8" });
    const ms = performance.now() - t0;
    report.record({
        section: "e2e",
        what: `npm run test:e2e end to end (${result.status === 0 ? "passed" : "FAILED"})`,
        value: fmtMs(ms),
        runs: "1 run, images cached",
    });
}
