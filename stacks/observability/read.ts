/** Reads and checks `istio-multicluster:observability`. */
import { dnsLabelWhat, exactSemver, Obj, prune, Reader, readResources } from "../reader";
import {
    checkApiServer,
    durationBounds,
    excerpt,
    isDnsLabel,
    isDnsSubdomain,
    isObject,
    nameLimits,
    parseQuantity,
    prometheusDurationMs,
    sharedNamespaceProblem,
} from "../checks";

import {
    ChartPin,
    MetricsSettings,
    ObservabilityChart,
    ObservabilitySettings,
    TracingBackend,
    TracingProtocol,
    chartDefaults,
    clusterPrometheusName,
    defaultObservabilityNamespace,
    externalCollectorDefaults,
    observabilityKey,
    observabilityNames,
    observabilityPorts,
} from "./settings";

export const topKeys = ["hub", "namespace", "tracing", "accessLogs", "metrics", "dashboards", "charts"];
export const tracingKeys = ["backend", "samplingPercent", "protocol", "service", "port", "resources"];
export const metricsKeys = [
    "enabled",
    "scrapeInterval",
    "retention",
    "hubRetention",
    "hubStorage",
    "resources",
    "hubResources",
];
export const dashboardKeys = ["enabled", "resources"];
export const chartKeys = Object.keys(chartDefaults);

/** A Prometheus duration (`15s`, `1h30m`, `15d`), above zero. */
export const durationPattern = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
export function isDuration(s: string): boolean {
    return s !== "" && durationPattern.test(s) && /[1-9]/.test(s);
}

/** Context the cross-checks need: the mesh's clusters, and the namespaces other sections create. */
export interface ObservabilityContext {
    readonly clusters: readonly string[];
    /** Namespaces created by `namespaces` and `smokeTest`, with the config key that creates each. */
    readonly takenNamespaces: ReadonlyMap<string, string>;
}

/** Validates `istio-multicluster:observability`; absent means none. Every problem, by config path. */
export function validateObservability(
    raw: unknown,
    ctx: ObservabilityContext,
): { settings?: ObservabilitySettings; errors: string[] } {
    const r = new Reader();
    const path = observabilityKey;
    if (raw === undefined || raw === null) return { errors: [] };
    if (!isObject(raw)) {
        r.fail(path, `must be a map such as \`{ hub: cluster1 }\`, got ${excerpt(raw)}`);
        return { errors: r.errors };
    }
    r.knownKeys(raw, path, topKeys);
    const known = ctx.clusters.join(", ") || "none";
    const hub = r.string(
        raw,
        "hub",
        path,
        true,
        `name the cluster that runs the hub (clusters are: ${known})`,
    );
    if (hub !== undefined && !ctx.clusters.includes(hub)) {
        r.fail(`${path}.hub`, `${excerpt(hub)} is not a cluster of the mesh; clusters are: ${known}`);
    }
    const namespace =
        r.matching(raw, "namespace", path, false, isDnsLabel, dnsLabelWhat) ?? defaultObservabilityNamespace;
    const takenBy = ctx.takenNamespaces.get(namespace);
    if (sharedNamespaceProblem(namespace) !== undefined) {
        r.fail(`${path}.namespace`, `${excerpt(namespace)} ${sharedNamespaceProblem(namespace)!}`);
    } else if (takenBy !== undefined) {
        r.fail(
            `${path}.namespace`,
            `${excerpt(namespace)} is also created by ${takenBy}; observability needs a namespace of its own ` +
                "(its mTLS and access policies would apply to those workloads too): give it another name",
        );
    }

    const tracing = readTracing(r, raw, path, namespace);
    const accessLogs = r.boolean(raw, "accessLogs", path, false);
    const metrics = readMetrics(r, raw, path, ctx.clusters);
    const d = r.object(raw, "dashboards", path) ?? {};
    r.knownKeys(d, `${path}.dashboards`, dashboardKeys);
    const dashboardsOn = r.boolean(d, "enabled", `${path}.dashboards`, metrics !== null);
    const dashboardResources = readResources(r, d, `${path}.dashboards`);
    if (dashboardsOn && metrics === null) {
        r.fail(
            `${path}.dashboards.enabled`,
            "Grafana shows the hub's metrics, and `metrics.enabled` is false; turn metrics on or dashboards off",
        );
    }
    const charts = readCharts(r, raw, path);
    if (r.errors.length > 0 || hub === undefined || !tracing || metrics === undefined || !charts) {
        return { errors: r.errors };
    }
    return {
        settings: {
            hub,
            namespace,
            tracing,
            accessLogs,
            ...(metrics ? { metrics } : {}),
            ...(dashboardsOn ? { dashboards: prune({ resources: dashboardResources }) } : {}),
            charts,
        },
        errors: [],
    };
}

