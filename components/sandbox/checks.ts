// What the stack config checks of a sandbox's settings, as pure functions returning problems
// (each naming its key and value), so every problem is reported at once. The facts about
// Helix's image come from contract/sandbox.ts. Pure.
import {
    GPU_VENDOR_AUTO,
    HELIX_VERSION_AUTO,
    LENGTHS,
    NAME_PATTERN,
    SANDBOX_DESKTOP,
    SANDBOX_ENV,
    SANDBOX_EXTRA_ENV,
    SANDBOX_FIXED_ENV,
    SANDBOX_IMAGE_REPOSITORY,
    SANDBOX_LENGTHS,
    apiHostUrlProblem,
    helixReleaseProblem,
    hostAddressProblem,
    isLoopbackHost,
    maskValue,
    parseImageReference,
    registryPortProblem,
    sandboxImagePinProblem,
} from "../../contract";
import { REGISTRY_PATTERN } from "../config/schema";
import type { SandboxSettings } from "./settings";

/** A value as a message shows it: credentials masked, control characters escaped, long text cut. */
const show = (value: string) => JSON.stringify(maskValue(value, 200));

/**
 * What is wrong with the image settings: exactly one of helixVersion and sandboxImage, pinned to a
 * release; a sandboxImage from another repository than Helix's only when acknowledged.
 */
export function sandboxImageProblems(
    settings: Pick<SandboxSettings, "helixVersion" | "sandboxImage"> & Partial<Pick<SandboxSettings, "allowSandboxImageMirror">>,
): string[] {
    const { helixVersion, sandboxImage: image } = settings;
    if (helixVersion === undefined && image === undefined)
        return [
            "helixVersion is not set: set it to the control plane's Helix release, such as 2.12.2 (a sandbox must run its control plane's release: " +
                "Hydra's API changed shape nine times between 2.5.12 and 2.12.0), or set sandboxImage to a pinned image",
        ];
    if (helixVersion !== undefined && image !== undefined)
        return [
            `helixVersion (got ${show(helixVersion)}) and sandboxImage (got ${show(image)}) both set: helixVersion runs ${SANDBOX_IMAGE_REPOSITORY} at that release, sandboxImage another pinned image; set one`,
        ];
    if (helixVersion === HELIX_VERSION_AUTO)
        return [
            "helixVersion is auto, which `npm run deploy` resolves: it reads the control plane's release from <apiHost>/api/v1/config " +
                "and pins it in the stack file before the preview. With `pulumi up` alone, set it to the control plane's release, such as 2.12.2",
        ];
    if (helixVersion !== undefined) {
        const problem = helixReleaseProblem(helixVersion);
        return problem === undefined
            ? []
            : [
                  `helixVersion (got ${show(helixVersion)}) ${problem}. A sandbox must run its control plane's release: Hydra's API changed shape nine times between 2.5.12 and 2.12.0`,
              ];
    }
    const problem = sandboxImagePinProblem(image ?? "");
    if (problem !== undefined) return [`sandboxImage (got ${show(image ?? "")}) ${problem}`];
    if (parseImageReference(image ?? "").repository !== SANDBOX_IMAGE_REPOSITORY && settings.allowSandboxImageMirror !== true)
        return [
            `sandboxImage (got ${show(image ?? "")}) is not Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}), and a sandbox runs privileged ` +
                "with the control plane's runner token. If it is your mirror of Helix's image, set allowSandboxImageMirror to true " +
                "(and list its repository in the policy pack's sandboxImageMirrors); otherwise use helixVersion",
        ];
    return [];
}

/**
 * What is wrong with apiUrl, or undefined. Scheme and host[:port] only: RevDial keeps only the
 * scheme and host, so a path would be silently dropped; credentials and a query have no place
 * either (the token authenticates). Not loopback: Hydra, the heartbeat and every nested desktop
 * dial it from inside their own containers, where loopback is themselves.
 */
