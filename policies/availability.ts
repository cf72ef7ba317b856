/**
 * Availability: control planes and east-west gateways that survive a node drain, sized on purpose, and a PKI
 * that `pulumi destroy` or a replacement cannot take away.
 */
import { ResourceValidationPolicy } from "@pulumi/policy/policy";
import {
    at,
    ChartInfo,
    configOf,
    isCacerts,
    isEastWestGateway,
    isRemoteIstiod,
    istioChart,
    isUnknown,
    num,
    resourceOf,
    str,
    types,
    Unknown,
} from "./lib";

/** A Deployment the mesh's availability rests on: a primary's istiod or an east-west gateway. */
function workload(type: string, props: Record<string, unknown>): ChartInfo | undefined {
    const chart = istioChart(type, props);
    if (chart?.chart === "istiod" && !isRemoteIstiod(chart.values)) return chart;
    if (chart?.chart === "gateway" && isEastWestGateway(chart.values)) return chart;
    return undefined;
}

/** The fewest replicas the chart values run (with autoscaling: its minimum), chart defaults applied. */
export function minReplicas(chart: ChartInfo): number | Unknown {
    const v = chart.values;
    const pick = (x: number | Unknown | undefined, d: number) => (x === undefined ? d : x);
    if (chart.chart === "istiod") {
        const autoscale = at(v, "autoscaleEnabled");
        if (isUnknown(autoscale)) return autoscale;
        return autoscale === false ? pick(num(v, "replicaCount"), 1) : pick(num(v, "autoscaleMin"), 1);
    }
    const autoscale = at(v, "autoscaling", "enabled");
    if (isUnknown(autoscale)) return autoscale;
    return autoscale === false
        ? pick(num(v, "replicaCount"), 1)
        : pick(num(v, "autoscaling", "minReplicas"), 1);
}

/** The availability policies' configuration. */
export interface AvailabilityConfig {
    /** The fewest replicas of istiod and of each east-west gateway. Default 2. */
    readonly minReplicas?: number;
}

const what = (chart: ChartInfo) => (chart.chart === "istiod" ? "istiod" : "east-west gateway");

/**
 * The stack config that sizes a workload: `mesh.controlPlane` for istiod, `mesh.eastWest` (or one cluster's
 * `eastWest`) for a gateway. Messages name these, never the chart values the program derives from them.
 */
const settingOf = (chart: ChartInfo, key: string) =>
    chart.chart === "istiod"
        ? `\`mesh.controlPlane.${key}\``
        : `\`mesh.eastWest.${key}\` (or the cluster's \`clusters[].eastWest.${key}\`)`;

/** istiod and east-west gateways run at least `minReplicas` (2) replicas. */
export const controlPlaneReplicas: ResourceValidationPolicy = {
    name: "control-plane-replicas",
    description: "Primary istiod and east-west gateways run at least 2 replicas (configurable).",
    configSchema: { properties: { minReplicas: { type: "integer", minimum: 1, default: 2 } } },
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = workload(r.type, r.props);
        if (!chart) return;
        const { minReplicas: min } = configOf<AvailabilityConfig>(args, { minReplicas: 2 });
        const n = minReplicas(chart);
        if (typeof n === "number" && n < min!) {
            reportViolation(
                `${what(chart)} ${r.name} may run ${n} replica(s); set ${settingOf(chart, "replicas")} ` +
                    `(or \`autoscale.min\`) to at least ${min}`,
            );
        }
    },
};

/** Stands for an unknown setting inside `allowedDisruptions` (no real setting is negative). */
const UNKNOWN_MARK = -1;

/** How many pods a PodDisruptionBudget lets a drain evict, given the fewest replicas; undefined if unknown. */
function allowedDisruptions(pdb: Record<string, unknown>, replicas: number): number | undefined {
    const value = (k: string) => {
        const x = at(pdb, k);
        if (isUnknown(x)) return UNKNOWN_MARK;
        if (typeof x === "number") return x;
        if (typeof x === "string" && /^\d+%$/.test(x)) return Math.floor((replicas * parseInt(x, 10)) / 100);
        if (typeof x === "string" && /^\d+$/.test(x)) return Number(x);
        return undefined;
    };
    const maxUnavailable = value("maxUnavailable");
    if (maxUnavailable === UNKNOWN_MARK) return undefined;
    if (maxUnavailable !== undefined) return maxUnavailable;
    const minAvailable = value("minAvailable");
    if (minAvailable === UNKNOWN_MARK) return undefined;
    return replicas - (minAvailable ?? 1);
}

