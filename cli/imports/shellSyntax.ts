// The part of bash that Helix's install.sh writes into sandbox.sh, parsed for sandboxScript.ts:
// words split and unquoted as bash splits and unquotes them, with their expansions kept apart
// (a variable, a default, a command substitution, arithmetic), and the commands they form
// (lists, pipelines, if, case, for). It parses and never runs or evaluates anything. Constructs
// beyond install.sh's (loops it does not write, functions, subshells, groups, [[ ]], (( ))) are
// parsed as "other" commands so their contents are still seen; a heredoc, a here-string or a
// process substitution is recorded as a problem with its line, a heredoc's body skipped as bash
// skips it. What cannot be parsed at all (an unclosed quote, a stray `fi`) throws with its line.
// Pure, and linear in the text, its nesting bounded (sandboxScript.ts bounds the text's size).

/** Something the caller must refuse, with the 1-based line bash reads it on. */
export interface Problem {
    readonly line: number;
    readonly message: string;
}

/** A script that cannot be parsed; nothing of it can be read. */
export class ShellSyntaxError extends Error {
    constructor(
        readonly line: number,
        message: string,
    ) {
        super(message);
        this.name = "ShellSyntaxError";
    }
}

/**
 * A piece of a word. `quoted`: inside "double quotes" (or, for text, in any quotes or escaped),
 * which decides whether bash splits and globs it.
 */
export type Part =
    | { readonly kind: "text"; readonly value: string; readonly quoted: boolean }
    /** `$NAME` or `${NAME<op><arg>}`; op "" for a plain one, e.g. ":-", "=", "##"; "#len" for `${#NAME}`. */
    | {
          readonly kind: "param";
          readonly name: string;
          readonly subscript: string | undefined;
          readonly op: string;
          readonly arg: Word | undefined;
          readonly quoted: boolean;
          readonly raw: string;
      }
    /** `$?`, `$0`, `$1`, `$@`, ... */
    | { readonly kind: "special"; readonly name: string; readonly quoted: boolean; readonly raw: string }
    /** `$(...)` or a backquoted command, parsed. */
    | { readonly kind: "command"; readonly body: List; readonly quoted: boolean; readonly raw: string }
    /** `$((...))`, kept as written. */
    | { readonly kind: "arith"; readonly expression: string; readonly quoted: boolean; readonly raw: string }
    /** Something the caller refuses wherever it is: `$'...'`, `$"..."`, `${!NAME}`, `$[...]`. */
    | { readonly kind: "unsupported"; readonly what: string; readonly quoted: boolean; readonly raw: string };

export interface Word {
    readonly parts: readonly Part[];
    /** As written in the script. */
    readonly raw: string;
    readonly line: number;
}

/** `NAME=value` or `NAME+=value` before a command (or alone). */
export interface Assignment {
    readonly name: string;
    readonly append: boolean;
    /** `NAME[...]=`: an array element. */
    readonly subscript: boolean;
    readonly value: Word;
    readonly line: number;
}

interface Redirect {
    readonly op: string;
    readonly target: Word;
    readonly line: number;
}

export interface SimpleCommand {
    readonly kind: "simple";
    readonly line: number;
    readonly assignments: readonly Assignment[];
    readonly words: readonly Word[];
    readonly redirects: readonly Redirect[];
}

interface IfCommand {
    readonly kind: "if";
    readonly line: number;
    readonly clauses: readonly { readonly condition: List; readonly body: List }[];
    readonly elseBody: List | undefined;
    readonly redirects: readonly Redirect[];
}

interface CaseCommand {
    readonly kind: "case";
    readonly line: number;
    readonly word: Word;
    readonly items: readonly { readonly patterns: readonly Word[]; readonly body: List; readonly line: number }[];
    readonly redirects: readonly Redirect[];
}

interface ForCommand {
    readonly kind: "for";
    readonly line: number;
    readonly name: string;
    readonly words: readonly Word[];
    readonly body: List;
    readonly redirects: readonly Redirect[];
}

/** A construct install.sh does not write, parsed so that what is inside it is still seen. */
interface OtherCommand {
    readonly kind: "other";
    readonly line: number;
    /** What it is, for a message: "a `while` loop", "a function definition (docker)". */
    readonly what: string;
    /** The function's name, for a function definition. */
    readonly functionName?: string;
    readonly lists: readonly List[];
    readonly words: readonly Word[];
    readonly redirects: readonly Redirect[];
}

export type Command = SimpleCommand | IfCommand | CaseCommand | ForCommand | OtherCommand;

interface Pipeline {
    readonly negated: boolean;
    readonly commands: readonly Command[];
    readonly line: number;
}

