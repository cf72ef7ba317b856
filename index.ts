/**
 * istio-multicluster: one Istio mesh across many Kubernetes clusters, derived from the stack's topology.
 *
 * Every cluster gets its own Kubernetes provider; every Kubernetes resource is created with one of them
 * explicitly (and Pulumi.yaml disables the default Kubernetes provider, so nothing can fall back to the
 * ambient kubeconfig). Ordering is only what Istio needs: namespace, cacerts, base, istiod, east-west
 * gateway, its address and istiod exposure, then the remotes of that primary; remote secrets in the
 * primaries before a remote's gateway. Nothing orders one cluster after another otherwise.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { apiServerOf, ClusterLink } from "./components/clusterLink";
import { EastWestGateway } from "./components/eastWestGateway";
import { GlobalServices } from "./components/globalServices";
import { IngressGateway } from "./components/ingressGateway";
import { IstioPrimary } from "./components/istioPrimary";
import { IstioRemote } from "./components/istioRemote";
import { MeshHardening } from "./components/meshHardening";
import { MeshNamespaces } from "./components/meshNamespaces";
import { MeshSecurity } from "./components/meshSecurity";
import { ClusterTelemetry } from "./components/clusterTelemetry";
import { MeshTelemetry } from "./components/meshTelemetry";
import { TelemetryHub } from "./components/telemetryHub";
import { SmokeTest } from "./components/smokeTest";
import { ReaderSecrets } from "./components/readerSecrets";
import { TrustAnchor } from "./components/trustAnchor";
import { ownValue } from "./stacks/checks";
import { deployedRotation, rotationState, rotationStepProblem } from "./stacks/caRotation";
import { configRefused, loadTopology } from "./stacks/config";
import { defaultHardening, hardeningPlan } from "./stacks/hardening";
import { composeMesh, linkMatrix } from "./stacks/mesh";
import { istioNamespace, istioNamespaceMetadata } from "./stacks/names";
import {
    defaultRemoteSecretLayout,
    layoutOutput,
    linksOutput,
    perReaderSecretName,
    readerTokenSuffix,
    remoteSecretSpecs,
    retiredRemoteSecrets,
} from "./stacks/remoteSecrets";
import { securityPlan } from "./stacks/security";
import { observabilityNames, observabilityPlan, uiAccess } from "./stacks/observability";
import { meshTelemetry } from "./stacks/telemetry";
import { ClusterSpec } from "./stacks/topology";
import { clusterLocalHosts, noTraffic, trafficObjects } from "./stacks/traffic";
import { nodeVersionProblem } from "./stacks/nodeRuntime";
import { injectionRevision } from "./stacks/revisions";

// On a Node.js the SDK does not support, one line under the CLI (a RunError prints no stack) before any work.
const nodeProblem = nodeVersionProblem(process.version);
if (nodeProblem !== undefined) throw new pulumi.RunError(nodeProblem);

const topology = loadTopology();
const mesh = composeMesh(topology);
const { meshId } = topology.mesh;
const traffic = topology.traffic ?? noTraffic;
// Computed once: every primary applies the same traffic rules.
const trafficRules = trafficObjects(traffic);

interface ClusterState {
    provider: k8s.Provider;
    namespace: k8s.core.v1.Namespace;
    base?: pulumi.Resource;
    istiod?: pulumi.Resource;
    gateway?: EastWestGateway;
    /** The PriorityClass istiod and the gateways run at (`hardening.mode: full`). */
    priorityClass?: pulumi.Resource;
    /** On a primary serving remotes: istiod's certificate names the gateway's hostname (or nothing to do). */
    istiodNamed?: readonly pulumi.Output<pulumi.Resource>[];
}
const state = new Map<string, ClusterState>();
const of = (name: string): ClusterState => state.get(name)!;

