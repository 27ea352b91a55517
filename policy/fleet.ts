// A stack policy: runners must not collide with each other.
import * as docker from "@pulumi/docker";
import { StackValidationPolicy } from "@pulumi/policy";
import { isEveryInterface } from "../contract";
import {
    controlPlaneOf,
    dockerHostOf,
    duplicates,
    environmentOf,
    isRunner,
    isRunnerService,
    publishedPorts,
    serviceEnvironmentOf,
    serviceRunnerIds,
} from "./runner";

export const uniqueRunners: StackValidationPolicy = {
    name: "unique-runners",
    description:
        "Checks that no two containers on one Docker host share a name or a host ip and port, and that no two runners of one control plane share a RUNNER_ID " +
        "(the control plane keys runners by ID: a duplicate silently replaces the other). Fix: give each runner stack its own runnerIdPrefix, containerNamePrefix and port bases.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const containers = args.resources.filter((r) => r.isType(docker.Container));

        const names = duplicates(
            containers.filter((r) => r.props.name).map((r) => ({ key: `${dockerHostOf(r)}|${r.props.name}`, item: r })),
        );
        for (const [key, group] of names) {
            reportViolation(
                `Containers must have unique names on a Docker host: "${key.split("|")[1]}" is used by ${group.map((r) => r.name).join(", ")}.`,
            );
        }

        // A runner service's tasks are runners too: its RUNNER_ID with each slot filled in.
        const services = args.resources.filter((r) => r.isType(docker.Service) && isRunnerService(r.props));
        const runnerIds = duplicates([
            ...containers
                .filter((r) => isRunner(r.props) && environmentOf(r.props)?.RUNNER_ID)
                .map((r) => {
                    const env = environmentOf(r.props)!;
                    return { key: `${controlPlaneOf(env.API_HOST)}|${env.RUNNER_ID}`, item: r };
                }),
            ...services.flatMap((r) =>
                serviceRunnerIds(r.props).map((id) => ({
                    key: `${controlPlaneOf(serviceEnvironmentOf(r.props)?.API_HOST)}|${id}`,
                    item: r,
                })),
            ),
        ]);
        for (const [key, group] of runnerIds) {
            reportViolation(
                `Runners must have unique RUNNER_IDs per control plane: "${key.split("|")[1]}" is used by ${group.map((r) => r.name).join(", ")}.`,
            );
        }

        // A port bound on every interface collides with the same port on any address.
        const bindings = containers.flatMap((r) =>
            publishedPorts(r.props)
                .filter((p) => p.external !== undefined)
                .map((p) => ({
                    resource: r,
                    host: dockerHostOf(r),
                    ip: isEveryInterface(p.ip) ? "*" : p.ip,
                    port: `${p.external}/${p.protocol}`,
                })),
        );
        const reported = new Set<string>();
        for (const a of bindings) {
            for (const b of bindings) {
                if (a === b || a.resource === b.resource || a.host !== b.host || a.port !== b.port) continue;
                if (a.ip !== b.ip && a.ip !== "*" && b.ip !== "*") continue;
                const key = [a.resource.name, b.resource.name].sort().join("|") + a.port;
                if (reported.has(key)) continue;
                reported.add(key);
                reportViolation(
                    `Containers must not publish the same host port: ${a.resource.name} and ${b.resource.name} both bind ${a.ip}:${a.port}${b.ip !== a.ip ? ` and ${b.ip}:${b.port}` : ""}.`,
                );
            }
        }
    },
};
