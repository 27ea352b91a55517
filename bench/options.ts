// `npm run bench`'s options, shared by every figure module.
import { parseArgs } from "node:util";

export interface BenchOptions {
    /** Fewer runs and sizes: a smoke run, not figures to publish. */
    readonly quick: boolean;
    /** Also builds the upstream package set (bench/upstream.Dockerfile) to compare the image's size with. */
    readonly withUpstream: boolean;
    /** Also measures on the test swarm (`bash .ci/swarm.sh up` first). */
    readonly swarm: boolean;
    /** Also measures start to healthy on the Docker 26 engine of .ci/engine26.sh (`bash .ci/engine26.sh up` first). */
    readonly engine26: boolean;
    readonly help: boolean;
}

export const USAGE = `usage: npm run bench [-- --quick] [--with-upstream] [--swarm] [--engine26]
  --quick          fewer runs and sizes (a smoke run)
  --with-upstream  also build the upstream package set to compare the image's size with
  --swarm          also measure on the test swarm (bash .ci/swarm.sh up)
  --engine26       also measure start to healthy on a Docker 26 engine (bash .ci/engine26.sh up)
Writes docs/BENCHMARKS.md. Engine figures need a Docker engine (bash .ci/engine.sh).
`;

/** Reads the command line; an option it does not know is refused, so a typo cannot start a full run. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
    const { values } = parseArgs({
        args: [...argv],
        options: {
            quick: { type: "boolean", default: false },
            "with-upstream": { type: "boolean", default: false },
            swarm: { type: "boolean", default: false },
            engine26: { type: "boolean", default: false },
            help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
        allowPositionals: false,
    });
    return {
        quick: values.quick,
        withUpstream: values["with-upstream"],
        swarm: values.swarm,
        engine26: values.engine26,
        help: values.help,
    };
}