// A root rotation moves one stage per `up` (stacks/caRotation.ts). The stage the last deployment reached is
// read back from this stack's own outputs, and every cluster's provider waits for the check: a skipped stage
// is refused before anything reaches a cluster, in `preview` as in `up`.
const deployed = new pulumi.StackReference("deployed", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
});
const rotationChecked = deployed.outputs.apply((outputs) => {
    const problem = rotationStepProblem(deployedRotation(outputs ?? {}), rotationState(topology.mesh.ca));
    if (problem !== undefined) throw configRefused([`istio-multicluster:mesh.ca.rotation: ${problem}`]);
    return true;
});

for (const { cluster } of mesh.clusters) {
    const access = cluster.access;
    const provider = new k8s.Provider(cluster.name, {
        ...(access.kind === "context"
            ? { context: rotationChecked.apply(() => access.context) }
            : { kubeconfig: pulumi.all([rotationChecked, access.kubeconfig]).apply(([, k]) => k) }),
        // A changed Secret is updated in place, not deleted and created again under its fixed name (the
        // provider's default for Secrets): istiod reloads a remote secret or `cacerts` that changes, but a
        // remote secret that is deleted first drops its cluster until the new one comes.
        enableSecretMutable: true,
    });
    const namespace = new k8s.core.v1.Namespace(
        `${cluster.name}-istio-system`,
        { metadata: istioNamespaceMetadata(cluster) },
        { provider },
    );
    state.set(cluster.name, { provider, namespace });
}

// Hardening of istio-system (NetworkPolicies, quota, priority), in every cluster unless `hardening.mode: off`.
const hardening = topology.hardening ?? defaultHardening;
for (const objects of hardeningPlan(topology)) {
    if (objects.networkPolicies.length === 0 && !objects.quota && !objects.priorityClass) continue;
    const s = of(objects.cluster.name);
    s.priorityClass = new MeshHardening(
        objects.cluster.name,
        { objects, namespace: s.namespace },
        { provider: s.provider },
    ).priorityClass;
}

// Application namespaces in every cluster; security objects, identical, in every primary (after its istiod).
const security = securityPlan(topology);
const appNamespaces = new Map<string, MeshNamespaces>();
for (const { cluster, namespaces } of security.filter((c) => c.namespaces.length > 0)) {
    const { provider } = of(cluster.name);
    appNamespaces.set(
        cluster.name,
        new MeshNamespaces(cluster.name, { cluster: cluster.name, namespaces }, { provider }),
    );
}

const trustAnchor = new TrustAnchor(meshId, {
    ca: topology.mesh.ca,
    clusters: mesh.clusters
        .filter((p) => p.cluster.role === "primary")
        .map((p) => ({
            name: p.cluster.name,
            provider: of(p.cluster.name).provider,
            namespace: of(p.cluster.name).namespace,
        })),
});

// Control planes, and the gateways that expose them.
for (const plan of mesh.clusters.filter((p) => p.cluster.role === "primary")) {
    const { cluster } = plan;
    const s = of(cluster.name);
    const primary = new IstioPrimary(
        cluster.name,
        {
            mesh: topology.mesh,
            cluster,
            namespace: s.namespace,
            cacerts: ownValue(trustAnchor.cacerts, cluster.name)!,
            servesRemotes: plan.remotes.length > 0,
            clusterLocalHosts: clusterLocalHosts(traffic),
            hardening,
            priorityClass: s.priorityClass,
            observability: topology.observability,
        },
        { provider: s.provider },
    );
    s.base = primary.base;
    s.istiod = primary.istiod;
    // The Istio objects below each wait for the namespace they live in.
    const namespaces = { ...appNamespaces.get(cluster.name)?.namespaces, [istioNamespace]: s.namespace };
    new MeshSecurity(
        cluster.name,
        {
            cluster: cluster.name,
            objects: security.find((c) => c.cluster.name === cluster.name)!.objects,
            namespaces,
            istiod: primary.istiod,
        },
        { provider: s.provider },
    );
    if (trafficRules.length > 0) {
        new GlobalServices(
            cluster.name,
            {
                objects: trafficRules,
                istiod: primary.istiod,
                namespaces,
            },
            { provider: s.provider },
        );
    }
    if (plan.eastWestGateway) {
        const gateway = new EastWestGateway(
            cluster.name,
            {
                mesh: topology.mesh,
                cluster,
                namespace: s.namespace,
                istiod: primary.istiod,
                exposeServices: plan.exposeServices,
                exposeIstiod: plan.exposeIstiod,
                hardening,
                priorityClass: s.priorityClass,
            },
            { provider: s.provider },
        );
        s.gateway = gateway;
        // A hostname the load balancer reports goes on istiod's certificate before a remote calls it there.
        if (plan.exposeIstiod) {
            s.istiodNamed = primary.nameOnCertificate(gateway.reportedHostname, gateway.release);
        }
    }
}

