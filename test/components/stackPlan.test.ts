import { CONFIG_KEYS } from "../../components/config/schema";
import { sanitizeHostName } from "../../components/config/values";
import { parseConfig } from "../../components/stackPlan";
import { INSECURE_DEFAULT_TOKEN, isLoopbackHost } from "../../contract";
import { configProblems } from "../support/configProblems";
import { BAD_INPUTS, GOOD_HOSTS, MINIMAL, SWARM, TEST_TOKEN } from "../fixtures/configs";
import { hostsOf, runnerConfig, swarmOf } from "../fixtures/placements";

const context = { stackName: "dev", machineHostName: "builder-01.example.internal" };

const problemsOf = (raw: Record<string, string>) => configProblems(raw, context);
/** A runner stack's parsed config; fails on a sandbox stack. */
const parseRunner = (raw: Record<string, string>, ctx: Parameters<typeof parseConfig>[1]) => runnerConfig(parseConfig(raw, ctx));

describe("parseConfig defaults", () => {
    const { settings, apiToken, warnings } = runnerConfig(parseConfig(MINIMAL, context));

    it("match the seed's documented defaults", () => {
        expect(settings).toEqual({
            apiHost: "http://host.docker.internal:80",
            allowInsecureToken: false,
            replicas: 1,
            hostName: "builder-01",
            runnerIdPrefix: "external-zed-builder-01",
            containerNamePrefix: "helix-zed-agent-dev",
            concurrency: 1,
            maxTasks: 0,
            sessionTimeout: 3600,
            workspaceDir: "/tmp/zed-workspaces",
            logLevel: "info",
            displayWidth: 1920,
            displayHeight: 1080,
            image: undefined,
            baseImage: "debian:bookworm-slim",
            zedBuildDir: "zed-build",
            restartPolicy: "unless-stopped",
            healthStartInterval: false,
            bindAddress: "127.0.0.1",
            publishDesktopPorts: false,
            revdial: "auto",
            rdpPortBase: 3389,
            vncPortBase: 5900,
            healthPortBase: 3030,
            portsPerRunner: 1,
            memoryMb: 4096,
            shmSizeMb: 1024,
            cpus: undefined,
            persistWorkspaces: false,
            readOnlyRootFilesystem: true,
            noNewPrivileges: true,
            pidsLimit: 1024,
            cpuShares: 512,
            networks: [],
        });
        expect(apiToken).toBe(TEST_TOKEN);
        expect(warnings).toEqual([]);
    });

    it('treats empty strings (Pulumi.yaml\'s `default: ""`) as unset', () => {
        const parsed = runnerConfig(parseConfig({ ...MINIMAL, hostName: "", image: "", cpus: "", runnerIdPrefix: "" }, context));
        expect(parsed.settings.hostName).toBe("builder-01");
        expect(parsed.settings.image).toBeUndefined();
        expect(parsed.settings.cpus).toBeUndefined();
        expect(parsed.settings.runnerIdPrefix).toBe("external-zed-builder-01");
    });
});

describe("parseConfig coerces Pulumi's string values", () => {
    it("reads numbers, booleans and lists", () => {
        const { settings } = parseRunner(
            {
                ...MINIMAL,
                replicas: "3",
                concurrency: "2",
                cpus: "1.5",
                persistWorkspaces: "true",
                networks: '["helix_default","monitoring"]',
                apiHost: "https://helix.example.com/",
                hostName: "gpu-box",
            },
            context,
        );
        expect(settings.replicas).toBe(3);
        expect(settings.concurrency).toBe(2);
        expect(settings.cpus).toBe(1.5);
        expect(settings.persistWorkspaces).toBe(true);
        expect(settings.networks).toEqual(["helix_default", "monitoring"]);
        expect(settings.apiHost).toBe("https://helix.example.com");
        expect(settings.runnerIdPrefix).toBe("external-zed-gpu-box");
    });

    it("accepts zero replicas, so a stack can be scaled to nothing without destroying it", () => {
        expect(runnerConfig(parseConfig({ ...MINIMAL, replicas: "0" }, context)).settings.replicas).toBe(0);
    });
});

describe.each(BAD_INPUTS)("parseConfig refuses %s=%j", (key, value, expected) => {
    it("naming the key and what is allowed", () => {
        const problems = problemsOf({ ...MINIMAL, [key]: value });
        expect(problems).toHaveLength(1);
        expect(problems[0].startsWith(key)).toBe(true);
        expect(problems[0]).toContain(expected);
    });
});

