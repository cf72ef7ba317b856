/**
 * Hardening of istio-system: istiod and the east-west gateways fenced by NetworkPolicies that keep the
 * cross-network path open, a ResourceQuota that never blocks their scale-up, and replicas spread across nodes.
 *
 * Self-contained: the chart defaults below are the facts of Istio 1.30.3's charts (`istiod` and `gateway`
 * values.yaml), restated here because the pack imports nothing from the program.
 */
import { StackValidationPolicy } from "@pulumi/policy/policy";
import {
    at,
    isEastWestGateway,
    isRemoteIstiod,
    istioChart,
    istioNamespace,
    isUnknown,
    list,
    num,
    obj,
    Res,
    stackResources,
    str,
    UNKNOWN,
    Unknown,
} from "./lib";

const networkPolicyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const quotaType = "kubernetes:core/v1:ResourceQuota";

/** Chart defaults: requests per pod, autoscaling maximum, rollout surge (percent). */
const defaults = {
    istiod: { cpu: "500m", memory: "2048Mi", max: 5, surge: 100 },
    gateway: { cpu: "100m", memory: "128Mi", max: 5, surge: 25 },
} as const;

const quantity = /^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const factors: Record<string, number> = {
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
};

/** CPU in millicores or memory in bytes; undefined for anything else. */
function amount(q: string, kind: "cpu" | "memory"): number | undefined {
    const m = quantity.exec(q);
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = m[2];
    if (kind === "cpu") return unit === undefined ? n * 1000 : unit === "m" ? n : undefined;
    return unit === "m" ? undefined : n * (unit === undefined ? 1 : factors[unit]!);
}

/** A release of the mesh's control plane or one of its gateways, with the labels its pods carry. */
interface Workload {
    readonly res: Res;
    readonly kind: "istiod" | "gateway";
    readonly values: Record<string, unknown>;
}

function workloads(all: readonly Res[]): Workload[] {
    return all.flatMap((res): Workload[] => {
        const chart = istioChart(res.type, res.props);
        if (chart?.chart === "istiod" && !isRemoteIstiod(chart.values))
            return [{ res, kind: "istiod", values: chart.values }];
        if (chart?.chart === "gateway") return [{ res, kind: "gateway", values: chart.values }];
        return [];
    });
}

/** A NetworkPolicy's pod selector labels, or UNKNOWN. */
const selectorOf = (np: Res) => obj(np.props, "spec", "podSelector", "matchLabels");

/** The label a workload's pods are told apart by: istiod's `app`, a gateway's `istio` (the chart's selector). */
function keyLabel(w: Workload): [string, string | Unknown] {
    if (w.kind === "istiod") return ["app", "istiod"];
    const label = str(w.values, "labels", "istio");
    if (label !== undefined) return ["istio", label];
    const name = str(w.values, "name");
    if (isUnknown(name)) return ["istio", name];
    return ["istio", (name || "").replace(/^istio-/, "")];
}

/** The NetworkPolicies in istio-system of the workload's cluster that select its pods (UNKNOWN where unsure). */
function policiesFor(w: Workload, all: readonly Res[]): (Res | Unknown)[] {
    const [key, value] = keyLabel(w);
    if (isUnknown(value)) return [UNKNOWN];
    return all
        .filter((r) => r.type === networkPolicyType && r.cluster === w.res.cluster)
        .flatMap((np): (Res | Unknown)[] => {
            const ns = str(np.props, "metadata", "namespace");
            const sel = selectorOf(np);
            if (isUnknown(ns) || isUnknown(sel)) return [UNKNOWN];
            if (ns !== istioNamespace || sel === undefined) return [];
            const v = sel[key];
            if (isUnknown(v)) return [UNKNOWN];
            return v === value ? [np] : [];
        });
}

/** The ports a NetworkPolicy admits; UNKNOWN when any is unknown. */
function admittedPorts(np: Res): Set<number> | Unknown {
    const rules = list(np.props, "spec", "ingress");
    if (isUnknown(rules)) return rules;
    const out = new Set<number>();
    for (const rule of rules ?? []) {
        const ports = list(rule, "ports");
        if (isUnknown(ports)) return ports;
        for (const p of ports ?? []) {
            const n = num(p, "port");
            if (isUnknown(n)) return n;
            if (n !== undefined) out.add(n);
        }
    }
    return out;
}

/**
 * istiod and every east-west gateway have a NetworkPolicy in istio-system; a network gateway's admits 15443
 * when the mesh spans networks (without it, every cross-network call fails).
 */
export const networkPoliciesPresent: StackValidationPolicy = {
    name: "istio-system-network-policies",
    description:
        "istiod and every east-west gateway are fenced by a NetworkPolicy in istio-system that keeps the cross-network port open.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const ws = workloads(all).filter((w) => w.kind === "istiod" || isEastWestGateway(w.values));
        const networks = new Set(
            ws.filter((w) => w.kind === "istiod").map((w) => str(w.values, "global", "network")),
        );
        for (const w of ws) {
            const found = policiesFor(w, all);
            if (found.some((f) => f === UNKNOWN)) continue;
            const what = w.kind === "istiod" ? "istiod" : "the east-west gateway";
            if (found.length === 0) {
                reportViolation(
                    `${w.res.name}: ${what} of cluster ${w.res.cluster ?? "?"} has no NetworkPolicy in istio-system; ` +
                        "set `hardening.mode` to `full` (or `light`), or remove `mode: off`",
                    w.res.urn,
                );
                continue;
            }
            const network = str(w.values, "networkGateway");
            if (w.kind !== "gateway" || isUnknown(network) || !network || networks.size < 2) continue;
            const ports = found.map((np) => admittedPorts(np as Res));
            if (ports.some(isUnknown)) continue;
            if (!ports.some((p) => (p as Set<number>).has(15443))) {
                reportViolation(
                    `${w.res.name}: no NetworkPolicy admits 15443 to the east-west gateway of ${w.res.cluster ?? "?"}, ` +
                        "so calls from other networks are dropped; let the program's `hardening` write the policy",
                    w.res.urn,
                );
            }
        }
    },
};

