import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IstioObject } from "../stacks/istioObjects";

export interface MeshTelemetryArgs {
    /** The mesh-wide Telemetry (stacks/telemetry.ts `meshTelemetry`), the same object on every primary. */
    readonly telemetry: IstioObject;
    /** The cluster's `istio-system` namespace (the root namespace). */
    readonly namespace: k8s.core.v1.Namespace;
    /** The cluster's istiod release: its webhook admits Istio objects, and its mesh config names the provider. */
    readonly istiod: pulumi.Resource;
}

/**
 * The mesh-wide Telemetry of one primary: tracing to the hub's collector with the configured sampling and the
 * `cluster` tag from each proxy's environment. Only primaries get it (a remote's proxies read their primary's
 * config). Create it with `opts.provider` set to the cluster's provider.
 */
export class MeshTelemetry extends pulumi.ComponentResource {
    /** The Telemetry object. */
    public readonly telemetry: k8s.apiextensions.CustomResource;

    constructor(name: string, args: MeshTelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:observability:MeshTelemetry", name, {}, opts);
        const t = args.telemetry;
        this.telemetry = new k8s.apiextensions.CustomResource(
            `${name}-telemetry-${t.metadata.name}`,
            { apiVersion: t.apiVersion, kind: t.kind, metadata: { ...t.metadata }, spec: t.spec },
            { parent: this, dependsOn: [args.namespace, args.istiod] },
        );
        this.registerOutputs({ telemetry: this.telemetry });
    }
}
