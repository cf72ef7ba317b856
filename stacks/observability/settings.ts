/** Observability settings: the typed form of `istio-multicluster:observability`, its defaults and derived names. */
import { projectName, ResourceSettings } from "../core";

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