describe.each(GOOD_HOSTS)("parseConfig accepts the host name or IP address in %s=%j", (key, value) => {
    it("without a problem", () => {
        expect(() => parseConfig({ ...MINIMAL, [key]: value }, context)).not.toThrow();
    });
});

it("refuses a swarm manager whose host is not a host name", () => {
    expect(problemsOf({ ...SWARM, swarm: JSON.stringify({ manager: "ssh://ops@manager`reboot`" }) })).toEqual([
        'swarm.manager (got "ssh://ops@manager`reboot`") must name a host name (RFC 1123) or an IP address as its host; ' +
            "its host has a label with a character other than letters, digits and '-' (or '_'), or one that starts or ends with '-'",
    ]);
});

describe("parseConfig with the stack's docker:* keys (as the commands read them)", () => {
    const dockerConfig = { host: "ssh://ops@gpu-a.example.com:2222", sshOpts: '["-o","ConnectTimeout=5"]' };

    it("puts the local placement on the engine docker:host names", () => {
        const hosts = hostsOf(parseConfig(MINIMAL, { ...context, dockerConfig }));
        expect(hosts.map((h) => [h.name, h.connection])).toEqual([
            ["builder-01", { host: "ssh://ops@gpu-a.example.com:2222", certPath: undefined, sshOpts: ["-o", "ConnectTimeout=5"] }],
        ]);
    });

    it("puts a swarm without a manager there too, and leaves a swarm's manager and a fleet's hosts alone", () => {
        const here = swarmOf(parseConfig({ ...SWARM, swarm: "{}" }, { ...context, dockerConfig }));
        expect(here.target.connection?.host).toBe("ssh://ops@gpu-a.example.com:2222");
        const managed = swarmOf(parseConfig(SWARM, { ...context, dockerConfig }));
        expect(managed.target.connection?.host).toBe("ssh://ops@swarm-manager-1");
        const fleet = parseConfig(
            { ...MINIMAL, hosts: JSON.stringify([{ name: "b", dockerHost: "ssh://ops@b", replicas: 1 }]) },
            { ...context, dockerConfig },
        );
        expect(hostsOf(fleet).map((h) => h.connection?.host)).toEqual(["ssh://ops@b"]);
    });

    it("leaves the local placement on the default provider without docker:host", () => {
        expect(
            hostsOf(parseConfig(MINIMAL, { ...context, dockerConfig: { certPath: "/etc/docker/certs" } }))[0].connection,
        ).toBeUndefined();
        expect(hostsOf(parseConfig(MINIMAL, context))[0].connection).toBeUndefined();
    });

    it("refuses docker:* values the commands could not follow, naming the key, without a password", () => {
        const refused = (docker: Record<string, string>) => () => parseConfig(MINIMAL, { ...context, dockerConfig: docker });
        expect(refused({ host: "ssh://ops@gpu-a;touch" })).toThrow(
            'docker:host (got "ssh://ops@gpu-a;touch") must name a host name (RFC 1123) or an IP address as its host',
        );
        expect(refused({ host: "ssh://ops:hunter2@gpu-a" })).toThrow('docker:host (got "ssh://ops:***@gpu-a") must not carry a password');
        expect(refused({ host: "ssh://ops:hunter2@gpu-a" })).not.toThrow("hunter2");
        expect(refused({ host: "unix:///var/run/docker.sock", sshOpts: "-p 2222" })).toThrow(
            'docker:sshOpts (got "-p 2222") must be a list of ssh options',
        );
    });
});

