/** Values of Istio's `istiod` chart (see common.ts for how these shapes were checked). */
import type {
    ProfileSelection,
    ResourceRequirements,
    ResourceScope,
    UnhealthyPodEvictionPolicy,
} from "./common";

/**
 * `ProxyConfig` defaults for every proxy (`meshConfig.defaultConfig`). A subset of the proto: the keys the
 * program or an operator is likely to set.
 */
export interface ProxyConfigValues {
    /** Environment for the istio-agent, e.g. `ISTIO_META_DNS_CAPTURE: "true"`. Free-form, string values. */
    readonly proxyMetadata?: Readonly<Record<string, string>>;
    /** Address of the discovery service (istiod), `host:port`. Default: derived from the revision. */
    readonly discoveryAddress?: string;
    /** Start the application only once the proxy is ready. Default `false`. */
    readonly holdApplicationUntilProxyStarts?: boolean;
    /** Worker threads of the proxy; `0` means one per core. Default `2`. */
    readonly concurrency?: number;
}

/** The mesh-wide runtime configuration, `MeshConfig` (a subset of the proto). */
export interface MeshConfigValues {
    /** SPIFFE trust domain of the mesh's workload identities. Default `cluster.local`. */
    readonly trustDomain?: string;
    /** Other trust domains accepted as this one (during a migration). Default `[]`. */
    readonly trustDomainAliases?: readonly string[];
    /** Proxy defaults for every workload. */
    readonly defaultConfig?: ProxyConfigValues;
    /** Merge application and proxy Prometheus metrics. Default `true`. */
    readonly enablePrometheusMerge?: boolean;
    /** Access log path, e.g. `/dev/stdout`; empty disables. Default `""`. */
    readonly accessLogFile?: string;
    /** Access log encoding. Default `TEXT`. */
    readonly accessLogEncoding?: "TEXT" | "JSON";
    /** Send mTLS automatically where the destination has a sidecar. Default `true`. */
    readonly enableAutoMtls?: boolean;
    /** Namespace whose config applies mesh-wide. Default: istiod's namespace. */
    readonly rootNamespace?: string;
    /** What sidecars do with traffic to hosts outside the registry. Default `ALLOW_ANY`. */
    readonly outboundTrafficPolicy?: { readonly mode?: "ALLOW_ANY" | "REGISTRY_ONLY" };
    /** Telemetry providers the Telemetry API names (tracing here: OpenTelemetry or Zipkin). Default `[]`. */
    readonly extensionProviders?: readonly (
        | {
              readonly name: string;
              readonly opentelemetry: { readonly service: string; readonly port: number };
          }
        | { readonly name: string; readonly zipkin: { readonly service: string; readonly port: number } }
    )[];
    /** Per-host settings; `clusterLocal: true` keeps calls to those hosts inside the caller's cluster. */
    readonly serviceSettings?: readonly {
        readonly settings: { readonly clusterLocal: boolean };
        readonly hosts: readonly string[];
    }[];
}

/** One network in `global.meshNetworks`: how its endpoints are recognised and reached. */
export interface MeshNetwork {
    /** Endpoints belong to this network by CIDR or by registry (cluster name). */
    readonly endpoints?: readonly ({ readonly fromCidr: string } | { readonly fromRegistry: string })[];
    /** Gateways into this network, by address or by the gateway Service's name. */
    readonly gateways?: readonly (
        | { readonly address: string; readonly port: number }
        | { readonly registryServiceName: string; readonly port: number }
    )[];
}

