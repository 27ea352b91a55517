// The zed-runner policy pack. Constructing a PolicyPack starts the analyzer server,
// so this file does nothing else and tests never import it. Pulumi runs the compiled
// copy (package.json's main, bin/policy/index.js; `npm run build`, which `npm pack` runs).
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("zed-runner", { policies });