it("warns that healthStartInterval does nothing on a swarm, and says nothing of it on a host", () => {
    expect(parseConfig({ ...SWARM, healthStartInterval: "true" }, context).warnings).toEqual([
        "healthStartInterval is true on a swarm, where it does nothing: the Docker provider's service health check has no start interval, so a runner still turns healthy at its first check, 10 s after start.",
    ]);
    expect(parseConfig({ ...MINIMAL, healthStartInterval: "true" }, context).warnings).toEqual([]);
});
describe("parseConfig warns about keys in another namespace that look like ours", () => {
    const warningsOf = (otherKeys: string[]) => parseConfig(MINIMAL, { ...context, otherKeys }).warnings;

    it.each(["zed_runner:replicas", "zedrunner:apiHost", "zed-runnr:hostName", "Zed-Runner:replicas", "zed-runners:foo", "helix:apiHost"])(
        "%s",
        (key) => {
            const warnings = warningsOf([key]);
            expect(warnings).toHaveLength(1);
            expect(warnings[0].startsWith(`${key} is ignored: it is in namespace ${key.split(":")[0]}, not zed-runner.`)).toBe(true);
        },
    );

    it("names the key to set instead, in our spelling", () => {
        expect(warningsOf(["zed_runner:apihost"])).toEqual([
            "zed_runner:apihost is ignored: it is in namespace zed_runner, not zed-runner. If it was meant for zed-runner, " +
                "set it as zed-runner:apiHost (`pulumi config rm zed_runner:apihost`, then `pulumi config set apiHost ...`).",
        ]);
        expect(warningsOf(["zed-runer:colour"])).toEqual([
            "zed-runer:colour is ignored: it is in namespace zed-runer, not zed-runner. If it was meant for zed-runner, " +
                "zed-runner's keys are zed-runner:<key>; remove it with `pulumi config rm zed-runer:colour`.",
        ]);
    });

    it.each(["docker:host", "pulumi:template", "random:replicas", "docker:apiHost", "team:owner", "zed:replica", "aws:region"])(
        "not about %s",
        (key) => {
            expect(warningsOf([key])).toEqual([]);
        },
    );

    it("cuts a huge key short", () => {
        const [warning] = warningsOf([`zed_runner:${"k".repeat(1024 * 1024)}`]);
        expect(warning.length).toBeLessThan(400);
    });
});

describe("parseConfig error reporting", () => {
    it("lists every problem at once", () => {
        const problems = problemsOf({ ...MINIMAL, replicas: "-1", logLevel: "loud", bindAddress: "x" });
        expect(problems.map((p) => p.split(" ")[0]).sort()).toEqual(["bindAddress", "logLevel", "replicas"]);
    });

    it("shows the bad value for ordinary keys", () => {
        expect(problemsOf({ ...MINIMAL, logLevel: "loud" })[0]).toContain('(got "loud")');
    });

    it("never shows the token's value", () => {
        let message = "";
        try {
            parseConfig({ apiToken: INSECURE_DEFAULT_TOKEN }, context);
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message).toContain("apiToken is the insecure default");
        expect(message).not.toContain(INSECURE_DEFAULT_TOKEN);
    });

    it("requires apiToken and says how to set it", () => {
        const problems = problemsOf({});
        expect(problems).toEqual(["apiToken is not set: run `pulumi config set --secret apiToken <runner token>`"]);
    });

    it("says how to fix every problem in the message", () => {
        try {
            parseConfig({ ...MINIMAL, replicas: "x" }, context);
        } catch (err) {
            expect((err as Error).message).toMatch(/^Invalid stack config for zed-runner \(1 problem\):\n {2}- replicas/);
            expect((err as Error).message).toContain("pulumi config set <key> <value>");
        }
        expect.assertions(2);
    });
});

