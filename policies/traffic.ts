/**
 * Traffic: DestinationRules and VirtualServices that do what they say. Locality failover that can act (outlier
 * detection beside it), weights that add up, subsets and routes that match, hosts that cannot be misread,
 * no plain text between sidecars, and ingress served over TLS.
 *
 * Istio's facts behind them (1.30.3): failover and failoverPriority take effect only with outlier detection
 * (Istio's own validation warns); route weights and `distribute` weights are percentages summing to 100; a
 * short DestinationRule host is resolved against the rule's namespace, not the caller's.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import {
    at,
    isUnknown,
    list,
    num,
    obj,
    resourceOf,
    stackResources,
    str,
    types,
    Unknown,
    UNKNOWN,
} from "./lib";

const destinationRuleType = "kubernetes:networking.istio.io/v1:DestinationRule";
const virtualServiceType = types.virtualService;
const servicesKey = "`istio-multicluster:services`";

type Policy = Record<string, unknown>;

/**
 * Every traffic policy of a DestinationRule with where it is and the outlier detection that applies to it
 * (its own, else the one it inherits: port-level settings and subsets override the rule's field by field).
 */
function policyLevels(spec: unknown): { where: string; policy: Policy; outlier: unknown }[] {
    const out: { where: string; policy: Policy; outlier: unknown }[] = [];
    const visit = (where: string, policy: unknown, inherited: unknown) => {
        if (isUnknown(policy) || policy === null || typeof policy !== "object") return;
        const p = policy as Policy;
        const outlier = p.outlierDetection ?? inherited;
        out.push({ where, policy: p, outlier });
        const ports = list(p, "portLevelSettings");
        if (Array.isArray(ports))
            ports.forEach((x, i) => visit(`${where}.portLevelSettings[${i}]`, x, outlier));
    };
    const top = obj(spec, "trafficPolicy");
    visit("trafficPolicy", top, undefined);
    const topOutlier = top && !isUnknown(top) ? top.outlierDetection : undefined;
    const subsets = list(spec, "subsets");
    if (Array.isArray(subsets)) {
        subsets.forEach((s, i) => visit(`subsets[${i}].trafficPolicy`, obj(s, "trafficPolicy"), topOutlier));
    }
    return out;
}

/** Whether outlier detection is absent or switched off; UNKNOWN when that cannot be told at preview. */
function noOutlierDetection(outlier: unknown): boolean | Unknown {
    if (isUnknown(outlier)) return outlier;
    if (outlier === undefined || outlier === null || typeof outlier !== "object") return true;
    const errors = num(outlier, "consecutive5xxErrors");
    const gateway = num(outlier, "consecutiveGatewayErrors");
    if (isUnknown(errors) || isUnknown(gateway)) return UNKNOWN;
    // Istio defaults consecutive5xxErrors to 5; 0 disables it, and then only gateway errors eject.
    return errors === 0 && (gateway === undefined || gateway === 0);
}

/** Locality failover needs outlier detection: without it Istio never moves traffic away. */
export const failoverNeedsOutlierDetection: ResourceValidationPolicy = {
    name: "failover-needs-outlier-detection",
    description: "A DestinationRule with locality failover or failoverPriority also sets outlier detection.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (r.type !== destinationRuleType) return;
        for (const { where, policy, outlier } of policyLevels(obj(r.props, "spec"))) {
            const lb = obj(policy, "loadBalancer", "localityLbSetting");
            if (lb === undefined || isUnknown(lb)) continue;
            const failover = list(lb, "failover");
            const priority = list(lb, "failoverPriority");
            if (isUnknown(failover) || isUnknown(priority)) continue;
            if ((failover ?? []).length === 0 && (priority ?? []).length === 0) continue;
            if (noOutlierDetection(outlier) === true) {
                reportViolation(
                    `DestinationRule ${r.name} fails over (${where}.loadBalancer.localityLbSetting) without outlier ` +
                        `detection, so Istio never fails over; set \`outlierDetection\` on the service in ${servicesKey}`,
                );
            }
        }
    },
};

