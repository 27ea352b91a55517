// The bench's figures and docs/BENCHMARKS.md: every figure module records into one Report, which
// prints each figure as it comes and writes the table at the end. Figures only: no time is asserted.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Figure {
    readonly section: string;
    readonly what: string;
    readonly value: string;
    readonly runs: string;
    readonly target?: string;
    readonly met?: boolean;
}

export const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/** This machine in one line: the figures mean little without it. */
export function machine(): string {
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    let dockerVersion = "no engine";
    try {
        dockerVersion = execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).trim();
    } catch {
        // reported as no engine
    }
    return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}, Docker ${dockerVersion}`;
}

export class Report {
    private readonly figures: Figure[] = [];

    record(f: Figure): void {
        this.figures.push(f);
        const verdict = f.met === undefined ? "" : f.met ? "  [target met]" : "  [target NOT met]";
        console.log(`${f.section} | ${f.what}: ${f.value} (${f.runs})${f.target ? ` target ${f.target}` : ""}${verdict}`);
    }

    /** docs/BENCHMARKS.md under `root`: how the figures were taken, the table, then what was skipped and why. */
    write(root: string, argv: readonly string[], skipped: readonly string[]): void {
        const rows = this.figures.map(
            (f) =>
                `| ${f.section} | ${f.what} | ${f.value} | ${f.runs} | ${f.target ?? ""} | ${f.met === undefined ? "" : f.met ? "met" : "**not met**"} |`,
        );
        const text = [
            "# Benchmarks",
            "",
            `Written by \`npm run bench${argv.length ? " -- " + argv.join(" ") : ""}\` on ${new Date().toISOString()}.`,
            "",
            `Machine: ${machine()}.`,
            "",
            "Program figures run each configuration in a fresh Node process under Pulumi's mocks, alternating the program",
            "(`index.ts`: config parsing, plan, ZedRunner component) and a bare baseline (`bench/baseline.ts`: the same",
            "resources registered directly) so drift on this shared machine hits both alike; ratios matter, absolute times drift.",
            "Engine figures use the image built from `Dockerfile.zed-agent` with the stub Zed, the fake control plane, and",
            "containers created with exactly the inputs `index.ts` declares. Docker reports `healthy` only at its first",
            "health check, one interval (10 s) after start, unless the engine has the health check's start interval",
            "(Docker 25+) and the stack sets `healthStartInterval`: then it checks every second from start. `pulumi up`",
            "waits for `healthy`, so the `healthy` figures (per engine; Docker 26 is trixie's docker.io in a container,",
            "`.ci/engine26.sh`) say how long it waits; the `/health` 200 figures say when a runner is ready.",
            "Swarm figures run on the test swarm of `.ci/swarm.sh`: three Docker 20.10 engines in containers on this one machine,",
            "with a 1 s dispatcher heartbeat (Swarm's default is 5 s, so a real cluster notices a lost node later), the image",
            "pulled from the harness's registry, and the service created and updated from exactly what `index.ts` declares.",
            "",
            "| area | figure | value | runs | target | |",
            "|---|---|---|---|---|---|",
            ...rows,
            ...(skipped.length ? ["", ...skipped.map((s) => `- ${s}`)] : []),
            "",
        ].join("\n");
        fs.mkdirSync(path.join(root, "docs"), { recursive: true });
        fs.writeFileSync(path.join(root, "docs/BENCHMARKS.md"), text);
        console.log(`\nWrote docs/BENCHMARKS.md (${this.figures.length} figures).`);
    }
}