describe("parseConfig hosts", () => {
    const a = { name: "gpu-a", dockerHost: "ssh://ops@gpu-a", replicas: 2 };

    it("is this machine alone, on the default provider, when hosts is unset", () => {
        const { placement, settings } = runnerConfig(parseConfig(MINIMAL, context));
        expect(placement).toEqual({
            kind: "local",
            host: {
                name: "builder-01",
                connection: undefined,
                settings,
                runners: [expect.objectContaining({ runnerId: "external-zed-builder-01-1" })],
            },
        });
    });

    it("takes two ssh ports of one gateway as two hosts: a forwarded port may reach another machine", () => {
        const gateway = [
            { name: "h0", dockerHost: "ssh://ops@gw.example.com:2201", replicas: 1 },
            { name: "h1", dockerHost: "ssh://ops@gw.example.com:2202", replicas: 1 },
        ];
        const hosts = hostsOf(parseConfig({ ...MINIMAL, hosts: JSON.stringify(gateway) }, context));
        expect(hosts.map((h) => h.name)).toEqual(["h0", "h1"]);
    });

    it("merges each host's overrides into the top-level settings", () => {
        const hosts = hostsOf(
            parseConfig(
                {
                    ...MINIMAL,
                    memoryMb: "2048",
                    concurrency: "3",
                    hosts: JSON.stringify([{ ...a, memoryMb: 8192, sshOpts: ["-o", "StrictHostKeyChecking=yes"] }]),
                },
                context,
            ),
        );
        expect(hosts[0].connection).toEqual({ host: "ssh://ops@gpu-a", certPath: undefined, sshOpts: ["-o", "StrictHostKeyChecking=yes"] });
        expect(hosts[0].settings).toMatchObject({
            hostName: "gpu-a",
            replicas: 2,
            memoryMb: 8192,
            concurrency: 3,
            runnerIdPrefix: "external-zed-gpu-a",
        });
    });

    it("keeps a top-level runnerIdPrefix unique per host", () => {
        const hosts = hostsOf(parseConfig({ ...MINIMAL, runnerIdPrefix: "lab", hosts: JSON.stringify([a]) }, context));
        expect(hosts[0].settings.runnerIdPrefix).toBe("lab-gpu-a");
    });

    it("warns about a host that publishes on every interface, naming it", () => {
        const { warnings } = parseConfig({ ...MINIMAL, hosts: JSON.stringify([{ ...a, bindAddress: "0.0.0.0" }]) }, context);
        expect(warnings).toEqual([expect.stringContaining("bindAddress is 0.0.0.0 on host gpu-a")]);
    });
});

describe("parseConfig with hosts", () => {
    it("refuses a top-level replicas that hosts would silently override", () => {
        const hosts = JSON.stringify([{ name: "a", dockerHost: "ssh://ops@a", replicas: 2 }]);
        expect(problemsOf({ ...MINIMAL, replicas: "3", hosts })).toEqual([
            'replicas (got "3") has no effect when hosts is set: give each host its own replicas, and remove the top-level key',
        ]);
        // Pulumi.yaml's default (1) is what every stack has; it is not a choice to refuse.
        expect(() => parseConfig({ ...MINIMAL, replicas: "1", hosts }, context)).not.toThrow();
    });
});

describe("parseConfig warnings", () => {
    it.each([["::ffff:0.0.0.0"], ["0:0:0:0:0:0:0:0"], ["0.0.0.0"], ["::"]])(
        "warns that bindAddress %s publishes on every interface",
        (bindAddress) => {
            const { warnings } = parseConfig({ ...MINIMAL, bindAddress }, context);
            expect(warnings).toEqual([
                expect.stringContaining(
                    `bindAddress is ${bindAddress}: every runner's health port is published on every network interface`,
                ),
            ]);
        },
    );

    it("accepts an insecure token only with allowInsecureToken, with a warning", () => {
        const parsed = parseConfig({ apiToken: INSECURE_DEFAULT_TOKEN, allowInsecureToken: "true" }, context);
        expect(parsed.apiToken).toBe(INSECURE_DEFAULT_TOKEN);
        expect(parsed.warnings).toHaveLength(1);
        expect(parsed.warnings[0]).toContain("allowInsecureToken is true");
        expect(parsed.warnings[0]).not.toContain(INSECURE_DEFAULT_TOKEN);
    });

    it.each(["0.0.0.0", "::"])("warns that bindAddress %s exposes the remote desktop ports", (bindAddress) => {
        const { warnings } = parseConfig({ ...MINIMAL, publishDesktopPorts: "true", bindAddress }, context);
        expect(warnings).toEqual([expect.stringContaining(`bindAddress is ${bindAddress}: every runner's RDP, VNC and health ports`)]);
    });

    it("warns that restartPolicy no leaves a disconnected runner down", () => {
        const { warnings } = parseConfig({ ...MINIMAL, restartPolicy: "no" }, context);
        expect(warnings).toEqual([expect.stringContaining("restartPolicy is no")]);
    });
});

