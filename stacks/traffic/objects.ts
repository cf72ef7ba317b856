/** The Istio objects every primary applies for the traffic settings, and the ingress gateway chart values. */
import type { GatewayValues } from "../chartValues/gateway";
import { isIpAddress } from "../checks";
import {
    ConnectionPool,
    ExternalService,
    GlobalService,
    IngressHost,
    IngressSettings,
    ServicePort,
    TrafficSpec,
    clusterDomain,
    ingressReleaseName,
    ingressSelector,
    istioSystem,
} from "./types";
import { prune } from "./problems";

// ---------------------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------------------

/** An Istio object as the Kubernetes API takes it. */
export interface TrafficObject {
    readonly apiVersion: string;
    readonly kind: "DestinationRule" | "VirtualService" | "ServiceEntry" | "Gateway";
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: Record<string, unknown>;
}

export const networkingV1 = "networking.istio.io/v1";

/** The fully qualified host of a global service. */
export function serviceHost(s: Pick<GlobalService, "name" | "namespace">): string {
    return `${s.name}.${s.namespace}.svc.${clusterDomain}`;
}

/** The hosts that must stay in their cluster (`meshConfig.serviceSettings` with `clusterLocal: true`). */
export function clusterLocalHosts(traffic: TrafficSpec): string[] {
    return traffic.services.filter((s) => s.clusterLocal).map(serviceHost);
}

/** Regions in order, as Istio's `failover` pairs: each to the next, the last back to the first. */
export function failoverPairs(order: readonly string[]): { from: string; to: string }[] {
    return order.map((from, i) => ({ from, to: order[(i + 1) % order.length]! }));
}

export function localityLb(s: GlobalService): Record<string, unknown> | undefined {
    if (!s.failoverOrder && !s.failoverPriority && !s.distribute) return undefined;
    return {
        enabled: true,
        ...(s.distribute ? { distribute: s.distribute.map((d) => ({ from: d.from, to: { ...d.to } })) } : {}),
        ...(s.failoverOrder ? { failover: failoverPairs(s.failoverOrder) } : {}),
        ...(s.failoverPriority ? { failoverPriority: [...s.failoverPriority] } : {}),
    };
}

export function connectionPool(c: ConnectionPool): Record<string, unknown> {
    const tcp = prune({ maxConnections: c.maxConnections, connectTimeout: c.connectTimeout });
    const http = prune({
        http1MaxPendingRequests: c.http1MaxPendingRequests,
        http2MaxRequests: c.http2MaxRequests,
        maxRequestsPerConnection: c.maxRequestsPerConnection,
        maxRetries: c.maxRetries,
    });
    return {
        ...(Object.keys(tcp).length ? { tcp } : {}),
        ...(Object.keys(http).length ? { http } : {}),
    };
}

/** The DestinationRule of a global service: outlier detection always, locality, pool, TLS and subsets if set. */
export function destinationRule(s: GlobalService): TrafficObject {
    const locality = localityLb(s);
    return {
        apiVersion: networkingV1,
        kind: "DestinationRule",
        metadata: { name: s.name, namespace: s.namespace },
        spec: {
            host: serviceHost(s),
            trafficPolicy: {
                ...(s.connectionPool ? { connectionPool: connectionPool(s.connectionPool) } : {}),
                ...(locality ? { loadBalancer: { localityLbSetting: locality } } : {}),
                outlierDetection: { ...s.outlierDetection },
                ...(s.tls ? { tls: { ...s.tls } } : {}),
            },
            ...(s.canary.length > 0
                ? { subsets: s.canary.map((c) => ({ name: c.name, labels: { ...c.labels } })) }
                : {}),
        },
    };
}

/** The weighted destinations of a service's canary on one port. */
export function weighted(s: GlobalService, port: number): Record<string, unknown>[] {
    return s.canary.map((c) => ({
        destination: { host: serviceHost(s), subset: c.name, port: { number: port } },
        weight: c.weight,
    }));
}

/** The canary's VirtualService (mesh traffic): one weighted route per port; undefined without a canary. */
export function canaryVirtualService(s: GlobalService): TrafficObject | undefined {
    if (s.canary.length === 0) return undefined;
    const http = s.ports.filter((p) => p.protocol !== "TCP");
    const tcp = s.ports.filter((p) => p.protocol === "TCP");
    const route = (p: ServicePort) => ({ match: [{ port: p.number }], route: weighted(s, p.number) });
    return {
        apiVersion: networkingV1,
        kind: "VirtualService",
        metadata: { name: s.name, namespace: s.namespace },
        spec: {
            hosts: [serviceHost(s)],
            ...(http.length > 0 ? { http: http.map(route) } : {}),
            ...(tcp.length > 0 ? { tcp: tcp.map(route) } : {}),
        },
    };
}

