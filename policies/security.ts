/**
 * Mesh security: STRICT mTLS mesh-wide in every primary, no PERMISSIVE window left open, deny-by-default
 * namespaces that admit what they should, no root-namespace authorization that would cut the gateways, principals
 * in the mesh's trust domain, and the same security objects in every primary (each istiod reads Istio config
 * only from its own cluster, so a policy missing from one primary silently does not hold for its workloads).
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import {
    at,
    configOf,
    controlPlanes,
    istioChart,
    istioNamespace,
    isUnknown,
    list,
    obj,
    Res,
    resourceOf,
    stackResources,
    str,
    UNKNOWN,
} from "./lib";

/** The Istio security kinds, whichever served version the program uses. */
const securityType = /^kubernetes:security\.istio\.io\/v1(beta1)?:(PeerAuthentication|AuthorizationPolicy)$/;

function kindOf(type: string): "PeerAuthentication" | "AuthorizationPolicy" | undefined {
    const m = securityType.exec(type);
    return m ? (m[2] as "PeerAuthentication" | "AuthorizationPolicy") : undefined;
}

/**
 * The annotation the program puts on the allow-nothing policy of a namespace that denies everything on purpose
 * (`allowNothing: true`). The pack reads no stack config; stacks/security/ writes the same string, and a test
 * holds the two equal.
 */
export const allowNothingAnnotation = "istio-multicluster/allow-nothing";

/** Istio's default trust domain when `meshConfig.trustDomain` is not set. */
const defaultTrustDomain = "cluster.local";

/** The policies' configuration. */
export interface SecurityPolicyConfig {
    /** Istio's root namespace (`meshConfig.rootNamespace`). Default `istio-system`. */
    readonly rootNamespace?: string;
    /** Namespaces allowed a PERMISSIVE migration window (`mtls-no-permissive-override`). Default none. */
    readonly permissiveNamespaces?: readonly string[];
}

const rootNamespaceSchema = {
    rootNamespace: {
        type: "string" as const,
        default: istioNamespace,
        description: "Istio's root namespace",
    },
};

/** Whether a selector-like field of a spec selects something (or is unknown). */
function targets(spec: unknown): boolean {
    const labels = obj(spec, "selector", "matchLabels");
    if (isUnknown(labels) || (labels !== undefined && Object.keys(labels).length > 0)) return true;
    const refs = list(spec, "targetRefs");
    if (isUnknown(refs) || (refs !== undefined && refs.length > 0)) return true;
    const ref = at(spec, "targetRef");
    return isUnknown(ref) || ref !== undefined;
}

/** Non-STRICT modes a PeerAuthentication sets (its `mtls.mode` and port-level modes); unknowns skipped. */
function weakModes(spec: unknown): string[] {
    const modes: string[] = [];
    const mode = str(spec, "mtls", "mode");
    if (typeof mode === "string" && mode !== "STRICT" && mode !== "UNSET") modes.push(mode);
    const ports = obj(spec, "portLevelMtls");
    if (ports && !isUnknown(ports)) {
        for (const [port, v] of Object.entries(ports)) {
            const m = str(v, "mode");
            if (typeof m === "string" && m !== "STRICT" && m !== "UNSET") modes.push(`${m} on port ${port}`);
        }
    }
    return modes;
}

