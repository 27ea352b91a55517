// The agent's log: one line per event on stdout (Docker's log), at a level set
// by LOG_LEVEL, and never a secret. Every line passes through the Redactor,
// which knows each secret in the forms it could take on the way out: raw,
// JSON-escaped, URL-encoded (both ways), and base64 at any byte alignment.
import type { LogLevel } from "../contract";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MASK = "[redacted]";
/** Shorter fragments would redact ordinary text; secrets shorter than this are still masked whole. */
const MIN_FRAGMENT = 6;

/** Replaces every known secret, in every encoding, with "[redacted]". */
export class Redactor {
    private forms: string[] = [];
    private readonly secrets = new Set<string>();

    /** Adds a secret; empty values are ignored. */
    add(secret: string | undefined): void {
        if (!secret || this.secrets.has(secret)) return;
        this.secrets.add(secret);
        const forms = new Set<string>([secret, ...encodings(secret)]);
        // Longest first, so a form is never cut by a shorter one it contains.
        this.forms = [...new Set([...this.forms, ...forms])].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
    }

    redact(text: string): string {
        let out = text;
        for (const form of this.forms) if (out.includes(form)) out = out.split(form).join(MASK);
        return out;
    }
}

/** The forms a secret takes inside JSON, URLs and base64 payloads. */
function encodings(secret: string): string[] {
    const json = JSON.stringify(secret).slice(1, -1);
    const uri = encodeURIComponent(secret);
    const form = new URLSearchParams({ s: secret }).toString().slice(2);
    const forms = [json, uri, form, uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())];
    for (const text of [secret, json]) {
        const bytes = Buffer.from(text, "utf8");
        // A secret inside a larger payload lands at any of three byte offsets in the base64
        // stream; only the characters that depend on the secret's bytes alone are searched for.
        for (let offset = 0; offset < 3; offset++) {
            const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString("base64");
            const start = Math.ceil((offset * 8) / 6);
            const end = Math.floor(((offset + bytes.length) * 8) / 6);
            const core = encoded.slice(start, end);
            if (core.length >= MIN_FRAGMENT) {
                forms.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
            }
        }
    }
    return forms;
}

export interface Logger {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
    /** A logger whose lines start with `[scope]`. */
    child(scope: string): Logger;
    readonly redactor: Redactor;
}

/** Writes lines as `zed-runner: <level>: [scope] message`, redacted, filtered by level. */
export function createLogger(
    level: LogLevel,
    redactor: Redactor,
    write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    scope = "",
): Logger {
    const emit = (at: LogLevel, message: string) => {
        if (ORDER[at] < ORDER[level]) return;
        // One event, one line: a message's own newlines would forge further lines.
        const text = redactor.redact(message).replace(/\r?\n/g, "\\n");
        write(`zed-runner: ${at}: ${scope ? `[${scope}] ` : ""}${text}`);
    };
    return {
        debug: (m) => emit("debug", m),
        info: (m) => emit("info", m),
        warn: (m) => emit("warn", m),
        error: (m) => emit("error", m),
        child: (s) => createLogger(level, redactor, write, scope ? `${scope} ${s}` : s),
        redactor,
    };
}