/** Proxy (sidecar and gateway) defaults in `global.proxy`. */
export interface GlobalProxyValues {
    /** Proxy image name. Default `proxyv2`. */
    readonly image?: string;
    /** Injection policy of the sidecar injector. Default `enabled`. */
    readonly autoInject?: "enabled" | "disabled";
    /** Kubernetes cluster DNS domain; must agree across charts. Default `cluster.local`. */
    readonly clusterDomain?: string;
    /** Per-component proxy log levels. Default `misc:error`. */
    readonly componentLogLevel?: string;
    /** Inbound ports not captured. Default `""`. */
    readonly excludeInboundPorts?: string;
    /** Inbound ports captured. Default `*`. */
    readonly includeInboundPorts?: string;
    /** Egress CIDRs captured. Default `*`. */
    readonly includeIPRanges?: string;
    /** Egress CIDRs not captured. Default `""`. */
    readonly excludeIPRanges?: string;
    /** Egress ports captured. Default `""`. */
    readonly includeOutboundPorts?: string;
    /** Egress ports not captured. Default `""`. */
    readonly excludeOutboundPorts?: string;
    /** Proxy log level. Default `warning`. */
    readonly logLevel?: "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";
    /** Outlier event log path. Default `""`. */
    readonly outlierLogPath?: string;
    /** Run istio-proxy privileged. Default `false`. */
    readonly privileged?: boolean;
    /** Seccomp profile of the proxy container. Default `{}`. */
    readonly seccompProfile?: Readonly<Record<string, unknown>>;
    /** Readiness probe failure threshold. Default `4`. */
    readonly readinessFailureThreshold?: number;
    /** Readiness probe initial delay, seconds. Default `0`. */
    readonly readinessInitialDelaySeconds?: number;
    /** Readiness probe period, seconds. Default `15`. */
    readonly readinessPeriodSeconds?: number;
    /** Startup probe. Default enabled, failure threshold `600`. */
    readonly startupProbe?: { readonly enabled?: boolean; readonly failureThreshold?: number };
    /** Sidecar resources. Default requests 100m/128Mi, limits 2000m/1024Mi. */
    readonly resources?: ResourceRequirements;
    /** Health-check port of the agent; `0` disables. Default `15020`. */
    readonly statusPort?: number;
    /** Tracer. Default `none`. */
    readonly tracer?: string;
}