/** Weighted destinations and locality distributions that add up to 100. */
export const trafficWeightsSum: ResourceValidationPolicy = {
    name: "traffic-weights-sum-100",
    description: "Route weights of a VirtualService and locality distribute weights sum to 100.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (r.type === virtualServiceType) {
            for (const kind of ["http", "tcp", "tls"] as const) {
                const routes = list(r.props, "spec", kind);
                if (!Array.isArray(routes)) continue;
                routes.forEach((route, i) => {
                    const dests = list(route, "route");
                    if (!Array.isArray(dests) || dests.length < 2) return;
                    const weights = dests.map((d) => num(d, "weight"));
                    if (weights.some(isUnknown)) return;
                    const sum = (weights as (number | undefined)[]).reduce<number>((a, w) => a + (w ?? 0), 0);
                    if (sum !== 100) {
                        reportViolation(
                            `VirtualService ${r.name} ${kind}[${i}] weights sum to ${sum}; make the service's ` +
                                `\`canary\` weights in ${servicesKey} sum to 100`,
                        );
                    }
                });
            }
        }
        if (r.type === destinationRuleType) {
            for (const { where, policy } of policyLevels(obj(r.props, "spec"))) {
                const distribute = list(policy, "loadBalancer", "localityLbSetting", "distribute");
                if (!Array.isArray(distribute)) continue;
                distribute.forEach((d, i) => {
                    const to = obj(d, "to");
                    if (to === undefined || isUnknown(to)) return;
                    const weights = Object.keys(to).map((k) => num(to, k));
                    if (weights.some(isUnknown)) return;
                    const sum = (weights as (number | undefined)[]).reduce<number>((a, w) => a + (w ?? 0), 0);
                    if (sum !== 100) {
                        reportViolation(
                            `DestinationRule ${r.name} ${where}.loadBalancer.localityLbSetting.distribute[${i}] ` +
                                `weights sum to ${sum}; make the service's \`distribute\` weights in ${servicesKey} sum to 100`,
                        );
                    }
                });
            }
        }
    },
};

/**
 * A host as Istio resolves it from an object in `namespace`: a short name is qualified with that namespace,
 * `name.namespace` with the cluster domain.
 */
function qualify(host: string, namespace: string): string {
    const parts = host.split(".");
    if (parts.length === 1) return `${host}.${namespace}.svc.cluster.local`;
    if (parts.length === 2) return `${host}.svc.cluster.local`;
    if (parts.length === 3 && parts[2] === "svc") return `${host}.cluster.local`;
    if (parts.length === 4 && parts[2] === "svc" && parts[3] === "cluster") return `${host}.local`;
    return host;
}

/** Subsets that routes use and routes that find their subset, per cluster and host. */
export const subsetsRouted: StackValidationPolicy = {
    name: "subsets-routed",
    description:
        "Every subset a VirtualService routes to is defined by a DestinationRule, and every subset is routed to.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const clusters = new Set(all.map((r) => r.cluster));
        for (const cluster of clusters) {
            const defined = new Map<string, { subset: string; rule: (typeof all)[number] }[]>();
            let unknown = false;
            for (const r of all.filter((x) => x.cluster === cluster && x.type === destinationRuleType)) {
                const host = str(r.props, "spec", "host");
                const ns = str(r.props, "metadata", "namespace") ?? "default";
                const subsets = list(r.props, "spec", "subsets");
                if (isUnknown(host) || isUnknown(ns) || isUnknown(subsets)) {
                    unknown = true;
                    continue;
                }
                if (host === undefined) continue;
                const key = qualify(host, ns);
                for (const s of subsets ?? []) {
                    const name = str(s, "name");
                    if (isUnknown(name)) unknown = true;
                    else if (name !== undefined)
                        (defined.get(key) ?? defined.set(key, []).get(key)!).push({ subset: name, rule: r });
                }
            }
            const used = new Set<string>();
            const routes: { vs: (typeof all)[number]; host: string; subset: string }[] = [];
            for (const r of all.filter((x) => x.cluster === cluster && x.type === virtualServiceType)) {
                const ns = str(r.props, "metadata", "namespace") ?? "default";
                if (isUnknown(ns)) {
                    unknown = true;
                    continue;
                }
                for (const kind of ["http", "tcp", "tls"]) {
                    const rs = list(r.props, "spec", kind);
                    if (isUnknown(rs)) unknown = true;
                    for (const route of Array.isArray(rs) ? rs : []) {
                        const dests = list(route, "route");
                        if (isUnknown(dests)) unknown = true;
                        for (const d of Array.isArray(dests) ? dests : []) {
                            const host = str(d, "destination", "host");
                            const subset = str(d, "destination", "subset");
                            if (isUnknown(host) || isUnknown(subset)) {
                                unknown = true;
                                continue;
                            }
                            if (host === undefined || subset === undefined) continue;
                            const key = qualify(host, ns);
                            used.add(`${key}#${subset}`);
                            routes.push({ vs: r, host: key, subset });
                        }
                    }
                }
            }
            for (const { vs, host, subset } of routes) {
                if (!(defined.get(host) ?? []).some((d) => d.subset === subset)) {
                    reportViolation(
                        `VirtualService ${vs.name} routes to subset ${subset} of ${host}, which no DestinationRule ` +
                            `in cluster ${cluster ?? "(none)"} defines; list it in the service's \`canary\` in ${servicesKey}`,
                        vs.urn,
                    );
                }
            }
            // A subset unused by any known route is only reported when every route could be read.
            if (unknown) continue;
            for (const [host, subsets] of defined) {
                for (const { subset, rule } of subsets) {
                    if (!used.has(`${host}#${subset}`)) {
                        reportViolation(
                            `DestinationRule ${rule.name} defines subset ${subset} of ${host} that no VirtualService ` +
                                `routes to; give it a weight in the service's \`canary\` in ${servicesKey} or remove it`,
                            rule.urn,
                        );
                    }
                }
            }
        }
    },
};

