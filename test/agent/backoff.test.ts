// The one backoff of the agent's links (the control plane's WebSocket and the reverse dial).
import { backoffMs } from "../../agent/backoff";
import { DEFAULT_TIMING } from "../../agent/controlLink";
import { DEFAULT_REVDIAL_TIMING } from "../../agent/revdial";

describe("backoffMs", () => {
    it("never waits longer than maxBackoffMs between dials, however many failed, so it is back within about 1 s of a return", () => {
        expect(DEFAULT_TIMING.maxBackoffMs).toBe(1000);
        const pauses = [0, 1, 2, 3, 4, 5, 10, 30, 1000].flatMap((failures) =>
            [0, 0.5, 1].map((random) => backoffMs(failures, DEFAULT_TIMING, random)),
        );
        expect(Math.max(...pauses)).toBe(1000);
        // Doubling from 100 ms, less up to a quarter of jitter.
        expect([0, 1, 2, 3, 4, 5].map((f) => backoffMs(f, DEFAULT_TIMING, 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
        expect(backoffMs(3, DEFAULT_TIMING, 0)).toBe(600);
    });

    it("bounds the reverse dial's redials the same way", () => {
        expect([0, 1, 2, 3, 4].map((f) => backoffMs(f, DEFAULT_REVDIAL_TIMING, 1))).toEqual([100, 200, 400, 800, 1000]);
    });
});
