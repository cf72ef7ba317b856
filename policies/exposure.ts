/**
 * Exposure: the network label Istio routes by, and the east-west gateway's ports, TLS modes and reach. Ports
 * and modes are those of Istio's multicluster samples (expose-services.yaml, expose-istiod.yaml) and the
 * gateway chart's `networkGatewayPorts`.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import {
    at,
    configOf,
    isEastWestGateway,
    istioChart,
    istioNamespace,
    isUnknown,
    list,
    networkLabel,
    num,
    obj,
    resourceOf,
    stackResources,
    str,
    types,
} from "./lib";

/** Each cluster's `istio-system` carries the network label of the network its istiod is on. */
export const istioSystemNetworkLabel: StackValidationPolicy = {
    name: "istio-system-network-label",
    description: "The istio-system namespace of each cluster is labelled with the network its istiod is on.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        for (const r of all) {
            const chart = istioChart(r.type, r.props);
            if (chart?.chart !== "istiod") continue;
            const network = str(chart.values, "global", "network");
            if (typeof network !== "string") continue;
            const ns = all.find(
                (n) =>
                    n.type === types.namespace &&
                    n.cluster === r.cluster &&
                    str(n.props, "metadata", "name") === istioNamespace,
            );
            if (ns === undefined) continue;
            const label = str(ns.props, "metadata", "labels", networkLabel);
            if (!isUnknown(label) && label !== network) {
                reportViolation(
                    `namespace ${ns.name} has ${networkLabel}=${JSON.stringify(label ?? null)} but istiod in ` +
                        `cluster ${r.cluster} is on network ${network}; set the cluster's \`clusters[].network\` once: ` +
                        `the program labels ${istioNamespace} and configures istiod from it`,
                    ns.urn,
                );
            }
        }
    },
};

/** The east-west gateway's Service ports, by number, as the chart's `networkGatewayPorts` defines them. */
const gatewayPorts: Record<number, string> = {
    15021: "status-port",
    15443: "tls",
    15012: "tls-istiod",
    15017: "tls-webhook",
};

/** The gateway chart's default `networkGatewayPorts`: name to port (and targetPort). */
const networkGatewayDefaults: Record<string, number> = {
    "status-port": 15021,
    tls: 15443,
    "tls-istiod": 15012,
    "tls-webhook": 15017,
};

/**
 * Problems with a network gateway's ports. Helm merges an override of `networkGatewayPorts` into the chart's
 * map, so a name left out keeps its default, a name set to null is removed, and a field left out of an entry
 * keeps its default; each of the four names must end with port == targetPort == its number.
 */
function networkGatewayPortProblems(values: Record<string, unknown>): string[] {
    const overrides = at(values, "networkGatewayPorts");
    if (isUnknown(overrides) || overrides === undefined || overrides === null) return [];
    if (typeof overrides !== "object" || Array.isArray(overrides)) return [];
    const out: string[] = [];
    for (const [name, entry] of Object.entries(overrides as Record<string, unknown>)) {
        if (isUnknown(entry)) continue;
        const n = networkGatewayDefaults[name];
        if (n === undefined) {
            const port = num(entry, "port");
            if (typeof port === "number" && !(port in gatewayPorts)) {
                out.push(
                    `adds networkGatewayPorts.${name} (port ${port}); expose only 15021, 15443, 15012, 15017`,
                );
            }
            continue;
        }
        if (entry === null) {
            out.push(
                `removes networkGatewayPorts.${name}, so it does not expose ${n} (${name}); remove that ` +
                    `override to keep the chart's port ${n}`,
            );
            continue;
        }
        const port = num(entry, "port") ?? n;
        const target = num(entry, "targetPort") ?? n;
        if (isUnknown(port) || isUnknown(target)) continue;
        if (port !== n || target !== n) {
            out.push(
                `sets networkGatewayPorts.${name} to port ${port}, targetPort ${target}; set both to ${n} ` +
                    `(or remove the override: the chart's default is right)`,
            );
        }
    }
    return out;
}

