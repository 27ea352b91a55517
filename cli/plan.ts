// `npm run plan -- [--stack NAME]`: what a stack will run, per host, from its files alone:
// no Pulumi CLI, no Docker engine. Uses the program's own schema and planner, and says
// what `npm run deploy` would add: the token from ZED_RUNNER_API_TOKEN, the pinned
// hostName, and whether the Zed binary the image build needs is there.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostTarget, SwarmTarget } from "../components/config";
import { RunnerSpec, planFleet } from "../components/plan";
import { SwarmServicePlan, pushedImageName } from "../components/swarmPlan";
import { CommandSpec, helpText, parseCommandLine } from "./lib/args";
import { shown } from "./lib/files";
import { table } from "./lib/table";
import { TOKEN_ENV } from "./deploy";
import {
    DEFAULT_STACK,
    PROJECT,
    PROJECT_ROOT,
    SECRET_PLACEHOLDER,
    STACK_OPTION,
    hostNameToPin,
    loadStackFiles,
    runCommand,
    stackFilePath,
} from "./stackFiles";

export const PLAN: CommandSpec = {
    name: "plan",
    summary:
        "Prints what a stack will run, per host: runner IDs, containers, ports, image, warnings. Reads Pulumi.yaml and Pulumi.<stack>.yaml only: no Pulumi CLI, no Docker.",
    options: {
        stack: STACK_OPTION,
    },
};

/** Where plan looks besides the stack files; the real project, environment and machine by default. */
export interface PlanContext {
    readonly root?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly machineHostName?: string;
}

/** Zed binaries the image builds need and do not find, as warnings: without one, pulumi up fails halfway, at the build. */
function missingZedBinaries(dirs: readonly string[], root: string): string[] {
    return [...new Set(dirs)]
        .filter((dir) => !fs.existsSync(path.resolve(root, dir, "zed")))
        .map(
            (dir) =>
                `The Zed binary ${path.join(dir, "zed")} is missing: the image build in pulumi up needs it. Copy it from your Helix checkout, built with ./stack build-zed: cp -r ../helix/zed-build ./${dir}`,
        );
}

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
export function renderPlan(stack: string, context: PlanContext = {}): string {
    const root = context.root ?? PROJECT_ROOT;
    const env = context.env ?? process.env;
    const { parsed, file } = loadStackFiles(stack, root);
    const plans = planFleet(parsed.hosts, { project: PROJECT, stackName: stack });
    const out: string[] = [];
    // deploy stores a token given in the environment before it runs pulumi up; its value is never shown.
    const fromEnv = env[TOKEN_ENV]
        ? `${SECRET_PLACEHOLDER} from ${TOKEN_ENV} (npm run deploy stores it as the stack's secret apiToken`
        : undefined;
    const token = !file.hasToken
        ? fromEnv
            ? `${fromEnv})`
            : `not set (pulumi up refuses until you run \`pulumi config set --secret apiToken <token>\` here, or set ${TOKEN_ENV} for npm run deploy)`
        : fromEnv
          ? `${fromEnv}, replacing the one set)`
          : file.secureKeys.has("apiToken")
            ? SECRET_PLACEHOLDER
            : "set in plain text (pulumi up refuses it: set it again with --secret)";
    out.push(`Stack ${stack}: control plane ${parsed.settings.apiHost}, token ${token}`);
    const pin = hostNameToPin(stack, root, context.machineHostName ?? os.hostname());
    if (pin) out.push(`hostName: ${pin}, this machine's name; the first npm run deploy pins it in ${shown(stackFilePath(stack, root))}`);
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
    const builds = [
        ...parsed.hosts.filter((h) => !h.settings.image).map((h) => h.settings.zedBuildDir),
        ...(parsed.swarm?.target.registry ? [parsed.swarm.target.settings.zedBuildDir] : []),
    ];
    const warnings = [...missingZedBinaries(builds, root), ...parsed.warnings];
    if (warnings.length > 0) {
        out.push("", "Warnings:", ...warnings.map((w) => `  - ${w}`));
    }
    return out.join("\n");
}

export async function plan(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, context: PlanContext = {}): Promise<number> {
    const { values, help } = parseCommandLine(PLAN, argv, env);
    if (help) {
        console.log(helpText(PLAN));
        return 0;
    }
    console.log(renderPlan((values.stack as string | undefined) ?? DEFAULT_STACK, { env, ...context }));
    return 0;
}

if (require.main === module) void runCommand(() => plan(process.argv.slice(2)));
