// Policies on Helix's own sandbox (Helix 2.5.42 and later; docs/protocol.md §7): a container
// running ghcr.io/helixml/helix-sandbox, privileged by necessity (its own dockerd, privileged
// desktops). What makes that acceptable is checked here: privileged for the sandbox image and
// nothing else, its token a secret, no host engine handed in, a pinned release, its own volumes
// and ID, nothing published. The facts come from the contract (contract/sandbox.ts).
import * as docker from "@pulumi/docker";
import { PolicyResource, ResourceValidationPolicy, Secret, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import {
    FIRST_SANDBOX_RELEASE,
    INSECURE_DEFAULT_TOKEN,
    helixReleaseProblem,
    parseImageReference,
    SANDBOX_ENV,
    SANDBOX_IMAGE_REPOSITORY,
    SANDBOX_VOLUMES,
    hostPathTakeover,
    isExampleToken,
    normalizeHostPath,
} from "../contract";
import {
    VolumeMount,
    dockerHostOf,
    duplicates,
    environmentOf,
    isRunner,
    isSandbox,
    isSandboxImage,
    localBindDevice,
    namesSandboxImage,
    publishedPorts,
    reveal,
    serviceTaskOf,
} from "./runner";

interface PrivilegedConfig {
    /** Image repositories besides Helix's sandbox that may run privileged, e.g. a CI's docker:dind. */
    allowedPrivilegedImages: string[];
    /** Repositories that mirror Helix's sandbox image (an air-gapped host's registry): a sandbox may run them, under every sandbox rule. */
    sandboxImageMirrors: string[];
}

/** Whether `image`'s repository (whatever its tag or digest) is one of `repositories`. */
function inRepositories(image: unknown, repositories: readonly string[]): boolean {
    return typeof image === "string" && repositories.map((r) => r.toLowerCase()).includes(parseImageReference(image).repository);
}

/** How a container's image reads in a message: a repository when it has one. */
function describeImage(image: unknown): string {
    return typeof image === "string" ? `"${image}"` : "no image reference";
}

/** Host devices that hand over the host's memory or I/O ports: a container given one is privileged in all but the flag. */
const HOST_MEMORY_DEVICES = ["/dev/mem", "/dev/kmem", "/dev/port"];

/**
 * How a container that is not flagged privileged still is, in all but the flag: every capability
 * (or SYS_ADMIN, which most privileged work needs), unconfined seccomp or AppArmor, a device onto
 * the host's memory, or the host's PID, network or IPC namespace.
 */
function privilegeEquivalents(c: Record<string, unknown>): string[] {
    const found: string[] = [];
    const added = ((reveal(c.capabilities) as { adds?: string[] } | undefined)?.adds ?? []).map((cap) =>
        String(cap).toUpperCase().replace(/^CAP_/, ""),
    );
    for (const cap of added.filter((cap) => cap === "ALL" || cap === "SYS_ADMIN")) found.push(`capability ${cap}`);
    for (const opt of ((reveal(c.securityOpts) as unknown[] | undefined) ?? []).map((o) => String(reveal(o))))
        if (/^(seccomp|apparmor)[=:]unconfined$/i.test(opt)) found.push(`securityOpts "${opt}"`);
    for (const device of (reveal(c.devices) as { hostPath?: string }[] | undefined) ?? []) {
        const path = normalizeHostPath(String(reveal(device)?.hostPath ?? ""));
        if (HOST_MEMORY_DEVICES.includes(path)) found.push(`the device ${path}`);
    }
    for (const mode of ["pidMode", "networkMode", "ipcMode"] as const)
        if (String(reveal(c[mode]) ?? "").toLowerCase() === "host") found.push(`${mode}: host`);
    return found;
}

export const sandboxPrivilegedOnly: ResourceValidationPolicy = {
    name: "sandbox-privileged-only",
    description:
        `Checks that only a container running Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) is privileged, or one of allowedPrivilegedImages: ` +
        "a privileged container owns its host. Runners are refused privileges by no-host-takeover (so a privileged runner is reported once, there); " +
        "this policy refuses every other container, and a Swarm service running the sandbox image (Swarm cannot run a privileged task or give it devices). " +
        "Fix: drop privileged; for a sandbox, reference the image by repository (a RemoteImage's repoDigest or name, not its image ID) and run it as a container.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedPrivilegedImages: { type: "array", items: { type: "string" }, default: [] },
            sandboxImageMirrors: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: [
        // Privileged in all but the flag: refused as privileged is (a runner is no-host-takeover's; a sandbox, sandbox-as-helix-runs-it's).
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (reveal(container.privileged) === true || isSandbox(container) || isRunner(container)) return;
            const equivalents = privilegeEquivalents(container as Record<string, unknown>);
            if (equivalents.length === 0) return;
            const image = reveal(container.image) as unknown;
            if (inRepositories(image, args.getConfig<PrivilegedConfig>().allowedPrivilegedImages)) return;
            reportViolation(
                `Container must not be privileged in all but the flag (${equivalents.join(", ")}): only Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) may be privileged, and this one runs ${describeImage(image)}.`,
            );
        }),
        // A sandbox (by its image or its SANDBOX_INSTANCE_ID) runs Helix's image or a listed mirror of it.
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (!isSandbox(container) || isSandboxImage(reveal(container.image))) return;
            const image = reveal(container.image) as unknown;
            if (inRepositories(image, args.getConfig<PrivilegedConfig>().sandboxImageMirrors)) return;
            reportViolation(
                `Container set up as a Helix sandbox (${SANDBOX_ENV.instanceId}) must run Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) ` +
                    `or a mirror of it listed in sandboxImageMirrors, and this one runs ${describeImage(image)}. ` +
                    `Give its image as a repository (${SANDBOX_IMAGE_REPOSITORY}:<release> or a RemoteImage's repoDigest, not an image ID).`,
            );
        }),
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (reveal(container.privileged) !== true || isSandbox(container) || isRunner(container)) return;
            const image = reveal(container.image) as unknown;
            const config = args.getConfig<PrivilegedConfig>();
            if (inRepositories(image, config.sandboxImageMirrors)) {
                reportViolation(
                    `Container runs ${describeImage(image)}, a mirror of Helix's sandbox image, privileged but not set up as a sandbox (no ${SANDBOX_ENV.instanceId}): ` +
                        "the sandbox rules could not hold it. Run it as a sandbox, with its instance ID.",
                );
                return;
            }
            if (inRepositories(image, config.allowedPrivilegedImages)) return;
            const env = environmentOf(container) ?? {};
            // A sandbox started from an image ID: the image is Helix's, but the pack cannot tell.
            const hint =
                SANDBOX_ENV.token in env
                    ? ` If this is a sandbox, give its image as ${SANDBOX_IMAGE_REPOSITORY}:<release> or a RemoteImage's repoDigest, not an image ID.`
                    : "";
            reportViolation(
                `Container must not be privileged: only Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) may be, and this one runs ${describeImage(image)}.${hint}`,
            );
        }),
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            const image = serviceTaskOf(service).containerSpec?.image;
            if (!namesSandboxImage(image)) return;
            reportViolation(
                `A Swarm service must not run Helix's sandbox image (${image}): Swarm cannot run a task privileged or give it devices, and the sandbox needs both. Run sandboxes as containers on each host.`,
            );
        }),
    ],
};