/**
 * Problems with an east-west gateway's `service.ports` (no network: the chart exposes those, and the program
 * sets status-port, tls-istiod and tls-webhook). Unset, the chart's default (15021, 80, 443) is judged.
 */
function servicePortProblems(values: Record<string, unknown>): string[] {
    const set = list(values, "service", "ports");
    if (isUnknown(set)) return [];
    const ports = set ?? chartDefaultServicePorts;
    const out: string[] = [];
    const numbers = ports.map((p) => num(p, "port"));
    if (numbers.some(isUnknown)) return [];
    for (const n of [15021, 15012, 15017]) {
        if (!numbers.includes(n)) out.push(`does not expose ${n} (${gatewayPorts[n]}); add it`);
    }
    for (const p of ports) {
        const n = num(p, "port");
        const target = num(p, "targetPort");
        if (typeof n !== "number") continue;
        if (!(n in gatewayPorts)) {
            out.push(`exposes port ${n}; expose only 15021, 15443, 15012, 15017`);
        } else if (typeof target === "number" && target !== n) {
            out.push(`maps port ${n} to ${target}; set targetPort ${n}`);
        }
    }
    return out;
}

/** The gateway chart's default `service.ports`. */
const chartDefaultServicePorts = [
    { name: "status-port", port: 15021, targetPort: 15021 },
    { name: "http2", port: 80, targetPort: 80 },
    { name: "https", port: 443, targetPort: 443 },
];

/** Gateway server ports and the TLS mode Istio defines for each. */
const serverModes: Record<number, string> = {
    15443: "AUTO_PASSTHROUGH",
    15012: "PASSTHROUGH",
    15017: "PASSTHROUGH",
};

/** istiod-vs routes: exposed port to istiod's port. */
const istiodRoutes: Record<number, number> = { 15012: 15012, 15017: 443 };

/** East-west gateway ports and TLS modes exactly as Istio defines them. */
export const eastWestGatewayPorts: ResourceValidationPolicy = {
    name: "east-west-gateway-ports",
    description:
        "East-west gateway ports and TLS modes are those Istio defines (15021, 15443, 15012, 15017; passthrough).",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = istioChart(r.type, r.props);
        if (chart?.chart === "gateway" && isEastWestGateway(chart.values)) {
            const networkGateway = at(chart.values, "networkGateway");
            if (isUnknown(networkGateway)) return;
            // The chart (`if .Values.networkGateway`) takes its Service ports from networkGatewayPorts when
            // networkGateway is a non-empty string, and from service.ports otherwise.
            const problems =
                typeof networkGateway === "string" && networkGateway !== ""
                    ? networkGatewayPortProblems(chart.values)
                    : servicePortProblems(chart.values);
            for (const p of problems) reportViolation(`east-west gateway ${r.name} ${p}`);
            return;
        }
        if (r.type === types.gateway && str(r.props, "spec", "selector", "istio") === "eastwestgateway") {
            const servers = list(r.props, "spec", "servers");
            if (servers === undefined || isUnknown(servers)) return;
            for (const s of servers) {
                const n = num(s, "port", "number");
                const protocol = str(s, "port", "protocol");
                const mode = str(s, "tls", "mode");
                if (typeof n !== "number") continue;
                const expected = serverModes[n];
                if (expected === undefined) {
                    reportViolation(
                        `Gateway ${r.name} serves port ${n} on the east-west gateway; serve only 15443, 15012, 15017`,
                    );
                    continue;
                }
                if (typeof protocol === "string" && protocol.toUpperCase() !== "TLS") {
                    reportViolation(`Gateway ${r.name} port ${n} has protocol ${protocol}; set protocol TLS`);
                }
                if (!isUnknown(mode) && mode !== expected) {
                    reportViolation(
                        `Gateway ${r.name} port ${n} has tls.mode ${JSON.stringify(mode ?? null)}; set ${expected} ` +
                            `so the gateway never terminates mesh mTLS`,
                    );
                }
            }
            return;
        }
        if (
            r.type === types.virtualService &&
            list(r.props, "spec", "gateways")?.toString() === "istiod-gateway"
        ) {
            const routes = list(r.props, "spec", "tls");
            if (routes === undefined || isUnknown(routes)) return;
            for (const route of routes) {
                const n = num(route, "match", 0, "port");
                const target = num(route, "route", 0, "destination", "port", "number");
                if (typeof n !== "number" || typeof target !== "number") continue;
                const expected = istiodRoutes[n];
                if (expected !== undefined && target !== expected) {
                    reportViolation(
                        `VirtualService ${r.name} routes ${n} to istiod:${target}; route it to istiod:${expected}`,
                    );
                }
            }
        }
    },
};

