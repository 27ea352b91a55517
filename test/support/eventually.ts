// The one polling helper of the tests and the bench.

/**
 * Polls `probe` every `stepMs` until it returns a value (anything but undefined or false)
 * and resolves with it, or rejects after `timeoutMs` naming `what` and the probe's last error.
 * A probe that throws counts as "not yet".
 */
export async function eventually<T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    timeoutMs = 5000,
    stepMs = 50,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined && value !== false) return value;
        } catch (err) {
            lastError = err;
        }
        if (Date.now() > deadline)
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
        await new Promise((r) => setTimeout(r, stepMs));
    }
}
