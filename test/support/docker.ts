// Helpers over the Docker Engine API (dockerode) for the end-to-end tests.
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";

export { execIn } from "../../cli/engine";

export const docker = new Docker({ socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock" });

/** Fails with the way to get an engine when none answers. */
export async function requireEngine(): Promise<void> {
    try {
        await docker.ping();
    } catch (err) {
        throw new Error(`No Docker engine answers on /var/run/docker.sock (${String(err)}). Run \`bash .ci/engine.sh\` first.`);
    }
}

/** All files below `dir`, relative to `root`. */
export function filesUnder(root: string, dir: string): string[] {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) return [];
    return fs.readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
        const rel = path.join(dir, entry.name);
        return entry.isDirectory() ? filesUnder(root, rel) : [rel];
    });
}

/** Builds an image from `files` of `context` and returns its ID; build errors are thrown with the build's output. */
export async function buildImage(
    context: string,
    files: string[],
    options: { tag: string; dockerfile: string; buildargs?: Record<string, string>; labels?: Record<string, string>; target?: string },
): Promise<string> {
    const { tag, ...rest } = options;
    const stream = await docker.buildImage({ context, src: files }, { t: tag, ...rest, rm: true, forcerm: true });
    const events: any[] = await new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null, out: any[]) => (err ? reject(err) : resolve(out))),
    );
    const failure = events.find((e) => e.error);
    if (failure) {
        const output = events.map((e) => e.stream ?? "").join("");
        throw new Error(`docker build of ${options.tag} failed: ${failure.error}\n${output.slice(-3000)}`);
    }
    return (await docker.getImage(options.tag).inspect()).Id;
}

export { eventually } from "./eventually";

/** Removes containers, networks and volumes carrying `label=value` (on `client`'s engine; this machine's by default). */
export async function removeLabelled(label: string, value: string, client: Docker = docker): Promise<void> {
    const filters = JSON.stringify({ label: [`${label}=${value}`] });
    for (const info of await client.listContainers({ all: true, filters })) {
        await client.getContainer(info.Id).remove({ force: true, v: true });
    }
    for (const info of await client.listNetworks({ filters })) await client.getNetwork(info.Id).remove();
    const { Volumes } = await client.listVolumes({ filters });
    for (const info of Volumes ?? []) await client.getVolume(info.Name).remove();
}
