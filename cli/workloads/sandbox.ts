// The sandbox workload in the commands: sandboxes are named by index or instance ID, publish
// nothing, pull Helix's image, and answer status through their own dockerd (Helix's health check
// asks it too), whose containers are the desktops the sandbox runs.
import type Docker from "dockerode";
import type { SandboxHost, SandboxSpec } from "../../components/sandbox/plan";
import { SANDBOX_RECORD } from "../../components/sandbox/workload";
import { execIn } from "../engine";
import { table } from "../lib/table";
import { type InnerEngine, type StatusRow, innerEngineOf } from "../report/model";
import { unreadCell } from "../report/render";
import type { WorkloadCommands } from "./types";

/** What a sandbox's GPU setting means, as the plan shows it. */
function gpuOf(s: SandboxSpec, vendor: string): string {
    if (vendor === "none") return "none (software rendering)";
    return s.gpus === undefined ? vendor : `${vendor} --gpus ${s.gpus}`;
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
    probe: async (container) => ({ innerEngine: await innerEngine(container) }),
    // A sandbox has no link, sessions or endpoints of ours to show (Helix's admin UI shows its link and sessions).
    status: { idColumn: "SANDBOX ID", columns: ["INNER DOCKERD"], cells: (r) => [innerEngineText(r)], many: SANDBOX_RECORD.noun.many },
    json: { listKey: "sandboxes", idField: "instanceId", omit: ["endpoints", "controlPlane", "sessions", "desktop"] },
};
