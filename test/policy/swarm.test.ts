// The policy pack on the swarm target: the service index.ts declares passes every
// policy, and each policy fails a service changed in the one way it guards against.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { uniqueRunners } from "../../policy/fleet";
import { healthcheckRequired, imagePinned, logRotation, resourceLimits, restartPolicy } from "../../policy/lifecycle";
import { apiHostTls, noHostTakeover, remoteDesktopNotPublic } from "../../policy/network";
import { policies } from "../../policy/policies";
import { runnerTokenNotDefault, runnerTokenSecret } from "../../policy/secrets";
import { SWARM } from "../fixtures/configs";
import { runProgram } from "../support/program";
import { Fixture, fixturesOf, stackViolationsOf, violationsOf } from "./harness";

const SERVICE = "docker:index/service:Service";

let declared: Fixture[];
let service: Fixture;

beforeAll(async () => {
    const { engine, error } = await runProgram({ ...SWARM, replicas: "3" }, "prod");
    if (error) throw error;
    declared = fixturesOf(engine.registrations);
    service = declared.find((f) => f.type === SERVICE)!;
});

/** The declared service with its task's container spec (or task spec, or the service) changed. */
function changed(change: { container?: Record<string, any>; task?: Record<string, any>; service?: Record<string, any> }): Fixture {
    const props = structuredClone(service.props);
    Object.assign(props.taskSpec.containerSpec, change.container ?? {});
    Object.assign(props.taskSpec, change.task ?? {});
    Object.assign(props, change.service ?? {});
    return { ...service, props };
}

async function allViolations(fixtures: Fixture[]): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        if ("validateStack" in policy) found.push(...(await stackViolationsOf(policy as StackValidationPolicy, fixtures)));
        else for (const f of fixtures) found.push(...(await violationsOf(policy as ResourceValidationPolicy, f)));
    }
    return found;
}

describe("the policy pack on a swarm stack", () => {
    it("passes the service, secrets and image index.ts declares", async () => {
        expect(await allViolations(declared)).toEqual([]);
    });

    it("fails a token in the service's environment, an example token in a Swarm secret, and a token file nothing is mounted at", async () => {
        const inEnv = changed({ container: { env: { ...service.props.taskSpec.containerSpec.env, API_TOKEN: "a-real-token-1234" } } });
        expect(await violationsOf(runnerTokenSecret, inEnv)).toEqual([
            expect.stringContaining("Runner service must not carry API_TOKEN in its environment: `docker service inspect` shows it"),
        ]);
        const secret = declared.find((f) => f.name === "zed-runner-swarm-api-token")!;
        const example = { ...secret, props: { ...secret.props, data: Buffer.from("oh-hallo-insecure-token").toString("base64") } };
        expect(await violationsOf(runnerTokenNotDefault, example)).toEqual([
            "A Swarm secret must not hold Helix's example token oh-hallo-insecure-token: anyone could register runners with it.",
        ]);
        const unmounted = changed({ container: { secrets: [] } });
        expect(await violationsOf(runnerTokenNotDefault, unmounted)).toEqual([
            "Runner service's API_TOKEN_FILE names /run/secrets/zed-runner-api-token, but no Swarm secret is mounted there.",
        ]);
    });

    it("fails published desktop ports, unless the policy allows them for a swarm behind a firewall", async () => {
        const published = changed({
            service: { endpointSpec: { ports: [{ targetPort: 5900, publishedPort: 5900, publishMode: "host" }] } },
        });
        expect(await violationsOf(remoteDesktopNotPublic, published)).toEqual([
            "VNC port 5900 must not be published by a runner service: Swarm publishes it on every interface of the node running the task; reach desktops through the control plane.",
        ]);
        expect(await violationsOf(remoteDesktopNotPublic, published, { allowSwarmPublishedPorts: true })).toEqual([]);
    });

    it("fails a service that would not come back, not wait, not be bounded, not rotate logs or float its image", async () => {
        expect(await violationsOf(restartPolicy, changed({ task: { restartPolicy: { condition: "on-failure" } } }))).toEqual([
            'Runner service must restart on condition any (condition is "on-failure").',
        ]);
        expect(
            await violationsOf(
                healthcheckRequired,
                changed({ container: { healthcheck: { tests: ["CMD", "true"] } }, service: { convergeConfig: undefined } }),
            ),
        ).toEqual([
            'Runner service\'s health check must test the runner, not always pass (["CMD","true"]).',
            "Runner service must set convergeConfig so `pulumi up` waits until its runners run.",
        ]);
        expect(await violationsOf(resourceLimits, changed({ task: { resources: undefined }, container: { mounts: [] } }))).toEqual([
            "Runner service must have a memory limit, so one runner cannot starve the others.",
            "Runner service must have a /dev/shm of at least 256 MB (it has 64 MB).",
        ]);
        expect(await violationsOf(logRotation, changed({ task: { logDriver: { name: "journald" } } }))).toEqual([
            'Runner service must rotate its logs: logDriver json-file with a max-size (logDriver is "journald", max-size is "unset").',
        ]);
        expect(await violationsOf(imagePinned, changed({ container: { image: "registry.example.com/helix-zed-agent:latest" } }))).toEqual([
            'Runner image must be pinned by digest or tag, not "registry.example.com/helix-zed-agent:latest".',
        ]);
    });

    it("fails a bind of the Docker socket, added capabilities and a control plane over plain http", async () => {
        const takeover = changed({
            container: {
                mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }],
                capAdds: ["SYS_ADMIN"],
            },
        });
        const found = await violationsOf(noHostTakeover, takeover);
        expect(found).toHaveLength(2);
        expect(found[0]).toMatch(/^Runner service must not bind .*\(\/var\/run\/docker\.sock\)\.$/);
        expect(found[1]).toBe("Runner service must not add capabilities: SYS_ADMIN.");
        const rootVolume = changed({
            container: {
                mounts: [
                    ...(service.props.taskSpec.containerSpec.mounts ?? []),
                    { type: "volume", target: "/host", volumeOptions: { driverOptions: { type: "none", o: "bind", device: "/" } } },
                ],
            },
        });
        expect(await violationsOf(noHostTakeover, rootVolume)).toEqual([
            "Runner service must not mount a local volume that binds the host's root folder (/).",
        ]);
        const http = changed({ container: { env: { ...service.props.taskSpec.containerSpec.env, API_HOST: "http://helix.example.com" } } });
        expect(await violationsOf(apiHostTls, http)).toEqual([
            "API_HOST must use https: http://helix.example.com would send the runner token unencrypted.",
        ]);
    });

    it("fails two runner services (or a service and a container) that would share runner IDs", async () => {
        const twin = { ...structuredClone(service), name: "other-stack-service" };
        twin.props.name = "another-service";
        twin.props.mode = { replicated: { replicas: 5 } };
        expect(await stackViolationsOf(uniqueRunners as StackValidationPolicy, [service, twin])).toEqual([
            'Runners must have unique RUNNER_IDs per control plane: "external-zed-prod-1" is used by zed-runner-swarm, other-stack-service.',
            'Runners must have unique RUNNER_IDs per control plane: "external-zed-prod-2" is used by zed-runner-swarm, other-stack-service.',
            'Runners must have unique RUNNER_IDs per control plane: "external-zed-prod-3" is used by zed-runner-swarm, other-stack-service.',
        ]);
    });
});
