import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    crossNetworkGateway,
    IstioObject,
    istiodGateway,
    istiodVirtualService,
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
                if (args.exposeIstiod && !isIpAddress(address)) {
                    // Remotes would call the webhooks at this name, which istiod's certificate does not carry:
                    // it can only be given to istiod before this gateway exists, so it must come from config.
                    throw refusal(
                        `istio-multicluster:clusters[${cluster.index}].eastWest.address: the load balancer of ` +
                            `${cluster.name}'s east-west gateway reports the hostname ${address}; remotes call ` +
                            `istiod's webhooks at it, so istiod's certificate must name it: set ` +
                            `\`eastWest.address: ${address}\` on ${cluster.name} (or a DNS name of your own that ` +
                            `points there) and run the update again`,
                        this,
                    );
                }
                return address;
            });
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
        this.registerOutputs({
            release: this.release,
            address: this.address,
            istiodExposure: this.istiodExposure,
            servicesExposure: this.servicesExposure,
        });
    }
}
