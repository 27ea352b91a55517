// Docker labels as @pulumi/docker takes them (a list of label/value pairs), for
// every resource of either runner component. Pure.

export function toLabels(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** Label keys put on every runner container, so tools can find a stack's runners. */
export const LABELS = {
    project: "zed-runner.project",
    stack: "zed-runner.stack",
    runnerId: "zed-runner.runner-id",
    index: "zed-runner.index",
} as const;

/** Log rotation for every runner, set explicitly so a daemon's own defaults never cause a diff. */
export const LOG_OPTIONS = { "max-size": "10m", "max-file": "3" } as const;

/** Label keys a sandbox carries besides LABELS' project, stack and index, so tools tell a stack's sandboxes from its runners. */
export const SANDBOX_LABELS = {
    /** `sandbox` on every sandbox and its volumes; runners carry no such label. */
    workload: "zed-runner.workload",
    instanceId: "zed-runner.sandbox-id",
} as const;

/** SANDBOX_LABELS.workload's value. */
export const SANDBOX_WORKLOAD = "sandbox";

/** Stack identity that goes into labels. */
export interface StackIdentity {
    readonly project: string;
    readonly stackName: string;
}

/** The project's name in Pulumi.yaml: the plan's project label when no other is given. */
export const DEFAULT_PROJECT = "zed-runner";
