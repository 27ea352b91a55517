// Test double at the program's boundary: Pulumi's engine and providers,
// replaced by the SDK's mocks. Every registration is recorded so tests can
// assert on types, names, parents and inputs.
import * as crypto from "node:crypto";
import type * as pulumiType from "@pulumi/pulumi";

/** Resource options as the program gave them (the SDK's mocks do not pass them on; a stack transformation sees them). */
interface RegisteredOptions {
    readonly additionalSecretOutputs: string[];
    readonly deleteBeforeReplace: boolean;
    readonly replaceOnChanges: string[];
    /** Whether deleting the resource leaves it in place (retainOnDelete). */
    readonly retainOnDelete: boolean;
    /** The parent the resource was declared with; the stack itself for top-level resources. */
    readonly parent: pulumiType.Resource | undefined;
}

export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly inputs: any;
    readonly custom: boolean;
    readonly provider?: string;
    readonly options: RegisteredOptions;
    /** Set once the engine answers. */
    urn?: string;
}

export interface MockEngine {
    readonly registrations: Registration[];
    /**
     * Runs `declare` as the Pulumi language host runs a program: inside the root stack, with a
     * stack transformation that records every resource's options for `registrations`.
     */
    run<T>(declare: () => T | Promise<T>): Promise<T>;
    /** Docker networks the fake engine knows, for `docker.getNetwork`. */
    readonly existingNetworks: Set<string>;
    /** Of those, the swarm-scoped (overlay) ones. */
    readonly swarmNetworks: Set<string>;
    /** Registrations of one type, custom resources only. */
    ofType(type: string): Registration[];
    byName(name: string): Registration;
}

const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

/** What the providers would compute for the resources this program declares. */
function providerState(type: string, name: string, inputs: any): Record<string, unknown> {
    switch (type) {
        case "docker:index/image:Image":
            // A pushed image's digest names its repository, as the registry reports it.
            return {
                ...inputs,
                repoDigest: inputs.skipPush
                    ? `sha256:${sha(`image:${name}`)}`
                    : `${inputs.imageName.replace(/:[^/:]+$/, "")}@sha256:${sha(`image:${name}`)}`,
                baseImageName: inputs.imageName,
            };
        case "docker:index/remoteImage:RemoteImage":
            return {
                ...inputs,
                imageId: `sha256:${sha(`remote:${inputs.name}`)}`,
                repoDigest: `${inputs.name}@sha256:${sha(inputs.name)}`,
            };
        case "docker:index/secret:Secret":
            // Pulumi names a secret afresh (logical name and a random suffix) when the program gives none.
            return { ...inputs, name: inputs.name ?? `${name}-${sha(`secret:${name}`).slice(0, 7)}` };
        case "random:index/randomPassword:RandomPassword": {
            // Deterministic per logical name, of the requested length, letters and digits only.
            const chars = Buffer.from(sha(`pw:${name}`) + sha(`pw2:${name}`))
                .toString("base64")
                .replace(/[^A-Za-z0-9]/g, "");
            return { ...inputs, result: chars.slice(0, inputs.length), bcryptHash: "mock" };
        }
        default:
            return { ...inputs };
    }
}

