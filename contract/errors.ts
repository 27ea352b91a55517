// Turning an unknown thrown value into text, one way for the agent, the program and
// the commands alike: its message, never its stack and never an object dump (which
// could carry a request's headers, and with them a token).

/** An error's message, for logs, replies and messages to users; something readable for what is not an error. */
export function describeError(err: unknown): string {
    // Not instanceof: errors from another realm (a vm context, a test runner) are errors too.
    if (typeof err === "object" && err !== null && typeof (err as Error).message === "string")
        return (err as Error).message || (err as Error).name || "error";
    return String(err);
}

/**
 * A value as a message may show it: a URL's credentials and query masked, with or without a
 * scheme, long text cut. A password goes (`user:***@`); a user-info without one goes whole
 * (`***@`: a token pasted as `https://<token>@host` is no user name), but for an ssh:// login,
 * which is a user name. An image's `@sha256:` digest is no user-info.
 */
export function maskValue(text: string, maxChars = 80): string {
    // Every pattern starts at a literal ("://", "?", "#") or the start of the text, and stops at
    // the next '/', '@' or space, so each character is looked at a bounded number of times: linear
    // in the text. (The scheme before "://" is not matched, only looked behind at: a pattern that
    // started with the scheme's letters tried every letter of a long value as a scheme, which is
    // quadratic: a 1 MB value took tens of minutes to mask.)
    const masked = text
        .replace(/:\/\/([^/\s:@]*):[^/\s@]*@/g, "://$1:***@")
        .replace(/(?<!ssh):\/\/[^/\s:@*]+@/gi, "://***@")
        .replace(/^([^/\s:@]+):[^/\s@]*@/, "$1:***@")
        .replace(/^[^/\s:@]+@(?!sha256:)/, "***@")
        .replace(/([?#])[^\s"]*/g, "$1***");
    return masked.length > maxChars ? `${masked.slice(0, maxChars - 3)}...` : masked;
}
