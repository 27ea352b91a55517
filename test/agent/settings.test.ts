// The agent's environment: defaults, every problem listed, no secret echoed.
import { parseSettings, SettingsError, takeSecretsOut } from "../../agent/settings";
import { SECRET_ENV } from "../../components/imageContract";

const valid = {
    API_HOST: "https://helix.example.com/prefix/",
    API_TOKEN: "tok-123456",
    RUNNER_ID: "external-zed-box-1",
    RDP_PASSWORD: "rdp-pass-1234",
    VNC_PASSWORD: "vncpass1",
};

function problems(env: Record<string, string | undefined>): string[] {
    try {
        parseSettings(env);
    } catch (err) {
        if (err instanceof SettingsError) return [...err.problems];
        throw err;
    }
    throw new Error("expected a SettingsError");
}

describe("parseSettings", () => {
    it("applies the image's defaults and drops the trailing slash of the API host", () => {
        expect(parseSettings(valid)).toEqual({
            apiHost: "https://helix.example.com/prefix",
            apiToken: "tok-123456",
            runnerId: "external-zed-box-1",
            rdpPassword: "rdp-pass-1234",
            vncPassword: "vncpass1",
            concurrency: 1,
            maxTasks: 0,
            sessionTimeout: 3600,
            workspaceDir: "/tmp/zed-workspaces",
            logLevel: "info",
            displayWidth: 1920,
            displayHeight: 1080,
            stopGraceSeconds: 30,
            revdial: "auto",
        });
    });

    it("reads the seed's parameters", () => {
        const s = parseSettings({
            ...valid,
            CONCURRENCY: "3",
            MAX_TASKS: "5",
            SESSION_TIMEOUT: "0",
            WORKSPACE_DIR: "/workspace/",
            LOG_LEVEL: "DEBUG",
        });
        expect([s.concurrency, s.maxTasks, s.sessionTimeout, s.workspaceDir, s.logLevel]).toEqual([3, 5, 0, "/workspace", "debug"]);
    });

    it("lists every problem at once", () => {
        expect(
            problems({ API_HOST: "ftp://x", RUNNER_ID: "bad id", CONCURRENCY: "0", WORKSPACE_DIR: "/etc", VNC_PASSWORD: "short" }),
        ).toEqual([
            "API_HOST must be an http:// or https:// URL",
            "API_TOKEN is not set: the runner token configured on the control plane",
            "RUNNER_ID may hold only letters, digits, '_', '.' and '-', at most 200 characters",
            "RDP_PASSWORD is not set: the initial password of user zed, at least 8 characters",
            "VNC_PASSWORD must be at least 6 characters",
            'CONCURRENCY must be a whole number from 1 to 64 (got "0")',
            'WORKSPACE_DIR must not be in the system folder /etc (the runner makes its workspace owned by the desktop user); use a folder such as /tmp/zed-workspaces or /workspace (got "/etc")',
        ]);
    });

    it("never echoes a secret or a URL's credentials", () => {
        const text = problems({ ...valid, API_HOST: "https://ops:hunter2@helix.example.com", RDP_PASSWORD: "short:pw" }).join("\n");
        expect(text).toContain("API_HOST must not carry credentials");
        expect(text).not.toContain("hunter2");
        expect(text).not.toContain("short:pw");
    });

    it("takes the secrets out of the environment it read", () => {
        const env: Record<string, string | undefined> = { ...valid, OTHER: "kept" };
        takeSecretsOut(env, SECRET_ENV);
        expect(Object.keys(env).sort()).toEqual(["API_HOST", "OTHER", "RUNNER_ID"]);
    });
});
