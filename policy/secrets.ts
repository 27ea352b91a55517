// Policies on the runner token: never Helix's example value, never stored in plain text.
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, Secret, validateResourceOfType } from "@pulumi/policy";
import { INSECURE_DEFAULT_TOKEN, isExampleToken } from "../contract";
import { environmentOf, isRunner, isRunnerService, reveal, serviceEnvironmentOf, serviceTaskOf } from "./runner";

export const runnerTokenNotDefault: ResourceValidationPolicy = {
    name: "runner-token-not-default",
    description:
        "Checks that every runner container gets a real runner token: not empty and not Helix's example token. " +
        "Fix: `pulumi config set --secret apiToken <the token your control plane is configured with>`.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(docker.Container, (container, _args, reportViolation) => {
            const env = environmentOf(container);
            if (!env || !isRunner(container)) return;
            const token = env.API_TOKEN;
            if (token === undefined || token.trim() === "") {
                reportViolation("Runner container must be given a non-empty API_TOKEN.");
            } else if (isExampleToken(token)) {
                reportViolation(
                    `Runner container must not use Helix's example token ${INSECURE_DEFAULT_TOKEN}: anyone could register runners with it.`,
                );
            }
        }),
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            if (!isRunnerService(service)) return;
            const env = serviceEnvironmentOf(service)!;
            const token = env.API_TOKEN;
            const file = env.API_TOKEN_FILE;
            if (token !== undefined) {
                if (token.trim() === "" || isExampleToken(token)) {
                    reportViolation("Runner service must be given a real API_TOKEN, not an empty one or Helix's example token.");
                }
            } else if (!file) {
                reportViolation(
                    "Runner service must be given a runner token: API_TOKEN_FILE naming the file of a Swarm secret that holds it.",
                );
            } else if (!(serviceTaskOf(service).containerSpec?.secrets ?? []).some((secret) => reveal(secret)?.fileName === file)) {
                reportViolation(`Runner service's API_TOKEN_FILE names ${file}, but no Swarm secret is mounted there.`);
            }
        }),
        // On a swarm the token is a Swarm secret's data (base64), not an environment variable.
        validateResourceOfType(docker.Secret, (secret, _args, reportViolation) => {
            const data = reveal(secret.data as unknown);
            if (typeof data !== "string") return;
            if (isExampleToken(Buffer.from(data, "base64").toString("utf8"))) {
                reportViolation(
                    `A Swarm secret must not hold Helix's example token ${INSECURE_DEFAULT_TOKEN}: anyone could register runners with it.`,
                );
            }
        }),
    ],
};

/**
 * Validation sees properties with secrets already unwrapped (the policy SDK does that), so
 * this checks what it can see: the environment marked secret on the resource, through
 * `additionalSecretOutputs: ["envs"]`, or a secret value where the framework passes one.
 */
export const runnerTokenSecret: ResourceValidationPolicy = {
    name: "runner-token-secret",
    description:
        "Checks that a runner container's environment, which holds API_TOKEN, is a Pulumi secret, and that a runner service " +
        "has no API_TOKEN in its environment at all (a Swarm secret's file instead). " +
        'Fix: pass the token with `pulumi.secret(...)` and add `additionalSecretOutputs: ["envs"]` to the container\'s options ' +
        "(the ZedRunner component does both); on a swarm, mount the token as a Swarm secret and pass API_TOKEN_FILE (ZedRunnerService does).",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(docker.Service, (service, _args, reportViolation) => {
            const env = serviceEnvironmentOf(service);
            if (env && "API_TOKEN" in env) {
                reportViolation(
                    "Runner service must not carry API_TOKEN in its environment: `docker service inspect` shows it to anyone who may use the manager. " +
                        "Mount the token as a Swarm secret and pass API_TOKEN_FILE.",
                );
            }
        }),
        validateResourceOfType(docker.Container, (container, args, reportViolation) => {
            const env = environmentOf(container);
            if (!env || !("API_TOKEN" in env)) return;
            // The token belongs in the (secret) environment alone: a copy anywhere else is stored in plain text.
            const token = env.API_TOKEN;
            if (token.length >= 4) {
                for (const [property, value] of Object.entries(container as Record<string, unknown>)) {
                    if (property === "envs") continue;
                    if (JSON.stringify(reveal(value) ?? null).includes(JSON.stringify(token).slice(1, -1))) {
                        reportViolation(
                            `Runner container must not carry API_TOKEN outside its secret environment: ${property} holds it in plain text.`,
                        );
                    }
                }
            }
            const markedSecret = args.opts.additionalSecretOutputs?.includes("envs") ?? false;
            const passedAsSecret = (container as { envs?: unknown }).envs instanceof Secret;
            if (!markedSecret && !passedAsSecret) {
                reportViolation(
                    'Runner container must keep its environment secret (additionalSecretOutputs: ["envs"]): it holds API_TOKEN, which would otherwise be stored in plain text in the stack state.',
                );
            }
        }),
    ],
};