/** DestinationRule hosts written in full, so they cannot resolve against the wrong namespace. */
export const destinationRuleHostQualified: ResourceValidationPolicy = {
    name: "destination-rule-host-fqdn",
    description:
        "A DestinationRule's host is fully qualified (name.namespace.svc.cluster.local, or an external FQDN).",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (r.type !== destinationRuleType) return;
        const host = str(r.props, "spec", "host");
        const ns = str(r.props, "metadata", "namespace");
        if (typeof host !== "string" || isUnknown(ns) || host.startsWith("*")) return;
        const parts = host.split(".");
        const short =
            parts.length === 1 ||
            parts[parts.length - 1] === "svc" ||
            host.endsWith(".svc.cluster") ||
            (parts.length === 2 && parts[1] === ns);
        if (short) {
            reportViolation(
                `DestinationRule ${r.name} host ${JSON.stringify(host)} is not fully qualified, so Istio resolves it ` +
                    `against the rule's namespace; write ${qualify(host, ns ?? "<namespace>")}`,
            );
        }
    },
};

/** Sidecar-to-sidecar traffic is never sent in plain text by a DestinationRule. */
export const clientTlsNotDisabled: ResourceValidationPolicy = {
    name: "client-tls-not-disabled",
    description: "No DestinationRule sets tls.mode DISABLE (plain text where auto mTLS would encrypt).",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (r.type !== destinationRuleType) return;
        for (const { where, policy } of policyLevels(obj(r.props, "spec"))) {
            if (str(policy, "tls", "mode") === "DISABLE") {
                reportViolation(
                    `DestinationRule ${r.name} sets ${where}.tls.mode DISABLE, sending plain text; remove \`tls\` ` +
                        `from the service in ${servicesKey} (auto mTLS applies) or set another mode`,
                );
            }
        }
    },
};

/** Ingress Gateways serve TLS (HTTP only to redirect to HTTPS). */
export const ingressTlsRequired: ResourceValidationPolicy = {
    name: "ingress-tls-required",
    description: "Ingress Gateway servers use TLS; plain HTTP only redirects to HTTPS.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (r.type !== types.gateway) return;
        const selector = str(r.props, "spec", "selector", "istio");
        // The east-west gateway's Gateways are exposure's concern (passthrough by design).
        if (isUnknown(selector) || selector === "eastwestgateway") return;
        const servers = list(r.props, "spec", "servers");
        if (!Array.isArray(servers)) return;
        servers.forEach((s, i) => {
            const protocol = str(s, "port", "protocol");
            const redirect = at(s, "tls", "httpsRedirect");
            if (isUnknown(protocol) || isUnknown(redirect)) return;
            const p = (protocol ?? "").toUpperCase();
            if ((p === "HTTP" || p === "HTTP2" || p === "GRPC" || p === "TCP") && redirect !== true) {
                const hosts = list(s, "hosts");
                reportViolation(
                    `Gateway ${r.name} servers[${i}] serves ${Array.isArray(hosts) ? hosts.join(", ") : "its hosts"} ` +
                        `without TLS (${protocol}); set \`credentialName\` on the host in \`istio-multicluster:ingress\``,
                );
            }
        });
    },
};

/** The traffic policies. */
export const trafficPolicies = [
    failoverNeedsOutlierDetection,
    trafficWeightsSum,
    subsetsRouted,
    destinationRuleHostQualified,
    clientTlsNotDisabled,
    ingressTlsRequired,
];
