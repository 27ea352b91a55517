// Reading a runner's /metrics as Prometheus would: the text parsed with a Prometheus
// text-format parser (parse-prometheus-text-format), then one sample looked up by name and
// labels. A value that is not there fails the lookup; nothing is defaulted to 0.
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface Scrape {
    /** Family name -> its type and samples, as parsed. */
    readonly families: ReadonlyMap<string, ReturnType<typeof parsePrometheusTextFormat>[number]>;
    /** The value of the sample of `name` with exactly `labels`; throws when there is none. */
    value(name: string, labels?: Readonly<Record<string, string>>): number;
    /** A histogram's observation count (its `_count`); throws when `name` is no histogram. */
    histogramCount(name: string): number;
}

/**
 * Parses exposition text. The parser merges a histogram's label sets into one
 * (yunyu/parse-prometheus-text-format#13), so a histogram with labels besides `le` (such as
 * prom-client's nodejs_gc_duration_seconds, once a collection has happened) is refused when
 * looked up rather than read wrong; every other family parses as usual.
 */
export function parseScrape(text: string): Scrape {
    const labelled = new Set([...text.matchAll(/^(\w+)_bucket\{(?:[^}]*,)?(?!le=)\w+="/gm)].map((m) => m[1]));
    const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const family = (name: string) => {
        if (labelled.has(name)) throw new Error(`histogram ${name} has labels besides le: the parser would merge its series`);
        const found = families.get(name);
        if (!found) throw new Error(`no metric ${name} in the scrape (it has ${[...families.keys()].join(", ")})`);
        return found;
    };
    return {
        families,
        value(name, labels = {}) {
            const want = JSON.stringify(Object.entries(labels).sort());
            const sample = family(name).metrics.find((m) => JSON.stringify(Object.entries(m.labels ?? {}).sort()) === want);
            if (sample?.value === undefined) throw new Error(`no sample of ${name} with labels ${want}`);
            return Number(sample.value);
        },
        histogramCount(name) {
            const f = family(name);
            if (f.type !== "HISTOGRAM" || f.metrics.length !== 1 || f.metrics[0].count === undefined)
                throw new Error(`${name} is no unlabelled histogram`);
            return Number(f.metrics[0].count);
        },
    };
}
