/**
 * Observability across clusters, derived from `istio-multicluster:observability`: a Prometheus in every
 * cluster, a hub that federates them through the mesh, a tracing backend and Grafana in the hub, and the Istio
 * objects that keep all of it reachable only through the mesh.
 *
 * How metrics flow (Istio's recommended hierarchical federation, with the mesh as the transport):
 * - every cluster runs a "cluster Prometheus" whose Service is named after the cluster (`prometheus-<cluster>`),
 *   so the name exists in that cluster only and the mesh routes it only there. It scrapes istiod and the
 *   proxies with the chart's own jobs (as Istio's sample Prometheus does) and labels every series with
 *   `cluster`. Its sidecar serves `/federate` over mTLS; its own scrapes bypass the sidecar
 *   (`includeOutboundIPRanges: ""`), since Prometheus reaches pods directly, as Istio's docs advise;
 * - the hub runs a second Prometheus (`prometheus`) whose only jobs federate each cluster's Prometheus by its
 *   unique name, through its sidecar: mTLS, and across networks the east-west gateways on 15443. Kubernetes
 *   DNS must resolve those names in the hub, so the hub holds a selector-less Service per other cluster;
 * - in every primary (so for every cluster it serves): mTLS STRICT in the namespace, and ALLOW policies that let
 *   only the hub's Prometheus call `/federate`, only Grafana query the hub and Jaeger's UI, and any mesh
 *   identity send spans to Jaeger. Nothing gets a LoadBalancer, NodePort or Ingress: the UIs are reached with
 *   `kubectl port-forward`, which enters the pod on loopback and so never meets the sidecar.
 *
 * Pure: the reader (one call from stacks/validate.ts) and the planner are functions of the settings.
 */
import { dnsLabelWhat, exactSemver, Obj, prune, Reader, readResources } from "./reader";
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
} from "./checks";
import { IstioObject } from "./istioObjects";
import { injectionLabel, managedByLabel } from "./names";
import { principal } from "./security";
import { ClusterSpec, projectName, ResourceSettings } from "./core";
import type { CoreTopology } from "./core";

/** The config key this module reads. */
export const observabilityKey = `${projectName}:observability`;

/** The tracing protocol of the collector the proxies send spans to. */
export type TracingProtocol = "opentelemetry" | "zipkin";

/** Where spans go: Jaeger run by this program in the hub, or a collector the platform runs itself. */
export type TracingBackend = "jaeger" | "external";

/** A Helm chart pinned to one exact version, from an https chart repository or an OCI registry. */
export interface ChartPin {
    readonly chart: string;
    readonly version: string;
    readonly repository: string;
}

/** The third-party charts this module installs. */
export type ObservabilityChart = "prometheus" | "jaeger" | "grafana";

/** Metrics: a Prometheus per cluster and the hub's federating Prometheus. */
export interface MetricsSettings {
    /** Prometheus duration; every Prometheus scrapes at it (default 15s, as Istio's sample). */
    readonly scrapeInterval: string;
    /** How long each cluster's Prometheus keeps series (default 24h: the hub keeps the history). */
    readonly retention: string;
    /** How long the hub keeps series (default 15d). */
    readonly hubRetention: string;
    /** The hub's PersistentVolume size; absent: no volume (series are lost when the pod moves). */
    readonly hubStorage?: string;
    readonly resources?: ResourceSettings;
    readonly hubResources?: ResourceSettings;
}

