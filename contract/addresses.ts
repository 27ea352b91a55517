// Addresses and paths in their every spelling: all-interface bind addresses,
// loopback hosts, Docker engine addresses and host paths, normalised before
// they are compared. Shared by the stack config and the policy pack, so the two
// judge `::ffff:0.0.0.0`, `localhost.` or `//var/run/docker.sock/` alike.

import { domainToASCII } from "node:url";
import { normalizeHostPath } from "./hostPaths";

/** An IPv6 address in the compressed form the WHATWG URL parser gives it, or undefined. */
function canonicalIPv6(address: string): string | undefined {
    const bare = address.replace(/^\[|\]$/g, "");
    if (!bare.includes(":")) return undefined;
    try {
        return new URL(`http://[${bare}]/`).hostname.replace(/^\[|\]$/g, "").toLowerCase();
    } catch {
        return undefined;
    }
}

/** A dotted-quad IPv4 address, each part 0 to 255. */
function isIPv4(text: string): boolean {
    const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    return parts !== null && parts.slice(1).every((p) => Number(p) <= 255);
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
/**
 * A label as Docker's embedded DNS resolves it: Compose v1 names containers `helix_api_1`,
 * and a control plane addressed by such a name is common, so addresses allow '_' inside a label.
 */
const RESOLVABLE_LABEL = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/i;

/**
 * Why `name` is not a host name, or undefined when it is one: RFC 1123's dot-separated
 * labels of letters, digits and '-' (not first or last), 1 to 63 characters each, 253 in
 * all. A last label of digits alone would make it an IPv4 address, which it is not. A
 * trailing dot (the fully qualified spelling) is allowed only with `trailingDot`.
 */
export function hostNameProblem(name: string, options: { trailingDot?: boolean; underscores?: boolean } = {}): string | undefined {
    const bare = options.trailingDot && name.endsWith(".") ? name.slice(0, -1) : name;
    if (bare === "") return "is empty";
    if (bare.length > 253) return "is longer than the 253 characters a host name may have";
    const labels = bare.split(".");
    if (labels.some((label) => label === "")) return "has an empty label ('..', or a leading or trailing '.')";
    const pattern = options.underscores ? RESOLVABLE_LABEL : LABEL;
    const bad = labels.find((label) => !pattern.test(label));
    if (bad !== undefined) {
        return bad.length > 63
            ? "has a label longer than 63 characters"
            : `has a label with a character other than letters, digits and '-'${options.underscores ? " (or '_')" : ""}, or one that starts or ends with '-'`;
    }
    if (/^\d+$/.test(labels[labels.length - 1])) return "ends in a label of digits alone but is not an IPv4 address";
    return undefined;
}

/** Why `host` is neither a host name nor an IP address (IPv4, or IPv6 in brackets), or undefined when it is one. */
export function hostAddressProblem(host: string): string | undefined {
    if (host.startsWith("[")) return host.endsWith("]") && canonicalIPv6(host) !== undefined ? undefined : "is not an IPv6 address";
    if (isIPv4(host)) return undefined;
    return hostNameProblem(host, { trailingDot: true, underscores: true });
}

/** Whether a bind address publishes on every interface: "", 0.0.0.0, ::, [::], 0:0:0:0:0:0:0:0, ::ffff:0.0.0.0 and kin. */
export function isEveryInterface(address: string | undefined): boolean {
    const a = (address ?? "").trim();
    if (a === "" || a === "*") return true;
    if (/^0+(\.0+){3}$/.test(a)) return true;
    const v6 = canonicalIPv6(a);
    return v6 === "::" || v6 === "::ffff:0:0";
}

/** Hosts that, dialed from inside a runner container, reach the container itself. */
export function isLoopbackHost(hostname: string): boolean {
    // A trailing dot is the same name, fully qualified.
    const h = hostname
        .replace(/^\[|\]$/g, "")
        .toLowerCase()
        .replace(/\.$/, "");
    if (h === "localhost" || h.endsWith(".localhost") || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^0+(\.0+){3}$/.test(h)) return true;
    const v6 = canonicalIPv6(h);
    if (v6 === undefined) return false;
    if (v6 === "::1" || v6 === "::") return true;
    // IPv4-mapped: ::ffff:127.0.0.1 canonicalises to ::ffff:7f00:1.
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
    return mapped !== null && (parseInt(mapped[1], 16) >> 8 === 127 || (parseInt(mapped[1], 16) === 0 && parseInt(mapped[2], 16) === 0));
}

/**
 * The engine a Docker address reaches, in one spelling, so one engine under two names is one
 * host: unix socket paths normalised (/var/run is /run), ssh/tcp hosts lower-cased without a
 * trailing dot, default ports made explicit, and an ssh login left out (two logins to one
 * host reach one engine).
 */
export function normalizeDockerHost(address: string): string {
    const unix = /^unix:\/\/(\/.*)$/.exec(address);
    if (unix) return `unix://${normalizeHostPath(unix[1]).replace(/^\/var\/run(?=\/|$)/, "/run")}`;
    try {
        const url = new URL(address);
        const port = url.port || (url.protocol === "ssh:" ? "22" : url.protocol === "tcp:" ? "2376" : "");
        return `${url.protocol}//${machineName(url.hostname)}${port ? `:${port}` : ""}`;
    } catch {
        return address;
    }
}

/**
 * A host as one engine's address names it: lower-case, no trailing dot, punycode, and an IPv4 address in
 * its dotted-decimal form (ssh and Docker read `10.0.0.01` as the resolver does: 10.0.0.1). The
 * URL parser does all of it for a special scheme's host, and ssh:// and tcp:// are not special.
 */
function machineName(hostname: string): string {
    const bare = hostname.replace(/\.$/, "");
    if (bare.startsWith("[")) return bare.toLowerCase();
    try {
        return new URL(`http://${bare}`).hostname;
    } catch {
        return asciiHost(bare);
    }
}

/**
 * A Docker address as the engine connection is written: an ssh:// or tcp:// host lower-cased and
 * without a trailing dot (ssh's known_hosts holds no entry for `host.`, so the dotted spelling fails
 * its host key check), the login and port as given; anything else as given.
 */
export function canonicalDockerHost(address: string): string {
    const parts = /^(ssh|tcp):\/\/((?:[^@/]*@)?)(\[[^\]/]*\]|[^:/]*)((?::[^/]*)?)$/.exec(address);
    if (!parts) return address;
    const [, scheme, login, host, port] = parts;
    return `${scheme}://${login}${asciiHost(host)}${port}`;
}

