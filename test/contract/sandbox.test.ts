// The sandbox's contract (contract/sandbox.ts): the facts that can be checked offline, their
// shape and how they fit together, and its release, image and ID rules. (What Helix's image
// really does can only be read in its source; the stand-in sandbox's e2e checks the wire.)
import {
    FIRST_SANDBOX_RELEASE,
    GPU_VENDORS,
    GPU_VENDOR_SETUP,
    NAME_PATTERN,
    SANDBOX_DEVICES,
    SANDBOX_DEVICE_CGROUP_RULES,
    SANDBOX_ENV,
    SANDBOX_FIXED_ENV,
    SANDBOX_HEALTHCHECK_COMMAND,
    SANDBOX_IMAGE_REPOSITORY,
    SANDBOX_LENGTHS,
    SANDBOX_VOLUMES,
    SANDBOX_WIRE,
    compareHelixReleases,
    helixReleaseProblem,
    parseImageReference,
    sandboxImagePinProblem,
    sandboxInstanceIdProblem,
} from "../../contract";

describe("SANDBOX_WIRE", () => {
    it("puts an instance ID in the heartbeat path as one path segment, encoded", () => {
        expect(SANDBOX_WIRE.heartbeatPath("sandbox-gpu1-1")).toBe("/api/v1/sandboxes/sandbox-gpu1-1/heartbeat");
        // IDs we plan never need encoding; anything else stays one segment.
        expect(SANDBOX_WIRE.heartbeatPath("a/b?c d")).toBe("/api/v1/sandboxes/a%2Fb%3Fc%20d/heartbeat");
        expect(SANDBOX_WIRE.heartbeatPath("a_b.c-1")).toBe("/api/v1/sandboxes/a_b.c-1/heartbeat");
    });

    it("beats often enough to stay in the control plane's 90 s dispatch window after a missed beat", () => {
        expect(SANDBOX_WIRE.heartbeatSeconds * 2).toBeLessThan(90);
        expect(SANDBOX_WIRE.pingSeconds).toBeLessThan(SANDBOX_WIRE.heartbeatSeconds);
    });

    it("dials the RevDial control path under /api/v1 as hydra-<ID>", () => {
        expect(SANDBOX_WIRE.revdialPath).toMatch(/^\/api\/v1\/[a-z]+$/);
        expect(`${SANDBOX_WIRE.revdialRunnerPrefix}sandbox-gpu1-1`).toBe("hydra-sandbox-gpu1-1");
    });
});

describe("GPU_VENDOR_SETUP", () => {
    it("has exactly one entry per vendor", () => {
        expect(Object.keys(GPU_VENDOR_SETUP).sort()).toEqual([...GPU_VENDORS].sort());
    });

    it("gives the NVIDIA runtime to nvidia alone, and every GPU vendor the DRM devices", () => {
        expect(GPU_VENDORS.filter((v) => GPU_VENDOR_SETUP[v].nvidiaRuntime)).toEqual(["nvidia"]);
        expect(GPU_VENDORS.filter((v) => GPU_VENDOR_SETUP[v].devices.includes("/dev/dri"))).toEqual(["nvidia", "amd", "intel"]);
        expect(GPU_VENDOR_SETUP.amd.devices).toContain("/dev/kfd");
        expect(GPU_VENDOR_SETUP.none.devices).toEqual([]);
    });

    it("renders in software without a GPU and shows nvidia every GPU", () => {
        expect(GPU_VENDOR_SETUP.none.env).toEqual({ LIBGL_ALWAYS_SOFTWARE: "1", MESA_GL_VERSION_OVERRIDE: "4.5" });
        expect(GPU_VENDOR_SETUP.nvidia.env).toEqual({ NVIDIA_DRIVER_CAPABILITIES: "all", NVIDIA_VISIBLE_DEVICES: "all" });
    });

    it("sets no variable the plan sets itself, and no secret", () => {
        const own = new Set<string>([...Object.values(SANDBOX_ENV), ...Object.keys(SANDBOX_FIXED_ENV)]);
        for (const vendor of GPU_VENDORS) {
            for (const name of Object.keys(GPU_VENDOR_SETUP[vendor].env)) expect(own.has(name)).toBe(false);
        }
    });

    it("names devices as absolute paths under /dev, none twice with the sandbox's own", () => {
        for (const vendor of GPU_VENDORS) {
            const all = [...SANDBOX_DEVICES, ...GPU_VENDOR_SETUP[vendor].devices];
            expect(new Set(all).size).toBe(all.length);
            for (const device of all) expect(device).toMatch(/^\/dev\/[a-z]+$/);
        }
    });
});

