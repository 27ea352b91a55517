// What any stack deserves a word about before `pulumi up`, whatever its workload: a token
// accepted as insecure, an unpinned host name, keys in a namespace that looks like ours. Pure.
import { CONFIG_KEYS, REMOVED_KEYS } from "./schema";
import { sanitizeHostName } from "./values";

/** The word about a token accepted through allowInsecureToken (`insecureToken` says what is insecure), or undefined. */
export function insecureTokenWarning(insecureToken: string | undefined): string | undefined {
    return insecureToken
        ? `apiToken ${insecureToken}; accepted because allowInsecureToken is true. Never do this on a shared network.`
        : undefined;
}

/**
 * The host name a single-host stack's runner IDs take from the machine running `pulumi up`
 * (hostName unset, no runnerIdPrefix), or undefined when the IDs do not depend on it. Run
 * from another machine, such a stack would replace every runner under new IDs.
 */
export function unpinnedHostName(raw: Readonly<Record<string, string | undefined>>, machineHostName: string): string | undefined {
    // A sandbox's instance IDs derive from the host name the same way, unless instanceIdPrefix pins them.
    if (raw.hostName || raw.runnerIdPrefix || raw.instanceIdPrefix || raw.hosts || raw.swarm) return undefined;
    return sanitizeHostName(machineHostName);
}

/** The program's warning for an unpinned host name; `npm run deploy` pins it on first deploy. */
export function unpinnedHostNameWarning(raw: Readonly<Record<string, string | undefined>>, machineHostName: string): string | undefined {
    const name = unpinnedHostName(raw, machineHostName);
    return name === undefined
        ? undefined
        : `hostName is not set, so runner IDs carry this machine's name (${name}): a pulumi up from another machine would replace every runner. Pin it with \`pulumi config set hostName ${name}\` (npm run deploy does so on first deploy).`;
}

/** Namespaces of providers and of Pulumi itself: their keys are theirs, even when named like ours. */
const FOREIGN_NAMESPACES = ["pulumi", "docker", "docker-build", "random"];
const NAMESPACE = "zed-runner";

/** Levenshtein distance of two short strings (callers bound their lengths). */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++)
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
    }
    return previous[b.length];
}

/** A key as a message may show it: long ones cut, so a huge key cannot flood the log. */
function shownKey(key: string): string {
    return key.length > 80 ? `${key.slice(0, 77)}...` : key;
}

/**
 * Keys in another namespace that look like ours: Pulumi hands the program only what it asks
 * for, so `zed_runner:replicas` or `helix:apiHost` would be ignored without a word. A
 * namespace within two edits of zed-runner (any key), or a key named like one of ours in a
 * namespace that is not a provider's or Pulumi's. `otherKeys` are full keys (namespace:key).
 */
export function namespaceWarnings(otherKeys: readonly string[]): string[] {
    const ours = new Set([...CONFIG_KEYS, ...Object.keys(REMOVED_KEYS)].map((k) => k.toLowerCase()));
    const warnings: string[] = [];
    for (const fullKey of otherKeys) {
        const colon = fullKey.indexOf(":");
        if (colon < 0) continue;
        const namespace = fullKey.slice(0, colon);
        const key = fullKey.slice(colon + 1);
        const lower = namespace.toLowerCase();
        if (namespace === NAMESPACE || FOREIGN_NAMESPACES.includes(lower)) continue;
        // The length check keeps the distance cheap whatever the key's size.
        const nearNamespace = Math.abs(lower.length - NAMESPACE.length) <= 2 && editDistance(lower, NAMESPACE) <= 2;
        const ourKey = ours.has(key.toLowerCase());
        if (!nearNamespace && !ourKey) continue;
        const known = CONFIG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
        const fix = known
            ? `set it as ${NAMESPACE}:${known} (\`pulumi config rm ${shownKey(fullKey)}\`, then \`pulumi config set ${known} ...\`)`
            : `zed-runner's keys are ${NAMESPACE}:<key>; remove it with \`pulumi config rm ${shownKey(fullKey)}\``;
        warnings.push(
            `${shownKey(fullKey)} is ignored: it is in namespace ${shownKey(namespace)}, not ${NAMESPACE}. If it was meant for zed-runner, ${fix}.`,
        );
    }
    return warnings;
}
