// The runner plan on a Docker Swarm: one replicated service whose tasks are the
// runners. A task's runner ID comes from its slot ({{.Task.Slot}}, 1..replicas),
// which Swarm keeps when it reschedules or replaces the task, so a runner comes
// back under the same ID. Nothing in the service's spec depends on the replica
// count but the count itself: scaling adds or removes tasks and touches no other.
// Pure: no Pulumi import.
import {
    CONTAINER_PORTS,
    ENV,
    SECRET_FILES,
    SECRET_FILE_SUFFIX,
    STOP_GRACE_SECONDS,
    TASK_SLOT_TEMPLATE as TASK_SLOT,
} from "../../contract";
import { PORT_BASE_KEY, PlanError, PortRole, WAIT_TIMEOUT_SECONDS, runnerEnv } from "./plan";
import { LABELS, StackIdentity } from "../labels";
import type { DockerConnection } from "../placements/placement";
import type { SwarmScheduling } from "../placements/resolve";
import type { RunnerSettings } from "./settings";

/** The image's name in the registry the stack pushes to. */
const IMAGE_REPOSITORY = "helix-zed-agent";

/** Docker's restart policy names, as Swarm's restart conditions. */
const RESTART_CONDITIONS = { no: "none", "on-failure": "on-failure", always: "any", "unless-stopped": "any" } as const;

/** A port published in host mode: on the node that runs the task, the same number on every node. */
interface SwarmPort {
    readonly role: PortRole;
    readonly target: number;
    readonly published: number;
}

/** One runner of the service: the task in `slot`. */
export interface SwarmRunner {
    readonly slot: number;
    readonly runnerId: string;
}

/** Everything about the service that is not a secret. */
export interface SwarmServicePlan {
    readonly serviceName: string;
    readonly replicas: number;
    /** Runner IDs are `<runnerIdPrefix>-<slot>`. */
    readonly runnerIdPrefix: string;
    readonly runners: readonly SwarmRunner[];
    /** The task environment: RUNNER_ID as a template, and the files holding the secrets, never the secrets. */
    readonly env: Readonly<Record<string, string>>;
    /** The secrets each task mounts, by what they hold. */
    readonly secretFiles: typeof SECRET_FILES;
    /** Host-mode ports; empty unless publishDesktopPorts. */
    readonly ports: readonly SwarmPort[];
    /** Labels of the service and of its task containers. */
    readonly labels: Readonly<Record<string, string>>;
    /** A volume per slot at workspaceDir when persistWorkspaces is true (local to the node the task runs on). */
    readonly workspaceVolume: string | undefined;
    readonly placement: SwarmScheduling;
    readonly restartCondition: (typeof RESTART_CONDITIONS)[keyof typeof RESTART_CONDITIONS];
    /**
     * How long `pulumi up` waits for the service to settle: a rolling update replaces the
     * runners one at a time, each may take its stop grace to finish a session and its start.
     */
    readonly convergeTimeoutSeconds: number;
}

/** A Docker Swarm with the service planned for it. */
export interface PlannedSwarm {
    readonly target: SwarmTarget;
    readonly plan: SwarmServicePlan;
}

/** Runner ID of the task in `slot`. */
export function swarmRunnerId(prefix: string, slot: number | string): string {
    return `${prefix}-${slot}`;
}

