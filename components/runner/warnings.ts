// Runner settings that work but deserve a word before `pulumi up`. Pure.
import { isEveryInterface } from "../../contract";
import type { StackValues } from "../config/schema";
import { insecureTokenWarning } from "../config/warnings";
import type { RunnerHost } from "./settings";
/** What a runner stack deserves a word about: the token accepted as insecure, restart policies runners cannot live with, exposed ports. */
export function runnerWarnings(values: StackValues, hosts: readonly RunnerHost[], insecureToken: string | undefined): string[] {
    const warnings: string[] = [];
    const tokenWarning = insecureTokenWarning(insecureToken);
    if (tokenWarning) warnings.push(tokenWarning);
    if (values.restartPolicy === "no" || values.restartPolicy === "on-failure") {
        warnings.push(
            `restartPolicy is ${values.restartPolicy}: a runner exits when its control-plane connection drops and relies on its restart policy to come back.`,
        );
    }
    if (values.swarm && values.healthStartInterval) {
        warnings.push(
            "healthStartInterval is true on a swarm, where it does nothing: the Docker provider's service health check has no start interval, so a runner still turns healthy at its first check, 10 s after start.",
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
