// Policies on Helix's own sandbox (Helix 2.5.42 and later; docs/protocol.md §7): a container
// running ghcr.io/helixml/helix-sandbox (or a mirror of it), privileged by necessity (its own
// dockerd, privileged desktops). What makes that acceptable is checked here: privileged for the
// sandbox image and nothing else, run as Helix runs it, its token a secret, no host engine handed
// in, a pinned release, its own volumes and ID, nothing published. The facts come from the
// contract (contract/sandbox.ts); what loses confinement, from policy/confinement.ts.
import * as docker from "@pulumi/docker";
import { PolicyResource, ResourceValidationPolicy, Secret, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import {
    FIRST_SANDBOX_RELEASE,
    INSECURE_DEFAULT_TOKEN,
    SANDBOX_ENV,
    SANDBOX_HEALTHCHECK_COMMAND,
    SANDBOX_IMAGE_REPOSITORY,
    SANDBOX_VOLUMES,
    engineBindProblem,
    hostPathTakeover,
    isExampleToken,
    normalizeHostPath,
    parseImageReference,
    sandboxImagePinProblem,
} from "../contract";
import { type ConfinementLoss, confinementLosses, hostBinds, namespaceLosses } from "./confinement";
import {
    VolumeMount,
    canonicalRepository,
    controlPlaneOf,
    dockerHostOf,
    duplicates,
    environmentOf,
    inRepositories,
    isImageId,
    isKnownSandbox,
    isRunner,
    isSandbox,
    isSandboxImage,
    isSet,
    known,
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

/** How a container's image reads in a message: a repository when it has one. */
function describeImage(image: unknown): string {
    return typeof image === "string" ? `"${image}"` : "no image reference";
}

/** How a loss of confinement reads in sandbox-privileged-only's message. */
function describeLoss(loss: ConfinementLoss): string {
    switch (loss.kind) {
        case "capability":
            return `capability ${loss.setting}`;
        case "bind":
            return `${loss.bind!.via === "bind" ? "a bind of" : "a local volume that binds"} ${loss.setting}`;
        default:
            return loss.setting;
    }
}

export const sandboxPrivilegedOnly: ResourceValidationPolicy = {
    name: "sandbox-privileged-only",
    description:
        `Checks that only a container running Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) is privileged, or one of allowedPrivilegedImages: ` +
        "a privileged container owns its host. That includes privileged in all but the flag: a dangerous capability (ALL, SYS_ADMIN, SYS_MODULE, SYS_RAWIO, " +
        "SYS_PTRACE, DAC_READ_SEARCH, NET_ADMIN, BPF, ...), unconfined seccomp, AppArmor, SELinux label or system paths, the host's memory, disks or /dev, " +
        "device rules that open them, the host's PID, network, IPC, user or cgroup namespace, a bind of a container engine's socket or of /, /proc, /sys or /dev " +
        "(the rules no-host-takeover holds runners to, in policy/confinement.ts). A sandbox is a container whose image is named .../helix-sandbox on any registry " +
        "or that sets SANDBOX_INSTANCE_ID; it must run Helix's repository or one listed in sandboxImageMirrors, and a listed mirror may run only as a sandbox, " +
        "so every sandbox rule holds it. Runners are refused privileges by no-host-takeover (so a privileged runner is reported once, there); " +
        "no Swarm service may run the sandbox image (Swarm cannot run a privileged task or give it devices). " +
        "Fix: drop privileged and those settings; for a sandbox, reference the image by repository (a RemoteImage's repoDigest or name, not its image ID), " +
        "list a mirror in sandboxImageMirrors, and run it as a container with its SANDBOX_INSTANCE_ID.",
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
            if (isSet(container.privileged) || isSandbox(container) || isRunner(container)) return;
            const losses = confinementLosses(container, { kind: "general" });
            if (losses.length === 0) return;
            const image = reveal(container.image) as unknown;
            const config = args.getConfig<PrivilegedConfig>();
            // A listed mirror outside a sandbox is refused whatever it sets, below.
            if (inRepositories(image, config.allowedPrivilegedImages) || inRepositories(image, config.sandboxImageMirrors)) return;
            reportViolation(
                `Container must not be privileged in all but the flag (${losses.map(describeLoss).join(", ")}): only Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) may be privileged, and this one runs ${describeImage(image)}.`,
            );
        }),
        // A sandbox (by its image's name or its SANDBOX_INSTANCE_ID) runs Helix's image or a listed mirror of it.
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (!isSandbox(container) || isSandboxImage(reveal(container.image))) return;
            const image = reveal(container.image) as unknown;
            if (inRepositories(image, args.getConfig<PrivilegedConfig>().sandboxImageMirrors) && !isImageId(String(image))) return;
            reportViolation(
                `Container set up as a Helix sandbox (${SANDBOX_ENV.instanceId}, or an image named .../helix-sandbox) must run Helix's sandbox image (${SANDBOX_IMAGE_REPOSITORY}) ` +
                    `or a mirror of it listed in sandboxImageMirrors, and this one runs ${describeImage(image)}. ` +
                    `Give its image as a repository (${SANDBOX_IMAGE_REPOSITORY}:<release> or a RemoteImage's repoDigest, not an image ID).`,
            );
        }),
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (isSandbox(container)) return;
            const image = reveal(container.image) as unknown;
            const config = args.getConfig<PrivilegedConfig>();
            // A mirror listed as the sandbox's is a sandbox to the pack: run as anything else, no sandbox rule would hold it.
            if (inRepositories(image, config.sandboxImageMirrors)) {
                reportViolation(
                    `Container runs ${describeImage(image)}, a mirror of Helix's sandbox image listed in sandboxImageMirrors, but is not set up as a sandbox (no ${SANDBOX_ENV.instanceId}): ` +
                        "the sandbox rules could not hold it. Run it as a sandbox, with its instance ID.",
                );
                return;
            }
            if (!isSet(container.privileged) || isRunner(container)) return;
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
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            const image = serviceTaskOf(service).containerSpec?.image;
            if (!namesSandboxImage(image) && !inRepositories(image, args.getConfig<PrivilegedConfig>().sandboxImageMirrors)) return;
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

