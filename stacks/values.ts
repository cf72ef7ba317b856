/**
 * Helm values for each chart in each role: pure functions of the topology, typed against the charts'
 * own values (stacks/chartValues/) so that a misspelt key does not compile.
 */
import { trustPlan } from "./caRotation";
import type { BaseValues } from "./chartValues/base";
import type { GatewayValues } from "./chartValues/gateway";
import type { IstiodValues } from "./chartValues/istiod";
import { ClusterSpec, EastWestSettings, IstioSettings, MeshSettings, WorkloadSettings } from "./core";
import { isIpAddress } from "./checks";
import { ControlPlaneRevision, controlPlaneRevisions, validatingRevision } from "./revisions";

/** The revision the gateways and labelled namespaces follow (the `default` tag's, or the only one). */
export function servingRevision(mesh: MeshSettings): ControlPlaneRevision {
    const revisions = controlPlaneRevisions(mesh.istio);
    return revisions.find((r) => r.serving) ?? revisions[0]!;
}

/** Istio's chart repository. */
export const istioChartRepo = "https://istio-release.storage.googleapis.com/charts";

/** Whether `mesh.istio.charts` names a chart repository (else it is a local directory). */
export function isChartRepository(charts: string): boolean {
    return /^(https?|oci):\/\//.test(charts);
}

/**
 * Where a Helm release of one of Istio's charts comes from (`mesh.istio.charts`): Istio's repository by
 * default; another Helm repository (a mirror) or an OCI registry; or a local directory holding the `base`,
 * `istiod` and `gateway` chart folders. The exact version is always given: Helm reads it for a repository,
 * and for a directory (where it reads none) the validator has checked each chart against it, and the plan
 * and the policies still see which version is installed.
 */
export function istioChartSource(
    istio: Pick<IstioSettings, "version" | "charts">,
    chart: "base" | "istiod" | "gateway",
): { chart: string; version: string; repositoryOpts?: { repo: string } } {
    const version = istio.version;
    const charts = chartsFor(istio.charts ?? istioChartRepo, version);
    if (isChartRepository(charts) && !charts.startsWith("oci://")) {
        return { chart, version, repositoryOpts: { repo: charts } };
    }
    return { chart: `${charts.replace(/\/+$/, "")}/${chart}`, version };
}

/**
 * `mesh.istio.charts` for one version: `{version}` in it stands for the version (a directory per version,
 * needed when revisions of two versions run side by side).
 */
export function chartsFor(charts: string, version: string): string {
    return charts.split("{version}").join(version);
}

/** Helm release names, as Istio's Helm guides use them. */
export const releaseNames = {
    base: "istio-base",
    istiod: (revision?: string) => (revision ? `istiod-${revision}` : "istiod"),
    eastWestGateway: "istio-eastwestgateway",
} as const;

/**
 * The label the cross-network and istiod Gateways select the east-west gateway by. The gateway chart would
 * derive the same from the release name; it is set explicitly (`labels.istio`, which the chart's selector
 * prefers) so the selector cannot drift from the Gateways if the name ever changes.
 */
export const eastWestSelector = { istio: "eastwestgateway" } as const;

/**
 * DNS proxying: the sidecar answers DNS for services that exist only in another cluster, and allocates
 * addresses for ServiceEntries (needed for a service that is not replicated everywhere).
 */
const dnsProxyMetadata = { ISTIO_META_DNS_CAPTURE: "true", ISTIO_META_DNS_AUTO_ALLOCATE: "true" } as const;

/**
 * From a mesh's first root rotation on (stacks/caRotation.ts): istiod takes a changed root bundle in
 * `cacerts` (pilot/pkg/features: `ISTIO_MULTIROOT_MESH`, "certificates signed by more than one trustAnchor"),
 * and proxies take the new bundle over xDS without a restart (`PROXY_CONFIG_XDS_AGENT`). Both stay set once a
 * mesh has rotated, so that a finished rotation and the next generation plan the same.
 */
const multiRootEnv = { ISTIO_MULTIROOT_MESH: "true" } as const;
const multiRootProxyMetadata = { PROXY_CONFIG_XDS_AGENT: "true" } as const;

/** base chart values. A remote's base uses the remote profile; with a revision, validation goes to it. */
export function baseValues(mesh: MeshSettings, cluster: ClusterSpec): BaseValues {
    return {
        ...(cluster.role === "remote" ? { profile: "remote" } : {}),
        ...(validatingRevision(mesh.istio) !== undefined
            ? { defaultRevision: validatingRevision(mesh.istio) }
            : {}),
    };
}

