/** Traffic settings: the typed form of `services`, `externalServices` and `ingress`, and their defaults. */
import type { EastWestSettings } from "../core";

export const clusterDomain = "cluster.local";

/** The namespace the ingress gateway, its Gateways and routes, and external services default to. */
export const istioSystem = "istio-system";

/** The label Istio puts on every endpoint with the cluster it runs in. */
export const clusterLabel = "topology.istio.io/cluster";

/** The ingress gateway's Helm release (and Deployment/Service) name. */
export const ingressReleaseName = "istio-ingressgateway";

/** The label Gateways select the ingress gateway by (set explicitly, as for the east-west gateway). */
export const ingressSelector = { istio: "ingressgateway" } as const;

/** Outlier detection emitted unless configured: 5s interval, 3 consecutive 5xx, 30s ejection, at most 50%. */
export const outlierDetectionDefaults: OutlierDetection = {
    consecutive5xxErrors: 3,
    interval: "5s",
    baseEjectionTime: "30s",
    maxEjectionPercent: 50,
};

/** Protocols of a global service's ports (weighted routes are HTTP routes for the first three, TCP for TCP). */
export type ServiceProtocol = "HTTP" | "HTTP2" | "GRPC" | "TCP";
export const serviceProtocols: readonly ServiceProtocol[] = ["HTTP", "HTTP2", "GRPC", "TCP"];

/** Protocols of an external service's ports. */
export type ExternalProtocol = "HTTP" | "HTTPS" | "HTTP2" | "GRPC" | "TCP" | "TLS";
export const externalProtocols: readonly ExternalProtocol[] = [
    "HTTP",
    "HTTPS",
    "HTTP2",
    "GRPC",
    "TCP",
    "TLS",
];

/** One port of a global service. */
export interface ServicePort {
    readonly number: number;
    readonly protocol: ServiceProtocol;
}

/** Outlier detection, as the DestinationRule takes it. */
export interface OutlierDetection {
    readonly consecutive5xxErrors: number;
    readonly interval: string;
    readonly baseEjectionTime: string;
    readonly maxEjectionPercent: number;
}

/** Connection-pool limits; each is emitted only when set. */
export interface ConnectionPool {
    readonly maxConnections?: number;
    readonly connectTimeout?: string;
    readonly http1MaxPendingRequests?: number;
    readonly http2MaxRequests?: number;
    readonly maxRequestsPerConnection?: number;
    readonly maxRetries?: number;
}

/** One weighted subset of a canary: by workload labels, or by cluster (`topology.istio.io/cluster`). */
export interface CanarySubset {
    readonly name: string;
    /** The subset's labels: the configured workload labels, or `{ topology.istio.io/cluster: <cluster> }`. */
    readonly labels: Readonly<Record<string, string>>;
    /** Percent of the traffic, 0-100; the subsets of a service sum to 100. */
    readonly weight: number;
}

/** `distribute` entry: traffic from one locality spread over others by weight. */
export interface Distribution {
    readonly from: string;
    readonly to: Readonly<Record<string, number>>;
}

/** A client-side TLS setting the user set explicitly (none is emitted otherwise: auto mTLS does the rest). */
export interface ClientTls {
    readonly mode: "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";
    readonly sni?: string;
    readonly credentialName?: string;
}

/** One global service: a Kubernetes Service that runs in several clusters of the mesh. */
export interface GlobalService {
    readonly name: string;
    /** The namespace the Service (and its DestinationRule and VirtualService) lives in. */
    readonly namespace: string;
    readonly ports: readonly ServicePort[];
    /** Regions in failover order: each fails over to the next, the last to the first. */
    readonly failoverOrder?: readonly string[];
    /** `failoverPriority` labels, most important first. */
    readonly failoverPriority?: readonly string[];
    readonly distribute?: readonly Distribution[];
    readonly outlierDetection: OutlierDetection;
    readonly connectionPool?: ConnectionPool;
    /** Weighted subsets; empty when the service has no canary (then no VirtualService is emitted). */
    readonly canary: readonly CanarySubset[];
    readonly tls?: ClientTls;
    /** Whether the service must never leave its cluster (`meshConfig.serviceSettings`). */
    readonly clusterLocal: boolean;
    /** Index in `istio-multicluster:services`, for messages. */
    readonly index: number;
}

/** One port of an external service. */
export interface ExternalPort {
    readonly number: number;
    readonly name: string;
    readonly protocol: ExternalProtocol;
    readonly targetPort?: number;
}

/** A dependency outside the mesh, declared once for every cluster. */
export interface ExternalService {
    readonly name: string;
    readonly namespace: string;
    readonly hosts: readonly string[];
    readonly resolution: "DNS" | "STATIC";
    readonly ports: readonly ExternalPort[];
    /** STATIC only: the addresses behind the hosts. */
    readonly endpoints?: readonly string[];
    /** TLS origination by the client's sidecar (SIMPLE, or MUTUAL with a client credential). */
    readonly tls?: {
        readonly mode: "SIMPLE" | "MUTUAL";
        readonly sni?: string;
        readonly credentialName?: string;
    };
    readonly index: number;
}

/** One host served by the ingress gateways and routed to a global service. */
export interface IngressHost {
    readonly host: string;
    /** The global service it routes to. */
    readonly service: GlobalService;
    /** The service port it routes to. */
    readonly port: number;
    /** A TLS Secret in `istio-system` of each cluster with an ingress gateway; without it, plain HTTP on 80. */
    readonly credentialName?: string;
    readonly index: number;
}

/** The ingress gateways and what they serve. */
export interface IngressSettings {
    /** Clusters that run an ingress gateway (default every primary). */
    readonly clusters: readonly string[];
    /** The gateway Service and workload settings (the east-west gateway's options, without `address`). */
    readonly gateway: Omit<EastWestSettings, "address">;
    readonly hosts: readonly IngressHost[];
}

/** The validated traffic settings. */
export interface TrafficSpec {
    readonly services: readonly GlobalService[];
    readonly externalServices: readonly ExternalService[];
    /** Undefined when `istio-multicluster:ingress` is not set. */
    readonly ingress?: IngressSettings;
}

/** Nothing configured. */
export const noTraffic: TrafficSpec = { services: [], externalServices: [] };

/** The raw values of the three config keys. */
export interface RawTraffic {
    readonly services?: unknown;
    readonly externalServices?: unknown;
    readonly ingress?: unknown;
}
