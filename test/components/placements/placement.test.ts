// The placement and workload parseConfig decides once, with every host's or the
// swarm service's plan: which case a config is, and what each case carries. Pure.
import { parseConfig } from "../../../components/stackPlan";
import { placedHosts } from "../../../components/placements/placement";
import { MINIMAL, SWARM } from "../../fixtures/configs";
import { runnerConfig } from "../../fixtures/placements";
import { LABELS } from "../../../components/labels";

const context = { stackName: "dev", machineHostName: "box" };
const HOSTS = JSON.stringify([
    { name: "a", dockerHost: "ssh://ops@a", replicas: 1 },
    { name: "b", dockerHost: "ssh://ops@b", replicas: 2 },
]);

describe("parseConfig's placement", () => {
    it("is this machine's engine without hosts or swarm, with its runners planned", () => {
        const { placement, workload } = runnerConfig(parseConfig({ ...MINIMAL, replicas: "2" }, context));
        expect(workload).toEqual({ kind: "runner" });
        expect(placement.kind).toBe("local");
        expect(placedHosts(placement).map((h) => [h.name, h.connection, h.runners.map((r) => r.runnerId)])).toEqual([
            ["box", undefined, ["external-zed-box-1", "external-zed-box-2"]],
        ]);
    });

    it("is every listed host with hosts, each with its own runners", () => {
        const { placement } = runnerConfig(parseConfig({ ...MINIMAL, hosts: HOSTS }, context));
        expect(placement.kind).toBe("hosts");
        expect(placedHosts(placement).map((h) => [h.name, h.connection?.host, h.runners.map((r) => r.runnerId)])).toEqual([
            ["a", "ssh://ops@a", ["external-zed-a-1"]],
            ["b", "ssh://ops@b", ["external-zed-b-1", "external-zed-b-2"]],
        ]);
    });

    it("is the swarm with swarm, with the service planned and no host of its own", () => {
        const { placement } = runnerConfig(parseConfig({ ...SWARM, replicas: "2" }, context));
        if (placement.kind !== "swarm") throw new Error(`expected swarm, got ${placement.kind}`);
        expect(placement.plan.runners.map((r) => r.runnerId)).toEqual(["external-zed-dev-1", "external-zed-dev-2"]);
        expect(placement.target.connection?.host).toBe("ssh://ops@swarm-manager-1");
        expect(placedHosts(placement)).toEqual([]);
    });

    it("labels the plan with the project it is given, and zed-runner by default", () => {
        const [own] = placedHosts(runnerConfig(parseConfig(MINIMAL, { ...context, project: "other-project" })).placement);
        const [byDefault] = placedHosts(runnerConfig(parseConfig(MINIMAL, context)).placement);
        expect(own.runners[0].labels[LABELS.project]).toBe("other-project");
        expect(byDefault.runners[0].labels[LABELS.project]).toBe("zed-runner");
    });
});