export function sandboxApiUrlProblem(apiUrl: string): string | undefined {
    const got = `apiUrl (got ${show(apiUrl)})`;
    if (/[\s"'\\<>`{}|^]/.test(apiUrl)) return `${got} must be a URL without spaces, quotes, backslashes or control characters`;
    const { problem, url } = apiHostUrlProblem(apiUrl);
    if (problem === "port") return `${got} must have a port from 1 to 65535, or none for the scheme's own`;
    if (problem === "not-a-url" || url === undefined) return `${got} must be an http:// or https:// URL such as https://helix.example.com`;
    if (problem === "not-http") return `${got} must use http:// or https://`;
    if (problem === "credentials") return `${got} must not carry credentials; the sandbox authenticates with the runner token`;
    if (problem === "query-or-fragment" || url.pathname !== "/")
        return (
            `${got} must be only a scheme and host[:port], such as https://helix.example.com: ` +
            "the sandbox's reverse dial keeps only those and would silently drop a path or query"
        );
    const hostProblem = hostAddressProblem(url.hostname);
    if (hostProblem !== undefined) return `${got} must name a host name (RFC 1123) or an IP address as its host; its host ${hostProblem}`;
    if (isLoopbackHost(url.hostname))
        return (
            `${got} points at loopback, which inside a sandbox (and inside each desktop it starts) is that container itself. ` +
            "For a control plane in Docker on the same machine (Helix's docker-compose), set networks to its network and use its service name, " +
            "e.g. http://api:8080; otherwise use an address every container reaches, such as https://helix.example.com"
        );
    return undefined;
}

/**
 * A word about apiUrl that works but not everywhere, or undefined. host.docker.internal is in
 * the sandbox's own /etc/hosts (extraHosts), so Hydra and the heartbeat reach it; the desktops
 * the sandbox starts resolve names through the sandbox's DNS proxy instead, which does not read
 * that file, so a desktop cannot reach the control plane by that name.
 */
export function sandboxApiUrlWarning(apiUrl: string): string | undefined {
    let hostname: string;
    try {
        hostname = new URL(apiUrl).hostname.toLowerCase().replace(/\.$/, "");
    } catch {
        return undefined;
    }
    if (hostname !== "host.docker.internal") return undefined;
    return (
        `apiUrl is ${apiUrl}: the sandbox itself reaches host.docker.internal, but the desktops it starts resolve names through ` +
        "its DNS proxy, which does not know that name. Prefer the control plane's network and service name (networks, e.g. http://api:8080) or its DNS name."
    );
}

/** What is wrong with the GPU settings. */
export function sandboxGpuProblems(settings: Pick<SandboxSettings, "gpuVendor" | "allowNoGpu">): string[] {
    const problems: string[] = [];
    if (settings.gpuVendor === GPU_VENDOR_AUTO)
        problems.push(
            "gpuVendor is auto (the default), which `npm run deploy` resolves: it detects each host's GPU as Helix's installer does " +
                "and pins it in the stack file before the preview (`npm run plan -- --check-hosts` shows what it finds). " +
                "With `pulumi up` alone, set gpuVendor to the host's GPU: nvidia, amd or intel",
        );
    if (settings.gpuVendor === "none" && !settings.allowNoGpu)
        problems.push(
            'gpuVendor (got "none") gives a sandbox that Helix 2.11.33 and later never place a session on: it connects and idles. ' +
                "Set gpuVendor to the host's GPU (nvidia, amd or intel), or set allowNoGpu to true to deploy it anyway",
        );
    return problems;
}

/**
 * What is wrong with the registry mirror, or undefined. The sandbox's boot puts the value in place
 * of the registry host alone (`ghcr.io/helixml/helix-ubuntu:<tag>` becomes
 * `<registryMirror>/helixml/helix-ubuntu:<tag>`), so it is a registry host[:port] and an optional
 * path under which `helixml/` follows; a path that ends in `helixml` would double it. Not loopback:
 * the sandbox's inner dockerd pulls from inside the sandbox, where loopback is the sandbox.
 */
export function registryMirrorProblem(registryMirror: string): string | undefined {
    const got = `registryMirror (got ${show(registryMirror)})`;
    if (!REGISTRY_PATTERN.test(registryMirror))
        return (
            `${got} must be a registry host[:port], with an optional path and no scheme, such as registry.example.com:5000: ` +
            "the sandbox puts it in place of ghcr.io in the desktop image's name"
        );
    const port = registryPortProblem(registryMirror);
    if (port !== undefined) return `${got} ${port}`;
    const [hostPort, ...path] = registryMirror.split("/");
    if (path.length > 0 && path[path.length - 1].toLowerCase() === "helixml")
        return (
            `${got} would double the image's path: the sandbox replaces only the registry host of ghcr.io/helixml/helix-ubuntu:<tag>, ` +
            `keeping helixml/ after it, so it would pull ${registryMirror}/helixml/helix-ubuntu:<tag>. Leave out the trailing /helixml ` +
            `(${[hostPort, ...path.slice(0, -1)].join("/")}) and hold the images under helixml/ in the mirror`
        );
    if (isLoopbackHost(hostPort.replace(/:\d+$/, "")))
        return `${got} points at loopback, which is the sandbox itself to the dockerd inside it that pulls the desktop image: use an address the sandbox reaches, such as registry.example.com:5000`;
    return undefined;
}

/**
 * A word about a mirror that works only if it serves HTTPS with a certificate from a public CA, or
 * undefined: the inner dockerd trusts no private CA and takes plain HTTP from SANDBOX_DESKTOP.insecureMirror
 * alone, and a sandbox that cannot pull its desktop exits at boot and restarts forever.
 */
export function registryMirrorWarning(registryMirror: string | undefined): string | undefined {
    if (registryMirror === undefined || registryMirror.split("/")[0] === SANDBOX_DESKTOP.insecureMirror) return undefined;
    return (
        `registryMirror is ${registryMirror}: it must serve HTTPS with a certificate from a public CA. The sandbox's own dockerd ` +
        `trusts no private CA and takes plain HTTP from ${SANDBOX_DESKTOP.insecureMirror} alone, and a sandbox that cannot pull its desktop ` +
        "exits at boot and restarts for ever (npm run logs shows the pull's error)."
    );
}

/**
 * What is wrong with the prefixes. Their limits keep every ID and name they make valid: an
 * instance ID is the prefix, '-' and at most RANGES.replicas' digits, well within
 * SANDBOX_LENGTHS.instanceId.
 */
function nameProblems(settings: SandboxSettings): string[] {
    const problems: string[] = [];
    const pattern = "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'";
    const prefixes = [
        ["instanceIdPrefix", settings.instanceIdPrefix, SANDBOX_LENGTHS.instanceIdPrefix.max],
        ["containerNamePrefix", settings.containerNamePrefix, LENGTHS.containerNamePrefix.max],
    ] as const;
    for (const [key, value, max] of prefixes) {
        if (value.length > max) problems.push(`${key} (got ${show(value)}) must be at most ${max} characters`);
        else if (!NAME_PATTERN.test(value)) problems.push(`${key} (got ${show(value)}) ${pattern}`);
    }
    return problems;
}

/** What each kind of extraEnv value must be, and how it is said. */
const EXTRA_ENV_VALUES: Readonly<Record<"proxy" | "hosts" | "url" | "paths", { test: (v: string) => boolean; must: string }>> = {
    proxy: {
        // A proxy is a host and port: a path would be dropped or misread by each tool that reads the variable.
        test: (v) => httpUrlProblem(v) === undefined && new URL(v).pathname === "/",
        must: "an http:// or https:// proxy URL without credentials or a path, such as http://proxy.example.com:3128 (credentials would sit in the stack file in plain text)",
    },
    hosts: {
        test: (v) => /^[A-Za-z0-9.*:/[\]_-]+(,[A-Za-z0-9.*:/[\]_-]+)*$/.test(v),
        must: "a comma-separated list of host names, domains (.example.com), IP addresses or CIDR ranges, without spaces",
    },
    url: {
        test: (v) => httpUrlProblem(v) === undefined,
        must: "an http:// or https:// URL without credentials, such as http://apt.example.com/ubuntu",
    },
    paths: {
        test: (v) => /^\/[\w.@+=/-]*(,\/[\w.@+=/-]*)*$/.test(v),
        must: "a comma-separated list of absolute paths inside the sandbox, such as /var/lib/docker,/hydra-data,/data",
    },
};

/** Why `value` is no http(s) URL without credentials on a host DNS can name, or undefined. */
function httpUrlProblem(value: string): string | undefined {
    const { problem, url } = apiHostUrlProblem(value);
    if (problem !== undefined || url === undefined) return problem ?? "not-a-url";
    return hostAddressProblem(url.hostname);
}

/**
 * What is wrong with extraEnv: a name that is not one Helix's chart documents (SANDBOX_EXTRA_ENV),
 * the token's or another key's variable above all, or a value of the wrong kind. The values are
 * shown masked: a proxy URL may carry credentials.
 */
function extraEnvProblems(extraEnv: Readonly<Record<string, string>>): string[] {
    const problems: string[] = [];
    for (const [name, value] of Object.entries(extraEnv)) {
        const kind = SANDBOX_EXTRA_ENV[name];
        if (name === SANDBOX_ENV.token) {
            problems.push(`extraEnv.${name} is the runner token, which only apiToken sets (a secret); remove it from extraEnv`);
            continue;
        }
        if (kind === undefined) {
            const own = Object.values(SANDBOX_ENV).includes(name as never) || name in SANDBOX_FIXED_ENV;
            problems.push(
                own
                    ? `extraEnv.${name} is set by the stack itself (from its own key, or fixed as Helix's installer sets it); remove it from extraEnv`
                    : `extraEnv.${JSON.stringify(name).slice(1, -1)} is not a variable extraEnv passes: it takes ${Object.keys(SANDBOX_EXTRA_ENV).join(", ")} (as Helix's chart documents them)`,
            );
            continue;
        }
        const rule = EXTRA_ENV_VALUES[kind];
        if (value.length > 4096 || !rule.test(value)) problems.push(`extraEnv.${name} (got ${show(value)}) must be ${rule.must}`);
    }
    return problems;
}

/**
 * Whose settings are checked: one host's, which run as they are, or the stack keys a listed
 * host's entry inherits, where gpuVendor auto is each host's to resolve (its own check says so).
 */
type SettingsScope = "host" | "defaults";

/** Every problem with one host's sandbox settings, each naming its key and value; empty when they can be planned. */
export function sandboxSettingsProblems(settings: SandboxSettings, scope: SettingsScope = "host"): string[] {
    const apiUrl = sandboxApiUrlProblem(settings.apiUrl);
    const mirror = settings.registryMirror === undefined ? undefined : registryMirrorProblem(settings.registryMirror);
    return [
        ...nameProblems(settings),
        ...sandboxImageProblems(settings),
        ...(apiUrl === undefined ? [] : [apiUrl]),
        ...(scope === "defaults" && settings.gpuVendor === GPU_VENDOR_AUTO ? [] : sandboxGpuProblems(settings)),
        ...(mirror === undefined ? [] : [mirror]),
        ...extraEnvProblems(settings.extraEnv),
    ];
}

/**
 * A word about several sandboxes on one host, or undefined. One sandbox serves many desktops (the
 * control plane caps them with HELIX_SANDBOX_MAX_DEV_CONTAINERS, 20 by default), each sandbox keeps
 * its own desktop images, and every sandbox gets every GPU: more per host multiplies disk and
 * downloads, not capacity. `host` names a listed host.
 */
export function sandboxReplicasWarning(replicas: number, host: string | undefined): string | undefined {
    if (replicas <= 1) return undefined;
    return (
        `replicas is ${replicas}${host === undefined ? "" : ` on host ${host}`}: one sandbox serves many desktops (up to the control plane's ` +
        "HELIX_SANDBOX_MAX_DEV_CONTAINERS, 20 by default) and gets every GPU of its host, while each keeps its own 50-100 GB of " +
        "desktop images, so more sandboxes on one host mostly multiply disk and downloads. One per host is what Helix's installer runs."
    );
}
