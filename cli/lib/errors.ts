// The one error type operator commands recognise: a problem the operator can fix.
// Commands print its message and exit 1, without a stack trace.
import { printable } from "../../contract";

export class UserError extends Error {
    constructor(message: string) {
        // printable: a message may quote an argument or a file's text, which may hold terminal escapes.
        super(printable(message));
        this.name = "UserError";
    }
}
