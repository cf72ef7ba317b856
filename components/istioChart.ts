import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, IstioSettings, MeshSettings } from "../stacks/topology";
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
            istio: mesh.istio,
            namespace,
            values: { ...baseValues(mesh, cluster), ...extra },
        },
        opts,
    );
}

/** The `istiod` chart, its release named after the mesh's revision. */
export function istiodChart(
    name: string,
    mesh: MeshSettings,
    namespace: pulumi.Input<string>,
    values: pulumi.Input<Record<string, unknown>>,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    return istioChart(
        name,
        {
            chart: "istiod",
            releaseName: releaseNames.istiod(mesh.istio.revision),
            istio: mesh.istio,
            namespace,
            values,
        },
        opts,
    );
}
