// The sandbox workload's stack config: what a sandbox stack plans per host, and every refusal,
// with its exact message, before anything is created. Pure.
import { maskValue } from "../../../contract";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseConfig } from "../../../components/stackPlan";
import { PROJECT_ROOT } from "../../../components/paths";
import { MINIMAL, MINIMAL_SANDBOX, TEST_TOKEN } from "../../fixtures/configs";
import { runnerConfig, sandboxConfig, sandboxHostsOf } from "../../fixtures/placements";
import { configProblems } from "../../support/configProblems";

const context = { stackName: "dev", machineHostName: "box" };
const SANDBOX: Record<string, string> = MINIMAL_SANDBOX;
const problemsOf = (raw: Record<string, string>) => configProblems(raw, context);

/** Every default Pulumi.yaml declares, as Pulumi hands them to the program on every stack. */
const PULUMI_DEFAULTS: Record<string, string> = Object.fromEntries(
    Object.entries(parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")).config as Record<string, { default?: unknown }>)
        .filter(([, d]) => d.default !== undefined)
        .map(([k, d]) => [k, typeof d.default === "string" ? d.default : JSON.stringify(d.default)]),
);

describe("a sandbox stack", () => {
    it("is the sandbox workload on this machine, with its sandboxes planned by the sandbox plan", () => {
        const parsed = parseConfig({ ...SANDBOX, replicas: "2" }, context);
        expect(sandboxConfig(parsed).workload).toEqual({ kind: "sandbox" });
        expect(sandboxConfig(parsed).placement.kind).toBe("local");
        const [host] = sandboxHostsOf(parsed);
        expect([host.name, host.connection]).toEqual(["box", undefined]);
        expect(host.sandboxes.map((s) => [s.instanceId, s.containerName, s.image])).toEqual([
            ["sandbox-box-1", "helix-sandbox-dev-1", "ghcr.io/helixml/helix-sandbox:2.12.2"],
            ["sandbox-box-2", "helix-sandbox-dev-2", "ghcr.io/helixml/helix-sandbox:2.12.2"],
        ]);
        expect(host.settings).toMatchObject({
            restartPolicy: "always",
            memoryMb: undefined,
            cpus: undefined,
            keepVolumes: true,
            gpuVendor: "nvidia",
        });
    });

    it("hands the sandboxes the control plane URL lower-cased, since Hydra's reverse dial tests https:// case-sensitively", () => {
        const [host] = sandboxHostsOf(parseConfig({ ...SANDBOX, apiHost: "HTTPS://Helix.Example.com/" }, context));
        expect(host.sandboxes[0].env.HELIX_API_URL).toBe("https://helix.example.com");
    });

    it("is accepted with every Pulumi.yaml default present, as Pulumi hands them over (runner defaults are not runner keys set)", () => {
        const parsed = parseConfig({ ...PULUMI_DEFAULTS, ...SANDBOX }, context);
        const [host] = sandboxHostsOf(parsed);
        expect(host.settings).toMatchObject({ restartPolicy: "always", memoryMb: undefined, containerNamePrefix: "helix-sandbox-dev" });
    });

    it("takes restartPolicy and memoryMb as set even at the runners' defaults, which Pulumi.yaml does not declare", () => {
        const parsed = parseConfig({ ...PULUMI_DEFAULTS, ...SANDBOX, restartPolicy: "unless-stopped", memoryMb: "4096" }, context);
        expect(sandboxHostsOf(parsed)[0].settings).toMatchObject({ restartPolicy: "unless-stopped", memoryMb: 4096 });
        expect(sandboxHostsOf(parsed)[0].sandboxes[0]).toMatchObject({ restartPolicy: "unless-stopped", memoryMb: 4096 });
    });

    it("gives each listed host its own count, overrides and instance IDs", () => {
        const hosts = JSON.stringify([
            { name: "gpu-a", dockerHost: "ssh://ops@gpu-a", replicas: 2, memoryMb: 16384 },
            { name: "gpu-b", dockerHost: "ssh://ops@gpu-b", replicas: 1, gpuVendor: "amd", instanceIdPrefix: "amd-box" },
        ]);
        const planned = sandboxHostsOf(parseConfig({ ...SANDBOX, instanceIdPrefix: "lab", hosts }, context));
        expect(
            planned.map((h) => [h.name, h.connection?.host, h.sandboxes.map((s) => [s.instanceId, s.gpus]), h.settings.memoryMb]),
        ).toEqual([
            [
                "gpu-a",
                "ssh://ops@gpu-a",
                [
                    ["lab-gpu-a-1", "all"],
                    ["lab-gpu-a-2", "all"],
                ],
                16384,
            ],
            ["gpu-b", "ssh://ops@gpu-b", [["amd-box-1", undefined]], undefined],
        ]);
    });

    it("warns that nested desktops cannot resolve host.docker.internal", () => {
        const { warnings } = parseConfig({ ...SANDBOX, apiHost: "http://host.docker.internal:8080" }, context);
        expect(warnings).toEqual([
            "apiHost is http://host.docker.internal:8080: the sandbox itself reaches host.docker.internal, but the desktops it starts resolve names through " +
                "its DNS proxy, which does not know that name. Prefer the control plane's network and service name (networks, e.g. http://api:8080) or its DNS name.",
        ]);
    });

    it("warns, per host, about more than one sandbox on a host, saying what it costs and what it does not buy", () => {
        const perHost = (host: string) =>
            `replicas is 2${host}: one sandbox serves many desktops (up to the control plane's HELIX_SANDBOX_MAX_DEV_CONTAINERS, 20 by default) ` +
            "and gets every GPU of its host, while each keeps its own 50-100 GB of desktop images, so more sandboxes on one host mostly " +
            "multiply disk and downloads. One per host is what Helix's installer runs.";
        expect(parseConfig({ ...SANDBOX, replicas: "1" }, context).warnings).toEqual([]);
        expect(parseConfig({ ...SANDBOX, replicas: "2" }, context).warnings).toEqual([perHost("")]);
        const hosts = JSON.stringify([
            { name: "a", dockerHost: "ssh://ops@a", replicas: 1 },
            { name: "b", dockerHost: "ssh://ops@b", replicas: 2 },
        ]);
        expect(parseConfig({ ...SANDBOX, hosts }, context).warnings).toEqual([perHost(" on host b")]);
    });

    it("warns that a registry mirror other than registry:5000 must serve HTTPS with a public CA's certificate", () => {
        expect(parseConfig({ ...SANDBOX, registryMirror: "registry:5000" }, context).warnings).toEqual([]);
        expect(parseConfig({ ...SANDBOX, registryMirror: "mirror.example.com" }, context).warnings).toEqual([
            expect.stringMatching(/^registryMirror is mirror\.example\.com: it must serve HTTPS with a certificate from a public CA\./),
        ]);
    });
});

describe("helixVersion: auto", () => {
    it("is refused by the program, saying that npm run deploy resolves it and what to set for pulumi up alone", () => {
        expect(problemsOf({ ...SANDBOX, helixVersion: "auto" })).toEqual([
            "helixVersion is auto, which `npm run deploy` resolves: it reads the control plane's release from <apiHost>/api/v1/config " +
                "and pins it in the stack file before the preview. With `pulumi up` alone, set it to the control plane's release, such as 2.12.2",
        ]);
    });
});

describe("extraEnv: proxies and the chart's documented extras", () => {
    const withExtra = (extraEnv: Record<string, string>) => ({ ...SANDBOX, extraEnv: JSON.stringify(extraEnv) });

    it("adds a proxy, NO_PROXY and an APT mirror to every sandbox's environment, which is sent as a secret with the token", () => {
        const extra = {
            HTTPS_PROXY: "http://proxy.example.com:3128",
            NO_PROXY: "localhost,127.0.0.1,.svc,10.0.0.0/8",
            HELIX_SANDBOX_APT_MIRROR: "http://apt.example.com/ubuntu",
        };
        const [host] = sandboxHostsOf(parseConfig(withExtra(extra), context));
        expect(host.sandboxes[0].env).toMatchObject(extra);
        expect(host.sandboxes[0].env.HELIX_API_URL).toBe("https://helix.example.com");
    });

    it("refuses the token, a variable the stack sets itself, and any other name, each naming what to do", () => {
        expect(problemsOf(withExtra({ RUNNER_TOKEN: "x", HELIX_API_URL: "https://other.example.com", LD_PRELOAD: "/tmp/x.so" }))).toEqual([
            "extraEnv.RUNNER_TOKEN is the runner token, which only apiToken sets (a secret); remove it from extraEnv",
            "extraEnv.HELIX_API_URL is set by the stack itself (from its own key, or fixed as Helix's installer sets it); remove it from extraEnv",
            "extraEnv.LD_PRELOAD is not a variable extraEnv passes: it takes HTTP_PROXY, HTTPS_PROXY, http_proxy, https_proxy, NO_PROXY, no_proxy, HELIX_SANDBOX_APT_MIRROR, HELIX_DISK_PRESSURE_PATHS (as Helix's chart documents them)",
        ]);
    });

    it("refuses a value of the wrong kind, never showing a proxy's credentials", () => {
        const problems = problemsOf(
            withExtra({
                HTTPS_PROXY: "http://ops:hunter2@proxy.example.com:3128",
                NO_PROXY: "a.example.com, b.example.com",
                HELIX_DISK_PRESSURE_PATHS: "data",
            }),
        );
        expect(problems).toEqual([
            'extraEnv.HTTPS_PROXY (got "http://ops:***@proxy.example.com:3128") must be an http:// or https:// proxy URL without credentials or a path, such as http://proxy.example.com:3128 (credentials would sit in the stack file in plain text)',
            'extraEnv.NO_PROXY (got "a.example.com, b.example.com") must be a comma-separated list of host names, domains (.example.com), IP addresses or CIDR ranges, without spaces',
            'extraEnv.HELIX_DISK_PRESSURE_PATHS (got "data") must be a comma-separated list of absolute paths inside the sandbox, such as /var/lib/docker,/hydra-data,/data',
        ]);
        expect(problems.join("")).not.toContain("hunter2");
        expect(problemsOf({ ...SANDBOX, extraEnv: '["HTTPS_PROXY"]' })[0]).toMatch(
            /^extraEnv .*must be a map of variable names to text values/,
        );
    });

    it.each([
        ["HTTPS_PROXY", "http:///proxy"],
        ["HTTPS_PROXY", "http:proxy.example.com:3128"],
        ["HTTPS_PROXY", "http:\\\\proxy.example.com:3128"],
        ["HTTPS_PROXY", "http://prox\ny.example.com:3128"],
        ["HTTPS_PROXY", "http://proxy.example.com:3128\n"],
        ["HTTPS_PROXY", " http://proxy.example.com:3128"],
        ["HTTPS_PROXY", "http://proxy\t.example.com:3128"],
        ["HTTPS_PROXY", "http://$(id).example.com:3128"],
        ["https_proxy", 'http://proxy.example.com:3128/"x'],
        ["HELIX_SANDBOX_APT_MIRROR", "https:/apt.example.com/ubuntu"],
        ["HELIX_DISK_PRESSURE_PATHS", "/data\u001b[2J"],
        ["HELIX_DISK_PRESSURE_PATHS", "/data,/var/lib/$(id)"],
    ])("refuses %s %j, which the URL parser would repair or the sandbox read otherwise, showing it escaped", (name, value) => {
        const problems = problemsOf(withExtra({ [name]: value }));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(`^extraEnv\\.${name} \\(got .*\\) must be `));
        expect(problems[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    });

    it("writes a proxy URL in the one form apiHost is written: lower-case scheme and host, punycode, no trailing dot or slash", () => {
        const [host] = sandboxHostsOf(
            parseConfig(
                withExtra({
                    HTTPS_PROXY: "HTTP://Proxy.Example.COM.:3128/",
                    HTTP_PROXY: "http://prøxy.example.com:3128",
                    HELIX_SANDBOX_APT_MIRROR: "https://APT.example.com/Ubuntu",
                }),
                context,
            ),
        );
        expect(host.sandboxes[0].env).toMatchObject({
            HTTPS_PROXY: "http://proxy.example.com:3128",
            HTTP_PROXY: "http://xn--prxy-hra.example.com:3128",
            HELIX_SANDBOX_APT_MIRROR: "https://apt.example.com/Ubuntu",
        });
    });

    it("is refused on a runner stack, which has no use for it", () => {
        expect(configProblems({ ...MINIMAL, extraEnv: '{"HTTPS_PROXY":"http://proxy.example.com:3128"}' }, context)[0]).toMatch(
            /^extraEnv is read only by the sandbox workload/,
        );
    });
});

describe("written as checked", () => {
    it("writes registryMirror and a mirrored sandboxImage with their registry host lower-cased, without a trailing dot, in punycode", () => {
        const parsed = parseConfig(
            {
                ...SANDBOX,
                helixVersion: "",
                sandboxImage: "Bücher.Example.com./helixml/helix-sandbox:2.12.2",
                allowSandboxImageMirror: "true",
                registryMirror: "MIRROR.example.com.:5000",
            },
            context,
        );
        const [host] = sandboxHostsOf(parsed);
        expect(host.settings.sandboxImage).toBe("xn--bcher-kva.example.com/helixml/helix-sandbox:2.12.2");
        expect(host.sandboxes[0].image).toBe("xn--bcher-kva.example.com/helixml/helix-sandbox:2.12.2");
        expect(host.sandboxes[0].env.HELIX_SANDBOX_REGISTRY).toBe("mirror.example.com:5000");
    });

    it("refuses a registry port of 0 or past 65535, naming the key", () => {
        expect(problemsOf({ ...SANDBOX, registryMirror: "mirror.example.com:0" })).toEqual([
            'registryMirror (got "mirror.example.com:0") has the registry port 0: a port is from 1 to 65535',
        ]);
        const { helixVersion: _h, ...noRelease } = SANDBOX;
        expect(
            problemsOf({
                ...noRelease,
                sandboxImage: "mirror.example.com:70000/helixml/helix-sandbox:2.12.2",
                allowSandboxImageMirror: "true",
            }),
        ).toEqual([
            'sandboxImage (got "mirror.example.com:70000/helixml/helix-sandbox:2.12.2") has the registry port 70000: a port is from 1 to 65535',
        ]);
    });

    it("writes a host's dockerHost without the trailing dot ssh's known_hosts would not match", () => {
        const hosts = JSON.stringify([{ name: "a", dockerHost: "ssh://ops@GPU-A.example.com.", replicas: 1 }]);
        expect(sandboxHostsOf(parseConfig({ ...SANDBOX, hosts }, context))[0].connection?.host).toBe("ssh://ops@gpu-a.example.com");
    });
});

describe("gpuVendor: auto, the default", () => {
    const AUTO_PROBLEM =
        "gpuVendor is auto (the default), which `npm run deploy` resolves: it detects each host's GPU as Helix's installer does " +
        "and pins it in the stack file before the preview (`npm run plan -- --check-hosts` shows what it finds). " +
        "With `pulumi up` alone, set gpuVendor to the host's GPU: nvidia, amd or intel";
    const { gpuVendor: _pinned, ...UNPINNED } = SANDBOX;

    it("is refused by the program, unset or set, saying that npm run deploy resolves it and what to set for pulumi up alone", () => {
        expect(problemsOf(UNPINNED)).toEqual([AUTO_PROBLEM]);
        expect(problemsOf({ ...SANDBOX, gpuVendor: "auto" })).toEqual([AUTO_PROBLEM]);
    });

    it("is each listed host's: the stack key stays auto when every host pins its own, and a host left to it is named", () => {
        const host = (name: string, gpuVendor?: string) => ({
            name,
            dockerHost: `ssh://ops@${name}`,
            replicas: 1,
            ...(gpuVendor ? { gpuVendor } : {}),
        });
        const pinned = JSON.stringify([host("a", "nvidia"), host("b", "intel")]);
        expect(sandboxHostsOf(parseConfig({ ...UNPINNED, hosts: pinned }, context)).map((h) => h.settings.gpuVendor)).toEqual([
            "nvidia",
            "intel",
        ]);
        expect(problemsOf({ ...UNPINNED, hosts: JSON.stringify([host("a", "nvidia"), host("b")]) })).toEqual([
            `on host b: ${AUTO_PROBLEM}`,
        ]);
    });
});

describe("gpuAssignment, removed", () => {
    it("is refused with the reason wherever a stack still sets it: every sandbox gets every GPU", () => {
        expect(problemsOf({ ...SANDBOX, gpuAssignment: "per-sandbox" })).toEqual([
            "gpuAssignment is no longer used: Hydra mounts every NVIDIA GPU of the host into every desktop a sandbox starts (the control plane " +
                "never names one), so --gpus device=<n> on a sandbox isolated nothing; each sandbox gets all of its host's GPUs. " +
                "Run one sandbox per host, which serves many desktops. Remove it with `pulumi config rm gpuAssignment` (and from each host)",
        ]);
        const hosts = JSON.stringify([{ name: "a", dockerHost: "ssh://ops@a", replicas: 1, gpuAssignment: "all" }]);
        expect(problemsOf({ ...SANDBOX, hosts })).toEqual([
            expect.stringMatching(/^hosts\[0\]\.gpuAssignment is not a host key; known keys: /),
        ]);
    });
});

describe("refusals, every problem at once", () => {
    it("refuses a sandbox on the swarm, runner-only keys and the sandbox plan's own problems together", () => {
        expect(
            problemsOf({
                ...SANDBOX,
                swarm: JSON.stringify({ manager: "ssh://ops@m" }),
                concurrency: "4",
                publishDesktopPorts: "true",
                apiHost: "https://helix.example.com/api",
                gpuVendor: "none",
            }),
        ).toEqual([
            "swarm cannot run the sandbox workload: Swarm services cannot be privileged or take devices, and Helix's sandbox needs both " +
                "(it runs its own dockerd and privileged desktops). Set hosts (or neither, for this machine alone), or set workload to runner",
            "concurrency is read only by the runner workload (this stack's workload is sandbox): remove it with `pulumi config rm concurrency`",
            "publishDesktopPorts is read only by the runner workload (this stack's workload is sandbox): remove it with `pulumi config rm publishDesktopPorts`",
            'apiHost (got "https://helix.example.com/api") must be only a scheme and host[:port], such as https://helix.example.com: ' +
                "the sandbox's reverse dial keeps only those and would silently drop a path or query",
            'gpuVendor (got "none") gives a sandbox that Helix 2.11.33 and later never place a session on: it connects and idles. ' +
                "Set gpuVendor to the host's GPU (nvidia, amd or intel), or set allowNoGpu to true to deploy it anyway",
        ]);
    });

    it("refuses sandbox-only keys on a runner stack", () => {
        expect(problemsOf({ ...MINIMAL, helixVersion: "2.12.2", keepVolumes: "false" })).toEqual([
            "helixVersion is read only by the sandbox workload (this stack's workload is runner): remove it with `pulumi config rm helixVersion`, or set workload to sandbox",
            "keepVolumes is read only by the sandbox workload (this stack's workload is runner): remove it with `pulumi config rm keepVolumes`, or set workload to sandbox",
        ]);
    });

    it("accepts a runner stack with every Pulumi.yaml default present, sandbox defaults included", () => {
        expect(runnerConfig(parseConfig({ ...PULUMI_DEFAULTS, apiToken: TEST_TOKEN }, context)).workload).toEqual({ kind: "runner" });
    });

    it("refuses the other workload's host keys, naming the host entry", () => {
        const mixed = JSON.stringify([{ name: "a", dockerHost: "ssh://ops@a", replicas: 1, rdpPortBase: 4000, gpuVendor: "amd" }]);
        expect(problemsOf({ ...SANDBOX, hosts: mixed })).toEqual([
            "hosts[0].rdpPortBase is read only by the runner workload (this stack's workload is sandbox): remove it from the host",
        ]);
        expect(problemsOf({ ...MINIMAL, hosts: mixed })).toEqual([
            "hosts[0].gpuVendor is read only by the sandbox workload (this stack's workload is runner): remove it from the host, or set workload to sandbox",
        ]);
    });

    it("needs apiHost and a pinned release", () => {
        const { apiHost: _a, helixVersion: _v, ...bare } = SANDBOX;
        expect(problemsOf(bare)).toEqual([
            "apiHost is not set (or is the runners' default, http://host.docker.internal:80): a sandbox stack needs its control plane's URL as the sandboxes " +
                "and their desktops reach it (HELIX_API_URL), scheme and host[:port] only, such as https://helix.example.com",
            "helixVersion is not set: set it to the control plane's Helix release, such as 2.12.2 (a sandbox must run its control plane's release: " +
                "Hydra's API changed shape nine times between 2.5.12 and 2.12.0), or set sandboxImage to a pinned image",
        ]);
        const { helixVersion: _release, ...unpinned } = SANDBOX;
        expect(problemsOf({ ...unpinned, sandboxImage: "ghcr.io/helixml/helix-sandbox:latest" })).toEqual([
            'sandboxImage (got "ghcr.io/helixml/helix-sandbox:latest") must not be tagged latest: a sandbox must run its control plane\'s release ' +
                "(Hydra's API changes between releases); tag it with that release, such as 2.12.2",
        ]);
    });

    it("reports an invalid apiHost once, as invalid, not also as unset", () => {
        expect(problemsOf({ ...SANDBOX, apiHost: "http://bad host" })).toEqual([
            'apiHost (got "http://bad host") must be a URL without spaces, quotes, backslashes or control characters',
        ]);
    });

    it("gives a loopback apiHost the sandbox's advice, never the runners'", () => {
        const problems = problemsOf({ ...SANDBOX, apiHost: "http://localhost:8080" });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(
            /^apiHost \(got "http:\/\/localhost:8080"\) points at loopback, which inside a sandbox \(and inside each desktop it starts\)/,
        );
        expect(problems[0]).not.toMatch(/runner|host\.docker\.internal/);
    });

    it("names the host whose own override is the problem", () => {
        const hosts = JSON.stringify([
            { name: "a", dockerHost: "ssh://ops@a", replicas: 1 },
            { name: "b", dockerHost: "ssh://ops@b", replicas: 1, gpuVendor: "none" },
        ]);
        expect(problemsOf({ ...SANDBOX, hosts })).toEqual([
            'on host b: gpuVendor (got "none") gives a sandbox that Helix 2.11.33 and later never place a session on: it connects and idles. ' +
                "Set gpuVendor to the host's GPU (nvidia, amd or intel), or set allowNoGpu to true to deploy it anyway",
        ]);
    });

    it("refuses two hosts whose sandboxes would share an instance ID", () => {
        const hosts = JSON.stringify([
            { name: "a", dockerHost: "ssh://ops@a", replicas: 1, instanceIdPrefix: "gpu" },
            { name: "b", dockerHost: "ssh://ops@b", replicas: 2, instanceIdPrefix: "gpu" },
        ]);
        expect(problemsOf({ ...SANDBOX, hosts })).toEqual([
            "sandbox instance ID gpu-1 is planned on both host a and host b: the control plane keeps one connection per ID, " +
                "so one would replace the other; give the hosts different instanceIdPrefix values",
        ]);
    });

    it("refuses registry keys on a sandbox stack", () => {
        expect(problemsOf({ ...SANDBOX, registry: "registry.example.com" })).toEqual([
            "registry is read only by the runner workload on a swarm; remove it (a sandbox pulls Helix's image itself)",
        ]);
    });
});

describe("never echoing credentials", () => {
    it("says once, in words that fit a sandbox, that apiHost carries credentials", () => {
        expect(problemsOf({ ...SANDBOX, apiHost: "https://user:pw@helix.example.com" })).toEqual([
            'apiHost (got "https://user:***@helix.example.com") must not carry credentials; apiToken, the runner token, is what authenticates',
        ]);
    });

    it.each([
        ["https://user:hunter2@helix.example.com", "https://user:***@helix.example.com"],
        ["https://hunter2@helix.example.com", "https://***@helix.example.com"],
        ["user:hunter2@registry.example.com/mirror", "user:***@registry.example.com/mirror"],
        ["hunter2@registry.example.com", "***@registry.example.com"],
        ["registry.example.com/x?token=hunter2", "registry.example.com/x?***"],
        // A login is a user name, and a digest is no user-info.
        ["ssh://ops@gpu-a", "ssh://ops@gpu-a"],
        [`helix-sandbox@sha256:${"a".repeat(64)}`, `helix-sandbox@sha256:${"a".repeat(56)}...`],
    ])("maskValue shows %s as %s", (value, shown) => expect(maskValue(value)).toBe(shown));

    it.each([
        ["registryMirror", "user:hunter2@registry.example.com"],
        ["registryMirror", "hunter2@registry.example.com"],
        ["sandboxImage", "hunter2@ghcr.io/helixml/helix-sandbox:2.12.2"],
        ["apiHost", "https://hunter2@helix.example.com"],
        ["apiHost", "HTTPS://user:hunter2@helix.example.com"],
    ])("refuses %s %s without showing the credential, in any message", (key, value) => {
        const problems = problemsOf({ ...SANDBOX, ...(key === "sandboxImage" ? { helixVersion: "" } : {}), [key]: value });
        expect(problems.length).toBeGreaterThan(0);
        expect(problems.join("\n")).not.toContain("hunter2");
    });

    it("escapes control characters rather than print them raw", () => {
        const problems = problemsOf({ ...SANDBOX, registryMirror: "registry\u001b[31m.example.com" });
        expect(problems.join("\n")).toContain("\\u001b[31m");
        expect(problems.join("\n")).not.toContain("\u001b");
    });
});
