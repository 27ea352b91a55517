// Every relative link in the docs points at a file that exists, and every #anchor at a heading there.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, anchors, docFiles, links, readDoc } from "./markdown";

function isExternal(target: string): boolean {
    return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

describe.each(docFiles().map((f) => [f]))("%s", (file) => {
    const text = readDoc(file);
    const relative = links(text).filter((t) => !isExternal(t));

    it("links only to files that exist", () => {
        const missing = relative
            .map((t) => t.split("#")[0])
            .filter((t) => t !== "")
            .map((t) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), t)))
            .filter((t) => !fs.existsSync(path.join(ROOT, t)));
        expect(missing).toEqual([]);
    });

    it("links only to headings that exist", () => {
        const broken = relative
            .filter((t) => t.includes("#"))
            .filter((t) => {
                const [target, anchor] = t.split("#");
                const resolved = target === "" ? file : path.relative(ROOT, path.resolve(ROOT, path.dirname(file), target));
                if (!resolved.endsWith(".md") || !fs.existsSync(path.join(ROOT, resolved))) return false;
                return !anchors(readDoc(resolved)).has(anchor);
            });
        expect(broken).toEqual([]);
    });
});
