// Runtime hardening, by Docker's own CIS benchmark (docker-bench-security 5.12, 5.13,
// 5.26, 5.29): runner containers with a read-only root file system, no-new-privileges,
// a CPU weight and a PIDs limit; runner services with a read-only root file system
// (Swarm's service spec has no security options, PIDs limit or CPU shares to check).
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { DOCKER_DEFAULT_CPU_SHARES, RUNNER_HARDENING_DEFAULTS } from "../contract";
import { isRunner, isRunnerService, reveal, serviceTaskOf } from "./runner";

/**
 * The type of the program's ContainerPidsLimit resource (components/runner/containerPidsLimit.ts):
 * @pulumi/docker has no PIDs limit on a container, so the program sets it with this
 * dynamic resource, paired with its container by name. Written here, as the pack imports
 * no module that loads Pulumi; test/policy/hardening.test.ts checks the two agree.
 */
export const PIDS_LIMIT_TYPE = "pulumi-nodejs:dynamic/zed-runner:ContainerPidsLimit";

interface HardeningConfig {
    /** Require a read-only root file system (CIS 5.13). */
    readOnlyRootFilesystem: boolean;
    /** Require the no-new-privileges security option (CIS 5.26). */
    noNewPrivileges: boolean;
    /** Require a CPU weight other than Docker's default (CIS 5.12). */
    cpuShares: boolean;
}

const FIX = "pulumi config set";
/** The stack's own defaults, as the fixes to suggest. */
const { cpuShares: CPU_SHARES_FIX, pidsLimit: PIDS_LIMIT_FIX } = RUNNER_HARDENING_DEFAULTS;

export const runnerHardened: ResourceValidationPolicy = {
    name: "runner-hardened",
    description:
        "Checks that runner containers run with a read-only root file system, the no-new-privileges security option and a CPU weight of their own, " +
        "and that runner services run with a read-only root file system (Docker's CIS benchmark 5.13, 5.26 and 5.12). " +
        `Fix: \`${FIX} readOnlyRootFilesystem true\`, \`${FIX} noNewPrivileges true\`, \`${FIX} cpuShares ${CPU_SHARES_FIX}\`; ` +
        "each check can be turned off in this policy's config.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            readOnlyRootFilesystem: { type: "boolean", default: true },
            noNewPrivileges: { type: "boolean", default: true },
            cpuShares: { type: "boolean", default: true },
        },
    },
    validateResource: [
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            if (!isRunner(container)) return;
            const config = args.getConfig<HardeningConfig>();
            if (config.readOnlyRootFilesystem && reveal(container.readOnly) !== true) {
                reportViolation(
                    `Runner container must mount its root file system read-only (readOnly: true); fix: \`${FIX} readOnlyRootFilesystem true\`.`,
                );
            }
            const options = ((reveal(container.securityOpts) as unknown[] | undefined) ?? []).map((o) => String(reveal(o)));
            // Docker reads "no-new-privileges", "no-new-privileges:true" and "no-new-privileges=true" alike.
            if (config.noNewPrivileges && !options.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o))) {
                reportViolation(
                    `Runner container must set the no-new-privileges security option (securityOpts: ["no-new-privileges:true"]); fix: \`${FIX} noNewPrivileges true\`.`,
                );
            }
            const shares = Number(reveal(container.cpuShares) ?? 0);
            if (config.cpuShares && (!(shares > 0) || shares === DOCKER_DEFAULT_CPU_SHARES)) {
                reportViolation(
                    `Runner container must set a CPU weight other than Docker's default of ${DOCKER_DEFAULT_CPU_SHARES} (cpuShares is ${shares || "unset"}), ` +
                        `so busy runners cannot crowd out the control plane; fix: \`${FIX} cpuShares ${CPU_SHARES_FIX}\`.`,
                );
            }
        }),
        validateResourceOfType(docker.Service, (service, args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const readOnly = reveal((serviceTaskOf(service).containerSpec as { readOnly?: unknown } | undefined)?.readOnly);
            if (args.getConfig<HardeningConfig>().readOnlyRootFilesystem && readOnly !== true) {
                reportViolation(
                    `Runner service must mount its root file system read-only (containerSpec.readOnly: true); fix: \`${FIX} readOnlyRootFilesystem true\`.`,
                );
            }
        }),
    ],
};

interface PidsLimitConfig {
    /** The highest PIDs limit a runner may have. */
    maxPidsLimit: number;
}

export const runnerPidsLimit: StackValidationPolicy = {
    name: "runner-pids-limit",
    description:
        "Checks that every runner container has a PIDs limit (a ContainerPidsLimit resource naming it) of at most maxPidsLimit (default 32768), " +
        `so a session cannot fork-bomb its host (Docker's CIS benchmark 5.29). Fix: \`${FIX} pidsLimit ${PIDS_LIMIT_FIX}\`.`,
    enforcementLevel: "advisory",
    configSchema: { properties: { maxPidsLimit: { type: "number", default: 32768 } } },
    validateStack: (args, reportViolation) => {
        const { maxPidsLimit } = args.getConfig<PidsLimitConfig>();
        const limits = new Map<string, number>();
        for (const r of args.resources.filter((r) => r.type === PIDS_LIMIT_TYPE)) {
            limits.set(String(reveal(r.props.containerName)), Number(reveal(r.props.pidsLimit)));
        }
        for (const container of args.resources.filter((r) => r.isType(docker.Container) && isRunner(r.props))) {
            const name = String(reveal(container.props.name));
            const limit = limits.get(name);
            if (limit === undefined) {
                reportViolation(
                    `Runner container ${container.name} (${name}) must have a PIDs limit, so a session cannot fork-bomb its host; fix: \`${FIX} pidsLimit ${PIDS_LIMIT_FIX}\`.`,
                );
            } else if (!(limit > 0 && limit <= maxPidsLimit)) {
                reportViolation(
                    `Runner container ${container.name} (${name}) must have a PIDs limit from 1 to ${maxPidsLimit}, not ${limit}; fix: \`${FIX} pidsLimit ${PIDS_LIMIT_FIX}\`.`,
                );
            }
        }
    },
};
