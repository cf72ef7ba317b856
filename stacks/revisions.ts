/**
 * The control planes of the mesh, derived from `mesh.istio`: one (the shorthand `version` + optional
 * `revision`), or several revisions installed side by side in every cluster with revision tags (`revisions`
 * + `tags`), the shape of a canary upgrade. Part of the core: it imports only stacks/core.ts.
 *
 * Istio facts this relies on (../shared/ISTIO-FACTS.md "Revisions and tags"; the istiod chart's
 * `templates/revision-tags-mwc.yaml` and `revision-tags-svc.yaml`; istio.io "Canary upgrades (Helm)"):
 * - every istiod release with `revision=<rev>` is a control plane of its own, injecting pods labelled
 *   `istio.io/rev=<rev>`;
 * - `revisionTags: [<tag>]` on a release renders the MutatingWebhookConfiguration `istio-revision-tag-<tag>`
 *   and the Service `istiod-revision-tag-<tag>`; the `default` tag also injects `istio-injection=enabled`;
 * - a tag is one object per cluster, owned by one Helm release: moving it is the old owner dropping it, then
 *   the new one adding it (Helm refuses an object another release owns), so releases are updated in that order;
 * - the control plane may be at most one minor ahead of a proxy and never behind it.
 */
import { IstioSettings } from "./core";

/** One istiod release per cluster (either profile), as derived from `mesh.istio`. */
export interface ControlPlaneRevision {
    /** The revision name; undefined for the shorthand's install without a revision. */
    readonly name?: string;
    /** Exact version of this revision's charts. */
    readonly version: string;
    /** The revision tags its release renders (`revisionTags`), sorted. */
    readonly tags: readonly string[];
    /**
     * What the revision adds to the resource names of a cluster's control plane: `""` with the shorthand (the
     * names every stack had before revisions), `-<name>` with `revisions`.
     */
    readonly suffix: string;
    /**
     * Whether this revision's resources answer to the shorthand's names too (Pulumi aliases): the first of
     * `revisions`, so that writing a shorthand stack's one revision as `revisions` (first) moves nothing.
     */
    readonly takesOverShorthand: boolean;
    /** Whether the gateways and the namespaces the program labels follow this revision (`default` tag). */
    readonly serving: boolean;
    /**
     * When its release is updated relative to the others in one `up`: 0 without tags, 1 with tags but not
     * `default`, 2 with `default`. Each release waits for every release of a lower rank, so a tag that moves
     * is dropped by its old owner before its new owner renders it.
     */
    readonly rank: number;
}

/** `major.minor.patch` of an exact version (a pre-release suffix is ignored). */
export function versionParts(version: string): readonly [number, number, number] {
    const [major, minor, patch] = version.split("-")[0]!.split(".").map(Number);
    return [major ?? 0, minor ?? 0, patch ?? 0];
}

/** Compares two exact versions by major, minor and patch. */
export function compareVersions(a: string, b: string): number {
    const [pa, pb] = [versionParts(a), versionParts(b)];
    for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
}

/** Every control plane of the mesh, in the order of `mesh.istio.revisions` (the shorthand: one). */
export function controlPlaneRevisions(istio: IstioSettings): readonly ControlPlaneRevision[] {
    if (istio.revisions === undefined) {
        const tags = istio.revision !== undefined && istio.defaultTag !== false ? ["default"] : [];
        return [
            {
                ...(istio.revision !== undefined ? { name: istio.revision } : {}),
                version: istio.version,
                tags,
                suffix: "",
                takesOverShorthand: false,
                serving: true,
                rank: tags.length > 0 ? 2 : 0,
            },
        ];
    }
    const tagEntries = Object.entries(istio.tags ?? {});
    return istio.revisions.map((r, index) => {
        const tags = tagEntries
            .filter(([, rev]) => rev === r.name)
            .map(([tag]) => tag)
            .sort();
        const serving = tags.includes("default");
        return {
            name: r.name,
            version: r.version,
            tags,
            suffix: `-${r.name}`,
            takesOverShorthand: index === 0,
            serving,
            rank: serving ? 2 : tags.length > 0 ? 1 : 0,
        };
    });
}

/** The newest version of the mesh's revisions: the `base` chart's (CRDs must serve every control plane). */
export function newestVersion(istio: IstioSettings): string {
    return (istio.revisions ?? [istio])
        .map((r) => r.version)
        .reduce((a, b) => (compareVersions(b, a) > 0 ? b : a));
}

/**
 * The `istio.io/rev` value of the namespaces the program labels for injection, or undefined for
 * `istio-injection=enabled`. With the shorthand, its revision (as every stack had it); with `revisions`, the
 * `default` tag serves them through `istio-injection=enabled`, so that moving the tag moves them.
 */
export function injectionRevision(istio: IstioSettings): string | undefined {
    return istio.revisions === undefined ? istio.revision : undefined;
}

/** The revision the `base` chart's default validating webhook calls (`defaultRevision`), if any. */
export function validatingRevision(istio: IstioSettings): string | undefined {
    return istio.revisions === undefined ? istio.revision : istio.tags?.default;
}

/** Every revision name and tag name a namespace may name in `istio.io/rev`. */
export function revisionLabelValues(
    istio: Pick<IstioSettings, "revision" | "revisions" | "tags" | "defaultTag">,
): string[] {
    if (istio.revisions === undefined) {
        return istio.revision === undefined
            ? []
            : istio.defaultTag === false
              ? [istio.revision]
              : [istio.revision, "default"];
    }
    return [...istio.revisions.map((r) => r.name), ...Object.keys(istio.tags ?? {})];
}
