// The workload records: what each workload declares of itself, and what holds across them, so a
// record that forgets a key, claims another's, or drifts from the schema fails here first. Pure.
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_KEYS, HOST_OVERRIDABLE_KEYS, KEY_SCHEMAS, WORKLOADS, WORKLOAD_DEFAULTED_KEYS } from "../../components/config/schema";
import { LABELS } from "../../components/labels";
import { ALL_WORKLOAD_RECORDS, WORKLOAD_RECORDS } from "../../components/workloads";

const ROOT = path.resolve(__dirname, "../..");

describe("the workload records", () => {
    it("has one record per workload the schema takes, under its own kind", () => {
        expect(Object.keys(WORKLOAD_RECORDS).sort()).toEqual([...WORKLOADS].sort());
        for (const [kind, record] of Object.entries(WORKLOAD_RECORDS)) expect(record.kind).toBe(kind);
    });

    it("gives every key to at most one workload, and only keys the schema reads", () => {
        const owned = ALL_WORKLOAD_RECORDS.flatMap((r) => r.ownKeys as readonly string[]);
        expect(new Set(owned).size).toBe(owned.length);
        expect(owned.filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
    });

    it("lets hosts set, together, exactly the keys a host entry takes", () => {
        const hostKeys = new Set(ALL_WORKLOAD_RECORDS.flatMap((r) => r.hostKeys as readonly string[]));
        expect([...hostKeys].sort()).toEqual([...HOST_OVERRIDABLE_KEYS].sort());
    });

    it("states a default for each key whose default depends on the workload, the runners' as the schema has it", () => {
        for (const record of ALL_WORKLOAD_RECORDS) expect(Object.keys(record.defaults).sort()).toEqual([...WORKLOAD_DEFAULTED_KEYS].sort());
        for (const key of WORKLOAD_DEFAULTED_KEYS) expect(WORKLOAD_RECORDS.runner.defaults[key]).toEqual(KEY_SCHEMAS[key].parse(undefined));
        expect(WORKLOAD_RECORDS.sandbox.defaults).toEqual({ restartPolicy: "always", memoryMb: undefined });
    });

    it("tells each workload's containers apart: its own ID label, and at most one workload without a marker", () => {
        const ids = ALL_WORKLOAD_RECORDS.map((r) => r.labels.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ALL_WORKLOAD_RECORDS.filter((r) => r.labels.marker === undefined).map((r) => r.kind)).toEqual(["runner"]);
        expect(WORKLOAD_RECORDS.runner.labels.id).toBe(LABELS.runnerId);
        expect(WORKLOAD_RECORDS.sandbox.labels.marker).toEqual({ key: "zed-runner.workload", value: "sandbox" });
    });

    it("refuses the swarm for sandboxes only, saying why", () => {
        expect(WORKLOAD_RECORDS.runner.refusedPlacements).toEqual({});
        expect(WORKLOAD_RECORDS.sandbox.refusedPlacements.swarm).toMatch(
            /^swarm cannot run the sandbox workload: Swarm services cannot be privileged/,
        );
    });
});

/** Every TypeScript file of the program and the commands, relative to the repository. */
function sourceFiles(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) return sourceFiles(rel);
        return entry.name.endsWith(".ts") ? [rel] : [];
    });
}

describe("workload decisions", () => {
    it("never compare a workload's name: they read its record or switch on its kind", () => {
        const names = WORKLOADS.join("|");
        const comparison = new RegExp(`(?:[!=]==?\\s*["'\`](?:${names})["'\`])|(?:["'\`](?:${names})["'\`]\\s*[!=]==?)`);
        const found = [...sourceFiles("components"), ...sourceFiles("cli"), "index.ts"].flatMap((file) =>
            fs
                .readFileSync(path.join(ROOT, file), "utf8")
                .split("\n")
                .flatMap((line, i) => (comparison.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
        );
        expect(found).toEqual([]);
    });
});