describe("the container", () => {
    it("allows input (13) and DRM (226) character devices, in Docker's rule syntax", () => {
        expect(SANDBOX_DEVICE_CGROUP_RULES.map((r) => /^c (\d+):\* rmw$/.exec(r)?.[1])).toEqual(["13", "226"]);
    });

    it("gives each volume its own absolute folder", () => {
        const paths = Object.values(SANDBOX_VOLUMES);
        expect(new Set(paths).size).toBe(paths.length);
        for (const p of paths) expect(p).toMatch(/^\/[a-z/-]+$/);
    });

    it("has distinct environment names, and fixes none the user chooses or the token", () => {
        const names = Object.values(SANDBOX_ENV);
        expect(new Set(names).size).toBe(names.length);
        expect(Object.keys(SANDBOX_FIXED_ENV).sort()).toEqual([SANDBOX_ENV.hydraEnabled, SANDBOX_ENV.xdgRuntimeDir].sort());
        expect(Object.keys(SANDBOX_FIXED_ENV)).not.toContain(SANDBOX_ENV.token);
    });

    it("checks health with an exec-form command, no shell", () => {
        expect(SANDBOX_HEALTHCHECK_COMMAND[0]).toBe("CMD");
        expect(SANDBOX_HEALTHCHECK_COMMAND.slice(1)).toEqual([
            "curl",
            "-fsS",
            "--max-time",
            "5",
            "--unix-socket",
            "/var/run/hydra/hydra.sock",
            "http://hydra/health",
        ]);
    });
});

describe("Helix releases", () => {
    it("takes its first sandbox release as a release", () => {
        expect(helixReleaseProblem(FIRST_SANDBOX_RELEASE)).toBeUndefined();
        expect(sandboxImagePinProblem(`${SANDBOX_IMAGE_REPOSITORY}:${FIRST_SANDBOX_RELEASE}`)).toBeUndefined();
    });

    it.each([
        ["2.12.2", "2.5.42", 1],
        ["2.5.42", "2.12.2", -1],
        ["2.10.0", "2.9.99", 1],
        ["2.12.2", "2.12.2", 0],
        ["2.11.0-rc2", "2.11.0", -1],
        ["2.11.0-rc2", "2.11.0-rc10", -1],
        ["2.11.0-rc1", "2.10.9", 1],
    ])("orders %s against %s", (a, b, sign) => {
        expect(Math.sign(compareHelixReleases(a, b) ?? NaN)).toBe(sign);
    });

    it.each(["latest", "v2.12.2", "2.12", "2.12.2.1", "2.12.2-beta", "", "2.12.02", "02.12.2", "2.12.2-rc01", "2.12.2-rc0"])(
        "does not take %j as a release",
        (version) => {
            expect(compareHelixReleases(version, "2.12.2")).toBeUndefined();
            expect(helixReleaseProblem(version)).toBe(
                "must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v')",
            );
        },
    );

    it("takes the release candidates of the first sandbox release, which have the sandbox, and none before", () => {
        // Helix's 2.5.42-rc1 tag already holds Dockerfile.sandbox and install.sh --sandbox; 2.5.41 has neither.
        for (const version of ["2.5.42-rc1", "2.5.42-rc7", "2.13.0-rc1"]) expect(helixReleaseProblem(version)).toBeUndefined();
        for (const version of ["2.5.41", "2.5.41-rc1", "2.4.0-rc8", "1.99.99"])
            expect(helixReleaseProblem(version)).toBe(
                "must be 2.5.42 or later: earlier control planes take runners, not sandboxes (use the runner workload)",
            );
    });
});

