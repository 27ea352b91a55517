// The sandbox workload in the commands, on this machine or on every listed host: each
// host's engine runs the sandboxes' containers. The plan lists each host's sandboxes
// (instance IDs, containers, volumes, GPU, image) offline; status reads each container's
// state and health (Helix's own check: the inner dockerd answers); logs reads containers.
// Sandboxes are told from a stack's runners by SANDBOX_LABELS.workload (cli/engine.ts).
import { describeError } from "../../contract";
import type { SandboxHost, SandboxPlacement } from "../../components/placements/placement";
import type { SandboxSpec } from "../../components/sandbox/plan";
import { requireEngine } from "../engine";
import { table } from "../lib/table";
import { enginesFor, followLines, interleave, logsOf, nothingToShow } from "../logStreams";
import { UserError } from "../stackFiles";
import { observe } from "../status/dockerStats";
import { type StatusRow, classify } from "../status/model";
import type { Connect, LogsRequest, PlacementCommands } from "./types";

interface Target {
    readonly host: SandboxHost;
    readonly sandbox: SandboxSpec;
}

/** The commands of a sandbox stack, whatever its placement (this machine, or the listed hosts). */
export function sandboxCommands(placement: SandboxPlacement): PlacementCommands {
    const hosts = placement.kind === "local" ? [placement.host] : placement.hosts;
    return {
        status: (stack, connect) => sandboxStatus(stack, hosts, connect),
        logs: (request, connect) => sandboxLogs(hosts, request, connect),
        plan: () => renderSandboxHosts(hosts),
        // Helix's image is pulled, never built here.
        zedBuildDirs: [],
    };
}

/** A host's sandboxes as status rows take planned containers: the instance ID in the ID column, nothing published. */
function plannedContainers(host: SandboxHost) {
    return {
        name: host.name,
        runners: host.sandboxes.map((s) => ({ runnerId: s.instanceId, containerName: s.containerName, endpoints: undefined })),
    };
}

async function sandboxStatus(stack: string, hosts: readonly SandboxHost[], connect: Connect): Promise<StatusRow[]> {
    const perHost = await Promise.all(
        hosts.map(async (host) => {
            try {
                const docker = connect(host);
                await requireEngine(docker, host);
                return classify(host.name, plannedContainers(host), await observe(docker, stack, "sandbox"));
            } catch (err) {
                const error = describeError(err);
                return host.sandboxes.map((s): StatusRow => ({
                    host: host.name,
                    runnerId: s.instanceId,
                    container: s.containerName,
                    status: "unreachable",
                    observed: undefined,
                    endpoints: undefined,
                    error,
                }));
            }
        }),
    );
    return perHost.flat();
}

/** The sandboxes a SANDBOX argument names: an index (single host) or an instance ID; every one with `all`. */
function selectSandboxes(hosts: readonly SandboxHost[], which: string | undefined, all: boolean): Target[] {
    const targets = hosts.flatMap((host) => host.sandboxes.map((sandbox) => ({ host, sandbox })));
    if (all) return targets;
    if (which === undefined) throw new UserError("Name a sandbox by index or instance ID (e.g. `npm run logs -- 2`), or pass --all.");
    if (/^\d+$/.test(which)) {
        if (hosts.length > 1)
            throw new UserError(
                `This stack has ${hosts.length} hosts: name the sandbox by its instance ID, e.g. ${targets[0]?.sandbox.instanceId ?? "sandbox-<host>-1"}.`,
            );
        const found = targets.find((t) => t.sandbox.index === Number(which));
        if (!found) throw new UserError(`No sandbox ${which}: the stack plans sandboxes 1 to ${targets.length}.`);
        return [found];
    }
    const found = targets.find((t) => t.sandbox.instanceId === which);
    if (!found)
        throw new UserError(
            `No sandbox with instance ID ${which}; the stack's sandboxes: ${targets.map((t) => t.sandbox.instanceId).join(", ") || "none"}.`,
        );
    return [found];
}

function missing(t: Target): UserError {
    return new UserError(
        `Sandbox ${t.sandbox.instanceId} has no container ${t.sandbox.containerName} on host ${t.host.name}: see \`npm run status\`.`,
    );
}

async function sandboxLogs(hosts: readonly SandboxHost[], request: LogsRequest, connect: Connect): Promise<number> {
    const { stack, since, follow } = request;
    const targets = selectSandboxes(hosts, request.which, request.all);
    if (targets.length === 0) return nothingToShow(`Stack ${stack} plans no sandboxes (replicas is 0)`, follow);
    const clients = await enginesFor(targets, connect);
    const prefix = targets.length > 1;
    const is404 = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;
    if (follow) {
        const followed = await Promise.all(
            targets.map(async (t) => {
                const docker = clients.get(t.host.name)!;
                let stream: NodeJS.ReadableStream;
                try {
                    stream = (await docker
                        .getContainer(t.sandbox.containerName)
                        .logs({ stdout: true, stderr: true, follow: true, since: since ?? 0 })) as unknown as NodeJS.ReadableStream;
                } catch (err) {
                    if (!is404(err)) throw err;
                    if (!prefix) throw missing(t);
                    process.stderr.write(`${missing(t).message}\n`);
                    return false;
                }
                await followLines(docker, stream, prefix ? `${t.sandbox.instanceId} | ` : "");
                return true;
            }),
        );
        return followed.some(Boolean) ? 0 : nothingToShow(`None of stack ${stack}'s ${targets.length} sandboxes has a container`, follow);
    }
    const texts = await Promise.all(
        targets.map(async (t) => {
            try {
                const text = await logsOf(clients.get(t.host.name)!, t.sandbox.containerName, { since, timestamps: prefix });
                return { runnerId: t.sandbox.instanceId, text };
            } catch (err) {
                throw is404(err) ? missing(t) : err;
            }
        }),
    );
    process.stdout.write(prefix ? interleave(texts).join("\n") + "\n" : texts[0].text);
    return 0;
}

/** What a sandbox's GPU setting means, as the plan shows it. */
function gpuOf(s: SandboxSpec, vendor: string): string {
    if (vendor === "none") return "none (software rendering)";
    return s.gpus === undefined ? vendor : `${vendor} --gpus ${s.gpus}`;
}

/** Each host's part of the plan: its engine, sandboxes, image and volumes. */
function renderSandboxHosts(hosts: readonly SandboxHost[]): string[] {
    const out: string[] = [];
    for (const host of hosts) {
        const { sandboxes, settings } = host;
        out.push("");
        out.push(
            `Host ${host.name} (${host.connection?.host ?? "this machine's Docker engine"}): ${sandboxes.length} Helix sandbox${sandboxes.length === 1 ? "" : "es"}, privileged`,
        );
        out.push(`Image: pull ${sandboxes[0]?.image ?? "(none planned)"}`);
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
    }
    return out;
}