/** The PodDisruptionBudget a chart renders: undefined when none, `{}`-like settings otherwise. */
function pdbOf(chart: ChartInfo): Record<string, unknown> | Unknown | undefined {
    const v = chart.values;
    if (chart.chart === "istiod") {
        const enabled = at(v, "global", "defaultPodDisruptionBudget", "enabled");
        if (isUnknown(enabled)) return enabled;
        if (enabled === false) return undefined;
        const pdb = at(v, "pdb");
        if (isUnknown(pdb)) return pdb;
        // The chart's default: minAvailable 1.
        return typeof pdb === "object" && pdb !== null
            ? (pdb as Record<string, unknown>)
            : { minAvailable: 1 };
    }
    const pdb = at(v, "podDisruptionBudget");
    if (isUnknown(pdb)) return pdb;
    if (typeof pdb !== "object" || pdb === null) return undefined;
    const settings = pdb as Record<string, unknown>;
    return settings.minAvailable === undefined && settings.maxUnavailable === undefined
        ? undefined
        : settings;
}

/** istiod and east-west gateways have a PodDisruptionBudget that still lets a drain evict one pod. */
export const podDisruptionBudget: ResourceValidationPolicy = {
    name: "pod-disruption-budget",
    description:
        "Primary istiod and east-west gateways have a PodDisruptionBudget that cannot block a node drain.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = workload(r.type, r.props);
        if (!chart) return;
        const pdb = pdbOf(chart);
        const replicas = minReplicas(chart);
        if (isUnknown(pdb) || isUnknown(replicas)) return;
        const key = settingOf(chart, "pdb");
        if (pdb === undefined) {
            reportViolation(`${what(chart)} ${r.name} has no PodDisruptionBudget; set ${key} to true`);
            return;
        }
        const allowed = allowedDisruptions(pdb, replicas);
        if (allowed !== undefined && allowed < 1) {
            reportViolation(
                `${what(chart)} ${r.name} has a PodDisruptionBudget that allows no eviction with ${replicas} ` +
                    `replica(s), which blocks node drains; set ${key} to true (a budget of maxUnavailable 1)`,
            );
        }
    },
};

/** istiod and east-west gateways set their CPU and memory requests explicitly. */
export const resourceRequestsSet: ResourceValidationPolicy = {
    name: "resource-requests-set",
    description: "Primary istiod and east-west gateways set CPU and memory requests explicitly.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = workload(r.type, r.props);
        if (!chart) return;
        const missing = ["cpu", "memory"].filter(
            (k) =>
                str(chart.values, "resources", "requests", k) === undefined &&
                num(chart.values, "resources", "requests", k) === undefined,
        );
        if (missing.length > 0) {
            reportViolation(
                `${what(chart)} ${r.name} sets no ${missing.join(" or ")} request; set ` +
                    `${missing.map((k) => settingOf(chart, `resources.requests.${k}`)).join(" and ")} to what it needs`,
            );
        }
    },
};

/**
 * The PKI is `protect`ed where a loss cannot be undone: the CA private keys (`tls` PrivateKey) and the
 * `cacerts` Secrets. A new key means a new CA, whose certificates no workload of the mesh trusts yet.
 *
 * Certificates (SelfSignedCert, LocallySignedCert) and CertRequests are deliberately not required, and must
 * not be protected: @pulumi/tls renews them by replacement once `earlyRenewalHours` (30 days before expiry)
 * is reached, and Pulumi refuses to replace a protected resource, so protecting them would make every
 * `pulumi up` fail from then on. Re-signing with the same protected key keeps the mesh's trust.
 */
export const pkiProtected: ResourceValidationPolicy = {
    name: "pki-protected",
    description: "CA private keys and cacerts Secrets are protected against deletion and replacement.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const pki = r.type === types.privateKey || (r.type === types.secret && isCacerts(r.props));
        if (pki && !r.protect) {
            reportViolation(`${r.type} ${r.name} is not protected; set \`mesh.ca.protect\` to true`);
        }
    },
};

/** The availability policies. */
export const availabilityPolicies = [
    controlPlaneReplicas,
    podDisruptionBudget,
    resourceRequestsSet,
    pkiProtected,
];
