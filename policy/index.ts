// The zed-runner policy pack. Constructing a PolicyPack starts the analyzer server,
// so this file does nothing else and tests never import it.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("zed-runner", { policies });