/** What one workload needs at its peak: pods, millicores, bytes; UNKNOWN when its values are unknown. */
function peak(w: Workload): { pods: number; cpu: number; memory: number } | Unknown {
    const d = defaults[w.kind];
    const v = w.values;
    const autoscale = w.kind === "istiod" ? at(v, "autoscaleEnabled") : at(v, "autoscaling", "enabled");
    const max =
        w.kind === "istiod"
            ? autoscale === false
                ? num(v, "replicaCount")
                : num(v, "autoscaleMax")
            : autoscale === false
              ? num(v, "replicaCount")
              : num(v, "autoscaling", "maxReplicas");
    const cpu = str(v, "resources", "requests", "cpu");
    const memory = str(v, "resources", "requests", "memory");
    if ([autoscale, max, cpu, memory].some(isUnknown)) return UNKNOWN;
    const replicas = (max as number | undefined) ?? (autoscale === false ? 1 : d.max);
    const pods = replicas + Math.ceil((replicas * d.surge) / 100);
    return {
        pods,
        cpu: pods * (amount((cpu as string | undefined) ?? d.cpu, "cpu") ?? 0),
        memory: pods * (amount((memory as string | undefined) ?? d.memory, "memory") ?? 0),
    };
}

/**
 * The resource a cluster-wide finding is reported on: the cluster's istiod where it runs one, else its first
 * workload by URN. Never "the first one seen": the Pulumi engine hands a stack policy its resources in another
 * order than the offline plan does, and a report must not move between the two.
 */
function anchorOf(ws: readonly Workload[]): string {
    const urns = ws.map((w) => w.res.urn).sort();
    return urns.find((u) => /-istiod(-[a-z0-9-]+)?$/.test(u)) ?? urns[0]!;
}

/**
 * Every cluster running istiod or a gateway has a ResourceQuota in istio-system, and it covers what they
 * request at their maximum replicas plus the rollout's surge: a quota below that blocks a scale-up or a rollout.
 */
export const quotaCoversNeed: StackValidationPolicy = {
    name: "istio-system-quota-covers-need",
    description:
        "istio-system has a ResourceQuota that covers istiod and the gateways at maximum replicas plus rollout surge.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const byCluster = new Map<string, Workload[]>();
        for (const w of workloads(all)) {
            if (w.res.cluster === undefined) continue;
            byCluster.set(w.res.cluster, [...(byCluster.get(w.res.cluster) ?? []), w]);
        }
        for (const [cluster, ws] of byCluster) {
            const quotas = all.filter((r) => r.type === quotaType && r.cluster === cluster);
            if (quotas.length === 0) {
                reportViolation(
                    `cluster ${cluster}: istio-system has no ResourceQuota; set \`hardening.mode: full\``,
                    anchorOf(ws),
                );
                continue;
            }
            const peaks = ws.map(peak);
            if (peaks.some(isUnknown)) continue;
            const need = { pods: 0, cpu: 0, memory: 0 };
            for (const p of peaks as { pods: number; cpu: number; memory: number }[]) {
                need.pods += p.pods;
                need.cpu += p.cpu;
                need.memory += p.memory;
            }
            for (const q of quotas) {
                const hard = obj(q.props, "spec", "hard");
                if (isUnknown(hard) || hard === undefined) continue;
                const check = (
                    key: string,
                    needed: number,
                    parse: (s: string) => number | undefined,
                    say: string,
                ) => {
                    const v = hard[key];
                    if (typeof v !== "string" && typeof v !== "number") return;
                    const have = parse(String(v));
                    if (have !== undefined && have < needed) {
                        reportViolation(
                            `${q.name}: ${key} ${String(v)} is below the ${say} istiod and the gateways of ${cluster} ` +
                                "need at maximum replicas plus surge; raise `hardening.quota` or remove it",
                            q.urn,
                        );
                    }
                };
                check("requests.cpu", need.cpu, (s) => amount(s, "cpu"), `${need.cpu}m`);
                check(
                    "requests.memory",
                    need.memory,
                    (s) => amount(s, "memory"),
                    `${Math.ceil(need.memory / 2 ** 20)}Mi`,
                );
                check(
                    "pods",
                    need.pods,
                    (s) => (/^\d+$/.test(s) ? Number(s) : undefined),
                    `${need.pods} pods`,
                );
            }
        }
    },
};

/** istiod and every gateway spread their replicas across nodes. */
export const spreadSet: StackValidationPolicy = {
    name: "control-plane-spread",
    description: "istiod and every gateway spread their replicas across nodes (topology spread constraints).",
    validateStack: (args, reportViolation) => {
        for (const w of workloads(stackResources(args.resources))) {
            const constraints = list(w.values, "topologySpreadConstraints");
            if (isUnknown(constraints)) continue;
            const keys = (constraints ?? []).map((c) => str(c, "topologyKey"));
            if (keys.some(isUnknown)) continue;
            if (!keys.includes("kubernetes.io/hostname")) {
                reportViolation(
                    `${w.res.name}: ${w.kind} of cluster ${w.res.cluster ?? "?"} does not spread across nodes; a node ` +
                        "loss can take every replica; set `hardening.mode: full`",
                    w.res.urn,
                );
            }
        }
    },
};

/** The hardening policies. */
export const hardeningPolicies = [networkPoliciesPresent, quotaCoversNeed, spreadSet];