/** Installs Pulumi's mocks on the given SDK instance and returns the recording engine. */
export async function installMocks(pulumi: typeof pulumiType, stack = "test", dryRun = false): Promise<MockEngine> {
    const registrations: Registration[] = [];
    const existingNetworks = new Set<string>();
    const swarmNetworks = new Set<string>();
    /** What the stack transformation saw, by type and name: each resource and its options. */
    const seen = new Map<string, { resource: pulumiType.Resource; options: RegisteredOptions }>();
    const NO_OPTIONS: RegisteredOptions = {
        additionalSecretOutputs: [],
        deleteBeforeReplace: false,
        replaceOnChanges: [],
        retainOnDelete: false,
        parent: undefined,
    };
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                // The root stack is the language host's, not the program's.
                if (args.type === "pulumi:pulumi:Stack") return { id: `${args.name}-id`, state: {} };
                const registration: Registration = {
                    type: args.type,
                    name: args.name,
                    inputs: args.inputs,
                    custom: args.custom ?? true,
                    provider: args.provider,
                    options: seen.get(`${args.type}::${args.name}`)?.options ?? NO_OPTIONS,
                };
                registrations.push(registration);
                // The URN the engine gives the resource, from the resource itself.
                seen.get(`${args.type}::${args.name}`)?.resource.urn.apply((urn) => (registration.urn = urn));
                return { id: `${args.name}-id`, state: providerState(args.type, args.name, args.inputs) };
            },
            call(args) {
                if (args.token === "docker:index/getNetwork:getNetwork") {
                    const name = args.inputs.name;
                    if (!existingNetworks.has(name)) throw new Error(`Error: No such network: ${name}`);
                    const swarm = swarmNetworks.has(name);
                    return { id: `net-${name}`, name, driver: swarm ? "overlay" : "bridge", scope: swarm ? "swarm" : "local" };
                }
                throw new Error(`unexpected call to ${args.token}`);
            },
        },
        "zed-runner",
        stack,
        dryRun,
    );
    return {
        registrations,
        existingNetworks,
        swarmNetworks,
        run: async <T>(declare: () => T | Promise<T>): Promise<T> => {
            let result: T | undefined;
            let failure: { error: unknown } | undefined;
            await pulumi.runtime.runInPulumiStack(async () => {
                pulumi.runtime.registerStackTransformation((args) => {
                    // Custom resources' options; a component's simply lack these fields.
                    const opts = args.opts as pulumiType.CustomResourceOptions;
                    seen.set(`${args.type}::${args.name}`, {
                        resource: args.resource,
                        options: {
                            additionalSecretOutputs: opts.additionalSecretOutputs ?? [],
                            deleteBeforeReplace: opts.deleteBeforeReplace ?? false,
                            replaceOnChanges: opts.replaceOnChanges ?? [],
                            retainOnDelete: opts.retainOnDelete ?? false,
                            parent: opts.parent,
                        },
                    });
                    return undefined;
                });
                // The program's error is the caller's to see; the stack itself completes, as the language host's would.
                try {
                    result = await declare();
                } catch (error) {
                    failure = { error };
                }
                return {};
            });
            if (failure) throw failure.error;
            return result as T;
        },
        ofType: (type) => registrations.filter((r) => r.type === type && r.custom),
        byName: (name) => {
            const found = registrations.find((r) => r.name === name);
            if (!found) throw new Error(`no resource named ${name}; have ${registrations.map((r) => r.name).join(", ")}`);
            return found;
        },
    };
}

/** Resolves an Output's value (undefined while unknown). */
export function promiseOf<T>(output: pulumiType.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Whether an Output is marked secret. */
export function isSecret<T>(output: pulumiType.Output<T>): Promise<boolean> {
    return (output as any).isSecret as Promise<boolean>;
}

/** Whether a value as the mocks received it was sent as a secret (wrapped in the SDK's secret signature). */
export function wasSentAsSecret(value: unknown): boolean {
    // Read from the SDK itself rather than copied, so the check follows the wire format.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK instance loaded after jest.resetModules, not the one this file saw
    const { specialSigKey, specialSecretSig } = require("@pulumi/pulumi").runtime;
    return typeof value === "object" && value !== null && (value as any)[specialSigKey] === specialSecretSig;
}

/** A value as the mocks received it, with a secret wrapper removed. */
export function unwrapSecret<T = any>(value: unknown): T {
    return (wasSentAsSecret(value) ? (value as any).value : value) as T;
}

/** Stack config as Pulumi would hand it to the program: namespaced string values. */
export function stackConfig(values: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [`zed-runner:${k}`, v]));
}

/**
 * Waits until every registration the program started has reached the mocks.
 * Uses the SDK's own RPC queue (internal, but what `pulumi up` waits on too).
 */
export async function allRegistered(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK instance loaded after jest.resetModules, not the one this file saw
    await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
}
