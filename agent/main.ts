#!/usr/bin/node
// The runner agent: the container's main process (under tini). It reads its
// settings, starts and keeps the desktop running, serves /health and /metrics, dials the
// control plane and runs Zed sessions. `zed-runner healthcheck` asks a running
// agent's /health instead (Docker's HEALTHCHECK and `npm run status` use it).
import * as fs from "node:fs";
import { EXIT_BAD_ENVIRONMENT, EXIT_UNEXPECTED_FAILURE, HEALTH_PATH, SECRET_ENV, SECRET_FILE_SUFFIX, describeError } from "../contract";
import { DesktopPasswords, Supervised, desktopComponents, prepareDesktop, waitForDisplay } from "./desktop";
import { fetchHealth, serveHealth } from "./health";
import { Redactor, createLogger } from "./log";
import { RunnerMetrics } from "./metrics";
import { RunnerCore } from "./runner";
import { LocalSessionHost } from "./sessionHost";
import { AgentSettings, SettingsError, parseSettings, resolveSecretEnv, takeSecretsOut } from "./settings";
import { writeZedSettings } from "./zedSettings";

async function healthcheck(): Promise<number> {
    try {
        const { status, body } = await fetchHealth();
        process.stdout.write(`${body}\n`);
        return status === 200 ? 0 : 1;
    } catch (err) {
        process.stdout.write(`${JSON.stringify({ status: "unreachable", error: describeError(err) })}\n`);
        return 1;
    }
}

function readSettings(): AgentSettings | undefined {
    try {
        return parseSettings(resolveSecretEnv(process.env, (file) => fs.readFileSync(file, "utf8")));
    } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        for (const problem of err.problems) process.stderr.write(`zed-runner: FATAL: ${problem}\n`);
        return undefined;
    } finally {
        // Whatever happens next, nothing the agent starts inherits a secret.
        takeSecretsOut(process.env, SECRET_ENV);
        takeSecretsOut(
            process.env,
            SECRET_ENV.map((name) => `${name}${SECRET_FILE_SUFFIX}`),
        );
    }
}

async function run(): Promise<number> {
    if (process.env.MAX_SESSIONS !== undefined) {
        process.stderr.write(
            "zed-runner: warn: MAX_SESSIONS is no longer read: CONCURRENCY caps live sessions, MAX_TASKS caps sessions per container\n",
        );
    }
    const settings = readSettings();
    if (!settings) return EXIT_BAD_ENVIRONMENT;
    const redactor = new Redactor();
    for (const secret of [settings.apiToken, settings.rdpPassword, settings.vncPassword]) redactor.add(secret);
    const log = createLogger(settings.logLevel, redactor);
    const crash = (err: unknown) => {
        log.error(`unexpected failure: ${describeError(err)}; exiting so the restart policy starts a fresh runner`);
        process.exit(EXIT_UNEXPECTED_FAILURE);
    };
    process.on("uncaughtException", crash);
    process.on("unhandledRejection", crash);
    log.info(
        `runner ${settings.runnerId}: control plane ${settings.apiHost}, concurrency ${settings.concurrency}, ` +
            `max tasks ${settings.maxTasks || "unlimited"}, session timeout ${settings.sessionTimeout ? `${settings.sessionTimeout} s` : "none"}`,
    );

    const passwords = new DesktopPasswords();
    await prepareDesktop(settings.runnerId);
    await passwords.initial(settings.rdpPassword, settings.vncPassword);
    await writeZedSettings(settings.apiHost);
    const host = new LocalSessionHost();
    await host.prepareDir(settings.workspaceDir);

    const components = desktopComponents(settings.displayWidth, settings.displayHeight).map((spec) => new Supervised(spec, log));
    const [xvfb, ...rest] = components;
    xvfb.start();
    if (!(await waitForDisplay(10_000))) log.warn("Xvfb has not made its display socket after 10 s; starting the rest anyway");
    for (const c of rest) c.start();

    const byName = (name: string) => components.find((c) => c.spec.name === name);
    // Desktop connections asked for while x11vnc or xrdp start (or restart) wait on these.
    const metrics = new RunnerMetrics({ processMetrics: true });
    metrics.watchDesktop(components);
    const core = new RunnerCore(settings, { host, passwords, log, vnc: byName("vnc"), xrdp: byName("rdp"), metrics });
    const health = await serveHealth(
        () => core.report(Object.fromEntries(components.map((c) => [c.spec.name, c.up ? "up" : "down"]))),
        metrics,
    );
    core.start();

    return new Promise<number>((resolve) => {
        let stopping = false;
        const shutdown = async (why: string) => {
            if (stopping) return;
            stopping = true;
            log.info(`stopping: ${why}`);
            await core.shutdown();
            for (const c of components.reverse()) c.stop();
            health.close();
            log.info("stopped");
            resolve(0);
        };
        process.on("SIGTERM", () => void shutdown("SIGTERM"));
        process.on("SIGINT", () => void shutdown("SIGINT"));
        core.whenDrained(
            () => void shutdown(`MAX_TASKS=${settings.maxTasks} sessions done; exiting so the restart policy starts a fresh runner`),
        );
    });
}

async function main(argv: readonly string[]): Promise<number> {
    const command = argv[0] ?? "run";
    if (command === "healthcheck") return healthcheck();
    if (command === "run") return run();
    process.stderr.write(
        `usage: zed-runner [run|healthcheck]\n  run          the runner agent (the container's main process)\n  healthcheck  print the running agent's ${HEALTH_PATH} and exit 0 when healthy\n`,
    );
    return 2;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`zed-runner: FATAL: ${describeError(err)}\n`);
            process.exit(1);
        },
    );
}
