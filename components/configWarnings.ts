// Settings that work but deserve a word before `pulumi up`. Pure.
import { isEveryInterface } from "./addresses";
import type { HostTarget } from "./configDefaults";
import type { StackValues } from "./configSchema";
import { sanitizeHostName } from "./configDefaults";

export function configWarnings(values: StackValues, hosts: readonly HostTarget[], insecureToken: string | undefined): string[] {
    const warnings: string[] = [];
    if (insecureToken)
        warnings.push(`apiToken ${insecureToken}; accepted because allowInsecureToken is true. Never do this on a shared network.`);
    if (values.restartPolicy === "no" || values.restartPolicy === "on-failure") {
        warnings.push(
            `restartPolicy is ${values.restartPolicy}: a runner exits when its control-plane connection drops and relies on its restart policy to come back.`,
        );
    }
    for (const host of hosts) {
        if (!isEveryInterface(host.settings.bindAddress)) continue;
        const where = values.hosts ? ` on host ${host.name}` : "";
        const ports = host.settings.publishDesktopPorts ? "RDP, VNC and health ports are" : "health port is";
        warnings.push(
            `bindAddress is ${host.settings.bindAddress}${where}: every runner's ${ports} published on every network interface of that machine. Firewall them or use 127.0.0.1.`,
        );
    }
    return warnings;
}

/**
 * The host name a single-host stack's runner IDs take from the machine running `pulumi up`
 * (hostName unset, no runnerIdPrefix), or undefined when the IDs do not depend on it. Run
 * from another machine, such a stack would replace every runner under new IDs.
 */
export function unpinnedHostName(raw: Readonly<Record<string, string | undefined>>, machineHostName: string): string | undefined {
    if (raw.hostName || raw.runnerIdPrefix || raw.hosts || raw.swarm) return undefined;
    return sanitizeHostName(machineHostName);
}

/** The program's warning for an unpinned host name; `npm run deploy` pins it on first deploy. */
export function unpinnedHostNameWarning(raw: Readonly<Record<string, string | undefined>>, machineHostName: string): string | undefined {
    const name = unpinnedHostName(raw, machineHostName);
    return name === undefined
        ? undefined
        : `hostName is not set, so runner IDs carry this machine's name (${name}): a pulumi up from another machine would replace every runner. Pin it with \`pulumi config set hostName ${name}\` (npm run deploy does so on first deploy).`;
}
