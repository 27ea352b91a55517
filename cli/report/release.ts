// Whether the sandboxes run their control plane's release, in words an operator acts on: Hydra's
// API changes between releases, so a sandbox of another release registers and then fails the
// control plane's calls. Pure: the releases are read elsewhere (cli/lib/controlPlane.ts, and each
// sandbox's image in its status probe).
import type { ControlPlaneRelease } from "../lib/controlPlane";

/** What the notes compare: the control plane's release, and the releases planned and running. */
export interface ReleaseFacts {
    readonly apiHost: string;
    readonly stack: string;
    readonly controlPlane: ControlPlaneRelease;
    /** The releases the stack pins (each host's sandbox image tag); empty for an image pinned by digest alone. */
    readonly planned: readonly string[];
    /** Per sandbox running, its release (undefined when its image carries no release tag). */
    readonly running: readonly { readonly id: string; readonly release: string | undefined }[];
}

/** Lines for status and deploy: nothing when every release is the control plane's. */
export function releaseNotes(facts: ReleaseFacts): string[] {
    const fix = `set helixVersion in Pulumi.${facts.stack}.yaml to the control plane's release, then \`npm run deploy -- --stack ${facts.stack}\``;
    if ("error" in facts.controlPlane)
        return [
            `The control plane's release could not be read (${facts.controlPlane.error}); each sandbox must run the control plane's release.`,
        ];
    const release = facts.controlPlane.release;
    const notes: string[] = [];
    const plannedOther = [...new Set(facts.planned.filter((p) => p !== release))];
    if (plannedOther.length > 0)
        notes.push(`The control plane at ${facts.apiHost} runs Helix ${release}; this stack pins ${plannedOther.join(", ")}: ${fix}.`);
    const runningOther = facts.running.filter((s) => s.release !== undefined && s.release !== release);
    if (runningOther.length > 0)
        notes.push(
            `Sandboxes on another release than the control plane's ${release}: ${runningOther.map((s) => `${s.id} (${s.release})`).join(", ")}` +
                (plannedOther.length > 0 ? "." : `: \`npm run deploy -- --stack ${facts.stack}\` replaces them.`),
        );
    return notes;
}
