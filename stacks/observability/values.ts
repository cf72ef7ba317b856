/** The Helm values of the observability charts: each cluster's Prometheus, the hub's, Jaeger and Grafana. */
import { IstioObject } from "../istioObjects";
import { ClusterSpec, ResourceSettings } from "../core";

import {
    ChartPin,
    ObservabilitySettings,
    chartScrapeJobs,
    clusterPrometheusName,
    federationMatch,
    istioDashboards,
    observabilityNames,
    observabilityPorts,
} from "./settings";

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

export const fqdn = (service: string, namespace: string) => `${service}.${namespace}.svc.cluster.local`;

export function resourcesValue(r: ResourceSettings | undefined): Record<string, unknown> {
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

export const subchartsOff = {
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