/** The validated `istio-multicluster:observability`. */
export interface ObservabilitySettings {
    /** The cluster that runs the federating Prometheus, Jaeger and Grafana. */
    readonly hub: string;
    /** The namespace of every observability workload, in every cluster (default `observability`). */
    readonly namespace: string;
    readonly tracing: {
        /** Percent of requests traced when no caller decided (0-100); default 1. */
        readonly samplingPercent: number;
        readonly backend: TracingBackend;
        readonly protocol: TracingProtocol;
        /** The collector Service's cluster-local name: Jaeger's in the hub, or the platform's own. */
        readonly service: string;
        readonly port: number;
        /** Jaeger's container resources (backend jaeger). */
        readonly resources?: ResourceSettings;
    };
    /** JSON access logs of every proxy on stdout; default off. */
    readonly accessLogs: boolean;
    /** Absent when `metrics.enabled: false`. */
    readonly metrics?: MetricsSettings;
    /** Grafana in the hub (default on with metrics). */
    readonly dashboards?: { readonly resources?: ResourceSettings };
    readonly charts: Readonly<Record<ObservabilityChart, ChartPin>>;
}

/** The default namespace of the observability workloads. */
export const defaultObservabilityNamespace = "observability";

/**
 * The charts' pinned defaults: the versions this program's rendered-chart tier renders (tools/observability-
 * charts.sh fetches exactly these). Grafana's chart moved to grafana-community in 2026.
 */
export const chartDefaults: Readonly<Record<ObservabilityChart, ChartPin>> = {
    prometheus: {
        chart: "prometheus",
        version: "29.27.0",
        repository: "https://prometheus-community.github.io/helm-charts",
    },
    jaeger: { chart: "jaeger", version: "4.11.1", repository: "https://jaegertracing.github.io/helm-charts" },
    grafana: {
        chart: "grafana",
        version: "12.11.1",
        repository: "https://grafana-community.github.io/helm-charts",
    },
};

/** Release and object names, the same in every cluster. */
export const observabilityNames = {
    /** Each cluster's Prometheus release; its Service and service account are `prometheus-<cluster>`. */
    clusterRelease: "prometheus-cluster",
    /** The hub's federating Prometheus: release, and `prometheus` for Service and service account. */
    hubRelease: "prometheus-hub",
    hubService: "prometheus",
    jaeger: "jaeger",
    grafana: "grafana",
    /** The Secret Grafana reads its admin user and password from. */
    grafanaAdminSecret: "grafana-admin",
    grafanaAdminUser: "admin",
} as const;

/** The Service (and server name) of one cluster's Prometheus: unique to the cluster, so routed only there. */
export function clusterPrometheusName(cluster: string): string {
    return `prometheus-${cluster}`;
}

/** Ports: Prometheus (the hub's and each cluster's), Jaeger's OTLP gRPC receiver and UI, Grafana's Service. */
export const observabilityPorts = { prometheus: 9090, otlpGrpc: 4317, jaegerUi: 16686, grafana: 80 } as const;

/** What every cluster's Prometheus federates up: the pod job that scrapes istiod and the proxies. */
export const federationMatch = ['{job="kubernetes-pods"}'];

/**
 * The chart's default scrape jobs (`scrapeConfigs.<job>` since chart 29): the hub turns every one off so that
 * it only federates; each cluster keeps them but the pushgateway's (no pushgateway is installed).
 */
export const chartScrapeJobs = [
    "kubernetes-api-servers",
    "kubernetes-nodes",
    "kubernetes-nodes-cadvisor",
    "kubernetes-pods",
    "kubernetes-pods-slow",
    "kubernetes-service-endpoints",
    "kubernetes-service-endpoints-slow",
    "kubernetes-services",
    "prometheus",
    "prometheus-pushgateway",
] as const;

/** Istio's dashboards (manifests/addons/dashboards), fetched at the mesh's own Istio version. */
export const istioDashboards: Readonly<Record<string, string>> = {
    "istio-mesh": "istio-mesh-dashboard.gen.json",
    "istio-service": "istio-service-dashboard.json",
    "istio-workload": "istio-workload-dashboard.json",
    "istio-performance": "istio-performance-dashboard.json",
    "istio-control-plane": "pilot-dashboard.gen.json",
    "istio-extension": "istio-extension-dashboard.json",
};

