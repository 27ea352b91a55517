// docs/metrics.md and docs/grafana-dashboard.json against the agent: every PromQL query in the
// dashboard parses (with the Prometheus project's own PromQL grammar) and names only series the
// agent exports, read from agent/metrics.ts's registry, not from a list kept here; the metric
// table lists exactly the agent's metrics; the scrape examples use the runners' real labels and
// health port.
import * as fs from "node:fs";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import YAML from "yaml";
import { METRIC_PREFIX, RunnerMetrics } from "../../agent/metrics";
import { CONTAINER_PORTS } from "../../contract";
import { ROOT, readDoc } from "./markdown";
import { LABELS, SANDBOX_LABELS, SANDBOX_WORKLOAD } from "../../components/labels";

/** Every series name the agent exports, as PromQL names them: a histogram's as _bucket, _sum and _count. */
async function exportedSeries(): Promise<{ families: string[]; series: Set<string> }> {
    const metrics = new RunnerMetrics({ processMetrics: true });
    const families = await metrics.registry.getMetricsAsJSON();
    const series = new Set(
        families.flatMap((f) => (String(f.type) === "histogram" ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name])),
    );
    return { families: families.map((f) => f.name).filter((n) => n.startsWith(METRIC_PREFIX)), series };
}

/** Every `expr` in the dashboard, however deep (panels in rows included), and the variables' queries. */
function dashboardQueries(): { exprs: string[]; variables: string[] } {
    const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, "docs/grafana-dashboard.json"), "utf8"));
    const exprs: string[] = [];
    const walk = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(walk);
        else if (node && typeof node === "object")
            for (const [key, value] of Object.entries(node)) {
                if (key === "expr" && typeof value === "string") exprs.push(value);
                else walk(value);
            }
    };
    walk(dashboard.panels);
    const variables = (dashboard.templating.list as { type: string; query: { query: string } }[])
        .filter((v) => v.type === "query")
        .map((v) => v.query.query);
    return { exprs, variables };
}

/** The metric names a PromQL expression selects, or why it does not parse. */
function selectedMetrics(expr: string): { names: string[]; error?: string } {
    // Grafana's interval variables stand where PromQL takes a duration; $runner only inside label values.
    const promql = expr.replace(/\$__(rate_interval|interval|range)\b/g, "5m");
    const tree = parser.parse(promql);
    const names: string[] = [];
    let error: string | undefined;
    const cursor = tree.cursor();
    do {
        if (cursor.type.isError)
            error ??= `does not parse at ${cursor.from}: ${JSON.stringify(promql.slice(cursor.from, cursor.from + 30))}`;
        if (cursor.name === "Identifier" && cursor.node.parent?.name === "VectorSelector") names.push(promql.slice(cursor.from, cursor.to));
    } while (cursor.next());
    return { names, error };
}

describe("docs/grafana-dashboard.json", () => {
    const { exprs, variables } = dashboardQueries();

    it("has a query for each part of the issue: link, sessions, refusals, latency, restarts, tunnels, draining", () => {
        const named = exprs.flatMap((e) => selectedMetrics(e).names);
        for (const metric of [
            "zed_runner_control_plane_up",
            "zed_runner_control_plane_reconnects_total",
            "zed_runner_control_plane_last_message_age_seconds",
            "zed_runner_sessions_live",
            "zed_runner_sessions_started_total",
            "zed_runner_sessions_ended_total",
            "zed_runner_launches_refused_total",
            "zed_runner_launch_reply_seconds_bucket",
            "zed_runner_desktop_component_restarts_total",
            "zed_runner_tunnels_open",
            "zed_runner_tunnel_bytes_total",
            "zed_runner_draining",
        ])
            expect(named).toContain(metric);
    });

    it("parses every query as PromQL, naming only series the agent exports", async () => {
        const { series } = await exportedSeries();
        expect(exprs.length).toBeGreaterThanOrEqual(15);
        const problems = exprs.flatMap((expr) => {
            const { names, error } = selectedMetrics(expr);
            if (error) return [`${expr}: ${error}`];
            if (names.length === 0) return [`${expr}: selects no metric`];
            return names.filter((n) => !series.has(n)).map((n) => `${expr}: ${n} is not exported by agent/metrics.ts`);
        });
        expect(problems).toEqual([]);
    });

    it("lists runners from a metric the agent exports", async () => {
        const { series } = await exportedSeries();
        expect(variables).toEqual(["label_values(zed_runner_info, runner_id)"]);
        for (const v of variables) expect(series.has(/^label_values\((\w+),/.exec(v)![1])).toBe(true);
    });
});

describe("docs/metrics.md", () => {
    const text = readDoc("docs/metrics.md");

    it("lists exactly the metrics the agent exports, in its table", async () => {
        const { families } = await exportedSeries();
        const listed = [...text.matchAll(/^\| `(zed_runner_\w+)` \|/gm)].map((m) => m[1]);
        expect([...listed].sort()).toEqual([...families].sort());
    });

    it("names only metrics the agent exports, anywhere in its text", async () => {
        const { families, series } = await exportedSeries();
        const named = new Set([...text.matchAll(/\bzed_runner_\w+/g)].map((m) => m[0]));
        expect([...named].filter((n) => !series.has(n) && !families.includes(n))).toEqual([]);
    });

    it("scrapes by the runners' real labels and health port", () => {
        const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => YAML.parse(m[1]));
        const jobs = blocks.flatMap((b) => b.scrape_configs as Record<string, unknown>[]);
        expect(jobs.map((j) => Object.keys(j).find((k) => k.endsWith("_sd_configs")))).toEqual(["file_sd_configs", "docker_sd_configs"]);
        const docker = jobs[1] as {
            docker_sd_configs: { filters: { name: string; values: string[] }[] }[];
            relabel_configs: { source_labels?: string[]; regex?: string; action?: string }[];
        };
        const [label] = docker.docker_sd_configs[0].filters[0].values;
        expect(label.split("=")[0]).toBe(LABELS.stack);
        // Prometheus turns a Docker label into a meta label with every character outside [a-zA-Z0-9_] as _.
        const meta = (name: string) => `__meta_docker_container_label_${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
        const known = new Set([...Object.values(LABELS), ...Object.values(SANDBOX_LABELS)].map(meta));
        const used = docker.relabel_configs
            .flatMap((r) => r.source_labels ?? [])
            .filter((l) => l.startsWith("__meta_docker_container_label_"));
        expect(used.length).toBeGreaterThanOrEqual(3);
        expect(used.filter((l) => !known.has(l))).toEqual([]);
        const port = docker.relabel_configs.find((r) => r.source_labels?.[0] === "__meta_docker_port_private");
        expect(port).toMatchObject({ regex: String(CONTAINER_PORTS.health), action: "keep" });
        const sandbox = docker.relabel_configs.find((r) => r.source_labels?.[0] === meta(SANDBOX_LABELS.workload));
        expect(sandbox).toMatchObject({ regex: SANDBOX_WORKLOAD, action: "drop" });
    });

    it("is linked from the README and the operations guide", () => {
        expect(readDoc("README.md")).toContain("(docs/metrics.md)");
        expect(readDoc("docs/operations.md")).toContain("(metrics.md)");
    });
});