export const sandboxTokenSecret: ResourceValidationPolicy = {
    name: "sandbox-token-secret",
    description:
        `Checks that a sandbox is given a real ${SANDBOX_ENV.token} (not empty, not Helix's example token) and that its environment, which holds it, is a Pulumi secret, ` +
        "with the token in no other property: the sandbox reads the token only from its environment, so the stack state would otherwise hold it in plain text. " +
        'Fix: pass the token with `pulumi.secret(...)` and add `additionalSecretOutputs: ["envs"]` to the container\'s options.',
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
        if (!isSandbox(container)) return;
        const token = environmentOf(container)?.[SANDBOX_ENV.token];
        if (token === undefined || token.trim() === "") {
            reportViolation(`Sandbox container must be given a non-empty ${SANDBOX_ENV.token}: the control plane's runner token.`);
            return;
        }
        if (isExampleToken(token)) {
            reportViolation(
                `Sandbox container must not use Helix's example token ${INSECURE_DEFAULT_TOKEN}: anyone could attach machines with it.`,
            );
        }
        // The token belongs in the (secret) environment alone: a copy anywhere else is stored in plain text.
        if (token.length >= 4) {
            for (const [property, value] of Object.entries(container as Record<string, unknown>)) {
                if (property === "envs") continue;
                if (JSON.stringify(reveal(value) ?? null).includes(JSON.stringify(token).slice(1, -1))) {
                    reportViolation(
                        `Sandbox container must not carry ${SANDBOX_ENV.token} outside its secret environment: ${property} holds it in plain text.`,
                    );
                }
            }
        }
        const markedSecret = args.opts.additionalSecretOutputs?.includes("envs") ?? false;
        const passedAsSecret = (container as { envs?: unknown }).envs instanceof Secret;
        if (!markedSecret && !passedAsSecret) {
            reportViolation(
                `Sandbox container must keep its environment secret (additionalSecretOutputs: ["envs"]): it holds ${SANDBOX_ENV.token}, which would otherwise be stored in plain text in the stack state.`,
            );
        }
    }),
};