/**
 * A host name lower-cased, without a trailing dot, and in punycode when it is not ASCII (what DNS,
 * ssh and the engine are given); an IP address or a name URL parsing refuses, as written but for case.
 */
function asciiHost(host: string): string {
    const bare = host.replace(/\.$/, "");
    if (/^[\x00-\x7f]*$/.test(bare) || bare.startsWith("[")) return bare.toLowerCase();
    return domainToASCII(bare) || bare.toLowerCase();
}

/**
 * Whether the first component of an image name (or a registry mirror) names a registry, as
 * Docker tells one from a path: a '.', a port, or `localhost`.
 */
function namesRegistry(component: string): boolean {
    return component.includes(".") || component.includes(":") || component === "localhost";
}

/**
 * An image name or registry mirror with its registry host lower-cased (host names have no case,
 * while the engine keeps `MIRROR.example.com/x` and `mirror.example.com/x` as two images), so
 * what the checks and the pack compare is what the engine is given. The path is left as written.
 */
export function canonicalRegistry(value: string): string {
    const slash = value.indexOf("/");
    const first = slash < 0 ? value : value.slice(0, slash);
    if (!namesRegistry(first)) return value;
    const colon = first.lastIndexOf(":");
    const [host, port] = colon > 0 && !first.endsWith("]") ? [first.slice(0, colon), first.slice(colon)] : [first, ""];
    return asciiHost(host) + port + value.slice(first.length);
}

/** Why the registry at the start of `value` (an image name or a mirror) has an impossible port, or undefined. */
export function registryPortProblem(value: string): string | undefined {
    const first = value.split("/")[0];
    const port = namesRegistry(first) ? /:(\d+)$/.exec(first)?.[1] : undefined;
    if (port === undefined || (Number(port) >= 1 && Number(port) <= 65535)) return undefined;
    return `has the registry port ${port}: a port is from 1 to 65535`;
}
