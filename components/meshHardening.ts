import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterHardening } from "../stacks/hardening";

export interface MeshHardeningArgs {
    /** The cluster's hardening objects (stacks/hardening.ts `hardeningPlan`). */
    readonly objects: ClusterHardening;
    /** The cluster's `istio-system` namespace: the namespaced objects wait for it. */
    readonly namespace: k8s.core.v1.Namespace;
}

/**
 * One cluster's `istio-system` hardening: NetworkPolicies for istiod and the east-west gateway, the
 * ResourceQuota and LimitRange, and the PriorityClass istiod and the gateways run at. Nothing waits on the
 * charts and the charts wait only for the PriorityClass (a pod naming an absent class is refused), so the
 * longest chain of an update does not grow. Create it with `opts.provider` set to the cluster's provider.
 */
export class MeshHardening extends pulumi.ComponentResource {
    /** The PriorityClass, when the mode is `full`: istiod and the gateways depend on it. */
    public readonly priorityClass?: k8s.scheduling.v1.PriorityClass;
    /** The NetworkPolicies, by object name. */
    public readonly networkPolicies: Readonly<Record<string, k8s.networking.v1.NetworkPolicy>>;
    /** The ResourceQuota, when the mode is `full`. */
    public readonly quota?: k8s.core.v1.ResourceQuota;
    /** The LimitRange, when the mode is `full`. */
    public readonly limitRange?: k8s.core.v1.LimitRange;

    constructor(name: string, args: MeshHardeningArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:hardening:MeshHardening", name, {}, opts);
        const o = args.objects;
        const namespace = args.namespace.metadata.name;
        const deps = { parent: this, dependsOn: [args.namespace] };
        const policies: Record<string, k8s.networking.v1.NetworkPolicy> = {};
        for (const p of o.networkPolicies) {
            policies[p.metadata.name] = new k8s.networking.v1.NetworkPolicy(
                `${name}-${p.metadata.name}`,
                { metadata: { ...p.metadata, namespace }, spec: p.spec },
                deps,
            );
        }
        this.networkPolicies = policies;
        if (o.quota) {
            this.quota = new k8s.core.v1.ResourceQuota(
                `${name}-${o.quota.metadata.name}`,
                { metadata: { ...o.quota.metadata, namespace }, spec: o.quota.spec },
                deps,
            );
        }
        if (o.limitRange) {
            this.limitRange = new k8s.core.v1.LimitRange(
                `${name}-${o.limitRange.metadata.name}`,
                { metadata: { ...o.limitRange.metadata, namespace }, spec: o.limitRange.spec },
                deps,
            );
        }
        if (o.priorityClass) {
            const pc = o.priorityClass;
            this.priorityClass = new k8s.scheduling.v1.PriorityClass(
                `${name}-${pc.metadata.name}`,
                {
                    metadata: pc.metadata,
                    value: pc.value,
                    globalDefault: pc.globalDefault,
                    preemptionPolicy: pc.preemptionPolicy,
                    description: pc.description,
                },
                { parent: this },
            );
        }
        this.registerOutputs({
            priorityClass: this.priorityClass,
            networkPolicies: this.networkPolicies,
            quota: this.quota,
            limitRange: this.limitRange,
        });
    }
}
