/** The namespaces, PeerAuthentications and AuthorizationPolicies the security settings compile to, per cluster. */
import { injectionRevision } from "../revisions";
import { injectionLabel, istioNamespace } from "../names";
import type { ClusterSpec, CoreTopology } from "../core";
import {
    AllowRule,
    MeshNamespace,
    MtlsMode,
    SecurityObject,
    SecuritySettings,
    allowNothingAnnotation,
    allowNothingName,
    peerAuthenticationName,
    securityV1,
} from "./settings";

/** An Istio principal: the SPIFFE identity of a service account without its `spiffe://` scheme. */
export function principal(trustDomain: string, namespace: string, serviceAccount: string): string {
    return `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** A Kubernetes Namespace's metadata: the config's labels plus the install's injection label. */
export interface NamespaceManifest {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

/** The metadata of an application namespace, the same in every cluster. */
export function namespaceMetadata(ns: MeshNamespace, revision: string | undefined): NamespaceManifest {
    return {
        name: ns.name,
        labels: {
            ...ns.labels,
            ...(ns.revision !== undefined ? { "istio.io/rev": ns.revision } : injectionLabel(revision)),
        },
        ...(Object.keys(ns.annotations).length > 0 ? { annotations: { ...ns.annotations } } : {}),
    };
}

export function peerAuthentication(namespace: string, mode: MtlsMode): SecurityObject {
    return {
        apiVersion: securityV1,
        kind: "PeerAuthentication",
        metadata: { name: peerAuthenticationName, namespace },
        spec: { mtls: { mode } },
    };
}

/**
 * The allow-nothing AuthorizationPolicy of a deny-by-default namespace: ALLOW with no rules matches nothing,
 * so a workload is reachable only through another ALLOW policy. Never emitted in the root namespace, where it
 * would apply to every workload of the mesh, the east-west and ingress gateways included.
 */
export function allowNothing(ns: MeshNamespace): SecurityObject {
    return {
        apiVersion: securityV1,
        kind: "AuthorizationPolicy",
        metadata: {
            name: allowNothingName,
            namespace: ns.name,
            ...(ns.allowNothing ? { annotations: { [allowNothingAnnotation]: "true" } } : {}),
        },
        spec: {},
    };
}

/** One allow rule as an ALLOW AuthorizationPolicy: any listed principal or namespace, to the listed operations. */
export function allowPolicy(namespace: string, rule: AllowRule): SecurityObject {
    const from = [
        ...(rule.from.principals.length > 0 ? [{ source: { principals: [...rule.from.principals] } }] : []),
        ...(rule.from.namespaces.length > 0 ? [{ source: { namespaces: [...rule.from.namespaces] } }] : []),
    ];
    const op = rule.to;
    const to = op
        ? [
              {
                  operation: {
                      ...(op.methods ? { methods: [...op.methods] } : {}),
                      ...(op.paths ? { paths: [...op.paths] } : {}),
                      ...(op.ports ? { ports: op.ports.map(String) } : {}),
                  },
              },
          ]
        : undefined;
    return {
        apiVersion: securityV1,
        kind: "AuthorizationPolicy",
        metadata: { name: rule.name, namespace },
        spec: {
            ...(rule.selector ? { selector: { matchLabels: { ...rule.selector } } } : {}),
            action: "ALLOW",
            rules: [{ from, ...(to ? { to } : {}) }],
        },
    };
}

/**
 * Every Istio security object a primary receives, in a stable order: the mesh-wide PeerAuthentication in the
 * root namespace, then per namespace its mTLS override, its allow-nothing policy and its allow rules. The same
 * list for every primary, by construction.
 */
/** What the security feature reads of the topology: the core, its own section and the namespaces. */
export interface SecurityInput extends CoreTopology {
    readonly namespaces: readonly MeshNamespace[];
    readonly security: SecuritySettings;
}

export function securityObjects(topology: SecurityInput): readonly SecurityObject[] {
    const objects: SecurityObject[] = [peerAuthentication(istioNamespace, topology.security.mtls)];
    for (const ns of topology.namespaces) {
        if (ns.mtls !== undefined) objects.push(peerAuthentication(ns.name, ns.mtls));
        if (ns.denyByDefault) objects.push(allowNothing(ns));
        for (const rule of ns.allow) objects.push(allowPolicy(ns.name, rule));
    }
    return objects;
}

/** What one cluster receives: its application namespaces, and on a primary the security objects. */
export interface ClusterSecurity {
    readonly cluster: ClusterSpec;
    readonly namespaces: readonly NamespaceManifest[];
    readonly objects: readonly SecurityObject[];
}

/** Per cluster, in topology order: every cluster gets every namespace; primaries get the same objects. */
export function securityPlan(topology: SecurityInput): readonly ClusterSecurity[] {
    const namespaces = topology.namespaces.map((ns) =>
        namespaceMetadata(ns, injectionRevision(topology.mesh.istio)),
    );
    const objects = securityObjects(topology);
    return topology.clusters.map((cluster) => ({
        cluster,
        namespaces,
        objects: cluster.role === "primary" ? objects : [],
    }));
}

/**
 * The Pulumi name of an object in a cluster. Its parts are DNS labels, which never contain `/`, so different
 * (cluster, namespace, name) never give the same name; with the resource type (which carries the kind) it is
 * the object's Kubernetes identity.
 */
export function objectResourceName(cluster: string, namespace: string, name?: string): string {
    return name === undefined ? `${cluster}/${namespace}` : `${cluster}/${namespace}/${name}`;
}
