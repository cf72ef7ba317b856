import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterObservability } from "../stacks/observability";
import { observabilityChart } from "./observabilityChart";

export interface ClusterTelemetryArgs {
    /** The cluster's part of the observability plan (stacks/observability/ `observabilityPlan`). */
    readonly plan: ClusterObservability;
    /** The cluster's observability namespace, labelled for injection. */
    readonly namespace: k8s.core.v1.Namespace;
    /**
     * What must exist before the Prometheus pod: sidecar injection (the cluster's istiod, and on a remote its
     * remote secret in its primary), since it serves the hub only through its sidecar; and the access policies
     * of the primary whose config covers it, so it never runs without them.
     */
    readonly waitFor: readonly pulumi.Resource[];
}

/**
 * One cluster's own Prometheus, whose Service is named after the cluster so that the mesh routes that name
 * only here. Create it with `opts.provider` set to the cluster's provider.
 */
export class ClusterTelemetry extends pulumi.ComponentResource {
    /** The cluster's Prometheus release (absent with metrics off). */
    public readonly prometheus?: k8s.helm.v3.Release;

    constructor(name: string, args: ClusterTelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:observability:ClusterTelemetry", name, {}, opts);
        const { plan } = args;
        if (plan.prometheus) {
            this.prometheus = observabilityChart(
                `${name}/${plan.prometheus.releaseName}`,
                plan.prometheus,
                args.namespace.metadata.name,
                { parent: this, dependsOn: [...args.waitFor] },
            );
        }
        this.registerOutputs({ prometheus: this.prometheus });
    }
}
