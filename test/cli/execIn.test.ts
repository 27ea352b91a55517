// execIn against a stand-in container: what the engine's exec API returns, frames included.
import { Readable } from "node:stream";
import type Docker from "dockerode";
import { EXEC_ATTEMPTS, execIn } from "../../cli/engine";

/** One stdout frame of Docker's multiplexed stream. */
function frame(text: string): Buffer {
    const body = Buffer.from(text, "utf8");
    const header = Buffer.alloc(8);
    header.writeUInt8(1, 0);
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
}

/** A container whose execs answer `answers` in turn (the last one from then on), counting them. */
function standInContainer(answers: { exitCode: number; output: string }[]) {
    let execs = 0;
    const container = {
        exec: async () => {
            const answer = answers[Math.min(execs++, answers.length - 1)];
            return {
                start: async () => Readable.from([frame(answer.output)]),
                inspect: async () => ({ ExitCode: answer.exitCode }),
            };
        },
    };
    return { container: container as unknown as Docker.Container, execs: () => execs };
}

const NOT_STARTED =
    "OCI runtime exec failed: exec failed: unable to start container process: waiting for init preliminary setup: read init-p: connection reset by peer: unknown\r\n";

describe("execIn", () => {
    it("tries again an exec the runtime could not start, and returns the command's own answer", async () => {
        const { container, execs } = standInContainer([
            { exitCode: 126, output: NOT_STARTED },
            { exitCode: 0, output: "helix-ubuntu:2.12.2\n" },
        ]);
        await expect(execIn(container, ["docker", "image", "ls"])).resolves.toEqual({ exitCode: 0, output: "helix-ubuntu:2.12.2\n" });
        expect(execs()).toBe(2);
    });

    it(`returns the runtime's failure after ${EXEC_ATTEMPTS} attempts`, async () => {
        const { container, execs } = standInContainer([{ exitCode: 126, output: NOT_STARTED }]);
        await expect(execIn(container, ["true"])).resolves.toEqual({ exitCode: 126, output: NOT_STARTED });
        expect(execs()).toBe(EXEC_ATTEMPTS);
    });

    it("runs a command that ran and failed once, even one that exits 126 itself", async () => {
        const { container, execs } = standInContainer([{ exitCode: 126, output: "sh: ./script: Permission denied\n" }]);
        await expect(execIn(container, ["sh", "-c", "./script"])).resolves.toEqual({
            exitCode: 126,
            output: "sh: ./script: Permission denied\n",
        });
        expect(execs()).toBe(1);
    });
});