/** Defaults per protocol for an external collector: OTLP gRPC on 4317; Zipkin on 9411. */
export const externalCollectorDefaults: Record<TracingProtocol, { service: string; port: number }> = {
    opentelemetry: { service: "opentelemetry-collector.observability.svc.cluster.local", port: 4317 },
    zipkin: { service: "zipkin.observability.svc.cluster.local", port: 9411 },
};

const topKeys = ["hub", "namespace", "tracing", "accessLogs", "metrics", "dashboards", "charts"];
const tracingKeys = ["backend", "samplingPercent", "protocol", "service", "port", "resources"];
const metricsKeys = [
    "enabled",
    "scrapeInterval",
    "retention",
    "hubRetention",
    "hubStorage",
    "resources",
    "hubResources",
];
const dashboardKeys = ["enabled", "resources"];
const chartKeys = Object.keys(chartDefaults);

/** A Prometheus duration (`15s`, `1h30m`, `15d`), above zero. */
const durationPattern = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;
function isDuration(s: string): boolean {
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

function readTracing(
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
function readMetrics(
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

function readCharts(r: Reader, raw: Obj, path: string): Record<ObservabilityChart, ChartPin> | undefined {
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

/** A Helm release of one of the charts, as the components create it. */
export interface ChartRelease {
    /** The release name (so the pods' `app.kubernetes.io/instance` label). */
    readonly releaseName: string;
    readonly chart: ChartPin;
    readonly values: Record<string, unknown>;
}

/** A plain Kubernetes object this module emits (a selector-less Service). */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly labels?: Record<string, string>;
    };
    readonly spec: Record<string, unknown>;
}

/** What the hub cluster runs beside its own cluster Prometheus. */
export interface HubPlan {
    /** The federating Prometheus; absent with metrics off. */
    readonly prometheus?: ChartRelease;
    /** One selector-less Service per other cluster, so the hub's DNS resolves its Prometheus' name. */
    readonly stubs: readonly KubeObject[];
    readonly jaeger?: ChartRelease;
    /** Grafana: its values name the admin Secret the component creates from a generated password. */
    readonly grafana?: ChartRelease;
}

/** What one cluster receives. */
export interface ClusterObservability {
    readonly cluster: ClusterSpec;
    /** The observability namespace's metadata, labelled for sidecar injection. */
    readonly namespace: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
    /** The cluster's own Prometheus; absent with metrics off. */
    readonly prometheus?: ChartRelease;
    /** Only in the hub. */
    readonly hub?: HubPlan;
    /** Only in primaries: mTLS and access policies of the namespace, identical in every primary. */
    readonly istioObjects: readonly IstioObject[];
}

const fqdn = (service: string, namespace: string) => `${service}.${namespace}.svc.cluster.local`;

function resourcesValue(r: ResourceSettings | undefined): Record<string, unknown> {
    return r ? { resources: { ...r } } : {};
}

/** The chart values of one cluster's Prometheus. */
export function clusterPrometheusValues(s: ObservabilitySettings, cluster: string): Record<string, unknown> {
    const m = s.metrics!;
    return {
        ...subchartsOff,
        scrapeConfigs: { "prometheus-pushgateway": { enabled: false } },
        server: {
            fullnameOverride: clusterPrometheusName(cluster),
            global: { scrape_interval: m.scrapeInterval, external_labels: { cluster } },
            retention: m.retention,
            persistentVolume: { enabled: false },
            service: { type: "ClusterIP", servicePort: observabilityPorts.prometheus },
            // Inbound (the hub's /federate) goes through the sidecar; Prometheus' own scrapes go straight to the
            // pods (istiod 15014, merged proxy metrics 15020, both plain text), as Istio's docs advise.
            podAnnotations: { "traffic.sidecar.istio.io/includeOutboundIPRanges": "" },
            ...resourcesValue(m.resources),
        },
    };
}

const subchartsOff = {
    alertmanager: { enabled: false },
    "kube-state-metrics": { enabled: false },
    "prometheus-node-exporter": { enabled: false },
    "prometheus-pushgateway": { enabled: false },
};

/** The hub's Prometheus: no scrape job of its own, one federation job per cluster, each by its unique name. */
export function hubPrometheusValues(
    s: ObservabilitySettings,
    clusters: readonly string[],
): Record<string, unknown> {
    const m = s.metrics!;
    return {
        ...subchartsOff,
        // It discovers nothing (static federation targets only): no ClusterRole to read the cluster's objects.
        rbac: { create: false },
        scrapeConfigs: Object.fromEntries(chartScrapeJobs.map((j) => [j, { enabled: false }])),
        serverFiles: {
            "prometheus.yml": {
                scrape_configs: clusters.map((c) => ({
                    job_name: `federate-${c}`,
                    honor_labels: true,
                    metrics_path: "/federate",
                    params: { "match[]": [...federationMatch] },
                    static_configs: [
                        {
                            targets: [
                                `${fqdn(clusterPrometheusName(c), s.namespace)}:${observabilityPorts.prometheus}`,
                            ],
                            labels: { cluster: c },
                        },
                    ],
                })),
            },
        },
        server: {
            fullnameOverride: observabilityNames.hubService,
            global: { scrape_interval: m.scrapeInterval },
            retention: m.hubRetention,
            persistentVolume: m.hubStorage ? { enabled: true, size: m.hubStorage } : { enabled: false },
            service: { type: "ClusterIP", servicePort: observabilityPorts.prometheus },
            ...resourcesValue(m.hubResources),
        },
    };
}

/** Jaeger all-in-one (in-memory) in the hub, listening beyond loopback so its sidecar can deliver to it. */
export function jaegerValues(s: ObservabilitySettings): Record<string, unknown> {
    return {
        fullnameOverride: observabilityNames.jaeger,
        jaeger: {
            extraEnv: [{ name: "JAEGER_LISTEN_HOST", value: "0.0.0.0" }],
            service: { type: "ClusterIP" },
            ...resourcesValue(s.tracing.resources),
        },
    };
}

/** Grafana in the hub: admin from the generated Secret, the hub's datasources, Istio's dashboards. */
export function grafanaValues(s: ObservabilitySettings, istioVersion: string): Record<string, unknown> {
    const datasources = [
        {
            name: "Prometheus",
            type: "prometheus",
            uid: "prometheus",
            access: "proxy",
            url: `http://${fqdn(observabilityNames.hubService, s.namespace)}:${observabilityPorts.prometheus}`,
            isDefault: true,
            jsonData: { timeInterval: s.metrics!.scrapeInterval },
        },
        ...(s.tracing.backend === "jaeger"
            ? [
                  {
                      name: "Jaeger",
                      type: "jaeger",
                      uid: "jaeger",
                      access: "proxy",
                      url: `http://${fqdn(observabilityNames.jaeger, s.namespace)}:${observabilityPorts.jaegerUi}`,
                  },
              ]
            : []),
    ];
    const base = `https://raw.githubusercontent.com/istio/istio/${istioVersion}/manifests/addons/dashboards`;
    return {
        fullnameOverride: observabilityNames.grafana,
        admin: {
            existingSecret: observabilityNames.grafanaAdminSecret,
            userKey: "admin-user",
            passwordKey: "admin-password",
        },
        service: { type: "ClusterIP", port: observabilityPorts.grafana, appProtocol: "http" },
        persistence: { enabled: false },
        // The dashboard download runs in an init container, before a classic sidecar is up: 443 bypasses it.
        podAnnotations: { "traffic.sidecar.istio.io/excludeOutboundPorts": "443" },
        "grafana.ini": { analytics: { check_for_updates: false, reporting_enabled: false } },
        datasources: { "datasources.yaml": { apiVersion: 1, datasources } },
        dashboardProviders: {
            "dashboardproviders.yaml": {
                apiVersion: 1,
                providers: [
                    {
                        name: "istio",
                        orgId: 1,
                        folder: "Istio",
                        type: "file",
                        disableDeletion: false,
                        options: { path: "/var/lib/grafana/dashboards/istio" },
                    },
                ],
            },
        },
        dashboards: {
            istio: Object.fromEntries(
                Object.entries(istioDashboards).map(([k, file]) => [k, { url: `${base}/${file}` }]),
            ),
        },
        ...resourcesValue(s.dashboards?.resources),
    };
}

/** Pod selectors the access policies use: the charts' labels, with the release name as the instance. */
export const observabilitySelectors = {
    clusterPrometheus: {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/instance": observabilityNames.clusterRelease,
    },
    hubPrometheus: {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/instance": observabilityNames.hubRelease,
    },
    jaeger: {
        "app.kubernetes.io/name": "jaeger",
        "app.kubernetes.io/instance": observabilityNames.jaeger,
        "app.kubernetes.io/component": "all-in-one",
    },
} as const;

function allow(
    name: string,
    namespace: string,
    selector: Record<string, string>,
    rules: Record<string, unknown>[],
): IstioObject {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name, namespace },
        spec: { selector: { matchLabels: { ...selector } }, action: "ALLOW", rules },
    };
}