/**
 * Why binding host path `p` into a sandbox would hand it the host or its engine: any container
 * engine's socket, state or a folder holding one (engineBindProblem, the rule runners are held to
 * as well), which no config allows; then the contract's rules for runners (root, system folders),
 * which allowedHostPaths may allow. /run/udev and /var/run/sandbox, which Helix's install.sh binds,
 * are neither.
 */
function sandboxHostPathProblem(p: string, allowed: readonly string[]): string | undefined {
    const engine = engineBindProblem(p);
    if (engine !== undefined) return engine;
    const takeover = hostPathTakeover(p);
    // Whatever the contract calls an engine's is never the config's to allow.
    if (takeover === undefined || /socket|engine/i.test(takeover)) return takeover;
    return allowed.map(normalizeHostPath).includes(normalizeHostPath(p)) ? undefined : takeover;
}

interface NoDockerSocketConfig {
    /** Host folders a sandbox may bind although they are system folders; never an engine's socket or folders. */
    allowedHostPaths: string[];
}

export const sandboxNoDockerSocket: ResourceValidationPolicy = {
    name: "sandbox-no-docker-socket",
    description:
        "Checks that a sandbox binds no container engine's socket (the Docker socket, rootless Docker's /run/user/<uid>/docker.sock, Podman's, " +
        "containerd's, any *.sock or *.socket), nor an engine's folders (/run/docker, /run/containerd, /run/k3s, /var/lib/docker, /var/lib/containerd, " +
        "Docker Desktop's ~/.docker, ...), nor any folder holding one of those (/, /run, /var/run, /run/user, /home/<user>), nor the host's root or a " +
        "system folder, however the path is spelled and through a local-driver volume too: it runs its own dockerd, and the host's would hand it every " +
        "container on the host (Helix's install.sh binds the socket only in its development mode, PRIVILEGED_DOCKER). The engine rule is the one " +
        "no-host-takeover holds runners to. /run/udev and /var/run/sandbox, which install.sh binds, are fine. " +
        "Fix: remove the bind; allowedHostPaths may allow a system folder, never an engine's.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedHostPaths: { type: "array", items: { type: "string" }, default: [] },
        },
    },
    validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
        if (!isSandbox(container)) return;
        const { allowedHostPaths } = args.getConfig<NoDockerSocketConfig>();
        for (const { source, via } of hostBinds(container)) {
            const problem = sandboxHostPathProblem(source, allowedHostPaths);
            if (problem)
                reportViolation(
                    `Sandbox container must not ${via === "bind" ? "bind" : "mount a local volume that binds"} ${problem} (${source}): it runs its own dockerd and needs none of the host's.`,
                );
        }
    }),
};

