import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    crossNetworkGateway,
    IstioObject,
    istiodGateway,
    istiodVirtualService,
    reportedHostVirtualService,
} from "../stacks/istioObjects";
import {
    eastWestPodLabels,
    gatewayHardeningValues,
    HardeningSettings,
    mergeValues,
} from "../stacks/hardening";
import { ClusterSpec, MeshSettings } from "../stacks/topology";
import { eastWestGatewayValues, fixedHostname, releaseNames } from "../stacks/values";
import { isIpAddress } from "../stacks/validate";
import { controlPlaneRevisions } from "../stacks/revisions";
import { istioChart } from "./istioChart";
import { refusal } from "./refusal";

export interface EastWestGatewayArgs {
    /** Mesh-wide settings: Istio version and revision. */
    readonly mesh: MeshSettings;
    /** The cluster, with its merged `eastWest` settings (service type, source ranges, fixed address). */
    readonly cluster: ClusterSpec;
    /** The cluster's `istio-system` namespace. */
    readonly namespace: k8s.core.v1.Namespace;
    /**
     * The istiod release whose webhook injects the gateway's proxy: the cluster's own istiod on a primary,
     * the remote-profile istiod on a remote. The gateway, and the Istio objects it serves, wait for it.
     */
    readonly istiod: pulumi.Resource;
    /** Anything else the gateway must wait for (on a remote: its remote secret in its primary). Default none. */
    readonly waitFor?: readonly pulumi.Resource[];
    /** Expose every service to other networks (cross-network Gateway on 15443). Default false. */
    readonly exposeServices?: boolean;
    /** Expose istiod to remotes (Gateway and VirtualService for 15012 and 15017). Default false. */
    readonly exposeIstiod?: boolean;
    /** Spread, priority and HPA target (stacks/hardening.ts). Default none: the chart's scheduling. */
    readonly hardening?: HardeningSettings;
    /** The cluster's PriorityClass when `hardening` names one: the gateway's pods are refused before it exists. */
    readonly priorityClass?: pulumi.Resource;
}

/**
 * The east-west gateway (official `gateway` chart as `istio-eastwestgateway`, `networkGateway` set to the
 * cluster's network), what it exposes, and its reachable address. Create it with `opts.provider` set to the
 * cluster's provider.
 */
export class EastWestGateway extends pulumi.ComponentResource {
    /** The gateway's Helm release. */
    public readonly release: k8s.helm.v3.Release;
    /**
     * The address other clusters reach the gateway at (IP or hostname): `eastWest.address` when configured,
     * otherwise the load balancer's, read once Helm has waited for it.
     */
    public readonly address: pulumi.Output<string>;
    /**
     * The hostname the load balancer reports when no `eastWest.address` is configured and the gateway
     * exposes istiod: remotes call istiod's webhooks at it, so istiod's serving certificate must name it
     * (IstioPrimary `nameOnCertificate`). Undefined for an IP, a configured address, or no istiod exposure.
     */
    public readonly reportedHostname: pulumi.Output<string | undefined>;
    /**
     * What a remote's istiod waits for beside `istiodExposure`: the route of a reported hostname's webhook
     * calls to the serving revision's istiod, once known; otherwise the gateway's release.
     */
    public readonly reportedHostnameRoute: pulumi.Output<pulumi.Resource>;
    /** The istiod exposure objects (empty unless `exposeIstiod`): a remote's istiod waits for them. */
    public readonly istiodExposure: readonly k8s.apiextensions.CustomResource[];
    /** The cross-network Gateway, when `exposeServices`. */
    public readonly servicesExposure?: k8s.apiextensions.CustomResource;

