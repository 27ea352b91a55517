// Every limit, choice and shared rule of the contract, swept across both schemas built from
// it: the stack config's (components/config/schema.ts) and the agent's environment
// (agent/settings.ts). The tables below are typed by the contract's own keys, so a new limit
// does not compile until this test says where it is read.
import { parseSettings } from "../../agent/settings";
import { KEY_SCHEMAS } from "../../components/config/schema";
import {
    CPU_SHARES_DEFAULT,
    ENV,
    LENGTHS,
    LOG_LEVELS,
    RANGES,
    RESTART_POLICIES,
    REVDIAL_MODES,
    STOP_GRACE_SECONDS,
    type ApiHostUrlProblem,
    type RangeName,
} from "../../contract";

const AGENT_ENV = {
    [ENV.apiHost]: "https://helix.example.com",
    [ENV.apiToken]: "tok-123456",
    [ENV.runnerId]: "external-zed-box-1",
    [ENV.rdpPassword]: "rdp-pass-1234",
    [ENV.vncPassword]: "vncpass1",
};
type AgentKey = keyof ReturnType<typeof parseSettings>;
type StackKey = keyof typeof KEY_SCHEMAS;

/** What the agent makes of `value` for its setting `key`, or "refused". */
function agentReads(key: AgentKey & keyof typeof ENV, value: string): unknown {
    try {
        return parseSettings({ ...AGENT_ENV, [ENV[key]]: value })[key];
    } catch {
        return "refused";
    }
}

/** What the stack config makes of `value` (a string, as Pulumi hands it over) for `key`, or "refused". */
function stackReads(key: StackKey, value: string): unknown {
    const result = KEY_SCHEMAS[key].safeParse(value);
    return result.success ? result.data : "refused";
}

/** What a swarm object with `field` set to `value` makes of it, or "refused". */
function swarmReads(field: string, value: number): unknown {
    const result = KEY_SCHEMAS.swarm.safeParse(JSON.stringify({ [field]: value }));
    return result.success ? (result.data as Record<string, unknown> | undefined)?.[field] : "refused";
}

/** Where each range is read. Every range is read somewhere. */
const RANGE_READERS: Record<RangeName, { stack?: StackKey[]; swarm?: string[]; agent?: AgentKey & keyof typeof ENV }> = {
    replicas: { stack: ["replicas"] },
    concurrency: { stack: ["concurrency"], agent: "concurrency" },
    maxTasks: { stack: ["maxTasks"], agent: "maxTasks" },
    sessionTimeout: { stack: ["sessionTimeout"], agent: "sessionTimeout" },
    displayWidth: { stack: ["displayWidth"], agent: "displayWidth" },
    displayHeight: { stack: ["displayHeight"], agent: "displayHeight" },
    stopGraceSeconds: { agent: "stopGraceSeconds" },
    tcpPort: { stack: ["rdpPortBase", "vncPortBase", "healthPortBase"] },
    portsPerRunner: { stack: ["portsPerRunner"] },
    memoryMb: { stack: ["memoryMb"] },
    shmSizeMb: { stack: ["shmSizeMb"] },
    cpus: { stack: ["cpus"] },
    pidsLimit: { stack: ["pidsLimit"] },
    cpuShares: { stack: ["cpuShares"] },
    maxReplicasPerNode: { swarm: ["maxReplicasPerNode"] },
    sandboxStartTimeout: { stack: ["startTimeout"] },
};

/** Each range's edges: one step below the minimum, the minimum, the maximum, one step above it. */
const edges = Object.entries(RANGES).map(([name, { min, max, step }]) => {
    const round = (n: number) => Number(n.toFixed(6));
    return { name: name as RangeName, below: round(min - step), min, max, above: round(max + step) };
});

/** One case per range and setting that reads it, in each schema. */
const rangeCases = edges.flatMap((edge) => {
    const readers = RANGE_READERS[edge.name];
    const agent = readers.agent;
    return [
        ...(readers.stack ?? []).map((key) => ({
            ...edge,
            setting: `stack config ${key}`,
            read: (v: number) => stackReads(key, String(v)),
        })),
        ...(readers.swarm ?? []).map((field) => ({
            ...edge,
            setting: `stack config swarm.${field}`,
            read: (v: number) => swarmReads(field, v),
        })),
        ...(agent ? [{ ...edge, setting: `the agent's ${ENV[agent]}`, read: (v: number) => agentReads(agent, String(v)) }] : []),
    ];
});

describe("ranges", () => {
    it.each(Object.keys(RANGES))("%s is read by at least one schema", (name) => {
        expect(rangeCases.filter((c) => c.name === name).length).toBeGreaterThan(0);
    });

    it.each(rangeCases)("$setting refuses $below and $above, takes $min and $max (range $name)", ({ below, min, max, above, read }) => {
        expect([below, min, max, above].map(read)).toEqual(["refused", min, max, "refused"]);
    });
});

describe("the stop grace", () => {
    it(`is ${STOP_GRACE_SECONDS} s, which the agent takes as its ${ENV.stopGraceSeconds}`, () => {
        expect(STOP_GRACE_SECONDS).toBe(30);
        expect(agentReads("stopGraceSeconds", String(STOP_GRACE_SECONDS))).toBe(STOP_GRACE_SECONDS);
    });
});

describe("cpuShares", () => {
    it(`takes ${CPU_SHARES_DEFAULT} besides its range, for Docker's own default weight`, () => {
        expect(stackReads("cpuShares", String(CPU_SHARES_DEFAULT))).toBe(CPU_SHARES_DEFAULT);
        expect(CPU_SHARES_DEFAULT).toBeLessThan(RANGES.cpuShares.min - 1);
    });
});

