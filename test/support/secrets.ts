// Secrets for tests, and a check that none of one can be read back from text.

/** A token with every character that changes form when JSON-escaped, URL-encoded or base64'd. */
export const NASTY_TOKEN = 'tok"en\\with%odd+chars/and=more';

/**
 * Runs of `secret` that can still be read from `text`: as text, URL-decoded, or from base64
 * (either alphabet) decoded at each of the four character alignments of each piece between
 * "[redacted]" marks. A run is the shortest stretch that carries RUN_BITS of the secret: six
 * characters, or nine where they are hex digits, because the text around a secret (container
 * and image IDs, digests) is full of hex, and six hex digits of a random token turn up in a
 * docker inspect now and then by chance alone.
 */
export function leakedRuns(text: string, secret: string): string[] {
    const runs = secretRuns(secret);
    const readings = [
        text,
        decodeURIComponent(text.replace(/%(?![0-9a-f]{2})/gi, "%25")),
        ...text
            .split("[redacted]")
            .flatMap((piece) =>
                [0, 1, 2, 3].map((skip) =>
                    Buffer.from(piece.slice(skip).replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("latin1"),
                ),
            ),
    ];
    return runs.filter((run) => readings.some((r) => r.includes(run)));
}

const RUN_BITS = 36;

/** Every run of `secret` carrying RUN_BITS (4 bits a hex digit, 6 any other), or the whole secret if it is shorter. */
function secretRuns(secret: string): string[] {
    const bits = (c: string) => (/[0-9a-f]/i.test(c) ? 4 : 6);
    const runs: string[] = [];
    for (let start = 0; start < secret.length; start++) {
        let end = start;
        let carried = 0;
        while (carried < RUN_BITS && end < secret.length) carried += bits(secret[end++]);
        if (carried >= RUN_BITS) runs.push(secret.slice(start, end));
    }
    return runs.length > 0 ? runs : [secret];
}
