import { GPU_VENDORS, GPU_VENDOR_SETUP, RANGES, SANDBOX_LENGTHS, type GpuVendor, sandboxInstanceIdProblem } from "../../../contract";
import { parseSettings } from "../../../components/stackPlan";
import { planRunner } from "../../../components/runner/plan";
import {
    registryMirrorProblem,
    registryMirrorWarning,
    sandboxApiUrlProblem,
    sandboxApiUrlWarning,
    sandboxGpuProblems,
    sandboxImageProblems,
    sandboxSettingsProblems,
} from "../../../components/sandbox/checks";
import {
    SANDBOX_HEALTHCHECK,
    type SandboxSpec,
    duplicateInstanceIdProblems,
    planSandbox,
    planSandboxes,
    sandboxImageReference,
} from "../../../components/sandbox/plan";
import { type SandboxSettings, defaultSandboxContainerNamePrefix, defaultSandboxIdPrefix } from "../../../components/sandbox/settings";
import { maskValue } from "../../../contract";
import { PUBLISHED, TEST_TOKEN } from "../../fixtures/configs";
import { LABELS, SANDBOX_LABELS, SANDBOX_WORKLOAD } from "../../../components/labels";

const context = { project: "zed-runner", stackName: "dev" };

/** A host's settings as the config round would resolve them with every default, for host `gpu1` of stack `dev`. */
const DEFAULTS: SandboxSettings = {
    hostName: "gpu1",
    instanceIdPrefix: defaultSandboxIdPrefix("gpu1"),
    containerNamePrefix: defaultSandboxContainerNamePrefix("dev"),
    replicas: 1,
    helixVersion: "2.12.2",
    sandboxImage: undefined,
    apiUrl: "https://helix.example.com",
    gpuVendor: "nvidia",
    allowNoGpu: false,
    allowSandboxImageMirror: false,
    extraEnv: {},
    registryMirror: undefined,
    networks: [],
    restartPolicy: "always",
    memoryMb: undefined,
    cpus: undefined,
    keepVolumes: true,
    startTimeout: 1800,
};

const settingsWith = (changes: Partial<SandboxSettings> = {}): SandboxSettings => ({ ...DEFAULTS, ...changes });

