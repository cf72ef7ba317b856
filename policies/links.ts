/**
 * Identity and links: cluster names, and the remote secrets through which every primary's istiod reads every
 * other cluster, shaped exactly as `istioctl create-remote-secret` makes them.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import * as YAML from "yaml";
import {
    at,
    clusterAnnotation,
    dns1123Label,
    isRemoteIstiod,
    isRemoteSecret,
    istioChart,
    istioNamespace,
    isLoopbackHost,
    isUnknown,
    multiClusterLabel,
    perReaderSecretName,
    readerServiceAccount,
    Res,
    resourceOf,
    secretEntries,
    stackResources,
    str,
    types,
    Unknown,
} from "./lib";

/** Cluster names (istiod's `global.multiCluster.clusterName`) are set, DNS-1123 labels, and unique. */
export const clusterNamesUnique: StackValidationPolicy = {
    name: "cluster-names-unique",
    description: "Every istiod names its cluster with a non-empty DNS-1123 label that no other cluster uses.",
    validateStack: (args, reportViolation) => {
        // Name → the first istiod naming it, and its cluster: the istiods of several revisions in one cluster
        // (a canary upgrade) name that one cluster.
        const seen = new Map<string, { name: string; cluster: string | undefined }>();
        for (const r of stackResources(args.resources)) {
            const chart = istioChart(r.type, r.props);
            if (chart?.chart !== "istiod") continue;
            const name = str(chart.values, "global", "multiCluster", "clusterName");
            if (isUnknown(name)) continue;
            if (name === undefined || name === "") {
                reportViolation(
                    `istiod ${r.name} sets no global.multiCluster.clusterName; set it to the cluster's unique name`,
                    r.urn,
                );
            } else if (!dns1123Label.test(name)) {
                reportViolation(
                    `istiod ${r.name} has cluster name ${JSON.stringify(name)}, not a DNS-1123 label; use ` +
                        `lowercase letters, digits and '-', at most 63 characters`,
                    r.urn,
                );
            } else if (seen.has(name)) {
                const first = seen.get(name)!;
                if (first.cluster !== undefined && first.cluster === r.cluster) continue;
                reportViolation(
                    `istiod ${r.name} has cluster name ${JSON.stringify(name)}, already used by ` +
                        `${first.name}; give every cluster its own name`,
                    r.urn,
                );
            } else seen.set(name, { name: r.name, cluster: r.cluster });
        }
    },
};

/** Every primary holds a remote secret for every other cluster of the mesh. */
export const primariesReadEveryCluster: StackValidationPolicy = {
    name: "primaries-read-every-cluster",
    description: "Every primary cluster holds a remote secret for every other cluster of the mesh.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        // Clusters, by provider: their Istio cluster ID (istiod's clusterName, else the provider's name).
        const clusters = new Map<string, { id: string; primary: boolean; urn: string }>();
        for (const r of all) {
            const chart = istioChart(r.type, r.props);
            if (chart?.chart !== "istiod" || r.cluster === undefined) continue;
            const id = str(chart.values, "global", "multiCluster", "clusterName");
            clusters.set(r.cluster, {
                id: typeof id === "string" && id !== "" ? id : r.cluster,
                primary: !isRemoteIstiod(chart.values),
                urn: r.urn,
            });
        }
        const secrets = all.filter((r) => r.type === types.secret && isRemoteSecret(r.props));
        for (const [provider, reader] of clusters) {
            if (!reader.primary) continue;
            const held = secrets.filter((s) => s.cluster === provider);
            // A remote secret whose target is still unknown could be any cluster: nothing is missing then.
            const targets = new Set<string>();
            let unknownTarget = false;
            for (const s of held) {
                const annotation = str(s.props, "metadata", "annotations", clusterAnnotation);
                const entries = secretEntries(s.props);
                if (typeof annotation === "string") targets.add(annotation);
                else if (isUnknown(annotation) || isUnknown(entries)) unknownTarget = true;
                if (!isUnknown(entries)) Object.keys(entries).forEach((k) => targets.add(k));
            }
            if (unknownTarget) continue;
            for (const [other, source] of clusters) {
                if (other === provider || targets.has(source.id)) continue;
                reportViolation(
                    `primary ${reader.id} holds no remote secret for cluster ${source.id}; create ` +
                        `istio-remote-secret-${source.id} in ${reader.id}'s ${istioNamespace} so its istiod reads ${source.id}`,
                    reader.urn,
                );
            }
        }
    },
};

