// The pause before dialing again, for every link the agent keeps open: the
// control-plane WebSocket (controlLink.ts) and the reverse dial (revdial.ts).

/** The bounds of the backoff: the first pause, doubled per failure up to the longest. */
export interface BackoffBounds {
    readonly minBackoffMs: number;
    readonly maxBackoffMs: number;
}

/**
 * The pause before the next dial after `failures` failed ones: doubling from minBackoffMs, never
 * more than maxBackoffMs (so a runner is back within about that long of its control plane's
 * return), less up to a quarter of jitter so a fleet does not redial in step.
 */
export function backoffMs(failures: number, bounds: BackoffBounds, random = Math.random()): number {
    const delay = Math.min(bounds.maxBackoffMs, bounds.minBackoffMs * 2 ** Math.min(failures, 30));
    return Math.round(delay * (0.75 + random * 0.25));
}
