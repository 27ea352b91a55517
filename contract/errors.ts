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
