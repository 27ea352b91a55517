// What both runner components are given besides their placement's plan: the token,
// the stack's identity and the image's build context. Each component takes the plan
// made by `parseConfig` (a host's runners, or the swarm's service) and plans nothing.
import * as pulumi from "@pulumi/pulumi";
import type { StackIdentity } from "../labels";

export interface RunnerComponentArgs {
    /** The runner token shared with the control plane. Treated as a secret whatever is passed. */
    readonly apiToken: pulumi.Input<string>;
    /** Project and stack written into labels, as the plan was made with. Defaults to the current project and stack. */
    readonly stack?: StackIdentity;
    /** Build context for Dockerfile.zed-agent. Defaults to the repository root. */
    readonly buildContext?: string;
}

/** The project and stack a component labels its resources with: the ones given, or the running program's. */
export function stackIdentity(stack: StackIdentity | undefined): StackIdentity {
    return stack ?? { project: pulumi.getProject(), stackName: pulumi.getStack() };
}