/**
 * The Istio objects of the observability namespace, the same in every primary: STRICT mTLS, and who may call
 * what. An ALLOW policy with rules denies everything else to the pods it selects; with none, everything.
 */
/** What the observability feature reads of the topology: the core and its own section. */
export interface ObservabilityInput extends CoreTopology {
    readonly observability?: ObservabilitySettings;
}

export function observabilityIstioObjects(
    topology: ObservabilityInput,
    s: ObservabilitySettings,
): IstioObject[] {
    const ns = s.namespace;
    const td = topology.mesh.trustDomain;
    const hubPrometheus = principal(td, ns, observabilityNames.hubService);
    const grafana = principal(td, ns, observabilityNames.grafana);
    const objects: IstioObject[] = [
        {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default", namespace: ns },
            spec: { mtls: { mode: "STRICT" } },
        },
    ];
    if (s.metrics) {
        objects.push(
            allow("prometheus-federate", ns, observabilitySelectors.clusterPrometheus, [
                {
                    from: [{ source: { principals: [hubPrometheus] } }],
                    to: [
                        {
                            operation: {
                                ports: [String(observabilityPorts.prometheus)],
                                methods: ["GET"],
                                paths: ["/federate"],
                            },
                        },
                    ],
                },
            ]),
            allow(
                "prometheus-hub",
                ns,
                observabilitySelectors.hubPrometheus,
                s.dashboards
                    ? [
                          {
                              from: [{ source: { principals: [grafana] } }],
                              to: [{ operation: { ports: [String(observabilityPorts.prometheus)] } }],
                          },
                      ]
                    : [],
            ),
        );
    }
    if (s.tracing.backend === "jaeger") {
        objects.push(
            allow("jaeger", ns, observabilitySelectors.jaeger, [
                // Spans come from every proxy of the mesh, each with its own identity: any of the mesh's.
                {
                    from: [
                        {
                            source: {
                                principals: [td, ...(topology.mesh.trustDomainAliases ?? [])].map(
                                    (d) => `${d}/*`,
                                ),
                            },
                        },
                    ],
                    to: [{ operation: { ports: [String(observabilityPorts.otlpGrpc)] } }],
                },
                ...(s.dashboards
                    ? [
                          {
                              from: [{ source: { principals: [grafana] } }],
                              to: [{ operation: { ports: [String(observabilityPorts.jaegerUi)] } }],
                          },
                      ]
                    : []),
            ]),
        );
    }
    return objects;
}

