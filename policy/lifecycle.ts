// Policies that keep a runner fleet alive and bounded: restarts, health, limits, logs, images.
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { isRunner, isRunnerService, namesSandboxImage, serviceTaskOf } from "./runner";

const RESTARTING_POLICIES = ["unless-stopped", "always"];

export const restartPolicy: ResourceValidationPolicy = {
    name: "restart-policy",
    description:
        "Checks that runner containers restart `unless-stopped` or `always`: a runner exits when it loses its control plane and relies on Docker to start it again. " +
        "Fix: `pulumi config set restartPolicy unless-stopped`.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
            if (!isRunner(container)) return;
            const restart = (container.restart as string | undefined) ?? "no";
            if (!RESTARTING_POLICIES.includes(restart)) {
                reportViolation(`Runner container must restart unless-stopped or always (restart is "${restart}").`);
            }
        }),
        // Swarm's condition `any` (its default) restarts a task whatever way it ended; a runner at MAX_TASKS exits 0.
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const condition = serviceTaskOf(service).restartPolicy?.condition ?? "any";
            if (condition !== "any") reportViolation(`Runner service must restart on condition any (condition is "${condition}").`);
        }),
    ],
};

/** A check that passes whatever the runner does: `true`, `exit 0`, `:`, an echo. */
function isTrivialCheck(tests: readonly string[]): boolean {
    const [kind, ...rest] = tests;
    const command = (kind === "CMD-SHELL" ? rest.join(" ") : kind === "CMD" ? rest.join(" ") : tests.join(" ")).trim();
    return /^((\/usr)?\/bin\/)?(true|:|exit 0|echo( .*)?|sh -c (true|:|'true'|"true"))$/.test(command) || command === "";
}

export const healthcheckRequired: ResourceValidationPolicy = {
    name: "healthcheck-required",
    description:
        "Checks that runner containers have a health check and that `pulumi up` waits for it (`wait: true`), so a runner that never turns healthy fails the update. " +
        "Fix: use the ZedRunner component, or set healthcheck and wait on the container. A runner service needs a health check and " +
        "convergeConfig, so `pulumi up` waits until its tasks run (Swarm starts a task only once its check passes).",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
            if (!isRunner(container)) return;
            checkHealthcheck("Runner container", (container.healthcheck as { tests?: string[] } | undefined)?.tests, reportViolation);
            if (container.wait !== true) reportViolation("Runner container must set wait: true so `pulumi up` waits until it is healthy.");
        }),
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            if (!isRunnerService(service)) return;
            checkHealthcheck("Runner service", serviceTaskOf(service).containerSpec?.healthcheck?.tests, reportViolation);
            if (!service.convergeConfig)
                reportViolation("Runner service must set convergeConfig so `pulumi up` waits until its runners run.");
        }),
    ],
};

function checkHealthcheck(what: string, tests: readonly string[] | undefined, reportViolation: (message: string) => void): void {
    if (!tests || tests.length === 0 || tests[0] === "NONE") reportViolation(`${what} must have a health check.`);
    else if (isTrivialCheck(tests))
        reportViolation(`${what}'s health check must test the runner, not always pass (${JSON.stringify(tests)}).`);
}

interface ResourceLimitsConfig {
    /** The smallest /dev/shm, in MB, a runner gets; Zed and Xvfb share memory through it. */
    minShmSizeMb: number;
}

export const resourceLimits: ResourceValidationPolicy = {
    name: "resource-limits",
    description:
        "Checks that each runner has a memory limit and a /dev/shm of at least minShmSizeMb (default 256). " +
        "Fix: `pulumi config set memoryMb 4096` and `pulumi config set shmSizeMb 1024`.",
    enforcementLevel: "advisory",
    configSchema: { properties: { minShmSizeMb: { type: "number", default: 256 } } },
    validateResource: [
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (!isRunner(container)) return;
            checkLimits(
                "Runner container",
                Number(container.memory ?? 0),
                Number(container.shmSize ?? 64),
                args.getConfig<ResourceLimitsConfig>(),
                reportViolation,
            );
        }),
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const task = serviceTaskOf(service);
            // A service has no shm size: a tmpfs mount at /dev/shm is how it gets one (64 MB otherwise).
            const shm = (task.containerSpec?.mounts ?? []).find((m) => m?.type === "tmpfs" && m.target === "/dev/shm");
            const shmMb = shm?.tmpfsOptions?.sizeBytes ? shm.tmpfsOptions.sizeBytes / 1024 / 1024 : 64;
            const memoryMb = Number(task.resources?.limits?.memoryBytes ?? 0) / 1024 / 1024;
            checkLimits("Runner service", memoryMb, shmMb, args.getConfig<ResourceLimitsConfig>(), reportViolation);
        }),
    ],
};