export function readTracing(
    r: Reader,
    raw: Obj,
    path: string,
    namespace: string,
): ObservabilitySettings["tracing"] | undefined {
    const p = `${path}.tracing`;
    const t = r.object(raw, "tracing", path) ?? {};
    r.knownKeys(t, p, tracingKeys);
    const sampling = t.samplingPercent ?? 1;
    let ok = true;
    if (typeof sampling !== "number" || !Number.isFinite(sampling) || sampling < 0 || sampling > 100) {
        r.fail(`${p}.samplingPercent`, `must be a number from 0 to 100, got ${excerpt(sampling)}`);
        ok = false;
    }
    const backend = r.oneOf<TracingBackend>(t, "backend", p, ["jaeger", "external"], "jaeger");
    const resources = readResources(r, t, p);
    if (backend === "jaeger") {
        for (const k of ["protocol", "service", "port"]) {
            if (t[k] !== undefined && t[k] !== null) {
                r.fail(
                    `${p}.${k}`,
                    "names an external collector, but `backend` is jaeger, whose Service the program names itself: " +
                        "remove it, or set `backend: external` to send spans to a collector of your own",
                );
                ok = false;
            }
        }
        if (!ok) return undefined;
        return prune({
            samplingPercent: sampling as number,
            backend,
            protocol: "opentelemetry" as const,
            service: `${observabilityNames.jaeger}.${namespace}.svc.cluster.local`,
            port: observabilityPorts.otlpGrpc,
            resources,
        });
    }
    if (backend === undefined) return undefined;
    if (resources !== undefined) {
        r.fail(`${p}.resources`, "sizes the Jaeger this program runs; with `backend: external` it runs none");
        ok = false;
    }
    const protocol = r.oneOf<TracingProtocol>(t, "protocol", p, ["opentelemetry", "zipkin"], "opentelemetry");
    const d = externalCollectorDefaults[protocol ?? "opentelemetry"];
    const service = t.service ?? d.service;
    if (typeof service !== "string" || !isDnsSubdomain(service) || !service.includes(".svc.")) {
        r.fail(
            `${p}.service`,
            `${excerpt(service)} is not a Service name such as ${d.service}; name the collector Service by its ` +
                "cluster-local DNS name",
        );
        ok = false;
    }
    const port = r.integer(t, "port", p, 1, d.port, 65535);
    if (!ok || protocol === undefined || port === undefined) return undefined;
    return {
        samplingPercent: sampling as number,
        backend,
        protocol,
        service: service as string,
        port,
    };
}

