import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ownValue } from "../stacks/checks";
import { objectResourceName, TrafficObject } from "../stacks/traffic";
import { refusal } from "./refusal";

export interface GlobalServicesArgs {
    /**
     * The Istio objects to apply (`trafficObjects(topology.traffic)`): computed once for the mesh and handed to
     * every primary unchanged, so every control plane serves the same traffic rules.
     */
    readonly objects: readonly TrafficObject[];
    /** The primary's istiod release: its validating webhook admits the objects (its CRDs come with base). */
    readonly istiod: pulumi.Resource;
    /**
     * The cluster's Namespace resources by name, `istio-system` included: each object waits for the namespace
     * it lives in. Every object's namespace must be here (validation puts services in declared namespaces).
     */
    readonly namespaces: Readonly<Record<string, pulumi.Resource>>;
}

/**
 * The traffic rules of the mesh in one primary: DestinationRules (locality failover, outlier detection,
 * canary subsets), canary VirtualServices, ServiceEntries of external services, and the ingress Gateways and
 * routes. Create it with `opts.provider` set to the primary's provider; every object depends on exactly
 * that primary's istiod and the namespace it lives in.
 */
export class GlobalServices extends pulumi.ComponentResource {
    /** The objects, in the order of `args.objects`. */
    public readonly objects: readonly k8s.apiextensions.CustomResource[];

    constructor(name: string, args: GlobalServicesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:traffic:GlobalServices", name, {}, opts);
        this.objects = args.objects.map((o) => {
            const namespace = ownValue(args.namespaces, o.metadata.namespace);
            if (namespace === undefined) {
                throw refusal(
                    `GlobalServices: ${o.kind} ${o.metadata.name} lives in namespace ${o.metadata.namespace}, ` +
                        `which cluster ${name} does not create`,
                    this,
                );
            }
            return new k8s.apiextensions.CustomResource(
                objectResourceName(name, o),
                { apiVersion: o.apiVersion, kind: o.kind, metadata: { ...o.metadata }, spec: o.spec },
                { parent: this, dependsOn: [args.istiod, namespace] },
            );
        });
        this.registerOutputs({ objects: this.objects });
    }
}
