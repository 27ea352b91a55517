// `npm run plan -- [--stack NAME]`: what a stack will run, per host, from its files alone:
// no Pulumi CLI, no Docker engine. Uses the program's own schema and planner.
import { HostTarget, SwarmTarget } from "../components/config";
import { RunnerSpec, planFleet } from "../components/plan";
import { SwarmServicePlan, pushedImageName } from "../components/swarmPlan";
import { table } from "./lib/table";
import { DEFAULT_STACK, PROJECT, SECRET_PLACEHOLDER, loadStackFiles, parseArgs, runCommand } from "./stackFiles";

function imageSource(host: HostTarget): string {
    const s = host.settings;
    return s.image
        ? `pull ${s.image}`
        : `build Dockerfile.zed-agent (baseImage ${s.baseImage}, Zed from ${s.zedBuildDir}/zed, the runner agent from agent/)`;
}

/** A swarm's service as text: manager, image, placement, ports and the runners by slot. */
function renderSwarm(stack: string, target: SwarmTarget, plan: SwarmServicePlan, registryLogin: string): string[] {
    const s = target.settings;
    const image = target.registry
        ? `build Dockerfile.zed-agent (baseImage ${s.baseImage}, Zed from ${s.zedBuildDir}/zed), push to ${pushedImageName(target.registry, stack)}`
        : `${s.image} (pulled by each node)`;
    const placement = [
        ...plan.placement.constraints.map((c) => `constraint ${c}`),
        plan.placement.maxReplicasPerNode ? `at most ${plan.placement.maxReplicasPerNode} per node` : "any number per node",
        plan.placement.spread ? `spread over ${plan.placement.spread}` : "spread over nodes by Swarm's scheduler",
    ];
    const out = [
        "",
        `Swarm (manager ${target.connection?.host ?? "this machine's Docker engine"}): service ${plan.serviceName}, ${plan.replicas} runner${plan.replicas === 1 ? "" : "s"}`,
        `Image: ${image}; registry login ${registryLogin}`,
        `Placement: ${placement.join(", ")}`,
        `Secrets: the token and a desktop-password seed, as Swarm secrets mounted at ${plan.secretFiles.apiToken} and ${plan.secretFiles.passwordSeed}`,
        `Updates: one runner at a time, each given ${plan.env.STOP_GRACE_SECONDS} s to finish its session; restart ${plan.restartCondition}`,
        plan.ports.length > 0
            ? `Ports (host mode, on the node running each runner): ${plan.ports.map((p) => `${p.role.toUpperCase()} ${p.published}`).join(", ")}`
            : "Ports: none published; desktops through the control plane",
    ];
    if (s.networks.length > 0) out.push(`Joins swarm networks: ${s.networks.join(", ")}`);
    if (plan.runners.length > 0) {
        out.push(
            table(
                ["SLOT", "RUNNER ID"],
                plan.runners.map((r) => [String(r.slot), r.runnerId]),
            ),
        );
    }
    return out;
}

/** The plan of a stack as text: per host, its runners and image; then the warnings. */
export function renderPlan(stack: string): string {
    const { parsed, file } = loadStackFiles(stack);
    const plans = planFleet(parsed.hosts, { project: PROJECT, stackName: stack });
    const out: string[] = [];
    const token = !file.hasToken
        ? "not set (pulumi up refuses until you run `pulumi config set --secret apiToken <token>`)"
        : file.secureKeys.has("apiToken")
          ? SECRET_PLACEHOLDER
          : "set in plain text (pulumi up refuses it: set it again with --secret)";
    out.push(`Stack ${stack}: control plane ${parsed.settings.apiHost}, token ${token}`);
    if (parsed.swarm) {
        const login = !parsed.swarm.target.registryUsername
            ? "none"
            : `${parsed.swarm.target.registryUsername} (password ${file.secureKeys.has("registryPassword") ? SECRET_PLACEHOLDER : "in plain text: set it again with --secret"})`;
        out.push(...renderSwarm(stack, parsed.swarm.target, parsed.swarm.plan, login));
    }
    parsed.hosts.forEach((host, i) => {
        const runners: RunnerSpec[] = plans[i].runners;
        out.push("");
        out.push(
            `Host ${host.name} (${host.connection?.host ?? "this machine's Docker engine"}): ${runners.length} runner${runners.length === 1 ? "" : "s"}`,
        );
        out.push(`Image: ${imageSource(host)}`);
        if (host.settings.networks.length > 0) out.push(`Joins Docker networks: ${host.settings.networks.join(", ")}`);
        if (runners.length > 0) {
            out.push(
                table(
                    ["RUNNER ID", "CONTAINER", "RDP", "VNC", "HEALTH"],
                    runners.map((r) => [r.runnerId, r.containerName, r.endpoints.rdp ?? "-", r.endpoints.vnc ?? "-", r.endpoints.health]),
                ),
            );
        }
    });
    if (parsed.warnings.length > 0) {
        out.push("", "Warnings:", ...parsed.warnings.map((w) => `  - ${w}`));
    }
    return out.join("\n");
}

async function main(): Promise<number> {
    const { values } = parseArgs(process.argv.slice(2), { values: ["stack"], flags: [] });
    console.log(renderPlan(values.stack ?? DEFAULT_STACK));
    return 0;
}

if (require.main === module) void runCommand(main);