describe("planSandbox", () => {
    it("gives sandbox 2 of the default stack its ID, name, image, environment, devices, GPU, volumes and labels", () => {
        expect(planSandbox(settingsWith({ replicas: 2 }), 2, context)).toEqual({
            index: 2,
            instanceId: "sandbox-gpu1-2",
            containerName: "helix-sandbox-dev-2",
            image: "ghcr.io/helixml/helix-sandbox:2.12.2",
            env: {
                HELIX_API_URL: "https://helix.example.com",
                SANDBOX_INSTANCE_ID: "sandbox-gpu1-2",
                GPU_VENDOR: "nvidia",
                HYDRA_ENABLED: "true",
                XDG_RUNTIME_DIR: "/tmp/sockets",
                NVIDIA_DRIVER_CAPABILITIES: "all",
                NVIDIA_VISIBLE_DEVICES: "all",
            },
            tokenEnv: "RUNNER_TOKEN",
            devices: ["/dev/uinput", "/dev/uhid", "/dev/dri"],
            deviceCgroupRules: ["c 13:* rmw", "c 226:* rmw"],
            gpus: "all",
            runtime: "nvidia",
            volumes: [
                { role: "docker", name: "helix-sandbox-dev-2-docker", containerPath: "/var/lib/docker" },
                { role: "data", name: "helix-sandbox-dev-2-data", containerPath: "/data" },
                { role: "hydra", name: "helix-sandbox-dev-2-hydra", containerPath: "/hydra-data" },
            ],
            keepVolumes: true,
            privileged: true,
            ports: [],
            extraHosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
            networks: [],
            restartPolicy: "always",
            logOptions: { "max-size": "10m", "max-file": "3" },
            healthcheck: {
                tests: ["CMD", "curl", "-fsS", "--max-time", "5", "--unix-socket", "/var/run/hydra/hydra.sock", "http://hydra/health"],
                interval: "30s",
                timeout: "10s",
                startPeriod: "30m0s",
                retries: 3,
            },
            waitTimeoutSeconds: 1800,
            labels: {
                "zed-runner.project": "zed-runner",
                "zed-runner.stack": "dev",
                "zed-runner.workload": "sandbox",
                "zed-runner.sandbox-id": "sandbox-gpu1-2",
                "zed-runner.index": "2",
            },
            memoryMb: undefined,
            cpus: undefined,
        });
    });

    it("labels a sandbox so tools tell a stack's sandboxes from its runners, which carry no workload label", () => {
        const sandbox = planSandbox(DEFAULTS, 1, context);
        const runner = planRunner(
            parseSettings({ ...PUBLISHED, hostName: "gpu1" }, { stackName: "dev", machineHostName: "gpu1" }),
            1,
            context,
        );
        expect(sandbox.labels[SANDBOX_LABELS.workload]).toBe(SANDBOX_WORKLOAD);
        expect(runner.labels[SANDBOX_LABELS.workload]).toBeUndefined();
        expect(sandbox.labels[LABELS.stack]).toBe(runner.labels[LABELS.stack]);
        // Both are index 1 of the same stack: only the workload label and the ID label set them apart.
        expect(sandbox.labels[LABELS.index]).toBe(runner.labels[LABELS.index]);
        expect(sandbox.labels[SANDBOX_LABELS.instanceId]).toBe("sandbox-gpu1-1");
    });

    it("passes the registry mirror, networks, restart policy, limits and keepVolumes through", () => {
        const spec = planSandbox(
            settingsWith({
                registryMirror: "registry.example.com:5000",
                networks: ["helix_default"],
                restartPolicy: "unless-stopped",
                memoryMb: 65536,
                cpus: 8.5,
                keepVolumes: false,
                apiUrl: "http://api:8080/",
            }),
            1,
            context,
        );
        expect(spec.env.HELIX_SANDBOX_REGISTRY).toBe("registry.example.com:5000");
        // A trailing slash is no path: it is trimmed, as runners' apiHost is.
        expect(spec.env.HELIX_API_URL).toBe("http://api:8080");
        expect(spec.networks).toEqual(["helix_default"]);
        expect(spec.restartPolicy).toBe("unless-stopped");
        expect([spec.memoryMb, spec.cpus, spec.keepVolumes]).toEqual([65536, 8.5, false]);
    });

    it("runs a pinned image as it is given", () => {
        const digest = `ghcr.io/helixml/helix-sandbox@sha256:${"a".repeat(64)}`;
        expect(planSandbox(settingsWith({ helixVersion: undefined, sandboxImage: digest }), 1, context).image).toBe(digest);
        expect(sandboxImageReference({ helixVersion: undefined, sandboxImage: "mirror.example.com/helix-sandbox:2.12.2" })).toBe(
            "mirror.example.com/helix-sandbox:2.12.2",
        );
    });

    it("never puts the token in a spec: only the name of the variable the component sets", () => {
        const specs = planSandboxes(settingsWith({ replicas: 3, registryMirror: "registry.example.com" }), context);
        const text = JSON.stringify(specs);
        expect(text).not.toContain(TEST_TOKEN);
        for (const spec of specs) {
            expect(spec.tokenEnv).toBe("RUNNER_TOKEN");
            expect(Object.keys(spec.env)).not.toContain("RUNNER_TOKEN");
        }
    });
});