interface ImagePinnedConfig {
    /** The control plane's release, when the pack should hold every sandbox to it. */
    requiredRelease?: string;
}

/**
 * Why a sandbox image reference is not pinned to a usable release, or undefined when it is: the
 * contract's grammar (sandboxImagePinProblem, the program's own: a tag that is a Helix release from
 * FIRST_SANDBOX_RELEASE on, a well-formed digest beside it or not, never a digest alone), then
 * requiredRelease.
 */
function pinProblem(reference: string, { requiredRelease }: ImagePinnedConfig): string | undefined {
    const problem = sandboxImagePinProblem(reference);
    if (problem !== undefined) return problem;
    const { tag } = parseImageReference(reference);
    if (requiredRelease && tag !== requiredRelease)
        return `has the tag ${tag}, but the control plane runs ${requiredRelease} (requiredRelease): Hydra's API changes between releases, so a sandbox must run its control plane's release`;
    return undefined;
}

/** A RemoteImage as the pin check reads it; a value unknown during preview is undefined. */
interface PulledImage {
    readonly resource: PolicyResource;
    readonly name?: string;
    readonly repoDigest?: string;
    readonly imageId?: string;
}

function pulledImageOf(resource: PolicyResource): PulledImage {
    const read = (key: string) => known(() => reveal(resource.props[key]) as unknown);
    const text = (value: unknown) => (typeof value === "string" && value.trim() !== "" ? value.trim() : undefined);
    return { resource, name: text(read("name")), repoDigest: text(read("repoDigest")), imageId: text(read("imageId")) };
}

/** Whether a RemoteImage pulled the repository and digest of `reference` (`repository@sha256:...`). */
function pullsDigest(image: PulledImage, reference: string): boolean {
    const { digest } = parseImageReference(reference);
    const repository = canonicalRepository(reference);
    return [image.repoDigest, image.name].some((pulled) => {
        if (pulled === undefined) return false;
        const parsed = parseImageReference(pulled);
        return parsed.digest?.toLowerCase() === digest?.toLowerCase() && canonicalRepository(pulled) === repository;
    });
}