/** Every primary has a mesh-wide STRICT PeerAuthentication in the root namespace. */
export const meshMtlsStrict: StackValidationPolicy = {
    name: "mesh-mtls-strict",
    description: "Every primary has a mesh-wide PeerAuthentication in the root namespace with mode STRICT.",
    configSchema: { properties: rootNamespaceSchema },
    validateStack: (args, reportViolation) => {
        const { rootNamespace } = configOf<SecurityPolicyConfig>(args, { rootNamespace: istioNamespace });
        const all = stackResources(args.resources);
        const { primaries } = controlPlanes(all);
        for (const [cluster, istiod] of primaries) {
            const meshWide = all.filter((r) => {
                if (r.cluster !== cluster || kindOf(r.type) !== "PeerAuthentication") return false;
                const ns = str(r.props, "metadata", "namespace");
                return (isUnknown(ns) || ns === rootNamespace) && !targets(at(r.props, "spec"));
            });
            if (meshWide.length === 0) {
                reportViolation(
                    `primary ${cluster} has no mesh-wide PeerAuthentication in ${rootNamespace}; its workloads ` +
                        "accept plain text: set `istio-multicluster:security.mtls: STRICT`",
                    istiod.urn,
                );
            }
            for (const r of meshWide) {
                const mode = str(r.props, "spec", "mtls", "mode");
                if (isUnknown(mode) || mode === "STRICT") continue;
                reportViolation(
                    `PeerAuthentication ${r.name} sets mesh-wide mTLS to ${mode ?? "UNSET"} in primary ${cluster}; ` +
                        "set `istio-multicluster:security.mtls: STRICT`",
                    r.urn,
                );
            }
        }
    },
};

/** No PeerAuthentication below the mesh level weakens mTLS (a PERMISSIVE migration window left open). */
export const mtlsNoPermissiveOverride: ResourceValidationPolicy = {
    name: "mtls-no-permissive-override",
    description: "No namespace or workload PeerAuthentication sets PERMISSIVE or DISABLE mTLS.",
    configSchema: {
        properties: {
            ...rootNamespaceSchema,
            permissiveNamespaces: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Namespaces allowed a PERMISSIVE migration window",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (kindOf(r.type) !== "PeerAuthentication") return;
        const { rootNamespace, permissiveNamespaces } = configOf<SecurityPolicyConfig>(args, {
            rootNamespace: istioNamespace,
            permissiveNamespaces: [],
        });
        const ns = str(r.props, "metadata", "namespace");
        if (isUnknown(ns)) return;
        const spec = at(r.props, "spec");
        // The mesh-wide policy is `mesh-mtls-strict`'s concern.
        if (ns === rootNamespace && !targets(spec)) return;
        if (ns !== undefined && permissiveNamespaces!.includes(ns)) return;
        const weak = weakModes(spec);
        if (weak.length === 0) return;
        reportViolation(
            `PeerAuthentication ${r.name} in namespace ${ns ?? "(none)"} sets ${weak.join(", ")}; end the ` +
                `migration window: remove \`mtls\` from that namespace in \`istio-multicluster:namespaces\``,
        );
    },
};

/** Whether an AuthorizationPolicy admits nothing: ALLOW (or no action), no rules, no provider. */
function isAllowNothing(spec: unknown): boolean | undefined {
    const action = str(spec, "action");
    const rules = list(spec, "rules");
    if (isUnknown(action) || isUnknown(rules) || isUnknown(spec)) return undefined;
    return (action === undefined || action === "ALLOW") && (rules === undefined || rules.length === 0);
}

/** A deny-by-default namespace admits something (an allow rule) or says it admits nothing on purpose. */
export const denyByDefaultHasAllowRules: StackValidationPolicy = {
    name: "deny-by-default-has-allow-rules",
    description:
        "A namespace with an allow-nothing AuthorizationPolicy has at least one allow rule, or says allowNothing.",
    validateStack: (args, reportViolation) => {
        const aps = stackResources(args.resources).filter((r) => kindOf(r.type) === "AuthorizationPolicy");
        for (const r of aps) {
            const spec = at(r.props, "spec");
            if (isAllowNothing(spec) !== true || targets(spec)) continue;
            const ns = str(r.props, "metadata", "namespace");
            const intent = str(r.props, "metadata", "annotations", allowNothingAnnotation);
            if (isUnknown(ns) || isUnknown(intent) || intent === "true") continue;
            const allows = aps.some((o) => {
                if (o === r || o.cluster !== r.cluster) return false;
                const ons = str(o.props, "metadata", "namespace");
                if (isUnknown(ons)) return true;
                if (ons !== ns) return false;
                const ospec = at(o.props, "spec");
                const action = str(ospec, "action");
                const rules = list(ospec, "rules");
                return (
                    isUnknown(action) ||
                    isUnknown(rules) ||
                    ((action === undefined || action === "ALLOW") && rules !== undefined && rules.length > 0)
                );
            });
            if (!allows) {
                reportViolation(
                    `namespace ${ns ?? "(none)"} in cluster ${r.cluster ?? "(no provider)"} denies every request ` +
                        "and has no allow rule; add one under its `allow` in `istio-multicluster:namespaces`, or set " +
                        "`allowNothing: true` there if nothing may call it",
                    r.urn,
                );
            }
        }
    },
};

/** No AuthorizationPolicy in the root namespace without a selector: it would apply to the whole mesh. */
export const rootAuthorizationHasSelector: ResourceValidationPolicy = {
    name: "root-authorization-has-selector",
    description:
        "Every AuthorizationPolicy in the root namespace selects workloads (none applies mesh-wide).",
    configSchema: { properties: rootNamespaceSchema },
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (kindOf(r.type) !== "AuthorizationPolicy") return;
        const { rootNamespace } = configOf<SecurityPolicyConfig>(args, { rootNamespace: istioNamespace });
        const ns = str(r.props, "metadata", "namespace");
        if (ns !== rootNamespace || targets(at(r.props, "spec"))) return;
        reportViolation(
            `AuthorizationPolicy ${r.name} in ${rootNamespace} has no selector, so it applies to every workload of ` +
                "the mesh, the east-west and ingress gateways included; put deny-by-default in application " +
                "namespaces (`denyByDefault` in `istio-multicluster:namespaces`) or give it a selector",
        );
    },
};