/** The service's plan; a PlanError when published ports could collide on a node or leave 1..65535. */
export function planSwarm(target: SwarmTarget, context: StackIdentity): SwarmServicePlan {
    const { settings, placement } = target;
    const problems: string[] = [];
    const ports: SwarmPort[] = [];
    if (settings.publishDesktopPorts) {
        // A service's endpoint is the same for every task: two tasks on one node would want the same host ports.
        if (placement.maxReplicasPerNode !== 1) {
            problems.push(
                `publishDesktopPorts on a swarm publishes every runner's RDP and VNC ports on its node, the same numbers on every node, ` +
                    `so two runners on one node would collide (swarm.maxReplicasPerNode is ${placement.maxReplicasPerNode || "unlimited"}): ` +
                    "set swarm.maxReplicasPerNode to 1, or leave publishDesktopPorts false and reach desktops through the control plane",
            );
        }
        const owners = new Map<number, PortRole>();
        for (const role of ["rdp", "vnc"] as const) {
            const base = role === "rdp" ? settings.rdpPortBase : settings.vncPortBase;
            for (let k = 0; k < settings.portsPerRunner; k++) {
                const published = base + k;
                if (published > 65535) {
                    problems.push(
                        `the ${role.toUpperCase()} ports would reach ${published}, above 65535: lower ${PORT_BASE_KEY[role]} or portsPerRunner`,
                    );
                    break;
                }
                const owner = owners.get(published);
                if (owner && owner !== role) {
                    problems.push(
                        `host port ${published} is both an RDP and a VNC port: move rdpPortBase and vncPortBase at least portsPerRunner (${settings.portsPerRunner}) apart`,
                    );
                    break;
                }
                owners.set(published, role);
                ports.push({ role, target: CONTAINER_PORTS[role] + k, published });
            }
        }
    }
    if (problems.length > 0) throw new PlanError(problems);

    const env: Record<string, string> = {
        ...runnerEnv(settings, swarmRunnerId(settings.runnerIdPrefix, TASK_SLOT)),
        [`${ENV.apiToken}${SECRET_FILE_SUFFIX}`]: SECRET_FILES.apiToken,
        [`${ENV.passwordSeed}${SECRET_FILE_SUFFIX}`]: SECRET_FILES.passwordSeed,
    };
    return {
        serviceName: settings.containerNamePrefix,
        replicas: settings.replicas,
        runnerIdPrefix: settings.runnerIdPrefix,
        runners: Array.from({ length: settings.replicas }, (_, i) => ({
            slot: i + 1,
            runnerId: swarmRunnerId(settings.runnerIdPrefix, i + 1),
        })),
        env,
        secretFiles: SECRET_FILES,
        ports,
        labels: { [LABELS.project]: context.project, [LABELS.stack]: context.stackName },
        workspaceVolume: settings.persistWorkspaces ? `${settings.containerNamePrefix}-workspace-${TASK_SLOT}` : undefined,
        placement,
        restartCondition: RESTART_CONDITIONS[settings.restartPolicy],
        convergeTimeoutSeconds: Math.max(1, settings.replicas) * (STOP_GRACE_SECONDS + WAIT_TIMEOUT_SECONDS),
    };
}

/** The registry host of an image reference, as Docker reads it: a first part with a '.', a port or localhost; Docker Hub otherwise. */
export function imageRegistryServer(reference: string): string {
    const [first, ...rest] = reference.split("/");
    return rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** Where the stack pushes the image it builds: `<registry>/helix-zed-agent:<stack>`. */
export function pushedImageName(registry: string, stackName: string): string {
    return `${registry}/${IMAGE_REPOSITORY}:${stackName}`;
}

/**
 * The mode in a tmpfs option string ("rw,mode=1777"), as the number Swarm's tmpfs options
 * take; Swarm has no other tmpfs options (its tmpfs mounts are always nosuid and nodev).
 */
export function tmpfsMode(options: string): number | undefined {
    const mode = /(?:^|,)mode=([0-7]{3,4})(?:,|$)/.exec(options)?.[1];
    return mode === undefined ? undefined : parseInt(mode, 8);
}

/** A Docker Swarm that runs the stack's runners as one service. */
export interface SwarmTarget {
    /** A manager's engine; undefined for this machine's engine (a manager itself). */
    readonly connection: DockerConnection | undefined;
    readonly settings: RunnerSettings;
    readonly placement: SwarmScheduling;
    /** Where the built image is pushed, as registry[/path]; undefined with a prebuilt `image`. */
    readonly registry: string | undefined;
    /** The account nodes pull with (and the image is pushed with); the password is a secret of its own. */
    readonly registryUsername: string | undefined;
}