/** Where the host's container engine keeps its sockets and state, beside the Docker socket itself. */
const ENGINE_DIRS = ["/run/docker", "/run/containerd", "/var/lib/docker", "/var/lib/containerd"];

/**
 * Why binding host path `p` into a sandbox would hand it the host or its engine: the contract's
 * rules for runners (root, system folders, the Docker socket and the folders that hold it), and
 * the engine's own folders, which a sandbox with its own dockerd never needs. /run/udev and
 * /var/run/sandbox, which Helix's install.sh binds, stay allowed.
 */
function sandboxHostPathProblem(p: string, allowed: readonly string[]): string | undefined {
    const path = normalizeHostPath(p);
    // /var/run is a link to /run on every current distribution.
    const run = path === "/var/run" || path.startsWith("/var/run/") ? `/run${path.slice("/var/run".length)}` : path;
    const engine = ENGINE_DIRS.find((dir) => run === dir || run.startsWith(`${dir}/`));
    if (engine) return `the host's container engine (${engine})`;
    const takeover = hostPathTakeover(path);
    if (takeover === undefined || /Docker socket|engine's socket/.test(takeover)) return takeover;
    return allowed.map(normalizeHostPath).includes(path) ? undefined : takeover;
}

interface NoDockerSocketConfig {
    /** Host folders a sandbox may bind although they are system folders; never the Docker socket or the engine's folders. */
    allowedHostPaths: string[];
}

export const sandboxNoDockerSocket: ResourceValidationPolicy = {
    name: "sandbox-no-docker-socket",
    description:
        "Checks that a sandbox binds neither the host's Docker socket nor a folder holding it (/run, /var/run), nor the engine's folders " +
        "(/run/docker, /run/containerd, /var/lib/docker, /var/lib/containerd), nor " +
        "the host's root or a system folder (however the path is spelled, through a local-driver volume too): it runs its own dockerd, " +
        "and the host's would hand it every container on the host (Helix's install.sh binds the socket only in its development mode, PRIVILEGED_DOCKER). " +
        "/run/udev and /var/run/sandbox, which install.sh binds, are fine. " +
        "Fix: remove the bind; allowedHostPaths may allow a system folder, never the engine.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedHostPaths: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
        if (!isSandbox(container)) return;
        const { allowedHostPaths } = args.getConfig<NoDockerSocketConfig>();
        const check = (source: unknown, what: string) => {
            if (typeof source !== "string" || source === "") return;
            const problem = sandboxHostPathProblem(source, allowedHostPaths);
            if (problem)
                reportViolation(
                    `Sandbox container must not ${what} ${problem} (${source}): it runs its own dockerd and needs none of the host's.`,
                );
        };
        const c = container as Record<string, unknown>;
        for (const volume of (reveal(c.volumes) as { hostPath?: string }[] | undefined) ?? []) check(reveal(volume)?.hostPath, "bind");
        for (const mount of (reveal(c.mounts) as VolumeMount[] | undefined) ?? []) {
            if (mount?.type === "bind") check(mount.source, "bind");
            if (mount?.type === "volume") {
                const options = mount.volumeOptions ?? {};
                check(localBindDevice(options.driverName, options.driverOptions), "mount a local volume that binds");
            }
        }
    }),
};