/** The trust domains a cluster's istiod accepts (its own and its aliases); UNKNOWN when unknown. */
function trustDomainsOf(istiod: Res): string[] | typeof UNKNOWN {
    const values = istioChart(istiod.type, istiod.props)!.values;
    const td = str(values, "meshConfig", "trustDomain");
    const aliases = list(values, "meshConfig", "trustDomainAliases");
    if (isUnknown(td) || isUnknown(aliases)) return UNKNOWN;
    return [td ?? defaultTrustDomain, ...(aliases ?? []).filter((a): a is string => typeof a === "string")];
}

/** Principals of an AuthorizationPolicy's rules, with where they sit. */
function principalsOf(spec: unknown): { path: string; value: string }[] {
    const out: { path: string; value: string }[] = [];
    const rules = list(spec, "rules");
    if (!rules || isUnknown(rules)) return out;
    rules.forEach((rule, i) => {
        const from = list(rule, "from");
        if (!from || isUnknown(from)) return;
        from.forEach((f, j) => {
            for (const field of ["principals", "notPrincipals"]) {
                const ps = list(f, "source", field);
                if (!ps || isUnknown(ps)) continue;
                ps.forEach((p, k) => {
                    if (typeof p === "string") {
                        out.push({ path: `rules[${i}].from[${j}].source.${field}[${k}]`, value: p });
                    }
                });
            }
        });
    });
    return out;
}

/** Every principal an AuthorizationPolicy names is in the trust domain (or an alias) of its cluster's istiod. */
export const principalsInTrustDomain: StackValidationPolicy = {
    name: "principals-in-trust-domain",
    description:
        "AuthorizationPolicy principals are in the mesh's trust domain or one of its configured aliases.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const { primaries } = controlPlanes(all);
        for (const r of all.filter((x) => kindOf(x.type) === "AuthorizationPolicy")) {
            // The cluster's own istiod; an object elsewhere is judged by every primary's domains together.
            const own = r.cluster !== undefined ? primaries.get(r.cluster) : undefined;
            const sources = own ? [own] : [...primaries.values()];
            const domains = sources.map(trustDomainsOf);
            if (sources.length === 0 || domains.some(isUnknown)) continue;
            const accepted = [...new Set((domains as string[][]).flat())];
            for (const { path, value } of principalsOf(at(r.props, "spec"))) {
                if (accepted.some((td) => value.startsWith(`${td}/`))) continue;
                reportViolation(
                    `AuthorizationPolicy ${r.name} names principal ${JSON.stringify(value)} (spec.${path}), ` +
                        `outside the mesh's trust domain ${accepted.map((d) => JSON.stringify(d)).join(", ")}; write ` +
                        `it as <trustDomain>/ns/<namespace>/sa/<serviceAccount>, or list its trust domain in ` +
                        "`istio-multicluster:security.trustDomainAliases`",
                    r.urn,
                );
            }
        }
    },
};

