/**
 * Names, labels and annotations that Istio reads: pure functions of the topology.
 */
import { ClusterSpec, projectName } from "./core";

/** The label on every object this program creates outside a chart, so `kubectl get -l` finds them. */
export const managedByLabel: Readonly<Record<string, string>> = {
    "app.kubernetes.io/managed-by": projectName,
};

/** The namespace Istio's control plane, `cacerts` and remote secrets live in. */
export const istioNamespace = "istio-system";

/** Label that tells Istio which network a namespace's (or gateway's) workloads are on. */
export const networkLabel = "topology.istio.io/network";

/** Annotation on a remote's `istio-system` naming the cluster whose control plane serves it. */
export const controlPlaneClustersAnnotation = "topology.istio.io/controlPlaneClusters";

/** The remote secret through which primaries read `cluster` (as `istioctl create-remote-secret` names it). */
export function remoteSecretName(cluster: string): string {
    return `istio-remote-secret-${cluster}`;
}

/** Metadata of a cluster's `istio-system` namespace: the network label, and on a remote its control plane. */
export function istioNamespaceMetadata(cluster: ClusterSpec): {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
} {
    return {
        name: istioNamespace,
        ...(cluster.network !== undefined ? { labels: { [networkLabel]: cluster.network } } : {}),
        ...(cluster.role === "remote" && cluster.primary !== undefined
            ? { annotations: { [controlPlaneClustersAnnotation]: cluster.primary } }
            : {}),
    };
}

/**
 * The namespace label that turns on sidecar injection for the mesh's install: `istio.io/rev=<revision>` when
 * the mesh has a revision (the injection webhooks of a revisioned install match only that), otherwise
 * `istio-injection=enabled`. Application namespaces of every cluster carry it, whatever their role.
 */
export function injectionLabel(revision: string | undefined): Readonly<Record<string, string>> {
    return revision ? { "istio.io/rev": revision } : { "istio-injection": "enabled" };
}