/** Pipelines joined by && and ||; `background` when it ends in `&`. */
export interface AndOr {
    readonly pipelines: readonly Pipeline[];
    readonly background: boolean;
    readonly line: number;
}

export type List = readonly AndOr[];

/** The script as a list of commands, and what it holds that the caller must refuse. */
export function parseShell(text: string): { list: List; problems: Problem[] } {
    const problems: Problem[] = [];
    const reader = new Reader(text, 1, problems, 0);
    const list = reader.parseList(new Set(), new Set());
    const end = reader.peek();
    if (end.kind !== "eof") throw reader.unexpected(end);
    return { list, problems };
}

/** Every word's text, its expansions as written: what a message may show of a value. */
export function display(word: Word): string {
    return word.parts.map((p) => (p.kind === "text" ? p.value : p.raw)).join("");
}

/** The word's value when it holds no expansion at all (quotes removed), else undefined. */
export function literal(word: Word): string | undefined {
    return word.parts.every((p) => p.kind === "text") ? word.parts.map((p) => (p.kind === "text" ? p.value : "")).join("") : undefined;
}

type Token = { kind: "word"; word: Word } | { kind: "op"; op: string; line: number } | { kind: "eof"; line: number };

const RESERVED = new Set([
    "if",
    "then",
    "elif",
    "else",
    "fi",
    "case",
    "esac",
    "for",
    "select",
    "while",
    "until",
    "do",
    "done",
    "in",
    "function",
    "coproc",
    "{",
    "}",
    "!",
    "[[",
    "]]",
]);
const REDIRECTS = new Set(["<<<", "<<-", "<<", "<>", "<&", "<", ">>", ">&", ">|", ">", "&>>", "&>"]);
/** Characters that end an unquoted word. */
const METACHARACTERS = new Set([" ", "\t", "\n", ";", "&", "|", "(", ")", "<", ">"]);
/** Deeper nesting than this is no script install.sh writes; refusing it keeps the parser's stack small. */
const MAX_DEPTH = 64;
const PARAM_OPS = [":-", ":=", ":?", ":+", "-", "=", "?", "+", "##", "#", "%%", "%", "//", "/#", "/%", "/", "^^", "^", ",,", ",", "@", ":"];

class Reader {
    pos = 0;
    line: number;
    private peeked: Token | undefined;
    private heredocs: { delimiter: string; stripTabs: boolean }[] = [];

    constructor(
        private readonly text: string,
        line: number,
        private readonly problems: Problem[],
        private depth: number,
    ) {
        this.line = line;
    }

    // ---- commands ----

    /** Commands up to (not taking) one of `endOps`, a reserved word in `endWords`, or the end. */
    parseList(endOps: ReadonlySet<string>, endWords: ReadonlySet<string>): List {
        const items: AndOr[] = [];
        for (;;) {
            this.skipNewlines();
            const tok = this.peek();
            if (tok.kind === "eof") return items;
            if (tok.kind === "op" && endOps.has(tok.op)) return items;
            const word = reservedWord(tok);
            if (word !== undefined && endWords.has(word)) return items;
            const andOr = this.parseAndOr();
            const sep = this.peek();
            if (sep.kind === "op" && (sep.op === ";" || sep.op === "&")) {
                this.take();
                items.push(sep.op === "&" ? { ...andOr, background: true } : andOr);
                continue;
            }
            items.push(andOr);
            if (sep.kind === "eof" || (sep.kind === "op" && (sep.op === "\n" || endOps.has(sep.op)))) continue;
            const sepWord = reservedWord(sep);
            if (sepWord !== undefined && endWords.has(sepWord)) continue;
            throw this.unexpected(sep);
        }
    }

    private parseAndOr(): AndOr {
        const line = this.tokenLine(this.peek());
        const pipelines = [this.parsePipeline()];
        for (;;) {
            const tok = this.peek();
            if (tok.kind !== "op" || (tok.op !== "&&" && tok.op !== "||")) break;
            this.take();
            this.skipNewlines();
            pipelines.push(this.parsePipeline());
        }
        return { pipelines, background: false, line };
    }

    private parsePipeline(): Pipeline {
        const line = this.tokenLine(this.peek());
        let negated = false;
        if (reservedWord(this.peek()) === "!") {
            this.take();
            negated = true;
        }
        const commands = [this.parseCommand()];
        for (;;) {
            const tok = this.peek();
            if (tok.kind !== "op" || (tok.op !== "|" && tok.op !== "|&")) break;
            this.take();
            this.skipNewlines();
            commands.push(this.parseCommand());
        }
        return { negated, commands, line };
    }

