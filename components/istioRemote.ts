import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, MeshSettings } from "../stacks/topology";
import { remoteIstiodValues, remoteWebhookUrls } from "../stacks/values";
import { baseChart, istiodReleases } from "./istioChart";
import { refusal } from "./refusal";

export interface IstioRemoteArgs {
    /** Mesh-wide settings: mesh ID, Istio version and revision. */
    readonly mesh: MeshSettings;
    /** The cluster; must have `role: remote`. */
    readonly cluster: ClusterSpec;
    /** The cluster's `istio-system` namespace (network label, `controlPlaneClusters` annotation). */
    readonly namespace: k8s.core.v1.Namespace;
    /**
     * The primary's east-west address (IP or hostname), as an Output of that gateway: never typed by hand.
     * An IP becomes an EndpointSlice for the remote's `istiod` Service, which the webhooks call. A hostname
     * makes that Service an ExternalName (still what the proxies dial for XDS on 15012), which the API server
     * cannot call webhooks through: the webhooks of both charts then go by URL to the gateway's 15017.
     */
    readonly remotePilotAddress: pulumi.Input<string>;
    /**
     * What must exist in the primary before this remote's webhook can reach istiod: its istiod exposure
     * (Gateway and VirtualService), and istiod's certificate naming a hostname the load balancer reported
     * (IstioPrimary `nameOnCertificate`).
     */
    readonly controlPlaneExposure: readonly pulumi.Input<pulumi.Resource>[];
}

/**
 * A cluster served by a primary's control plane: `base` and `istiod` with `profile=remote` (no istiod
 * Deployment; the injection webhook and an `istiod` Service that point at the primary through its east-west
 * gateway). Create it with `opts.provider` set to the cluster's provider.
 */
export class IstioRemote extends pulumi.ComponentResource {
    /** The `base` release (remote profile). */
    public readonly base: k8s.helm.v3.Release;
    /** The serving revision's `istiod` release (remote profile): the webhook the remote's gateway injection needs. */
    public readonly istiod: k8s.helm.v3.Release;
    /** One remote-profile `istiod` release per revision, each pointing at its primary's istiod of that revision. */
    public readonly istiods: readonly k8s.helm.v3.Release[];

    constructor(name: string, args: IstioRemoteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:istio:IstioRemote", name, {}, opts);
        const { mesh, cluster } = args;
        if (cluster.role !== "remote") {
            throw refusal(`IstioRemote: cluster ${cluster.name} is a ${cluster.role}, not a remote`, this);
        }
        const namespace = args.namespace.metadata.name;
        // IP or hostname is decided on the address itself: a load balancer's is known only once it exists.
        const address = pulumi.output(args.remotePilotAddress);
        const urls = address.apply((a) => remoteWebhookUrls(cluster, a));
        // Both charts render a validating webhook; undefined (an IP) leaves the key out.
        const validation = urls.apply((u) => (u ? { validationURL: u.validationURL } : undefined));
        this.base = baseChart(
            `${name}-base`,
            mesh,
            cluster,
            namespace,
            { parent: this },
            { base: validation },
        );
        const releases = istiodReleases(
            name,
            mesh,
            namespace,
            (revision) => {
                const values = remoteIstiodValues(mesh, cluster, revision);
                return {
                    ...values,
                    istiodRemote: {
                        ...values.istiodRemote,
                        injectionURL: urls.apply((u) => u?.injectionURL),
                    },
                    base: validation,
                    global: { ...values.global, remotePilotAddress: address },
                };
            },
            { parent: this, dependsOn: [this.base, ...args.controlPlaneExposure] },
        );
        this.istiod = releases.serving;
        this.istiods = releases.all;
        this.registerOutputs({ base: this.base, istiod: this.istiod, istiods: this.istiods });
    }
}
