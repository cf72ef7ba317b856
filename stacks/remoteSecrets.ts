/**
 * How remote secrets are laid out in the reading primaries (`istio-multicluster:mesh.remoteSecrets`).
 *
 * istiod's secret controller watches the Secrets labelled `istio/multiCluster: "true"` in its namespace and
 * reads every data key of each as one cluster's kubeconfig (the key is the cluster ID). So a primary can hold
 * what it reads either way:
 * - `per-cluster` (the default; what `istioctl create-remote-secret` makes): one Secret
 *   `istio-remote-secret-<source>` per (reader, source) pair, N(N-1) Secrets in a full mesh of N primaries;
 * - `per-reader`: one Secret `istio-remote-secrets` per reading primary holding every cluster it reads, N
 *   Secrets in all, each up to the Kubernetes limit of 1 MiB per Secret.
 * istiod ignores a cluster that another Secret already registered, so the two layouts never hold the same
 * cluster side by side (README, "Remote secrets: two layouts"), and a switch between them on a live mesh
 * retires the old layout's Secrets first (`retiredRemoteSecrets`).
 */

import { ReaderTokenSettings, RemoteSecretLayout, remoteSecretLayouts } from "./core";

export { defaultRemoteSecretLayout, RemoteSecretLayout, remoteSecretLayouts } from "./core";

/** The per-cluster Secret for `source`, as `istioctl create-remote-secret` names it. */
export const perClusterSecretName = (source: string): string => `istio-remote-secret-${source}`;
/** The one Secret of the per-reader layout in each reading primary. */
export const perReaderSecretName = "istio-remote-secrets";

/** Kubernetes refuses a Secret larger than 1 MiB (its whole object, data included). */
export const secretSizeLimit = 1024 * 1024;
/**
 * A generous size for one kubeconfig: a token (about 1 KiB, more with a long issuer), the cluster's CA in
 * base64 (about 1.5 KiB for RSA 2048, 2.5 KiB for RSA 4096), the server and names; measured ones are 3-4 KiB.
 */
export const kubeconfigBudget = 6 * 1024;
/** The most clusters one per-reader Secret holds: the 1 MiB limit over the budget, less room for metadata. */
export const maxClustersPerReaderSecret = Math.floor((secretSizeLimit - 16 * 1024) / kubeconfigBudget);

/** One remote Secret to create: in `reader`, named `name`, holding a kubeconfig per cluster of `sources`. */
export interface RemoteSecretSpec {
    readonly reader: string;
    readonly name: string;
    readonly sources: readonly string[];
}

/** The remote Secrets of a set of links (reader reads source), in the order the links come. */
export function remoteSecretSpecs(
    links: readonly { readonly reader: string; readonly source: string }[],
    layout: RemoteSecretLayout,
): RemoteSecretSpec[] {
    if (layout === "per-cluster") {
        return links.map((l) => ({
            reader: l.reader,
            name: perClusterSecretName(l.source),
            sources: [l.source],
        }));
    }
    const byReader = new Map<string, string[]>();
    for (const l of links) {
        const sources = byReader.get(l.reader) ?? [];
        sources.push(l.source);
        byReader.set(l.reader, sources);
    }
    return [...byReader].map(([reader, sources]) => ({ reader, name: perReaderSecretName, sources }));
}

/**
 * What the reader token Secrets' names carry after `istio-reader-service-account-istio-remote-secret-token`
 * (`mesh.readerTokens`): "" (the name istioctl gives) until a rotation is asked for, then `-<rotation>`
 * and/or `-a<period>` (the number of whole `maxAgeDays` periods since 1970 at `now`). A new suffix renames
 * the token Secret, which Pulumi replaces create-before-delete: the new token exists, every remote secret
 * that holds the old one is updated in place to the new one (istiod reloads it: the same Secret, never a
 * second one for the cluster), and the old token Secret is deleted last, which revokes its token.
 */
export function readerTokenSuffix(settings: ReaderTokenSettings | undefined, now: Date): string {
    if (settings === undefined) return "";
    const parts = [
        ...(settings.rotation !== undefined && settings.rotation !== "0" ? [settings.rotation] : []),
        ...(settings.maxAgeDays !== undefined
            ? [`a${Math.floor(now.getTime() / 86_400_000 / settings.maxAgeDays)}`]
            : []),
    ];
    return parts.map((p) => `-${p}`).join("");
}

/**
 * The stack outputs a deployment leaves for the next one to read back (index.ts): the layout it left, and per
 * reading primary the clusters it reads.
 */
export const layoutOutput = "remoteSecretLayout";
export const linksOutput = "links";

/** The label value and annotation of a remote Secret retired by a layout switch. */
export const retiredLabelValue = "false";
export const retiredAnnotation = "istio-multicluster/retired";
export const retiredNote = "mesh.remoteSecrets switched layouts; the next pulumi up deletes this Secret";

/** A retired remote Secret's labels and annotations: istiod no longer selects it, and a reader sees why. */
export const retiredMarks = {
    labels: { "istio/multiCluster": retiredLabelValue },
    annotations: { [retiredAnnotation]: retiredNote },
} as const;

/**
 * The remote Secrets a switch of `mesh.remoteSecrets` retires: those of the layout the last deployment left
 * (`deployed`, its outputs as read back), for every link that is still in the mesh (`links`); none when the
 * layout is unchanged, or when the deployment recorded none (never deployed, or deployed before it was
 * recorded).
 *
 * Why: istiod ignores a Secret for a cluster another Secret already registered, and forgets the cluster when
 * that other Secret goes (`pkg/kube/multicluster/secretcontroller.go`, `addRemoteConfig`: "cluster has
 * already been registered"; `deleteRemoteConfig`; nothing reads the remaining Secrets again). Created before
 * the old Secrets were deleted, as Pulumi orders a plain rename, the new layout's Secrets would be ignored and
 * every linked cluster dropped at the end of the `up`. So the old Secrets are kept for one `up`, relabelled
 * `istio/multiCluster: "false"` and emptied (istiod's informer selects `istio/multiCluster=true`, so it sees
 * them deleted and drops their clusters), and the new layout's Secrets in the same reader are created after
 * them, which istiod then registers. The next `up` deletes the retired Secrets.
 */
export function retiredRemoteSecrets(
    deployed: { readonly layout: unknown; readonly links: unknown },
    layout: RemoteSecretLayout,
    links: readonly { readonly reader: string; readonly source: string }[],
): RemoteSecretSpec[] {
    const was = remoteSecretLayouts.find((l) => l === deployed.layout);
    if (was === undefined || was === layout) return [];
    const recorded = deployed.links;
    if (typeof recorded !== "object" || recorded === null) return [];
    const held = new Set<string>();
    for (const [reader, sources] of Object.entries(recorded)) {
        if (!Array.isArray(sources)) continue;
        for (const source of sources) held.add(JSON.stringify([reader, source]));
    }
    return remoteSecretSpecs(
        links.filter((l) => held.has(JSON.stringify([l.reader, l.source]))),
        was,
    );
}