    private parseCommand(): Command {
        if (++this.depth > MAX_DEPTH) throw new ShellSyntaxError(this.line, `it nests deeper than import-env reads (${MAX_DEPTH} levels)`);
        try {
            const tok = this.peek();
            const line = this.tokenLine(tok);
            switch (reservedWord(tok)) {
                case "if":
                    return this.withRedirects(this.parseIf(line));
                case "case":
                    return this.withRedirects(this.parseCase(line));
                case "for":
                    return this.withRedirects(this.parseFor(line));
                case "while":
                case "until":
                case "select": {
                    const what = `a \`${reservedWord(tok)}\` loop`;
                    this.take();
                    const head = reservedWord(tok) === "select" ? this.wordsUntilDo() : [];
                    const condition = head.length > 0 ? [] : this.parseList(new Set(), new Set(["do"]));
                    this.expect("do", line);
                    const body = this.parseList(new Set(), new Set(["done"]));
                    this.expect("done", line);
                    return this.withRedirects({ kind: "other", line, what, lists: [condition, body], words: head, redirects: [] });
                }
                case "{": {
                    this.take();
                    const body = this.parseList(new Set(), new Set(["}"]));
                    this.expect("}", line);
                    return this.withRedirects({ kind: "other", line, what: "a { ... } group", lists: [body], words: [], redirects: [] });
                }
                case "[[": {
                    this.take();
                    const words: Word[] = [];
                    for (;;) {
                        const t = this.take();
                        if (t.kind === "eof") throw new ShellSyntaxError(line, "a [[ test never closes with ]]");
                        if (reservedWord(t) === "]]") break;
                        if (t.kind === "word") words.push(t.word);
                    }
                    return this.withRedirects({ kind: "other", line, what: "a [[ ... ]] test", lists: [], words, redirects: [] });
                }
                case "function":
                case "coproc": {
                    this.take();
                    const name = this.take();
                    const functionName = name.kind === "word" ? literal(name.word) : undefined;
                    if (reservedWord(tok) === "function" && this.peekOp("(")) {
                        this.take();
                        this.expectOp(")", line);
                    }
                    this.skipNewlines();
                    const body = this.parseCommand();
                    return {
                        kind: "other",
                        line,
                        what: reservedWord(tok) === "function" ? `a function definition (${functionName ?? "?"})` : "a coprocess",
                        functionName,
                        lists: [[{ pipelines: [{ negated: false, commands: [body], line }], background: false, line }]],
                        words: [],
                        redirects: [],
                    };
                }
                case undefined:
                    break;
                default:
                    throw this.unexpected(tok);
            }
            if (tok.kind === "op" && tok.op === "(") {
                // `((` right after `(`: an arithmetic command, not a subshell in a subshell.
                if (this.text[this.pos] === "(") return this.withRedirects(this.arithmeticCommand(line));
                this.take();
                const body = this.parseList(new Set([")"]), new Set());
                this.expectOp(")", line);
                return this.withRedirects({ kind: "other", line, what: "a subshell ( ... )", lists: [body], words: [], redirects: [] });
            }
            return this.parseSimple(line);
        } finally {
            this.depth--;
        }
    }

    private parseSimple(line: number): Command {
        const assignments: Assignment[] = [];
        const words: Word[] = [];
        const redirects: Redirect[] = [];
        for (;;) {
            const tok = this.peek();
            if (tok.kind === "op" && REDIRECTS.has(tok.op)) {
                redirects.push(this.parseRedirect());
                continue;
            }
            if (tok.kind === "op" && (tok.op === "<(" || tok.op === ">(")) {
                words.push(this.processSubstitution(tok.op));
                continue;
            }
            if (tok.kind !== "word") break;
            this.take();
            const assignment = words.length === 0 ? asAssignment(tok.word) : undefined;
            if (assignment) {
                assignments.push(assignment);
                // `NAME=(...)` straight after the `=`: an array.
                if (assignment.value.raw === "" && this.text[this.pos] === "(") this.arrayAssignment(assignment);
                continue;
            }
            words.push(tok.word);
            if (words.length === 1 && assignments.length === 0 && redirects.length === 0 && this.peekOp("(")) {
                // `name () { ...; }`: a function definition.
                this.take();
                this.expectOp(")", line);
                this.skipNewlines();
                const body = this.parseCommand();
                const functionName = literal(tok.word);
                return {
                    kind: "other",
                    line,
                    what: `a function definition (${functionName ?? tok.word.raw})`,
                    functionName,
                    lists: [[{ pipelines: [{ negated: false, commands: [body], line }], background: false, line }]],
                    words: [],
                    redirects: [],
                };
            }
        }
        if (assignments.length === 0 && words.length === 0 && redirects.length === 0) throw this.unexpected(this.peek());
        return { kind: "simple", line, assignments, words, redirects };
    }