/** Everything observability puts in each cluster, in `istio-multicluster:clusters` order. */
export function observabilityPlan(topology: ObservabilityInput): ClusterObservability[] {
    const s = topology.observability;
    if (!s) return [];
    const names = topology.clusters.map((c) => c.name);
    const istioObjects = observabilityIstioObjects(topology, s);
    const chartRelease = (releaseName: string, chart: ChartPin, values: Record<string, unknown>) => ({
        releaseName,
        chart,
        values,
    });
    return topology.clusters.map((cluster) => {
        const isHub = cluster.name === s.hub;
        const hub: HubPlan | undefined = isHub
            ? {
                  ...(s.metrics
                      ? {
                            prometheus: chartRelease(
                                observabilityNames.hubRelease,
                                s.charts.prometheus,
                                hubPrometheusValues(s, names),
                            ),
                        }
                      : {}),
                  stubs: s.metrics
                      ? names.filter((c) => c !== s.hub).map((c) => stubService(c, s.namespace))
                      : [],
                  ...(s.tracing.backend === "jaeger"
                      ? { jaeger: chartRelease(observabilityNames.jaeger, s.charts.jaeger, jaegerValues(s)) }
                      : {}),
                  ...(s.dashboards
                      ? {
                            grafana: chartRelease(
                                observabilityNames.grafana,
                                s.charts.grafana,
                                grafanaValues(s, topology.mesh.istio.version),
                            ),
                        }
                      : {}),
              }
            : undefined;
        return {
            cluster,
            namespace: {
                name: s.namespace,
                labels: { ...managedByLabel, ...injectionLabel(topology.mesh.istio.revision) },
            },
            ...(s.metrics
                ? {
                      prometheus: chartRelease(
                          observabilityNames.clusterRelease,
                          s.charts.prometheus,
                          clusterPrometheusValues(s, cluster.name),
                      ),
                  }
                : {}),
            ...(hub ? { hub } : {}),
            istioObjects: cluster.role === "primary" ? istioObjects : [],
        };
    });
}

