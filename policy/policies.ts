// Every zed-runner policy, in the order the README lists them: the runners', then the sandboxes'.
import { Policies } from "@pulumi/policy";
import { uniqueRunners } from "./fleet";
import { runnerHardened, runnerPidsLimit } from "./hardening";
import { healthcheckRequired, imagePinned, logRotation, resourceLimits, restartPolicy } from "./lifecycle";
import { apiHostTls, noHostTakeover, remoteDesktopNotPublic } from "./network";
import {
    sandboxAsHelixRunsIt,
    sandboxIdsUnique,
    sandboxImagePinned,
    sandboxNoDockerSocket,
    sandboxNoPublishedPorts,
    sandboxOwnVolumes,
    sandboxPrivilegedOnly,
    sandboxTokenSecret,
} from "./sandbox";
import { runnerTokenNotDefault, runnerTokenSecret } from "./secrets";

export const policies: Policies = [
    runnerTokenNotDefault,
    runnerTokenSecret,
    remoteDesktopNotPublic,
    restartPolicy,
    healthcheckRequired,
    noHostTakeover,
    resourceLimits,
    logRotation,
    imagePinned,
    apiHostTls,
    uniqueRunners,
    runnerHardened,
    runnerPidsLimit,
    sandboxPrivilegedOnly,
    sandboxTokenSecret,
    sandboxNoDockerSocket,
    sandboxImagePinned,
    sandboxOwnVolumes,
    sandboxIdsUnique,
    sandboxNoPublishedPorts,
    sandboxAsHelixRunsIt,
];
