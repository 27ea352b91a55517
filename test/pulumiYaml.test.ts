// Pulumi.yaml declares the config contract to the CLI; it must agree with the schema.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_KEYS, UNDECLARED_KEYS, WORKLOAD_DEFAULTED_KEYS } from "../components/config/schema";
import { parseConfig } from "../components/stackPlan";
import { readStackConfig } from "../cli/stackFiles";
import { TEST_TOKEN } from "./fixtures/configs";
import { hostsOf, runnerConfig, sandboxHostsOf } from "./fixtures/placements";

const root = path.resolve(__dirname, "..");
const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
const declared: Record<string, { type: string; default?: unknown; secret?: boolean; description: string }> = project.config;

/** Pulumi hands declared defaults to the program as strings (arrays as JSON). */
function asPulumiString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

describe("Pulumi.yaml", () => {
    it("is the zed-runner project on the nodejs runtime", () => {
        expect(project.name).toBe("zed-runner");
        expect(project.runtime.name).toBe("nodejs");
    });

    it("declares exactly the keys the program reads, each with a description, but the list of hosts", () => {
        const declarable = CONFIG_KEYS.filter((k) => !UNDECLARED_KEYS.includes(k));
        expect(Object.keys(declared).sort()).toEqual([...declarable].sort());
        for (const key of declarable) expect(declared[key].description.length).toBeGreaterThan(10);
    });

    it("requires apiToken as a secret with no default", () => {
        expect(declared.apiToken).toMatchObject({ type: "string", secret: true });
        expect(declared.apiToken.default).toBeUndefined();
    });

    it("declares the same defaults the program applies", () => {
        const context = { stackName: "dev", machineHostName: "box" };
        const fromDeclared = Object.fromEntries(
            Object.entries(declared)
                .filter(([, d]) => d.default !== undefined)
                .map(([k, d]) => [k, asPulumiString(d.default)]),
        );
        const withDeclaredDefaults = parseConfig({ ...fromDeclared, apiToken: TEST_TOKEN }, context);
        const withProgramDefaults = parseConfig({ apiToken: TEST_TOKEN }, context);
        expect(withDeclaredDefaults).toEqual(withProgramDefaults);
    });

    it("gives every key a default except the secrets and the keys whose default depends on the workload", () => {
        expect(Object.keys(declared).filter((k) => declared[k].default === undefined)).toEqual([
            "apiToken",
            "restartPolicy",
            "memoryMb",
            "registryPassword",
        ]);
        expect(WORKLOAD_DEFAULTED_KEYS).toEqual(["restartPolicy", "memoryMb"]);
        expect(Object.keys(declared).filter((k) => declared[k].secret)).toEqual(["apiToken", "registryPassword"]);
    });
});

describe("Pulumi.dev.yaml", () => {
    it("passes validation once the token is set", () => {
        const { raw } = readStackConfig("dev");
        const { settings } = runnerConfig(parseConfig({ ...raw, apiToken: TEST_TOKEN }, { stackName: "dev", machineHostName: "box" }));
        expect(settings.apiHost).toBe("http://api:8080");
        expect(settings.networks).toEqual(["helix_default"]);
    });
});

describe("Pulumi.sandbox.yaml", () => {
    it("passes validation once the token is set: one NVIDIA sandbox of Helix 2.12.2 on this machine, no warning", () => {
        const { raw } = readStackConfig("sandbox");
        const parsed = parseConfig({ ...raw, apiToken: TEST_TOKEN, hostName: "gpu-box" }, { stackName: "sandbox", machineHostName: "box" });
        const [host] = sandboxHostsOf(parsed);
        expect(parsed.apiHost).toBe("https://helix.example.com");
        expect(host.sandboxes.map((s) => [s.instanceId, s.image, s.gpus, s.runtime])).toEqual([
            ["sandbox-gpu-box-1", "ghcr.io/helixml/helix-sandbox:2.12.2", "all", "nvidia"],
        ]);
        expect(parsed.warnings).toEqual([]);
    });
});

describe("Pulumi.fleet.yaml", () => {
    it("passes validation once the token is set, with two SSH hosts", () => {
        const { raw } = readStackConfig("fleet");
        const hosts = hostsOf(parseConfig({ ...raw, apiToken: TEST_TOKEN }, { stackName: "fleet", machineHostName: "box" }));
        expect(hosts.map((h) => [h.name, h.connection?.host, h.settings.replicas, h.settings.memoryMb])).toEqual([
            ["gpu-a", "ssh://ops@gpu-a.example.com", 4, 6144],
            ["gpu-b", "ssh://ops@gpu-b.example.com:2222", 2, 12288],
        ]);
    });
});
