// The runtime image: its size over its base and its layers; with --with-upstream, against the
// upstream package set on the same base. Builds the image the other engine figures run.
import * as path from "node:path";
import { buildImage, docker } from "../../test/support/docker";
import { imageBuildFiles } from "../../test/support/stack";
import { BASE_IMAGE, ROOT } from "../engine";
import type { BenchOptions } from "../options";
import { Report } from "../report";

/** Builds the bench image with the stub Zed, records its figures, returns its ID. */
export async function imageFigures(report: Report, options: BenchOptions): Promise<string> {
    const build = { ZED_BUILD_DIR: "test/fixtures/zed-build", BASE_IMAGE };
    const imageId = await buildImage(ROOT, imageBuildFiles(ROOT, build.ZED_BUILD_DIR), {
        tag: "helix-zed-agent:bench",
        dockerfile: "Dockerfile.zed-agent",
        buildargs: build,
    });
    const image = await docker.getImage(imageId).inspect();
    const base = await docker.getImage(BASE_IMAGE).inspect();
    const over = image.Size - base.Size;
    report.record({
        section: "image",
        what: "runtime image over its base",
        value: `${(over / 1e6).toFixed(0)} MB (${(image.Size / 1e6).toFixed(0)} MB total, base ${(base.Size / 1e6).toFixed(0)} MB)`,
        runs: "1 build",
        target: "< 600 MB",
        met: over < 600e6,
    });
    report.record({
        section: "image",
        what: "layers",
        value: `${image.RootFS.Layers?.length ?? "?"} (base ${base.RootFS.Layers?.length ?? "?"})`,
        runs: "1 build",
    });
    if (options.withUpstream) {
        const upstream = await buildImage(path.join(ROOT, "bench"), ["upstream.Dockerfile"], {
            tag: "zed-runner-bench/upstream-packages:latest",
            dockerfile: "upstream.Dockerfile",
            buildargs: { BASE_IMAGE },
        });
        const up = (await docker.getImage(upstream).inspect()).Size - base.Size;
        report.record({
            section: "image",
            what: "upstream package set over the same base",
            value: `${(up / 1e6).toFixed(0)} MB; ours is ${((over / up) * 100).toFixed(1)}% of it`,
            runs: "1 build",
            target: "< 25%",
            met: over / up < 0.25,
        });
    }
    return imageId;
}
