// The settings the stack config and the runner agent both read: their ranges,
// lengths, choices and rules. components/configSchema.ts (stack config) and
// agent/settings.ts (the agent's environment) build their zod schemas from
// these, so a limit is written once; test/contract/limits.test.ts sweeps every
// one of them across both schemas.

import { MAX_PORTS_PER_RUNNER } from "./image";

/** An inclusive range; `step` is the smallest change the setting takes (1 for whole numbers). */
export interface Range {
    readonly min: number;
    readonly max: number;
    readonly step: number;
}

const whole = (min: number, max: number): Range => ({ min, max, step: 1 });

/**
 * Every numeric setting's range. Keys are the stack config's names (and ENV's, for the
 * settings the agent reads too); `tcpPort` is every port base's.
 */
export const RANGES = {
    replicas: whole(0, 1000),
    concurrency: whole(1, 64),
    maxTasks: whole(0, 1_000_000),
    /** Seconds; 0 is no limit. */
    sessionTimeout: whole(0, 604_800),
    displayWidth: whole(640, 7680),
    displayHeight: whole(480, 4320),
    /** Seconds; the agent's, from the stack's STOP_GRACE_SECONDS. */
    stopGraceSeconds: whole(1, 3600),
    tcpPort: whole(1, 65535),
    portsPerRunner: whole(1, MAX_PORTS_PER_RUNNER),
    memoryMb: whole(256, 1_048_576),
    shmSizeMb: whole(64, 65_536),
    cpus: { min: 0.01, max: 1024, step: 0.01 },
    /** 0 is no limit. */
    pidsLimit: whole(0, 4_194_304),
    /** Docker's relative CPU weight; 0 (Docker's default) is allowed besides, see CPU_SHARES_DEFAULT. */
    cpuShares: whole(2, 262_144),
    /** Per swarm node; 0 is no limit. */
    maxReplicasPerNode: whole(0, 1000),
    /** Seconds `pulumi up` waits for a new sandbox's first boot, its desktop pull included. */
    sandboxStartTimeout: whole(60, 86_400),
} as const satisfies Record<string, Range>;
export type RangeName = keyof typeof RANGES;

/** The cpuShares value that leaves Docker's own default weight in place. */
export const CPU_SHARES_DEFAULT = 0;

/** Docker's default CPU weight: a container with it has the same priority as every other (CIS 5.12). */
export const DOCKER_DEFAULT_CPU_SHARES = 1024;

/** Lengths in characters: `max` for names, `min` for the initial passwords. */
export const LENGTHS = {
    /** A host name label, which a container's host name is. */
    hostName: { max: 63 },
    runnerIdPrefix: { max: 100 },
    containerNamePrefix: { max: 100 },
    /** A Docker network's name. */
    networkName: { max: 128 },
    registryUsername: { max: 255 },
    /** RUNNER_ID as the agent takes it: the prefix and its index. */
    runnerId: { max: 200 },
    rdpPassword: { min: 8 },
    /** VNC authentication reads 8 characters at most. */
    vncPassword: { min: 6 },
} as const;