/** Service annotations that make a cloud load balancer internal, by provider. */
const internalLoadBalancer: Record<string, string[]> = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ["true"],
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ["internal"],
    "service.beta.kubernetes.io/azure-load-balancer-internal": ["true"],
    "networking.gke.io/load-balancer-type": ["Internal"],
    "cloud.google.com/load-balancer-type": ["Internal"],
    "service.beta.kubernetes.io/oci-load-balancer-internal": ["true"],
    "service.beta.kubernetes.io/openstack-internal-load-balancer": ["true"],
};

/** The policy's configuration. */
export interface RestrictedConfig {
    /** Accept a NodePort east-west Service (kind, bare metal behind a firewall). Default false. */
    readonly allowNodePort?: boolean;
}

/** East-west gateways reachable only by the other clusters: source ranges or an internal load balancer. */
export const eastWestGatewayRestricted: ResourceValidationPolicy = {
    name: "east-west-gateway-restricted",
    description:
        "East-west gateway Services are restricted by loadBalancerSourceRanges or an internal load balancer.",
    configSchema: { properties: { allowNodePort: { type: "boolean", default: false } } },
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = istioChart(r.type, r.props);
        if (chart?.chart !== "gateway" || !isEastWestGateway(chart.values)) return;
        const { allowNodePort } = configOf<RestrictedConfig>(args, { allowNodePort: false });
        const type = str(chart.values, "service", "type") ?? "LoadBalancer";
        if (isUnknown(type)) return;
        if (type === "NodePort") {
            if (!allowNodePort) {
                reportViolation(
                    `east-west gateway ${r.name} is a NodePort Service, open on every node; set ` +
                        `\`mesh.eastWest.serviceType\` to LoadBalancer with \`eastWest.sourceRanges\` or an internal ` +
                        `load balancer (\`eastWest.serviceAnnotations\`), or accept NodePort in this policy's config ` +
                        `(\`allowNodePort: true\`)`,
                );
            }
            return;
        }
        if (type !== "LoadBalancer") return;
        const ranges = list(chart.values, "service", "loadBalancerSourceRanges");
        const annotations = obj(chart.values, "service", "annotations");
        if (isUnknown(ranges) || isUnknown(annotations)) return;
        const internal = Object.entries(annotations ?? {}).some(
            ([k, v]) =>
                typeof v === "string" &&
                Object.hasOwn(internalLoadBalancer, k) &&
                (internalLoadBalancer[k] ?? []).includes(v),
        );
        const open = (ranges ?? []).filter((c) => c === "0.0.0.0/0" || c === "::/0");
        if (open.length > 0) {
            reportViolation(
                `east-west gateway ${r.name} allows ${open.join(", ")}; set \`eastWest.sourceRanges\` to the other ` +
                    `clusters' egress ranges only`,
            );
        } else if ((ranges ?? []).length === 0 && !internal) {
            reportViolation(
                `east-west gateway ${r.name} is a public load balancer open to anyone; set ` +
                    `\`mesh.eastWest.sourceRanges\` (or a cluster's \`eastWest.sourceRanges\`) to the other clusters' ` +
                    `ranges, or make it internal with \`eastWest.serviceAnnotations\``,
            );
        }
    },
};

/** The exposure policies. */
export const exposurePolicies = [istioSystemNetworkLabel, eastWestGatewayPorts, eastWestGatewayRestricted];
