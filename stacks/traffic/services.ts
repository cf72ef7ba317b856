/** Reads `istio-multicluster:services`: global services, their locality, outlier, pool, TLS and canary settings. */
import { durationBounds, excerpt, isLabelValue, isObject, isQualifiedName } from "../checks";
import type { ClusterSpec } from "../core";
import {
    CanarySubset,
    ClientTls,
    ConnectionPool,
    Distribution,
    GlobalService,
    OutlierDetection,
    ServicePort,
    clusterLabel,
    outlierDetectionDefaults,
    serviceProtocols,
} from "./types";
import { P, Problems, dnsName, localityLabels, prune, secretName } from "./problems";

/**
 * Whether two localities can match one place: `region1/*` and `region1/zone1`, `*` and anything, `region1`
 * and `region1/*` (a last `*` and a missing part both match every zone).
 */
export function localitiesOverlap(a: string, b: string): boolean {
    const norm = (l: string) => l.replace(/(^|\/)\*$/, "");
    const [x, y] = [norm(a), norm(b)];
    return x === "" || y === "" || x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
}

/** `region`, `region/zone`, `region/zone/subzone`, each with an optional trailing `*` segment, or `*`. */
export function localityProblem(loc: string, regions: ReadonlySet<string>): string | undefined {
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

export function readOutlier(p: Problems, v: unknown, path: string): OutlierDetection {
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

export function readPool(p: Problems, v: unknown, path: string): ConnectionPool | undefined {
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

export function readClientTls(p: Problems, v: unknown, path: string): ClientTls | undefined {
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

export function readService(
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
