// Host paths as a bind mount names them: one spelling, and what binding one hands over. The one
// rule of container engines' sockets and folders, for the program and every policy of the pack.
import { SYSTEM_DIRS } from "./image";

/** A host path with `//`, `/./`, `..` and a trailing `/` resolved, as the engine resolves a bind source. */
export function normalizeHostPath(p: string): string {
    const out: string[] = [];
    for (const part of p.split("/")) {
        if (part === "" || part === ".") continue;
        if (part === "..") out.pop();
        else out.push(part);
    }
    return `/${out.join("/")}`;
}

/** A host path with /var/run read as /run, which it links to on every current distribution. */
function runPath(p: string): string {
    return normalizeHostPath(p).replace(/^\/var\/run(?=\/|$)/, "/run");
}

const HOMES = ["/home/*", "/root", "/var/home/*", "/Users/*"];

/**
 * Where container engines keep their sockets and state, as path patterns ('*' stands for any text
 * inside one folder name): binding any of them, anything inside one, or any folder that holds one
 * hands over the engine, and with it every container of the host. Sockets by their name (any
 * `*.sock` or `*.socket`) come on top, wherever they are; ENGINE_LEAF_LOCATIONS below.
 */
const ENGINE_LOCATIONS: readonly string[] = [
    // Rootful engines' runtime folders (sockets, shims, task state).
    ...[
        "docker",
        "containerd",
        "podman",
        "libpod",
        "containers",
        "crio",
        "cri-dockerd",
        "buildkit",
        "k3s",
        "k0s",
        "rke2",
        "balena-engine",
        "balena",
        "runc",
        "crun",
        "nerdctl",
        "rootlesskit",
        "firecracker-containerd",
        "kata-containers",
        "lxd",
        "incus",
    ].map((name) => `/run/${name}`),
    // Every user's runtime folder: rootless Docker (/run/user/<uid>/docker.sock), Podman and containerd keep their sockets there.
    "/run/user",
    // Engines' state and configuration.
    ...[
        "docker",
        "containerd",
        "containers",
        "rancher",
        "k0s",
        "balena-engine",
        "balena",
        "buildkit",
        "nerdctl",
        "cri-dockerd",
        "lxd",
        "incus",
        "kubelet",
    ].map((name) => `/var/lib/${name}`),
    "/var/snap/docker",
    "/var/snap/lxd",
    "/var/snap/microk8s",
    // A user's engines: Docker Desktop (~/.docker/run, ~/.docker/desktop), rootless Docker's and Podman's data, colima, lima, Rancher Desktop.
    ...HOMES.flatMap((home) =>
        [".docker", ".local/share/docker", ".local/share/containers", ".colima", ".lima", ".rd"].map((dir) => `${home}/${dir}`),
    ),
];

/**
 * Engine folders whose parents are judged on their own: engines' configuration (daemon.json, TLS
 * keys, registries), which hands over the engine at its next start, under /etc (a system folder);
 * Podman's runtime folders when a user has none, under /tmp; Docker Desktop's under WSL's /mnt/wsl.
 * Binding one or anything in it is refused; binding /etc, /tmp or /mnt is not, for holding them.
 */
const ENGINE_LEAF_LOCATIONS: readonly string[] = [
    "/etc/docker",
    "/etc/containerd",
    "/etc/containers",
    "/etc/crio",
    ...HOMES.map((home) => `${home}/.config/containers`),
    "/tmp/podman-run-*",
    "/tmp/storage-run-*",
    "/mnt/wsl/docker-desktop*",
];

/** The Docker socket, in the one spelling runPath gives it. */
const DOCKER_SOCKET = "/run/docker.sock";

/** A socket by its name: `docker.sock`, `podman.sock`, LXD's `unix.socket`, `containerd.sock.ttrpc`. */
const SOCKET_NAME = /\.sock(?:et)?(?:\.|$)/i;

function segmentsOf(path: string): string[] {
    return path.split("/").filter((s) => s !== "");
}

/** Whether one folder name of a pattern ('*' for any text) matches one of a path. */
function segmentMatches(pattern: string, segment: string): boolean {
    if (!pattern.includes("*")) return pattern === segment;
    const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${escaped.join(".*")}$`).test(segment);
}

/** Whether `path` is `location` or inside it ("at"), a folder holding it ("holds"), or neither. */
function relation(path: string[], location: string[]): "at" | "holds" | undefined {
    const shared = Math.min(path.length, location.length);
    for (let i = 0; i < shared; i++) if (!segmentMatches(location[i], path[i])) return undefined;
    return path.length >= location.length ? "at" : "holds";
}

/**
 * Why binding host path `p` would hand over a container engine, or undefined when it would not:
 * the Docker socket, any socket by its name, an engine's folder (ENGINE_LOCATIONS and
 * ENGINE_LEAF_LOCATIONS) or anything in it, and every folder that holds an engine's socket or state
 * (`/`, `/run`, `/var`, `/home/alice`, `/home/alice/.docker`). The one rule for runners, sandboxes
 * and every other container; no config allows it for a runner or a sandbox.
 */
export function engineBindProblem(p: string): string | undefined {
    const path = runPath(p);
    const shown = normalizeHostPath(p);
    if (path === "/") return "the host's root folder";
    if (path === DOCKER_SOCKET) return "the Docker socket";
    const segments = segmentsOf(path);
    if (SOCKET_NAME.test(segments[segments.length - 1] ?? "")) return `${shown}, a container engine's socket`;
    for (const location of [...ENGINE_LOCATIONS, ...ENGINE_LEAF_LOCATIONS]) {
        if (relation(segments, segmentsOf(location)) !== "at") continue;
        return segments.length === segmentsOf(location).length
            ? `${shown}, a container engine's folder`
            : `${shown}, inside a container engine's folder (${location})`;
    }
    if (relation(segments, segmentsOf(DOCKER_SOCKET)) === "holds") return `${shown}, which holds the Docker socket`;
    const held = ENGINE_LOCATIONS.find((location) => relation(segments, segmentsOf(location)) === "holds");
    if (held !== undefined) return `${shown}, which holds a container engine's folder (${held})`;
    return undefined;
}

/** Host folders a runner must never bind: the root, the system folders, and Docker's state. */
const FORBIDDEN_HOST_PATHS = ["/", ...SYSTEM_DIRS, "/var/lib/docker", "/var/run"];

/**
 * Why binding host path `p` into a runner would hand it the host, or undefined when it would not:
 * a container engine (engineBindProblem), a system folder, or anything inside one.
 */
export function hostPathTakeover(p: string): string | undefined {
    const engine = engineBindProblem(p);
    if (engine !== undefined) return engine;
    const path = normalizeHostPath(p);
    if (FORBIDDEN_HOST_PATHS.includes(path)) return `the host's system folder ${path}`;
    if (["/etc", "/proc", "/sys", "/dev", "/root", "/boot", "/var/lib/docker"].some((root) => path.startsWith(`${root}/`)))
        return `${path}, inside a host system folder`;
    return undefined;
}
