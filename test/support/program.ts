// Runs the whole program (index.ts) under Pulumi's mocks with a given stack config,
// the way `pulumi up` would, and returns what it registered and exported.
import * as os from "node:os";
import { unpinnedHostName } from "../../components/config/warnings";
import { MockEngine, allRegistered, installMocks, promiseOf, stackConfig } from "./mocks";

type Program = typeof import("../../index");

export interface ProgramRun {
    readonly engine: MockEngine;
    readonly program?: Program;
    readonly error?: Error;
}

/**
 * Loads index.ts afresh with `config` (keys without the `zed-runner:` prefix); apiToken
 * and registryPassword are passed as secrets. `existingNetworks` are the Docker networks the fake engine knows.
 */
export async function runProgram(
    config: Record<string, string>,
    stack = "dev",
    existingNetworks: string[] = [],
    /** Of existingNetworks, the swarm-scoped ones. */
    swarmNetworks: string[] = [],
): Promise<ProgramRun> {
    jest.resetModules();
    const pulumi = await import("@pulumi/pulumi");
    const engine = await installMocks(pulumi, stack);
    existingNetworks.forEach((n) => engine.existingNetworks.add(n));
    swarmNetworks.forEach((n) => engine.swarmNetworks.add(n));
    // A stack deployed with `npm run deploy` has its hostName pinned: pin the one the program would
    // take (same runner IDs), so that its "hostName is not set" warning is not printed by every test.
    const pinned = unpinnedHostName(config, os.hostname());
    const withHostName = pinned === undefined ? config : { ...config, hostName: pinned };
    pulumi.runtime.setAllConfig(stackConfig(withHostName), ["zed-runner:apiToken", "zed-runner:registryPassword"]);
    try {
        const program: Program = await engine.run(() => import("../../index"));
        await Promise.all([
            promiseOf(program.credentials),
            ...Object.values(program.hosts ?? {}).map((h) => promiseOf(h.image)),
            ...(program.image ? [promiseOf(program.image)] : []),
        ]);
        await allRegistered();
        return { engine, program };
    } catch (error) {
        // Give any stray registration a chance to arrive before the caller counts them.
        await new Promise((resolve) => setImmediate(resolve));
        return { engine, error: error as Error };
    }
}
