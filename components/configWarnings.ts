// Settings that work but deserve a word before `pulumi up`. Pure.
import { isEveryInterface } from "./addresses";
import type { HostTarget } from "./configDefaults";
import type { StackValues } from "./configSchema";

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
