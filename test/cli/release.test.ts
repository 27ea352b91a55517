// What status and deploy say about a sandbox stack's releases against the control plane's. Pure.
import { releaseNotes } from "../../cli/report/release";

const base = { apiHost: "https://helix.example.com", stack: "gpu" } as const;

describe("releaseNotes", () => {
    it("says nothing when the stack and every sandbox run the control plane's release", () => {
        expect(
            releaseNotes({
                ...base,
                controlPlane: { release: "2.12.2" },
                planned: ["2.12.2"],
                running: [{ id: "s-1", release: "2.12.2" }],
            }),
        ).toEqual([]);
    });

    it("names the control plane's release, the stack's, and the command that brings them level", () => {
        expect(releaseNotes({ ...base, controlPlane: { release: "2.12.3" }, planned: ["2.12.2", "2.12.2"], running: [] })).toEqual([
            "The control plane at https://helix.example.com runs Helix 2.12.3; this stack pins 2.12.2: set helixVersion in Pulumi.gpu.yaml " +
                "to the control plane's release, then `npm run deploy -- --stack gpu`.",
        ]);
    });

    it("names each running sandbox on another release: after a deploy of the right one, the deploy replaces them", () => {
        expect(
            releaseNotes({
                ...base,
                controlPlane: { release: "2.12.3" },
                planned: ["2.12.3"],
                running: [
                    { id: "s-1", release: "2.12.2" },
                    { id: "s-2", release: "2.12.3" },
                    { id: "s-3", release: undefined },
                ],
            }),
        ).toEqual([
            "Sandboxes on another release than the control plane's 2.12.3: s-1 (2.12.2): `npm run deploy -- --stack gpu` replaces them.",
        ]);
    });

    it("says the release could not be read, and why, rather than guess", () => {
        expect(
            releaseNotes({
                ...base,
                controlPlane: { error: "https://helix.example.com/api/v1/config answered 502" },
                planned: ["2.12.2"],
                running: [],
            }),
        ).toEqual([
            "The control plane's release could not be read (https://helix.example.com/api/v1/config answered 502); each sandbox must run the control plane's release.",
        ]);
    });
});