interface ImagePinnedConfig {
    /** The control plane's release, when the pack should hold every sandbox to it. */
    requiredRelease?: string;
}

/**
 * Why a sandbox image reference is not pinned to a usable release, or undefined when it is: the
 * contract's release grammar (helixReleaseProblem), the program's. `asRepoDigest` for a container's
 * image: the program gives it the RemoteImage's repoDigest (`repository@sha256:...`), whose pulled
 * name, checked on the RemoteImage, carries the release; anywhere else a digest needs its tag.
 */
function sandboxImageProblem(reference: string, { requiredRelease }: ImagePinnedConfig, asRepoDigest: boolean): string | undefined {
    const { tag, digest } = parseImageReference(reference);
    if (asRepoDigest && digest !== undefined && tag === undefined) return undefined;
    const why = "Hydra's API changes between releases, so the sandbox must run the control plane's own release";
    if (tag === undefined || tag === "latest") {
        const shown = tag === undefined ? `untagged "${reference}" (Docker reads that as latest)` : `"${reference}"`;
        return `Sandbox image must be tagged with a Helix release (like ${SANDBOX_IMAGE_REPOSITORY}:2.12.2, a digest beside it or not), not ${shown}: ${why}.`;
    }
    const problem = helixReleaseProblem(tag);
    if (problem !== undefined) return `Sandbox image's tag "${tag}" ${problem}.`;
    if (requiredRelease && tag !== requiredRelease) {
        return `Sandbox image's tag must be the control plane's release ${requiredRelease}, not "${tag}": ${why}.`;
    }
    return undefined;
}

export const sandboxImagePinned: ResourceValidationPolicy = {
    name: "sandbox-image-pinned",
    description:
        `Checks that a sandbox, and any image named like Helix's sandbox (${SANDBOX_IMAGE_REPOSITORY}, or a mirror's .../helix-sandbox), is tagged with a Helix release, ` +
        `${FIRST_SANDBOX_RELEASE} or later, with or without a digest beside it: never latest, untagged or a digest alone, since Hydra's API changed shape nine times ` +
        "between 2.5.12 and 2.12.0 and the sandbox must match its control plane. Set requiredRelease to the control plane's release to hold every sandbox to it. " +
        `Fix: pin the image to the control plane's release, e.g. ${SANDBOX_IMAGE_REPOSITORY}:2.12.2.`,
    enforcementLevel: "mandatory",
    configSchema: { properties: { requiredRelease: { type: "string" } } },
    validateResource: [
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            const image = reveal(container.image) as unknown;
            if (typeof image !== "string" || !(isSandbox(container) || namesSandboxImage(image))) return;
            const problem = sandboxImageProblem(image, args.getConfig<ImagePinnedConfig>(), true);
            if (problem) reportViolation(problem);
        }),
        // A container given a RemoteImage's repoDigest shows only the digest: the pulled name carries the release.
        validateResourceOfType(docker.RemoteImage, (image, args, reportViolation) => {
            const name = reveal(image.name) as unknown;
            if (typeof name !== "string" || !namesSandboxImage(name)) return;
            const problem = sandboxImageProblem(name, args.getConfig<ImagePinnedConfig>(), false);
            if (problem) reportViolation(problem);
        }),
    ],
};

/** What a sandbox mounts at a folder: a named volume or a host folder on its Docker host, or something it cannot share. */
interface SandboxMount {
    readonly kind: "volume" | "bind" | "other";
    readonly source: string;
}

