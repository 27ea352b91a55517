// `npm run plan -- [--stack NAME]`: what a stack will run, per host, from its files alone:
// no Pulumi CLI, no Docker engine. Uses the program's own schema and planner.
import { HostTarget } from "../components/config";
import { RunnerSpec, planFleet } from "../components/plan";
import { table } from "./lib/table";
import { DEFAULT_STACK, PROJECT, SECRET_PLACEHOLDER, loadStackFiles, parseArgs, runCommand } from "./stackFiles";

function imageSource(host: HostTarget): string {
    const s = host.settings;
    return s.image
        ? `pull ${s.image}`
        : `build Dockerfile.zed-agent (baseImage ${s.baseImage}, Zed from ${s.zedBuildDir}/zed, the runner agent from agent/)`;
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