/** `global` block of the `istiod` chart. Several keys must agree with the other charts. */
export interface IstiodGlobalValues {
    /** Namespace istiod runs in. Default `istio-system`. */
    readonly istioNamespace?: string;
    /** Cert signers istiod may approve CSRs for. Default `[]`. */
    readonly certSigners?: readonly string[];
    /** PodDisruptionBudget for the control plane (see also top-level `pdb`). Default enabled. */
    readonly defaultPodDisruptionBudget?: { readonly enabled?: boolean };
    /** Minimal requests applied to every deployment so an HPA can work. Default `requests.cpu: 10m`. */
    readonly defaultResources?: ResourceRequirements;
    /** Image registry. Default `registry.istio.io/testing` upstream; releases override it. */
    readonly hub?: string;
    /** Image tag. */
    readonly tag?: string;
    /** Image variant, e.g. `distroless` or `debug`. Default `""`. */
    readonly variant?: string;
    /** Image pull policy. Default `""` (Kubernetes' default). */
    readonly imagePullPolicy?: "" | "Always" | "IfNotPresent" | "Never";
    /** Image pull secret names for every ServiceAccount. Default `[]`. */
    readonly imagePullSecrets?: readonly string[];
    /** istiod analysis. Default `enableAnalysis: false`. */
    readonly istiod?: { readonly enableAnalysis?: boolean };
    /** Log as JSON. Default `false`. */
    readonly logAsJson?: boolean;
    /** Use nftables instead of iptables. Default `false`. */
    readonly nativeNftables?: boolean;
    /** Control-plane log levels, e.g. `default:info`. */
    readonly logging?: { readonly level?: string };
    /** Render default NetworkPolicies. Default `enabled: false`. */
    readonly networkPolicy?: { readonly enabled?: boolean };
    /** Do not render the sidecar-injector ConfigMap (profile `remote` sets `true`). Default `false`. */
    readonly omitSidecarInjectorConfigMap?: boolean;
    /** Which resources are rendered. Default `all`. */
    readonly resourceScope?: ResourceScope;
    /** Let the operator, not istiod, manage webhook configurations. Default `false`. */
    readonly operatorManageWebhooks?: boolean;
    /** Extra DNS search domains for injected pods (commented out in values.yaml, read by the template). */
    readonly podDNSSearchNamespaces?: readonly string[];
    /** PriorityClass of the control-plane pods. Default `""`. */
    readonly priorityClassName?: string;
    /** Proxy defaults. */
    readonly proxy?: GlobalProxyValues;
    /** The proxy init container. */
    readonly proxy_init?: { readonly image?: string; readonly forceApplyIptables?: boolean };
    /**
     * Address of the istiod this cluster uses when it has none of its own (profile `remote`): an IP renders
     * an Endpoints object, a hostname an ExternalName Service. Default `""`.
     */
    readonly remotePilotAddress?: string;
    /** CA address for workload certificates. Default `""` (istiod). */
    readonly caAddress?: string;
    /** This istiod also serves remote clusters (external control plane, primary-remote). Default `false`. */
    readonly externalIstiod?: boolean;
    /** This remote cluster is the config cluster of an external istiod. Default `false`. */
    readonly configCluster?: boolean;
    /** Render the validation webhook. Default `true`. */
    readonly configValidation?: boolean;
    /** Mesh identifier; the same in every cluster of the mesh. Default `""` (the trust domain). */
    readonly meshID?: string;
    /** Static mesh networks for split-horizon EDS. Default `{}`. */
    readonly meshNetworks?: Readonly<Record<string, MeshNetwork>>;
    /** Use mounted certs for Pilot and workloads. Default `false`. */
    readonly mountMtlsCerts?: boolean;
    /** Multicluster identity of this install. */
    readonly multiCluster?: {
        /** Name of the cluster this install runs in; needed for injection to label proxies. Default `""`. */
        readonly clusterName?: string;
    };
    /** Network this cluster's workloads are on. Default `""`. */
    readonly network?: string;
    /** Provider of the control plane's certificate. Default `istiod`. */
    readonly pilotCertProvider?: string;
    /** SDS token audience. Default `istio-ca`. */
    readonly sds?: { readonly token?: { readonly aud?: string } };
    /** STS server port; non-zero enables it. Default `0`. */
    readonly sts?: { readonly servicePort?: number };
    /** CA name for workload certificates. Default `""`. */
    readonly caName?: string;
    /** Waypoint proxy settings (ambient). */
    readonly waypoint?: {
        readonly resources?: ResourceRequirements;
        readonly affinity?: Readonly<Record<string, unknown>>;
        readonly topologySpreadConstraints?: readonly Readonly<Record<string, unknown>>[];
        readonly nodeSelector?: Readonly<Record<string, string>>;
        readonly tolerations?: readonly Readonly<Record<string, unknown>>[];
    };
}

/** `istiodRemote` block: a cluster that consumes an istiod running elsewhere. */
export interface IstiodRemoteValues {
    /** Install only what a remote istiod needs, not istiod itself (profile `remote` sets `true`). Default `false`. */
    readonly enabled?: boolean;
    /** A local istiod injects sidecars while config comes from the remote one. Default `false`. */
    readonly enabledLocalInjectorIstiod?: boolean;
    /** Injection webhook URL; do not point it at an in-cluster Service. Default `""`. */
    readonly injectionURL?: string;
    /** Injection webhook path, e.g. `/inject/cluster/<cluster>/net/<network>`. Default `/inject`. */
    readonly injectionPath?: string;
    /** CA bundle of the injection webhook. Default `""`. */
    readonly injectionCABundle?: string;
}

/** The sidecar injector's webhook settings. */
export interface SidecarInjectorWebhookValues {
    /** Pods matching any of these label selectors are never injected. Default `[]`. */
    readonly neverInjectSelector?: readonly Readonly<Record<string, unknown>>[];
    /** Pods matching any of these label selectors are always injected. Default `[]`. */
    readonly alwaysInjectSelector?: readonly Readonly<Record<string, unknown>>[];
    /** Annotations added to injected pods. Default `{}`. */
    readonly injectedAnnotations?: Readonly<Record<string, string>>;
    /** Inject every namespace unless it opts out. Default `false`. */
    readonly enableNamespacesByDefault?: boolean;
    /** Webhook reinvocation policy. Default `Never`. */
    readonly reinvocationPolicy?: "Never" | "IfNeeded";
    /** Rewrite HTTP probes to go through the agent. Default `true`. */
    readonly rewriteAppHTTPProbe?: boolean;
    /** Custom injection templates, by name. Default `{}`. */
    readonly templates?: Readonly<Record<string, string>>;
    /** Templates applied by default. Default `[]` (the `sidecar` template). */
    readonly defaultTemplates?: readonly string[];
}

