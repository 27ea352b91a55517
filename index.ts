// zed-runner: Helix external Zed agent runners on this machine's Docker engine.
// Reads the stack config, declares one ZedRunner, exports what operators need.
import * as pulumi from "@pulumi/pulumi";
import { asRunError, loadStackConfig } from "./components/stackConfig";
import { ZedRunner } from "./components/zedRunner";

const { settings, apiToken } = loadStackConfig();

function declareRunners(): ZedRunner {
    try {
        return new ZedRunner("zed-runner", { settings, apiToken: pulumi.secret(apiToken) });
    } catch (err) {
        throw asRunError(err);
    }
}
const runner = declareRunners();

/** Runner IDs as the control plane sees them. */
export const runnerIds = runner.runnerIds;
/** Docker container names, for `docker logs` and friends. */
export const containerNames = runner.containerNames;
/** Per runner: RDP and VNC `host:port` and the health URL. */
export const endpoints = runner.endpoints;
/** The image every runner runs. */
export const image = runner.image;
/** Per runner: the initial RDP password and the VNC password (secret: `pulumi stack output credentials --show-secrets`). */
export const credentials = runner.credentials;
