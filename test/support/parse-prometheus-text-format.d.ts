// Types for parse-prometheus-text-format, which ships none: what its parser returns
// (prom2json's shape). Values stay strings, as in the text.
declare module "parse-prometheus-text-format" {
    interface Sample {
        readonly labels?: Readonly<Record<string, string>>;
        readonly value?: string;
        /** Histograms: cumulative count per upper bound (`le`). */
        readonly buckets?: Readonly<Record<string, string>>;
        readonly count?: string;
        readonly sum?: string;
    }
    interface MetricFamily {
        readonly name: string;
        readonly help: string;
        readonly type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
        readonly metrics: readonly Sample[];
    }
    function parsePrometheusTextFormat(text: string): MetricFamily[];
    export = parsePrometheusTextFormat;
}
