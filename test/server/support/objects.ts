/**
 * Every Kubernetes object a plan would create, per cluster, in the order `pulumi up` creates them: the plan's
 * resources in dependency order, each Helm release as `helm template` renders it with exactly the planned
 * values (its objects in Helm's install order), each of the program's own objects from its inputs as the
 * engine received them (secrets in plain text, as the provider sends them).
 */
import * as path from "node:path";
import { dependencyOrder } from "../../../tools/graph";
import { isUnknown, Plan, plainInputs, PlannedResource } from "../../../tools/planner";
import { chartArchive } from "../../charts/chartsDir";
import { K8sObject, template } from "../../support/helm";
import { isIstioRelease, isObservabilityRelease, observabilityChartOf } from "../../support/releases";
import { chartDefaults } from "../../../stacks/observability";

/** One object to apply, and what it came from. */
export interface ServerObject {
    readonly cluster: string;
    /** The plan's resource name (a release's name for its rendered objects). */
    readonly source: string;
    readonly object: K8sObject;
}

/** Helm's install order by kind (Helm's kind sorter); kinds it does not list come after. */
const helmInstallOrder = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

function installRank(kind: string): number {
    const i = helmInstallOrder.indexOf(kind);
    return i === -1 ? helmInstallOrder.length : i;
}

/** Paths of values still unknown (they would be known after apply). */
function unknownPaths(v: unknown, at = ""): string[] {
    if (isUnknown(v)) return [at || "(the value)"];
    if (Array.isArray(v)) return v.flatMap((x, i) => unknownPaths(x, `${at}[${i}]`));
    if (typeof v === "object" && v !== null)
        return Object.entries(v).flatMap(([k, x]) => unknownPaths(x, at ? `${at}.${k}` : k));
    return [];
}

/** `kubernetes:apps/v1:Deployment` → `apps/v1`, `Deployment`; core → `v1`. */
function typeToGvk(type: string): { apiVersion: string; kind: string } | undefined {
    const m = /^kubernetes:([^/]+)\/([^:]+):(.+)$/.exec(type);
    if (!m || m[1] === "helm.sh") return undefined;
    return { apiVersion: m[1] === "core" ? m[2]! : `${m[1]}/${m[2]}`, kind: m[3]! };
}

/** Where the tier finds the charts a release names. */
export interface ChartSources {
    /** Istio's charts folder (`<reference>/charts`). */
    readonly istioCharts: string;
    /** `--kube-version` for helm template: the local clusters' version. */
    readonly kubeVersion: string;
}

async function renderRelease(r: PlannedResource, charts: ChartSources): Promise<K8sObject[]> {
    const inputs = plainInputs(r);
    const unknown = unknownPaths(inputs.values);
    if (unknown.length > 0)
        throw new Error(`${r.name}: values still unknown after apply: ${unknown.join(", ")}`);
    const namespace = inputs.namespace as string;
    let chart: string;
    if (isIstioRelease(r)) chart = path.join(charts.istioCharts, inputs.chart as string);
    else if (isObservabilityRelease(r)) {
        const pin = chartDefaults[observabilityChartOf(r)];
        chart = chartArchive({ ...pin, version: inputs.version as string });
    } else
        throw new Error(
            `${r.name}: a release of ${String(inputs.chart)}, from no chart source the tier knows`,
        );
    const objects = await template({
        releaseName: inputs.name as string,
        chart,
        namespace,
        version: inputs.version as string,
        values: inputs.values as Record<string, unknown>,
        kubeVersion: charts.kubeVersion,
    });
    return objects
        .map((o, i) => ({ o, i }))
        .sort((a, b) => installRank(a.o.kind) - installRank(b.o.kind) || a.i - b.i)
        .map(({ o }) => o);
}

/** Every object of the plan (but `skip`'s), per cluster, in apply order. */
export async function serverObjects(
    p: Plan,
    charts: ChartSources,
    skip: ReadonlySet<string> = new Set(),
): Promise<Map<string, ServerObject[]>> {
    const out = new Map<string, ServerObject[]>();
    const add = (o: ServerObject) => out.set(o.cluster, [...(out.get(o.cluster) ?? []), o]);
    const ordered = dependencyOrder(p.resources).filter(
        (r) => r.custom && r.cluster && r.readId === undefined && !skip.has(r.urn),
    );
    const rendered = await Promise.all(
        ordered.map((r) =>
            r.type === "kubernetes:helm.sh/v3:Release"
                ? renderRelease(r, charts)
                : Promise.resolve(undefined),
        ),
    );
    ordered.forEach((r, i) => {
        const cluster = r.cluster!;
        const objects = rendered[i];
        if (objects) {
            const namespace = plainInputs(r).namespace as string;
            for (const o of objects) {
                // Helm puts a release's namespaced objects in its namespace; cluster-scoped ones ignore it.
                const obj = { ...o, metadata: { namespace, ...o.metadata } };
                add({ cluster, source: r.name, object: obj });
            }
            return;
        }
        const gvk = typeToGvk(r.type);
        if (!gvk) return;
        const inputs = plainInputs(r);
        const unknown = unknownPaths(inputs);
        if (unknown.length > 0)
            throw new Error(`${r.name}: inputs still unknown after apply: ${unknown.join(", ")}`);
        const metadata =
            (inputs.metadata as K8sObject["metadata"] | undefined) ?? ({} as K8sObject["metadata"]);
        if (!metadata.name) throw new Error(`${r.name}: no metadata.name (auto-naming is not played here)`);
        add({ cluster, source: r.name, object: { ...inputs, ...gvk, metadata } });
    });
    return out;
}