// Remotes: installed against their primary's east-west address, once istiod is exposed there.
for (const plan of mesh.clusters.filter((p) => p.cluster.role === "remote")) {
    const { cluster } = plan;
    const s = of(cluster.name);
    const primaryState = of(cluster.primary!);
    const primaryGateway = primaryState.gateway!;
    const remote = new IstioRemote(
        cluster.name,
        {
            mesh: topology.mesh,
            cluster,
            namespace: s.namespace,
            remotePilotAddress: primaryGateway.address,
            // The gateway itself too: with a fixed address nothing else says it must be running first.
            controlPlaneExposure: [
                primaryGateway.release,
                ...primaryGateway.istiodExposure,
                primaryGateway.reportedHostnameRoute,
                ...(primaryState.istiodNamed ?? []),
            ],
        },
        { provider: s.provider },
    );
    s.base = remote.base;
    s.istiod = remote.istiod;
}

// Remote secrets: every primary reads every other cluster, through one Secret per cluster read (per-cluster)
// or one Secret holding them all (per-reader).
const secretLayout = topology.mesh.remoteSecrets ?? defaultRemoteSecretLayout;
// `mesh.readerTokens`: a new suffix replaces every reader token, the remote secrets following in place.
const tokenSuffix = readerTokenSuffix(topology.mesh.readerTokens, new Date());
const clusterLinks = new Map<string, ClusterLink>();
// A switch of `mesh.remoteSecrets` on a live mesh: the old layout's Secrets, known from this stack's last
// outputs, are retired in this `up` (relabelled, emptied) before the new layout's Secrets in the same reader
// are created, so that istiod lets each cluster go before the new Secret names it again; the next `up`
// deletes them (stacks/remoteSecrets.ts `retiredRemoteSecrets`). Registered once the read is back, after
// the ClusterLinks below exist; with no switch, nothing, and no remote secret waits for anything more.
const retired: Promise<Map<string, pulumi.Resource[]>> = Promise.all([
    deployed.getOutputDetails(layoutOutput),
    deployed.getOutputDetails(linksOutput),
]).then(([layout, links]) => {
    const byReader = new Map<string, pulumi.Resource[]>();
    for (const spec of retiredRemoteSecrets(
        { layout: layout.value, links: links.value },
        secretLayout,
        mesh.links,
    )) {
        const s = of(spec.reader);
        const secret =
            spec.name === perReaderSecretName
                ? new ReaderSecrets(
                      spec.reader,
                      { reader: spec.reader, namespace: s.namespace, kubeconfigs: {}, retired: true },
                      { provider: s.provider },
                  ).secret
                : clusterLinks
                      .get(spec.sources[0]!)!
                      .retireIn({ name: spec.reader, provider: s.provider, namespace: s.namespace });
        byReader.set(spec.reader, [...(byReader.get(spec.reader) ?? []), secret]);
    }
    return byReader;
});
// One Output per reader, shared by the Secrets created in it (N(N-1) of them in a full mesh).
const retiredOutputs = new Map<string, pulumi.Output<pulumi.Resource[]>>();
const retiredIn = (reader: string): pulumi.Output<pulumi.Resource[]> => {
    let out = retiredOutputs.get(reader);
    if (out === undefined) {
        out = pulumi.output(retired.then((m) => m.get(reader) ?? []));
        retiredOutputs.set(reader, out);
    }
    return out;
};
for (const { cluster } of mesh.clusters) {
    const readers = mesh.links.filter((l) => l.source === cluster.name).map((l) => l.reader);
    if (readers.length === 0) continue;
    const s = of(cluster.name);
    clusterLinks.set(
        cluster.name,
        new ClusterLink(cluster.name, {
            source: {
                name: cluster.name,
                provider: s.provider,
                namespace: s.namespace,
                server: apiServerOf(cluster),
                // The istiod release (either profile) brings the reader ClusterRole and its binding; base only
                // the service account. Before it, the primaries' informers would get 403s.
                readerAccount: s.istiod!,
                configPath: `istio-multicluster:clusters[${cluster.index}]`,
                tokenSuffix,
            },
            readers:
                secretLayout === "per-cluster"
                    ? readers.map((r) => ({
                          name: r,
                          provider: of(r).provider,
                          namespace: of(r).namespace,
                          waitFor: retiredIn(r),
                      }))
                    : [],
        }),
    );
}
const readerSecrets = new Map<string, ReaderSecrets>();
if (secretLayout === "per-reader") {
    for (const spec of remoteSecretSpecs(mesh.links, secretLayout)) {
        const s = of(spec.reader);
        const kubeconfigs = Object.fromEntries(spec.sources.map((c) => [c, clusterLinks.get(c)!.kubeconfig]));
        readerSecrets.set(
            spec.reader,
            new ReaderSecrets(
                spec.reader,
                { reader: spec.reader, namespace: s.namespace, kubeconfigs, waitFor: retiredIn(spec.reader) },
                { provider: s.provider },
            ),
        );
    }
}
/** The Secret through which a remote's primary reads it, in either layout. */
const attachmentOf = (remote: string, primary: string): pulumi.Resource | undefined =>
    secretLayout === "per-reader"
        ? readerSecrets.get(primary)?.secret
        : ownValue(clusterLinks.get(remote)?.remoteSecrets ?? {}, primary);

