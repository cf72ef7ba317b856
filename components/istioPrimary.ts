import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, MeshSettings } from "../stacks/topology";
import { HardeningSettings, istiodHardeningValues, mergeValues } from "../stacks/hardening";
import { ObservabilitySettings, telemetryIstiodValues } from "../stacks/telemetry";
import { customHostEnv, istiodDeployment, primaryIstiodValues, reportedHost } from "../stacks/values";
import { ControlPlaneRevision, controlPlaneRevisions } from "../stacks/revisions";
import { baseChart, istiodReleases } from "./istioChart";
import { refusal } from "./refusal";

export interface IstioPrimaryArgs {
    /** Mesh-wide settings: mesh ID, trust domain, Istio version and revision, control-plane sizing. */
    readonly mesh: MeshSettings;
    /** The cluster; must have `role: primary`. */
    readonly cluster: ClusterSpec;
    /** The cluster's `istio-system` namespace (with its network label); both releases go into it. */
    readonly namespace: k8s.core.v1.Namespace;
    /** The cluster's `cacerts` Secret from the TrustAnchor: istiod must not start before it exists. */
    readonly cacerts: k8s.core.v1.Secret;
    /** Whether this control plane serves remote clusters (sets `global.externalIstiod`). Default false. */
    readonly servesRemotes?: boolean;
    /** Hosts that never leave the caller's cluster (`meshConfig.serviceSettings`). Default none. */
    readonly clusterLocalHosts?: readonly string[];
    /** Spread, priority and HPA target (stacks/hardening.ts). Default none: the chart's scheduling. */
    readonly hardening?: HardeningSettings;
    /** The cluster's PriorityClass when `hardening` names one: istiod's pods are refused before it exists. */
    readonly priorityClass?: pulumi.Resource;
    /** The tracing provider and access logs (stacks/telemetry.ts). Default none. */
    readonly observability?: ObservabilitySettings;
}

/**
 * A cluster's own control plane: the `base` chart (CRDs, the reader service account) and `istiod` (the
 * control plane, and the reader ClusterRole and binding that remote secrets need), configured for the mesh.
 * Create it with `opts.provider` set to the cluster's provider; its children inherit it.
 */
export class IstioPrimary extends pulumi.ComponentResource {
    /** The `base` release. */
    public readonly base: k8s.helm.v3.Release;
    /** The serving revision's `istiod` release: what the east-west gateway (sidecar injection) waits for. */
    public readonly istiod: k8s.helm.v3.Release;
    /** One `istiod` release per revision (`mesh.istio.revisions`; the shorthand: the one above). */
    public readonly istiods: readonly k8s.helm.v3.Release[];
    /** The revisions, in the order of `istiods`. */
    private readonly revisions: readonly ControlPlaneRevision[];
    /** The component's name, which its children's names start with. */
    private readonly baseName: string;

    constructor(name: string, args: IstioPrimaryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:istio:IstioPrimary", name, {}, opts);
        const { mesh, cluster } = args;
        if (cluster.role !== "primary") {
            throw refusal(`IstioPrimary: cluster ${cluster.name} is a ${cluster.role}, not a primary`, this);
        }
        const namespace = args.namespace.metadata.name;
        this.base = baseChart(`${name}-base`, mesh, cluster, namespace, { parent: this });
        const hardening = args.hardening;
        const releases = istiodReleases(
            name,
            mesh,
            namespace,
            (revision) => ({
                ...mergeValues(
                    primaryIstiodValues(
                        mesh,
                        cluster,
                        args.servesRemotes ?? false,
                        args.clusterLocalHosts,
                        revision,
                    ),
                    mergeValues(
                        hardening ? istiodHardeningValues(hardening, revision.name) : {},
                        args.observability ? telemetryIstiodValues(args.observability) : {},
                    ),
                ),
            }),
            // cacerts first: an istiod started without it makes a self-signed CA and keeps it.
            {
                parent: this,
                dependsOn: [this.base, args.cacerts, ...(args.priorityClass ? [args.priorityClass] : [])],
            },
        );
        this.istiod = releases.serving;
        this.istiods = releases.all;
        this.revisions = controlPlaneRevisions(mesh.istio);
        this.baseName = name;
        this.registerOutputs({ base: this.base, istiod: this.istiod, istiods: this.istiods });
    }

    /**
     * Puts `host`, once known, on the serving certificate of every revision's istiod: a hostname the east-west
     * load balancer reports only after it exists, at which remotes call istiod's webhooks (the API server
     * checks the name against that certificate). A configured hostname goes into the release's values
     * (`ISTIOD_CUSTOM_HOST`) before the gateway exists; a reported one cannot, since the gateway's proxy is
     * injected by this istiod. So a ConfigMap holds that one variable, and a server-side apply patch of each
     * istiod Deployment (its own field manager) loads it with `envFrom`, which the chart never renders (Helm's
     * later upgrades leave it alone; a variable in `env` would be compared by position with the chart's own
     * and always differ) and annotates the pod template with the name, so that a new name rolls istiod out:
     * istiod makes its certificate at start. Once the name is no longer needed (an IP, or the address put in
     * config, whose `env` value wins over `envFrom`), deleting the patch gives its fields back.
     *
     * One entry per revision, each what a remote's istiod must wait for: the patch, or `otherwise` when
     * `host` is undefined (an IP needs no name) or not yet known (a first preview).
     */
    public nameOnCertificate(
        host: pulumi.Output<string | undefined>,
        otherwise: pulumi.Resource,
    ): pulumi.Output<pulumi.Resource>[] {
        const namespace = this.istiods[0]!.namespace;
        const made = host.apply((h): pulumi.Resource[] => {
            if (h === undefined) return this.revisions.map(() => otherwise);
            const config = new k8s.core.v1.ConfigMap(
                `${this.baseName}-reported-host`,
                { metadata: { name: reportedHost.configMap, namespace }, data: { [customHostEnv]: h } },
                { parent: this },
            );
            return this.revisions.map(
                (revision, i) =>
                    new k8s.apps.v1.DeploymentPatch(
                        `${this.baseName}-istiod${revision.suffix}-reported-host`,
                        {
                            metadata: { name: istiodDeployment.name(revision.name), namespace },
                            spec: {
                                template: {
                                    metadata: { annotations: { [reportedHost.annotation]: h } },
                                    spec: {
                                        containers: [
                                            {
                                                name: istiodDeployment.container,
                                                envFrom: [{ configMapRef: { name: reportedHost.configMap } }],
                                            },
                                        ],
                                    },
                                },
                            },
                        },
                        { parent: this, dependsOn: [this.istiods[i]!, config] },
                    ),
            );
        });
        return this.revisions.map((_, i) => made.apply((list) => list[i]!));
    }
}
