// The runners' desktop credentials, for both components: a plain container's own
// generated RDP and VNC passwords, or a swarm task's, derived from one seed the way
// the agent derives them in the task (no per-task secret exists on a swarm). Every
// password is wrapped as a secret where it is created.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PASSWORD_SEED_LENGTH, deriveDesktopPasswords } from "../../contract";
import { RunnerCredentials } from "../outputs";

/** A runner's own passwords, children of `parent` named `<prefix>-rdp-password` and `<prefix>-vnc-password`. */
export function generateDesktopPasswords(
    prefix: string,
    parent: pulumi.Resource,
): { readonly rdp: pulumi.Output<string>; readonly vnc: pulumi.Output<string> } {
    const rdpPassword = new random.RandomPassword(`${prefix}-rdp-password`, { length: 24, special: false }, { parent });
    // VNC authentication reads only the first 8 characters of a password.
    const vncPassword = new random.RandomPassword(`${prefix}-vnc-password`, { length: 8, special: false }, { parent });
    return { rdp: pulumi.secret(rdpPassword.result), vnc: pulumi.secret(vncPassword.result) };
}

/** The seed every swarm task derives its passwords from: a child of `parent` named `<name>-password-seed`; a secret. */
export function passwordSeed(name: string, parent: pulumi.Resource): pulumi.Output<string> {
    const seed = new random.RandomPassword(`${name}-password-seed`, { length: PASSWORD_SEED_LENGTH, special: false }, { parent });
    return pulumi.secret(seed.result);
}

/** Each runner's passwords as its task derives them from `seed`; a secret. */
export function derivedCredentials(seed: pulumi.Output<string>, runnerIds: readonly string[]): pulumi.Output<RunnerCredentials[]> {
    return pulumi.secret(seed.apply((value) => runnerIds.map((runnerId) => ({ runnerId, ...deriveDesktopPasswords(value, runnerId) }))));
}
