/**
 * The core of the topology: the mesh (identity, Istio release, CA, control plane, east-west defaults) and its
 * clusters (roles, networks, access). It knows no feature: each feature module (security, traffic,
 * observability, hardening, smoke test) owns its section's types and reads this core; stacks/topology.ts
 * composes them into the program's `Topology`. Nothing here imports a feature.
 */
import * as pulumi from "@pulumi/pulumi";

/** The Pulumi project name: the prefix of every config key this program reads. */
export const projectName = "istio-multicluster";

/** The two layouts of remote secrets (`mesh.remoteSecrets`; stacks/remoteSecrets.ts derives them). */
export const remoteSecretLayouts = ["per-cluster", "per-reader"] as const;
/** One of the layouts. */
export type RemoteSecretLayout = (typeof remoteSecretLayouts)[number];
/** The layout when `mesh.remoteSecrets` is not set. */
export const defaultRemoteSecretLayout: RemoteSecretLayout = "per-cluster";

/** A cluster runs its own control plane (`primary`) or is served by a primary's (`remote`). */
export type ClusterRole = "primary" | "remote";

/** How the east-west gateway's Service is exposed. */
export type ServiceType = "LoadBalancer" | "NodePort";

/** One control plane of `mesh.istio.revisions`: installed side by side with the others in every cluster. */
export interface NamedRevision {
    /** The revision name (`1-30-3`): a DNS label, never `default`. */
    readonly name: string;
    /** Exact semver of every chart of this revision. */
    readonly version: string;
}

/**
 * The Istio release installed in every cluster: one (`version`, optional `revision`), or several revisions
 * side by side with revision tags (`revisions`, `tags`) while an upgrade runs. With `revisions`, `version`
 * and `revision` are those of the revision the `default` tag names: the one the gateways and every namespace
 * the program labels follow (stacks/revisions.ts derives the rest).
 */
export interface IstioSettings {
    /** Exact semver (`1.30.3`) of the serving revision; with the shorthand, of every chart in every cluster. */
    readonly version: string;
    /** Revision (`1-30-3`) of the serving control plane; when set, every chart, label and exposure uses it. */
    readonly revision?: string;
    /** `mesh.istio.revisions`, oldest first; absent with the one-version shorthand. */
    readonly revisions?: readonly NamedRevision[];
    /** `mesh.istio.tags`: revision tag → revision name; with `revisions` only, `default` always among them. */
    readonly tags?: Readonly<Record<string, string>>;
    /**
     * Whether the `default` revision tag points at the revision in every cluster (`mesh.istio.defaultTag`).
     * Only with a revision; absent means yes. `false` leaves tags to be managed by hand.
     */
    readonly defaultTag?: boolean;
    /**
     * Where the charts come from (`mesh.istio.charts`): absent, Istio's repository; an `https://` or
     * `oci://` address, a mirror of it; otherwise a local directory with `base`, `istiod` and `gateway`.
     */
    readonly charts?: string;
}

/** An intermediate CA brought from outside for one primary. */
export interface ExternalIntermediate {
    /** The intermediate certificate (PEM). */
    readonly certPem: string;
    /** The intermediate's private key (PEM), always a secret. */
    readonly keyPem: pulumi.Output<string>;
    /** Certificates between the intermediate and the root (PEM), if any. */
    readonly chainPem?: string;
}

/**
 * Where the mesh's root of trust comes from.
 * - `generated`: root and intermediates are made with `@pulumi/tls`.
 * - `external-root`: the root certificate and key come from secret config; intermediates are made here.
 * - `external-intermediates`: the root certificate and every primary's intermediate come from config;
 *   the root key never enters the program or its state.
 */
export type CaMode = "generated" | "external-root" | "external-intermediates";

/** The mesh's certificate authority settings (defaults follow Istio's own cert tooling). */
export interface CaSettings {
    readonly mode: CaMode;
    /** Root validity; default 3650 days. */
    readonly rootValidityDays: number;
    /** Intermediate validity; default 730 days, always shorter than the root's. */
    readonly intermediateValidityDays: number;
    /** Hours before expiry at which `pulumi up` renews a generated certificate; default 720 (30 days). */
    readonly earlyRenewalHours: number;
    /** RSA key size of generated keys; default 4096. */
    readonly rsaBits: number;
    /** Whether the PKI resources are `protect`ed (prod: true). */
    readonly protect: boolean;
    /** The root certificate (PEM) in the external modes. */
    readonly rootCertPem?: string;
    /** The root key (PEM) in `external-root` mode, always a secret. */
    readonly rootKeyPem?: pulumi.Output<string>;
    /** Per primary cluster name, in `external-intermediates` mode. */
    readonly intermediates: Readonly<Record<string, ExternalIntermediate>>;
    /**
     * Which root is the mesh's own (`mesh.ca.generation`, default 1): each finished rotation makes the next
     * root current. It names what is generated under a root, so a root and its intermediates keep their
     * resources from the rotation that brings them to the rotation that retires them.
     */
    readonly generation: number;
    /** A rotation to the next root in progress (`mesh.ca.rotation`, stacks/caRotation.ts); absent: none. */
    readonly rotation?: CaRotation;
}

