// The sandbox workload's record: Helix's own `helix-sandbox` image, for Helix 2.5.42 and later.
// Its keys, its defaults (Helix's installer's, not a runner's), its labels, the placements it
// refuses (a swarm), and its plan on this machine or the listed hosts: every host's settings
// checked with the sandbox's own rules (checks.ts), and instance IDs across hosts for clashes. Pure.
import { KEY_SCHEMAS, type StackValues } from "../config/schema";
import { insecureTokenWarning } from "../config/warnings";
import { SANDBOX_LABELS, SANDBOX_WORKLOAD } from "../labels";
import { type EnginePlacement, withHosts, hostsWithSettings } from "../placements/placement";
import { type PlanInputs, type WorkloadPlan, type WorkloadRecord, workloadValue } from "../workload";
import { registryMirrorWarning, sandboxApiUrlWarning, sandboxReplicasWarning, sandboxSettingsProblems } from "./checks";
import { type SandboxHost, duplicateInstanceIdProblems, planSandboxes } from "./plan";
import { SANDBOX_HOST_KEYS, SANDBOX_KEYS } from "../config/workloadKeys";
import { listedHostSandboxSettings, topLevelSandboxSettings } from "./settings";

/** Where a sandbox stack's sandboxes go, every host's planned: never a swarm. */
export type SandboxPlacement = EnginePlacement<SandboxHost>;

const SANDBOX_DEFAULTS = { restartPolicy: "always", memoryMb: undefined } as const;

/** The sandbox plan's messages name its field apiUrl; the stack key is apiHost. */
function asStackKey(message: string): string {
    return message.replace(/^apiUrl /, "apiHost ");
}

/** Keys that place runners on a swarm, which a sandbox stack has no use for. */
function registryKeyProblems(_values: StackValues, present: Readonly<Record<string, string>>): string[] {
    return (["registry", "registryUsername", "registryPassword"] as const)
        .filter((key) => present[key] !== undefined)
        .map((key) => `${key} is read only by the runner workload on a swarm; remove it (a sandbox pulls Helix's image itself)`);
}

/**
 * Plans a sandbox stack on this machine alone, or on every listed host. Every host's settings are
 * checked with the sandbox plan's rules and IDs across hosts for clashes; a problem of one host's
 * own overrides names the host.
 */
function planSandboxStack(inputs: PlanInputs): WorkloadPlan<SandboxPlacement> {
    const { values, explicit, target } = inputs;
    // Refused before planning (refusedPlacements): there is nothing to plan.
    if (target.kind === "swarm") return { placement: undefined, problems: [], warnings: [] };
    const top = topLevelSandboxSettings(values, {
        hostName: inputs.hostName,
        context: inputs.context,
        restartPolicy: workloadValue(SANDBOX_RECORD, "restartPolicy", inputs) ?? SANDBOX_DEFAULTS.restartPolicy,
        memoryMb: workloadValue(SANDBOX_RECORD, "memoryMb", inputs),
    });
    const problems: string[] = [];
    if (explicit.apiHost === undefined)
        problems.push(
            `apiHost is not set (or is the runners' default, ${KEY_SCHEMAS.apiHost.parse(undefined)}): a sandbox stack needs its control plane's URL ` +
                "as the sandboxes and their desktops reach it (HELIX_API_URL), scheme and host[:port] only, such as https://helix.example.com",
        );
    // An apiHost the stack key's own schema refused is reported already; its stand-in default is not the user's.
    const apiHostValid = explicit.apiHost !== undefined && KEY_SCHEMAS.apiHost.safeParse(explicit.apiHost).success;
    const relevant = (ps: readonly string[]) => ps.filter((p) => apiHostValid || !p.startsWith("apiUrl ")).map(asStackKey);
    const topProblems = relevant(sandboxSettingsProblems(top, target.kind === "hosts" ? "defaults" : "host"));
    problems.push(...topProblems);

    const targets = hostsWithSettings(target, top, (entry, settings) =>
        listedHostSandboxSettings(entry, settings, values.instanceIdPrefix),
    );
    if (target.kind === "hosts")
        for (const host of targets)
            for (const problem of relevant(sandboxSettingsProblems(host.settings)))
                if (!topProblems.includes(problem)) problems.push(`on host ${host.name}: ${problem}`);
    if (problems.length > 0) return { placement: undefined, problems, warnings: [] };

    const hosts: SandboxHost[] = targets.map((t) => ({ ...t, sandboxes: planSandboxes(t.settings, inputs.stack) }));
    problems.push(...duplicateInstanceIdProblems(hosts));
    if (problems.length > 0) return { placement: undefined, problems, warnings: [] };
    const tokenWarning = insecureTokenWarning(inputs.insecureToken);
    const apiUrlWarning = sandboxApiUrlWarning(top.apiUrl);
    const mirrorWarning = registryMirrorWarning(top.registryMirror);
    const replicasWarnings = targets.map((t) => sandboxReplicasWarning(t.settings.replicas, target.kind === "hosts" ? t.name : undefined));
    const warnings = [
        tokenWarning,
        apiUrlWarning === undefined ? undefined : asStackKey(apiUrlWarning),
        mirrorWarning,
        ...replicasWarnings,
    ].filter((w): w is string => w !== undefined);
    return { placement: withHosts(target, hosts), problems, warnings };
}

/** The sandbox workload: how its stacks are read, checked and planned. */
export const SANDBOX_RECORD = {
    kind: "sandbox",
    noun: { one: "sandbox", many: "sandboxes" },
    ownKeys: SANDBOX_KEYS,
    hostKeys: SANDBOX_HOST_KEYS,
    defaults: SANDBOX_DEFAULTS,
    offeredAsSwitch: true,
    labels: { id: SANDBOX_LABELS.instanceId, marker: { key: SANDBOX_LABELS.workload, value: SANDBOX_WORKLOAD } },
    refusedPlacements: {
        swarm:
            "swarm cannot run the sandbox workload: Swarm services cannot be privileged or take devices, and Helix's sandbox needs both " +
            "(it runs its own dockerd and privileged desktops). Set hosts (or neither, for this machine alone), or set workload to runner",
    },
    keyProblems: registryKeyProblems,
    plan: planSandboxStack,
} as const satisfies WorkloadRecord<"sandbox", SandboxPlacement>;
