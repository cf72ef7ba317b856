import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartRelease } from "../stacks/observability";

/**
 * One third-party observability chart as a Helm release, pinned to the exact version config names (the
 * validator refuses ranges), from an https chart repository or an `oci://` registry. Like the Istio charts,
 * Helm waits for the workloads and rolls a failed upgrade back.
 */
export function observabilityChart(
    name: string,
    release: ChartRelease,
    namespace: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    const { chart } = release;
    const oci = chart.repository.startsWith("oci://");
    return new k8s.helm.v3.Release(
        name,
        {
            name: release.releaseName,
            chart: oci ? `${chart.repository}/${chart.chart}` : chart.chart,
            version: chart.version,
            ...(oci ? {} : { repositoryOpts: { repo: chart.repository } }),
            namespace,
            createNamespace: false,
            values: release.values,
            skipAwait: false,
            atomic: true,
            cleanupOnFail: true,
            timeout: 600,
        },
        opts,
    );
}
