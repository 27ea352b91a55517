// The runner workload's record: the seed-era Helix runner (Dockerfile.zed-agent and our own agent),
// for control planes of September 2025. Its keys, its defaults, its labels, the checks across its
// keys, and its plan on each placement: this machine, the listed hosts, or a Docker Swarm. Pure.
import { RESTART_POLICIES, apiHostUrlProblem, isLoopbackHost } from "../../contract";
import type { StackValues } from "../config/schema";
import { LABELS } from "../labels";
import { type EnginePlacement, type SwarmPlacement, placedHosts, withHosts, hostsWithSettings } from "../placements/placement";
import type { PlanInputs, WorkloadPlan, WorkloadRecord } from "../workload";
import { type PlannedHost, PlanError, planFleet } from "./plan";
import { RUNNER_HOST_KEYS, RUNNER_KEYS } from "../config/workloadKeys";
import { listedHostSettings, resolveSettings } from "./settings";
import { type PlannedSwarm, type SwarmTarget, planSwarm } from "./swarmPlan";
import { runnerWarnings } from "./warnings";

/** Where a runner stack's runners go, every host's runners (or the swarm's service) planned. */
export type RunnerPlacement = EnginePlacement<PlannedHost> | SwarmPlacement<PlannedSwarm>;

/** The runners' own defaults of the keys whose default depends on the workload; the schema states the same (a test keeps them equal). */
const RUNNER_DEFAULTS = { restartPolicy: "unless-stopped", memoryMb: 4096 } as const satisfies {
    restartPolicy: (typeof RESTART_POLICIES)[number];
    memoryMb: number;
};

/** apiHost at loopback, which no runner reaches its control plane through; with the address that works instead. */
function loopbackApiHostProblems(c: StackValues): string[] {
    const { problem, url } = apiHostUrlProblem(c.apiHost);
    if (problem !== undefined || url === undefined || !isLoopbackHost(url.hostname)) return [];
    return [
        `apiHost (got ${JSON.stringify(c.apiHost)}) points at loopback, which inside a runner container is the container itself, so the runners would never connect. ` +
            `For a control plane on this machine use http://host.docker.internal:${url.port || (url.protocol === "https:" ? 443 : 80)}; ` +
            "for one in Docker (such as Helix's docker-compose), set `networks` to its network and use its service name, e.g. http://api:8080",
    ];
}

/** What cannot go together among the runner's keys: apiHost at loopback, and what chooses where runners go and how a swarm gets its image. */
function runnerKeyProblems(c: StackValues, present: Readonly<Record<string, string>>): string[] {
    return [...loopbackApiHostProblems(c), ...swarmKeyProblems(c, present)];
}

/** What cannot go together among the keys that choose where runners go and how a swarm gets its image. */
function swarmKeyProblems(c: StackValues, present: Readonly<Record<string, string>>): string[] {
    // (c.swarm stands in as undefined when its value was invalid.)
    const problems: string[] = [];
    const registryKeys = (["registry", "registryUsername", "registryPassword"] as const).filter((k) => present[k] !== undefined);
    // A swarm value that is present but invalid is its own problem: not "no swarm".
    if (present.swarm === undefined) {
        for (const key of registryKeys) {
            problems.push(`${key} is read only with swarm (its nodes pull the runner image from a registry); remove it, or set swarm`);
        }
        return problems;
    }
    if (c.hosts)
        problems.push(
            "swarm and hosts are two ways to place runners: set one of them (`pulumi config rm hosts` or `pulumi config rm swarm`)",
        );
    if (present.image === undefined && present.registry === undefined) {
        problems.push(
            "swarm needs an image every node can pull: set registry (the image is built here and pushed there, e.g. registry.example.com:5000) " +
                "or image (a prebuilt runner image, e.g. registry.example.com/helix-zed-agent@sha256:...)",
        );
    }
    if (present.image !== undefined && present.registry !== undefined) {
        problems.push(
            "image and registry both set: image is pulled as it is, registry is where the image built here is pushed; set one (registryUsername and registryPassword work with either)",
        );
    }
    if ((present.registryUsername === undefined) !== (present.registryPassword === undefined)) {
        problems.push(
            "registryUsername and registryPassword go together: set both (the password with --secret), or neither for a registry without login",
        );
    }
    if (/^https?:\/\/host\.docker\.internal([:/]|$)/i.test(c.apiHost)) {
        problems.push(
            `apiHost (got ${JSON.stringify(c.apiHost)}) is host.docker.internal, which on a swarm is each node itself, not the control plane: ` +
                "set the control plane's URL as every node reaches it, e.g. https://helix.example.com",
        );
    }
    return problems;
}

/** The placement with its runners planned: each host's, or the swarm service's. Throws a PlanError. */
function planRunnerPlacement(inputs: PlanInputs): RunnerPlacement {
    const { target, values } = inputs;
    const top = resolveSettings(values, { ...inputs.context, hostName: inputs.hostName });
    if (target.kind === "swarm") {
        const swarm: SwarmTarget = {
            connection: target.site.connection,
            settings: top,
            placement: target.site.scheduling,
            registry: values.registry,
            registryUsername: values.registryUsername,
        };
        return { kind: "swarm", target: swarm, plan: planSwarm(swarm, inputs.stack) };
    }
    const hosts = hostsWithSettings(target, top, (entry, settings) => listedHostSettings(entry, settings, values.runnerIdPrefix));
    const plans = planFleet(hosts, inputs.stack);
    return withHosts(
        target,
        hosts.map((host, i) => ({ ...host, runners: plans[i].runners })),
    );
}

/** The runner workload: how its stacks are read, checked and planned. */
export const RUNNER_RECORD = {
    kind: "runner",
    noun: { one: "runner", many: "runners" },
    ownKeys: RUNNER_KEYS,
    hostKeys: RUNNER_HOST_KEYS,
    defaults: RUNNER_DEFAULTS,
    offeredAsSwitch: false,
    labels: { id: LABELS.runnerId, marker: undefined },
    refusedPlacements: {},
    keyProblems: runnerKeyProblems,
    plan(inputs: PlanInputs): WorkloadPlan<RunnerPlacement> {
        let placement: RunnerPlacement;
        try {
            placement = planRunnerPlacement(inputs);
        } catch (err) {
            if (!(err instanceof PlanError)) throw err;
            return { placement: undefined, problems: err.problems, warnings: [] };
        }
        return { placement, problems: [], warnings: runnerWarnings(inputs.values, placedHosts(placement), inputs.insecureToken) };
    },
} as const satisfies WorkloadRecord<"runner", RunnerPlacement>;