/** A sandbox's mounts by container folder, from `volumes` and `mounts` alike. */
function sandboxMounts(props: Record<string, unknown>): Map<string, SandboxMount> {
    const found = new Map<string, SandboxMount>();
    for (const v of (reveal(props.volumes) as { volumeName?: string; hostPath?: string; containerPath?: string }[] | undefined) ?? []) {
        const volume = reveal(v);
        if (!volume?.containerPath) continue;
        const mount: SandboxMount = volume.volumeName
            ? { kind: "volume", source: volume.volumeName }
            : volume.hostPath
              ? { kind: "bind", source: normalizeHostPath(volume.hostPath) }
              : { kind: "other", source: "an anonymous volume" };
        found.set(normalizeHostPath(volume.containerPath), mount);
    }
    for (const m of (reveal(props.mounts) as VolumeMount[] | undefined) ?? []) {
        const mount = reveal(m);
        if (!mount?.target) continue;
        const kind = mount.type === "volume" && mount.source ? "volume" : mount.type === "bind" && mount.source ? "bind" : "other";
        const source =
            kind === "other"
                ? `a ${mount.type ?? "volume"} mount with no name`
                : kind === "bind"
                  ? normalizeHostPath(mount.source!)
                  : mount.source!;
        found.set(normalizeHostPath(mount.target), { kind, source });
    }
    return found;
}

interface OwnVolumesConfig {
    /** Require volumes at /data (workspaces) and /hydra-data (Hydra's state) too, not only at /var/lib/docker. */
    requireDataVolumes: boolean;
}

export const sandboxOwnVolumes: StackValidationPolicy = {
    name: "sandbox-own-volumes",
    description:
        `Checks that every sandbox mounts a named volume (or a host folder) of its own at ${SANDBOX_VOLUMES.docker}, and unless requireDataVolumes is false at ` +
        `${SANDBOX_VOLUMES.data} and ${SANDBOX_VOLUMES.hydra}, and that no two sandboxes on one Docker host share one: an inner dockerd cannot share its data root, ` +
        "and without a volume its images land in the container's own layer and are lost with it. Fix: give each sandbox its own volumes (the stack names them per sandbox).",
    enforcementLevel: "mandatory",
    configSchema: { properties: { requireDataVolumes: { type: "boolean", default: true } } },
    validateStack: (args, reportViolation) => {
        const { requireDataVolumes } = args.getConfig<OwnVolumesConfig>();
        const required = requireDataVolumes ? Object.values(SANDBOX_VOLUMES) : [SANDBOX_VOLUMES.docker];
        const used: { key: string; item: { sandbox: PolicyResource; path: string; mount: SandboxMount } }[] = [];
        for (const sandbox of args.resources.filter((r) => r.isType(docker.Container) && isSandbox(r.props))) {
            const mounts = sandboxMounts(sandbox.props);
            for (const path of Object.values(SANDBOX_VOLUMES)) {
                const mount = mounts.get(path);
                if (mount === undefined || mount.kind === "other") {
                    if (required.includes(path))
                        reportViolation(
                            `Sandbox container ${sandbox.name} must mount a named volume of its own at ${path}${mount ? `, not ${mount.source}` : ""}.`,
                        );
                    continue;
                }
                used.push({ key: `${dockerHostOf(sandbox)}|${mount.kind}|${mount.source}`, item: { sandbox, path, mount } });
            }
        }
        for (const [, group] of duplicates(used)) {
            if (new Set(group.map((g) => g.sandbox)).size < 2) continue;
            const { kind, source } = group[0].mount;
            reportViolation(
                `Sandboxes must not share a ${kind === "volume" ? "volume" : "host folder"}: "${source}" is mounted by ` +
                    `${group.map((g) => `${g.sandbox.name} at ${g.path}`).join(", ")}; each sandbox's dockerd and Hydra need their own.`,
            );
        }
    },
};

/** The control plane a sandbox reports to, in one spelling: IDs are unique per control plane. */
function controlPlaneOf(apiUrl: string | undefined): string {
    try {
        return new URL(apiUrl ?? "").origin;
    } catch {
        return apiUrl ?? "";
    }
}