/** Whether a plain value holds an unknown anywhere. */
function hasUnknown(v: unknown): boolean {
    if (isUnknown(v)) return true;
    if (Array.isArray(v)) return v.some(hasUnknown);
    if (typeof v === "object" && v !== null) return Object.values(v).some(hasUnknown);
    return false;
}

/** A value as canonical JSON (keys sorted), for comparing objects across clusters. */
function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (typeof v === "object" && v !== null) {
        const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
    }
    return JSON.stringify(v) ?? "null";
}

/** Every primary holds exactly the same security objects; remotes hold none (no istiod reads them there). */
export const securityIdenticalOnPrimaries: StackValidationPolicy = {
    name: "security-identical-on-primaries",
    description: "Every primary receives exactly the same Istio security objects; remotes receive none.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const { primaries, remotes } = controlPlanes(all);
        const objects = all.filter((r) => kindOf(r.type) !== undefined && r.cluster !== undefined);
        for (const r of objects.filter((o) => remotes.has(o.cluster!))) {
            reportViolation(
                `${kindOf(r.type)} ${r.name} is in remote cluster ${r.cluster}, where no istiod reads it; Istio ` +
                    "config belongs in the primaries only",
                r.urn,
            );
        }
        // Per primary: identity (kind/namespace/name) -> canonical content, or undefined while unknown.
        const held = new Map<string, Map<string, string | undefined>>();
        for (const cluster of primaries.keys()) held.set(cluster, new Map());
        for (const r of objects.filter((o) => primaries.has(o.cluster!))) {
            const ns = str(r.props, "metadata", "namespace");
            const name = str(r.props, "metadata", "name");
            if (isUnknown(ns) || isUnknown(name)) continue;
            const content = {
                spec: at(r.props, "spec") ?? {},
                labels: at(r.props, "metadata", "labels") ?? {},
                annotations: at(r.props, "metadata", "annotations") ?? {},
            };
            held.get(r.cluster!)!.set(
                `${kindOf(r.type)} ${ns ?? "default"}/${name ?? r.name}`,
                hasUnknown(content) ? undefined : canonical(content),
            );
        }
        const clusters = [...held.keys()];
        const ids = [...new Set([...held.values()].flatMap((m) => [...m.keys()]))].sort();
        for (const id of ids) {
            const missing = clusters.filter((c) => !held.get(c)!.has(id));
            const having = clusters.filter((c) => held.get(c)!.has(id));
            if (missing.length > 0) {
                reportViolation(
                    `${id} is in primaries ${having.join(", ")} but not in ${missing.join(", ")}; every primary ` +
                        "must hold the same security objects, or workloads served by the others escape it",
                );
                continue;
            }
            const reference = clusters.find((c) => held.get(c)!.get(id) !== undefined);
            if (reference === undefined) continue;
            const differing = clusters.filter((c) => {
                const x = held.get(c)!.get(id);
                return x !== undefined && x !== held.get(reference)!.get(id);
            });
            if (differing.length > 0) {
                reportViolation(
                    `${id} differs between primaries: ${reference} and ${differing.join(", ")}; every primary ` +
                        "must hold the same security objects, or workloads served by the others get other rules",
                );
            }
        }
    },
};

/** The security policies. */
export const securityPolicies = [
    meshMtlsStrict,
    mtlsNoPermissiveOverride,
    denyByDefaultHasAllowRules,
    rootAuthorizationHasSelector,
    principalsInTrustDomain,
    securityIdenticalOnPrimaries,
];
