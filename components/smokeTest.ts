import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SmokeObject, smokeObjects, SmokeTestSettings } from "../stacks/smokeTest";
import { refusal } from "./refusal";

/** One cluster the smoke test runs in. */
export interface SmokeTestCluster {
    readonly name: string;
    /** The cluster's provider: every object of this cluster is created with it. */
    readonly provider: k8s.Provider;
    /**
     * What sidecar injection in this cluster needs before a pod is created: its istiod release (on a remote,
     * the remote-profile release), and on a remote also its remote secret in its primary (the primary's
     * istiod authenticates the remote's proxies through it).
     */
    readonly injection: readonly pulumi.Resource[];
}

export interface SmokeTestArgs {
    /** The validated `istio-multicluster:smokeTest` settings. */
    readonly settings: SmokeTestSettings;
    /** The stack's name, for the command the Job's failure message gives. */
    readonly stack: string;
    /** The mesh's revision (the namespace's injection label follows it); default none. */
    readonly revision?: string;
    /** Every cluster of the mesh: each gets the namespace, the Service, a client and a Job. */
    readonly clusters: readonly SmokeTestCluster[];
    /**
     * What cross-cluster routing needs beside the workloads: the east-west gateways (with what they expose)
     * and the remote secrets. The Jobs wait for them; without them a first `pulumi up` would start the Jobs
     * while the other cluster is not yet reachable and fail for no fault of the mesh.
     */
    readonly meshReady: readonly pulumi.Resource[];
}

/**
 * Istio's multicluster check as part of `pulumi up`: `helloworld` v1 in one cluster and v2 in another, a
 * `curl` client in every cluster, and per cluster a Job that succeeds only once it has been answered by both
 * versions. The Kubernetes provider waits for a Job to complete (and fails at once on a failed Job), so a
 * mesh that does not route between clusters fails the update: @pulumi/kubernetes 4.x documents this await on
 * `batch/v1.Job` (started, then the `Complete` condition; a `Failed` condition fails immediately; 10 minutes
 * unless `customTimeouts` says otherwise), with no annotation needed (`pulumi.com/skipAwait` would turn it off). Spans clusters: each child gets its
 * cluster's provider explicitly.
 */
export class SmokeTest extends pulumi.ComponentResource {
    /** Per cluster name, its Job. */
    public readonly jobs: Readonly<Record<string, k8s.batch.v1.Job>>;

    constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:verify:SmokeTest", name, {}, opts);
        const { settings } = args;
        const names = args.clusters.map((c) => c.name);
        for (const c of [settings.v1, settings.v2]) {
            if (!names.includes(c)) {
                throw refusal(`SmokeTest ${name}: cluster ${c} is not among its clusters`, this);
            }
        }
        const meta = (o: SmokeObject<unknown>) => o.metadata;
        const built = args.clusters.map((cluster) => {
            const objects = smokeObjects(settings, cluster.name, args.revision, args.stack);
            const child = { parent: this, provider: cluster.provider };
            const prefix = `${name}-${cluster.name}`;
            const namespace = new k8s.core.v1.Namespace(
                `${prefix}-namespace`,
                { metadata: meta(objects.namespace) },
                child,
            );
            const inNamespace = { ...meta(objects.service), namespace: namespace.metadata.name };
            const service = new k8s.core.v1.Service(
                `${prefix}-helloworld`,
                { metadata: inNamespace, spec: objects.service.spec! },
                child,
            );
            const workload = (suffix: string, o: SmokeObject<k8s.types.input.apps.v1.DeploymentSpec>) =>
                new k8s.apps.v1.Deployment(
                    `${prefix}-${suffix}`,
                    {
                        metadata: { ...meta(o), namespace: namespace.metadata.name },
                        spec: o.spec!,
                    },
                    { ...child, dependsOn: [...cluster.injection] },
                );
            const helloworld = objects.helloworld
                ? workload(objects.helloworld.metadata.name, objects.helloworld)
                : undefined;
            workload("curl", objects.client);
            return { cluster, objects, namespace, service, helloworld };
        });
        const versions = built.flatMap((b) => (b.helloworld ? [b.helloworld] : []));
        const jobs: Record<string, k8s.batch.v1.Job> = {};
        for (const b of built) {
            jobs[b.cluster.name] = new k8s.batch.v1.Job(
                `${name}-${b.cluster.name}-job`,
                {
                    metadata: { ...meta(b.objects.job), namespace: b.namespace.metadata.name },
                    spec: b.objects.job.spec!,
                },
                {
                    parent: this,
                    provider: b.cluster.provider,
                    dependsOn: [...b.cluster.injection, b.service, ...versions, ...args.meshReady],
                    // The provider's default Job timeout is 10 minutes; the script's own deadline decides.
                    customTimeouts: {
                        create: `${settings.timeoutMinutes + 2}m`,
                        update: `${settings.timeoutMinutes + 2}m`,
                    },
                    // A Job's spec is immutable: a changed smoke test is a new Job.
                    deleteBeforeReplace: true,
                },
            );
        }
        this.jobs = jobs;
        this.registerOutputs({ jobs: this.jobs });
    }
}
