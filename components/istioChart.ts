import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, IstioSettings, MeshSettings } from "../stacks/topology";
import { ControlPlaneRevision, controlPlaneRevisions, newestVersion } from "../stacks/revisions";
import { baseValues, istioChartSource, releaseNames } from "../stacks/values";

/** One official Istio chart, installed as a Helm release. */
export interface IstioChartArgs {
    /** `base`, `istiod` or `gateway`. */
    readonly chart: "base" | "istiod" | "gateway";
    /** The Helm release name (`istio-base`, `istiod`, `istio-eastwestgateway`). */
    readonly releaseName: string;
    /**
     * The mesh's Istio settings: the exact version every chart in every cluster is pinned to, and where the
     * charts come from (`mesh.istio.charts`).
     */
    readonly istio: Pick<IstioSettings, "version" | "charts">;
    /** The release namespace: pass the Namespace's name output so the release waits for it. */
    readonly namespace: pulumi.Input<string>;
    /** Chart values, typed by the caller against stacks/chartValues/. */
    readonly values: pulumi.Input<Record<string, unknown>>;
}

/**
 * A Helm release (not a client-side render): Helm owns upgrades and CRD handling the way Istio's guides
 * expect, `helm ls` shows what runs, and with `skipAwait: false` Helm waits for the release's workloads
 * (and LoadBalancer addresses) before dependants start.
 */
export function istioChart(
    name: string,
    args: IstioChartArgs,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: args.releaseName,
            ...istioChartSource(args.istio, args.chart),
            namespace: args.namespace,
            createNamespace: false,
            values: args.values,
            skipAwait: false,
            // A failed upgrade rolls back instead of leaving a half-applied control plane.
            atomic: true,
            cleanupOnFail: true,
            timeout: 600,
        },
        opts,
    );
}

/**
 * The `base` chart (CRDs, the reader service account, the default validating webhook) of a cluster, in either
 * role. `extra` values are merged over the role's: values known only once another resource exists.
 */
export function baseChart(
    name: string,
    mesh: MeshSettings,
    cluster: ClusterSpec,
    namespace: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions,
    extra: Readonly<Record<string, pulumi.Input<unknown>>> = {},
): k8s.helm.v3.Release {
    return istioChart(
        name,
        {
            chart: "base",
            releaseName: releaseNames.base,
            // The CRDs serve every control plane: the newest revision's (Helm upgrades them, templates/crds.yaml).
            istio: { version: newestVersion(mesh.istio), charts: mesh.istio.charts },
            namespace,
            values: { ...baseValues(mesh, cluster), ...extra },
        },
        opts,
    );
}

/** The `istiod` chart of one revision, its release named after it, at that revision's version. */
export function istiodChart(
    name: string,
    mesh: MeshSettings,
    revision: ControlPlaneRevision,
    namespace: pulumi.Input<string>,
    values: pulumi.Input<Record<string, unknown>>,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    return istioChart(
        name,
        {
            chart: "istiod",
            releaseName: releaseNames.istiod(revision.name),
            istio: { version: revision.version, charts: mesh.istio.charts },
            namespace,
            values,
        },
        opts,
    );
}

/** A cluster's istiod releases, one per revision, and the serving one (gateways and workloads wait for it). */
export interface IstiodReleases {
    /** Every revision's release, in the order of `mesh.istio.revisions`. */
    readonly all: readonly k8s.helm.v3.Release[];
    /** The release of the revision the `default` tag names (or of the only revision). */
    readonly serving: k8s.helm.v3.Release;
}

/**
 * One `istiod` release per revision of the mesh (stacks/revisions.ts), in either profile, named
 * `<name>-istiod<suffix>`. Each waits for `dependsOn` and for every release of a lower rank: a revision tag
 * moved in one `up` is then dropped by its old owner before its new owner renders it (Helm refuses to render
 * an object another release owns). The first of `revisions` also answers to the shorthand's resource name, so
 * that writing a one-revision stack in the general form moves nothing.
 */
export function istiodReleases(
    name: string,
    mesh: MeshSettings,
    namespace: pulumi.Input<string>,
    valuesOf: (revision: ControlPlaneRevision) => pulumi.Input<Record<string, unknown>>,
    opts: { readonly parent: pulumi.Resource; readonly dependsOn: readonly pulumi.Input<pulumi.Resource>[] },
): IstiodReleases {
    const revisions = controlPlaneRevisions(mesh.istio);
    const made = new Map<ControlPlaneRevision, k8s.helm.v3.Release>();
    for (const revision of [...revisions].sort((a, b) => a.rank - b.rank)) {
        const before = [...made].filter(([r]) => r.rank < revision.rank).map(([, release]) => release);
        made.set(
            revision,
            istiodChart(`${name}-istiod${revision.suffix}`, mesh, revision, namespace, valuesOf(revision), {
                parent: opts.parent,
                dependsOn: [...opts.dependsOn, ...before],
                ...(revision.takesOverShorthand ? { aliases: [{ name: `${name}-istiod` }] } : {}),
            }),
        );
    }
    const all = revisions.map((r) => made.get(r)!);
    return { all, serving: made.get(revisions.find((r) => r.serving) ?? revisions[0]!)! };
}
