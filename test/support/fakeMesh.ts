/**
 * What a healthy mesh's clusters answer to `verify`, written into fake API servers (test/support/fakeKube.ts):
 * the objects `pulumi up` and Istio's charts leave behind, for a given set of clusters. Tests then break one
 * thing at a time.
 */
import { FakeCluster, kubeconfigFor } from "./fakeKube";
import { labelledCert } from "./testPki";

/** One cluster of the fake mesh, as its stack config describes it. */
export interface FakeSpec {
    readonly name: string;
    readonly role: "primary" | "remote";
    readonly primary?: string;
    readonly network?: string;
    /** The east-west gateway address (IP or hostname). */
    readonly address: string;
}

/** Options of `healthyMesh`. */
export interface FakeMeshOptions {
    /** The mesh namespaces every cluster has, with the injection label of the revision. */
    readonly namespaces?: readonly string[];
    /** The mesh's revision: istiod, its webhooks and the namespaces' injection label are named by it. */
    readonly revision?: string;
    /** Per primary, the PEMs of its cacerts; default the test root `ROOT` and an intermediate under it. */
    readonly cacerts?: Readonly<Record<string, { readonly root: string; readonly intermediate: string }>>;
    /** `istio-multicluster:observability` as applied: its hub, with metrics, Jaeger and Grafana on. */
    readonly observability?: { readonly hub: string; readonly namespace?: string };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const sel = (s: string) => `labelSelector=${encodeURIComponent(s)}`;

/** Paths verify reads, for tests that change an answer. */
export const paths = {
    version: "/version",
    istioSystem: "/api/v1/namespaces/istio-system",
    cacerts: "/api/v1/namespaces/istio-system/secrets/cacerts",
    publishedRoots: "/api/v1/namespaces/istio-system/configmaps/istio-ca-root-cert",
    istiod: "/apis/apps/v1/namespaces/istio-system/deployments/istiod",
    gateway: "/api/v1/namespaces/istio-system/services/istio-eastwestgateway",
    gatewaySlices: `/apis/discovery.k8s.io/v1/namespaces/istio-system/endpointslices?${sel("kubernetes.io/service-name=istio-eastwestgateway")}`,
    remoteSecrets: `/api/v1/namespaces/istio-system/secrets?${sel("istio/multiCluster=true")}`,
    clusterz: "/api/v1/namespaces/istio-system/services/http:istiod:15014/proxy/debug/clusterz",
    istiodPods: `/api/v1/namespaces/istio-system/pods?${sel("app=istiod")}`,
    injector: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector",
    validator:
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/istio-validator-istio-system",
    istiodSlices: `/apis/discovery.k8s.io/v1/namespaces/istio-system/endpointslices?${sel("kubernetes.io/service-name=istiod")}`,
    namespace: (n: string) => `/api/v1/namespaces/${n}`,
    webhooks: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
} as const;

/** The Prometheus server pods' labels, as the prometheus chart sets them on the release `prometheus-cluster`. */
export const prometheusSelector = {
    "app.kubernetes.io/component": "server",
    "app.kubernetes.io/instance": "prometheus-cluster",
    "app.kubernetes.io/name": "prometheus",
};

/** Paths verify reads for observability, in namespace `ns`. */
export function obsPaths(ns = "observability") {
    return {
        namespace: `/api/v1/namespaces/${ns}`,
        deployment: (name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
        service: (name: string) => `/api/v1/namespaces/${ns}/services/${name}`,
        slices: (service: string) =>
            `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?${sel(`kubernetes.io/service-name=${service}`)}`,
        prometheusPods: `/api/v1/namespaces/${ns}/pods?${sel(
            Object.entries(prometheusSelector)
                .map(([k, v]) => `${k}=${v}`)
                .join(","),
        )}`,
        peerAuthentication: `/apis/security.istio.io/v1/namespaces/${ns}/peerauthentications/default`,
        authorizationPolicy: (name: string) =>
            `/apis/security.istio.io/v1/namespaces/${ns}/authorizationpolicies/${name}`,
    };
}

/** A Deployment as the API server reports one, `ready` of 1 replicas ready. */
function deployment(name: string, labels: Record<string, string>, ready = 1): unknown {
    return {
        metadata: { name },
        spec: { replicas: 1, selector: { matchLabels: { ...labels } } },
        status: { replicas: 1, readyReplicas: ready },
    };
}

/** The remote secret a primary holds for `source`, as ClusterLink writes it. */
export function remoteSecret(source: FakeCluster, token: string): unknown {
    return {
        metadata: {
            name: `istio-remote-secret-${source.name}`,
            labels: { "istio/multiCluster": "true" },
            annotations: { "networking.istio.io/cluster": source.name },
        },
        data: { [source.name]: b64(kubeconfigFor([{ context: source.name, server: source.url, token }])) },
    };
}

/** The revision-dependent paths: istiod's Deployment, Service and webhooks are named after the revision. */
export function revisionPaths(revision: string | undefined) {
    const istiod = revision ? `istiod-${revision}` : "istiod";
    const suffix = revision ? `-${revision}` : "";
    return {
        istiodName: istiod,
        istiod: `/apis/apps/v1/namespaces/istio-system/deployments/${istiod}`,
        clusterz: `/api/v1/namespaces/istio-system/services/http:${istiod}:15014/proxy/debug/clusterz`,
        injector: `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector${suffix}`,
        validator: `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/istio-validator${suffix}-istio-system`,
        istiodSlices: `/apis/discovery.k8s.io/v1/namespaces/istio-system/endpointslices?${sel(`kubernetes.io/service-name=${istiod}`)}`,
    };
}

/** Fills every fake cluster with the answers of a healthy mesh of `specs` (same order as `fakes`). */
export function healthyMesh(
    fakes: readonly FakeCluster[],
    specs: readonly FakeSpec[],
    opts: FakeMeshOptions = {},
): void {
    const byName = new Map(fakes.map((f) => [f.name, f]));
    const rp = revisionPaths(opts.revision);
    const injection: Record<string, string> = opts.revision
        ? { "istio.io/rev": opts.revision }
        : { "istio-injection": "enabled" };
    for (const spec of specs) {
        const f = byName.get(spec.name)!;
        const r = f.routes;
        f.tokens.add(`admin-${spec.name}`);
        f.tokens.add(`reader-${spec.name}`);
        r.set(paths.version, { major: "1", minor: "32", gitVersion: "v1.32.2" });
        r.set(paths.istioSystem, {
            metadata: {
                name: "istio-system",
                ...(spec.network ? { labels: { "topology.istio.io/network": spec.network } } : {}),
                ...(spec.role === "remote"
                    ? { annotations: { "topology.istio.io/controlPlaneClusters": spec.primary! } }
                    : {}),
            },
        });
        const ip = /^[0-9.]+$/.test(spec.address);
        r.set(paths.gateway, {
            metadata: { name: "istio-eastwestgateway" },
            spec: {
                type: ip ? "NodePort" : "LoadBalancer",
                ...(ip ? { externalIPs: [spec.address] } : {}),
                ports: [15021, 15443, 15012, 15017].map((port) => ({ port })),
            },
            status: { loadBalancer: ip ? {} : { ingress: [{ hostname: spec.address }] } },
        });
        // Every cluster holds its revision's injection webhook and, with a revision, the `default` tag's.
        const rev = opts.revision ?? "default";
        r.set(paths.webhooks, {
            items: [
                { metadata: { name: rp.injector.split("/").pop(), labels: { "istio.io/rev": rev } } },
                ...(opts.revision
                    ? [
                          {
                              metadata: {
                                  name: "istio-revision-tag-default",
                                  labels: { "istio.io/tag": "default", "istio.io/rev": rev },
                              },
                          },
                      ]
                    : []),
            ],
        });
        r.set(paths.gatewaySlices, {
            items: [{ endpoints: [{ addresses: ["10.244.0.7"], conditions: { ready: true } }] }],
        });
        for (const n of opts.namespaces ?? []) {
            r.set(paths.namespace(n), { metadata: { name: n, labels: { ...injection } } });
        }
        if (opts.observability) healthyObservability(r, spec, specs, opts.observability, injection);
        if (spec.role === "primary") {
            const ca = opts.cacerts?.[spec.name] ?? {
                root: labelledCert("ROOT"),
                intermediate: labelledCert(`int-${spec.name}`),
            };
            r.set(paths.cacerts, {
                data: { "root-cert.pem": b64(ca.root), "ca-cert.pem": b64(ca.intermediate) },
            });
            // istiod publishes the bundle it loaded (a ConfigMap: its data is plain text).
            r.set(paths.publishedRoots, { data: { "root-cert.pem": ca.root } });
            r.set(rp.istiod, {
                metadata: {
                    name: rp.istiodName,
                    labels: { app: "istiod", "istio.io/rev": opts.revision ?? "default" },
                },
                spec: {
                    replicas: 1,
                    template: {
                        spec: { containers: [{ name: "discovery", image: "docker.io/istio/pilot:1.30.3" }] },
                    },
                },
                status: { replicas: 1, readyReplicas: 1 },
            });
            const others = specs.filter((s) => s.name !== spec.name);
            r.set(paths.remoteSecrets, {
                items: others.map((o) => remoteSecret(byName.get(o.name)!, `reader-${o.name}`)),
            });
            r.set(rp.clusterz, [
                { id: spec.name, secretName: "", syncStatus: "synced" },
                ...others.map((o) => ({
                    id: o.name,
                    secretName: `istio-system/istio-remote-secret-${o.name}`,
                    syncStatus: "synced",
                })),
            ]);
        } else {
            const primary = specs.find((s) => s.name === spec.primary)!;
            const injectPath = `/inject/cluster/${spec.name}` + (spec.network ? `/net/${spec.network}` : "");
            const byIp = /^[0-9.]+$/.test(primary.address);
            const hook = (p?: string) =>
                byIp
                    ? {
                          service: {
                              name: rp.istiodName,
                              namespace: "istio-system",
                              ...(p ? { path: p } : {}),
                          },
                      }
                    : { url: `https://${primary.address}:15017${p ?? "/validate"}` };
            r.set(rp.injector, {
                webhooks: ["rev.namespace", "rev.object"].map((n) => ({
                    name: `${n}.sidecar-injector.istio.io`,
                    clientConfig: hook(injectPath),
                })),
            });
            r.set(rp.validator, { webhooks: [{ name: "rev.validation.istio.io", clientConfig: hook() }] });
            if (byIp) {
                r.set(rp.istiodSlices, { items: [{ endpoints: [{ addresses: [primary.address] }] }] });
            }
        }
    }
}

/** What observability leaves in one cluster: written by hand from the charts and the plan, not from the plan. */
function healthyObservability(
    r: Map<string, unknown>,
    spec: FakeSpec,
    specs: readonly FakeSpec[],
    o: NonNullable<FakeMeshOptions["observability"]>,
    injection: Record<string, string>,
): void {
    const ns = o.namespace ?? "observability";
    const p = obsPaths(ns);
    const own = `prometheus-${spec.name}`;
    r.set(p.namespace, {
        metadata: {
            name: ns,
            labels: { "app.kubernetes.io/managed-by": "istio-multicluster", ...injection },
        },
    });
    r.set(p.deployment(own), deployment(own, prometheusSelector));
    // A classic sidecar in the hub's pod, a native one (an init container that keeps running) elsewhere.
    const sidecar = { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.30.3" };
    const native = spec.name !== o.hub;
    r.set(p.prometheusPods, {
        items: [
            {
                metadata: { name: `${own}-5c9d8-x7k2p`, labels: { ...prometheusSelector } },
                spec: {
                    containers: [{ name: "prometheus-server" }, ...(native ? [] : [sidecar])],
                    ...(native ? { initContainers: [{ ...sidecar, restartPolicy: "Always" }] } : {}),
                },
                status: { phase: "Running" },
            },
        ],
    });
    r.set(p.service(own), {
        metadata: { name: own },
        spec: { selector: { ...prometheusSelector }, ports: [{ name: "http", port: 9090 }] },
    });
    r.set(p.slices(own), {
        items: [{ endpoints: [{ addresses: ["10.244.1.5"], conditions: { ready: true } }] }],
    });
    if (spec.name === o.hub) {
        r.set(
            p.deployment("prometheus"),
            deployment("prometheus", { "app.kubernetes.io/instance": "prometheus-hub" }),
        );
        r.set(p.deployment("jaeger"), deployment("jaeger", { "app.kubernetes.io/instance": "jaeger" }));
        r.set(p.deployment("grafana"), deployment("grafana", { "app.kubernetes.io/instance": "grafana" }));
        for (const other of specs.filter((s) => s.name !== o.hub)) {
            r.set(p.service(`prometheus-${other.name}`), {
                metadata: { name: `prometheus-${other.name}` },
                spec: { type: "ClusterIP", ports: [{ name: "http", port: 9090, targetPort: 9090 }] },
            });
        }
    }
    if (spec.role === "primary") {
        r.set(p.peerAuthentication, { metadata: { name: "default" }, spec: { mtls: { mode: "STRICT" } } });
        for (const name of ["prometheus-federate", "prometheus-hub", "jaeger"]) {
            r.set(p.authorizationPolicy(name), { metadata: { name }, spec: { action: "ALLOW" } });
        }
    }
}

/** The dev stack's clusters (Pulumi.dev.yaml). */
export const devSpecs: readonly FakeSpec[] = [
    { name: "cluster1", role: "primary", network: "network1", address: "172.18.0.2" },
    { name: "cluster2", role: "remote", primary: "cluster1", network: "network2", address: "172.18.0.3" },
];
