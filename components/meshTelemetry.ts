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
    /**
     * The observability namespace's mTLS and access policies (stacks/observability/), identical on every
     * primary, and that namespace in this cluster. Default none.
     */
    readonly access?: {
        readonly objects: readonly IstioObject[];
        readonly namespace: k8s.core.v1.Namespace;
    };
}

/**
 * The Istio telemetry objects of one primary: the mesh-wide Telemetry (tracing to the hub's collector with the
 * configured sampling, the `cluster` tag from each proxy's environment), and who may reach the observability
 * workloads. Only primaries get them (a remote's proxies read their primary's config). Create it with
 * `opts.provider` set to the cluster's provider.
 */
export class MeshTelemetry extends pulumi.ComponentResource {
    /** The Telemetry object. */
    public readonly telemetry: k8s.apiextensions.CustomResource;
    /** The observability namespace's PeerAuthentication and AuthorizationPolicies. */
    public readonly access: readonly k8s.apiextensions.CustomResource[];

    constructor(name: string, args: MeshTelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:observability:MeshTelemetry", name, {}, opts);
        const object = (resourceName: string, o: IstioObject, namespace: k8s.core.v1.Namespace) =>
            new k8s.apiextensions.CustomResource(
                resourceName,
                { apiVersion: o.apiVersion, kind: o.kind, metadata: { ...o.metadata }, spec: o.spec },
                { parent: this, dependsOn: [namespace, args.istiod] },
            );
        const t = args.telemetry;
        this.telemetry = object(`${name}-telemetry-${t.metadata.name}`, t, args.namespace);
        const access = args.access;
        this.access = (access?.objects ?? []).map((o) =>
            object(`${name}/${o.metadata.namespace}/${o.kind}/${o.metadata.name}`, o, access!.namespace),
        );
        this.registerOutputs({ telemetry: this.telemetry, access: this.access });
    }
}
