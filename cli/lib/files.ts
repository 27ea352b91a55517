// Reading the files operators hand the commands (stack files, env files) so that
// a wrong path, a directory, a huge file or broken YAML is a message naming the
// file and line, never a stack trace or a stall.
import { describeError } from "../../contract";
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, LineCounter, YAMLMap, isMap, isScalar, isSeq, parseDocument } from "yaml";
import { UserError } from "./errors";

/** Larger stack or env files are refused: a few hundred keys fit in a few kilobytes. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Aliases a YAML file may expand: enough for any real stack file, far too few for an alias bomb. */
const MAX_ALIASES = 100;

/** A path as short as it can be shown: relative when under the working folder, as given otherwise. */
export function shown(file: string): string {
    const relative = path.relative(process.cwd(), file);
    return relative && !relative.startsWith("..") ? relative : file;
}

/** A text file's contents, or a UserError saying what is wrong with the path. */
export function readTextFile(file: string, what: string): string {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        throw new UserError(`${what} ${shown(file)} does not exist.`);
    }
    if (!stat.isFile()) throw new UserError(`${what} ${shown(file)} is not a file${stat.isDirectory() ? " (it is a directory)" : ""}.`);
    if (stat.size > MAX_FILE_BYTES)
        throw new UserError(`${what} ${shown(file)} is ${stat.size} bytes; at most ${MAX_FILE_BYTES} are read.`);
    return fs.readFileSync(file, "utf8");
}

/** A YAML file as a document (kept for its source text) and as plain values; errors name the file and line. */
export function readYamlFile(file: string, what: string): { doc: Document; value: { [key: string]: unknown } } {
    const lineCounter = new LineCounter();
    // The library's own duplicate-key check is quadratic (15 s for 30,000 keys): keys are checked below instead.
    const doc = parseDocument(readTextFile(file, what), { uniqueKeys: false, merge: true, prettyErrors: false, lineCounter });
    const at = (offset: number | undefined) => {
        const { line, col } = lineCounter.linePos(offset ?? 0);
        return `${shown(file)}:${line}:${col}`;
    };
    const problems = doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split("\n")[0]}`);
    visitMaps(doc.contents, (map) => {
        const seen = new Set<string>();
        for (const pair of map.items) {
            const key = isScalar(pair.key) ? String(pair.key.value) : JSON.stringify(pair.key);
            if (seen.has(key))
                problems.push(`${at((pair.key as { range?: [number] } | null)?.range?.[0])}: the key ${JSON.stringify(key)} is set twice`);
            seen.add(key);
        }
    });
    if (problems.length > 0) throw new UserError(`${what} is not valid YAML:\n  ${problems.slice(0, 5).join("\n  ")}`);
    try {
        return { doc, value: doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {} };
    } catch (err) {
        throw new UserError(`${what} ${shown(file)} cannot be read: ${describeError(err)}`);
    }
}

/** Calls `visit` for every map in a YAML node tree, once each. */
function visitMaps(node: unknown, visit: (map: YAMLMap) => void): void {
    if (isMap(node)) {
        visit(node);
        for (const pair of node.items) visitMaps(pair.value, visit);
    } else if (isSeq(node)) {
        for (const item of node.items) visitMaps(item, visit);
    }
}