    private parseIf(line: number): IfCommand {
        this.take();
        const clauses: { condition: List; body: List }[] = [];
        let elseBody: List | undefined;
        for (;;) {
            const condition = this.parseList(new Set(), new Set(["then"]));
            this.expect("then", line);
            const body = this.parseList(new Set(), new Set(["elif", "else", "fi"]));
            clauses.push({ condition, body });
            const next = reservedWord(this.peek());
            this.take();
            if (next === "elif") continue;
            if (next === "else") {
                elseBody = this.parseList(new Set(), new Set(["fi"]));
                this.expect("fi", line);
            } else if (next !== "fi") throw new ShellSyntaxError(line, "an `if` never closes with `fi`");
            return { kind: "if", line, clauses, elseBody, redirects: [] };
        }
    }

    private parseCase(line: number): CaseCommand {
        this.take();
        const subject = this.take();
        if (subject.kind !== "word") throw this.unexpected(subject);
        this.skipNewlines();
        this.expect("in", line);
        const items: { patterns: Word[]; body: List; line: number }[] = [];
        for (;;) {
            this.skipNewlines();
            if (reservedWord(this.peek()) === "esac") {
                this.take();
                return { kind: "case", line, word: subject.word, items, redirects: [] };
            }
            if (this.peekOp("(")) this.take();
            const itemLine = this.tokenLine(this.peek());
            const patterns: Word[] = [];
            for (;;) {
                const pattern = this.take();
                if (pattern.kind !== "word") throw this.unexpected(pattern);
                patterns.push(pattern.word);
                if (!this.peekOp("|")) break;
                this.take();
            }
            this.expectOp(")", line);
            const body = this.parseList(new Set([";;", ";&", ";;&"]), new Set(["esac"]));
            items.push({ patterns, body, line: itemLine });
            const end = this.peek();
            if (end.kind === "op" && (end.op === ";&" || end.op === ";;&"))
                this.problems.push({
                    line: end.line,
                    message: `a case item that falls through (${end.op}), which install.sh does not write`,
                });
            if (end.kind === "op") this.take();
            else if (end.kind === "eof") throw new ShellSyntaxError(line, "a `case` never closes with `esac`");
        }
    }

