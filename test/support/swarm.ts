// The test swarm that .ci/swarm.sh makes (three Docker engines in containers and a
// registry), and a stack's service on it exactly as index.ts declares it: the
// program runs under Pulumi's mocks, the declared image is built and pushed to the
// registry, the declared secrets are created, and the service is created or
// updated from the declared inputs (engineSpec.serviceRequest maps every one).
// What Pulumi itself would add is done here the way Pulumi does it: a changed
// secret is created afresh under a new name, the service updated to it, and the
// old one deleted last; the run waits for the service to converge.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { docker } from "./docker";
import { serviceRequest } from "./engineSpec";
import { eventually } from "./eventually";
import { Registration, unwrapSecret } from "./mocks";
import { runProgram } from "./program";
import { buildDeclaredImage } from "./stack";

const SWARM_STATE = process.env.SWARM_STATE ?? "/var/tmp/zed-swarm";
const SWARM_SCRIPT = path.join(__dirname, "..", "..", ".ci", "swarm.sh");

/** What .ci/swarm.sh wrote about the cluster it made. */
export interface Cluster {
    /** unix:// address of the manager's engine, as a stack's swarm.manager. */
    readonly managerAddress: string;
    readonly manager: Docker;
    /** Node container names; the first is the manager. */
    readonly nodes: readonly string[];
    /** This machine's address on the nodes' network: where the fake control plane listens. */
    readonly hostAddress: string;
    /** The registry as the nodes reach it (a stack's `registry`). */
    readonly registry: string;
    /** The same registry as this machine's engine reaches it (loopback, which Docker trusts without TLS). */
    readonly registryPush: string;
    readonly registryUser: string;
    readonly registryPassword: string;
}

/** Reads the cluster .ci/swarm.sh made; fails with the command to run when there is none. */
export function readCluster(): Cluster {
    const file = path.join(SWARM_STATE, "cluster.env");
    if (!fs.existsSync(file)) throw new Error(`No test swarm (${file} is missing). Run \`bash .ci/swarm.sh up\` first.`);
    const env = Object.fromEntries(
        fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l.includes("="))
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/^"|"$/g, "")]),
    );
    return {
        managerAddress: env.SWARM_MANAGER,
        manager: new Docker({ socketPath: new URL(env.SWARM_MANAGER).pathname }),
        nodes: env.SWARM_NODES.split(" "),
        hostAddress: env.SWARM_HOST_ADDRESS,
        registry: env.SWARM_REGISTRY,
        registryPush: env.SWARM_REGISTRY_PUSH,
        registryUser: env.SWARM_REGISTRY_USER,
        registryPassword: fs.readFileSync(env.SWARM_REGISTRY_PASSWORD_FILE, "utf8").trim(),
    };
}

/** A swarm stack's config on the test swarm: `replicas` runners reaching the control plane at `apiHost` with `token`. */
export function testSwarmConfig(cluster: Cluster, apiHost: string, token: string, baseImage: string): Record<string, string> {
    return {
        apiToken: token,
        apiHost,
        swarm: JSON.stringify({ manager: cluster.managerAddress }),
        registry: cluster.registry,
        registryUsername: cluster.registryUser,
        registryPassword: cluster.registryPassword,
        replicas: "3",
        baseImage,
        zedBuildDir: "test/fixtures/zed-build",
        // The fake control plane serves the reverse dial, but these tests and figures are about placement.
        revdial: "off",
    };
}

/** Starts a node a test killed, and waits until the swarm has it Ready again. */
export function startNode(node: string): void {
    execFileSync("bash", [SWARM_SCRIPT, "node-start", node], { stdio: "inherit" });
}

/** The task list of a service, as `docker service ps` shows it. */
async function tasksOf(manager: Docker, serviceName: string): Promise<Docker.Task[]> {
    return (await manager.listTasks({ filters: JSON.stringify({ service: [serviceName] }) })) as Docker.Task[];
}

/** Tasks meant to run, by slot. */
export async function runningTasks(manager: Docker, serviceName: string): Promise<Map<number, Docker.Task>> {
    const tasks = (await tasksOf(manager, serviceName)).filter((t: any) => t.DesiredState === "running");
    return new Map(tasks.map((t: any) => [t.Slot as number, t]));
}

/** Node ID -> hostname. */
export async function nodeNames(manager: Docker): Promise<Map<string, string>> {
    const nodes = await manager.listNodes();
    return new Map(nodes.map((n: any) => [n.ID as string, n.Description.Hostname as string]));
}

const pushed = new Map<string, string>();

/** Builds the declared image, pushes it to the registry and returns what the provider would: `<repository>@<digest>`. */
async function pushDeclaredImage(image: Declared, cluster: Cluster): Promise<string> {
    const imageName: string = image.inputs.imageName;
    const repository = imageName.replace(/:[^/:]+$/, "");
    const tag = imageName.slice(repository.length + 1);
    const registry = unwrapSecret(image.inputs.registry);
    if (registry.server !== cluster.registry) throw new Error(`the stack pushes to ${registry.server}, not the test registry`);
    const imageId = await buildDeclaredImage(image);
    const key = `${imageId} ${imageName}`;
    if (!pushed.has(key)) {
        // This machine reaches the same registry on loopback; the digest is the registry's either way.
        const alias = repository.replace(cluster.registry, cluster.registryPush);
        await docker.getImage(imageId).tag({ repo: alias, tag });
        const stream: NodeJS.ReadableStream = await (docker.getImage(`${alias}:${tag}`) as any).push({
            authconfig: { username: registry.username, password: registry.password, serveraddress: cluster.registryPush },
        });
        const events: any[] = await new Promise((resolve, reject) =>
            docker.modem.followProgress(stream, (err: Error | null, out: any[]) => (err ? reject(err) : resolve(out))),
        );
        const failure = events.find((e) => e.error);
        if (failure) throw new Error(`push of ${alias}:${tag} failed: ${failure.error}`);
        const digest = events.find((e) => e.aux?.Digest)?.aux.Digest;
        if (!digest) throw new Error(`push of ${alias}:${tag} reported no digest`);
        pushed.set(key, `${repository}@${digest}`);
    }
    return pushed.get(key)!;
}