/** Where each length is read, and a value of a given length that is otherwise valid. */
const LENGTH_READERS: Record<keyof typeof LENGTHS, { stack?: (length: number) => unknown; agent?: (length: number) => unknown }> = {
    hostName: { stack: (n) => stackReads("hostName", "h".repeat(n)) },
    runnerIdPrefix: { stack: (n) => stackReads("runnerIdPrefix", "r".repeat(n)) },
    containerNamePrefix: { stack: (n) => stackReads("containerNamePrefix", "c".repeat(n)) },
    networkName: { stack: (n) => stackReads("networks", JSON.stringify(["n".repeat(n)])) },
    registryUsername: { stack: (n) => stackReads("registryUsername", "u".repeat(n)) },
    runnerId: { agent: (n) => agentReads("runnerId", "r".repeat(n)) },
    rdpPassword: { agent: (n) => agentReads("rdpPassword", "p".repeat(n)) },
    vncPassword: { agent: (n) => agentReads("vncPassword", "v".repeat(n)) },
};

/** One case per length and schema that reads it. */
const lengthCases = Object.entries(LENGTHS).flatMap(([name, limits]) =>
    Object.entries(LENGTH_READERS[name as keyof typeof LENGTHS]).map(([schema, read]) => ({
        name,
        schema,
        min: "min" in limits ? limits.min : undefined,
        max: "max" in limits ? limits.max : undefined,
        read: read!,
    })),
);

describe("lengths", () => {
    it.each(Object.keys(LENGTHS))("%s is read by at least one schema", (name) => {
        expect(lengthCases.filter((c) => c.name === name).length).toBeGreaterThan(0);
    });

    it.each(lengthCases)("$name in the $schema: takes the limit, refuses one beyond it", ({ min, max, read }) => {
        expect(min !== undefined || max !== undefined).toBe(true);
        if (max !== undefined) expect([read(max) !== "refused", read(max + 1)]).toEqual([true, "refused"]);
        if (min !== undefined) expect([read(min) !== "refused", read(min - 1)]).toEqual([true, "refused"]);
    });
});

describe("choices", () => {
    it.each(LOG_LEVELS.map((l) => [l]))("both schemas take the log level %s", (level) => {
        expect(stackReads("logLevel", level)).toBe(level);
        expect(agentReads("logLevel", level)).toBe(level);
    });

    it.each(REVDIAL_MODES.map((m) => [m]))("both schemas take the revdial mode %s", (mode) => {
        expect(stackReads("revdial", mode)).toBe(mode);
        expect(agentReads("revdial", mode)).toBe(mode);
    });

    it("both schemas refuse a log level or a revdial mode outside the contract's", () => {
        expect([stackReads("logLevel", "verbose"), agentReads("logLevel", "verbose")]).toEqual(["refused", "refused"]);
        expect([stackReads("revdial", "maybe"), agentReads("revdial", "maybe")]).toEqual(["refused", "refused"]);
    });

    it("the stack config takes exactly the contract's restart policies", () => {
        expect(RESTART_POLICIES.map((p) => stackReads("restartPolicy", p))).toEqual([...RESTART_POLICIES]);
        expect(stackReads("restartPolicy", "sometimes")).toBe("refused");
    });
});

describe("the control plane URL's shared rules", () => {
    const BREAKS: Record<ApiHostUrlProblem, string> = {
        "not-a-url": "helix.example.com",
        "not-http": "ftp://helix.example.com",
        credentials: "https://user:secret@helix.example.com",
        "query-or-fragment": "https://helix.example.com/?runner=1",
        port: "https://helix.example.com:0",
    };

    it.each(Object.entries(BREAKS))("both schemas refuse a URL that breaks %s: %s", (_rule, url) => {
        expect([stackReads("apiHost", url), agentReads("apiHost", url)]).toEqual(["refused", "refused"]);
    });

    it.each([
        ["https://helix.example.com/?"],
        ["https://helix.example.com#"],
        ["https://@helix.example.com"],
        ["https://helix.example.com:65536"],
    ])(
        "both schemas refuse %s, whose empty query, fragment or user-info (or impossible port) a URL parser would drop or reject without saying why",
        (url) => {
            expect([stackReads("apiHost", url), agentReads("apiHost", url)]).toEqual(["refused", "refused"]);
        },
    );

    it.each([
        ["HTTPS://Helix.Example.COM/", "https://helix.example.com"],
        ["http://API:8080", "http://api:8080"],
        ["https://helix.example.com:443", "https://helix.example.com:443"],
        ["http://host.docker.internal:080/", "http://host.docker.internal:80"],
        ["https://helix.example.com.", "https://helix.example.com"],
        ["https://bücher.example", "https://xn--bcher-kva.example"],
        ["http://[::FFFF:10.0.0.1]:8080/", "http://[::ffff:a00:1]:8080"],
    ])("the stack config writes %s in the one form it checked: %s", (typed, written) => {
        expect(stackReads("apiHost", typed)).toBe(written);
        // The canonical form is a fixed point: checking it again changes nothing.
        expect(stackReads("apiHost", written)).toBe(written);
    });

    it("both schemas take an https URL with a path, and drop its trailing slash", () => {
        const url = "https://helix.example.com/prefix/";
        expect([stackReads("apiHost", url), agentReads("apiHost", url)]).toEqual([
            "https://helix.example.com/prefix",
            "https://helix.example.com/prefix",
        ]);
    });
});