/** No cluster is in two remote secrets of one primary: istiod would read it from one and ignore the other. */
export const remoteSecretsDisjoint: StackValidationPolicy = {
    name: "remote-secrets-disjoint",
    description: "A primary holds each cluster it reads in exactly one remote secret.",
    validateStack: (args, reportViolation) => {
        const holders = new Map<string, { reader: string; cluster: string; names: string[] }>();
        for (const r of stackResources(args.resources)) {
            if (r.type !== types.secret || !isRemoteSecret(r.props)) continue;
            const entries = secretEntries(r.props);
            if (isUnknown(entries)) continue;
            const reader = r.cluster ?? "";
            for (const cluster of Object.keys(entries)) {
                const key = JSON.stringify([reader, cluster]);
                const h = holders.get(key) ?? { reader, cluster, names: [] };
                h.names.push(r.name);
                holders.set(key, h);
            }
        }
        for (const { reader, cluster, names } of holders.values()) {
            if (names.length < 2) continue;
            reportViolation(
                `primary ${reader} holds cluster ${cluster} in ${names.length} remote secrets (${names.join(", ")}); ` +
                    `istiod reads it from the first it sees and ignores the others: keep one ` +
                    "(`mesh.remoteSecrets` picks per-cluster or per-reader)",
            );
        }
    },
};

/**
 * Remote secrets shaped exactly as istiod reads them, in either layout: per cluster (`istio-remote-secret-<c>`,
 * the cluster annotation, one key `<c>`), or per reader (`istio-remote-secrets`, a key per cluster read).
 */
export const remoteSecretShape: ResourceValidationPolicy = {
    name: "remote-secret-shape",
    description:
        "Remote secrets carry the multiCluster label and, per cluster, the cluster annotation and one key named " +
        "after it, or, per reader, one key per cluster read.",
    validateResource: (args, reportViolation) => {
        if (args.type !== types.secret) return;
        const r = resourceOf(args);
        if (!isRemoteSecret(r.props)) return;
        const label = at(r.props, "metadata", "labels", multiClusterLabel);
        if (!isUnknown(label) && label !== "true") {
            reportViolation(
                `remote secret ${r.name}: set label ${multiClusterLabel}: "true" so istiod watches it`,
            );
        }
        const namespace = str(r.props, "metadata", "namespace");
        if (!isUnknown(namespace) && namespace !== istioNamespace) {
            reportViolation(
                `remote secret ${r.name} is in namespace ${JSON.stringify(namespace ?? null)}; create it in ` +
                    `${istioNamespace}, where istiod looks for it`,
            );
        }
        if (str(r.props, "metadata", "name") === perReaderSecretName) {
            perReaderShape(r, reportViolation);
            return;
        }
        const target = str(r.props, "metadata", "annotations", clusterAnnotation);
        if (target === undefined || target === "") {
            reportViolation(
                `remote secret ${r.name}: set annotation ${clusterAnnotation} to the name of the cluster it reads`,
            );
        }
        if (typeof target !== "string" || target === "") return;
        const name = str(r.props, "metadata", "name");
        if (typeof name === "string" && name !== `istio-remote-secret-${target}`) {
            reportViolation(
                `remote secret ${r.name} is named ${name}; name it istio-remote-secret-${target}`,
            );
        }
        if (target === r.cluster) {
            reportViolation(
                `remote secret ${r.name} in cluster ${r.cluster} points at its own cluster; a cluster never ` +
                    `holds a remote secret for itself, remove it`,
            );
        }
        const entries = secretEntries(r.props);
        if (isUnknown(entries)) return;
        const keys = Object.keys(entries);
        if (keys.length !== 1 || keys[0] !== target) {
            reportViolation(
                `remote secret ${r.name} has data keys [${keys.join(", ")}]; it must hold exactly one key, ` +
                    `${target} (istiod takes the key as the cluster ID)`,
            );
        }
    },
};

