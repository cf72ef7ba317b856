/** Values of Istio's `gateway` chart (see common.ts for how these shapes were checked). */
import type { ProfileSelection, ResourceRequirements, UnhealthyPodEvictionPolicy } from "./common";

/** A port of the gateway Service. */
export interface GatewayServicePort {
    /** Port name; Istio infers the protocol from its prefix (`tls-`, `http2`, ...). */
    readonly name?: string;
    /** Service port. */
    readonly port?: number;
    /**
     * Protocol. Default `TCP`. A plain string as in the chart's schema; Kubernetes itself accepts only
     * `TCP`, `UDP` and `SCTP`.
     */
    readonly protocol?: string;
    /** Container port. */
    readonly targetPort?: number;
}

/** The gateway Service. */
export interface GatewayServiceValues {
    /** Service type; `None` renders no Service. Default `LoadBalancer`. */
    readonly type?: "LoadBalancer" | "NodePort" | "ClusterIP" | "None";
    /** Fixed ClusterIP. Default `""` (automatic). */
    readonly clusterIP?: string;
    /** Extra labels for the Service selector. Default `{}`. */
    readonly selectorLabels?: Readonly<Record<string, string>>;
    /**
     * Service ports. Default status-port 15021, http2 80, https 443. With `networkGateway` set, the chart
     * uses `networkGatewayPorts` instead.
     */
    readonly ports?: readonly GatewayServicePort[];
    /** Service annotations (cloud load balancer settings). Default `{}`. */
    readonly annotations?: Readonly<Record<string, string>>;
    /** Requested load balancer IP. Default `""`. */
    readonly loadBalancerIP?: string;
    /** Client CIDRs allowed through the load balancer. Default `[]` (any). */
    readonly loadBalancerSourceRanges?: readonly string[];
    /** `Local` preserves client IPs. Default `""` (Kubernetes' `Cluster`). */
    readonly externalTrafficPolicy?: "" | "Cluster" | "Local";
    /** External IPs. Default `[]`. */
    readonly externalIPs?: readonly string[];
    /** IP family policy. Default `""`. */
    readonly ipFamilyPolicy?: "" | "SingleStack" | "PreferDualStack" | "RequireDualStack";
    /** IP families. Default `[]`. */
    readonly ipFamilies?: readonly ("IPv4" | "IPv6")[];
    /** Allocate NodePorts for a LoadBalancer (commented out in values.yaml, read by the template). */
    readonly allocateLoadBalancerNodePorts?: boolean;
    /** Load balancer class (commented out in values.yaml, read by the template). */
    readonly loadBalancerClass?: string;
}

/** HorizontalPodAutoscaler of the gateway. */
export interface GatewayAutoscalingValues {
    /** Render an HPA; with `false`, `replicaCount` applies. Default `true`. */
    readonly enabled?: boolean;
    /** Default `1`. */
    readonly minReplicas?: number;
    /** Default `5`. */
    readonly maxReplicas?: number;
    /** Default `80`. */
    readonly targetCPUUtilizationPercentage?: number;
    /** Not set by default. */
    readonly targetMemoryUtilizationPercentage?: number;
    /** HPA `behavior`. Default `{}`. */
    readonly autoscaleBehavior?: Readonly<Record<string, unknown>>;
}

