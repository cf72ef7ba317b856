/**
 * Traffic: global services (locality failover with outlier detection, weighted canaries across clusters),
 * external services and ingress, as typed config compiled to the exact Istio objects every primary applies.
 *
 * Pure: `validateTraffic` reads the three config keys given the validated clusters and returns either the
 * typed settings or every problem with its config path; the object builders are functions of those settings
 * alone, so every primary gets identical objects.
 *
 * Istio facts this module relies on (checked against Istio 1.30.3's CRDs and its config validation):
 * - Locality is `region/zone/subzone` from the nodes' `topology.kubernetes.io/region` and `.../zone` labels,
 *   not the cluster name: a cluster's `region` here declares what its nodes are labelled with.
 * - `localityLbSetting` takes `distribute` or `failover`, never both; `failover` names regions only (no `/`,
 *   no `*`, `from` != `to`); `failoverPriority` may be combined with `failover` unless it lists the region,
 *   zone or subzone label; `distribute` weights are 1-100 and sum to 100 per `from`.
 * - Failover (by region or by priority) has no effect without outlier detection: Envoy only moves traffic
 *   once it has ejected unhealthy endpoints. Every DestinationRule here carries outlier detection.
 * - `topology.istio.io/cluster` is set by Istio on every endpoint, so a subset can select a cluster.
 */
export {
    CanarySubset,
    ClientTls,
    ConnectionPool,
    Distribution,
    ExternalPort,
    ExternalProtocol,
    ExternalService,
    GlobalService,
    IngressHost,
    IngressSettings,
    OutlierDetection,
    RawTraffic,
    ServicePort,
    ServiceProtocol,
    TrafficSpec,
    clusterDomain,
    clusterLabel,
    ingressReleaseName,
    ingressSelector,
    noTraffic,
    outlierDetectionDefaults,
} from "./types";
export { checkServiceNamespaces, validateTraffic } from "./read";
export {
    TrafficObject,
    canaryVirtualService,
    clusterLocalHosts,
    destinationRule,
    ingressGateway,
    ingressGatewayValues,
    ingressVirtualService,
    objectResourceName,
    originationRules,
    serviceEntry,
    serviceHost,
    trafficObjects,
} from "./objects";