    constructor(name: string, args: EastWestGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:istio:EastWestGateway", name, {}, opts);
        const { mesh, cluster } = args;
        this.release = istioChart(
            `${name}-eastwestgateway`,
            {
                chart: "gateway",
                releaseName: releaseNames.eastWestGateway,
                istio: mesh.istio,
                namespace: args.namespace.metadata.name,
                values: {
                    ...mergeValues(
                        eastWestGatewayValues(mesh, cluster),
                        args.hardening ? gatewayHardeningValues(args.hardening, eastWestPodLabels()) : {},
                    ),
                },
            },
            {
                parent: this,
                dependsOn: [
                    args.istiod,
                    ...(args.waitFor ?? []),
                    ...(args.priorityClass ? [args.priorityClass] : []),
                ],
            },
        );

        const fixed = cluster.eastWest.address;
        if (fixed !== undefined) {
            this.address = pulumi.output(fixed);
            this.reportedHostname = pulumi.output(undefined);
        } else {
            // The ID is derived from the release so that the read happens only once the release exists
            // (Helm has then waited for the load balancer); in a first preview it is unknown, as is the address.
            const service = k8s.core.v1.Service.get(
                `${name}-eastwestgateway-service`,
                this.release.status.apply((s) => `${s.namespace}/${releaseNames.eastWestGateway}`),
                { parent: this },
            );
            this.address = service.status.apply((status) => {
                const ingress = status?.loadBalancer?.ingress?.[0];
                const address = ingress?.ip || ingress?.hostname;
                if (!address) {
                    throw refusal(
                        `istio-multicluster:clusters[${cluster.index}].eastWest: the east-west gateway of ` +
                            `${cluster.name} has no load-balancer address; check that the cluster can provision ` +
                            `LoadBalancer Services, or set \`eastWest.address\` to a reachable address`,
                        this,
                    );
                }
                return address;
            });
            this.reportedHostname = this.address.apply((a) =>
                args.exposeIstiod && !isIpAddress(a) ? a : undefined,
            );
        }

        const object = (suffix: string, obj: IstioObject, aliases?: string) =>
            new k8s.apiextensions.CustomResource(
                `${name}-${suffix}`,
                { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata, spec: obj.spec },
                // istiod serves the validating webhook that admits Istio objects (its CRDs come with base).
                {
                    parent: this,
                    dependsOn: [args.istiod],
                    ...(aliases !== undefined ? { aliases: [{ name: `${name}-${aliases}` }] } : {}),
                },
            );
        if (args.exposeServices)
            this.servicesExposure = object("cross-network-gateway", crossNetworkGateway());
        this.istiodExposure = args.exposeIstiod
            ? [
                  object("istiod-gateway", istiodGateway()),
                  // One route per revision: a remote's `istiod-<rev>` reaches its primary's istiod of that
                  // revision by SNI. Webhooks called by URL at a hostname all carry that one name as SNI, so
                  // only the serving revision's route takes it.
                  ...controlPlaneRevisions(mesh.istio).map((revision) =>
                      object(
                          `istiod-vs${revision.suffix}`,
                          istiodVirtualService(
                              revision.name,
                              revision.serving ? fixedHostname(cluster) : undefined,
                          ),
                          revision.takesOverShorthand ? "istiod-vs" : undefined,
                      ),
                  ),
              ]
            : [];
        // Webhooks called by URL at a hostname carry it as SNI. A configured hostname is in the serving
        // revision's route above; one the load balancer reports is known only now, and gets a route of its own
        // (a named revision's route matches only its own names; without a name, `*` already takes it).
        const serving = controlPlaneRevisions(mesh.istio).find((r) => r.serving);
        this.reportedHostnameRoute = this.reportedHostname.apply((host): pulumi.Resource => {
            if (host === undefined || serving?.name === undefined) return this.release;
            return object("istiod-vs-reported-host", reportedHostVirtualService(serving.name, host));
        });
        this.registerOutputs({
            release: this.release,
            address: this.address,
            reportedHostname: this.reportedHostname,
            istiodExposure: this.istiodExposure,
            servicesExposure: this.servicesExposure,
        });
    }
}
