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
 * Pure: the reader (one call from stacks/validate/) and the planner are functions of the settings.
 */
export {
    ChartPin,
    MetricsSettings,
    ObservabilityChart,
    ObservabilitySettings,
    TracingBackend,
    TracingProtocol,
    chartDefaults,
    chartScrapeJobs,
    clusterPrometheusName,
    defaultObservabilityNamespace,
    externalCollectorDefaults,
    federationMatch,
    istioDashboards,
    observabilityKey,
    observabilityNames,
    observabilityPorts,
} from "./settings";
export { ObservabilityContext, isChartRepository, validateObservability } from "./read";
export {
    ChartRelease,
    ClusterObservability,
    HubPlan,
    KubeObject,
    clusterPrometheusValues,
    grafanaValues,
    hubPrometheusValues,
    jaegerValues,
} from "./values";
export {
    UiAccess,
    observabilityIstioObjects,
    observabilityPlan,
    observabilitySelectors,
    stubService,
    uiAccess,
} from "./plan";
