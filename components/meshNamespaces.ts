import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NamespaceManifest, objectResourceName } from "../stacks/security";

export interface MeshNamespacesArgs {
    /** The cluster's name: the first part of every child's name. */
    readonly cluster: string;
    /**
     * The application namespaces (stacks/security/ `namespaceMetadata`: the config's labels and annotations
     * plus the install's injection label). Every cluster receives the same list. Default none.
     */
    readonly namespaces: readonly NamespaceManifest[];
}

/**
 * The mesh's application namespaces in one cluster, labelled for sidecar injection: "namespace sameness", so a
 * service is the same service in every cluster. Create it with `opts.provider` set to the cluster's provider;
 * its children inherit it.
 */
export class MeshNamespaces extends pulumi.ComponentResource {
    /** Each namespace by its name. */
    public readonly namespaces: Readonly<Record<string, k8s.core.v1.Namespace>>;

    constructor(name: string, args: MeshNamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:security:MeshNamespaces", name, {}, opts);
        const namespaces: Record<string, k8s.core.v1.Namespace> = {};
        for (const ns of args.namespaces) {
            namespaces[ns.name] = new k8s.core.v1.Namespace(
                objectResourceName(args.cluster, ns.name),
                {
                    metadata: {
                        name: ns.name,
                        labels: { ...ns.labels },
                        ...(ns.annotations ? { annotations: { ...ns.annotations } } : {}),
                    },
                },
                { parent: this },
            );
        }
        this.namespaces = namespaces;
        this.registerOutputs({ namespaces: this.namespaces });
    }
}