describe("the GPU per vendor, as contract GPU_VENDOR_SETUP says", () => {
    const cases: [GpuVendor, Partial<SandboxSpec>][] = [
        [
            "nvidia",
            {
                gpus: "all",
                runtime: "nvidia",
                devices: ["/dev/uinput", "/dev/uhid", "/dev/dri"],
            },
        ],
        ["amd", { gpus: undefined, runtime: undefined, devices: ["/dev/uinput", "/dev/uhid", "/dev/kfd", "/dev/dri"] }],
        ["intel", { gpus: undefined, runtime: undefined, devices: ["/dev/uinput", "/dev/uhid", "/dev/dri"] }],
        ["none", { gpus: undefined, runtime: undefined, devices: ["/dev/uinput", "/dev/uhid"] }],
    ];

    it("covers every vendor", () => {
        expect(cases.map(([vendor]) => vendor).sort()).toEqual([...GPU_VENDORS].sort());
    });

    it.each(cases)("%s: --gpus, runtime, devices and the vendor's environment", (gpuVendor, expected) => {
        const spec = planSandbox(settingsWith({ gpuVendor, allowNoGpu: true }), 1, context);
        expect({ gpus: spec.gpus, runtime: spec.runtime, devices: spec.devices }).toEqual(expected);
        const { HELIX_API_URL, SANDBOX_INSTANCE_ID, GPU_VENDOR, HYDRA_ENABLED, XDG_RUNTIME_DIR, ...vendorEnv } = spec.env;
        expect(GPU_VENDOR).toBe(gpuVendor);
        expect([HELIX_API_URL, SANDBOX_INSTANCE_ID, HYDRA_ENABLED, XDG_RUNTIME_DIR]).toEqual([
            "https://helix.example.com",
            "sandbox-gpu1-1",
            "true",
            "/tmp/sockets",
        ]);
        expect(vendorEnv).toEqual(GPU_VENDOR_SETUP[gpuVendor].env);
    });

    it("gives every sandbox every GPU, as Hydra gives every desktop: no sandbox is narrowed to one", () => {
        const specs = planSandboxes(settingsWith({ replicas: 3 }), context);
        expect(specs.map((s) => [s.gpus, s.runtime, s.env.NVIDIA_VISIBLE_DEVICES, s.env.NVIDIA_DRIVER_CAPABILITIES])).toEqual([
            ["all", "nvidia", "all", "all"],
            ["all", "nvidia", "all", "all"],
            ["all", "nvidia", "all", "all"],
        ]);
    });
});

describe("planSandboxes", () => {
    it("plans replicas sandboxes with distinct IDs, names and volumes", () => {
        const specs = planSandboxes(settingsWith({ replicas: 3 }), context);
        expect(specs.map((s) => [s.index, s.instanceId, s.containerName])).toEqual([
            [1, "sandbox-gpu1-1", "helix-sandbox-dev-1"],
            [2, "sandbox-gpu1-2", "helix-sandbox-dev-2"],
            [3, "sandbox-gpu1-3", "helix-sandbox-dev-3"],
        ]);
        const volumes = specs.flatMap((s) => s.volumes.map((v) => v.name));
        expect(new Set(volumes).size).toBe(9);
        expect(planSandboxes(settingsWith({ replicas: 0 }), context)).toEqual([]);
    });

    it.each(["nvidia", "amd"] as const)("scaling with gpuVendor %s: sandboxes 1..N are the same whatever N is", (gpuVendor) => {
        const settings = settingsWith({ gpuVendor });
        const plans = [1, 2, 3, 4, 8].map((replicas) => planSandboxes({ ...settings, replicas }, context));
        for (const plan of plans) {
            for (const spec of plan) expect(spec).toEqual(plans[plans.length - 1][spec.index - 1]);
        }
        // Scaling in from 4 to 3 leaves 1..3 as they were.
        expect(plans[2]).toEqual(plans[3].slice(0, 3));
    });

    it("depends on where `pulumi up` runs only through the settings: the same settings give the same IDs", () => {
        const a = planSandboxes(settingsWith({ replicas: 2 }), context);
        const b = planSandboxes(settingsWith({ replicas: 2 }), { ...context });
        expect(a).toEqual(b);
        expect(a.map((s) => s.instanceId)).toEqual(["sandbox-gpu1-1", "sandbox-gpu1-2"]);
    });
});