/** PodDisruptionBudget of the gateway; `{}` (the default) renders none. Set one of min/max, not both. */
export interface GatewayPodDisruptionBudgetValues {
    readonly minAvailable?: number | string;
    readonly maxUnavailable?: number | string;
    readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/** Values of the `gateway` chart (an Envoy gateway Deployment plus Service, HPA, PDB, RBAC). */
export interface GatewayValues extends ProfileSelection {
    /** Overrides the release name as the resources' name. Default `""`. */
    readonly name?: string;
    /** Revision this gateway belongs to. Default `""`. */
    readonly revision?: string;
    /** Default revision, read by the profile template. */
    readonly defaultRevision?: string;
    /** Condition field for use as a dependency; the chart itself does not read it. */
    readonly enabled?: boolean;
    /** Replicas when autoscaling is off. Default: unset (Kubernetes' 1). */
    readonly replicaCount?: number | null;
    /** Workload kind. Default `Deployment`. */
    readonly kind?: "Deployment" | "DaemonSet";
    /** Roles for reading certificate secrets. Default `enabled: true`. */
    readonly rbac?: { readonly enabled?: boolean };
    /** The gateway's ServiceAccount. */
    readonly serviceAccount?: {
        /** Default `true`. */
        readonly create?: boolean;
        /** Default `{}`. */
        readonly annotations?: Readonly<Record<string, string>>;
        /** Default `""` (the release name). */
        readonly name?: string;
    };
    /** Pod annotations. Default: Prometheus scrape annotations and the `gateway` injection template. */
    readonly podAnnotations?: Readonly<Record<string, string>>;
    /** Pod security context. Default `{}` (the minimum needed to bind ports 80/443). */
    readonly securityContext?: Readonly<Record<string, unknown>> | null;
    /** Container security context. Default `{}`. */
    readonly containerSecurityContext?: Readonly<Record<string, unknown>> | null;
    /** The gateway Service. */
    readonly service?: GatewayServiceValues;
    /** Container resources. Default requests 100m/128Mi, limits 2000m/1024Mi. */
    readonly resources?: ResourceRequirements;
    /** The HPA. */
    readonly autoscaling?: GatewayAutoscalingValues;
    /** Pod environment variables. Free-form. Default `{}`. */
    readonly env?: Readonly<Record<string, string>>;
    /** Environment variables with `valueFrom`. Default `[]`. */
    readonly envVarFrom?: readonly {
        readonly name: string;
        readonly valueFrom: Readonly<Record<string, unknown>>;
    }[];
    /** Deployment update strategy. Default `{}`. */
    readonly strategy?: Readonly<Record<string, unknown>>;
    /** Deployment `minReadySeconds`. Default unset. */
    readonly minReadySeconds?: number | null;
    /** Custom readiness probe. Default `{}` (the injected one). */
    readonly readinessProbe?: Readonly<Record<string, unknown>> | null;
    /** Labels on every resource; `labels.istio` also becomes the selector label. Default `istio.io/dataplane-mode: none`. */
    readonly labels?: Readonly<Record<string, string>>;
    /** Annotations on every resource. Default `{}`. */
    readonly annotations?: Readonly<Record<string, string | number>>;
    /** Node selector. Default `{}`. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    /** Tolerations. Default `[]`. */
    readonly tolerations?: readonly Readonly<Record<string, unknown>>[];
    /** Topology spread constraints. Default `[]`. */
    readonly topologySpreadConstraints?: readonly Readonly<Record<string, unknown>>[];
    /** Affinity. Default `{}`. */
    readonly affinity?: Readonly<Record<string, unknown>>;
    /**
     * Make this an east-west gateway for the named network: labels it `topology.istio.io/network` and
     * exposes `networkGatewayPorts`. Default `""`.
     */
    readonly networkGateway?: string;
    /** Ports of a network gateway, by name. Default status-port 15021, tls 15443, tls-istiod 15012, tls-webhook 15017. */
    readonly networkGatewayPorts?: Readonly<
        Record<string, { readonly port: number; readonly targetPort?: number; readonly protocol?: string }>
    >;
    /** Image pull policy. Default `""`. */
    readonly imagePullPolicy?: "" | "Always" | "IfNotPresent" | "Never";
    /** Image pull secrets. Default `[]`. */
    readonly imagePullSecrets?: readonly { readonly name: string }[];
    /** PodDisruptionBudget. Default `{}` (none). Needs more than one replica to be useful. */
    readonly podDisruptionBudget?: GatewayPodDisruptionBudgetValues;
    /** Termination grace period, seconds. Default `30`. */
    readonly terminationGracePeriodSeconds?: number;
    /** Extra volumes. Default `[]`. */
    readonly volumes?: readonly Readonly<Record<string, unknown>>[];
    /** Extra volume mounts. Default `[]`. */
    readonly volumeMounts?: readonly Readonly<Record<string, unknown>>[];
    /** Init containers. Default `[]`. */
    readonly initContainers?: readonly Readonly<Record<string, unknown>>[];
    /** Additional containers. Default `[]`. */
    readonly additionalContainers?: readonly Readonly<Record<string, unknown>>[];
    /** PriorityClass. Default `""`. */
    readonly priorityClassName?: string;
    /** Lifecycle hooks of the gateway container. Default `{}`. */
    readonly lifecycle?: {
        readonly postStart?: Readonly<Record<string, unknown>>;
        readonly preStop?: Readonly<Record<string, unknown>>;
    };
    /** Run the gateway as root. */
    readonly runAsRoot?: boolean;
    /** Whether the gateway may bind ports below 1024 unprivileged. */
    readonly unprivilegedPort?: boolean | "auto";
    /** Settings shared with the other charts. */
    readonly global?: {
        /** Render a default NetworkPolicy for the gateway. Default `enabled: false`. */
        readonly networkPolicy?: { readonly enabled?: boolean };
    };
}
