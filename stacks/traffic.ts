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
import type { GatewayValues } from "./chartValues/gateway";
import {
    annotationProblems,
    durationBounds,
    excerpt,
    isIpAddress,
    parseCidr,
    istioDurationMs,
    isLabelValue,
    isObject,
    isQualifiedName,
    keyPath,
} from "./checks";
import type { ClusterSpec, EastWestSettings, ResourceSettings, ServiceType } from "./core";
import { Reader, readResources } from "./reader";

/** The Kubernetes cluster DNS domain service hosts are qualified with. */
export const clusterDomain = "cluster.local";

/** The namespace the ingress gateway, its Gateways and routes, and external services default to. */
const istioSystem = "istio-system";

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
const serviceProtocols: readonly ServiceProtocol[] = ["HTTP", "HTTP2", "GRPC", "TCP"];

/** Protocols of an external service's ports. */
export type ExternalProtocol = "HTTP" | "HTTPS" | "HTTP2" | "GRPC" | "TCP" | "TLS";
const externalProtocols: readonly ExternalProtocol[] = ["HTTP", "HTTPS", "HTTP2", "GRPC", "TCP", "TLS"];

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

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

const P = "istio-multicluster";
/** A DNS-1123 label's characters; its 63-character limit is checked apart, for a message that says so. */
const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const secretName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const dnsLabelText =
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
/** Labels Istio refuses in `failoverPriority` beside `failover` (the region failover already orders by them). */
const localityLabels = [
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
];

type Obj = Record<string, unknown>;

/** Collects problems; each reader returns a typed value or undefined. */
class Problems {
    readonly errors: string[] = [];

    fail(path: string, message: string): undefined {
        this.errors.push(`${path}: ${message}`);
        return undefined;
    }

    /** `fail`, for a check that tracks whether everything so far was valid. */
    refuse(path: string, message: string): false {
        this.fail(path, message);
        return false;
    }

    keys(obj: Obj, path: string, allowed: readonly string[]): void {
        for (const k of Object.keys(obj)) {
            if (!allowed.includes(k))
                this.fail(`${path}.${k}`, `unknown key; allowed keys are: ${allowed.join(", ")}`);
        }
    }

    map(v: unknown, path: string): Obj | undefined {
        if (v === undefined) return undefined;
        return isObject(v) ? v : this.fail(path, `must be a map, got ${excerpt(v)}`);
    }

    /** A list that must be given and hold at least one `one`; `how` says how to give it. */
    requiredList(v: unknown, path: string, what: string, how: string, one: string): unknown[] | undefined {
        if (v === undefined) return this.fail(path, `required; ${how}`);
        const list = this.list(v, path, what);
        if (list?.length === 0) this.fail(path, `must list at least one ${one}`);
        return list;
    }

    list(v: unknown, path: string, what: string): unknown[] | undefined {
        if (v === undefined) return undefined;
        return Array.isArray(v) ? v : this.fail(path, `must be a list of ${what}, got ${excerpt(v)}`);
    }

    string(v: unknown, path: string, re: RegExp, what: string, required = false): string | undefined {
        if (v === undefined || v === null || v === "")
            return required ? this.fail(path, `required; set it to ${what}`) : undefined;
        if (typeof v !== "string") return this.fail(path, `must be a string, got ${excerpt(v)}`);
        if (!re.test(v)) return this.fail(path, `${excerpt(v)} is not ${what}`);
        return v;
    }

    label(v: unknown, path: string, required = false): string | undefined {
        const s = this.string(v, path, dnsLabelPattern, dnsLabelText, required);
        if (s !== undefined && s.length > 63)
            return this.fail(path, `${excerpt(s)} is longer than 63 characters`);
        return s;
    }

    /** A duration Istio accepts (`5s`, `1m30s`, `500ms`) within `bounds`. */
    duration(
        v: unknown,
        path: string,
        bounds: { minMs: number; maxMs: number; text: string },
    ): string | undefined {
        if (v === undefined || v === null) return undefined;
        const ms = typeof v === "string" ? istioDurationMs(v) : undefined;
        if (ms === undefined)
            return this.fail(path, `${excerpt(v)} is not a duration such as 5s, 500ms or 1m30s`);
        if (ms < bounds.minMs || ms > bounds.maxMs)
            return this.fail(path, `${excerpt(v)} is out of range; use a duration ${bounds.text}`);
        return v as string;
    }