    private parseFor(line: number): ForCommand | OtherCommand {
        this.take();
        if (this.peekOp("(")) {
            if (this.text[this.pos] !== "(") throw this.unexpected(this.peek());
            const arithmetic = this.arithmeticCommand(line);
            this.skipSeparator();
            this.expect("do", line);
            const body = this.parseList(new Set(), new Set(["done"]));
            this.expect("done", line);
            return { ...arithmetic, what: "a C-style `for ((...))` loop", lists: [body] };
        }
        const nameToken = this.take();
        const name = nameToken.kind === "word" ? literal(nameToken.word) : undefined;
        if (name === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw this.unexpected(nameToken);
        this.skipNewlines();
        let words: Word[] = [];
        if (reservedWord(this.peek()) === "in") {
            this.take();
            words = this.wordsUntilDo();
        } else this.skipSeparator();
        this.expect("do", line);
        const body = this.parseList(new Set(), new Set(["done"]));
        this.expect("done", line);
        return { kind: "for", line, name, words, body, redirects: [] };
    }

    /** `for`'s and `select`'s word list, up to its `;` or line end, and the `do` after. */
    private wordsUntilDo(): Word[] {
        const words: Word[] = [];
        for (;;) {
            const tok = this.peek();
            if (tok.kind !== "word" || reservedWord(tok) === "do") break;
            this.take();
            words.push(tok.word);
        }
        this.skipSeparator();
        return words;
    }

    private skipSeparator(): void {
        if (this.peekOp(";")) this.take();
        this.skipNewlines();
    }

    /** `((...))` from its first `(`, still peeked, to the matching `))`. */
    private arithmeticCommand(line: number): OtherCommand {
        this.peeked = undefined;
        const start = this.pos - 1;
        const end = matchingParens(this.text, this.pos + 1);
        if (end < 0) throw new ShellSyntaxError(line, "an arithmetic command (( never closes");
        const expression = this.text.slice(this.pos + 1, end);
        this.advanceTo(end + 2);
        const raw = this.text.slice(start, this.pos);
        const word: Word = { parts: [{ kind: "arith", expression, quoted: false, raw }], raw, line };
        return { kind: "other", line, what: "an arithmetic command ((...))", lists: [], words: [word], redirects: [] };
    }

    private withRedirects<C extends Command>(command: C): C {
        const redirects: Redirect[] = [];
        for (;;) {
            const tok = this.peek();
            if (tok.kind !== "op" || !REDIRECTS.has(tok.op)) break;
            redirects.push(this.parseRedirect());
        }
        return redirects.length === 0 ? command : { ...command, redirects };
    }

    private parseRedirect(): Redirect {
        const op = this.take() as { kind: "op"; op: string; line: number };
        const target = this.take();
        if (target.kind !== "word") throw this.unexpected(target);
        if (op.op === "<<" || op.op === "<<-") {
            this.problems.push({
                line: op.line,
                message: `a heredoc (${op.op}${target.word.raw}), which import-env does not read: install.sh writes none into sandbox.sh`,
            });
            // Its body is text, not script: skipped at the end of this line, up to its delimiter.
            this.heredocs.push({ delimiter: unquoted(target.word), stripTabs: op.op === "<<-" });
        } else if (op.op === "<<<") {
            this.problems.push({
                line: op.line,
                message: "a here-string (<<<), which import-env does not read: install.sh writes none into sandbox.sh",
            });
        }
        return { op: op.op, target: target.word, line: op.line };
    }

    private processSubstitution(op: string): Word {
        const start = this.pos - 2;
        const line = this.line;
        this.take();
        this.problems.push({ line, message: `a process substitution (${op}...)), which import-env does not read` });
        const body = this.parseList(new Set([")"]), new Set());
        this.expectOp(")", line);
        const raw = this.text.slice(start, this.pos);
        return { parts: [{ kind: "command", body, quoted: false, raw }], raw, line };
    }

    private arrayAssignment(assignment: Assignment): void {
        this.problems.push({
            line: assignment.line,
            message: `${assignment.name}=( ... ) is an array, which install.sh does not write into sandbox.sh`,
        });
        this.take();
        for (;;) {
            this.skipNewlines();
            const tok = this.take();
            if (tok.kind === "eof") throw new ShellSyntaxError(assignment.line, `the array ${assignment.name}=( never closes`);
            if (tok.kind === "op" && tok.op === ")") return;
        }
    }

    // ---- tokens ----

    peek(): Token {
        if (this.peeked === undefined) this.peeked = this.lex();
        return this.peeked;
    }

    private take(): Token {
        const tok = this.peek();
        this.peeked = undefined;
        return tok;
    }

    private peekOp(op: string): boolean {
        const tok = this.peek();
        return tok.kind === "op" && tok.op === op;
    }

    private skipNewlines(): void {
        while (this.peekOp("\n")) this.take();
    }

    private expect(word: string, openedOn: number): void {
        const tok = this.peek();
        if (reservedWord(tok) !== word) {
            if (tok.kind === "eof") throw new ShellSyntaxError(openedOn, `what opens on line ${openedOn} never reaches its \`${word}\``);
            throw this.unexpected(tok, `\`${word}\``);
        }
        this.take();
    }

    private expectOp(op: string, openedOn: number): void {
        const tok = this.peek();
        if (tok.kind !== "op" || tok.op !== op) {
            if (tok.kind === "eof") throw new ShellSyntaxError(openedOn, `what opens on line ${openedOn} never reaches its \`${op}\``);
            throw this.unexpected(tok, `\`${op}\``);
        }
        this.take();
    }

    unexpected(tok: Token, expected?: string): ShellSyntaxError {
        const what =
            tok.kind === "eof"
                ? "the end of the file"
                : tok.kind === "op"
                  ? tok.op === "\n"
                      ? "a line end"
                      : `\`${tok.op}\``
                  : // Only a reserved word is shown: any other word may be a value (a token) in the wrong place.
                    reservedWord(tok) !== undefined
                    ? `\`${reservedWord(tok)}\``
                    : "a word";
        return new ShellSyntaxError(this.tokenLine(tok), `${what} where ${expected ?? "a command"} belongs, which import-env cannot read`);
    }

    private tokenLine(tok: Token): number {
        return tok.kind === "word" ? tok.word.line : tok.line;
    }

    private lex(): Token {
        this.skipBlanks();
        const { text } = this;
        const line = this.line;
        if (this.pos >= text.length) return { kind: "eof", line };
        const c = text[this.pos];
        if (c === "\n") {
            this.advanceTo(this.pos + 1);
            this.skipHeredocBodies();
            return { kind: "op", op: "\n", line };
        }
        // A file descriptor before a redirection: `2>&1`, `2>/dev/null`.
        let start = this.pos;
        while (start < text.length && text[start] >= "0" && text[start] <= "9") start++;
        const fd = start > this.pos && (text[start] === "<" || text[start] === ">");
        const at = fd ? start : this.pos;
        const op = operatorAt(text, at);
        if (op !== undefined && (!fd || REDIRECTS.has(op))) {
            this.advanceTo(at + op.length);
            return { kind: "op", op, line };
        }
        return { kind: "word", word: this.readWord() };
    }

    /** Blanks, line continuations and a comment (which runs to the line end). */
    private skipBlanks(): void {
        const { text } = this;
        for (;;) {
            const c = text[this.pos];
            if (c === " " || c === "\t") this.pos++;
            else if (c === "\\" && text[this.pos + 1] === "\n") this.advanceTo(this.pos + 2);
            else if (c === "#") {
                const end = text.indexOf("\n", this.pos);
                this.pos = end < 0 ? text.length : end;
            } else return;
        }
    }

    private skipHeredocBodies(): void {
        for (const { delimiter, stripTabs } of this.heredocs.splice(0)) {
            while (this.pos < this.text.length) {
                const end = this.text.indexOf("\n", this.pos);
                const lineEnd = end < 0 ? this.text.length : end;
                const body = this.text.slice(this.pos, lineEnd);
                this.advanceTo(end < 0 ? lineEnd : lineEnd + 1);
                if ((stripTabs ? body.replace(/^\t+/, "") : body) === delimiter) break;
            }
        }
    }

    private advanceTo(to: number): void {
        for (let i = this.pos; i < to; i++) if (this.text.charCodeAt(i) === 10) this.line++;
        this.pos = to;
    }

    // ---- words ----

    /** An unquoted word, up to a blank or an operator outside quotes. */
    private readWord(): Word {
        return this.readWordUntil((c) => METACHARACTERS.has(c));
    }

    /**
     * Word text up to the first character `ends` (outside quotes and expansions), with its quoting
     * and expansions read as parts: an ordinary word, or a `${NAME<op>...}` argument.
     */
    private readWordUntil(ends: (c: string) => boolean): Word {
        const { text } = this;
        const start = this.pos;
        const line = this.line;
        const parts: Part[] = [];
        let chunk = this.pos;
        const flush = () => {
            if (this.pos > chunk) pushText(parts, text.slice(chunk, this.pos), false);
        };
        while (this.pos < text.length && !ends(text[this.pos])) {
            const c = text[this.pos];
            if (c === "\\" || c === "'" || c === '"' || c === "$" || c === "`") {
                flush();
                this.readQuotingOrExpansion(parts);
                chunk = this.pos;
            } else this.advanceTo(this.pos + 1);
        }
        flush();
        return { parts, raw: text.slice(start, this.pos), line };
    }

    /** At a backslash, quote, `$` or backquote outside double quotes (in a word, or in a `${...}` default). */
    private readQuotingOrExpansion(parts: Part[]): void {
        const { text } = this;
        const c = text[this.pos];
        if (c === "\\") {
            if (text[this.pos + 1] === "\n") this.advanceTo(this.pos + 2);
            else if (this.pos + 1 >= text.length) {
                pushText(parts, "\\", false);
                this.pos++;
            } else {
                pushText(parts, text[this.pos + 1], true);
                this.advanceTo(this.pos + 2);
            }
        } else if (c === "'") {
            const close = text.indexOf("'", this.pos + 1);
            if (close < 0)
                throw new ShellSyntaxError(
                    this.line,
                    "a ' quote opens here and never closes: bash would read the rest of the file into it",
                );
            pushText(parts, text.slice(this.pos + 1, close), true);
            this.advanceTo(close + 1);
        } else if (c === '"') this.readDoubleQuoted(parts);
        else if (c === "$") this.readDollar(parts, false);
        else this.readBackquoted(parts, false);
    }

    private readDoubleQuoted(parts: Part[]): void {
        const { text } = this;
        const line = this.line;
        this.pos++;
        let chunk = this.pos;
        let any = false;
        const flush = () => {
            if (this.pos > chunk) {
                pushText(parts, text.slice(chunk, this.pos), true);
                any = true;
            }
        };
        for (;;) {
            if (this.pos >= text.length)
                throw new ShellSyntaxError(line, 'a " quote opens here and never closes: bash would read the rest of the file into it');
            const c = text[this.pos];
            if (c === '"') {
                flush();
                this.pos++;
                break;
            }
            if (c === "\\" && '\\"$`\n'.includes(text[this.pos + 1] ?? "")) {
                flush();
                if (text[this.pos + 1] !== "\n") pushText(parts, text[this.pos + 1], true);
                this.advanceTo(this.pos + 2);
                chunk = this.pos;
                any = true;
            } else if (c === "$" || c === "`") {
                flush();
                if (c === "$") this.readDollar(parts, true);
                else this.readBackquoted(parts, true);
                chunk = this.pos;
                any = true;
            } else this.advanceTo(this.pos + 1);
        }
        // "" is a word of its own: an empty value, not nothing.
        if (!any) pushText(parts, "", true);
    }

    private readDollar(parts: Part[], quoted: boolean): void {
        const { text } = this;
        const start = this.pos;
        const line = this.line;
        const next = text[this.pos + 1] ?? "";
        if (next === "(") {
            if (text[this.pos + 2] === "(") {
                const end = matchingParens(text, this.pos + 3);
                if (end >= 0) {
                    const expression = text.slice(this.pos + 3, end);
                    this.advanceTo(end + 2);
                    const raw = text.slice(start, this.pos);
                    parts.push(
                        /[`]|\$\(/.test(expression)
                            ? { kind: "unsupported", what: "a command substitution inside arithmetic", quoted, raw }
                            : { kind: "arith", expression, quoted, raw },
                    );
                    return;
                }
            }
            this.nest(line);
            this.peeked = undefined;
            this.advanceTo(this.pos + 2);
            const body = this.parseList(new Set([")"]), new Set());
            this.expectOp(")", line);
            this.depth--;
            parts.push({ kind: "command", body, quoted, raw: text.slice(start, this.pos) });
        } else if (next === "{") this.readBraceParam(parts, quoted);
        else if (next === "'" && !quoted) {
            let i = this.pos + 2;
            while (i < text.length && text[i] !== "'") i += text[i] === "\\" ? 2 : 1;
            if (i >= text.length) throw new ShellSyntaxError(line, "a $' quote opens here and never closes");
            this.advanceTo(i + 1);
            parts.push({ kind: "unsupported", what: "an ANSI-C $'...' string", quoted, raw: text.slice(start, this.pos) });
        } else if (next === '"' && !quoted) {
            this.pos++;
            this.readDoubleQuoted([]);
            parts.push({ kind: "unsupported", what: 'a $"..." translated string', quoted, raw: text.slice(start, this.pos) });
        } else if (next === "[") {
            const close = text.indexOf("]", this.pos);
            if (close < 0) throw new ShellSyntaxError(line, "a $[ never closes");
            this.advanceTo(close + 1);
            parts.push({ kind: "unsupported", what: "a $[...] arithmetic", quoted, raw: text.slice(start, this.pos) });
        } else if (/[A-Za-z_]/.test(next)) {
            let i = this.pos + 2;
            while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
            this.pos = i;
            const raw = text.slice(start, i);
            parts.push({ kind: "param", name: raw.slice(1), subscript: undefined, op: "", arg: undefined, quoted, raw });
        } else if (/[0-9?#@*$!-]/.test(next)) {
            this.pos += 2;
            parts.push({ kind: "special", name: next, quoted, raw: text.slice(start, this.pos) });
        } else {
            // A `$` before anything else is a `$`.
            pushText(parts, "$", quoted);
            this.pos++;
        }
    }

    private readBraceParam(parts: Part[], quoted: boolean): void {
        const { text } = this;
        const start = this.pos;
        const line = this.line;
        this.nest(line);
        this.pos += 2;
        let prefix = "";
        if ((text[this.pos] === "#" || text[this.pos] === "!") && text[this.pos + 1] !== "}") prefix = text[this.pos++];
        let name = "";
        const nameMatch = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])/.exec(text.slice(this.pos, this.pos + 256));
        if (nameMatch) {
            name = nameMatch[0];
            this.pos += name.length;
        }
        let subscript: string | undefined;
        if (text[this.pos] === "[") {
            const close = text.indexOf("]", this.pos);
            if (close < 0) throw new ShellSyntaxError(line, "a ${...[ never closes");
            subscript = text.slice(this.pos + 1, close);
            this.advanceTo(close + 1);
        }
        let op = "";
        let arg: Word | undefined;
        if (text[this.pos] !== "}") {
            op = PARAM_OPS.find((o) => text.startsWith(o, this.pos)) ?? "";
            if (op === "" || name === "") {
                // Not a form import-env reads: find its end, to go on.
                arg = this.readParamArg();
                this.expectBrace(line);
                this.depth--;
                parts.push({
                    kind: "unsupported",
                    what: "a ${...} expansion of a form import-env does not read",
                    quoted,
                    raw: text.slice(start, this.pos),
                });
                return;
            }
            this.pos += op.length;
            arg = this.readParamArg();
        }
        this.expectBrace(line);
        this.depth--;
        const raw = text.slice(start, this.pos);
        if (prefix === "!" || name === "" || (prefix === "#" && op !== ""))
            parts.push({
                kind: "unsupported",
                what: `${raw.length > 40 ? "a ${...} expansion" : raw}, an expansion import-env does not read`,
                quoted,
                raw,
            });
        else if (/^[0-9@*#?$!-]/.test(name) && prefix === "") parts.push({ kind: "special", name, quoted, raw });
        else parts.push({ kind: "param", name, subscript, op: prefix === "#" ? "#len" : op, arg, quoted, raw });
    }

    /** A `${NAME<op>...}` argument, up to its closing `}`: a word in which blanks are text. */
    private readParamArg(): Word {
        return this.readWordUntil((c) => c === "}");
    }

    private expectBrace(line: number): void {
        if (this.text[this.pos] !== "}") throw new ShellSyntaxError(line, "a ${ opens here and never closes with }");
        this.pos++;
    }

    private readBackquoted(parts: Part[], quoted: boolean): void {
        const { text } = this;
        const start = this.pos;
        const line = this.line;
        let content = "";
        let i = this.pos + 1;
        for (;;) {
            if (i >= text.length) throw new ShellSyntaxError(line, "a ` quote opens here and never closes");
            const c = text[i];
            if (c === "`") break;
            if (c === "\\" && "`\\$".includes(text[i + 1] ?? "")) {
                content += text[i + 1];
                i += 2;
            } else {
                content += c;
                i++;
            }
        }
        this.advanceTo(i + 1);
        this.nest(line);
        const inner = new Reader(content, line, this.problems, this.depth);
        const body = inner.parseList(new Set(), new Set());
        const end = inner.peek();
        if (end.kind !== "eof") throw inner.unexpected(end);
        this.depth--;
        parts.push({ kind: "command", body, quoted, raw: text.slice(start, this.pos) });
    }

    private nest(line: number): void {
        if (++this.depth > MAX_DEPTH) throw new ShellSyntaxError(line, `it nests deeper than import-env reads (${MAX_DEPTH} levels)`);
    }
}

/** The operators by their first character, longest first. */
const OPERATORS: Readonly<Record<string, readonly string[]>> = {
    ";": [";;&", ";;", ";&", ";"],
    "&": ["&>>", "&>", "&&", "&"],
    "|": ["||", "|&", "|"],
    "<": ["<<<", "<<-", "<<", "<>", "<&", "<(", "<"],
    ">": [">>", ">&", ">|", ">(", ">"],
    "(": ["("],
    ")": [")"],
};

/** The operator at `at`, longest first, or undefined for a word. */
function operatorAt(text: string, at: number): string | undefined {
    return OPERATORS[text[at]]?.find((op) => text.startsWith(op, at));
}

/** Index of the `))` that closes arithmetic whose text starts at `from`, or -1. */
function matchingParens(text: string, from: number): number {
    let depth = 0;
    for (let i = from; i < text.length; i++) {
        const c = text[i];
        if (c === "(") depth++;
        else if (c === ")") {
            if (depth > 0) depth--;
            else return text[i + 1] === ")" ? i : -1;
        }
    }
    return -1;
}

function pushText(parts: Part[], value: string, quoted: boolean): void {
    const last = parts[parts.length - 1];
    if (last?.kind === "text" && last.quoted === quoted) parts[parts.length - 1] = { kind: "text", value: last.value + value, quoted };
    else parts.push({ kind: "text", value, quoted });
}

function reservedWord(tok: Token): string | undefined {
    if (tok.kind !== "word") return undefined;
    const [only, ...rest] = tok.word.parts;
    return rest.length === 0 && only?.kind === "text" && !only.quoted && RESERVED.has(only.value) ? only.value : undefined;
}

/** A heredoc's delimiter as bash compares it: its quotes removed. */
function unquoted(word: Word): string {
    return display(word);
}

/** `NAME=...`, `NAME+=...` or `NAME[...]=...` at the start of a word, unquoted, as bash takes an assignment. */
export function asAssignment(word: Word): Assignment | undefined {
    const first = word.parts[0];
    if (first?.kind !== "text" || first.quoted) return undefined;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?(\+?)=/.exec(first.value);
    if (!m) return undefined;
    const rest = first.value.slice(m[0].length);
    const parts: Part[] = [...(rest === "" ? [] : [{ kind: "text" as const, value: rest, quoted: false }]), ...word.parts.slice(1)];
    const rawAt = word.raw.indexOf("=") + 1;
    return {
        name: m[1],
        append: m[3] === "+",
        subscript: m[2] !== undefined,
        value: { parts, raw: word.raw.slice(rawAt), line: word.line },
        line: word.line,
    };
}
