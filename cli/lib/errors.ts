// The one error type operator commands recognise: a problem the operator can fix.
// Commands print its message and exit 1, without a stack trace.

export class UserError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UserError";
    }
}
