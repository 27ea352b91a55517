// zed-runner: Helix external Zed agent runners on this machine's Docker engine, on
// every host listed in `hosts`, or as one service on the Docker Swarm in `swarm`; or,
// with `workload` `sandbox`, Helix's own sandboxes on this machine or the listed hosts.
// Reads the stack config, declares the workload where it places it, exports what operators need
// (the same outputs for both workloads; what each means for sandboxes is said beside it).
import * as pulumi from "@pulumi/pulumi";
import { declareDeployment } from "./components/deployment";
import { loadStackConfig } from "./components/stackConfig";

const declared = declareDeployment(loadStackConfig(), { project: pulumi.getProject(), stackName: pulumi.getStack() });

/** Runner IDs as the control plane sees them, every host's (or every swarm slot's); for sandboxes, their SANDBOX_INSTANCE_IDs (RevDial registers `hydra-<ID>`). */
export const runnerIds = declared.runnerIds;
/** Docker container names, for `docker logs` and friends (a swarm names its task containers itself: see `service`). */
export const containerNames = declared.containerNames;
/** Per runner: RDP and VNC `host:port` and the health URL (hosts only: a swarm's tasks move between nodes); none for sandboxes, which publish nothing. */
export const endpoints = declared.endpoints;
/** The image the runners run (this machine alone, or the swarm; with `hosts`, see `hosts.<name>.image`); for sandboxes, the pinned image reference. */
export const image = declared.image;
/** Per host: its Docker engine, runner IDs, container names, endpoints and image. */
export const hosts = declared.hosts;
/** The swarm service: its manager, name, replicas and runner IDs (`npm run status` shows where each task runs). */
export const service = declared.service;
/** Per runner: the initial RDP password and the VNC password (secret: `pulumi stack output credentials --show-secrets`); empty for sandboxes. */
export const credentials = declared.credentials;
