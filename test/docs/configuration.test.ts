// docs/configuration.md is the full config reference: it must list exactly the keys the
// program reads, with the defaults, ranges and values the schema and Pulumi.yaml really have.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_KEYS, HOST_KEYS, KEY_SCHEMAS, SWARM_KEYS, UNDECLARED_KEYS, WORKLOADS } from "../../components/config/schema";
import { GPU_VENDOR_SETTINGS, LOG_LEVELS, RESTART_POLICIES, REVDIAL_MODES } from "../../contract";
import { KeyRow, ROOT, keyRows, literal, readDoc, section } from "./markdown";

const doc = readDoc("docs/configuration.md");
const declared: Record<string, { type: string; default?: unknown; secret?: boolean }> = parse(
    fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"),
).config;
const schemas = KEY_SCHEMAS as unknown as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;

// Stack key columns: type, default, allowed, what it does.
const stackRows = keyRows(section(doc, "Stack keys"));
const row = (key: string): KeyRow => {
    const found = stackRows.find((r) => r.key === key);
    if (!found) throw new Error(`docs/configuration.md has no row for ${key}`);
    return found;
};
const [TYPE, DEFAULT, ALLOWED] = [0, 1, 2];

/** A value as Pulumi hands it to the program, and as the reference writes it: strings bare, the rest as JSON. */
function shown(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The default the schema applies when the key is unset, or undefined when it has none (required, optional or computed). */
function schemaDefault(key: string): unknown {
    const result = schemas[key].safeParse(undefined);
    return result.success ? result.data : undefined;
}

function keysOf(rows: readonly KeyRow[]): string[] {
    return rows.map((r) => r.key);
}

describe("docs/configuration.md, stack keys", () => {
    it("lists every key the schema reads exactly once", () => {
        expect(keysOf(stackRows).sort()).toEqual([...CONFIG_KEYS].sort());
        expect(new Set(keysOf(stackRows)).size).toBe(stackRows.length);
    });

    it("lists every key Pulumi.yaml declares, and besides them only the keys Pulumi.yaml cannot declare", () => {
        const documented = keysOf(stackRows);
        expect(Object.keys(declared).filter((k) => !documented.includes(k))).toEqual([]);
        expect(documented.filter((k) => !(k in declared)).sort()).toEqual([...UNDECLARED_KEYS].sort());
    });

    it.each(CONFIG_KEYS.map((k) => [k]))("states %s's default as the schema and Pulumi.yaml have it", (key) => {
        const cell = row(key).cells[DEFAULT];
        const program = schemaDefault(key);
        if (program === undefined) {
            // Computed, unset or required: words, never a literal a reader would take as the value.
            expect(literal(cell)).toBeUndefined();
            return;
        }
        expect(literal(cell)).toBe(shown(program));
        const pulumiDefault = declared[key]?.default;
        if (pulumiDefault !== undefined && pulumiDefault !== "") expect(literal(cell)).toBe(shown(pulumiDefault));
    });

    it.each(Object.keys(declared).map((k) => [k]))("gives %s the type Pulumi.yaml declares", (key) => {
        const type = row(key).cells[TYPE];
        const d = declared[key];
        expect(type.startsWith("secret ")).toBe(d.secret === true);
        expect(type.includes("integer")).toBe(d.type === "integer");
        expect(type.includes("boolean")).toBe(d.type === "boolean");
        expect(type.includes("array")).toBe(d.type === "array");
    });

    const ranged = stackRows
        .map((r) => ({ key: r.key, m: /`(-?[\d.]+)` to `([\d.]+)`$/.exec(r.cells[ALLOWED]) }))
        .filter((r) => r.m !== null)
        .map((r) => ({ key: r.key, min: Number(r.m![1]), max: Number(r.m![2]) }));

    it("gives every integer key a range", () => {
        const integers = Object.keys(declared).filter((k) => declared[k].type === "integer");
        expect(integers.filter((k) => !ranged.some((r) => r.key === k))).toEqual([]);
    });

    it.each(ranged.map((r) => [r.key, r.min, r.max]))("states %s's range, %d to %d, as the schema checks it", (key, min, max) => {
        const step = Number.isInteger(min) && Number.isInteger(max) ? 1 : 0.01;
        // Values arrive as strings, as Pulumi hands them over.
        const accepts = (v: number) => schemas[key].safeParse(String(Number(v.toFixed(2)))).success;
        expect([accepts(min), accepts(max)]).toEqual([true, true]);
        expect([accepts(min - step), accepts(max + step)]).toEqual([false, false]);
    });

    it.each([
        ["logLevel", LOG_LEVELS],
        ["restartPolicy", RESTART_POLICIES],
        ["revdial", REVDIAL_MODES],
        ["workload", WORKLOADS],
        ["gpuVendor", GPU_VENDOR_SETTINGS],
    ] as const)("lists exactly %s's allowed values", (key, values) => {
        const listed = [...row(key).cells[ALLOWED].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        expect(listed).toEqual([...values]);
    });

    it("lists true and false, and nothing else, for every boolean key", () => {
        const booleans = Object.keys(declared).filter((k) => declared[k].type === "boolean");
        expect(booleans.length).toBeGreaterThan(0);
        for (const key of booleans) expect([key, row(key).cells[ALLOWED]]).toEqual([key, "`true`, `false`"]);
    });
});

describe("docs/configuration.md, host keys", () => {
    const hostRows = keyRows(section(doc, "Host keys"));
    // Valid values for the keys the reference says a host needs; a key missing here fails the test below.
    const SAMPLES: Record<string, unknown> = { name: "gpu-a", dockerHost: "ssh://ops@gpu-a.example.com", replicas: 2 };
    const parsesHosts = (entry: Record<string, unknown>) => schemas.hosts.safeParse(JSON.stringify([entry])).success;

    it("lists every key a host entry takes exactly once", () => {
        expect(keysOf(hostRows).sort()).toEqual([...HOST_KEYS].sort());
        expect(new Set(keysOf(hostRows)).size).toBe(hostRows.length);
    });

    it("marks as required exactly the keys a host cannot do without", () => {
        const required = hostRows.filter((r) => r.cells[0] === "yes").map((r) => r.key);
        const entry = Object.fromEntries(required.map((k) => [k, SAMPLES[k]]));
        expect(parsesHosts(entry)).toBe(true);
        for (const key of required) {
            const { [key]: _dropped, ...without } = entry;
            expect([key, parsesHosts(without)]).toEqual([key, false]);
        }
        expect(required.sort()).toEqual(Object.keys(SAMPLES).sort());
    });
});

describe("docs/configuration.md, swarm keys", () => {
    const swarmRows = keyRows(section(doc, "Swarm keys"));
    const parsed = schemas.swarm.safeParse("{}");

    it("lists every key the swarm object takes exactly once", () => {
        expect(keysOf(swarmRows).sort()).toEqual([...SWARM_KEYS].sort());
        expect(new Set(keysOf(swarmRows)).size).toBe(swarmRows.length);
    });

    it.each(SWARM_KEYS.map((k) => [k]))("states swarm.%s's default as the schema has it", (key) => {
        expect(parsed.success).toBe(true);
        const program = (parsed.data as Record<string, unknown>)[key];
        const cell = swarmRows.find((r) => r.key === key)!.cells[1];
        expect(literal(cell)).toBe(program === undefined ? undefined : shown(program));
    });
});

describe("the README's ten most used keys", () => {
    const readmeRows = keyRows(section(readDoc("README.md"), "The ten most used keys"));

    it("are ten stack keys, each once", () => {
        expect(readmeRows).toHaveLength(10);
        expect(readmeRows.filter((r) => !CONFIG_KEYS.includes(r.key))).toEqual([]);
        expect(new Set(keysOf(readmeRows)).size).toBe(10);
    });

    it.each(readmeRows.map((r) => [r.key, r.cells[0]]))("state %s's default as the reference does", (key, cell) => {
        expect(literal(cell)).toBe(literal(row(key).cells[DEFAULT]));
    });
});

describe.each([
    ["docs/fleet.md", HOST_KEYS],
    ["docs/swarm.md", SWARM_KEYS],
])("%s", (file, keys) => {
    it("names every key it summarises from the reference", () => {
        const text = readDoc(file);
        expect(keys.filter((k) => !text.includes(`\`${k}\``))).toEqual([]);
    });
});