describe("SANDBOX_HEALTHCHECK", () => {
    /** How Docker (Go's time.Duration) writes a whole number of seconds back. */
    const goDuration = (seconds: number): string => {
        const h = Math.floor(seconds / 3600);
        const m = Math.floor((seconds % 3600) / 60);
        const s = seconds % 60;
        return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
    };
    const seconds = (d: string): number => {
        const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
        if (!m || d === "") throw new Error(`not a duration: ${d}`);
        return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
    };

    it.each(["interval", "timeout", "startPeriod"] as const)("writes %s as Docker reads it back", (key) => {
        const value = SANDBOX_HEALTHCHECK[key];
        expect(value).toBe(goDuration(seconds(value)));
    });

    it("counts no failure during a first boot's desktop pull, and waits by default as long as the start period", () => {
        const { startPeriod } = SANDBOX_HEALTHCHECK;
        // Helix's boot gives its dockerd 30 s, then pulls about 7 GB: 30 minutes covers 100 Mbit/s with room.
        expect(seconds(startPeriod)).toBe(1800);
        expect(planSandbox(DEFAULTS, 1, context).waitTimeoutSeconds).toBe(seconds(startPeriod));
        expect(planSandbox(settingsWith({ startTimeout: 3600 }), 1, context).waitTimeoutSeconds).toBe(3600);
    });

    it("asks Hydra on its socket, which answers only after the desktop pull, rather than the inner dockerd, which answers before", () => {
        expect(SANDBOX_HEALTHCHECK.tests).toEqual([
            "CMD",
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

describe("sandboxImageProblems", () => {
    const HELIX_WHY = "A sandbox must run its control plane's release: Hydra's API changed shape nine times between 2.5.12 and 2.12.0";
    const digest = `@sha256:${"0123456789abcdef".repeat(4)}`;

    it.each([
        ["2.12.2", undefined],
        ["2.5.42", undefined],
        ["2.11.0-rc2", undefined],
        [
            "latest",
            `helixVersion (got "latest") must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v'). ${HELIX_WHY}`,
        ],
        [
            "v2.12.2",
            `helixVersion (got "v2.12.2") must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v'). ${HELIX_WHY}`,
        ],
        [
            "2.12",
            `helixVersion (got "2.12") must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v'). ${HELIX_WHY}`,
        ],
        [
            "2.5.41",
            `helixVersion (got "2.5.41") must be 2.5.42 or later: earlier control planes take runners, not sandboxes (use the runner workload). ${HELIX_WHY}`,
        ],
        // Helix's 2.5.42 release candidates already have the sandbox.
        ["2.5.42-rc1", undefined],
        [
            "2.4.0-rc8",
            `helixVersion (got "2.4.0-rc8") must be 2.5.42 or later: earlier control planes take runners, not sandboxes (use the runner workload). ${HELIX_WHY}`,
        ],
    ])("helixVersion %s", (helixVersion, problem) => {
        expect(sandboxImageProblems({ helixVersion, sandboxImage: undefined })).toEqual(problem === undefined ? [] : [problem]);
    });

    it.each([
        ["ghcr.io/helixml/helix-sandbox:2.12.2", undefined],
        [`ghcr.io/helixml/helix-sandbox:2.12.2${digest}`, undefined],
        [
            `ghcr.io/helixml/helix-sandbox${digest}`,
            `sandboxImage (got "ghcr.io/helixml/helix-sandbox${digest}") has a digest but no tag: write it as ghcr.io/helixml/helix-sandbox:<release>${digest}, so that which Helix release it is can be checked against the control plane's`,
        ],
        [
            `ghcr.io/helixml/helix-sandbox:main${digest}`,
            `sandboxImage (got "ghcr.io/helixml/helix-sandbox:main${digest}") has the tag main, which must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v')`,
        ],
        [
            "registry.example.com:5000/mirror/helix-sandbox:2.10.0",
            'sandboxImage (got "registry.example.com:5000/mirror/helix-sandbox:2.10.0") is not Helix\'s sandbox image (ghcr.io/helixml/helix-sandbox), and a sandbox runs privileged ' +
                "with the control plane's runner token. If it is your mirror of Helix's image, set allowSandboxImageMirror to true " +
                "(and list its repository in the policy pack's sandboxImageMirrors); otherwise use helixVersion",
        ],
        [
            "ghcr.io/helixml/helix-sandbox:latest",
            "sandboxImage (got \"ghcr.io/helixml/helix-sandbox:latest\") must not be tagged latest: a sandbox must run its control plane's release (Hydra's API changes between releases); tag it with that release, such as 2.12.2",
        ],
        [
            `ghcr.io/helixml/helix-sandbox:latest${digest}`,
            `sandboxImage (got "ghcr.io/helixml/helix-sandbox:latest${digest}") must not be tagged latest: a sandbox must run its control plane's release (Hydra's API changes between releases); tag it with that release, such as 2.12.2`,
        ],
        [
            "ghcr.io/helixml/helix-sandbox",
            'sandboxImage (got "ghcr.io/helixml/helix-sandbox") has no tag, which Docker reads as latest: tag it with the control plane\'s release, such as 2.12.2',
        ],
        [
            "localhost:5000/helix-sandbox",
            'sandboxImage (got "localhost:5000/helix-sandbox") has no tag, which Docker reads as latest: tag it with the control plane\'s release, such as 2.12.2',
        ],
        [
            "ghcr.io/helixml/helix-sandbox:main",
            "sandboxImage (got \"ghcr.io/helixml/helix-sandbox:main\") has the tag main, which must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v')",
        ],
        [
            "ghcr.io/helixml/helix-sandbox:2.5.12",
            'sandboxImage (got "ghcr.io/helixml/helix-sandbox:2.5.12") has the tag 2.5.12, which must be 2.5.42 or later: earlier control planes take runners, not sandboxes (use the runner workload)',
        ],
        [
            "ghcr.io/helixml/helix-sandbox@sha256:abc",
            'sandboxImage (got "ghcr.io/helixml/helix-sandbox@sha256:abc") must be an image reference such as ghcr.io/helixml/helix-sandbox:2.12.2 or ghcr.io/helixml/helix-sandbox:2.12.2@sha256:<digest>',
        ],
        [
            "GHCR.io/Helix/Sandbox:2.12.2",
            'sandboxImage (got "GHCR.io/Helix/Sandbox:2.12.2") must be an image reference such as ghcr.io/helixml/helix-sandbox:2.12.2 or ghcr.io/helixml/helix-sandbox:2.12.2@sha256:<digest>',
        ],
    ])("sandboxImage %s", (sandboxImage, problem) => {
        expect(sandboxImageProblems({ helixVersion: undefined, sandboxImage })).toEqual(problem === undefined ? [] : [problem]);
    });

    it("takes a mirror of Helix's image when acknowledged, still held to a release", () => {
        const mirror = "registry.example.com:5000/mirror/helix-sandbox";
        expect(sandboxImageProblems({ helixVersion: undefined, sandboxImage: `${mirror}:2.12.2`, allowSandboxImageMirror: true })).toEqual(
            [],
        );
        expect(sandboxImageProblems({ helixVersion: undefined, sandboxImage: `${mirror}:latest`, allowSandboxImageMirror: true })).toEqual([
            `sandboxImage (got "${mirror}:latest") must not be tagged latest: a sandbox must run its control plane's release (Hydra's API changes between releases); tag it with that release, such as 2.12.2`,
        ]);
        expect(
            sandboxImageProblems({ helixVersion: undefined, sandboxImage: `${mirror}${digest}`, allowSandboxImageMirror: true })[0],
        ).toContain("has a digest but no tag");
    });

    it("wants exactly one of helixVersion and sandboxImage", () => {
        expect(sandboxImageProblems({ helixVersion: undefined, sandboxImage: undefined })).toEqual([
            "helixVersion is not set: set it to the control plane's Helix release, such as 2.12.2 (a sandbox must run its control plane's release: " +
                "Hydra's API changed shape nine times between 2.5.12 and 2.12.0), or set sandboxImage to a pinned image",
        ]);
        expect(sandboxImageProblems({ helixVersion: "2.12.2", sandboxImage: "ghcr.io/helixml/helix-sandbox:2.12.2" })).toEqual([
            'helixVersion (got "2.12.2") and sandboxImage (got "ghcr.io/helixml/helix-sandbox:2.12.2") both set: ' +
                "helixVersion runs ghcr.io/helixml/helix-sandbox at that release, sandboxImage another pinned image; set one",
        ]);
    });
});

describe("sandboxApiUrlProblem", () => {
    const ONLY_HOST =
        "must be only a scheme and host[:port], such as https://helix.example.com: the sandbox's reverse dial keeps only those and would silently drop a path or query";
    const LOOPBACK =
        "points at loopback, which inside a sandbox (and inside each desktop it starts) is that container itself. " +
        "For a control plane in Docker on the same machine (Helix's docker-compose), set networks to its network and use its service name, " +
        "e.g. http://api:8080; otherwise use an address every container reaches, such as https://helix.example.com";

    it.each([
        ["https://helix.example.com", undefined],
        ["http://api:8080", undefined],
        ["https://helix.example.com/", undefined],
        ["http://10.0.0.5:8080", undefined],
        ["http://[2001:db8::1]:8080", undefined],
        ["http://host.docker.internal:8080", undefined],
        ["https://helix.example.com/helix", ONLY_HOST],
        ["https://helix.example.com/api/v1", ONLY_HOST],
        ["https://helix.example.com?x=1", ONLY_HOST],
        ["https://helix.example.com#top", ONLY_HOST],
        ["https://user:secret@helix.example.com", "must not carry credentials; the sandbox authenticates with the runner token"],
        ["ws://helix.example.com", "must use http:// or https://"],
        ["helix.example.com", "must be an http:// or https:// URL such as https://helix.example.com"],
        [" https://helix.example.com", "must be a URL without spaces, quotes, backslashes or control characters"],
        [
            "http://$(id).example.com",
            "must name a host name (RFC 1123) or an IP address as its host; its host has a label with a character other than letters, digits and '-' (or '_'), or one that starts or ends with '-'",
        ],
        ["http://localhost:8080", LOOPBACK],
        ["http://127.0.0.1", LOOPBACK],
        ["http://[::1]:80", LOOPBACK],
        ["http://helix.localhost", LOOPBACK],
        ["http://0.0.0.0:8080", LOOPBACK],
    ])("%s", (apiUrl, problem) => {
        expect(sandboxApiUrlProblem(apiUrl)).toBe(
            problem === undefined ? undefined : `apiUrl (got ${JSON.stringify(maskValue(apiUrl))}) ${problem}`,
        );
    });

    it.each([
        ["https://user:secret@helix.example.com", "https://user:***@helix.example.com"],
        ["https://s3cr3t-token@helix.example.com", "https://***@helix.example.com"],
        ["https://helix.example.com/?token=s3cr3t", "https://helix.example.com/?***"],
    ])("never shows the credentials it refuses: %s is shown as %s", (apiUrl, shown) => {
        const message = sandboxApiUrlProblem(apiUrl)!;
        expect(message).toContain(JSON.stringify(shown));
        expect(message).not.toMatch(/secret|s3cr3t/);
    });

    it("warns that desktops cannot resolve host.docker.internal, and says nothing about other hosts", () => {
        expect(sandboxApiUrlWarning("http://host.docker.internal:8080")).toBe(
            "apiUrl is http://host.docker.internal:8080: the sandbox itself reaches host.docker.internal, but the desktops it starts resolve names through " +
                "its DNS proxy, which does not know that name. Prefer the control plane's network and service name (networks, e.g. http://api:8080) or its DNS name.",
        );
        expect(sandboxApiUrlWarning("http://HOST.docker.internal.:80")).toBeDefined();
        expect(sandboxApiUrlWarning("http://api:8080")).toBeUndefined();
        expect(sandboxApiUrlWarning("not a url")).toBeUndefined();
    });
});

describe("sandboxGpuProblems", () => {
    const NONE =
        'gpuVendor (got "none") gives a sandbox that Helix 2.11.33 and later never place a session on: it connects and idles. ' +
        "Set gpuVendor to the host's GPU (nvidia, amd or intel), or set allowNoGpu to true to deploy it anyway";
    it.each<[GpuVendor, boolean, string[]]>([
        ["nvidia", false, []],
        ["amd", false, []],
        ["intel", false, []],
        ["none", false, [NONE]],
        ["none", true, []],
    ])("gpuVendor %s, allowNoGpu %s", (gpuVendor, allowNoGpu, problems) => {
        expect(sandboxGpuProblems({ gpuVendor, allowNoGpu })).toEqual(problems);
    });
});

describe("registryMirrorProblem", () => {
    it.each([
        "registry.example.com",
        "registry.example.com:5000",
        "registry.example.com/mirror",
        "mirror:5000",
        "registry:5000",
        "10.0.0.5:5000/ghcr",
    ])("takes %s", (mirror) => expect(registryMirrorProblem(mirror)).toBeUndefined());

    it.each(["https://registry.example.com", "registry", "registry.example.com/", "registry.example.com/Helix", ""])(
        "refuses %j",
        (mirror) => {
            expect(registryMirrorProblem(mirror)).toBe(
                `registryMirror (got ${JSON.stringify(mirror)}) must be a registry host[:port], with an optional path and no scheme, ` +
                    "such as registry.example.com:5000: the sandbox puts it in place of ghcr.io in the desktop image's name",
            );
        },
    );

    it.each([
        ["registry.example.com:5000/helixml", "registry.example.com:5000"],
        ["10.0.0.5:5000/team/helixml", "10.0.0.5:5000/team"],
    ])("refuses %s, which would double the image's path, naming the value that works", (mirror, fixed) => {
        expect(registryMirrorProblem(mirror)).toBe(
            `registryMirror (got ${JSON.stringify(mirror)}) would double the image's path: the sandbox replaces only the registry host of ` +
                `ghcr.io/helixml/helix-ubuntu:<tag>, keeping helixml/ after it, so it would pull ${mirror}/helixml/helix-ubuntu:<tag>. ` +
                `Leave out the trailing /helixml (${fixed}) and hold the images under helixml/ in the mirror`,
        );
    });
});

describe("registryMirrorWarning", () => {
    it("says nothing without a mirror, or for registry:5000, the one mirror the inner dockerd takes over plain HTTP", () => {
        expect([
            registryMirrorWarning(undefined),
            registryMirrorWarning("registry:5000"),
            registryMirrorWarning("registry:5000/team"),
        ]).toEqual([undefined, undefined, undefined]);
    });

    it("says any other mirror must serve HTTPS with a public CA's certificate, and what happens otherwise", () => {
        expect(registryMirrorWarning("mirror.example.com:5000")).toBe(
            "registryMirror is mirror.example.com:5000: it must serve HTTPS with a certificate from a public CA. The sandbox's own dockerd " +
                "trusts no private CA and takes plain HTTP from registry:5000 alone, and a sandbox that cannot pull its desktop " +
                "exits at boot and restarts for ever (npm run logs shows the pull's error).",
        );
    });
});

describe("registryMirrorProblem on loopback", () => {
    it.each(["localhost:5000", "localhost", "127.0.0.1:5000/mirror", "registry.localhost"])("refuses %s", (mirror) => {
        expect(registryMirrorProblem(mirror)).toBe(
            `registryMirror (got ${JSON.stringify(mirror)}) points at loopback, which is the sandbox itself to the dockerd inside it that pulls the desktop image: ` +
                "use an address the sandbox reaches, such as registry.example.com:5000",
        );
    });
});

describe("sandboxSettingsProblems", () => {
    it("finds nothing wrong with the defaults", () => {
        expect(sandboxSettingsProblems(DEFAULTS)).toEqual([]);
    });

    it("reports every problem at once, each naming its key and value", () => {
        expect(
            sandboxSettingsProblems(
                settingsWith({
                    instanceIdPrefix: "-bad",
                    containerNamePrefix: "x".repeat(101),
                    helixVersion: "latest",
                    apiUrl: "http://localhost/api",
                    gpuVendor: "none",
                    registryMirror: "https://mirror.example.com",
                }),
            ),
        ).toEqual([
            `instanceIdPrefix (got "-bad") must start with a letter or digit and contain only letters, digits, '_', '.' and '-'`,
            `containerNamePrefix (got "${"x".repeat(101)}") must be at most 100 characters`,
            `helixVersion (got "latest") must be a Helix release such as 2.12.2 or 2.13.0-rc1 (the control plane's own version; no leading 'v'). ` +
                "A sandbox must run its control plane's release: Hydra's API changed shape nine times between 2.5.12 and 2.12.0",
            `apiUrl (got "http://localhost/api") must be only a scheme and host[:port], such as https://helix.example.com: ` +
                "the sandbox's reverse dial keeps only those and would silently drop a path or query",
            'gpuVendor (got "none") gives a sandbox that Helix 2.11.33 and later never place a session on: it connects and idles. ' +
                "Set gpuVendor to the host's GPU (nvidia, amd or intel), or set allowNoGpu to true to deploy it anyway",
            `registryMirror (got "https://mirror.example.com") must be a registry host[:port], with an optional path and no scheme, ` +
                "such as registry.example.com:5000: the sandbox puts it in place of ghcr.io in the desktop image's name",
        ]);
    });

    it("keeps the longest prefix's IDs within the control plane's limit", () => {
        const prefix = "s".repeat(SANDBOX_LENGTHS.instanceIdPrefix.max);
        const settings = settingsWith({ instanceIdPrefix: prefix, replicas: RANGES.replicas.max });
        expect(sandboxSettingsProblems(settings)).toEqual([]);
        const last = planSandbox(settings, RANGES.replicas.max, context).instanceId;
        expect(sandboxInstanceIdProblem(last)).toBeUndefined();
        expect(sandboxSettingsProblems(settingsWith({ instanceIdPrefix: `${prefix}s` }))).toEqual([
            `instanceIdPrefix (got "${prefix}s") must be at most 100 characters`,
        ]);
    });
});

describe("duplicateInstanceIdProblems", () => {
    it("refuses two hosts that would give a sandbox the same instance ID", () => {
        const shared = settingsWith({ instanceIdPrefix: "sandbox", replicas: 2 });
        const hosts = [
            { name: "gpu1", sandboxes: planSandboxes(shared, context) },
            { name: "gpu2", sandboxes: planSandboxes({ ...shared, replicas: 1 }, context) },
        ];
        expect(duplicateInstanceIdProblems(hosts)).toEqual([
            "sandbox instance ID sandbox-1 is planned on both host gpu1 and host gpu2: " +
                "the control plane keeps one connection per ID, so one would replace the other; give the hosts different instanceIdPrefix values",
        ]);
    });

    it("takes hosts with their default prefixes", () => {
        const hosts = ["gpu1", "gpu2"].map((name) => ({
            name,
            sandboxes: planSandboxes(
                settingsWith({ hostName: name, instanceIdPrefix: defaultSandboxIdPrefix(name), replicas: 2 }),
                context,
            ),
        }));
        expect(duplicateInstanceIdProblems(hosts)).toEqual([]);
        expect(hosts.flatMap((h) => h.sandboxes.map((s) => s.instanceId))).toEqual([
            "sandbox-gpu1-1",
            "sandbox-gpu1-2",
            "sandbox-gpu2-1",
            "sandbox-gpu2-2",
        ]);
    });
});
