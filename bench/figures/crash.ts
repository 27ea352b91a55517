// Crash recovery: the runner process killed, Docker restarts the container, the runner dials the
// control plane again; to reconnected, to /health 200, and to Docker's healthy again.
import { performance } from "node:perf_hooks";
import type Docker from "dockerode";
import { execIn } from "../../cli/engine";
import { eventually } from "../../test/support/eventually";
import type { FakeControlPlane } from "../../test/support/fakeControlPlane";
import { dockerHealthy, health200, healthPort, runnerIdOf } from "../engine";
import { Report, fmtMs } from "../report";

/** Crashes the first of `containers` (declared as `declared[0]`). */
export async function crashFigures(
    report: Report,
    containers: Docker.Container[],
    declared: any[],
    controlPlane: FakeControlPlane,
): Promise<void> {
    const victim = containers[0];
    const runnerId = runnerIdOf(declared[0]);
    const t0 = performance.now();
    const killedAt = Date.now();
    await execIn(victim, ["pkill", "-KILL", "-f", "zed-runner run"]);
    await eventually(
        "the crashed runner to reconnect",
        () => controlPlane.handshakes.some((h) => h.runnerId === runnerId && h.at > killedAt),
        60_000,
        20,
    );
    const reconnected = performance.now() - t0;
    await eventually("the restarted runner's /health 200", () => health200(healthPort(declared[0])), 60_000);
    const healthy = performance.now() - t0;
    await eventually("the restarted runner healthy", () => dockerHealthy(victim), 90_000, 200);
    const dockerHealthyAgain = performance.now() - t0;
    report.record({ section: "crash", what: "runner crash to reconnected", value: fmtMs(reconnected), runs: "1 crash" });
    report.record({
        section: "crash",
        what: "runner crash to reconnected and /health 200",
        value: fmtMs(Math.max(reconnected, healthy)),
        runs: "1 crash",
        target: "< 5 s",
        met: Math.max(reconnected, healthy) < 5000,
    });
    report.record({ section: "crash", what: "runner crash to Docker's healthy again", value: fmtMs(dockerHealthyAgain), runs: "1 crash" });
}
