/**
 * istio-multicluster: one Istio mesh across many Kubernetes clusters, derived from the stack's topology.
 *
 * Every cluster gets its own Kubernetes provider; every Kubernetes resource is created with one of them
 * explicitly (and Pulumi.yaml disables the default Kubernetes provider, so nothing can fall back to the
 * ambient kubeconfig).
 */
import * as k8s from "@pulumi/kubernetes";
import { TrustAnchor } from "./components/trustAnchor";
import { loadTopology } from "./stacks/config";
import { istioNamespaceMetadata } from "./stacks/names";

const topology = loadTopology();

const providers = new Map<string, k8s.Provider>();
const namespaces = new Map<string, k8s.core.v1.Namespace>();
for (const cluster of topology.clusters) {
    const access = cluster.access;
    const provider = new k8s.Provider(
        cluster.name,
        access.kind === "context" ? { context: access.context } : { kubeconfig: access.kubeconfig },
    );
    providers.set(cluster.name, provider);
    namespaces.set(
        cluster.name,
        new k8s.core.v1.Namespace(
            `${cluster.name}-istio-system`,
            { metadata: istioNamespaceMetadata(cluster) },
            { provider },
        ),
    );
}

const trustAnchor = new TrustAnchor(topology.mesh.meshId, {
    ca: topology.mesh.ca,
    clusters: topology.clusters
        .filter((c) => c.role === "primary")
        .map((c) => ({ name: c.name, provider: providers.get(c.name)!, namespace: namespaces.get(c.name)! })),
});

/** The mesh's root certificate (public). */
export const rootCertPem = trustAnchor.rootCertPem;
/** Per cluster: its role and network. */
export const clusters = Object.fromEntries(
    topology.clusters.map((c) => [c.name, { role: c.role, network: c.network ?? null }]),
);
