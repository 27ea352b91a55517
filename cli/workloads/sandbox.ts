// The sandbox workload in the commands: sandboxes are named by index or instance ID, publish
// nothing, pull Helix's image, and answer status through their own dockerd (Helix's health check
// asks it too), whose containers are the desktops the sandbox runs.
import type Docker from "dockerode";
import { SANDBOX_IMAGE_REPOSITORY, helixReleaseProblem } from "../../contract";
import type { SandboxHost, SandboxSpec } from "../../components/sandbox/plan";
import { SANDBOX_RECORD } from "../../components/sandbox/workload";
import { execIn } from "../engine";
import { table } from "../lib/table";
import { type InnerEngine, type StatusRow, innerEngineOf } from "../report/model";
import { releaseNotes } from "../report/release";
import { unreadCell } from "../report/render";
import type { WorkloadCommands } from "./types";

/**
 * The room a new sandbox's inner dockerd takes at least: its desktop images, 50-100 GB once a few
 * releases are pulled (docs/sandbox.md, Sizing and volumes). The host checks warn below it.
 */
const DESKTOP_IMAGES_BYTES = 50e9;

/** What a sandbox's GPU setting means, as the plan shows it. */
function gpuOf(s: SandboxSpec, vendor: string): string {
    if (vendor === "none") return "none (software rendering)";
    return s.gpus === undefined ? vendor : `${vendor} --gpus ${s.gpus}`;
}

/**
 * A sandbox's release: the tag its image was pulled under in Helix's sandbox repository (the
 * container runs the image by digest, so the tag is read from the image), or undefined.
 */
async function releaseOf(container: Docker.Container, docker: Docker): Promise<string | undefined> {
    const { Image } = await container.inspect();
    const { RepoTags } = await docker.getImage(Image).inspect();
    const tags = (RepoTags ?? [])
        .filter((t) => t.startsWith(`${SANDBOX_IMAGE_REPOSITORY}:`))
        .map((t) => t.slice(SANDBOX_IMAGE_REPOSITORY.length + 1));
    return tags.find((t) => helixReleaseProblem(t) === undefined) ?? tags[0];
}

/** The release an image reference is tagged with, or undefined for one pinned by digest alone. */
function imageRelease(reference: string): string | undefined {
    return /:([\w][\w.-]{0,127})(?:@sha256:[a-f0-9]{64})?$/.exec(reference.split("/").pop() ?? "")?.[1];
}

/** Asks a sandbox's own dockerd for its containers (the desktops it runs). */
async function innerEngine(container: Docker.Container): Promise<InnerEngine> {
    return innerEngineOf(await execIn(container, ["docker", "ps", "-q"]).catch(() => undefined));
}

/** The INNER DOCKERD cell: whether a sandbox's own engine answers, and how many containers (desktops) it runs. */
function innerEngineText(row: StatusRow): string {
    const unread = unreadCell(row);
    if (unread !== undefined) return unread;
    const inner = row.observed?.innerEngine;
    if (!inner) return "-";
    if (!inner.answers) return "down";
    return inner.containers === undefined ? "up" : `up, ${inner.containers} container${inner.containers === 1 ? "" : "s"}`;
}

export const SANDBOX_COMMANDS: WorkloadCommands<SandboxHost> = {
    kind: "sandbox",
    words: { ...SANDBOX_RECORD.noun, idName: "instance ID", ownId: "instance ID", exampleId: "sandbox-<host>-1" },
    // A sandbox publishes nothing: no endpoints.
    containers: (host) =>
        host.sandboxes.map((s) => ({ index: s.index, id: s.instanceId, containerName: s.containerName, endpoints: undefined })),
    hostHeading: (count) => `${count} Helix sandbox${count === 1 ? "" : "es"}, privileged`,
    renderHost(host) {
        const { sandboxes, settings } = host;
        const out = [`Image: pull ${sandboxes[0]?.image ?? "(none planned)"}`];
        if (settings.networks.length > 0) out.push(`Joins Docker networks: ${settings.networks.join(", ")}`);
        out.push(
            `Volumes: ${settings.keepVolumes ? "kept when a sandbox is removed (keepVolumes true)" : "deleted with their sandbox (keepVolumes false)"}`,
        );
        if (sandboxes.length > 0)
            out.push(
                table(
                    ["INSTANCE ID", "CONTAINER", "GPU", "VOLUMES"],
                    sandboxes.map((s) => [
                        s.instanceId,
                        s.containerName,
                        gpuOf(s, settings.gpuVendor),
                        s.volumes.map((v) => v.name).join(", "),
                    ]),
                ),
            );
        return out;
    },
    // Helix's image is pulled, never built here.
    zedBuildDirs: () => [],
    hostNeeds: (host) => ({
        devices: [...new Set(host.sandboxes.flatMap((s) => s.devices))],
        runtime: host.sandboxes.find((s) => s.runtime !== undefined)?.runtime,
        volumes: host.sandboxes.flatMap((s) =>
            s.volumes
                .filter((v) => v.role === "docker")
                .map((v) => ({ name: v.name, bytes: DESKTOP_IMAGES_BYTES, holds: "desktop images" })),
        ),
    }),
    probe: async (container, docker) => ({
        innerEngine: await innerEngine(container),
        release: await releaseOf(container, docker).catch(() => undefined),
    }),
    // A sandbox has no link, sessions or endpoints of ours to show (Helix's admin UI shows its link and sessions).
    async notes({ hosts, rows, apiHost, stack }, fetchRelease) {
        const planned = hosts.flatMap((h) => h.sandboxes.map((s) => imageRelease(s.image))).filter((r): r is string => r !== undefined);
        const running = rows.filter((r) => r.observed !== undefined).map((r) => ({ id: r.runnerId, release: r.observed?.release }));
        return releaseNotes({ apiHost, stack, controlPlane: await fetchRelease(apiHost), planned, running });
    },
    status: {
        idColumn: "SANDBOX ID",
        columns: ["RELEASE", "INNER DOCKERD"],
        cells: (r) => [r.observed?.release ?? "-", innerEngineText(r)],
        many: SANDBOX_RECORD.noun.many,
    },
    json: { listKey: "sandboxes", idField: "instanceId", omit: ["endpoints", "controlPlane", "sessions", "desktop"] },
};
