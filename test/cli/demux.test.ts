// Docker's multiplexed stream (non-TTY logs and exec output), split by dockerode's demuxer.
import { Readable } from "node:stream";
import { demux } from "../../cli/engine";

/** One frame of Docker's stream: stream type (1 stdout, 2 stderr), three zero bytes, the length, the bytes. */
function frame(stream: 1 | 2, text: string): Buffer {
    const body = Buffer.from(text, "utf8");
    const header = Buffer.alloc(8);
    header.writeUInt8(stream, 0);
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
}

describe("demux", () => {
    it("joins stdout and stderr frames in the order they came, without their headers", async () => {
        const buffer = Buffer.concat([frame(1, "one\n"), frame(2, "two: ü\n"), frame(1, "three\n")]);
        await expect(demux(buffer)).resolves.toBe("one\ntwo: ü\nthree\n");
    });

    it("reads a stream whose frames are cut across chunks", async () => {
        const whole = Buffer.concat([frame(1, "a longer line of output\n"), frame(2, "and an error\n")]);
        const chunks = [whole.subarray(0, 5), whole.subarray(5, 20), whole.subarray(20)];
        await expect(demux(Readable.from(chunks))).resolves.toBe("a longer line of output\nand an error\n");
    });

    it("gives empty text for an empty stream", async () => {
        await expect(demux(Buffer.alloc(0))).resolves.toBe("");
    });
});