function checkLimits(
    what: string,
    memoryMb: number,
    shmMb: number,
    { minShmSizeMb }: ResourceLimitsConfig,
    reportViolation: (m: string) => void,
): void {
    if (!(memoryMb > 0)) reportViolation(`${what} must have a memory limit, so one runner cannot starve the others.`);
    if (shmMb < minShmSizeMb) reportViolation(`${what} must have a /dev/shm of at least ${minShmSizeMb} MB (it has ${shmMb} MB).`);
}

const ROTATING_DRIVERS = ["json-file", "local"];

export const logRotation: ResourceValidationPolicy = {
    name: "log-rotation",
    description:
        "Checks that runner logs are rotated: the json-file or local driver with a max-size, set explicitly so a host's daemon defaults do not decide. " +
        'Fix: set logDriver "json-file" and logOpts { "max-size": "10m", "max-file": "3" }.',
    enforcementLevel: "advisory",
    validateResource: [
        validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
            if (!isRunner(container)) return;
            const maxSize = (container.logOpts as Record<string, string> | undefined)?.["max-size"];
            checkLogs("Runner container", container.logDriver as string | undefined, maxSize, reportViolation);
        }),
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const driver = serviceTaskOf(service).logDriver;
            checkLogs("Runner service", driver?.name, driver?.options?.["max-size"], reportViolation);
        }),
    ],
};

function checkLogs(what: string, driver: string | undefined, maxSize: string | undefined, reportViolation: (m: string) => void): void {
    if (!driver || !ROTATING_DRIVERS.includes(driver) || !maxSize) {
        reportViolation(
            `${what} must rotate its logs: logDriver json-file with a max-size (logDriver is "${driver ?? "unset"}", max-size is "${maxSize ?? "unset"}").`,
        );
    }
}

/** Whether an image reference names one image for good: a digest, an image ID, or a tag other than latest. */
export function isPinnedImage(reference: string): boolean {
    if (/^sha256:[a-f0-9]{64}$/.test(reference) || /@sha256:[a-f0-9]{64}$/.test(reference)) return true;
    const lastPart = reference.slice(reference.lastIndexOf("/") + 1);
    const colon = lastPart.indexOf(":");
    return colon >= 0 && lastPart.slice(colon + 1) !== "latest";
}

export const imagePinned: ResourceValidationPolicy = {
    name: "image-pinned",
    description:
        "Checks that a prebuilt runner image is referenced by digest or by an explicit tag other than latest, so every runner runs the image you tested. " +
        "Fix: `pulumi config set image registry.example.com/helix-zed-agent:1.2.3` (or @sha256:...).",
    enforcementLevel: "advisory",
    validateResource: [
        validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
            if (!isRunner(container) || typeof container.image !== "string") return;
            if (!isPinnedImage(container.image)) reportViolation(`Runner image must be pinned by digest or tag, not "${container.image}".`);
        }),
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            const image = serviceTaskOf(service).containerSpec?.image;
            if (!isRunnerService(service) || typeof image !== "string") return;
            if (!isPinnedImage(image)) reportViolation(`Runner image must be pinned by digest or tag, not "${image}".`);
        }),
        // sandbox-image-pinned holds Helix's sandbox image to more: a Helix release or a digest.
        validateResourceOfType(docker.RemoteImage, (image, _args, reportViolation) => {
            if (typeof image.name === "string" && !namesSandboxImage(image.name) && !isPinnedImage(image.name)) {
                reportViolation(`Pulled image must be pinned by digest or tag, not "${image.name}".`);
            }
        }),
    ],
};
