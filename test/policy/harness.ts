// Runs single policies on hand-built arguments, the way the policy SDK's analyzer would.
import type {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

import { Registration, unwrapSecret, wasSentAsSecret } from "../support/mocks";

const NOT_APPLICABLE = Symbol("not applicable");

/** Resource properties as the policy SDK hands them to validations: secrets unwrapped. */
function asPolicySees(value: unknown): any {
    if (Array.isArray(value)) return value.map(asPolicySees);
    if (value && typeof value === "object") {
        if (wasSentAsSecret(value)) return asPolicySees(unwrapSecret(value));
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asPolicySees(v)]));
    }
    return value;
}

/** The program's custom resources, as the pack would see them, each with its explicit Docker provider's engine. */
export function fixturesOf(registrations: Registration[]): Fixture[] {
    // A provider reference is "<urn>::<id>": the pack tells Docker hosts apart by it.
    const providers = registrations.filter((r) => r.type === "pulumi:providers:docker" && r.urn !== undefined);
    const providerOf = (reference: string | undefined) => {
        const found = reference === undefined ? undefined : providers.find((p) => reference.startsWith(`${p.urn}::`));
        return found && { urn: found.urn!, host: found.inputs.host as string | undefined };
    };
    return registrations
        .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
        .map((r) => ({
            type: r.type,
            name: r.name,
            props: asPolicySees(r.inputs),
            additionalSecretOutputs: r.options.additionalSecretOutputs,
            provider: providerOf(r.provider),
        }));
}

export interface Fixture {
    readonly type: string;
    readonly props: Record<string, any>;
    readonly name?: string;
    readonly additionalSecretOutputs?: string[];
    readonly provider?: { urn: string; host?: string };
    /** For stack policies: the fixtures (by name) each property is computed from, as Pulumi records an Output's source. */
    readonly propertyDependencies?: Record<string, string[]>;
}

/** The schema defaults of a policy's config, overridden by `config`. */
function configOf(policy: { configSchema?: { properties: Record<string, any> } }, config: Record<string, unknown>) {
    const defaults = Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {}).map(([k, schema]) => [k, (schema as { default?: unknown }).default]),
    );
    return { ...defaults, ...config };
}

function isTypeOf(type: string) {
    return (cls: any) => cls.__pulumiType === type;
}

/** Violations a resource policy reports for one resource; an empty list when it passes or does not apply. */
export async function violationsOf(
    policy: ResourceValidationPolicy,
    fixture: Fixture,
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const violations: string[] = [];
    const name = fixture.name ?? "runner";
    const args: ResourceValidationArgs = {
        type: fixture.type,
        props: fixture.props,
        urn: `urn:pulumi:test::zed-runner::${fixture.type}::${name}`,
        name,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: fixture.additionalSecretOutputs ?? [],
        },
        provider: fixture.provider && {
            type: "pulumi:providers:docker",
            urn: fixture.provider.urn,
            name: "docker",
            props: { host: fixture.provider.host },
        },
        stackTags: new Map(),
        getConfig: <T extends object>() => configOf(policy, config) as T,
        isType: isTypeOf(fixture.type),
        asType: ((cls: any) => (isTypeOf(fixture.type)(cls) ? fixture.props : undefined)) as ResourceValidationArgs["asType"],
        notApplicable: () => {
            throw NOT_APPLICABLE;
        },
    };
    const validators = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
    for (const validate of validators) {
        try {
            await validate(args, (message) => violations.push(message));
        } catch (err) {
            if (err !== NOT_APPLICABLE) throw err;
        }
    }
    return violations;
}

/** Violations a stack policy reports for a set of resources. */
export async function stackViolationsOf(
    policy: StackValidationPolicy,
    fixtures: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    const violations: string[] = [];
    const resources: PolicyResource[] = fixtures.map((f, i) => ({
        type: f.type,
        props: f.props,
        urn: `urn:pulumi:test::zed-runner::${f.type}::${f.name ?? `r${i}`}`,
        name: f.name ?? `r${i}`,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: f.additionalSecretOutputs ?? [],
        },
        provider: f.provider && { type: "pulumi:providers:docker", urn: f.provider.urn, name: "docker", props: { host: f.provider.host } },
        dependencies: [],
        propertyDependencies: {},
        isType: isTypeOf(f.type),
        asType: ((cls: any) => (isTypeOf(f.type)(cls) ? f.props : undefined)) as PolicyResource["asType"],
    }));
    fixtures.forEach((f, i) => {
        for (const [property, names] of Object.entries(f.propertyDependencies ?? {}))
            resources[i].propertyDependencies[property] = resources.filter((r) => names.includes(r.name));
    });
    const args: StackValidationArgs = {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => configOf(policy, config) as T,
        notApplicable: () => {
            throw NOT_APPLICABLE;
        },
    };
    try {
        await policy.validateStack!(args, (message) => violations.push(message));
    } catch (err) {
        if (err !== NOT_APPLICABLE) throw err;
    }
    return violations;
}
