// zed-runner: Helix external Zed agent runners on this machine's Docker engine, on
// every host listed in `hosts`, or as one service on the Docker Swarm in `swarm`.
// Reads the stack config, declares the runners, exports what operators need.
import * as pulumi from "@pulumi/pulumi";
import { declareFleet, declareSwarm } from "./components/fleet";
import { asRunError, loadStackConfig } from "./components/stackConfig";

const config = loadStackConfig();
const context = { project: pulumi.getProject(), stackName: pulumi.getStack() };

function declare() {
    try {
        if (config.swarm) {
            const registryPassword = config.registryPassword === undefined ? undefined : pulumi.secret(config.registryPassword);
            return { swarm: declareSwarm(config.swarm, pulumi.secret(config.apiToken), registryPassword, context), fleet: undefined };
        }
        return { swarm: undefined, fleet: declareFleet(config.hosts, pulumi.secret(config.apiToken), context, config.plans) };
    } catch (err) {
        throw asRunError(err);
    }
}
const { fleet, swarm } = declare();
const single = config.hosts.length === 1 && !config.hosts[0].connection ? fleet?.runners[0] : undefined;

/** Runner IDs as the control plane sees them, every host's (or every swarm slot's). */
export const runnerIds = swarm ? swarm.runnerIds : fleet!.runners.flatMap((r) => r.runnerIds);
/** Docker container names, for `docker logs` and friends (a swarm names its task containers itself: see `swarm`). */
export const containerNames = fleet ? fleet.runners.flatMap((r) => r.containerNames) : [];
/** Per runner: RDP and VNC `host:port` and the health URL (hosts only: a swarm's tasks move between nodes). */
export const endpoints = fleet ? fleet.runners.flatMap((r) => r.endpoints) : [];
/** The image the runners run (this machine alone, or the swarm; with `hosts`, see `hosts.<name>.image`). */
export const image = swarm ? swarm.image : single?.image;
/** Per host: its Docker engine, runner IDs, container names, endpoints and image. */
export const hosts = fleet?.hosts;
/** The swarm service: its manager, name, replicas and runner IDs (`npm run status` shows where each task runs). */
export const service = swarm
    ? {
          manager: config.swarm!.target.connection?.host ?? "local",
          name: swarm.serviceName,
          replicas: swarm.plan.replicas,
          runnerIds: swarm.runnerIds,
      }
    : undefined;
/** Per runner: the initial RDP password and the VNC password (secret: `pulumi stack output credentials --show-secrets`). */
export const credentials = swarm ? swarm.credentials : fleet!.credentials;