    int(v: unknown, path: string, min: number, max: number): number | undefined {
        if (v === undefined) return undefined;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            return this.fail(path, `must be a whole number from ${min} to ${max}, got ${excerpt(v)}`);
        }
        return v;
    }

    port(v: unknown, path: string, required = true): number | undefined {
        if (v === undefined)
            return required ? this.fail(path, "required; set a port number from 1 to 65535") : undefined;
        return this.int(v, path, 1, 65535);
    }

    oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], fallback?: T): T | undefined {
        if (v === undefined) return fallback;
        if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
            return this.fail(path, `${excerpt(v)} is not one of: ${allowed.join(", ")}`);
        }
        return v as T;
    }

    boolean(v: unknown, path: string): boolean {
        if (v === undefined) return false;
        if (typeof v !== "boolean") {
            this.fail(path, `must be true or false, got ${excerpt(v)}`);
            return false;
        }
        return v;
    }

    labels(v: unknown, path: string): Record<string, string> | undefined {
        const m = this.map(v, path);
        if (!m) return undefined;
        let ok = true;
        for (const [k, x] of Object.entries(m)) {
            if (!isQualifiedName(k)) ok = this.refuse(keyPath(path, k), "is not a Kubernetes label key");
            else if (typeof x !== "string" || !isLabelValue(x))
                ok = this.refuse(keyPath(path, k), `${excerpt(x)} is not a Kubernetes label value`);
        }
        return ok ? (m as Record<string, string>) : undefined;
    }

    annotations(v: unknown, path: string): Record<string, string> | undefined {
        const m = this.map(v, path);
        if (!m) return undefined;
        const problems = annotationProblems(m, path);
        for (const [at, message] of problems) this.fail(at, message);
        return problems.length === 0 ? (m as Record<string, string>) : undefined;
    }
}

function prune<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `region`, `region/zone`, `region/zone/subzone`, each with an optional trailing `*` segment, or `*`. */
/**
 * Whether two localities can match one place: `region1/*` and `region1/zone1`, `*` and anything, `region1`
 * and `region1/*` (a last `*` and a missing part both match every zone).
 */
export function localitiesOverlap(a: string, b: string): boolean {
    const norm = (l: string) => l.replace(/(^|\/)\*$/, "");
    const [x, y] = [norm(a), norm(b)];
    return x === "" || y === "" || x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
}

function localityProblem(loc: string, regions: ReadonlySet<string>): string | undefined {
    if (loc === "*") return undefined;
    const parts = loc.split("/");
    if (parts.length > 3 || parts.some((p) => p === "")) {
        return `${excerpt(loc)} is not a locality; write region, region/zone or region/zone/subzone (a last \`*\` matches all)`;
    }
    if (parts.slice(0, -1).includes("*") || parts.some((p) => p !== "*" && !isLabelValue(p))) {
        return `${excerpt(loc)} is not a locality; \`*\` may only be the last part, and each part is a label value`;
    }
    if (parts[0] === "*") return undefined;
    if (!regions.has(parts[0]!)) {
        return `region ${excerpt(parts[0])} is not the region of any cluster; regions are: ${[...regions].join(", ") || "none (set `region` on the clusters)"}`;
    }
    return undefined;
}

function readOutlier(p: Problems, v: unknown, path: string): OutlierDetection {
    const o = p.map(v, path);
    if (!o) return outlierDetectionDefaults;
    p.keys(o, path, ["consecutive5xxErrors", "interval", "baseEjectionTime", "maxEjectionPercent"]);
    const d = outlierDetectionDefaults;
    return {
        // 0 would switch ejection (and with it failover) off.
        consecutive5xxErrors:
            p.int(o.consecutive5xxErrors, `${path}.consecutive5xxErrors`, 1, 1000) ?? d.consecutive5xxErrors,
        interval: p.duration(o.interval, `${path}.interval`, durationBounds.outlier) ?? d.interval,
        baseEjectionTime:
            p.duration(o.baseEjectionTime, `${path}.baseEjectionTime`, durationBounds.outlier) ??
            d.baseEjectionTime,
        maxEjectionPercent:
            p.int(o.maxEjectionPercent, `${path}.maxEjectionPercent`, 1, 100) ?? d.maxEjectionPercent,
    };
}

function readPool(p: Problems, v: unknown, path: string): ConnectionPool | undefined {
    const o = p.map(v, path);
    if (!o) return undefined;
    const ints = [
        "maxConnections",
        "http1MaxPendingRequests",
        "http2MaxRequests",
        "maxRequestsPerConnection",
        "maxRetries",
    ] as const;
    p.keys(o, path, [...ints, "connectTimeout"]);
    const out: Record<string, unknown> = {};
    for (const k of ints) out[k] = p.int(o[k], `${path}.${k}`, k === "maxRetries" ? 0 : 1, 2 ** 31 - 1);
    out.connectTimeout = p.duration(o.connectTimeout, `${path}.connectTimeout`, durationBounds.connect);
    const pool = prune(out) as ConnectionPool;
    return Object.keys(pool).length > 0 ? pool : undefined;
}

