// The registry the stand-in sandbox e2e gives its sandboxes (built from
// test/fixtures/standInSandbox/registry/), started as `registry` on a network of the e2e's own, as
// Helix's compose runs one: the one mirror a sandbox's inner dockerd takes over plain HTTP is
// `registry:5000`. The stand-in desktop image is pushed to it through a port published on
// loopback (an engine takes 127.0.0.0/8 registries over plain HTTP too); nothing leaves the machine.
import * as path from "node:path";
import { SANDBOX_DESKTOP } from "../../contract/sandbox";
import { buildImage, docker, eventually, filesUnder } from "./docker";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = "test/fixtures/standInSandbox";

export interface DesktopRegistry {
    /** The Docker network the sandboxes join to reach it as `registry`. */
    readonly network: string;
    /** Pushes the stand-in desktop image under `<path>:<tag>` (default helixml/helix-ubuntu). */
    push(tag: string, imagePath?: string): Promise<void>;
}

/**
 * Builds the registry and desktop images, creates `network` and starts the registry on it as
 * `registry`, everything labelled `label=value` so that the e2e removes it with the rest.
 */
export async function startDesktopRegistry(options: {
    readonly network: string;
    readonly label: string;
    readonly value: string;
    readonly baseImage: string;
}): Promise<DesktopRegistry> {
    const labels = { [options.label]: options.value };
    const registryImage = await buildImage(ROOT, filesUnder(ROOT, `${FIXTURES}/registry`), {
        tag: "zed-e2e-desktop-registry:e2e",
        dockerfile: `${FIXTURES}/registry/Dockerfile`,
        buildargs: { BASE_IMAGE: options.baseImage },
    });
    await buildImage(ROOT, filesUnder(ROOT, `${FIXTURES}/desktop`), {
        tag: "zed-e2e-stand-in-desktop:e2e",
        dockerfile: `${FIXTURES}/desktop/Dockerfile`,
    });
    await docker.createNetwork({ Name: options.network, Labels: labels });
    const registry = await docker.createContainer({
        name: `${options.network}-registry`,
        Image: registryImage,
        Labels: labels,
        ExposedPorts: { "5000/tcp": {} },
        HostConfig: { PortBindings: { "5000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
        NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [SANDBOX_DESKTOP.insecureMirror.split(":")[0]] } } },
    });
    await registry.start();
    const port = (await registry.inspect()).NetworkSettings.Ports["5000/tcp"][0].HostPort;
    const local = `127.0.0.1:${port}`;
    await eventually(
        "the desktop registry to answer",
        // A timeout on each try: a connection the published port accepts before the registry listens can hang for good.
        async () => (await fetch(`http://${local}/v2/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 200,
        60_000,
        250,
    );
    return {
        network: options.network,
        async push(tag: string, imagePath: string = SANDBOX_DESKTOP.path) {
            const repo = `${local}/${imagePath}`;
            await docker.getImage("zed-e2e-stand-in-desktop:e2e").tag({ repo, tag });
            const stream = await docker.getImage(`${repo}:${tag}`).push({ authconfig: { serveraddress: local } });
            const events: { error?: string }[] = await new Promise((resolve, reject) =>
                docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))),
            );
            const failure = events.find((e) => e.error);
            if (failure) throw new Error(`pushing ${repo}:${tag} failed: ${failure.error}`);
            await docker.getImage(`${repo}:${tag}`).remove();
        },
    };
}
