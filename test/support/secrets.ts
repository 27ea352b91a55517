// Secrets for tests, and a check that none of one can be read back from text.

/** A token with every character that changes form when JSON-escaped, URL-encoded or base64'd. */
export const NASTY_TOKEN = 'tok"en\\with%odd+chars/and=more';

/**
 * Six-character runs of `secret` that can still be read from `text`: as text, URL-decoded,
 * or from base64 (either alphabet) decoded at each of the four character alignments of
 * each piece between "[redacted]" marks.
 */
export function leakedRuns(text: string, secret: string): string[] {
    const runs = Array.from({ length: Math.max(0, secret.length - 5) }, (_, i) => secret.slice(i, i + 6));
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