/** The hub's stand-in for another cluster's Prometheus Service: same name and port, no selector, no endpoints. */
export function stubService(cluster: string, namespace: string): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
            name: clusterPrometheusName(cluster),
            namespace,
            labels: { ...managedByLabel, [`${projectName}/endpoints-in`]: cluster },
        },
        spec: {
            type: "ClusterIP",
            ports: [
                {
                    name: "http",
                    port: observabilityPorts.prometheus,
                    targetPort: observabilityPorts.prometheus,
                    protocol: "TCP",
                },
            ],
        },
    };
}

/** How to reach one UI: a port-forward to the hub, then a local URL. */
export interface UiAccess {
    readonly portForward: string;
    readonly url: string;
}

/** The port-forward command and URL of each UI the hub runs. */
export function uiAccess(
    topology: ObservabilityInput,
): Partial<Record<"prometheus" | "jaeger" | "grafana", UiAccess>> {
    const s = topology.observability;
    if (!s) return {};
    const hub = topology.clusters.find((c) => c.name === s.hub)!;
    const target =
        hub.access.kind === "context"
            ? `--context ${hub.access.context}`
            : `--kubeconfig <the kubeconfig of ${hub.name}>`;
    const forward = (service: string, local: number, remote: number): UiAccess => ({
        portForward: `kubectl ${target} -n ${s.namespace} port-forward svc/${service} ${local}:${remote}`,
        url: `http://localhost:${local}`,
    });
    return {
        ...(s.metrics
            ? {
                  prometheus: forward(
                      observabilityNames.hubService,
                      observabilityPorts.prometheus,
                      observabilityPorts.prometheus,
                  ),
              }
            : {}),
        ...(s.tracing.backend === "jaeger"
            ? {
                  jaeger: forward(
                      observabilityNames.jaeger,
                      observabilityPorts.jaegerUi,
                      observabilityPorts.jaegerUi,
                  ),
              }
            : {}),
        ...(s.dashboards
            ? { grafana: forward(observabilityNames.grafana, 3000, observabilityPorts.grafana) }
            : {}),
    };
}
