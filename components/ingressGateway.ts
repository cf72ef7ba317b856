import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gatewayHardeningValues, HardeningSettings, mergeValues } from "../stacks/hardening";
import { MeshSettings } from "../stacks/topology";
import {
    ingressGatewayValues,
    ingressReleaseName,
    ingressSelector,
    IngressSettings,
} from "../stacks/traffic";
import { istioChart } from "./istioChart";

export interface IngressGatewayArgs {
    /** Mesh-wide settings: Istio version and revision. */
    readonly mesh: MeshSettings;
    /** The ingress settings (service type, source ranges, annotations, scaling). */
    readonly ingress: IngressSettings;
    /** The cluster's `istio-system` namespace: the gateway and the TLS credentials it reads live there. */
    readonly namespace: k8s.core.v1.Namespace;
    /**
     * The istiod release whose webhook injects the gateway's proxy: the cluster's own on a primary, the
     * remote-profile istiod on a remote.
     */
    readonly istiod: pulumi.Resource;
    /** Anything else the gateway must wait for (on a remote: its remote secret in its primary). Default none. */
    readonly waitFor?: readonly pulumi.Resource[];
    /** Spread, priority and HPA target (stacks/hardening.ts). Default none: the chart's scheduling. */
    readonly hardening?: HardeningSettings;
    /** The cluster's PriorityClass when `hardening` names one: the gateway's pods are refused before it exists. */
    readonly priorityClass?: pulumi.Resource;
}

/**
 * A cluster's ingress gateway: the official `gateway` chart as `istio-ingressgateway`, labelled
 * `istio: ingressgateway` for the Gateways every primary serves. Create it with `opts.provider` set to the
 * cluster's provider.
 */
export class IngressGateway extends pulumi.ComponentResource {
    /** The gateway's Helm release. */
    public readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: IngressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:traffic:IngressGateway", name, {}, opts);
        this.release = istioChart(
            `${name}-ingressgateway`,
            {
                chart: "gateway",
                releaseName: ingressReleaseName,
                istio: args.mesh.istio,
                namespace: args.namespace.metadata.name,
                values: {
                    ...mergeValues(
                        ingressGatewayValues(args.ingress, args.mesh.istio.revision),
                        args.hardening
                            ? gatewayHardeningValues(args.hardening, {
                                  app: ingressReleaseName,
                                  ...ingressSelector,
                              })
                            : {},
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
        this.registerOutputs({ release: this.release });
    }
}