/** The stages of a root rotation, in order; each is one `pulumi up` (stacks/caRotation.ts). */
export const rotationStages = ["add", "switch", "finish"] as const;
export type RotationStage = (typeof rotationStages)[number];

/** A root rotation from the current root (generation `g`) to the next (`g + 1`). */
export interface CaRotation {
    readonly stage: RotationStage;
    /** The next root's certificate (PEM), in the external modes; generated otherwise. */
    readonly rootCertPem?: string;
    /** The next root's key (PEM, a secret), in `external-root` mode. */
    readonly rootKeyPem?: pulumi.Output<string>;
    /** Per primary, its intermediate under the next root, in `external-intermediates` mode (from `switch`). */
    readonly intermediates: Readonly<Record<string, ExternalIntermediate>>;
}

/** Replicas or autoscaling, plus disruption and resource settings, for a Deployment a chart renders. */
export interface WorkloadSettings {
    /** A fixed replica count; cannot be combined with `autoscale`. */
    readonly replicas?: number;
    /** Horizontal autoscaling bounds; cannot be combined with `replicas`. */
    readonly autoscale?: { readonly min: number; readonly max: number };
    /** Whether a PodDisruptionBudget is rendered. */
    readonly pdb?: boolean;
    /** Container resources. */
    readonly resources?: ResourceSettings;
}

/** Container resource requests and limits, as Kubernetes quantities. */
export interface ResourceSettings {
    readonly requests?: { readonly cpu?: string; readonly memory?: string };
    readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

/** How one cluster's east-west gateway is exposed. */
export interface EastWestSettings extends WorkloadSettings {
    /** Default `LoadBalancer`. */
    readonly serviceType: ServiceType;
    /** `loadBalancerSourceRanges` of the gateway Service. */
    readonly sourceRanges?: readonly string[];
    /** Extra annotations on the gateway Service (an internal load balancer, for instance). */
    readonly serviceAnnotations?: Readonly<Record<string, string>>;
    /** A fixed reachable address (IP or hostname); no waiting for a load balancer. */
    readonly address?: string;
}

/** Mesh-wide settings. */
export interface MeshSettings {
    readonly meshId: string;
    readonly trustDomain: string;
    /** Trust domains istiod treats as its own (`istio-multicluster:security.trustDomainAliases`); absent: none. */
    readonly trustDomainAliases?: readonly string[];
    readonly istio: IstioSettings;
    readonly ca: CaSettings;
    readonly controlPlane: WorkloadSettings;
    /** `mesh.remoteSecrets` (stacks/remoteSecrets.ts); absent: `per-cluster`. */
    readonly remoteSecrets?: RemoteSecretLayout;
    /** `mesh.readerTokens` (stacks/remoteSecrets.ts); absent: the tokens are never replaced. */
    readonly readerTokens?: ReaderTokenSettings;
}

/** When the reader tokens inside the remote secrets are replaced by new ones (`mesh.readerTokens`). */
export interface ReaderTokenSettings {
    /** An explicit rotation (a counter or a date, as text): a new value issues new tokens at the next `up`. */
    readonly rotation?: string;
    /** Replace the tokens at the first `up` in every period of this many days (Istio 1.30.4 or later only). */
    readonly maxAgeDays?: number;
}

/** How the program reaches one cluster's API server. Exactly one of the two. */
export type ClusterAccess =
    | { readonly kind: "context"; readonly context: string }
    | { readonly kind: "kubeconfig"; readonly kubeconfig: pulumi.Output<string> };

/** One cluster of the mesh. */
export interface ClusterSpec {
    /** DNS-1123 label, unique; the Istio cluster ID. */
    readonly name: string;
    readonly role: ClusterRole;
    /** For a remote: the primary whose control plane serves it. */
    readonly primary?: string;
    /** The Istio network; undefined when the mesh names no networks. */
    readonly network?: string;
    /**
     * The locality region of the cluster's nodes (their `topology.kubernetes.io/region` label), which locality
     * failover and distribution name; undefined when not declared.
     */
    readonly region?: string;
    /** The zone of the cluster's nodes (`topology.kubernetes.io/zone`), if declared; only with `region`. */
    readonly zone?: string;
    readonly access: ClusterAccess;
    /** The API server address other clusters use to read this one. */
    readonly apiServer?: string;
    /** East-west gateway settings (mesh defaults merged with this cluster's overrides). */
    readonly eastWest: EastWestSettings;
    /** Index of this cluster in `istio-multicluster:clusters`, for messages. */
    readonly index: number;
}

/** The part of a topology every feature reads: the mesh and its clusters. */
export interface CoreTopology {
    readonly mesh: MeshSettings;
    readonly clusters: readonly ClusterSpec[];
}

/** True when the clusters span more than one network. */
export function isMultiNetwork(topology: CoreTopology): boolean {
    return new Set(topology.clusters.map((c) => c.network)).size > 1;
}
