// `npm run bench [-- --with-upstream] [--quick] [--swarm]`: measures the program's own cost under Pulumi's
// mocks beside a bare baseline, the runner plan, and with a Docker engine the image's size,
// start-up, idle cost and crash recovery; with --swarm, on the test swarm (`bash .ci/swarm.sh up`),
// node loss and scaling; with --engine26, start to healthy on a Docker 26 engine too (`bash
// .ci/engine26.sh up`). Prints a table and writes docs/BENCHMARKS.md.
// Figures only: nothing here asserts a time. One module per area in bench/figures/.
import { describeError } from "../contract";
import { removeLabelled } from "../test/support/docker";
import { FakeControlPlane } from "../test/support/fakeControlPlane";
import { dockerBridgeAddress } from "../test/support/stack";
import { BENCH_TOKEN, ROOT, STACK, engineAnswers } from "./engine";
import { crashFigures } from "./figures/crash";
import { e2eFigure } from "./figures/e2e";
import { healthyFigures } from "./figures/healthy";
import { idleFigures } from "./figures/idle";
import { imageFigures } from "./figures/image";
import { programFigures } from "./figures/program";
import { protocolFigures } from "./figures/protocol";
import { startFigures } from "./figures/start";
import { swarmFigures } from "./figures/swarm";
import { tunnelFigures } from "./figures/tunnel";
import { BenchOptions, USAGE, parseBenchArgs } from "./options";
import { Report, machine } from "./report";
import { LABELS } from "../components/labels";

/** Every figure that needs the engine, against one fake control plane: the image first, then runners from it. */
async function engineFigures(report: Report, options: BenchOptions): Promise<void> {
    const controlPlane = new FakeControlPlane({ token: BENCH_TOKEN });
    const port = await controlPlane.listen(dockerBridgeAddress());
    try {
        await removeLabelled(LABELS.stack, STACK);
        const imageId = await imageFigures(report, options);
        await startFigures(report, options, imageId, port, async (containers, declared) => {
            await idleFigures(report, options, containers);
            await crashFigures(report, containers, declared, controlPlane);
            await protocolFigures(report, options, declared, controlPlane);
            await tunnelFigures(report, options, declared[2], controlPlane);
        });
        await healthyFigures(report, options, imageId, port);
    } finally {
        await removeLabelled(LABELS.stack, STACK).catch(() => undefined);
        await controlPlane.close();
    }
}

async function main(argv: readonly string[]): Promise<void> {
    let options: BenchOptions;
    try {
        options = parseBenchArgs(argv);
    } catch (err) {
        process.stderr.write(`${describeError(err)}\n${USAGE}`);
        process.exitCode = 2;
        return;
    }
    if (options.help) return void process.stdout.write(USAGE);
    console.log(`Machine: ${machine()}\n`);
    const report = new Report();
    const skipped: string[] = [];
    programFigures(report, options);
    if (await engineAnswers()) {
        await engineFigures(report, options);
        if (!options.quick) e2eFigure(report);
        if (!options.engine26)
            skipped.push("Docker 26 figures skipped: run `bash .ci/engine26.sh up`, then `npm run bench -- --engine26`.");
        if (options.swarm) await swarmFigures(report, options);
        else skipped.push("Swarm figures skipped: run `bash .ci/swarm.sh up`, then `npm run bench -- --swarm`.");
    } else {
        const line = "Docker engine figures skipped: no engine answers on /var/run/docker.sock (run `bash .ci/engine.sh`).";
        console.log(line);
        skipped.push(line);
    }
    report.write(ROOT, argv, skipped);
}

main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
});