/** The per-reader Secret: at least one key, each a cluster ID (a DNS-1123 label), none its own cluster. */
function perReaderShape(r: Omit<Res, "source">, reportViolation: (message: string) => void): void {
    const entries = secretEntries(r.props);
    if (isUnknown(entries)) return;
    const keys = Object.keys(entries);
    if (keys.length === 0) {
        reportViolation(
            `remote secret ${r.name} (${perReaderSecretName}) holds no cluster; give it a key per cluster its ` +
                `primary reads, or remove it`,
        );
    }
    const bad = keys.filter((k) => !dns1123Label.test(k));
    if (bad.length > 0) {
        reportViolation(
            `remote secret ${r.name} has data keys [${bad.join(", ")}] that are not cluster IDs; istiod takes ` +
                `each key as a cluster ID: use the clusters' names`,
        );
    }
    if (r.cluster !== undefined && keys.includes(r.cluster)) {
        reportViolation(
            `remote secret ${r.name} in cluster ${r.cluster} holds its own cluster; a cluster never holds a ` +
                `remote secret for itself, remove the key ${r.cluster}`,
        );
    }
}

/** What istiod refuses in a remote secret's kubeconfig user, or what gives it more than a token. */
const forbiddenUserKeys = [
    "exec",
    "auth-provider",
    "tokenFile",
    "client-key",
    "client-key-data",
    "client-certificate",
    "client-certificate-data",
    "username",
    "password",
];

interface Kubeconfig {
    clusters?: { name?: string; cluster?: Record<string, unknown> }[];
    contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
    users?: { name?: string; user?: Record<string, unknown> }[];
    "current-context"?: string;
}

/** Problems with one remote secret kubeconfig for `target`, as messages saying what to change. */
export function kubeconfigProblems(text: string, target: string): string[] {
    let doc: Kubeconfig;
    try {
        doc = YAML.parse(text) as Kubeconfig;
    } catch {
        return ["its kubeconfig is not valid YAML; regenerate it"];
    }
    if (typeof doc !== "object" || doc === null) return ["its kubeconfig is empty; regenerate it"];
    const out: string[] = [];
    for (const c of doc.clusters ?? []) {
        const cluster = c.cluster ?? {};
        const server = typeof cluster.server === "string" ? cluster.server : "";
        let url: URL | undefined;
        try {
            url = new URL(server);
        } catch {
            url = undefined;
        }
        if (url?.protocol !== "https:") {
            out.push(
                `server ${JSON.stringify(server)} is not an https URL; use the API server's https address`,
            );
        } else if (isLoopbackHost(url.hostname)) {
            out.push(`server ${server} is a loopback address; use the address other clusters reach it at`);
        }
        if (
            typeof cluster["certificate-authority-data"] !== "string" ||
            !cluster["certificate-authority-data"]
        ) {
            out.push(
                `cluster ${c.name ?? ""} has no certificate-authority-data; embed the token Secret's ca.crt`,
            );
        }
        if (cluster["certificate-authority"] !== undefined) {
            out.push(`cluster ${c.name ?? ""} reads a CA file; embed certificate-authority-data instead`);
        }
        if (cluster["insecure-skip-tls-verify"] === true || cluster["insecure-skip-tls-verify"] === "true") {
            out.push(
                `cluster ${c.name ?? ""} sets insecure-skip-tls-verify; remove it and verify with the CA`,
            );
        }
    }
    for (const u of doc.users ?? []) {
        const user = u.user ?? {};
        for (const k of forbiddenUserKeys) {
            if (user[k] !== undefined)
                out.push(`user ${u.name ?? ""} uses ${k}; authenticate with a token only`);
        }
        if (typeof user.token !== "string" || user.token === "") {
            out.push(`user ${u.name ?? ""} has no token; use the reader service account's token`);
        }
    }
    const names = [
        ...(doc.clusters ?? []).map((c) => c.name),
        ...(doc.contexts ?? []).map((c) => c.name),
        ...(doc.users ?? []).map((c) => c.name),
        doc["current-context"],
    ];
    if (
        (doc.clusters ?? []).length !== 1 ||
        (doc.users ?? []).length !== 1 ||
        names.some((n) => n !== target)
    ) {
        out.push(`name its one cluster, context, user and current-context ${target}`);
    }
    return out;
}

