// Asking the control plane what release it runs: `GET <apiHost>/api/v1/config`, which Helix serves
// without auth, so no token is sent. From the machine the command runs on, which may not reach an
// apiHost meant for the containers (`http://api:8080` resolves only on Helix's compose network):
// then the answer is the reason, never a guess.
import { SANDBOX_WIRE, controlPlaneReleaseOf, describeError } from "../../contract";

/** The control plane's release, or why it could not be read. */
export type ControlPlaneRelease = { readonly release: string } | { readonly error: string };

/** How the commands ask; injected so tests give a double or a local server. */
export type ReleaseFetcher = (apiHost: string) => Promise<ControlPlaneRelease>;

/** Reads the release from `<apiHost>/api/v1/config`, giving up after `timeoutMs`. */
export async function fetchControlPlaneRelease(apiHost: string, timeoutMs = 5000): Promise<ControlPlaneRelease> {
    const url = `${apiHost}${SANDBOX_WIRE.configPath}`;
    try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
        if (!res.ok) return { error: `${url} answered ${res.status}` };
        const release = controlPlaneReleaseOf(await res.json());
        return release === undefined ? { error: `${url} names no version` } : { release };
    } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        return { error: `${url} did not answer: ${describeError(cause ?? err)}` };
    }
}