/**
 * istiod chart values for a primary; `servesRemotes` adds `global.externalIstiod`, `clusterLocalHosts` (the
 * cluster-local services of stacks/traffic/) `meshConfig.serviceSettings`.
 */
export function primaryIstiodValues(
    mesh: MeshSettings,
    cluster: ClusterSpec,
    servesRemotes: boolean,
    clusterLocalHosts: readonly string[] = [],
    revision: ControlPlaneRevision = servingRevision(mesh),
): IstiodValues {
    const webhookHost = servesRemotes ? fixedHostname(cluster) : undefined;
    const { multiRoot } = trustPlan(mesh.ca);
    return {
        ...revisionValues(revision),
        ...controlPlaneScaling(mesh.controlPlane),
        // Remotes call the webhooks at this name (by URL, through the east-west gateway's passthrough): the
        // API server checks it against istiod's serving certificate, which names it only when told to.
        ...(webhookHost !== undefined || multiRoot
            ? {
                  env: {
                      ...(webhookHost !== undefined ? { [customHostEnv]: webhookHost } : {}),
                      ...(multiRoot ? multiRootEnv : {}),
                  },
              }
            : {}),
        global: {
            meshID: mesh.meshId,
            multiCluster: { clusterName: cluster.name },
            ...(cluster.network !== undefined ? { network: cluster.network } : {}),
            ...(servesRemotes ? { externalIstiod: true } : {}),
            ...(mesh.controlPlane.pdb !== undefined
                ? { defaultPodDisruptionBudget: { enabled: mesh.controlPlane.pdb } }
                : {}),
        },
        ...(mesh.controlPlane.pdb ? { pdb: { maxUnavailable: 1 } } : {}),
        meshConfig: {
            trustDomain: mesh.trustDomain,
            ...(mesh.trustDomainAliases ? { trustDomainAliases: [...mesh.trustDomainAliases] } : {}),
            defaultConfig: {
                proxyMetadata: { ...dnsProxyMetadata, ...(multiRoot ? multiRootProxyMetadata : {}) },
            },
            ...(clusterLocalHosts.length > 0
                ? { serviceSettings: [{ settings: { clusterLocal: true }, hosts: [...clusterLocalHosts] }] }
                : {}),
        },
    };
}

/**
 * istiod chart values for a remote (profile `remote`: no istiod Deployment, only the injection webhook and
 * an `istiod` Service pointing at its primary). `remotePilotAddress` is added by the component: it is the
 * primary's east-west address, known only once that gateway has one.
 */
export function remoteIstiodValues(
    mesh: MeshSettings,
    cluster: ClusterSpec,
    revision: ControlPlaneRevision = servingRevision(mesh),
): IstiodValues {
    return {
        profile: "remote",
        ...revisionValues(revision),
        istiodRemote: { injectionPath: injectionPath(cluster) },
        global: {
            meshID: mesh.meshId,
            multiCluster: { clusterName: cluster.name },
            ...(cluster.network !== undefined ? { network: cluster.network } : {}),
            configCluster: true,
        },
    };
}

/** The injection path istiod serves for a remote: it reads cluster and network from it. */
export function injectionPath(cluster: ClusterSpec): string {
    return (
        `/inject/cluster/${cluster.name}` + (cluster.network !== undefined ? `/net/${cluster.network}` : "")
    );
}

/**
 * The istiod chart's Deployment (`templates/deployment.yaml`: `istiod`, then `-<revision>` when one is set)
 * and the container istiod runs in.
 */
export const istiodDeployment = {
    name: (revision?: string): string => (revision ? `istiod-${revision}` : "istiod"),
    container: "discovery",
} as const;

/**
 * A hostname the east-west load balancer reported, handed to istiod (components/istioPrimary.ts
 * `nameOnCertificate`): the ConfigMap that holds it as `ISTIOD_CUSTOM_HOST`, and the pod-template annotation
 * that carries it so that a new name rolls istiod out.
 */
export const reportedHost = {
    configMap: "istiod-reported-host",
    annotation: "istio-multicluster/reported-host",
} as const;

/** istiod's variable for extra names on its serving certificate (comma-separated). */
export const customHostEnv = "ISTIOD_CUSTOM_HOST";

/** The port the east-west gateway passes istiod's webhooks through on (routed to istiod's 443). */
export const webhookGatewayPort = 15017;