// A remote's gateway comes up once its primary reads it: injection goes through that primary's istiod.
for (const plan of mesh.clusters.filter((p) => p.cluster.role === "remote" && p.eastWestGateway)) {
    const { cluster } = plan;
    const s = of(cluster.name);
    const attached = attachmentOf(cluster.name, cluster.primary!);
    s.gateway = new EastWestGateway(
        cluster.name,
        {
            mesh: topology.mesh,
            cluster,
            namespace: s.namespace,
            istiod: s.istiod!,
            waitFor: attached ? [attached] : [],
            exposeServices: plan.exposeServices,
            exposeIstiod: plan.exposeIstiod,
            hardening,
            priorityClass: s.priorityClass,
        },
        { provider: s.provider },
    );
}

// Ingress gateways: injected like the east-west gateway, so a remote's waits for its attachment too.
for (const name of traffic.ingress?.clusters ?? []) {
    const s = of(name);
    const { cluster } = mesh.clusters.find((p) => p.cluster.name === name)!;
    const attached = cluster.role === "remote" ? attachmentOf(name, cluster.primary!) : undefined;
    new IngressGateway(
        name,
        {
            mesh: topology.mesh,
            ingress: traffic.ingress!,
            namespace: s.namespace,
            istiod: s.istiod!,
            waitFor: attached ? [attached] : [],
            hardening,
            priorityClass: s.priorityClass,
        },
        { provider: s.provider },
    );
}

/** What sidecar injection in a cluster needs before a pod is created: its istiod, and on a remote its attachment. */
const injectionOf = (cluster: ClusterSpec): pulumi.Resource[] => {
    const attached = cluster.primary && attachmentOf(cluster.name, cluster.primary);
    return [of(cluster.name).istiod!, ...(attached ? [attached] : [])];
};

