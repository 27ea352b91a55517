// The agent's environment: defaults, every problem listed, no secret echoed.
import { parseSettings, resolveSecretEnv, SettingsError, takeSecretsOut } from "../../agent/settings";
import { SECRET_ENV, deriveDesktopPasswords } from "../../contract";

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
            "API_TOKEN is not set: the runner token configured on the control plane (or API_TOKEN_FILE, a file holding it)",
            "RUNNER_ID may hold only letters, digits, '_', '.' and '-', at most 200 characters",
            "RDP_PASSWORD is not set: the initial password of user zed, at least 8 characters (or DESKTOP_PASSWORD_SEED_FILE)",
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

describe("resolveSecretEnv: secrets as files (Swarm and Kubernetes secrets)", () => {
    const files: Record<string, string> = {
        "/run/secrets/token": "tok-from-file\n",
        "/run/secrets/seed": "a-seed-of-some-length-0123456789",
        "/run/secrets/empty": "",
    };
    const readFile = (file: string) => {
        if (!(file in files)) throw Object.assign(new Error(`ENOENT: no such file, open '${file}'`), { code: "ENOENT" });
        return files[file];
    };
    const base = { API_HOST: "https://helix.example.com", RUNNER_ID: "external-zed-prod-2" };

    it("reads the token from its file, drops the newline, and derives this runner's own passwords from the seed", () => {
        const env = resolveSecretEnv(
            { ...base, API_TOKEN_FILE: "/run/secrets/token", DESKTOP_PASSWORD_SEED_FILE: "/run/secrets/seed" },
            readFile,
        );
        const expected = deriveDesktopPasswords("a-seed-of-some-length-0123456789", "external-zed-prod-2");
        expect(env).toEqual({
            ...base,
            API_TOKEN: "tok-from-file",
            RDP_PASSWORD: expected.rdpPassword,
            VNC_PASSWORD: expected.vncPassword,
        });
        const s = parseSettings(env);
        expect([s.apiToken, s.rdpPassword, s.vncPassword]).toEqual(["tok-from-file", expected.rdpPassword, expected.vncPassword]);
    });

    it("gives every slot different passwords from one seed, 24 and 8 letters and digits, the same each time", () => {
        const one = deriveDesktopPasswords("seed", "external-zed-prod-1");
        const two = deriveDesktopPasswords("seed", "external-zed-prod-2");
        expect(one.rdpPassword).toMatch(/^[A-Za-z0-9]{24}$/);
        expect(one.vncPassword).toMatch(/^[A-Za-z0-9]{8}$/);
        expect(one.rdpPassword).not.toBe(two.rdpPassword);
        expect(one.vncPassword).not.toBe(two.vncPassword);
        expect(deriveDesktopPasswords("seed", "external-zed-prod-1")).toEqual(one);
        expect(deriveDesktopPasswords("other-seed", "external-zed-prod-1")).not.toEqual(one);
    });

    it("keeps passwords that are given, and does not pass the seed on", () => {
        const env = resolveSecretEnv({ ...valid, DESKTOP_PASSWORD_SEED_FILE: "/run/secrets/seed" }, readFile);
        expect([env.RDP_PASSWORD, env.VNC_PASSWORD]).toEqual([valid.RDP_PASSWORD, valid.VNC_PASSWORD]);
        expect(env).not.toHaveProperty("DESKTOP_PASSWORD_SEED");
        expect(env).not.toHaveProperty("DESKTOP_PASSWORD_SEED_FILE");
    });

    it("lists a missing, an empty and a doubly given secret, naming files but never a secret", () => {
        let error: unknown;
        try {
            resolveSecretEnv(
                {
                    ...base,
                    API_TOKEN: "tok-in-env",
                    API_TOKEN_FILE: "/run/secrets/token",
                    RDP_PASSWORD_FILE: "/run/secrets/missing",
                    DESKTOP_PASSWORD_SEED_FILE: "/run/secrets/empty",
                },
                readFile,
            );
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(SettingsError);
        expect((error as SettingsError).problems).toEqual([
            "API_TOKEN and API_TOKEN_FILE are both set: give the secret one way only",
            'RDP_PASSWORD_FILE names "/run/secrets/missing", which cannot be read (ENOENT)',
            'DESKTOP_PASSWORD_SEED_FILE names "/run/secrets/empty", which is empty',
        ]);
        expect((error as Error).message).not.toContain("tok-");
    });
});
