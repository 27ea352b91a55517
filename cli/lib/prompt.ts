// Asking the operator before a change, as `pulumi up` does: only on a terminal. The
// commands take a Prompt rather than reading process.stdin themselves, so tests drive it.
import * as readline from "node:readline";

export interface Prompt {
    /** Whether someone can answer: stdin and stdout are terminals. */
    readonly interactive: boolean;
    /** Asks a yes/no question; anything but y or yes is no. */
    confirm(question: string): Promise<boolean>;
}

/** The operator's terminal (or whatever `input` and `output` are), asked through readline. */
export function terminalPrompt(
    input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
    output: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): Prompt {
    return {
        interactive: input.isTTY === true && output.isTTY === true,
        confirm(question: string): Promise<boolean> {
            const rl = readline.createInterface({ input, output, terminal: false });
            return new Promise((resolve) => {
                let answered = false;
                rl.question(`${question} [y/N] `, (answer) => {
                    answered = true;
                    rl.close();
                    resolve(/^\s*(y|yes)\s*$/i.test(answer));
                });
                // End of input (Ctrl-D) is a no.
                rl.on("close", () => {
                    if (!answered) resolve(false);
                });
            });
        },
    };
}
