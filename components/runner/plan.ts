// The runner plan: validated settings in, one spec per runner out (IDs, names,
// ports, environment, labels, endpoints). Pure, and the single source of truth
// for every value the component, the outputs and the operator commands show.
import {
    CONTAINER_PORTS,
    DISPLAY,
    ENV,
    HEALTH_PATH,
    NO_NEW_PRIVILEGES,
    STOP_GRACE_SECONDS,
    WRITABLE_PATHS,
    isEveryInterface,
    isInsidePath,
    printable,
} from "../../contract";
import { LABELS, StackIdentity } from "../labels";
import { RunnerEndpoints } from "../outputs";
import type { RunnerHost, RunnerSettings } from "./settings";

/** Seconds `pulumi up` waits for a new runner to turn healthy: above start period + retries x interval. */
export const WAIT_TIMEOUT_SECONDS = 120;
export type PortRole = "rdp" | "vnc" | "health";

/** One published port. */
interface PortBinding {
    readonly role: PortRole;
    readonly internal: number;
    readonly external: number;
    readonly ip: string;
    readonly protocol: "tcp";
}

/**
 * How a runner is confined beyond its memory and CPU limits (issue #20: Docker's CIS
 * benchmark 5.12, 5.13, 5.26 and 5.29), for containers and, where Swarm has them, services.
 */
export interface RunnerHardening {
    /** The root file system is mounted read-only; the runner writes only to `tmpfs` and `scratchVolumes`. */
    readonly readOnlyRootFilesystem: boolean;
    /** `no-new-privileges`, or nothing. */
    readonly securityOpts: readonly string[];
    /** The most processes and threads the runner's cgroup may hold; undefined for no limit. */
    readonly pidsLimit: number | undefined;
    /** Relative CPU weight; undefined for Docker's default. */
    readonly cpuShares: number | undefined;
    /** tmpfs mounts and their options; empty with a writable root file system. */
    readonly tmpfs: Readonly<Record<string, string>>;
    /** Folders given an anonymous volume each (removed with the container); empty with a writable root file system. */
    readonly scratchVolumes: readonly string[];
}

/** The runner's confinement for these settings. Depends on nothing but them, so it never moves a runner's identity. */
export function runnerHardening(settings: RunnerSettings): RunnerHardening {
    const readOnly = settings.readOnlyRootFilesystem;
    // The workspace needs disk of its own unless a named volume (persistWorkspaces) or a scratch volume already holds it.
    const workspaceCovered = settings.persistWorkspaces || WRITABLE_PATHS.volumes.some((root) => isInsidePath(settings.workspaceDir, root));
    return {
        readOnlyRootFilesystem: readOnly,
        securityOpts: settings.noNewPrivileges ? [NO_NEW_PRIVILEGES] : [],
        pidsLimit: settings.pidsLimit > 0 ? settings.pidsLimit : undefined,
        cpuShares: settings.cpuShares > 0 ? settings.cpuShares : undefined,
        tmpfs: readOnly ? { ...WRITABLE_PATHS.tmpfs } : {},
        scratchVolumes: readOnly ? [...WRITABLE_PATHS.volumes, ...(workspaceCovered ? [] : [settings.workspaceDir])] : [],
    };
}

/** Everything about one runner that is not a secret. */
export interface RunnerSpec {
    /** 1-based, stable: the runner's identity in resource names. */
    readonly index: number;
    readonly runnerId: string;
    readonly containerName: string;
    /** Named volume at workspaceDir when persistWorkspaces is true. */
    readonly workspaceVolume: string | undefined;
    readonly ports: readonly PortBinding[];
    /** Non-secret environment; the token and passwords are added by the component as secrets. */
    readonly env: Readonly<Record<string, string>>;
    readonly labels: Readonly<Record<string, string>>;
    readonly endpoints: RunnerEndpoints;
}

/** A plan that cannot work: colliding or out-of-range ports. */
export class PlanError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(printable(`The runner plan is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`));
        this.name = "PlanError";
    }
}

export const PORT_BASE_KEY: Record<PortRole, string> = { rdp: "rdpPortBase", vnc: "vncPortBase", health: "healthPortBase" };