export const sandboxIdsUnique: StackValidationPolicy = {
    name: "sandbox-ids-unique",
    description:
        `Checks that every sandbox sets ${SANDBOX_ENV.instanceId} and that no two sandboxes of one control plane share one, across every Docker host of the stack: ` +
        "the control plane keys sandboxes by ID, and a second connection with the same ID replaces the first. " +
        "Fix: let the stack derive the IDs; give each stack its own prefix.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const ids: { key: string; item: PolicyResource }[] = [];
        for (const sandbox of args.resources.filter((r) => r.isType(docker.Container) && isSandbox(r.props))) {
            const env = environmentOf(sandbox.props) ?? {};
            const id = env[SANDBOX_ENV.instanceId];
            if (id === undefined || id.trim() === "") {
                reportViolation(
                    `Sandbox container ${sandbox.name} must set ${SANDBOX_ENV.instanceId}: without it the sandbox registers as "local", as does every other sandbox without one, and they replace each other.`,
                );
                continue;
            }
            ids.push({ key: `${controlPlaneOf(env[SANDBOX_ENV.apiUrl])}|${id}`, item: sandbox });
        }
        for (const [key, group] of duplicates(ids)) {
            reportViolation(
                `Sandboxes must have unique ${SANDBOX_ENV.instanceId}s per control plane: "${key.slice(key.indexOf("|") + 1)}" is used by ${group.map((r) => r.name).join(", ")}.`,
            );
        }
    },
};

export const sandboxNoPublishedPorts: ResourceValidationPolicy = {
    name: "sandbox-no-published-ports",
    description:
        "Checks that a sandbox publishes no port: it dials out to its control plane (RevDial and the heartbeat) and serves nothing on its host, " +
        "and Helix's own install.sh publishes none; a privileged container's port would put Hydra's API, which starts desktops, on the host's network. " +
        "Fix: remove the ports.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
        if (!isSandbox(container)) return;
        if (reveal(container.publishAllPorts) === true)
            reportViolation("Sandbox container must not set publishAllPorts: a sandbox serves nothing on its host.");
        const ports = publishedPorts(container);
        if (ports.length > 0) {
            reportViolation(
                `Sandbox container must not publish ports (it publishes ${ports.map((p) => `${p.internal}/${p.protocol}`).join(", ")}): a sandbox dials out to its control plane and serves nothing on its host.`,
            );
        }
    }),
};

/** Host namespaces a container can share; `container:<x>` shares another container's. */
const NAMESPACE_MODES = ["pidMode", "networkMode", "ipcMode", "usernsMode", "cgroupnsMode"] as const;

export const sandboxAsHelixRunsIt: ResourceValidationPolicy = {
    name: "sandbox-as-helix-runs-it",
    description:
        "Checks that a sandbox, the one container the pack lets run privileged, runs as Helix's installer runs it: the image's own entrypoint and " +
        "command, no host or other container's PID, network, IPC, user or cgroup namespace, and no other container's volumes. " +
        "Privileged is acceptable for Helix's boot and Hydra; a replaced command would be anything at all with the host's privileges and the runner token. " +
        "Fix: remove entrypoints, command, the namespace modes and volumes' fromContainer.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
        if (!isSandbox(container)) return;
        const c = container as Record<string, unknown>;
        for (const property of ["entrypoints", "command"] as const) {
            const value = reveal(c[property]) as unknown[] | undefined;
            if (Array.isArray(value) && value.length > 0)
                reportViolation(
                    `Sandbox container must run Helix's image as it is, with the image's own ${property === "entrypoints" ? "entrypoint" : "command"} (it sets ${property} ${JSON.stringify(value.map((v) => String(reveal(v))))}): privileged, anything else it ran would own the host and hold the runner token.`,
                );
        }
        for (const mode of NAMESPACE_MODES) {
            const value = String(reveal(c[mode]) ?? "").toLowerCase();
            if (value === "host")
                reportViolation(
                    `Sandbox container must not use the host's namespace (${mode}: host): it runs in its own, as Helix runs it.`,
                );
            if (value.startsWith("container:"))
                reportViolation(`Sandbox container must not share another container's namespace (${mode}: ${String(reveal(c[mode]))}).`);
        }
        for (const volume of (reveal(c.volumes) as { fromContainer?: string }[] | undefined) ?? []) {
            const from = reveal(volume)?.fromContainer;
            if (typeof from === "string" && from !== "")
                reportViolation(
                    `Sandbox container must not take another container's volumes (fromContainer ${from}): each sandbox has volumes of its own.`,
                );
        }
    }),
};
