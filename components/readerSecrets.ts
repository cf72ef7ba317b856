import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { perReaderSecretName, retiredMarks } from "../stacks/remoteSecrets";
import { refusal } from "./refusal";

export interface ReaderSecretsArgs {
    /** The reading primary's name (its Istio cluster ID); none of `kubeconfigs` may be it. */
    readonly reader: string;
    /** The reader's `istio-system` namespace: the Secret is created there. */
    readonly namespace: k8s.core.v1.Namespace;
    /**
     * Per cluster the reader reads (its Istio cluster ID), the kubeconfig istiod uses for it: a secret, from
     * that cluster's ClusterLink. At least one.
     */
    readonly kubeconfigs: Readonly<Record<string, pulumi.Input<string>>>;
    /**
     * What the Secret is created after: on a switch of `mesh.remoteSecrets`, the per-cluster Secrets in this
     * reader, retired first (stacks/remoteSecrets.ts `retiredRemoteSecrets`). Default: nothing.
     */
    readonly waitFor?: pulumi.Input<pulumi.Resource[]>;
    /**
     * Retire the Secret instead (a switch to the per-cluster layout): the same resource, updated in place to
     * no data and `istio/multiCluster: "false"`, so that istiod lets its clusters go before the per-cluster
     * Secrets name them again; `kubeconfigs` must then be empty. The next `up` deletes it. Default false.
     */
    readonly retired?: boolean;
}

/**
 * The `per-reader` layout of remote secrets (`mesh.remoteSecrets: per-reader`): in one reading primary, one
 * Secret `istio-remote-secrets` (label `istio/multiCluster: "true"`) whose every data key is a cluster it
 * reads and its value that cluster's kubeconfig, which is how istiod's secret controller reads any Secret it
 * watches. Create it with `opts.provider` set to the reader's provider; it waits for every kubeconfig's token.
 */
export class ReaderSecrets extends pulumi.ComponentResource {
    /** The one remote Secret in the reader. */
    public readonly secret: k8s.core.v1.Secret;

    constructor(name: string, args: ReaderSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:mesh:ReaderSecrets", name, {}, opts);
        const sources = Object.keys(args.kubeconfigs);
        if (args.retired) {
            if (sources.length > 0) {
                throw refusal(`ReaderSecrets ${name}: a retired Secret holds no kubeconfig`, this);
            }
            this.secret = new k8s.core.v1.Secret(
                `${name}-remote-secrets`,
                {
                    metadata: {
                        name: perReaderSecretName,
                        namespace: args.namespace.metadata.name,
                        ...retiredMarks,
                    },
                    type: "Opaque",
                },
                { parent: this },
            );
            this.registerOutputs({ secret: this.secret });
            return;
        }
        if (sources.length === 0) {
            throw refusal(`ReaderSecrets ${name}: ${args.reader} reads no cluster`, this);
        }
        if (sources.includes(args.reader)) {
            throw refusal(`ReaderSecrets ${name}: cluster ${args.reader} cannot read itself`, this);
        }
        this.secret = new k8s.core.v1.Secret(
            `${name}-remote-secrets`,
            {
                metadata: {
                    name: perReaderSecretName,
                    namespace: args.namespace.metadata.name,
                    labels: { "istio/multiCluster": "true" },
                },
                type: "Opaque",
                // istiod takes each data key as a cluster ID.
                stringData: args.kubeconfigs,
            },
            { parent: this, dependsOn: args.waitFor },
        );
        this.registerOutputs({ secret: this.secret });
    }
}
