// Reads the project's Markdown the way the docs tests need it: files, level-2 sections,
// table rows keyed by a code-spanned first cell, and relative links. Pure apart from reading files.
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");

/** Every Markdown file the docs tests check, relative to the project root. */
export function docFiles(): string[] {
    const docs = fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`);
    return ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "policy/README.md", ...docs.sort()];
}

export function readDoc(file: string): string {
    return fs.readFileSync(path.join(ROOT, file), "utf8");
}

/** Text outside fenced code blocks, line for line (fenced lines become empty), so code samples are not read as Markdown. */
function withoutFences(text: string): string {
    let inFence = false;
    return text
        .split("\n")
        .map((line) => {
            if (/^\s*```/.test(line)) {
                inFence = !inFence;
                return "";
            }
            return inFence ? "" : line;
        })
        .join("\n");
}

/** The body of the level-2 section titled `title` (up to the next level-2 heading); throws when there is none. */
export function section(text: string, title: string): string {
    const parts = withoutFences(text).split(/^## /m);
    const found = parts.find((p) => p.split("\n")[0].trim() === title);
    if (found === undefined) throw new Error(`no "## ${title}" section`);
    return found.slice(found.indexOf("\n") + 1);
}

/** A table row's cells, trimmed, without the outer pipes. */
function cells(line: string): string[] {
    return line
        .trim()
        .replace(/^\|/, "")
        .replace(/\|$/, "")
        .split("|")
        .map((c) => c.trim());
}

export interface KeyRow {
    readonly key: string;
    readonly cells: readonly string[];
}

/** Table rows whose first cell is a single code span (`| \`key\` | ... |`), in order, duplicates kept. */
export function keyRows(text: string): KeyRow[] {
    return text
        .split("\n")
        .filter((line) => /^\|\s*`[^`]+`\s*\|/.test(line))
        .map((line) => {
            const all = cells(line);
            return { key: all[0].replace(/`/g, ""), cells: all.slice(1) };
        });
}

/** The literal of a cell that is one code span and nothing else, or undefined. */
export function literal(cell: string): string | undefined {
    const m = /^`([^`]*)`$/.exec(cell.trim());
    return m ? m[1] : undefined;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors a Markdown file's headings make. */
export function anchors(text: string): Set<string> {
    const result = new Set<string>();
    for (const line of withoutFences(text).split("\n")) {
        const m = /^#{1,6}\s+(.*)$/.exec(line);
        if (m) result.add(slug(m[1]));
    }
    return result;
}

/** Links in a Markdown file's text (outside code fences and code spans): the target as written. */
export function links(text: string): string[] {
    const prose = withoutFences(text).replace(/`[^`\n]*`/g, "");
    return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}
