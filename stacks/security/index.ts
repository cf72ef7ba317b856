/**
 * Mesh security as code: the application namespaces every cluster gets, mesh-wide and per-namespace mTLS, and
 * per-namespace authorization. Pure: it reads the raw `istio-multicluster:namespaces` and
 * `istio-multicluster:security` values (given the mesh's trust domain and revision), returns every problem at
 * once with its config path and fix, and derives the exact objects each cluster receives.
 *
 * Every primary receives the same Istio objects (computed once, here): in a multi-primary mesh each istiod
 * reads Istio config only from its own cluster, so a policy missing from one primary silently does not hold for
 * the workloads that primary serves. Remotes receive the namespaces only: their workloads are configured by
 * their primary's istiod, which never reads Istio config from the remote.
 */
export {
    AllowOperation,
    AllowRule,
    AllowSource,
    MeshNamespace,
    MtlsMode,
    SecurityContext,
    SecurityObject,
    SecurityResult,
    SecuritySettings,
    allowNothingAnnotation,
    allowNothingName,
    namespacesKey,
    peerAuthenticationName,
    securityKey,
} from "./settings";
export { validateSecurity } from "./read";
export {
    ClusterSecurity,
    NamespaceManifest,
    namespaceMetadata,
    objectResourceName,
    principal,
    securityObjects,
    securityPlan,
} from "./objects";