/** IPv6 addresses are bracketed in host:port form. */
function hostPort(host: string, port: number): string {
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address an operator dials: the bind address, or the machine's name when bound on every interface. */
function endpointHost(settings: RunnerSettings): string {
    return isEveryInterface(settings.bindAddress) ? settings.hostName : settings.bindAddress;
}

/**
 * The environment every runner reads, but for its secrets: the component adds the
 * token and passwords (or, on a swarm, the files holding them).
 */
export function runnerEnv(settings: RunnerSettings, runnerId: string): Record<string, string> {
    return {
        [ENV.apiHost]: settings.apiHost,
        [ENV.runnerId]: runnerId,
        [ENV.concurrency]: String(settings.concurrency),
        [ENV.maxTasks]: String(settings.maxTasks),
        [ENV.sessionTimeout]: String(settings.sessionTimeout),
        [ENV.workspaceDir]: settings.workspaceDir,
        [ENV.logLevel]: settings.logLevel,
        DISPLAY,
        [ENV.displayWidth]: String(settings.displayWidth),
        [ENV.displayHeight]: String(settings.displayHeight),
        // The agent gives running sessions this long to finish when the container is stopped.
        [ENV.stopGraceSeconds]: String(STOP_GRACE_SECONDS),
        [ENV.revdial]: settings.revdial,
    };
}

/**
 * The spec of runner `index` (1-based). It depends only on the index and the
 * settings, never on `replicas`: scaling from N to N+1 leaves runners 1..N
 * identical, so Pulumi touches none of them.
 */
export function planRunner(settings: RunnerSettings, index: number, context: StackIdentity): RunnerSpec {
    const runnerId = `${settings.runnerIdPrefix}-${index}`;
    const containerName = `${settings.containerNamePrefix}-${index}`;
    // Runner `index` owns `width` consecutive ports of each remote-desktop range, and one health port.
    const range = (role: PortRole, base: number, width: number): PortBinding[] =>
        Array.from({ length: width }, (_, k) => ({
            role,
            internal: CONTAINER_PORTS[role] + k,
            external: base + (index - 1) * width + k,
            ip: settings.bindAddress,
            protocol: "tcp" as const,
        }));
    // The control plane reaches desktops through the runner's own connections (RDP over its WebSocket, VNC over
    // the reverse dial): RDP and VNC ports are published only for operators who ask for them.
    const ports: PortBinding[] = [
        ...(settings.publishDesktopPorts ? range("rdp", settings.rdpPortBase, settings.portsPerRunner) : []),
        ...(settings.publishDesktopPorts ? range("vnc", settings.vncPortBase, settings.portsPerRunner) : []),
        ...range("health", settings.healthPortBase, 1),
    ];

    const host = endpointHost(settings);
    const first = (role: PortRole) => ports.find((p) => p.role === role)?.external;
    const endpoint = (role: PortRole) => {
        const port = first(role);
        return port === undefined ? undefined : hostPort(host, port);
    };
    return {
        index,
        runnerId,
        containerName,
        workspaceVolume: settings.persistWorkspaces ? `${containerName}-workspace` : undefined,
        ports,
        env: runnerEnv(settings, runnerId),
        labels: {
            [LABELS.project]: context.project,
            [LABELS.stack]: context.stackName,
            [LABELS.runnerId]: runnerId,
            [LABELS.index]: String(index),
        },
        endpoints: {
            runnerId,
            rdp: endpoint("rdp"),
            vnc: endpoint("vnc"),
            health: `http://${endpoint("health")}${HEALTH_PATH}`,
        },
    };
}

/** The specs of runners 1..replicas, refused with a PlanError when ports collide or leave 1..65535. */
export function planRunners(settings: RunnerSettings, context: StackIdentity): RunnerSpec[] {
    const runners = Array.from({ length: settings.replicas }, (_, i) => planRunner(settings, i + 1, context));
    const problems: string[] = [];
    const owners = new Map<number, { runner: RunnerSpec; role: PortRole }>();
    const reported = new Set<string>();
    for (const runner of runners) {
        for (const p of runner.ports) {
            if (p.external > 65535) {
                const key = `range:${p.role}`;
                if (!reported.has(key)) {
                    reported.add(key);
                    problems.push(
                        `runner ${runner.index}'s ${p.role.toUpperCase()} host port would be ${p.external}, above 65535: ` +
                            `lower ${PORT_BASE_KEY[p.role]}, replicas (${settings.replicas})` +
                            (p.role === "health" ? "" : ` or portsPerRunner (${settings.portsPerRunner})`),
                    );
                }
                continue;
            }
            const owner = owners.get(p.external);
            if (owner) {
                const key = `clash:${[owner.role, p.role].sort().join("/")}`;
                if (!reported.has(key)) {
                    reported.add(key);
                    const keys =
                        owner.role === p.role ? PORT_BASE_KEY[p.role] : `${PORT_BASE_KEY[owner.role]} and ${PORT_BASE_KEY[p.role]}`;
                    problems.push(
                        `host port ${p.external} is both runner ${owner.runner.index}'s ${owner.role.toUpperCase()} port and runner ${runner.index}'s ${p.role.toUpperCase()} port: ` +
                            `move ${keys} further apart (each role needs replicas x portsPerRunner consecutive ports)`,
                    );
                }
                continue;
            }
            owners.set(p.external, { runner, role: p.role });
        }
    }
    if (problems.length > 0) throw new PlanError(problems);
    return runners;
}

/** A Docker host with the runners planned for it. */
export interface PlannedHost extends RunnerHost {
    readonly runners: readonly RunnerSpec[];
}

/** A host's name and runner settings: the part of a RunnerHost the plan needs. */
export interface HostSettings {
    readonly name: string;
    readonly settings: RunnerSettings;
}

/** The runners of every host, planned once. */
export interface HostPlan {
    readonly name: string;
    readonly runners: readonly RunnerSpec[];
}

/**
 * Plans every host's runners, refusing a fleet where two runners would share a
 * runner ID (the control plane keys runners by ID: one would silently replace
 * the other). Names and ports need only be unique per host.
 */
export function planFleet(hosts: readonly HostSettings[], context: StackIdentity): HostPlan[] {
    const problems: string[] = [];
    const plans: HostPlan[] = [];
    for (const host of hosts) {
        try {
            plans.push({ name: host.name, runners: planRunners(host.settings, context) });
        } catch (err) {
            if (!(err instanceof PlanError)) throw err;
            problems.push(...err.problems.map((p) => (hosts.length > 1 ? `host ${host.name}: ${p}` : p)));
        }
    }
    const owners = new Map<string, string>();
    for (const plan of plans) {
        for (const runner of plan.runners) {
            const owner = owners.get(runner.runnerId);
            if (owner !== undefined) {
                problems.push(
                    `runner ID ${runner.runnerId} is planned on both host ${owner} and host ${plan.name}: give the hosts different runnerIdPrefix values`,
                );
            } else {
                owners.set(runner.runnerId, plan.name);
            }
        }
    }
    if (problems.length > 0) throw new PlanError(problems);
    return plans;
}
