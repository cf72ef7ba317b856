/** Security settings: the typed form of `istio-multicluster:namespaces` and `security`, and the names they derive. */
import type { IstioSettings } from "../core";
import { networkLabel } from "../names";

/** An Istio security object as the Kubernetes API takes it. */
export interface SecurityObject {
    readonly apiVersion: string;
    readonly kind: "PeerAuthentication" | "AuthorizationPolicy";
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly spec: Record<string, unknown>;
}

/** Mutual TLS modes a user may choose (DISABLE is not offered: it would take workloads out of the mesh). */
export type MtlsMode = "STRICT" | "PERMISSIVE";

/** Mesh-wide security settings (`istio-multicluster:security`). */
export interface SecuritySettings {
    /** The mesh-wide mTLS mode, the `default` PeerAuthentication in the root namespace. Default STRICT. */
    readonly mtls: MtlsMode;
    /**
     * Trust domains treated as the mesh's own (`meshConfig.trustDomainAliases` of every primary istiod); allow
     * rules may name principals in them. Default none.
     */
    readonly trustDomainAliases: readonly string[];
}

/** Who an allow rule admits: a request matches when it comes from any listed principal or namespace. */
export interface AllowSource {
    /** Principals `<trustDomain>/ns/<namespace>/sa/<serviceAccount>` (service accounts already expanded). */
    readonly principals: readonly string[];
    /** Source namespaces. */
    readonly namespaces: readonly string[];
}

/** What an allow rule admits requests to; an absent list admits any. */
export interface AllowOperation {
    readonly methods?: readonly string[];
    readonly paths?: readonly string[];
    readonly ports?: readonly number[];
}

/** One allow rule: an ALLOW AuthorizationPolicy named `name` in its namespace. */
export interface AllowRule {
    /** DNS-1123 label, unique in its namespace; the AuthorizationPolicy's name. */
    readonly name: string;
    /** Workloads the rule applies to (`matchLabels`); absent: every workload of the namespace. */
    readonly selector?: Readonly<Record<string, string>>;
    readonly from: AllowSource;
    readonly to?: AllowOperation;
}

/** One application namespace of the mesh, created in every cluster. */
export interface MeshNamespace {
    /** DNS-1123 label; never `istio-system`, `kube-*` or `default`. */
    readonly name: string;
    /** Extra labels; the injection label is added by `namespaceMetadata`, never given here. */
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    /** `revision`: the revision or tag injecting it (`istio.io/rev`); absent: the mesh's injection label. */
    readonly revision?: string;
    /** A namespace-wide mTLS override (a migration window); absent: the mesh's mode holds. */
    readonly mtls?: MtlsMode;
    /** An allow-nothing AuthorizationPolicy in the namespace: only the allow rules admit requests. */
    readonly denyByDefault: boolean;
    /** The namespace denies everything on purpose (deny by default with no allow rule). */
    readonly allowNothing: boolean;
    readonly allow: readonly AllowRule[];
    /** Index in `istio-multicluster:namespaces`, for messages. */
    readonly index: number;
}

/** What the security validator returns: the settings, or every problem. */
export type SecurityResult =
    | {
          readonly ok: true;
          readonly namespaces: readonly MeshNamespace[];
          readonly security: SecuritySettings;
      }
    | { readonly ok: false; readonly errors: readonly string[] };

/** What the security validator needs from the validated mesh. */
export interface SecurityContext {
    readonly trustDomain: string;
    /** The mesh's Istio settings; undefined when `mesh.istio` itself was refused. */
    readonly istio?: IstioSettings;
}

/** The config keys this module reads. */
export const namespacesKey = "istio-multicluster:namespaces";
export const securityKey = "istio-multicluster:security";

/** Name of the allow-nothing AuthorizationPolicy of a deny-by-default namespace (Istio's docs name it so). */
export const allowNothingName = "allow-nothing";
/** Name of a namespace-wide (or the mesh-wide) PeerAuthentication: Istio's convention. */
export const peerAuthenticationName = "default";
/**
 * Annotation on an allow-nothing AuthorizationPolicy whose namespace denies everything on purpose
 * (`allowNothing: true`): the policy pack reads it, as it reads nothing from stack config.
 */
export const allowNothingAnnotation = "istio-multicluster/allow-nothing";

export const securityV1 = "security.istio.io/v1";
export const httpMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
/** Labels the program owns on application namespaces: giving them in config would contradict the install. */
export const ownedLabels = ["istio-injection", "istio.io/rev", networkLabel];

export type Obj = Record<string, unknown>;