describe("image references, the one grammar of the program and the pack", () => {
    const DIGEST = `sha256:${"b".repeat(64)}`;
    it.each([
        [
            "ghcr.io/helixml/helix-sandbox:2.12.2",
            { name: "ghcr.io/helixml/helix-sandbox", repository: "ghcr.io/helixml/helix-sandbox", tag: "2.12.2" },
        ],
        [
            `ghcr.io/helixml/helix-sandbox@${DIGEST}`,
            { name: "ghcr.io/helixml/helix-sandbox", repository: "ghcr.io/helixml/helix-sandbox", digest: DIGEST },
        ],
        [
            `ghcr.io/helixml/helix-sandbox:2.12.2@${DIGEST}`,
            { name: "ghcr.io/helixml/helix-sandbox", repository: "ghcr.io/helixml/helix-sandbox", tag: "2.12.2", digest: DIGEST },
        ],
        [
            "registry.local:5000/helix-sandbox",
            { name: "registry.local:5000/helix-sandbox", repository: "registry.local:5000/helix-sandbox" },
        ],
        [
            "GHCR.io/HelixML/helix-sandbox:2.12.2",
            { name: "GHCR.io/HelixML/helix-sandbox", repository: "ghcr.io/helixml/helix-sandbox", tag: "2.12.2" },
        ],
    ])("parses %s", (reference, parts) => {
        expect(parseImageReference(reference)).toEqual(parts);
    });

    it("holds a digest to the release check: it pins the bytes, the tag beside it says which release they are", () => {
        expect(sandboxImagePinProblem(`${SANDBOX_IMAGE_REPOSITORY}:2.12.2@${DIGEST}`)).toBeUndefined();
        expect(sandboxImagePinProblem(`${SANDBOX_IMAGE_REPOSITORY}@${DIGEST}`)).toBe(
            `has a digest but no tag: write it as ${SANDBOX_IMAGE_REPOSITORY}:<release>@${DIGEST}, so that which Helix release it is can be checked against the control plane's`,
        );
        expect(sandboxImagePinProblem(`${SANDBOX_IMAGE_REPOSITORY}:main@${DIGEST}`)).toBe(
            "has the tag main, which must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v')",
        );
        expect(sandboxImagePinProblem(`${SANDBOX_IMAGE_REPOSITORY}:latest@${DIGEST}`)).toMatch(/^must not be tagged latest/);
    });
});

describe("sandboxInstanceIdProblem", () => {
    it.each(["sandbox-gpu1-1", "a", "A_b.c-9", "x".repeat(SANDBOX_LENGTHS.instanceId.max)])("takes %s", (id) => {
        expect(NAME_PATTERN.test(id)).toBe(true);
        expect(sandboxInstanceIdProblem(id)).toBeUndefined();
    });

    it.each(["-a", "a b", "a/b", "", "é"])("refuses %j", (id) => {
        expect(sandboxInstanceIdProblem(id)).toBe("must start with a letter or digit and contain only letters, digits, '_', '.' and '-'");
    });

    it("refuses an ID longer than the control plane keeps with its hydra- prefix", () => {
        expect(sandboxInstanceIdProblem("x".repeat(SANDBOX_LENGTHS.instanceId.max + 1))).toBe("must be at most 200 characters");
        // The control plane's column is varchar(255): the RevDial runner ID must fit it too.
        expect(SANDBOX_WIRE.revdialRunnerPrefix.length + SANDBOX_LENGTHS.instanceId.max).toBeLessThanOrEqual(255);
    });
});