/** The ServiceEntry of an external service (MESH_EXTERNAL). */
export function serviceEntry(e: ExternalService): TrafficObject {
    return {
        apiVersion: networkingV1,
        kind: "ServiceEntry",
        metadata: { name: e.name, namespace: e.namespace },
        spec: {
            hosts: [...e.hosts],
            location: "MESH_EXTERNAL",
            resolution: e.resolution,
            ports: e.ports.map((p) => ({ ...p })),
            ...(e.endpoints ? { endpoints: e.endpoints.map((address) => ({ address })) } : {}),
        },
    };
}

/** TLS origination for an external service: one DestinationRule per host, named after it. */
export function originationRules(e: ExternalService): TrafficObject[] {
    const tls = e.tls;
    if (!tls) return [];
    return e.hosts.map((host) => ({
        apiVersion: networkingV1,
        kind: "DestinationRule",
        metadata: { name: host, namespace: e.namespace },
        spec: {
            host,
            trafficPolicy: {
                tls: {
                    mode: tls.mode,
                    ...(isIpAddress(host) && !tls.sni ? {} : { sni: tls.sni ?? host }),
                    ...(tls.credentialName ? { credentialName: tls.credentialName } : {}),
                },
            },
        },
    }));
}

/** The ingress Gateway for one host: HTTPS with the named credential, or plain HTTP without one. */
export function ingressGateway(h: IngressHost): TrafficObject {
    const server = h.credentialName
        ? {
              port: { number: 443, name: "https", protocol: "HTTPS" },
              tls: { mode: "SIMPLE", credentialName: h.credentialName },
              hosts: [h.host],
          }
        : { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: [h.host] };
    return {
        apiVersion: networkingV1,
        kind: "Gateway",
        metadata: { name: h.host, namespace: istioSystem },
        spec: { selector: { ...ingressSelector }, servers: [server] },
    };
}

/** The route from one ingress host to its global service (through the canary's weights when it has one). */
export function ingressVirtualService(h: IngressHost): TrafficObject {
    const s = h.service;
    return {
        apiVersion: networkingV1,
        kind: "VirtualService",
        metadata: { name: h.host, namespace: istioSystem },
        spec: {
            hosts: [h.host],
            gateways: [h.host],
            http: [
                {
                    route:
                        s.canary.length > 0
                            ? weighted(s, h.port)
                            : [{ destination: { host: serviceHost(s), port: { number: h.port } } }],
                },
            ],
        },
    };
}

/** Every object a primary applies, in a stable order; identical in every primary. */
export function trafficObjects(t: TrafficSpec): TrafficObject[] {
    return [
        ...t.services.flatMap((s) => [
            destinationRule(s),
            ...[canaryVirtualService(s)].filter((o) => o !== undefined),
        ]),
        ...t.externalServices.flatMap((e) => [serviceEntry(e), ...originationRules(e)]),
        ...(t.ingress?.hosts ?? []).flatMap((h) => [ingressGateway(h), ingressVirtualService(h)]),
    ];
}

/**
 * The Pulumi name of an object in one cluster. `/` cannot occur in a cluster name, a kind, a namespace or an
 * object name (DNS labels and subdomains), so no two objects of any inputs share a name.
 */
export function objectResourceName(cluster: string, o: TrafficObject): string {
    return `${cluster}/${o.kind.toLowerCase()}/${o.metadata.namespace}/${o.metadata.name}`;
}

/** gateway chart values for a cluster's ingress gateway. */
export function ingressGatewayValues(settings: IngressSettings, revision: string | undefined): GatewayValues {
    const g = settings.gateway;
    return {
        name: ingressReleaseName,
        ...(revision ? { revision } : {}),
        labels: { ...ingressSelector },
        service: {
            type: g.serviceType,
            ...(g.sourceRanges ? { loadBalancerSourceRanges: [...g.sourceRanges] } : {}),
            ...(g.serviceAnnotations ? { annotations: { ...g.serviceAnnotations } } : {}),
        },
        ...(g.replicas !== undefined ? { autoscaling: { enabled: false }, replicaCount: g.replicas } : {}),
        ...(g.autoscale
            ? { autoscaling: { enabled: true, minReplicas: g.autoscale.min, maxReplicas: g.autoscale.max } }
            : {}),
        ...(g.resources ? { resources: g.resources } : {}),
        ...(g.pdb ? { podDisruptionBudget: { maxUnavailable: 1 } } : {}),
    };
}