/** A remote secret's kubeconfig uses only a token and CA data over https. */
export const remoteSecretKubeconfig: ResourceValidationPolicy = {
    name: "remote-secret-kubeconfig",
    description: "A remote secret's kubeconfig reaches its cluster over https with only a token and CA data.",
    validateResource: (args, reportViolation) => {
        if (args.type !== types.secret) return;
        const r = resourceOf(args);
        if (!isRemoteSecret(r.props)) return;
        const entries = secretEntries(r.props);
        if (isUnknown(entries)) return;
        for (const [key, value] of Object.entries<string | Unknown>(entries)) {
            if (isUnknown(value)) continue;
            for (const p of kubeconfigProblems(value, key)) {
                reportViolation(`remote secret ${r.name}, key ${key}: ${p}`);
            }
        }
    },
};

/** The type of a long-lived service account token Secret. */
const tokenType = "kubernetes.io/service-account-token";
/** The annotation binding a token Secret to its service account. */
const serviceAccountAnnotation = "kubernetes.io/service-account.name";

/** The reader token Secret is a service-account token for istio-reader-service-account in istio-system. */
export const readerTokenSecret: ResourceValidationPolicy = {
    name: "reader-token-secret",
    description:
        "The remote reader's token Secret is a service-account token bound to istio-reader-service-account.",
    validateResource: (args, reportViolation) => {
        if (args.type !== types.secret) return;
        const r = resourceOf(args);
        const name = str(r.props, "metadata", "name");
        const type = str(r.props, "type");
        const account = str(r.props, "metadata", "annotations", serviceAccountAnnotation);
        const isReaderToken =
            (typeof name === "string" && name.endsWith("istio-remote-secret-token")) ||
            account === readerServiceAccount;
        if (!isReaderToken) return;
        if (!isUnknown(type) && type !== tokenType) {
            reportViolation(
                `reader token Secret ${r.name} has type ${JSON.stringify(type ?? null)}; set type ${tokenType} ` +
                    `so the token controller fills it`,
            );
        }
        if (!isUnknown(account) && account !== readerServiceAccount) {
            reportViolation(
                `reader token Secret ${r.name}: set annotation ${serviceAccountAnnotation}: ${readerServiceAccount}`,
            );
        }
        const namespace = str(r.props, "metadata", "namespace");
        if (!isUnknown(namespace) && namespace !== istioNamespace) {
            reportViolation(
                `reader token Secret ${r.name} is in ${JSON.stringify(namespace ?? null)}; create it in ` +
                    `${istioNamespace}, beside ${readerServiceAccount}`,
            );
        }
    },
};

/** The identity and link policies. */
export const linkPolicies = [
    clusterNamesUnique,
    primariesReadEveryCluster,
    remoteSecretShape,
    remoteSecretsDisjoint,
    remoteSecretKubeconfig,
    readerTokenSecret,
];