export const sandboxImagePinned: StackValidationPolicy = {
    name: "sandbox-image-pinned",
    description:
        `Checks that every sandbox's image, and every RemoteImage named like the sandbox's (${SANDBOX_IMAGE_REPOSITORY}, or a mirror's .../helix-sandbox) ` +
        `or that a sandbox's image is taken from, is tagged with a Helix release, ${FIRST_SANDBOX_RELEASE} or later, with or without a well-formed digest beside it ` +
        "(the contract's grammar, the program's): never latest, untagged or a digest alone, since Hydra's API changed shape nine times between 2.5.12 and 2.12.0 " +
        "and the sandbox must match its control plane. A digest does not skip the check: a sandbox given a digest without a tag (a RemoteImage's repoDigest, " +
        "as the program gives it) or an image ID is checked through the RemoteImage of the stack that pulled it, and refused when there is none. " +
        "Set requiredRelease to the control plane's release to hold every sandbox to it. " +
        `Fix: pin the image to the control plane's release, e.g. ${SANDBOX_IMAGE_REPOSITORY}:2.12.2, or pull it with a RemoteImage so named.`,
    enforcementLevel: "mandatory",
    configSchema: { properties: { requiredRelease: { type: "string" } } },
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<ImagePinnedConfig>();
        const pulled = args.resources.filter((r) => r.isType(docker.RemoteImage)).map(pulledImageOf);
        const checked = new Set<PolicyResource>();
        const checkPulled = (image: PulledImage) => {
            if (checked.has(image.resource) || image.name === undefined) return;
            checked.add(image.resource);
            const problem = pinProblem(image.name, config);
            if (problem)
                reportViolation(`RemoteImage ${image.resource.name}'s sandbox image "${image.name}" ${problem}.`, image.resource.urn);
        };
        for (const container of args.resources.filter((r) => r.isType(docker.Container))) {
            if (!isKnownSandbox(container.props)) continue;
            // The RemoteImages its image is computed from (a repoDigest or imageId output), whatever their names.
            for (const source of container.propertyDependencies?.image ?? []) {
                const image = pulled.find((p) => p.resource === source || p.resource.urn === source.urn);
                if (image) checkPulled(image);
            }
            const image = known(() => reveal(container.props.image) as unknown);
            if (typeof image !== "string") continue;
            const say = (problem: string) =>
                reportViolation(`Sandbox container ${container.name}'s image "${image}" ${problem}.`, container.urn);
            const { tag, digest } = parseImageReference(image);
            if (isImageId(image)) {
                const from = pulled.find((p) => p.imageId?.toLowerCase() === image.trim().toLowerCase());
                if (from) checkPulled(from);
                else
                    say(
                        "is an image ID, which names no repository and no release, and no RemoteImage of the stack has that ID: " +
                            `give it ${SANDBOX_IMAGE_REPOSITORY}:<release>, or the repoDigest of a RemoteImage that pulls one, so which Helix release it runs can be checked`,
                    );
                continue;
            }
            if (tag === undefined && digest !== undefined) {
                const from = pulled.find((p) => pullsDigest(p, image));
                if (from) checkPulled(from);
                else
                    say(
                        `${sandboxImagePinProblem(image) ?? "has a digest but no tag"}, and no RemoteImage of the stack pulls it with a release tag`,
                    );
                continue;
            }
            const problem = pinProblem(image, config);
            if (problem) say(problem);
        }
        for (const image of pulled) if (image.name !== undefined && namesSandboxImage(image.name)) checkPulled(image);
    },
};

/** What a sandbox mounts at a folder: a named volume or a host folder on its Docker host, or something it cannot share. */
interface SandboxMount {
    readonly kind: "volume" | "bind" | "other";
    readonly source: string;
}

/**
 * A container's mounts by container folder, from `volumes` and `mounts` alike: a named volume, a
 * host folder (a bind, or a local-driver volume that binds one), or something no one else can mount
 * (an anonymous volume, a tmpfs).
 */
function containerMounts(props: Record<string, unknown>): Map<string, SandboxMount> {
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
        const type = String(mount.type ?? "volume").toLowerCase();
        const device = type === "volume" ? localBindDevice(mount.volumeOptions?.driverName, mount.volumeOptions?.driverOptions) : undefined;
        const kind =
            typeof device === "string" && device !== ""
                ? "bind"
                : type === "volume" && mount.source
                  ? "volume"
                  : type === "bind" && mount.source
                    ? "bind"
                    : "other";
        const source =
            kind === "other"
                ? `a ${type} mount with no name`
                : kind === "bind"
                  ? normalizeHostPath(typeof device === "string" && device !== "" ? device : mount.source!)
                  : mount.source!;
        found.set(normalizeHostPath(mount.target), { kind, source });
    }
    return found;
}

/** Whether two host folders overlap: one is the other or holds it. */
function overlaps(a: string, b: string): boolean {
    return a === b || a.startsWith(`${b === "/" ? "" : b}/`) || b.startsWith(`${a === "/" ? "" : a}/`);
}

interface OwnVolumesConfig {
    /** Require volumes at /data (workspaces) and /hydra-data (Hydra's state) too, not only at /var/lib/docker. */
    requireDataVolumes: boolean;
}

