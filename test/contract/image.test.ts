// The image's contract (contract/image.ts) against the files that cannot import it:
// Dockerfile.zed-agent, image/xrdp.ini and .dockerignore. (The e2e checks what a
// built image really listens on.)
import * as fs from "node:fs";
import * as path from "node:path";
import {
    AGENT_COMMAND,
    CONTAINER_PORTS,
    DESKTOP_USER,
    ENV,
    HEALTHCHECK,
    HEALTHCHECK_COMMAND,
    IMAGE_BUILD_INPUTS,
    IMAGE_DEFAULTS,
    STATE_DIR,
    XRDP_RSA_KEYS,
    ZED_BINARY,
    workspaceDirProblem,
} from "../../contract";

const ROOT = path.resolve(__dirname, "../..");
const dockerfile = fs.readFileSync(path.join(ROOT, "Dockerfile.zed-agent"), "utf8");
const xrdpIni = fs.readFileSync(path.join(ROOT, "image/xrdp.ini"), "utf8");

/** Docker's .dockerignore rule: the last pattern that matches a path or one of its parents decides. */
function ignoredByDockerignore(file: string, patterns: string[]): boolean {
    let ignored = false;
    const prefixes = file.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    for (const raw of patterns) {
        const negate = raw.startsWith("!");
        const glob = (negate ? raw.slice(1) : raw).replace(/^\/|\/$/g, "");
        const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
        if (prefixes.some((p) => re.test(p))) ignored = !negate;
    }
    return ignored;
}

describe("Dockerfile.zed-agent", () => {
    it("exposes exactly the contract's ports", () => {
        const exposed = /^EXPOSE (.+)$/m.exec(dockerfile)![1].split(/\s+/).map(Number).sort();
        expect(exposed).toEqual([3030, 3389, 5900]);
        expect(exposed).toEqual(Object.values(CONTAINER_PORTS).sort());
    });

    it("health-checks through the agent's own command", () => {
        const check = JSON.parse(/^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile)![1]);
        expect(["CMD", ...check]).toEqual([...HEALTHCHECK_COMMAND]);
        expect(check).toEqual(["/usr/local/bin/zed-runner", "healthcheck"]);
    });

    it("checks health with the contract's timings", () => {
        const flags = Object.fromEntries(
            [.../^HEALTHCHECK (.*) CMD /m.exec(dockerfile)![1].matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1], m[2]]),
        );
        expect(flags).toEqual({ interval: "10s", timeout: "5s", "start-period": "30s", retries: "3" });
        expect(flags).toEqual({
            interval: HEALTHCHECK.interval,
            timeout: HEALTHCHECK.timeout,
            "start-period": HEALTHCHECK.startPeriod,
            retries: String(HEALTHCHECK.retries),
        });
    });

    it("sets in its environment only the contract's defaults, under the contract's names", () => {
        // The ENV instruction: NAME=value pairs over continued lines.
        const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)![1].replace(/\\\n/g, " ");
        const set = Object.fromEntries(
            block
                .trim()
                .split(/\s+/)
                .map((pair) => pair.split("=")),
        );
        expect(set).toEqual({
            WORKSPACE_DIR: "/tmp/zed-workspaces",
            CONCURRENCY: "1",
            MAX_TASKS: "0",
            SESSION_TIMEOUT: "3600",
            LOG_LEVEL: "info",
        });
        const byName = new Map(Object.entries(ENV).map(([key, name]) => [name as string, key]));
        for (const [name, value] of Object.entries(set)) {
            const key = byName.get(name) as keyof typeof IMAGE_DEFAULTS;
            expect(key in IMAGE_DEFAULTS ? String(IMAGE_DEFAULTS[key]) : `${name} is no contract default`).toBe(value);
        }
    });

    it("links xrdp's keys into the contract's state folder", () => {
        expect(XRDP_RSA_KEYS.startsWith(`${STATE_DIR}/`)).toBe(true);
        expect(dockerfile).toContain(`ln -s ${XRDP_RSA_KEYS} /etc/xrdp/rsakeys.ini`);
        expect(dockerfile).toContain(`mkdir -p ${STATE_DIR} `);
    });

    it("compiles the agent from agent/ and the contract alone", () => {
        const copies = [...dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => m[1]);
        expect(copies.filter((source) => !source.startsWith("node_modules/") && !source.startsWith("image/"))).toEqual([
            "agent",
            "contract",
        ]);
    });

    it("copies every package the contract lists into the build, and all but the compiler into the image", () => {
        const packages = IMAGE_BUILD_INPUTS.filter((p) => p.startsWith("node_modules/"));
        const copied = [...dockerfile.matchAll(/^COPY (node_modules\/\S+) \1$/gm)].map((m) => m[1]);
        expect(copied).toEqual(packages);
        const toImage = /^RUN node node_modules\/typescript\/bin\/tsc[^\n]*\n((?: .*\n)+)/m.exec(dockerfile)![1];
        for (const pkg of packages.filter((p) => p !== "node_modules/typescript")) expect(toImage).toContain(` ${pkg}`);
        expect(toImage).not.toContain("node_modules/typescript");
    });

    it("runs the agent under tini, without -g so SIGTERM reaches the agent alone", () => {
        expect(JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1])).toEqual(["/usr/bin/tini", "--", AGENT_COMMAND]);
        expect(dockerfile).toContain(`ln -s /opt/zed-runner/agent/main.js ${AGENT_COMMAND}`);
    });

    it("puts Zed where the agent starts it and creates the desktop user with the contract's uid", () => {
        expect(dockerfile).toContain(`COPY --from=zed /zed-build/zed ${ZED_BINARY}`);
        expect(dockerfile).toContain(`useradd --create-home --shell /bin/bash --uid ${DESKTOP_USER.uid} ${DESKTOP_USER.name}`);
    });

    it("downloads nothing but Debian packages and takes no Helix image", () => {
        const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
        expect(froms).toEqual(["${BASE_IMAGE}", "${BASE_IMAGE}", "runtime", "runtime"]);
        const instructions = dockerfile
            .split("\n")
            .filter((l) => !/^\s*#/.test(l))
            .join("\n");
        expect(instructions).not.toMatch(/HELIX_IMAGE|npm (ci|install)|curl |wget /);
    });
});

