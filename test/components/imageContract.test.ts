// The image contract module against the files that cannot import it:
// Dockerfile.zed-agent, image/xrdp.ini and .dockerignore. (The e2e checks what a
// built image really listens on.)
import * as fs from "node:fs";
import * as path from "node:path";
import {
    AGENT_COMMAND,
    CONTAINER_PORTS,
    DESKTOP_USER,
    HEALTHCHECK_COMMAND,
    IMAGE_BUILD_INPUTS,
    ZED_BINARY,
    workspaceDirProblem,
} from "../../components/imageContract";

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

    it.each([["node_modules/@pulumi/pulumi"], ["components/zedRunner.ts"], [".git/config"], ["policy/index.ts"], ["node_modules/jest"]])(
        "leaves %s out",
        (file) => {
            expect(ignoredByDockerignore(file, patterns)).toBe(true);
        },
    );
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
