// Initial desktop passwords derived from one seed, per runner ID. A Swarm service
// (or a Kubernetes StatefulSet) hands every replica the same secret files, yet each
// runner should have passwords of its own, and scaling must not change the
// service's spec: so the seed is the one secret, and each runner derives its own
// RDP and VNC passwords from it and its runner ID. The stack derives the same
// ones for its `credentials` output. Used by the runner agent inside the image.
import { createHmac } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `length` letters and digits from HMAC-SHA256(seed, purpose:runnerId), repeated with a counter as needed. */
function derive(seed: string, purpose: string, runnerId: string, length: number): string {
    let out = "";
    for (let block = 0; out.length < length; block++) {
        const digest = createHmac("sha256", seed).update(`${purpose}:${runnerId}:${block}`).digest();
        // Bytes of 248 and above are skipped, so every character is equally likely (248 = 4 x 62).
        for (const byte of digest) if (byte < 248 && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
    return out;
}

/** The seed's length in characters, as the stack generates it. */
export const PASSWORD_SEED_LENGTH = 48;

/** A runner's initial RDP (24 characters) and VNC (8: VNC authentication reads no more) passwords. */
export function deriveDesktopPasswords(seed: string, runnerId: string): { rdpPassword: string; vncPassword: string } {
    return { rdpPassword: derive(seed, "rdp", runnerId, 24), vncPassword: derive(seed, "vnc", runnerId, 8) };
}
