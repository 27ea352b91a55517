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
 * A value as a message may show it: a URL's credentials and its query or fragment masked, with
 * or without a scheme (`//host` too), long text cut, control characters escaped. The user-info
 * runs to the value's last '@' (a password may hold '@', '/', ':' or a space: masking to the
 * first one left the rest of it on show), and an image's `@sha256:` digest is no user-info.
 * A password goes (`user:***@`); a user-info without one goes whole (`***@`: a token pasted as
 * `https://<token>@host` is no user name), but for an ssh:// login, which is a user name.
 */
export function maskValue(text: string, maxChars = 80): string {
    // Index arithmetic only, no backtracking pattern: linear in the value (a pattern that retried
    // every letter of a long value as a scheme once took tens of minutes on 1 MB).
    const schemeEnd = text.indexOf("://");
    const scheme = schemeEnd > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(text.slice(0, schemeEnd)) ? text.slice(0, schemeEnd) : "";
    const authority = scheme ? schemeEnd + 3 : text.startsWith("//") ? 2 : 0;
    let masked = text;
    const at = userInfoEnd(text, authority);
    if (at >= 0) {
        const userInfo = text.slice(authority, at);
        const colon = userInfo.indexOf(":");
        const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
        // A user before a password shows only when plainly a name; an ssh:// login is shown as typed
        // (a message may be about the login itself), as long as it holds no space.
        const keepUser = colon >= 0 ? /^[A-Za-z0-9._~-]+$/.test(user) : scheme.toLowerCase() === "ssh" && /^\S+$/.test(user);
        const shownUserInfo = keepUser ? (colon >= 0 ? `${user}:***` : user) : "***";
        masked = `${text.slice(0, authority)}${shownUserInfo}${text.slice(at)}`;
    }
    // A query or fragment may hold a token anywhere in it, spaces and all: it goes to the end.
    const query = masked.slice(authority).search(/[?#]/);
    if (query >= 0) masked = `${masked.slice(0, authority + query + 1)}***`;
    const cut = masked.length > maxChars ? `${masked.slice(0, maxChars - 3)}...` : masked;
    return printable(cut.replace(/\n/g, "\\n").replace(/\t/g, "\\t"));
}

/** Where a value's user-info ends (its last '@' that does not start a digest), or -1 when it has none. */
function userInfoEnd(text: string, from: number): number {
    for (let at = text.lastIndexOf("@"); at >= from; at = at === 0 ? -1 : text.lastIndexOf("@", at - 1)) {
        if (!text.startsWith("sha256:", at + 1)) return at;
    }
    return -1;
}

/**
 * Text as a terminal may show it: every control character but line break and tab, C1 controls
 * (which JSON.stringify leaves raw, and a terminal takes as escape sequences) and the Unicode
 * bidirectional overrides (which reorder what is shown) as \uXXXX. Errors and warnings of the
 * program and the commands pass through it, so no value the user typed reaches the terminal raw.
 */
export function printable(text: string): string {
    return text.replace(
        /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}
