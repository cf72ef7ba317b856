import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { objectResourceName, SecurityObject } from "../stacks/security";
import { ownValue } from "../stacks/checks";
import { refusal } from "./refusal";

export interface MeshSecurityArgs {
    /** The primary cluster's name: the first part of every child's name. */
    readonly cluster: string;
    /**
     * The security objects (stacks/security/ `securityObjects`): computed once for the mesh, so that every
     * primary receives exactly the same list.
     */
    readonly objects: readonly SecurityObject[];
    /**
     * The cluster's namespaces by name, `istio-system` included: each object waits for the namespace it lives
     * in. Every object's namespace must be here.
     */
    readonly namespaces: Readonly<Record<string, pulumi.Resource>>;
    /** The cluster's istiod release: its validating webhook admits Istio objects, so each object waits for it. */
    readonly istiod: pulumi.Resource;
}

/**
 * Mesh security in one primary: the mesh-wide PeerAuthentication in the root namespace, per-namespace mTLS
 * overrides, allow-nothing policies of deny-by-default namespaces and their allow rules. Only primaries get it:
 * a remote has no istiod that reads Istio config. Create it with `opts.provider` set to the cluster's provider.
 */
export class MeshSecurity extends pulumi.ComponentResource {
    /** Every object, in the order of `args.objects`. */
    public readonly objects: readonly k8s.apiextensions.CustomResource[];

    constructor(name: string, args: MeshSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:security:MeshSecurity", name, {}, opts);
        this.objects = args.objects.map((obj) => {
            const namespace = ownValue(args.namespaces, obj.metadata.namespace);
            if (namespace === undefined) {
                throw refusal(
                    `MeshSecurity: ${obj.kind} ${obj.metadata.name} lives in namespace ` +
                        `${obj.metadata.namespace}, which cluster ${args.cluster} does not create`,
                    this,
                );
            }
            return new k8s.apiextensions.CustomResource(
                objectResourceName(args.cluster, obj.metadata.namespace, obj.metadata.name),
                {
                    apiVersion: obj.apiVersion,
                    kind: obj.kind,
                    metadata: {
                        name: obj.metadata.name,
                        namespace: obj.metadata.namespace,
                        ...(obj.metadata.annotations ? { annotations: { ...obj.metadata.annotations } } : {}),
                    },
                    spec: obj.spec,
                },
                { parent: this, dependsOn: [namespace, args.istiod] },
            );
        });
        this.registerOutputs({ objects: this.objects });
    }
}