/** PodDisruptionBudget of istiod (top-level `pdb`). Set `minAvailable` or `maxUnavailable`, never both. */
export interface IstiodPdbValues {
    /** Minimum available pods. Default `1`. */
    readonly minAvailable?: number | string;
    /** Maximum unavailable pods; when set, `minAvailable` is ignored. Not set by default. */
    readonly maxUnavailable?: number | string;
    /** Eviction policy for unhealthy pods. Default `""`. */
    readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/**
 * Values of the `istiod` chart. The Deployment settings are top-level keys (there is no `pilot` block in
 * this chart any more).
 */
export interface IstiodValues extends ProfileSelection {
    /** Revision name; suffixes resource names and sets the `istio.io/rev` label. Default `""`. */
    readonly revision?: string;
    /** Revision tags (aliases) to render. Default `[]`. */
    readonly revisionTags?: readonly string[];
    /** Owner name, for Helm compatibility. Default `""`. */
    readonly ownerName?: string;
    /** Enable the HorizontalPodAutoscaler; cannot be combined with a fixed `replicaCount`. Default `true`. */
    readonly autoscaleEnabled?: boolean;
    /** HPA minimum replicas. Default `1`. */
    readonly autoscaleMin?: number;
    /** HPA maximum replicas. Default `5`. */
    readonly autoscaleMax?: number;
    /** HPA `behavior`. Default `{}`. */
    readonly autoscaleBehavior?: Readonly<Record<string, unknown>>;
    /** Replicas when autoscaling is off. Default `1`. */
    readonly replicaCount?: number;
    /** Rolling update max surge. Default `100%`. */
    readonly rollingMaxSurge?: number | string;
    /** Rolling update max unavailable. Default `25%`. */
    readonly rollingMaxUnavailable?: number | string;
    /** Image registry override for istiod. Default `""` (the global one). */
    readonly hub?: string;
    /** Image tag override for istiod. Default `""`. */
    readonly tag?: string;
    /** Image variant override. Default `""`. */
    readonly variant?: string;
    /** Image name, or a full `hub/image:tag`. Default `pilot`. */
    readonly image?: string;
    /** Trace sampling percentage. Default `1.0`. */
    readonly traceSampling?: number;
    /** istiod container resources. Default requests 500m/2048Mi. */
    readonly resources?: ResourceRequirements;
    /** istiod pod seccomp profile. Default `{}`. */
    readonly seccompProfile?: Readonly<Record<string, unknown>>;
    /** Use an existing CNI installation. */
    readonly cni?: { readonly enabled?: boolean; readonly provider?: string };
    /** Extra istiod container arguments. Default `[]`. */
    readonly extraContainerArgs?: readonly string[];
    /** Extra istiod environment variables (`PILOT_*` feature flags). Free-form. Default `{}`. */
    readonly env?: Readonly<Record<string, string>>;
    /** Environment variables with `valueFrom`. Default `[]`. */
    readonly envVarFrom?: readonly Readonly<Record<string, unknown>>[];
    /** The node untaint controller. */
    readonly taint?: { readonly enabled?: boolean; readonly namespace?: string; readonly name?: string };
    /** Pod affinity. Default `{}`. */
    readonly affinity?: Readonly<Record<string, unknown>>;
    /** Pod tolerations. Default `[]`. */
    readonly tolerations?: readonly Readonly<Record<string, unknown>>[];
    /** HPA CPU target. Default `targetAverageUtilization: 80`. */
    readonly cpu?: { readonly targetAverageUtilization?: number };
    /** HPA memory target. Default `{}` (none). */
    readonly memory?: { readonly targetAverageUtilization?: number };
    /** Extra volume mounts of the istiod container. Default `[]`. */
    readonly volumeMounts?: readonly Readonly<Record<string, unknown>>[];
    /** Extra volumes of the istiod pod. Default `[]`. */
    readonly volumes?: readonly Readonly<Record<string, unknown>>[];
    /** Init containers of the istiod pod. Default `[]`. */
    readonly initContainers?: readonly Readonly<Record<string, unknown>>[];
    /** Node selector. Default `{}`. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    /** Pod annotations. Default `{}`. */
    readonly podAnnotations?: Readonly<Record<string, string>>;
    /** istiod Service annotations. Default `{}`. */
    readonly serviceAnnotations?: Readonly<Record<string, string>>;
    /** istiod ServiceAccount annotations. Default `{}`. */
    readonly serviceAccountAnnotations?: Readonly<Record<string, string>>;
    /** Sidecar injector webhook annotations. Default `{}`. */
    readonly sidecarInjectorWebhookAnnotations?: Readonly<Record<string, string>>;
    /** Topology spread constraints. Default `[]`. */
    readonly topologySpreadConstraints?: readonly Readonly<Record<string, unknown>>[];
    /** Extra root CA (PEM) for JWKS resolution. Default `""`. */
    readonly jwksResolverExtraRootCA?: string;
    /** Max age of a proxy's connection to istiod. Default `30m`. */
    readonly keepaliveMaxServerConnectionAge?: string;
    /** Deployment labels. Default `{}`. */
    readonly deploymentLabels?: Readonly<Record<string, string>>;
    /** Deployment annotations. Default `{}`. */
    readonly deploymentAnnotations?: Readonly<Record<string, string>>;
    /** Render the mesh ConfigMap from `meshConfig` (profile `remote` sets `false`). Default `true`. */
    readonly configMap?: boolean;
    /** Pod labels. Default `{}`. */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** istiod Service IP family policy. Default `""`. */
    readonly ipFamilyPolicy?: "" | "SingleStack" | "PreferDualStack" | "RequireDualStack";
    /** istiod Service IP families. Default `[]`. */
    readonly ipFamilies?: readonly ("IPv4" | "IPv6")[];
    /** Namespace of ztunnel, if not istiod's (ambient). Default `""`. */
    readonly trustedZtunnelNamespace?: string;
    /** Name of ztunnel, if not the default (ambient). Default `""`. */
    readonly trustedZtunnelName?: string;
    /** The sidecar injector. */
    readonly sidecarInjectorWebhook?: SidecarInjectorWebhookValues;
    /** Consume a remote istiod. */
    readonly istiodRemote?: IstiodRemoteValues;
    /** Telemetry filters (profile `remote` sets `enabled: false`). */
    readonly telemetry?: {
        readonly enabled?: boolean;
        readonly v2?: {
            readonly enabled?: boolean;
            readonly prometheus?: { readonly enabled?: boolean };
            readonly stackdriver?: { readonly enabled?: boolean };
        };
    };
    /** Mesh-wide runtime configuration, rendered into the `istio` ConfigMap. */
    readonly meshConfig?: MeshConfigValues;
    /** Experimental features. */
    readonly experimental?: { readonly stableValidationPolicy?: boolean };
    /** Settings shared with the other charts. */
    readonly global?: IstiodGlobalValues;
    /** Validation webhook settings that this chart renders. */
    readonly base?: {
        /** Default `true`. */
        readonly enableIstioConfigCRDs?: boolean;
        /** `Fail` avoids the Ignore-then-Fail flip (commented out in values.yaml, read by the template). */
        readonly validationFailurePolicy?: "Ignore" | "Fail";
        /** The validating webhook's URL instead of the `istiod` Service (not in values.yaml, read by the template). */
        readonly validationURL?: string;
    };
    /** Settings of gateways the control plane templates (Gateway API). */
    readonly gateways?: {
        readonly securityContext?: Readonly<Record<string, unknown>>;
        readonly seccompProfile?: Readonly<Record<string, unknown>>;
    };
    /** Per-GatewayClass customisation of generated Gateway deployments. Default `{}`. */
    readonly gatewayClasses?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    /** istiod's PodDisruptionBudget. */
    readonly pdb?: IstiodPdbValues;
}
