// The runner image, for both components: built from Dockerfile.zed-agent (and pushed
// to a registry for a swarm, whose nodes pull it) or a prebuilt reference pulled.
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { RunnerSettings } from "./settings";
import type { StackIdentity } from "../labels";

/** Where a built image is pushed, and the account that may push it. */
export interface ImagePush {
    /** `<registry>/helix-zed-agent:<stack>`. */
    readonly imageName: string;
    readonly server: string;
    readonly username?: string;
    readonly password?: pulumi.Input<string>;
}

/**
 * The runner image, built from Dockerfile.zed-agent (and pushed when `push` is given),
 * or `settings.image` pulled. Returns what containers and services run: for a build,
 * its digest, since the image name stays the same across rebuilds and only the
 * digest makes runners follow a rebuild.
 */
export function declareRunnerImage(
    name: string,
    settings: RunnerSettings,
    context: StackIdentity,
    buildContext: string,
    parent: pulumi.Resource,
    push?: ImagePush,
): pulumi.Output<string> {
    if (settings.image) {
        const remote = new docker.RemoteImage(
            `${name}-image`,
            // keepLocally: a destroy must not delete an image other stacks or people may use.
            { name: settings.image, keepLocally: true },
            { parent },
        );
        return remote.imageId;
    }
    const built = new docker.Image(
        `${name}-image`,
        {
            imageName: push?.imageName ?? `helix-zed-agent:${context.stackName}`,
            skipPush: push === undefined,
            registry: push ? { server: push.server, username: push.username, password: push.password } : undefined,
            build: {
                context: buildContext,
                dockerfile: path.join(buildContext, "Dockerfile.zed-agent"),
                args: {
                    BASE_IMAGE: settings.baseImage,
                    ZED_BUILD_DIR: settings.zedBuildDir,
                },
            },
        },
        { parent },
    );
    return built.repoDigest;
}
