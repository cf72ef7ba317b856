/**
 * TypeScript shapes of the values that Istio 1.30.3's Helm charts (`base`, `istiod`, `gateway`) accept.
 *
 * Every key path here was checked against the charts' own `values.yaml` (and, for `gateway`, its
 * `values.schema.json`). The interfaces are exact: no index signatures except where the chart itself takes a
 * free-form map (labels, annotations, env, proxyMetadata, ...), so a misspelt key is a compile error rather
 * than a value Helm silently ignores. Members are optional wherever the chart has a default.
 *
 * Helm merges our values over the chart's defaults; the defaults quoted in the doc comments are the ones a
 * member falls back to when omitted. `test/support/istioSchemas.ts` checks emitted values against the same
 * reference files at test time (`unknownValuePaths`, `validateGatewayValues`).
 */

// ---------------------------------------------------------------------------------------------------------
// Shared helper types
// ---------------------------------------------------------------------------------------------------------

/** Kubernetes resource quantities for one container, e.g. `{ cpu: "500m", memory: "2Gi" }`. */
export interface ResourceList {
    /** CPU quantity, e.g. `"100m"` or `"2"`. Strings only: the gateway chart's schema rejects numbers. */
    readonly cpu?: string;
    /** Memory quantity, e.g. `"128Mi"`. */
    readonly memory?: string;
    /** Ephemeral storage quantity, e.g. `"1Gi"`. */
    readonly "ephemeral-storage"?: string;
}

/** A container's resource requests and limits (Kubernetes `ResourceRequirements`). */
export interface ResourceRequirements {
    /** What the scheduler reserves. */
    readonly requests?: ResourceList;
    /** The ceiling the kubelet enforces. */
    readonly limits?: ResourceList;
}

/** A Helm chart profile bundled with Istio's charts (`files/profile-<name>.yaml`). */
export type IstioProfile =
    | "ambient"
    | "default"
    | "demo"
    | "empty"
    | "minimal"
    | "openshift"
    | "openshift-ambient"
    | "preview"
    | "remote"
    | "stable";

/**
 * Which resources a chart renders: `all`, only cluster-scoped (`cluster`) or only namespace-scoped
 * (`namespace`); used to split ownership between a cluster admin and a mesh admin.
 */
export type ResourceScope = "all" | "cluster" | "namespace";

/** How Kubernetes treats pods that are not ready when a PodDisruptionBudget is evaluated. */
export type UnhealthyPodEvictionPolicy = "" | "IfHealthyBudget" | "AlwaysAllow";

/**
 * Keys every Istio chart reads through its profile template, although none appears in `values.yaml`:
 * the profile is merged between the chart defaults and the user's values.
 */
export interface ProfileSelection {
    /** A bundled profile to apply, e.g. `remote` for a cluster whose control plane runs elsewhere. Default: none. */
    readonly profile?: IstioProfile;
    /** Render as an older Istio minor would (`"1.28"`), to defer behaviour changes during an upgrade. Default: none. */
    readonly compatibilityVersion?: string;
    /** Platform-specific overrides, e.g. `openshift`, `gke`, `k3s`. Default: none. */
    readonly platform?: string;
}