/**
 * Docker container names and runner IDs: a letter or digit, then letters, digits, '_', '.'
 * and '-'. Runner IDs travel in a URL query string.
 */
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Whether runners open the reverse dial (rc8 control planes' VNC path): auto opens it and goes quiet where there is none. */
export const REVDIAL_MODES = ["auto", "on", "off"] as const;
export type RevdialMode = (typeof REVDIAL_MODES)[number];

/** Docker's restart policies. */
export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;

/** Helix's example runner token, from the seed script and the docs: anyone who read them knows it. */
export const INSECURE_DEFAULT_TOKEN = "oh-hallo-insecure-token";

/** The example token however it is padded or cased. */
export function isExampleToken(token: string): boolean {
    return token.trim().toLowerCase() === INSECURE_DEFAULT_TOKEN;
}

/** What is wrong with a control plane URL, by the rules both schemas apply; each words its own message. */
export type ApiHostUrlProblem = "not-a-url" | "not-http" | "credentials" | "query-or-fragment" | "port";

/**
 * The first rule a control plane URL breaks, with the parsed URL when it is one. It must be
 * http or https (the agent dials ws or wss beside it), carry no credentials (the token
 * authenticates), not even an empty user-info, no query string or fragment (the agent appends
 * its own paths), not even an empty one, and no port 0. The text is judged as well as the parsed
 * URL, which drops an empty `?`, `#` or `@` without a word.
 */
export function apiHostUrlProblem(value: string): { problem: ApiHostUrlProblem | undefined; url: URL | undefined } {
    // The URL parser takes more than a URL: it drops tabs and line breaks anywhere and spaces at
    // either end, reads `http:host` and `http:\\host` as `http://host`, and `https:///path` as the
    // host `path`. What it would silently repair is no URL here: a scheme, "//" and a host, as typed.
    if (/[\s\x00-\x1f\x7f-\x9f]/.test(value) || !/^[a-z][a-z0-9+.-]*:\/\/[^/\\?#]/i.test(value)) {
        return { problem: "not-a-url", url: undefined };
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        // The parser refuses a port past 65535 as it refuses anything else: say which.
        const port = /^https?:\/\/[^/?#@]*:(\d+)(?:[/?#]|$)/i.exec(value)?.[1];
        return { problem: port !== undefined && Number(port) > 65535 ? "port" : "not-a-url", url: undefined };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return { problem: "not-http", url };
    const authority = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split(/[/?#]/)[0];
    if (url.username || url.password || authority.includes("@")) return { problem: "credentials", url };
    if (url.search || url.hash || /[?#]/.test(value)) return { problem: "query-or-fragment", url };
    if (url.port === "0") return { problem: "port", url };
    return { problem: undefined, url };
}

/**
 * A valid control plane URL in the one form it is written in: scheme and host lower-cased, the
 * host in punycode, no trailing slash. What the config checks is what the containers receive
 * (Hydra's reverse dial, for one, tests `https://` case-sensitively). A port is kept as a number
 * wherever it was typed, a default one too (the URL parser would drop `:80`, and a changed URL
 * would replace every running container for nothing). Anything the URL parser refuses is
 * returned as it is, for the checks to report.
 */
export function canonicalApiHost(value: string): string {
    try {
        const url = new URL(value);
        const typedPort = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*?:(\d+)(?:[/?#]|$)/i.exec(value)?.[1];
        // A fully qualified name's trailing dot is the DNS root: the same host, written without it.
        const host = url.hostname.replace(/\.$/, "") + (typedPort === undefined ? "" : `:${Number(typedPort)}`);
        return trimApiHost(`${url.protocol}//${host}${url.pathname}`);
    } catch {
        return value;
    }
}

/** A control plane URL as runners use it: without trailing slashes. */
export function trimApiHost(value: string): string {
    return value.replace(/\/+$/, "");
}

/**
 * What is wrong with a runner token, each problem a sentence starting with `name` (apiToken, or the
 * environment variable deploy stores it from), and whether it is one pulumi up takes only with
 * allowInsecureToken (empty, or Helix's example token: `insecure` says which). The one token check
 * of the program, plan and deploy, so none of them takes a token another refuses.
 */
export function apiTokenProblems(token: string, name: string, allowInsecureToken: boolean): { problems: string[]; insecure?: string } {
    const problems: string[] = [];
    const example = isExampleToken(token);
    if (token.trim() !== "" && token !== token.trim() && !example) {
        problems.push(
            `${name} has leading or trailing whitespace (a copy-paste slip?): the control plane compares the token byte for byte; set it again without it`,
        );
    }
    const inside = runnerTokenProblem(token);
    if (inside !== undefined) problems.push(`${name} ${inside}: set it again as your control plane has it`);
    if (token.trim() !== "" && !example) return { problems };
    const insecure = token.trim() === "" ? "is empty" : "is the insecure default from Helix's examples";
    if (allowInsecureToken) return { problems, insecure };
    problems.push(
        `${name} ${insecure}: use the runner token your control plane is configured with, or set allowInsecureToken to true for a throwaway test`,
    );
    return { problems };
}

/**
 * Why `token` cannot be a runner token, or undefined when it can be: a space, tab, line break or
 * other control character inside it. The token travels as `Authorization: Bearer <token>`, where a
 * line break is refused and a space ends it; no control plane's token has either, so one is a paste
 * slip (two lines, a quoted phrase). Leading and trailing whitespace is the config's own check.
 */
export function runnerTokenProblem(token: string): string | undefined {
    return /[\s\x00-\x1f\x7f]/.test(token.trim())
        ? "has a space, tab, line break or control character inside it, which no runner token has (it travels in an HTTP Authorization header)"
        : undefined;
}
