// The policy pack as `pulumi policy publish` ships it: `npm pack` in policy/ (which compiles
// the pack and the contract into bin/), the tarball unpacked in a folder outside the
// repository with nothing of the repository beside it but the three @pulumi packages the pack
// depends on (what Pulumi installs from package.json after downloading a pack), then its
// policies loaded by plain Node and run on a resource. Were the pack to import anything
// outside its own folder, the load would fail here.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sandboxImagePinProblem } from "../../contract";

const ROOT = path.resolve(__dirname, "../..");

/** Loads the packed policies, runs a few on hand-built resources, reports what it saw as JSON. */
const CHECK = `
const path = require("node:path");
const { policies } = require(path.resolve(process.argv[2], require(path.resolve(process.argv[2], "package.json")).main, "../policies.js"));
const byName = Object.fromEntries(policies.map((p) => [p.name, p]));
function argsFor(policy, type, props) {
    return {
        type, props, urn: "urn:pulumi:test::zed-runner::" + type + "::runner", name: "runner",
        opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: ["envs"] },
        stackTags: new Map(),
        getConfig: () => Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([k, s]) => [k, s.default])),
        isType: (cls) => cls.__pulumiType === type,
        asType: (cls) => (cls.__pulumiType === type ? props : undefined),
        notApplicable: () => { throw new Error("not applicable"); },
    };
}
function violations(name, type, props) {
    const found = [];
    for (const validate of [].concat(byName[name].validateResource)) {
        try { validate(argsFor(byName[name], type, props), (m) => found.push(m)); } catch (err) { if (err.message !== "not applicable") throw err; }
    }
    return found;
}
function stackViolations(name, type, props) {
    const policy = byName[name];
    const found = [];
    const resource = {
        type, props, urn: "urn:pulumi:test::zed-runner::" + type + "::sandbox", name: "sandbox",
        opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: ["envs"] },
        dependencies: [], propertyDependencies: {},
        isType: (cls) => cls.__pulumiType === type,
        asType: (cls) => (cls.__pulumiType === type ? props : undefined),
    };
    policy.validateStack({
        resources: [resource],
        stackTags: new Map(),
        getConfig: () => Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([k, s]) => [k, s.default])),
        notApplicable: () => { throw new Error("not applicable"); },
    }, (m) => found.push(m));
    return found;
}
const container = "docker:index/container:Container";
const service = "docker:index/service:Service";
const slotted = { taskSpec: { containerSpec: { env: { RUNNER_ID: "zed-{{.Task.Slot}}", API_TOKEN_FILE: "/run/secrets/t" } } } };
console.log(JSON.stringify({
    names: policies.map((p) => p.name),
    exampleToken: violations("runner-token-not-default", container, { envs: ["API_TOKEN=oh-hallo-insecure-token", "RUNNER_ID=zed-1"] }),
    realToken: violations("runner-token-not-default", container, { envs: ["API_TOKEN=a-real-runner-token", "RUNNER_ID=zed-1"] }),
    publicRdp: violations("remote-desktop-not-public", container, { envs: ["RUNNER_ID=zed-1"], ports: [{ internal: 3390, external: 13390, ip: "0.0.0.0" }] }),
    serviceWithoutSecret: violations("runner-token-not-default", service, slotted),
    sandboxLatest: stackViolations("sandbox-image-pinned", container, { image: "ghcr.io/helixml/helix-sandbox:latest", privileged: true }),
    sandboxTooOld: stackViolations("sandbox-image-pinned", container, { image: "ghcr.io/helixml/helix-sandbox:2.5.41", privileged: true }),
    loadedFromRepository: Object.keys(require.cache).filter((f) => f.startsWith(process.argv[3] + path.sep) && !f.includes(path.sep + "node_modules" + path.sep)),
}));
`;

describe("the packed policy pack", () => {
    let work: string;
    beforeAll(() => {
        // realpath: the folder's own path, not a symlinked temp folder's, so "outside the repository" is checked for real.
        work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "zed-runner-policy-pack-")));
    });
    afterAll(() => {
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("holds only its compiled policies and the contract, and runs them outside the repository", () => {
        const packed = JSON.parse(
            execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
                cwd: path.join(ROOT, "policy"),
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            }),
        ) as { filename: string; files: { path: string }[] }[];
        const files = packed[0].files.map((f) => f.path).sort();
        expect(
            files.filter((f) => !/^(package\.json|PulumiPolicy\.yaml|README\.md|bin\/(policy|contract)\/[A-Za-z]+\.js)$/.test(f)),
        ).toEqual([]);
        expect(files).toEqual(
            expect.arrayContaining(["PulumiPolicy.yaml", "bin/policy/index.js", "bin/policy/policies.js", "bin/contract/index.js"]),
        );

        const unpacked = path.join(work, "unpacked");
        fs.mkdirSync(unpacked);
        execFileSync("tar", ["-xzf", path.join(work, packed[0].filename), "-C", unpacked]);
        const pack = path.join(unpacked, "package");
        // What Pulumi installs from the pack's package.json: its three @pulumi dependencies, and nothing else of ours.
        const manifest = JSON.parse(fs.readFileSync(path.join(pack, "package.json"), "utf8"));
        expect(Object.keys(manifest.dependencies).sort()).toEqual(["@pulumi/docker", "@pulumi/policy", "@pulumi/pulumi"]);
        expect(fs.existsSync(path.join(pack, manifest.main))).toBe(true);
        fs.mkdirSync(path.join(pack, "node_modules", "@pulumi"), { recursive: true });
        for (const dependency of Object.keys(manifest.dependencies)) {
            fs.symlinkSync(
                fs.realpathSync(path.join(ROOT, "node_modules", dependency)),
                path.join(pack, "node_modules", dependency),
                "dir",
            );
        }
        fs.writeFileSync(path.join(work, "check.js"), CHECK);

        const seen = JSON.parse(
            execFileSync(process.execPath, [path.join(work, "check.js"), pack, ROOT], {
                cwd: pack,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            }),
        );
        expect(seen.names).toHaveLength(21);
        expect(seen.names).toContain("runner-token-not-default");
        expect(seen.exampleToken).toEqual([
            "Runner container must not use Helix's example token oh-hallo-insecure-token: anyone could register runners with it.",
        ]);
        expect(seen.realToken).toEqual([]);
        // Container port 3390 is the second RDP port: the range comes from the packed contract's ports.
        expect(seen.publicRdp).toEqual([
            'RDP port 3390 must not be published on every interface (ip "0.0.0.0"); bind it to 127.0.0.1 or a private address.',
        ]);
        expect(seen.serviceWithoutSecret).toEqual([
            "Runner service's API_TOKEN_FILE names /run/secrets/t, but no Swarm secret is mounted there.",
        ]);
        // The sandbox's repository and first release come from the packed contract too.
        for (const [found, image] of [
            [seen.sandboxLatest, "ghcr.io/helixml/helix-sandbox:latest"],
            [seen.sandboxTooOld, "ghcr.io/helixml/helix-sandbox:2.5.41"],
        ]) {
            expect(sandboxImagePinProblem(image)).toBeDefined();
            expect(found).toEqual([`Sandbox container sandbox's image "${image}" ${sandboxImagePinProblem(image)}.`]);
        }
        expect(seen.sandboxTooOld[0]).toContain("2.5.42 or later");
        expect(seen.loadedFromRepository).toEqual([]);
    });
});