/**
 * How a remote's webhooks reach its primary's istiod, given the primary's east-west address. For an IP:
 * nothing here, the chart's `istiod` Service and its EndpointSlice at that IP carry them. For a hostname the
 * chart would make that Service an ExternalName, which the API server cannot call a webhook through
 * (istio/istio#45014): injection and validation then go by URL to the gateway's webhook port.
 */
export function remoteWebhookUrls(
    cluster: ClusterSpec,
    primaryAddress: string,
): { readonly injectionURL: string; readonly validationURL: string } | undefined {
    if (isIpAddress(primaryAddress)) return undefined;
    const origin = `https://${primaryAddress}:${webhookGatewayPort}`;
    return { injectionURL: `${origin}${injectionPath(cluster)}`, validationURL: `${origin}/validate` };
}

/** The cluster's fixed east-west address when it is a hostname. */
export function fixedHostname(cluster: ClusterSpec): string | undefined {
    const address = cluster.eastWest.address;
    return address !== undefined && !isIpAddress(address) ? address : undefined;
}

/**
 * `revision` and `revisionTags` of one revision's istiod release (either profile): each tag's webhooks and
 * Service then exist in every cluster, rendered by the release of the revision the tag names.
 */
function revisionValues(revision: ControlPlaneRevision): Pick<IstiodValues, "revision" | "revisionTags"> {
    return {
        ...(revision.name !== undefined ? { revision: revision.name } : {}),
        ...(revision.tags.length > 0 ? { revisionTags: [...revision.tags] } : {}),
    };
}

/** Ports of an east-west gateway when the mesh names no network (with one, `networkGateway` adds them). */
const istiodExposurePorts = [
    { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
    { name: "tls-istiod", port: 15012, targetPort: 15012, protocol: "TCP" },
    { name: "tls-webhook", port: 15017, targetPort: 15017, protocol: "TCP" },
];

/** gateway chart values for the east-west gateway. */
export function eastWestGatewayValues(mesh: MeshSettings, cluster: ClusterSpec): GatewayValues {
    const ew: EastWestSettings = cluster.eastWest;
    return {
        name: releaseNames.eastWestGateway,
        ...(mesh.istio.revision ? { revision: mesh.istio.revision } : {}),
        ...(cluster.network !== undefined ? { networkGateway: cluster.network } : {}),
        labels: { ...eastWestSelector },
        service: {
            type: ew.serviceType,
            ...(cluster.network === undefined ? { ports: istiodExposurePorts } : {}),
            // A NodePort alone listens only on ports 30000-32767: a fixed IP becomes externalIPs, served on the
            // gateway's own ports by every node that receives traffic for it (kube-proxy), and istiod announces
            // the network gateway at it. Only there: on a LoadBalancer, istiod would announce both addresses,
            // and clusters that deny externalIPs (DenyServiceExternalIPs, policy engines) refuse the Service.
            ...(ew.serviceType === "NodePort" && ew.address !== undefined && isIpAddress(ew.address)
                ? { externalIPs: [ew.address] }
                : {}),
            // Kubernetes refuses loadBalancerSourceRanges on any other type (mesh-wide ranges reach NodePorts too).
            ...(ew.serviceType === "LoadBalancer" && ew.sourceRanges
                ? { loadBalancerSourceRanges: [...ew.sourceRanges] }
                : {}),
            ...(ew.serviceAnnotations ? { annotations: { ...ew.serviceAnnotations } } : {}),
        },
        ...gatewayScaling(ew),
        ...(ew.pdb ? { podDisruptionBudget: { maxUnavailable: 1 } } : {}),
    };
}

function controlPlaneScaling(
    w: WorkloadSettings,
): Pick<IstiodValues, "replicaCount" | "autoscaleEnabled" | "autoscaleMin" | "autoscaleMax" | "resources"> {
    return {
        ...(w.replicas !== undefined ? { autoscaleEnabled: false, replicaCount: w.replicas } : {}),
        ...(w.autoscale
            ? { autoscaleEnabled: true, autoscaleMin: w.autoscale.min, autoscaleMax: w.autoscale.max }
            : {}),
        ...(w.resources ? { resources: w.resources } : {}),
    };
}

function gatewayScaling(
    w: WorkloadSettings,
): Pick<GatewayValues, "replicaCount" | "autoscaling" | "resources"> {
    return {
        ...(w.replicas !== undefined ? { autoscaling: { enabled: false }, replicaCount: w.replicas } : {}),
        ...(w.autoscale
            ? { autoscaling: { enabled: true, minReplicas: w.autoscale.min, maxReplicas: w.autoscale.max } }
            : {}),
        ...(w.resources ? { resources: w.resources } : {}),
    };
}