describe("helpers", () => {
    it.each([
        ["localhost", true],
        ["api.localhost", true],
        ["127.0.0.1", true],
        ["127.10.20.30", true],
        ["[::1]", true],
        ["0.0.0.0", true],
        ["host.docker.internal", false],
        ["api", false],
        ["10.0.0.5", false],
    ])("isLoopbackHost(%s) is %s", (host, expected) => {
        expect(isLoopbackHost(host)).toBe(expected);
    });

    it.each([
        ["Builder-01.corp.example", "builder-01"],
        ["my_box", "my-box"],
        ["___", "localhost"],
    ])("sanitizeHostName(%s) is %s", (input, expected) => {
        expect(sanitizeHostName(input)).toBe(expected);
    });

    it("reads exactly these keys, in Pulumi.yaml's order", () => {
        expect(CONFIG_KEYS).toEqual([
            "workload",
            "apiHost",
            "apiToken",
            "allowInsecureToken",
            "replicas",
            "hostName",
            "runnerIdPrefix",
            "containerNamePrefix",
            "concurrency",
            "maxTasks",
            "sessionTimeout",
            "workspaceDir",
            "logLevel",
            "displayWidth",
            "displayHeight",
            "image",
            "baseImage",
            "zedBuildDir",
            "restartPolicy",
            "healthStartInterval",
            "bindAddress",
            "publishDesktopPorts",
            "revdial",
            "rdpPortBase",
            "vncPortBase",
            "healthPortBase",
            "portsPerRunner",
            "memoryMb",
            "shmSizeMb",
            "cpus",
            "persistWorkspaces",
            "readOnlyRootFilesystem",
            "noNewPrivileges",
            "pidsLimit",
            "cpuShares",
            "networks",
            "helixVersion",
            "sandboxImage",
            "gpuVendor",
            "allowNoGpu",
            "allowSandboxImageMirror",
            "registryMirror",
            "instanceIdPrefix",
            "keepVolumes",
            "startTimeout",
            "extraEnv",
            "hosts",
            "swarm",
            "registry",
            "registryUsername",
            "registryPassword",
        ]);
    });
});

describe("one message for every problem, never a secret", () => {
    it("reports a bad replicas and an empty token together", () => {
        const problems = problemsOf({ ...MINIMAL, apiToken: "", replicas: "-1" });
        expect(problems).toEqual([
            'replicas (got "-1") must be an integer from 0 to 1000',
            "apiToken is empty: use the runner token your control plane is configured with, or set allowInsecureToken to true for a throwaway test",
        ]);
    });

    it("reports a port clash together with other problems", () => {
        const problems = problemsOf({ ...MINIMAL, publishDesktopPorts: "true", replicas: "5", healthPortBase: "3390", logLevel: "loud" });
        expect(problems).toEqual([
            'logLevel (got "loud") must be one of debug, info, warn, error',
            "host port 3390 is both runner 1's HEALTH port and runner 2's RDP port: move healthPortBase and rdpPortBase further apart (each role needs replicas x portsPerRunner consecutive ports)",
        ]);
    });

    it.each([
        [
            "https://ops:hunter2@helix.example.com",
            'apiHost (got "https://ops:***@helix.example.com") must not carry credentials',
            "hunter2",
        ],
        [
            "https://helix.example.com/?token=s3cr3t-value",
            'apiHost (got "https://helix.example.com/?***") must not have a query string',
            "s3cr3t-value",
        ],
    ])("masks a URL's credentials: %s", (apiHost, message, secret) => {
        const problems = problemsOf({ ...MINIMAL, apiHost });
        expect(problems).toEqual([expect.stringContaining(message)]);
        expect(problems.join("\n")).not.toContain(secret);
    });

    it("shows a value set with --secret as [secret]", () => {
        expect(() => parseConfig({ ...MINIMAL, hostName: "secret host!" }, { ...context, secretKeys: new Set(["hostName"]) })).toThrow(
            "hostName (got [secret]) must be a host name",
        );
    });

    it("takes an encrypted value it cannot read as present, without checking it", () => {
        const parsed = runnerConfig(
            parseConfig(
                { ...MINIMAL, apiHost: "[secret]" },
                { ...context, secretKeys: new Set(["apiHost"]), unreadableKeys: new Set(["apiHost"]) },
            ),
        );
        expect(parsed.settings.apiHost).toBe("[secret]");
    });

    it("never echoes the token, whatever is wrong with it", () => {
        const token = "  tok-with-spaces-9f8e7d  ";
        const error = (() => {
            try {
                parseConfig({ ...MINIMAL, apiToken: token, replicas: "x" }, context);
            } catch (err) {
                return (err as Error).message;
            }
            return "";
        })();
        expect(error).toContain("apiToken has leading or trailing whitespace");
        expect(error).not.toContain(token.trim());
    });
});
