// Where a session runs, and Zed's environment there: pure rules, tested without
// a process (runner.test.ts drives the same rules through a real launch).
import { SESSION_PATH, sessionEnvironment } from "../../agent/sessionEnv";
import { allowedRoots, checkRealWorkDir, sessionFolders } from "../../agent/workDir";
import { isInsidePath } from "../../contract";

const WORKSPACE = "/home/zed/work";

describe("isInsidePath (the contract's, which the work-dir policy uses)", () => {
    it.each([
        ["/home/zed/work", "/home/zed/work", true],
        ["/home/zed/work/ses_1", "/home/zed/work", true],
        ["/home/zed/workshop", "/home/zed/work", false],
        ["/home/zed", "/home/zed/work", false],
        ["/workspace/p1/src", "/workspace", true],
    ])("%s in %s: %s", (dir, root, expected) => {
        expect(isInsidePath(dir, root)).toBe(expected);
    });
});

describe("sessionFolders", () => {
    it("puts a session without work_dir in WORKSPACE_DIR/<session_id>, and its project below it", () => {
        expect(sessionFolders({ session_id: "ses_1", project_path: "workspace" }, WORKSPACE)).toEqual({
            workDir: "/home/zed/work/ses_1",
            projectPath: "/home/zed/work/ses_1/workspace",
        });
        expect(sessionFolders({ session_id: "ses_1" }, WORKSPACE)).toEqual({
            workDir: "/home/zed/work/ses_1",
            projectPath: "/home/zed/work/ses_1",
        });
    });

    it("takes a work_dir in the workspace or the image's /workspace, normalised", () => {
        expect(allowedRoots(WORKSPACE)).toEqual([WORKSPACE, "/workspace"]);
        expect(sessionFolders({ session_id: "s", work_dir: "/workspace//p1/./" }, WORKSPACE)).toEqual({
            workDir: "/workspace/p1",
            projectPath: "/workspace/p1",
        });
    });

    it("puts a relative work_dir (the control plane allows no other from a user) inside the session's own folder", () => {
        expect(sessionFolders({ session_id: "ses_1", work_dir: "workspace" }, WORKSPACE)).toEqual({
            workDir: "/home/zed/work/ses_1/workspace",
            projectPath: "/home/zed/work/ses_1/workspace",
        });
        expect(sessionFolders({ session_id: "ses_2", work_dir: "./a//b/", project_path: "src" }, WORKSPACE)).toEqual({
            workDir: "/home/zed/work/ses_2/a/b",
            projectPath: "/home/zed/work/ses_2/a/b/src",
        });
    });

    it.each([
        [{ session_id: "s", work_dir: "/etc" }, `work_dir "/etc" is outside the runner's workspace folders (${WORKSPACE}, /workspace)`],
        [{ session_id: "s", work_dir: "a/../../x" }, `work_dir "a/../../x" must not contain '..'`],
        [{ session_id: "../up", work_dir: "workspace" }, 'session_id "../up" cannot name a folder'],
        [{ session_id: "s", work_dir: "/workspace/../etc" }, `work_dir "/workspace/../etc" must not contain '..'`],
        [{ session_id: "../up" }, 'session_id "../up" cannot name a folder'],
        [{ session_id: "s", project_path: "a/../../b" }, `project_path "a/../../b" must not contain '..'`],
    ])("refuses %j", (agent, error) => {
        expect(sessionFolders(agent, WORKSPACE)).toEqual({ error });
    });
});

describe("checkRealWorkDir", () => {
    it("accepts a real path inside the workspace and refuses one a link took elsewhere", () => {
        expect(() => checkRealWorkDir("/workspace/p", "/workspace/p", WORKSPACE)).not.toThrow();
        expect(() => checkRealWorkDir("/workspace/link", "/tmp/outside", WORKSPACE)).toThrow(
            "work_dir /workspace/link resolves to /tmp/outside, outside the workspace",
        );
    });
});

describe("sessionEnvironment", () => {
    it("sets the documented variables, then the control plane's entries", () => {
        expect(sessionEnvironment({ session_id: "ses_1", env: ["A=1", "B=x=y", "PATH=/mine"] }, "/w/ses_1", "/w/ses_1/p")).toEqual({
            env: {
                PATH: "/mine",
                DISPLAY: ":1",
                HOME: "/home/zed",
                USER: "zed",
                LOGNAME: "zed",
                WORKSPACE_DIR: "/w/ses_1",
                PROJECT_PATH: "/w/ses_1/p",
                HELIX_SESSION_ID: "ses_1",
                A: "1",
                B: "x=y",
            },
        });
        expect(SESSION_PATH).toBe("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    });

    it.each([["=1"], ["NOEQUALS"], ["1A=x"], ["A-B=x"]])("refuses the entry %s", (entry) => {
        expect(sessionEnvironment({ session_id: "s", env: [entry] }, "/w", "/w")).toEqual({
            error: `env entry ${JSON.stringify(entry)} is not KEY=VALUE`,
        });
    });
});