describe("image/xrdp.ini", () => {
    it("listens on the contract's RDP port and relays to its VNC port", () => {
        expect(/^port=(\d+)$/m.exec(xrdpIni)![1]).toBe(String(CONTAINER_PORTS.rdp));
        const zedSection = xrdpIni.slice(xrdpIni.indexOf("[Zed]"));
        expect(/^port=(\d+)$/m.exec(zedSection)![1]).toBe(String(CONTAINER_PORTS.vnc));
        expect(/^username=(\S+)$/m.exec(zedSection)![1]).toBe(DESKTOP_USER.name);
    });
});

describe(".dockerignore", () => {
    const patterns = fs
        .readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));

    it.each(IMAGE_BUILD_INPUTS.map((p) => [p]))("sends %s to the build", (input) => {
        expect(ignoredByDockerignore(input, patterns)).toBe(false);
        expect(ignoredByDockerignore(`${input}/package.json`, patterns)).toBe(false);
    });

    it.each([
        ["node_modules/@pulumi/pulumi"],
        [".pulumi-cli/3.270.0/bin/pulumi"],
        ["components/runner/zedRunner.ts"],
        [".git/config"],
        ["policy/index.ts"],
        ["node_modules/jest"],
    ])("leaves %s out", (file) => {
        expect(ignoredByDockerignore(file, patterns)).toBe(true);
    });
});

describe("workspaceDirProblem", () => {
    it.each([
        ["/tmp/zed-workspaces", undefined],
        ["/workspace", undefined],
        ["/var/tmp/zed", undefined],
        ["/home/zed/work", undefined],
        ["/", "must not be / (the runner makes its workspace owned by the desktop user)"],
        ["//", "must not be / (the runner makes its workspace owned by the desktop user)"],
        ["/etc", "must not be in the system folder /etc"],
        ["/etc/", "must not be in the system folder /etc"],
        ["/usr/local/bin", "must not be in the system folder /usr"],
        ["/var/run", "must not be in the system folder /var"],
        ["/var/tmp", "must not be in the system folder /var"],
        ["/tmp", "must not be /tmp itself"],
        ["/home/zed", "must not be /home/zed itself"],
        ["relative", "must be an absolute path"],
        ["/tmp/../etc", "must not contain '..'"],
    ])("%s: %s", (dir, expected) => {
        const problem = workspaceDirProblem(dir);
        if (expected === undefined) expect(problem).toBeUndefined();
        else expect(problem).toContain(expected);
    });
});