/** A declared resource: what the program registered under the mocks. */
export type Declared = Pick<Registration, "type" | "name" | "inputs">;

/** Runs the program with a stack config and returns what it declared (the tests run it in-process, the bench in a child). */
export type Declare = (config: Record<string, string>, stack: string) => Promise<Declared[]>;

/** The program under Jest's module registry, as the tests run it. */
const declareInJest: Declare = async (config, stack) => {
    const { engine, error } = await runProgram(config, stack);
    if (error) throw error;
    return engine.registrations.filter((r) => r.custom);
};

/** One stack's service on the test swarm, kept across `apply` calls as Pulumi's state would be. */
export class SwarmStack {
    /** Engine secrets by the program's logical name: their engine ID, name and declared data. */
    private readonly secrets = new Map<string, { id: string; name: string; data: string }>();
    service: Docker.Service | undefined;
    /** The program's last declared resources. */
    declared: Declared[] = [];
    /** When the last service create or update was sent (Date.now(), the fake control plane's clock): where a rollout starts. */
    lastUpdateAt = 0;

    constructor(
        readonly cluster: Cluster,
        readonly stack: string,
        private readonly declare: Declare = declareInJest,
    ) {}

    /** Runs the program with `config` and makes the swarm match it; resolves once the service has converged. */
    async apply(config: Record<string, string>): Promise<Docker.Service> {
        this.declared = await this.declare(config, this.stack);
        const ofType = (type: string) => this.declared.filter((r) => r.type === type);
        const [image] = ofType("docker:index/image:Image");
        const [service] = ofType("docker:index/service:Service");
        const reference = image ? await pushDeclaredImage(image, this.cluster) : service.inputs.taskSpec.containerSpec.image;

        const engineSecrets = new Map<string, { id: string; name: string }>();
        const replaced: string[] = [];
        for (const secret of ofType("docker:index/secret:Secret")) {
            const data = unwrapSecret<string>(secret.inputs.data);
            const existing = this.secrets.get(secret.name);
            if (existing && existing.data === data) {
                engineSecrets.set(`${secret.name}-id`, existing);
                continue;
            }
            // Docker secrets cannot change: Pulumi replaces one, creating the new one (named afresh) first.
            if (existing) replaced.push(existing.id);
            const name = `${secret.name}-${crypto.randomBytes(4).toString("hex").slice(0, 7)}`;
            const labels = Object.fromEntries(
                (secret.inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value]),
            );
            const created = await this.cluster.manager.createSecret({ Name: name, Labels: labels, Data: data });
            this.secrets.set(secret.name, { id: created.id, name, data });
            engineSecrets.set(`${secret.name}-id`, { id: created.id, name });
        }

        const request = serviceRequest(service.inputs, reference, engineSecrets);
        this.lastUpdateAt = Date.now();
        if (!this.service) {
            const created = await this.cluster.manager.createService(request.auth as any, request.spec as any);
            this.service = this.cluster.manager.getService((created as any).id ?? (created as any).ID);
        } else {
            const version = ((await this.service.inspect()) as any).Version.Index;
            await this.service.update(request.auth as any, { _query: { version }, _body: request.spec } as any);
        }
        await this.converged(service.inputs.mode.replicated.replicas);
        for (const id of replaced) await this.cluster.manager.getSecret(id).remove();
        return this.service;
    }

    /** Waits, as the provider's convergeConfig does, until every replica runs the current spec. */
    async converged(replicas: number, timeoutMs = 300_000): Promise<void> {
        await eventually(
            `service ${this.stack} converged on ${replicas} replicas`,
            async () => {
                const info: any = await this.service!.inspect();
                const state = info.UpdateStatus?.State;
                if (state && state !== "completed") throw new Error(`update ${state}: ${info.UpdateStatus.Message ?? ""}`);
                // A task runs the current spec when its container spec is the service's: an update that changes only a
                // secret keeps the image, so the image alone cannot tell an old task from a new one.
                const template = JSON.stringify(info.Spec.TaskTemplate.ContainerSpec);
                const running = [...(await runningTasks(this.cluster.manager, info.Spec.Name)).values()].filter(
                    (t: any) => t.Status.State === "running" && JSON.stringify(t.Spec.ContainerSpec) === template,
                );
                if (running.length !== replicas) throw new Error(`${running.length} of ${replicas} tasks running`);
                return true;
            },
            timeoutMs,
            500,
        );
    }

    /** Removes the service and its secrets. */
    async remove(): Promise<void> {
        await this.service?.remove().catch(() => undefined);
        this.service = undefined;
        // Swarm keeps a secret in use until the service's tasks are gone.
        for (const secret of this.secrets.values()) {
            await eventually(
                `secret ${secret.name} removed`,
                async () => {
                    await this.cluster.manager.getSecret(secret.id).remove();
                    return true;
                },
                60_000,
                500,
            ).catch(() => undefined);
        }
        this.secrets.clear();
    }
}
