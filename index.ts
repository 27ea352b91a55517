// zed-runner: Helix external Zed agent runners on this machine's Docker engine, or on
// every host listed in `hosts`. Reads the stack config, declares the runners, exports
// what operators need.
import * as pulumi from "@pulumi/pulumi";
import { declareFleet } from "./components/fleet";
import { asRunError, loadStackConfig } from "./components/stackConfig";

const { hosts: targets, apiToken, plans } = loadStackConfig();

function declare() {
    try {
        return declareFleet(targets, pulumi.secret(apiToken), { project: pulumi.getProject(), stackName: pulumi.getStack() }, plans);
    } catch (err) {
        throw asRunError(err);
    }
}
const fleet = declare();
const single = targets.length === 1 && !targets[0].connection ? fleet.runners[0] : undefined;

/** Runner IDs as the control plane sees them, every host's. */
export const runnerIds = fleet.runners.flatMap((r) => r.runnerIds);
/** Docker container names, for `docker logs` and friends. */
export const containerNames = fleet.runners.flatMap((r) => r.containerNames);
/** Per runner: RDP and VNC `host:port` and the health URL. */
export const endpoints = fleet.runners.flatMap((r) => r.endpoints);
/** The image the runners run (this machine alone; with `hosts`, see `hosts.<name>.image`). */
export const image = single?.image;
/** Per host: its Docker engine, runner IDs, container names, endpoints and image. */
export const hosts = fleet.hosts;
/** Per runner: the initial RDP password and the VNC password (secret: `pulumi stack output credentials --show-secrets`). */
export const credentials = fleet.credentials;