export const sandboxOwnVolumes: StackValidationPolicy = {
    name: "sandbox-own-volumes",
    description:
        `Checks that every sandbox mounts a named volume (or a host folder) of its own at ${SANDBOX_VOLUMES.docker}, and unless requireDataVolumes is false at ` +
        `${SANDBOX_VOLUMES.data} and ${SANDBOX_VOLUMES.hydra}, that no two sandboxes on one Docker host share one, and that no other container or service on ` +
        "its Docker host mounts a sandbox's named volume or its folders: an inner dockerd cannot share its data root, without a volume its images land in the " +
        "container's own layer and are lost with it, and whatever else mounts them can change what the privileged sandbox runs or read its workspaces. " +
        "Fix: give each sandbox its own volumes (the stack names them per sandbox), used by nothing else.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { requireDataVolumes: { type: "boolean", default: true } } },
    validateStack: (args, reportViolation) => {
        const { requireDataVolumes } = args.getConfig<OwnVolumesConfig>();
        const required = requireDataVolumes ? Object.values(SANDBOX_VOLUMES) : [SANDBOX_VOLUMES.docker];
        const containers = args.resources
            .filter((r) => r.isType(docker.Container))
            .flatMap((r) => {
                const mounts = known(() => containerMounts(r.props));
                return mounts ? [{ resource: r, host: dockerHostOf(r), sandbox: isKnownSandbox(r.props), mounts }] : [];
            });
        // Named volumes that are a host folder by another name (the local driver's bind).
        const volumeBinds = new Map<string, string>();
        for (const volume of args.resources.filter((r) => r.isType(docker.Volume))) {
            const bind = known(() => ({
                name: reveal(volume.props.name) as unknown,
                device: localBindDevice(reveal(volume.props.driver), reveal(volume.props.driverOpts)),
            }));
            if (typeof bind?.name === "string" && typeof bind.device === "string" && bind.device !== "")
                volumeBinds.set(`${dockerHostOf(volume)}|${bind.name}`, normalizeHostPath(bind.device));
        }
        // What every other container and service of the stack mounts, by Docker host.
        const others = containers
            .filter((c) => !c.sandbox)
            .flatMap((c) => [...c.mounts.values()].map((mount) => ({ resource: c.resource, host: c.host, mount })));
        for (const service of args.resources.filter((r) => r.isType(docker.Service))) {
            const mounts = known(() => containerMounts({ mounts: serviceTaskOf(service.props).containerSpec?.mounts }));
            for (const mount of mounts?.values() ?? []) others.push({ resource: service, host: dockerHostOf(service), mount });
        }
        const hostFolderOf = (host: string, mount: SandboxMount) =>
            mount.kind === "bind" ? mount.source : mount.kind === "volume" ? volumeBinds.get(`${host}|${mount.source}`) : undefined;

        const used: { key: string; item: { sandbox: PolicyResource; path: string; mount: SandboxMount } }[] = [];
        for (const sandbox of containers.filter((c) => c.sandbox)) {
            for (const path of Object.values(SANDBOX_VOLUMES)) {
                const mount = sandbox.mounts.get(path);
                if (mount === undefined || mount.kind === "other") {
                    if (required.includes(path))
                        reportViolation(
                            `Sandbox container ${sandbox.resource.name} must mount a named volume of its own at ${path}${mount ? `, not ${mount.source}` : ""}.`,
                        );
                    continue;
                }
                used.push({ key: `${sandbox.host}|${mount.kind}|${mount.source}`, item: { sandbox: sandbox.resource, path, mount } });
            }
            // Its named volumes wherever mounted, and its own folders: nothing that is not a sandbox may mount them.
            for (const [path, mount] of sandbox.mounts) {
                if (mount.kind === "other" || (mount.kind === "bind" && !Object.values<string>(SANDBOX_VOLUMES).includes(path))) continue;
                const folder = hostFolderOf(sandbox.host, mount);
                const sharing = others.filter(
                    (o) =>
                        o.host === sandbox.host &&
                        ((mount.kind === "volume" && o.mount.kind === "volume" && o.mount.source === mount.source) ||
                            (folder !== undefined &&
                                (() => {
                                    const theirs = hostFolderOf(o.host, o.mount);
                                    return theirs !== undefined && overlaps(folder, theirs);
                                })())),
                );
                if (sharing.length === 0) continue;
                reportViolation(
                    `Sandbox container ${sandbox.resource.name} must not share its ${mount.kind === "volume" ? "volume" : "host folder"} "${mount.source}" (at ${path}) ` +
                        `with ${[...new Set(sharing.map((o) => o.resource.name))].join(", ")}, which ${sharing.length > 1 ? "are" : "is"} not a sandbox: ` +
                        "what else mounts it can change what the privileged sandbox runs or read what it keeps.",
                    sandbox.resource.urn,
                );
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

export const sandboxIdsUnique: StackValidationPolicy = {
    name: "sandbox-ids-unique",
    description:
        `Checks that every sandbox sets ${SANDBOX_ENV.instanceId} and that no two sandboxes of one control plane share one, across every Docker host of the stack: ` +
        "the control plane keys sandboxes by ID, and a second connection with the same ID replaces the first. One control plane under two spellings " +
        "(case, a trailing dot or slash, a default port, punycode) is one. " +
        "Fix: let the stack derive the IDs; give each stack its own prefix.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const ids: { key: string; item: PolicyResource }[] = [];
        for (const sandbox of args.resources.filter((r) => r.isType(docker.Container) && isKnownSandbox(r.props))) {
            const env = known(() => environmentOf(sandbox.props)) ?? {};
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
        if (isSet(container.publishAllPorts))
            reportViolation("Sandbox container must not set publishAllPorts: a sandbox serves nothing on its host.");
        const ports = publishedPorts(container);
        if (ports.length > 0) {
            reportViolation(
                `Sandbox container must not publish ports (it publishes ${ports.map((p) => `${p.internal}/${p.protocol}`).join(", ")}): a sandbox dials out to its control plane and serves nothing on its host.`,
            );
        }
    }),
};

/**
 * Where a sandbox may mount anything: its own volumes, the host folders Helix's install.sh binds
 * (/run/udev for device hotplug, /var/run/sandbox), and the kernel's file systems, which hold none
 * of the image's files. A mount anywhere else puts files of its own in place of the image's, which
 * run privileged.
 */
const SANDBOX_MOUNT_PATHS: readonly string[] = [...Object.values(SANDBOX_VOLUMES), "/run/udev", "/run/sandbox", "/proc", "/sys", "/dev"];

/**
 * Environment that changes what a process loads or runs rather than what it is told: the dynamic
 * loader's (LD_PRELOAD and kin, glibc's GCONV_PATH and tunables), a shell's start-up files and
 * traps (BASH_ENV, ENV, exported functions, PS4, PROMPT_COMMAND), the search path, interpreters'
 * preloads, git's config injection, and the Docker and containerd clients' engine (Hydra would start
 * desktops on another engine). None of it is Helix's.
 */
const CODE_LOADING_ENV =
    /^(LD_\w+|GCONV_PATH|GLIBC_TUNABLES|HOSTALIASES|LOCPATH|NLSPATH|MALLOC_\w+|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|IFS|PATH|NODE_OPTIONS|NODE_PATH|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PYTHONUSERBASE|PERL5OPT|PERL5LIB|PERLLIB|RUBYOPT|RUBYLIB|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|GIT_CONFIG\w*|GIT_EXEC_PATH|GIT_SSH\w*|GIT_PROXY_COMMAND|DOCKER_HOST|DOCKER_CONTEXT|DOCKER_CONFIG|CONTAINERD_ADDRESS)$/;

/** A value as a message may show it: the runner token, if the value carries it, replaced. */
function withoutToken(text: string, token: string | undefined): string {
    return token !== undefined && token.length >= 4 ? text.split(token).join("***") : text;
}

export const sandboxAsHelixRunsIt: ResourceValidationPolicy = {
    name: "sandbox-as-helix-runs-it",
    description:
        "Checks that a sandbox, the one container the pack lets run privileged, runs as Helix's installer and the program run it: the image's own entrypoint, " +
        `command and files (no uploads, nothing mounted but at its volumes' folders ${Object.values(SANDBOX_VOLUMES).join(", ")} and install.sh's /run/udev and ` +
        "/var/run/sandbox), the program's health check or none (Docker runs it inside the sandbox, which holds the runner token), no environment that changes what its " +
        "programs load or run (LD_PRELOAD, BASH_ENV, PATH, DOCKER_HOST, ...), no host or other container's PID, network, IPC, user or cgroup namespace, and no other " +
        "container's volumes. Privileged is acceptable for Helix's boot and Hydra; anything else would run with the host's privileges and the runner token. " +
        "Fix: remove entrypoints, command, uploads, the extra mounts and variables, the namespace modes and volumes' fromContainer; use the program's health check.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
        if (!isSandbox(container)) return;
        const c = container as Record<string, unknown>;
        const env = environmentOf(container) ?? {};
        const token = env[SANDBOX_ENV.token];
        const show = (value: unknown[]) => withoutToken(JSON.stringify(value.map((v) => String(reveal(v)))), token);
        for (const property of ["entrypoints", "command"] as const) {
            const value = reveal(c[property]) as unknown[] | undefined;
            if (Array.isArray(value) && value.length > 0)
                reportViolation(
                    `Sandbox container must run Helix's image as it is, with the image's own ${property === "entrypoints" ? "entrypoint" : "command"} (it sets ${property} ${show(value)}): privileged, anything else it ran would own the host and hold the runner token.`,
                );
        }
        // Helix's image runs as its own user from its own folder; another user or folder changes what its entrypoint does.
        for (const property of ["user", "workingDir"] as const) {
            const value = reveal(c[property]);
            if (typeof value === "string" && value !== "")
                reportViolation(
                    `Sandbox container must run Helix's image as it is, as the image's own ${property === "user" ? "user" : "working folder"} (it sets ${property} ${withoutToken(JSON.stringify(value), token)}): install.sh sets neither.`,
                );
        }
        const tests = (reveal(c.healthcheck) as { tests?: unknown[] } | undefined)?.tests;
        const test = Array.isArray(tests) ? tests.map((t) => String(reveal(t))) : [];
        if (
            test.length > 0 &&
            !(test.length === 1 && test[0] === "NONE") &&
            JSON.stringify(test) !== JSON.stringify(SANDBOX_HEALTHCHECK_COMMAND)
        )
            reportViolation(
                `Sandbox container's health check must be the program's, ${JSON.stringify(SANDBOX_HEALTHCHECK_COMMAND)}, or none (it sets ${show(test)}): ` +
                    "Docker runs it inside the privileged sandbox, with the runner token in its environment.",
            );
        const uploads = (reveal(c.uploads) as { file?: unknown }[] | undefined) ?? [];
        if (uploads.length > 0)
            reportViolation(
                `Sandbox container must not be given files (uploads ${uploads.map((u) => String(reveal(reveal(u)?.file))).join(", ")}): ` +
                    "they would replace the image's own, which run privileged with the runner token.",
            );
        for (const name of Object.keys(env).filter((n) => CODE_LOADING_ENV.test(n)))
            reportViolation(
                `Sandbox container must not set ${name}: it changes what the privileged sandbox's own programs load or run, which must be Helix's image as it is.`,
            );
        for (const [path, mount] of containerMounts(c)) {
            // An anonymous volume starts as the image's own files and a tmpfs empty: neither brings files of its own.
            if (mount.kind === "other") continue;
            // A bind of the host's engine or system folders is sandbox-no-docker-socket's to report (or its config's to allow).
            if (mount.kind === "bind" && (engineBindProblem(mount.source) ?? hostPathTakeover(mount.source)) !== undefined) continue;
            const inside = path.replace(/^\/var\/run(?=\/|$)/, "/run");
            if (SANDBOX_MOUNT_PATHS.some((allowed) => inside === allowed || inside.startsWith(`${allowed}/`))) continue;
            reportViolation(
                `Sandbox container must not mount ${mount.kind === "bind" ? `the host folder ${mount.source}` : `the volume ${mount.source}`} at ${path}: ` +
                    `it would put files of its own in place of the image's, which run privileged; a sandbox mounts only its volumes (${Object.values(SANDBOX_VOLUMES).join(", ")}) and /run/udev and /var/run/sandbox.`,
            );
        }
        for (const loss of namespaceLosses(container, true)) {
            reportViolation(
                loss.kind === "host-namespace"
                    ? `Sandbox container must not use the host's namespace (${loss.setting}): it runs in its own, as Helix runs it.`
                    : `Sandbox container must not share another container's namespace (${loss.setting}).`,
            );
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