function readClientTls(p: Problems, v: unknown, path: string): ClientTls | undefined {
    const o = p.map(v, path);
    if (!o) return undefined;
    p.keys(o, path, ["mode", "sni", "credentialName"]);
    const mode =
        o.mode === undefined
            ? p.fail(
                  `${path}.mode`,
                  "required; set DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL (or remove `tls`: auto mTLS already uses ISTIO_MUTUAL)",
              )
            : p.oneOf(o.mode, `${path}.mode`, ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"] as const);
    const sni = p.string(o.sni, `${path}.sni`, dnsName, "a DNS name");
    const credentialName = p.string(o.credentialName, `${path}.credentialName`, secretName, "a Secret name");
    if (mode === "MUTUAL" && credentialName === undefined && o.credentialName === undefined) {
        p.fail(
            `${path}.credentialName`,
            "required with mode MUTUAL; name the Secret holding the client certificate and key",
        );
    }
    return mode === undefined ? undefined : prune({ mode, sni, credentialName });
}

function readService(
    p: Problems,
    raw: unknown,
    i: number,
    clusters: readonly ClusterSpec[],
): GlobalService | undefined {
    const path = `${P}:services[${i}]`;
    if (!isObject(raw)) return p.fail(path, `must be a map, got ${excerpt(raw)}`);
    p.keys(raw, path, [
        "name",
        "namespace",
        "ports",
        "failover",
        "distribute",
        "outlierDetection",
        "connectionPool",
        "canary",
        "tls",
        "clusterLocal",
    ]);
    const name = p.label(raw.name, `${path}.name`, true);
    const namespace = p.label(raw.namespace, `${path}.namespace`, true);

    const ports: ServicePort[] = [];
    const rawPorts =
        raw.ports === undefined
            ? p.fail(
                  `${path}.ports`,
                  "required; list the service's ports, e.g. `[{ number: 5000, protocol: HTTP }]`",
              )
            : p.list(raw.ports, `${path}.ports`, "ports");
    if (rawPorts?.length === 0) p.fail(`${path}.ports`, "must list at least one port");
    rawPorts?.forEach((rp, j) => {
        const pp = `${path}.ports[${j}]`;
        if (!isObject(rp))
            return p.fail(pp, `must be a map with \`number\` and \`protocol\`, got ${excerpt(rp)}`);
        p.keys(rp, pp, ["number", "protocol"]);
        const number = p.port(rp.number, `${pp}.number`);
        const protocol = p.oneOf(rp.protocol, `${pp}.protocol`, serviceProtocols, "HTTP");
        if (number !== undefined && ports.some((x) => x.number === number)) {
            return p.fail(`${pp}.number`, `${number} is listed twice; list each port once`);
        }
        if (number !== undefined && protocol !== undefined) ports.push({ number, protocol });
    });

    const regions = new Set(clusters.flatMap((c) => (c.region !== undefined ? [c.region] : [])));
    const regionList =
        [...regions].join(", ") || "none (set `region` on the clusters in istio-multicluster:clusters)";
    let failoverOrder: string[] | undefined;
    let failoverPriority: string[] | undefined;
    const f = p.map(raw.failover, `${path}.failover`);
    if (f) {
        p.keys(f, `${path}.failover`, ["order", "priority"]);
        const order = p.list(f.order, `${path}.failover.order`, "regions");
        if (order) {
            failoverOrder = [];
            order.forEach((r, j) => {
                const rp = `${path}.failover.order[${j}]`;
                if (typeof r !== "string" || !regions.has(r)) {
                    return p.fail(
                        rp,
                        `${excerpt(r)} is not the region of any cluster; regions are: ${regionList}`,
                    );
                }
                if (failoverOrder!.includes(r))
                    return p.fail(rp, `${excerpt(r)} is listed twice; list each region once`);
                failoverOrder!.push(r);
            });
            if (order.length < 2)
                p.fail(`${path}.failover.order`, "needs at least two regions: each fails over to the next");
        }
        const priority = p.list(f.priority, `${path}.failover.priority`, "label keys");
        if (priority) {
            failoverPriority = [];
            priority.forEach((l, j) => {
                const lp = `${path}.failover.priority[${j}]`;
                const key = typeof l === "string" ? l.split("=")[0]! : undefined;
                if (key === undefined || !isQualifiedName(key)) {
                    return p.fail(
                        lp,
                        `${excerpt(l)} is not a label key such as topology.istio.io/network or topology.istio.io/cluster`,
                    );
                }
                if (order && localityLabels.includes(key)) {
                    return p.fail(
                        lp,
                        `${excerpt(l)} cannot be combined with \`failover.order\` (Istio refuses it); order regions in \`order\` and drop it here`,
                    );
                }
                failoverPriority!.push(l as string);
            });
            if (priority.length === 0)
                p.fail(`${path}.failover.priority`, "is empty; list labels or remove it");
        }
        if (f.order === undefined && f.priority === undefined) {
            p.fail(
                `${path}.failover`,
                "set `order` (regions) or `priority` (labels such as topology.istio.io/network), or both",
            );
        }
    }

    let distribute: Distribution[] | undefined;
    const dist = p.list(raw.distribute, `${path}.distribute`, "`{ from, to }` entries");
    if (dist) {
        distribute = [];
        if (f?.order !== undefined) {
            p.fail(
                `${path}.distribute`,
                "cannot be combined with `failover.order` (Istio refuses both); keep one",
            );
        }
        const froms = new Set<string>();
        dist.forEach((d, j) => {
            const dp = `${path}.distribute[${j}]`;
            if (!isObject(d)) return p.fail(dp, `must be a map with \`from\` and \`to\`, got ${excerpt(d)}`);
            p.keys(d, dp, ["from", "to"]);
            let from: string | undefined;
            if (typeof d.from !== "string")
                p.fail(`${dp}.from`, "required; set the caller's locality, e.g. region1 or region1/*");
            else {
                const problem = localityProblem(d.from, regions);
                if (problem) p.fail(`${dp}.from`, problem);
                else if (froms.has(d.from))
                    p.fail(`${dp}.from`, `${excerpt(d.from)} is listed twice; one entry per locality`);
                else {
                    const over = [...froms].find((x) => localitiesOverlap(x, d.from as string));
                    if (over !== undefined)
                        p.fail(
                            `${dp}.from`,
                            `${excerpt(d.from)} overlaps ${excerpt(over)}: a caller in both would match two ` +
                                "entries; make the localities disjoint (one region, zone or subzone each)",
                        );
                    else from = d.from;
                }
                froms.add(d.from);
            }
            const to = p.map(d.to, `${dp}.to`);
            if (d.to === undefined) p.fail(`${dp}.to`, "required; map localities to weights summing to 100");
            if (!to) return;
            let sum = 0;
            let ok = true;
            const seen: string[] = [];
            for (const [loc, w] of Object.entries(to)) {
                const problem = localityProblem(loc, regions);
                const over = seen.find((x) => localitiesOverlap(x, loc));
                if (problem) ok = p.refuse(`${dp}.to.${loc}`, problem);
                else if (over !== undefined)
                    ok = p.refuse(
                        `${dp}.to.${loc}`,
                        `overlaps ${excerpt(over)}: endpoints in both would be weighted twice; make the ` +
                            "localities disjoint",
                    );
                seen.push(loc);
                const weight = p.int(w, `${dp}.to.${loc}`, 1, 100);
                if (weight === undefined) ok = false;
                else sum += weight;
            }
            if (ok && sum !== 100) ok = p.refuse(`${dp}.to`, `weights sum to ${sum}; make them sum to 100`);
            if (ok && from !== undefined) distribute!.push({ from, to: to as Record<string, number> });
        });
    }

    const canary: CanarySubset[] = [];
    const rawCanary = p.list(raw.canary, `${path}.canary`, "subsets");
    const clusterNames = clusters.map((c) => c.name);
    if (rawCanary) {
        let sum = 0;
        let ok = true;
        rawCanary.forEach((s, j) => {
            const sp = `${path}.canary[${j}]`;
            if (!isObject(s)) {
                ok = false;
                p.fail(
                    sp,
                    `must be a map with \`subset\`, \`weight\` and \`labels\` or \`cluster\`, got ${excerpt(s)}`,
                );
                return;
            }
            p.keys(s, sp, ["subset", "weight", "labels", "cluster"]);
            const subset = p.label(s.subset, `${sp}.subset`, true);
            if (subset !== undefined && canary.some((c) => c.name === subset)) {
                ok = p.refuse(
                    `${sp}.subset`,
                    `${excerpt(subset)} is listed twice; subset names must be unique`,
                );
            }
            const weight =
                s.weight === undefined
                    ? p.fail(`${sp}.weight`, "required; set a percentage from 0 to 100")
                    : p.int(s.weight, `${sp}.weight`, 0, 100);
            let labels: Record<string, string> | undefined;
            if ((s.labels === undefined) === (s.cluster === undefined)) {
                p.fail(
                    sp,
                    "set exactly one of `labels` (workload labels such as `version: v2`) or `cluster` (a cluster name)",
                );
            } else if (s.cluster !== undefined) {
                if (typeof s.cluster !== "string" || !clusterNames.includes(s.cluster)) {
                    p.fail(
                        `${sp}.cluster`,
                        `${excerpt(s.cluster)} is not a cluster of the mesh; clusters are: ${clusterNames.join(", ")}`,
                    );
                } else labels = { [clusterLabel]: s.cluster };
            } else {
                labels = p.labels(s.labels, `${sp}.labels`);
                if (labels && Object.keys(labels).length === 0)
                    labels = p.fail(
                        `${sp}.labels`,
                        "is empty; give the labels that select the subset's workloads",
                    );
            }
            if (subset === undefined || weight === undefined || labels === undefined) ok = false;
            else {
                sum += weight;
                canary.push({ name: subset, labels, weight });
            }
        });
        if (rawCanary.length === 0)
            p.fail(`${path}.canary`, "is empty; list the weighted subsets or remove it");
        else if (ok && sum !== 100) p.fail(`${path}.canary`, `weights sum to ${sum}; make them sum to 100`);
    }

    const clusterLocal = p.boolean(raw.clusterLocal, `${path}.clusterLocal`);
    if (clusterLocal) {
        for (const k of ["failover", "distribute"] as const) {
            if (raw[k] !== undefined)
                p.fail(
                    `${path}.${k}`,
                    "a cluster-local service never leaves its cluster; remove it or `clusterLocal`",
                );
        }
        if (canary.some((c) => clusterLabel in c.labels)) {
            p.fail(
                `${path}.canary`,
                "subsets by cluster cannot reach other clusters of a cluster-local service; use workload labels",
            );
        }
    }
    const outlierDetection = readOutlier(p, raw.outlierDetection, `${path}.outlierDetection`);
    const connectionPool = readPool(p, raw.connectionPool, `${path}.connectionPool`);
    const tls = readClientTls(p, raw.tls, `${path}.tls`);
    if (name === undefined || namespace === undefined) return undefined;
    return prune({
        name,
        namespace,
        ports,
        failoverOrder,
        failoverPriority,
        distribute,
        outlierDetection,
        connectionPool,
        canary,
        tls,
        clusterLocal,
        index: i,
    });
}

function readExternal(p: Problems, raw: unknown, i: number): ExternalService | undefined {
    const path = `${P}:externalServices[${i}]`;
    if (!isObject(raw)) return p.fail(path, `must be a map, got ${excerpt(raw)}`);
    p.keys(raw, path, ["name", "namespace", "hosts", "resolution", "ports", "endpoints", "tls"]);
    const name = p.label(raw.name, `${path}.name`, true);
    const namespace = p.label(raw.namespace, `${path}.namespace`) ?? istioSystem;
    const resolution = p.oneOf(raw.resolution, `${path}.resolution`, ["DNS", "STATIC"] as const, "DNS");
    const hosts: string[] = [];
    const rawHosts = p.requiredList(
        raw.hosts,
        `${path}.hosts`,
        "host names",
        "list the external host names, e.g. `[api.example.com]`",
        "host",
    );
    rawHosts?.forEach((h, j) => {
        const hp = `${path}.hosts[${j}]`;
        if (typeof h === "string" && isIpAddress(h)) {
            // Istio checks a ServiceEntry host as DNS labels: an IPv6 literal (with its colons) is refused.
            if (h.includes(":"))
                return p.fail(
                    hp,
                    `${excerpt(h)} is an IPv6 address, which Istio does not take as a host; give the service a DNS name here and the address in \`endpoints\` with \`resolution: STATIC\``,
                );
            if (resolution === "DNS")
                return p.fail(
                    hp,
                    `${excerpt(h)} is an IP address, which DNS resolution cannot resolve; use its DNS name, or \`resolution: STATIC\` with the address in \`endpoints\``,
                );
            hosts.push(h);
            return;
        }
        const host = p.string(h, hp, dnsName, "a fully qualified DNS name such as api.example.com");
        if (host !== undefined) hosts.push(host);
    });
    const ports: ExternalPort[] = [];
    const rawPorts = p.requiredList(
        raw.ports,
        `${path}.ports`,
        "ports",
        "list the ports, e.g. `[{ number: 443, protocol: TLS }]`",
        "port",
    );
    rawPorts?.forEach((rp, j) => {
        const pp = `${path}.ports[${j}]`;
        if (!isObject(rp))
            return p.fail(pp, `must be a map with \`number\` and \`protocol\`, got ${excerpt(rp)}`);
        p.keys(rp, pp, ["number", "protocol", "name", "targetPort"]);
        const number = p.port(rp.number, `${pp}.number`);
        const protocol =
            rp.protocol === undefined
                ? p.fail(`${pp}.protocol`, `required; set one of: ${externalProtocols.join(", ")}`)
                : p.oneOf(rp.protocol, `${pp}.protocol`, externalProtocols);
        const portName = p.label(rp.name, `${pp}.name`);
        const targetPort = p.port(rp.targetPort, `${pp}.targetPort`, false);
        if (number !== undefined && ports.some((x) => x.number === number))
            return p.fail(`${pp}.number`, `${number} is listed twice; list each port once`);
        if (number !== undefined && protocol !== undefined) {
            // Given or derived (`<protocol>-<number>`), each name once: Istio refuses a ServiceEntry that
            // repeats a port name.
            const name = portName ?? `${protocol.toLowerCase()}-${number}`;
            const same = ports.findIndex((x) => x.name === name);
            if (same >= 0)
                return p.fail(
                    `${pp}.name`,
                    `${excerpt(name)}${portName === undefined ? " (derived from protocol and number)" : ""} is ` +
                        `also the name of ports[${same}]; give each port a name of its own`,
                );
            ports.push(prune({ number, name, protocol, targetPort }));
        }
    });
    let endpoints: string[] | undefined;
    const rawEndpoints = p.list(raw.endpoints, `${path}.endpoints`, "IP addresses");
    if (resolution === "STATIC") {
        if (!rawEndpoints || rawEndpoints.length === 0)
            p.fail(
                `${path}.endpoints`,
                "required with `resolution: STATIC`; list the IP addresses behind the hosts",
            );
        endpoints = [];
        rawEndpoints?.forEach((e, j) => {
            if (typeof e !== "string" || !isIpAddress(e))
                return p.fail(`${path}.endpoints[${j}]`, `${excerpt(e)} is not an IP address`);
            endpoints!.push(e);
        });
    } else if (rawEndpoints !== undefined) {
        p.fail(
            `${path}.endpoints`,
            "only with `resolution: STATIC`; remove it (DNS resolves the hosts) or set STATIC",
        );
    }
    let tls: ExternalService["tls"];
    const t = p.map(raw.tls, `${path}.tls`);
    if (t) {
        p.keys(t, `${path}.tls`, ["mode", "sni", "credentialName"]);
        const mode = p.oneOf(t.mode, `${path}.tls.mode`, ["SIMPLE", "MUTUAL"] as const, "SIMPLE");
        const sni = p.string(t.sni, `${path}.tls.sni`, dnsName, "a DNS name");
        const credentialName = p.string(
            t.credentialName,
            `${path}.tls.credentialName`,
            secretName,
            "a Secret name",
        );
        if (mode === "MUTUAL" && t.credentialName === undefined) {
            p.fail(
                `${path}.tls.credentialName`,
                "required with mode MUTUAL; name the Secret holding the client certificate and key",
            );
        }
        // The sidecar originates TLS on what the caller sends in plain text; a TLS port would be encrypted twice.
        ports.forEach((port) => {
            if (port.protocol === "HTTPS" || port.protocol === "TLS") {
                p.fail(
                    `${path}.tls`,
                    `originates TLS, but port ${port.number} (${port.protocol}) already carries the caller's TLS; ` +
                        `give that port protocol HTTP (with targetPort 443) or TCP, or remove \`tls\``,
                );
            }
        });
        if (mode !== undefined) tls = prune({ mode, sni, credentialName });
    }
    if (name === undefined) return undefined;
    return prune({
        name,
        namespace,
        hosts,
        resolution: resolution ?? "DNS",
        ports,
        endpoints,
        tls,
        index: i,
    });
}

const gatewayKeys = [
    "serviceType",
    "sourceRanges",
    "serviceAnnotations",
    "replicas",
    "autoscale",
    "pdb",
    "resources",
];

function readIngress(
    p: Problems,
    raw: unknown,
    clusters: readonly ClusterSpec[],
    services: readonly GlobalService[],
): IngressSettings | undefined {
    const path = `${P}:ingress`;
    const o = p.map(raw, path);
    if (!o) return undefined;
    p.keys(o, path, ["clusters", ...gatewayKeys, "hosts"]);
    const names = clusters.map((c) => c.name);
    let chosen = clusters.filter((c) => c.role === "primary").map((c) => c.name);
    const rawClusters = p.list(o.clusters, `${path}.clusters`, "cluster names");
    if (rawClusters) {
        chosen = [];
        rawClusters.forEach((c, j) => {
            if (typeof c !== "string" || !names.includes(c))
                return p.fail(
                    `${path}.clusters[${j}]`,
                    `${excerpt(c)} is not a cluster of the mesh; clusters are: ${names.join(", ")}`,
                );
            if (chosen.includes(c)) return p.fail(`${path}.clusters[${j}]`, `${excerpt(c)} is listed twice`);
            chosen.push(c);
        });
    }
    const serviceType: ServiceType =
        p.oneOf(
            o.serviceType,
            `${path}.serviceType`,
            ["LoadBalancer", "NodePort"] as const,
            "LoadBalancer",
        ) ?? "LoadBalancer";
    let sourceRanges: string[] | undefined;
    const ranges = p.list(o.sourceRanges, `${path}.sourceRanges`, "CIDRs");
    if (ranges) {
        sourceRanges = [];
        ranges.forEach((c, j) => {
            if (typeof c !== "string" || parseCidr(c) === undefined)
                return p.fail(`${path}.sourceRanges[${j}]`, `${excerpt(c)} is not a CIDR such as 10.0.0.0/8`);
            sourceRanges!.push(c);
        });
        if (serviceType === "NodePort")
            p.fail(
                `${path}.sourceRanges`,
                "Kubernetes refuses loadBalancerSourceRanges on a NodePort Service; remove it or use a LoadBalancer",
            );
    }
    const serviceAnnotations = p.annotations(o.serviceAnnotations, `${path}.serviceAnnotations`);
    const replicas = p.int(o.replicas, `${path}.replicas`, 1, 1000);
    let autoscale: { min: number; max: number } | undefined;
    const a = p.map(o.autoscale, `${path}.autoscale`);
    if (a) {
        p.keys(a, `${path}.autoscale`, ["min", "max"]);
        const min = p.int(a.min, `${path}.autoscale.min`, 1, 1000);
        const max = p.int(a.max, `${path}.autoscale.max`, 1, 1000);
        if (min === undefined || max === undefined) {
            if (a.min === undefined || a.max === undefined)
                p.fail(`${path}.autoscale`, "needs both `min` and `max`");
        } else if (max < min)
            p.fail(`${path}.autoscale.max`, `${max} is less than min ${min}; set max to at least ${min}`);
        else autoscale = { min, max };
    }
    if (o.replicas !== undefined && o.autoscale !== undefined)
        p.fail(path, "`replicas` and `autoscale` cannot both be set; keep one");
    const pdb = o.pdb === undefined ? undefined : p.boolean(o.pdb, `${path}.pdb`);
    // The same reader as every other section's resources: quantities as Kubernetes parses them (`cpu: 1`,
    // `129e6`, `1Pi`), requests not above limits.
    const resourceReader = new Reader();
    const resources: ResourceSettings | undefined = readResources(resourceReader, o, path);
    p.errors.push(...resourceReader.errors);

    const hosts: IngressHost[] = [];
    p.list(o.hosts, `${path}.hosts`, "hosts")?.forEach((h, j) => {
        const hp = `${path}.hosts[${j}]`;
        if (!isObject(h)) return p.fail(hp, `must be a map with \`host\` and \`service\`, got ${excerpt(h)}`);
        p.keys(h, hp, ["host", "service", "namespace", "port", "credentialName"]);
        const host = p.string(
            h.host,
            `${hp}.host`,
            dnsName,
            "a fully qualified DNS name such as hello.example.com",
            true,
        );
        if (host !== undefined && host.length > 253) p.fail(`${hp}.host`, "is longer than 253 characters");
        if (host !== undefined && hosts.some((x) => x.host === host))
            p.fail(`${hp}.host`, `${excerpt(host)} is listed twice; one entry per host`);
        const credentialName = p.string(
            h.credentialName,
            `${hp}.credentialName`,
            secretName,
            "a Secret name",
        );
        const serviceName = p.label(h.service, `${hp}.service`, true);
        const namespace = p.label(h.namespace, `${hp}.namespace`);
        let service: GlobalService | undefined;
        if (serviceName !== undefined) {
            const matches = services.filter(
                (s) => s.name === serviceName && (namespace === undefined || s.namespace === namespace),
            );
            const known = services.map((s) => `${s.namespace}/${s.name}`).join(", ") || "none";
            if (matches.length === 0)
                p.fail(
                    `${hp}.service`,
                    `${excerpt(serviceName)}${namespace ? ` in ${namespace}` : ""} is not one of istio-multicluster:services; services are: ${known}`,
                );
            else if (matches.length > 1)
                p.fail(
                    `${hp}.namespace`,
                    `required: ${excerpt(serviceName)} is a service in ${matches.map((s) => s.namespace).join(" and ")}`,
                );
            else service = matches[0];
        }
        let port: number | undefined;
        if (service) {
            const http = service.ports.filter((x) => x.protocol !== "TCP");
            port = p.port(h.port, `${hp}.port`, false);
            if (port === undefined && h.port === undefined) {
                port = http[0]?.number;
                if (port === undefined)
                    p.fail(
                        `${hp}.service`,
                        `${excerpt(service.name)} has no HTTP, HTTP2 or GRPC port; ingress routes HTTP`,
                    );
            } else if (port !== undefined && !http.some((x) => x.number === port)) {
                p.fail(
                    `${hp}.port`,
                    `${port} is not an HTTP, HTTP2 or GRPC port of ${service.name}; its ports are: ${service.ports.map((x) => `${x.number} (${x.protocol})`).join(", ")}`,
                );
                port = undefined;
            }
        }
        if (host !== undefined && service !== undefined && port !== undefined) {
            hosts.push(prune({ host, service, port, credentialName, index: j }));
        }
    });
    return {
        clusters: chosen,
        gateway: prune({
            serviceType,
            sourceRanges,
            serviceAnnotations,
            replicas,
            autoscale,
            pdb,
            resources,
        }),
        hosts,
    };
}

/**
 * Validates `istio-multicluster:services`, `externalServices` and `ingress` against the validated clusters:
 * every problem at once, each with its config path and fix. A missing key is an empty list (no ingress); when
 * none of the three is set, `traffic` is undefined. `namespaceNames` are the mesh's application namespaces
 * (`istio-multicluster:namespaces`); undefined or empty, service namespaces are not cross-checked yet.
 */
export function validateTraffic(
    raw: RawTraffic,
    clusters: readonly ClusterSpec[],
    namespaceNames?: readonly string[],
): { readonly traffic?: TrafficSpec; readonly errors: readonly string[] } {
    if (raw.services === undefined && raw.externalServices === undefined && raw.ingress === undefined) {
        return { errors: [] };
    }
    const p = new Problems();
    const services: GlobalService[] = [];
    p.list(raw.services, `${P}:services`, "services")?.forEach((s, i) => {
        const svc = readService(p, s, i, clusters);
        if (!svc) return;
        const prev = services.find((x) => x.name === svc.name && x.namespace === svc.namespace);
        if (prev) {
            p.fail(
                `${P}:services[${i}].name`,
                `${excerpt(svc.name)} in namespace ${svc.namespace} is already services[${prev.index}]; merge the two entries`,
            );
        } else services.push(svc);
    });
    const externalServices: ExternalService[] = [];
    p.list(raw.externalServices, `${P}:externalServices`, "external services")?.forEach((s, i) => {
        const ext = readExternal(p, s, i);
        if (!ext) return;
        const prev = externalServices.find((x) => x.name === ext.name && x.namespace === ext.namespace);
        if (prev) {
            return p.fail(
                `${P}:externalServices[${i}].name`,
                `${excerpt(ext.name)} in namespace ${ext.namespace} is already externalServices[${prev.index}]; names must be unique`,
            );
        }
        ext.hosts.forEach((h, j) => {
            // A MESH_EXTERNAL entry for a name of the cluster's own services would shadow that service.
            const shadowed = services.find((g) =>
                [`${g.name}.${g.namespace}.svc.cluster.local`, `${g.name}.${g.namespace}.svc`].includes(h),
            );
            if (shadowed || /\.svc(\.cluster\.local)?$/.test(h))
                p.fail(
                    `${P}:externalServices[${i}].hosts[${j}]`,
                    `${excerpt(h)} is ${shadowed ? `the global service services[${shadowed.index}]` : "a name of the clusters' own Services"}` +
                        "; an external service of that name would shadow it in the mesh: external hosts are names outside the clusters",
                );
            const other = externalServices.find((x) => x.hosts.includes(h));
            if (other)
                p.fail(
                    `${P}:externalServices[${i}].hosts[${j}]`,
                    `${excerpt(h)} is already a host of externalServices[${other.index}]; declare each host once`,
                );
        });
        externalServices.push(ext);
    });
    const ingress = raw.ingress === undefined ? undefined : readIngress(p, raw.ingress, clusters, services);
    const namespaceProblems = checkServiceNamespaces(services, namespaceNames, externalServices);
    return {
        traffic: prune({ services, externalServices, ingress }),
        errors: [...p.errors, ...namespaceProblems],
    };
}

/**
 * Services (and external services outside `istio-system`) whose namespace is not one of the mesh's application
 * namespaces (`istio-multicluster:namespaces`), as problems with their path: their objects could not be
 * created there. Undefined `namespaceNames` means the namespaces are not known (they were refused): nothing is
 * checked; an empty list means none is declared, so every such service is refused.
 */
export function checkServiceNamespaces(
    services: readonly GlobalService[],
    namespaceNames: readonly string[] | undefined,
    externalServices: readonly ExternalService[] = [],
): string[] {
    if (namespaceNames === undefined) return [];
    const declared = namespaceNames.length > 0 ? namespaceNames.join(", ") : "none is declared";
    const problem = (key: string, s: { namespace: string; index: number }) =>
        `${P}:${key}[${s.index}].namespace: ${excerpt(s.namespace)} is not one of istio-multicluster:namespaces ` +
        `(${declared}); add it there or move the service`;
    return [
        ...services.filter((s) => !namespaceNames.includes(s.namespace)).map((s) => problem("services", s)),
        ...externalServices
            .filter((e) => e.namespace !== istioSystem && !namespaceNames.includes(e.namespace))
            .map((e) => problem("externalServices", e)),
    ];
}

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

const networkingV1 = "networking.istio.io/v1";

/** The fully qualified host of a global service. */
export function serviceHost(s: Pick<GlobalService, "name" | "namespace">): string {
    return `${s.name}.${s.namespace}.svc.${clusterDomain}`;
}

/** The hosts that must stay in their cluster (`meshConfig.serviceSettings` with `clusterLocal: true`). */
export function clusterLocalHosts(traffic: TrafficSpec): string[] {
    return traffic.services.filter((s) => s.clusterLocal).map(serviceHost);
}

/** Regions in order, as Istio's `failover` pairs: each to the next, the last back to the first. */
function failoverPairs(order: readonly string[]): { from: string; to: string }[] {
    return order.map((from, i) => ({ from, to: order[(i + 1) % order.length]! }));
}

function localityLb(s: GlobalService): Record<string, unknown> | undefined {
    if (!s.failoverOrder && !s.failoverPriority && !s.distribute) return undefined;
    return {
        enabled: true,
        ...(s.distribute ? { distribute: s.distribute.map((d) => ({ from: d.from, to: { ...d.to } })) } : {}),
        ...(s.failoverOrder ? { failover: failoverPairs(s.failoverOrder) } : {}),
        ...(s.failoverPriority ? { failoverPriority: [...s.failoverPriority] } : {}),
    };
}

function connectionPool(c: ConnectionPool): Record<string, unknown> {
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
function weighted(s: GlobalService, port: number): Record<string, unknown>[] {
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