/** `null` when metrics are off; undefined when refused. */
export function readMetrics(
    r: Reader,
    raw: Obj,
    path: string,
    clusters: readonly string[],
): MetricsSettings | null | undefined {
    const p = `${path}.metrics`;
    const m = r.object(raw, "metrics", path) ?? {};
    r.knownKeys(m, p, metricsKeys);
    const enabled = r.boolean(m, "enabled", p, true);
    const duration = (
        key: string,
        fallback: string,
        bounds: { minMs: number; maxMs: number; text: string },
    ) => {
        const v = r.matching(m, key, p, false, isDuration, "a Prometheus duration such as 15s, 6h or 15d");
        const ms = v === undefined ? undefined : prometheusDurationMs(v);
        if (ms !== undefined && (ms < bounds.minMs || ms > bounds.maxMs)) {
            r.fail(`${p}.${key}`, `${excerpt(v)} is out of range; use a duration ${bounds.text}`);
        }
        return v ?? fallback;
    };
    const scrapeInterval = duration("scrapeInterval", "15s", durationBounds.scrape);
    const retention = duration("retention", "24h", durationBounds.retention);
    const hubRetention = duration("hubRetention", "15d", durationBounds.retention);
    // A sample kept for less than one scrape interval is gone before the next arrives.
    for (const [key, kept] of [
        ["retention", retention],
        ["hubRetention", hubRetention],
    ] as const) {
        const [every, keep] = [prometheusDurationMs(scrapeInterval), prometheusDurationMs(kept)];
        if (every !== undefined && keep !== undefined && every >= keep)
            r.fail(
                `${p}.scrapeInterval`,
                `${excerpt(scrapeInterval)} is not shorter than ${key} ${excerpt(kept)}; scrape more often than samples are kept`,
            );
    }
    const hubStorage = r.string(m, "hubStorage", p, false, "");
    if (hubStorage !== undefined && !(parseQuantity(hubStorage)! > 0)) {
        r.fail(`${p}.hubStorage`, `${excerpt(hubStorage)} is not a storage size such as 50Gi`);
    }
    const resources = readResources(r, m, p);
    const hubResources = readResources(r, m, p, "hubResources");
    if (!enabled) return null;
    // Each cluster's Prometheus is a Service named after the cluster: a DNS label of at most 63 characters.
    for (const c of clusters) {
        const name = clusterPrometheusName(c);
        if (name.length > nameLimits.dnsLabel) {
            r.fail(
                p,
                `cluster ${excerpt(c)} names its Prometheus Service ${name.length} characters long, over ` +
                    `Kubernetes' limit of ${nameLimits.dnsLabel}; shorten the cluster name to at most ` +
                    `${nameLimits.dnsLabel - (name.length - c.length)} characters, or set \`metrics.enabled: false\``,
            );
        }
    }
    return prune({ scrapeInterval, retention, hubRetention, hubStorage, resources, hubResources });
}

export function readCharts(
    r: Reader,
    raw: Obj,
    path: string,
): Record<ObservabilityChart, ChartPin> | undefined {
    const p = `${path}.charts`;
    const c = r.object(raw, "charts", path) ?? {};
    r.knownKeys(c, p, chartKeys);
    const out = { ...chartDefaults };
    let ok = true;
    for (const name of Object.keys(chartDefaults) as ObservabilityChart[]) {
        const pin = r.object(c, name, p);
        if (!pin) continue;
        const cp = `${p}.${name}`;
        r.knownKeys(pin, cp, ["version", "repository"]);
        const version = r.string(pin, "version", cp, false, "");
        if (version !== undefined && !exactSemver.test(version)) {
            ok = false;
            r.fail(
                `${cp}.version`,
                `${excerpt(version)} is not an exact version; a range or tag would install whatever is newest when ` +
                    `\`pulumi up\` runs, so pin one such as ${chartDefaults[name].version}`,
            );
        }
        const repository = r.string(pin, "repository", cp, false, "");
        if (repository !== undefined && !isChartRepository(repository)) {
            ok = false;
            r.fail(
                `${cp}.repository`,
                `${excerpt(repository)} is not a chart repository: use an https URL such as ` +
                    `${chartDefaults[name].repository} (no credentials in it) or an oci:// registry path`,
            );
        }
        out[name] = {
            chart: name,
            version: version ?? out[name].version,
            repository: repository ?? out[name].repository,
        };
    }
    return ok ? out : undefined;
}

/** An https chart repository without credentials, query or fragment, or an `oci://host/path` registry. */
export function isChartRepository(s: string): boolean {
    if (s.startsWith("oci://")) return /^oci:\/\/[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/.test(s);
    return checkApiServer(s).ok;
}