// Observability (opt-in): per cluster a namespace and its Prometheus, the hub, and in every primary the
// Telemetry and the namespace's access policies, which the workloads they cover wait for.
const observabilityPlans = observabilityPlan(topology);
const observabilityNamespaces = new Map(
    observabilityPlans.map(({ cluster, namespace }) => [
        cluster.name,
        new k8s.core.v1.Namespace(
            `${cluster.name}/${namespace.name}`,
            { metadata: { name: namespace.name, labels: { ...namespace.labels } } },
            { provider: of(cluster.name).provider },
        ),
    ]),
);
const accessPolicies = new Map<string, readonly pulumi.Resource[]>();
for (const plan of observabilityPlans.filter((p) => p.cluster.role === "primary")) {
    const { cluster } = plan;
    const s = of(cluster.name);
    const telemetry = new MeshTelemetry(
        cluster.name,
        {
            telemetry: meshTelemetry(topology.observability!),
            namespace: s.namespace,
            istiod: s.istiod!,
            access: { objects: plan.istioObjects, namespace: observabilityNamespaces.get(cluster.name)! },
        },
        { provider: s.provider },
    );
    accessPolicies.set(cluster.name, telemetry.access);
}
let telemetryHub: TelemetryHub | undefined;
for (const plan of observabilityPlans) {
    const { cluster } = plan;
    const s = of(cluster.name);
    const namespace = observabilityNamespaces.get(cluster.name)!;
    // A workload starts once it can be injected and its primary says who may reach it.
    const waitFor = [...injectionOf(cluster), ...(accessPolicies.get(cluster.primary ?? cluster.name) ?? [])];
    new ClusterTelemetry(cluster.name, { plan, namespace, waitFor }, { provider: s.provider });
    if (plan.hub) {
        telemetryHub = new TelemetryHub(
            cluster.name,
            { plan: plan.hub, namespace, waitFor },
            { provider: s.provider },
        );
    }
}

// The smoke test (opt-in): the update waits until each cluster has been answered from both clusters.
if (topology.smokeTest) {
    new SmokeTest("smoke-test", {
        settings: topology.smokeTest,
        stack: pulumi.getStack(),
        revision: injectionRevision(topology.mesh.istio),
        clusters: mesh.clusters.map(({ cluster }) => ({
            name: cluster.name,
            provider: of(cluster.name).provider,
            injection: injectionOf(cluster),
        })),
        meshReady: [
            ...mesh.clusters.flatMap(({ cluster }) => of(cluster.name).gateway ?? []),
            ...clusterLinks.values(),
            ...readerSecrets.values(),
        ],
    });
}

/** The root whose intermediates sign workload certificates now (public, PEM). */
export const rootCertPem = trustAnchor.rootCertPem;

/** Every root the mesh's workloads trust now (public, PEM): two while a root rotation overlaps them. */
export const trustBundlePem = trustAnchor.trustBundlePem;

/** The root generation and rotation stage this deployment reached; the next one is checked against it. */
export const caRotation = rotationState(topology.mesh.ca);

/** Per cluster: its role, network and east-west address (null where it runs no east-west gateway). */
export const clusters = Object.fromEntries(
    mesh.clusters.map(({ cluster }) => [
        cluster.name,
        {
            role: cluster.role,
            ...(cluster.primary !== undefined ? { primary: cluster.primary } : {}),
            network: cluster.network ?? null,
            eastWestAddress: of(cluster.name).gateway?.address ?? null,
        },
    ]),
);

/** Per reading primary, the clusters whose remote secrets it holds. */
export const links = linkMatrix(mesh);

/** The layout of the remote secrets (`mesh.remoteSecrets`); the next deployment retires it if it changes. */
export const remoteSecretLayout: string = secretLayout;

/**
 * Where the observability UIs are (with `istio-multicluster:observability`): per UI in the hub, the
 * port-forward command and the local URL; Grafana's admin user and generated password (a secret output:
 * `pulumi stack output observability --show-secrets`).
 */
export const observability = topology.observability
    ? {
          hub: topology.observability.hub,
          namespace: topology.observability.namespace,
          ...uiAccess(topology),
          ...(telemetryHub?.grafanaAdminPassword
              ? {
                    grafanaAdmin: {
                        user: observabilityNames.grafanaAdminUser,
                        password: telemetryHub.grafanaAdminPassword,
                    },
                }
              : {}),
      }
    : null;
