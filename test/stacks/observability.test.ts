/**
 * Observability as a pure function of config: `istio-multicluster:observability` read (every problem by config
 * path, at once), and what each cluster receives — its Prometheus, the hub's releases and stubs, and the
 * primaries' access policies — for one-network, multi-network and mixed topologies.
 */
import { strict as assert } from "node:assert";
import {
    chartDefaults,
    chartScrapeJobs,
    ClusterObservability,
    isChartRepository,
    observabilityPlan,
    uiAccess,
    validateObservability,
} from "../../stacks/observability";
import { composeMesh } from "../../stacks/mesh";
import { Topology } from "../../stacks/topology";
import { validateTopology } from "../../stacks/validate";
import { mesh, primary, rawConfig, remote, topologies } from "../support/fixtures";

const key = "istio-multicluster:observability";
const ctx = {
    clusters: ["c1", "c2", "c3"],
    takenNamespaces: new Map([["shop", "istio-multicluster:namespaces"]]),
};

function topology(
    clusters: unknown[],
    observability: unknown,
    meshExtra: Record<string, unknown> = {},
): Topology {
    const r = validateTopology({ ...rawConfig(mesh(meshExtra), clusters), observability });
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    return r.topology;
}

describe("stacks/observability", () => {
    describe("validateObservability", () => {
        it("is absent unless configured; a hub alone turns on metrics, Jaeger and Grafana with pinned charts", () => {
            assert.deepEqual(validateObservability(undefined, ctx), { errors: [] });
            assert.deepEqual(validateObservability({ hub: "c2" }, ctx), {
                settings: {
                    hub: "c2",
                    namespace: "observability",
                    tracing: {
                        samplingPercent: 1,
                        backend: "jaeger",
                        protocol: "opentelemetry",
                        service: "jaeger.observability.svc.cluster.local",
                        port: 4317,
                    },
                    accessLogs: false,
                    metrics: { scrapeInterval: "15s", retention: "24h", hubRetention: "15d" },
                    dashboards: {},
                    charts: chartDefaults,
                },
                errors: [],
            });
        });

        it("reads every knob: namespace, external collector, metrics, dashboards off, charts from a mirror", () => {
            const r = validateObservability(
                {
                    hub: "c1",
                    namespace: "telemetry",
                    tracing: { backend: "external", protocol: "zipkin", samplingPercent: 12.5 },
                    accessLogs: true,
                    metrics: {
                        scrapeInterval: "30s",
                        retention: "6h",
                        hubRetention: "1y2w",
                        hubStorage: "50Gi",
                        resources: { requests: { cpu: "100m" } },
                        hubResources: { limits: { memory: "4Gi" } },
                    },
                    dashboards: { enabled: false },
                    charts: {
                        prometheus: { version: "29.26.1", repository: "oci://registry.example.com/charts" },
                        grafana: { repository: "https://charts.example.com/grafana" },
                    },
                },
                ctx,
            );
            assert.deepEqual(r.errors, []);
            assert.deepEqual(r.settings, {
                hub: "c1",
                namespace: "telemetry",
                tracing: {
                    samplingPercent: 12.5,
                    backend: "external",
                    protocol: "zipkin",
                    service: "zipkin.observability.svc.cluster.local",
                    port: 9411,
                },
                accessLogs: true,
                metrics: {
                    scrapeInterval: "30s",
                    retention: "6h",
                    hubRetention: "1y2w",
                    hubStorage: "50Gi",
                    resources: { requests: { cpu: "100m" } },
                    hubResources: { limits: { memory: "4Gi" } },
                },
                charts: {
                    prometheus: {
                        chart: "prometheus",
                        version: "29.26.1",
                        repository: "oci://registry.example.com/charts",
                    },
                    jaeger: chartDefaults.jaeger,
                    grafana: { ...chartDefaults.grafana, repository: "https://charts.example.com/grafana" },
                },
            });
        });

        const refused: [string, unknown, string[]][] = [
            ["not a map", true, [`${key}: must be a map such as \`{ hub: cluster1 }\`, got true`]],
            [
                "no hub, a misspelt key",
                { metrix: {} },
                [
                    `${key}.metrix: unknown key; did you mean \`metrics\`?`,
                    `${key}.hub: required; name the cluster that runs the hub (clusters are: c1, c2, c3)`,
                ],
            ],
            [
                "a hub naming an unknown cluster",
                { hub: "c9" },
                [`${key}.hub: "c9" is not a cluster of the mesh; clusters are: c1, c2, c3`],
            ],
            [
                "a namespace another section creates, and a system one",
                { hub: "c1", namespace: "shop" },
                [
                    `${key}.namespace: "shop" is also created by istio-multicluster:namespaces; observability needs ` +
                        "a namespace of its own (its mTLS and access policies would apply to those workloads too): " +
                        "give it another name",
                ],
            ],
            [
                "istio-system as the namespace",
                { hub: "c1", namespace: "istio-system" },
                [`${key}.namespace: "istio-system" is a system namespace; name one of its own`],
            ],
            [
                "sampling outside 0-100, an unknown backend",
                { hub: "c1", tracing: { samplingPercent: 150, backend: "zipkin" }, accessLogs: "yes" },
                [
                    `${key}.tracing.samplingPercent: must be a number from 0 to 100, got 150`,
                    `${key}.tracing.backend: "zipkin" is not one of: jaeger, external`,
                    `${key}.accessLogs: must be true or false, got "yes"`,
                ],
            ],
            [
                "an external collector's settings with the Jaeger backend",
                { hub: "c1", tracing: { service: "otel.o.svc.cluster.local" } },
                [
                    `${key}.tracing.service: names an external collector, but \`backend\` is jaeger, whose Service ` +
                        "the program names itself: remove it, or set `backend: external` to send spans to a " +
                        "collector of your own",
                ],
            ],
            [
                "an external collector that is not a Service, a bad port, Jaeger's resources",
                {
                    hub: "c1",
                    tracing: {
                        backend: "external",
                        service: "http://collector",
                        port: 0,
                        resources: { requests: { cpu: "1" } },
                    },
                },
                [
                    `${key}.tracing.resources: sizes the Jaeger this program runs; with \`backend: external\` it ` +
                        "runs none",
                    `${key}.tracing.service: "http://collector" is not a Service name such as ` +
                        "opentelemetry-collector.observability.svc.cluster.local; name the collector Service by " +
                        "its cluster-local DNS name",
                    `${key}.tracing.port: must be a whole number of at least 1, got 0`,
                ],
            ],
            [
                "durations Prometheus cannot read, a storage size that is not one",
                { hub: "c1", metrics: { scrapeInterval: "15", retention: "0h", hubStorage: "lots" } },
                [
                    `${key}.metrics.scrapeInterval: "15" is not a Prometheus duration such as 15s, 6h or 15d`,
                    `${key}.metrics.retention: "0h" is not a Prometheus duration such as 15s, 6h or 15d`,
                    `${key}.metrics.hubStorage: "lots" is not a storage size such as 50Gi`,
                ],
            ],
            [
                "a hub request above its limit",
                {
                    hub: "c1",
                    metrics: { hubResources: { requests: { memory: "8Gi" }, limits: { memory: "4Gi" } } },
                },
                [
                    `${key}.metrics.hubResources.requests.memory: 8Gi is more than the limit 4Gi; Kubernetes ` +
                        "refuses a request above its limit, raise the limit or lower the request",
                ],
            ],
            [
                "dashboards with metrics off",
                { hub: "c1", metrics: { enabled: false }, dashboards: { enabled: true } },
                [
                    `${key}.dashboards.enabled: Grafana shows the hub's metrics, and \`metrics.enabled\` is false; ` +
                        "turn metrics on or dashboards off",
                ],
            ],
            [
                "chart versions that are ranges or tags, a repository with credentials, an unknown chart",
                {
                    hub: "c1",
                    charts: {
                        prometheus: { version: "^29.0.0" },
                        jaeger: { version: "latest" },
                        grafana: { repository: "https://user:pw@charts.example.com" },
                        loki: {},
                    },
                },
                [
                    `${key}.charts.loki: unknown key; allowed keys are: prometheus, jaeger, grafana`,
                    `${key}.charts.prometheus.version: "^29.0.0" is not an exact version; a range or tag would ` +
                        "install whatever is newest when `pulumi up` runs, so pin one such as 29.27.0",
                    `${key}.charts.jaeger.version: "latest" is not an exact version; a range or tag would install ` +
                        "whatever is newest when `pulumi up` runs, so pin one such as 4.11.1",
                    `${key}.charts.grafana.repository: a text of 34 characters (not shown) is not a chart ` +
                        "repository: use an https URL such as https://grafana-community.github.io/helm-charts (no " +
                        "credentials in it) or an oci:// registry path",
                ],
            ],
        ];
        for (const [label, raw, errors] of refused) {
            it(`refuses ${label}`, () => assert.deepEqual(validateObservability(raw, ctx), { errors }));
        }

        it("chart repositories: https without credentials, or an OCI registry path", () => {
            for (const ok of [
                "https://charts.example.com",
                "oci://ghcr.io/org/charts",
                "https://h.example.com/a/b",
            ])
                assert.ok(isChartRepository(ok), ok);
            for (const bad of [
                "http://charts.example.com",
                "oci://",
                "https://x.example.com/?token=1",
                "ftp://x",
            ])
                assert.ok(!isChartRepository(bad), bad);
        });

        it("is checked with the rest of the topology: a cluster name too long for its Prometheus Service", () => {
            const long = "c".repeat(60);
            const r = validateTopology({
                ...rawConfig(mesh(), [primary("c1"), primary(long)]),
                observability: { hub: "c1" },
            });
            assert.equal(r.ok, false);
            assert.deepEqual(r.ok ? [] : r.errors, [
                `${key}.metrics: cluster "${long.slice(0, 40)}…" (60 characters) names its Prometheus Service 71 characters ` +
                    "long, over Kubernetes' limit of 63; shorten the cluster name to at most 52 characters, or set " +
                    "`metrics.enabled: false`",
            ]);
        });

        it("refuses the smoke test's namespace, found across sections", () => {
            const r = validateTopology({
                ...rawConfig(mesh(), [primary("c1"), primary("c2")]),
                smokeTest: { enabled: true, namespace: "observability", v1: "c1", v2: "c2" },
                observability: { hub: "c1" },
            });
            assert.equal(r.ok, false);
            assert.ok(
                !r.ok &&
                    r.errors.includes(
                        `${key}.namespace: "observability" is also created by istio-multicluster:smokeTest.namespace; ` +
                            "observability needs a namespace of its own (its mTLS and access policies would apply " +
                            "to those workloads too): give it another name",
                    ),
                r.ok ? "" : r.errors.join("\n"),
            );
        });
    });

    describe("observabilityPlan", () => {
        const mixed = () =>
            topology(
                [primary("p1", "n1"), primary("p2", "n2"), remote("r1", "p1", "n3")],
                { hub: "r1" },
                { istio: { version: "1.30.3", revision: "1-30-3" } },
            );
        const byCluster = (plans: ClusterObservability[]) => new Map(plans.map((p) => [p.cluster.name, p]));

        it("every cluster: an injected namespace and its own Prometheus, named after it and labelled with it", () => {
            const plans = observabilityPlan(mixed());
            assert.deepEqual(
                plans.map((p) => p.cluster.name),
                ["p1", "p2", "r1"],
            );
            for (const p of plans) {
                assert.deepEqual(p.namespace, {
                    name: "observability",
                    labels: {
                        "app.kubernetes.io/managed-by": "istio-multicluster",
                        "istio.io/rev": "1-30-3",
                    },
                });
                assert.equal(p.prometheus!.releaseName, "prometheus-cluster");
                assert.deepEqual(p.prometheus!.chart, chartDefaults.prometheus);
                const server = p.prometheus!.values.server as Record<string, unknown>;
                assert.equal(server.fullnameOverride, `prometheus-${p.cluster.name}`);
                assert.deepEqual(server.global, {
                    scrape_interval: "15s",
                    external_labels: { cluster: p.cluster.name },
                });
                assert.deepEqual(server.service, { type: "ClusterIP", servicePort: 9090 });
                assert.deepEqual(server.podAnnotations, {
                    "traffic.sidecar.istio.io/includeOutboundIPRanges": "",
                });
                assert.deepEqual(p.prometheus!.values.scrapeConfigs, {
                    "prometheus-pushgateway": { enabled: false },
                });
            }
        });

        it("the hub (a remote here): federation jobs for every cluster, a stub per other cluster, Jaeger, Grafana", () => {
            const plans = byCluster(observabilityPlan(mixed()));
            assert.equal(plans.get("p1")!.hub, undefined);
            assert.equal(plans.get("p2")!.hub, undefined);
            const hub = plans.get("r1")!.hub!;
            const values = hub.prometheus!.values;
            assert.deepEqual(
                values.scrapeConfigs,
                Object.fromEntries(chartScrapeJobs.map((j) => [j, { enabled: false }])),
            );
            assert.deepEqual(values.rbac, { create: false }, "static targets: no right to read the cluster");
            const jobs = (
                values.serverFiles as Record<string, { scrape_configs: Record<string, unknown>[] }>
            )["prometheus.yml"]!.scrape_configs;
            assert.deepEqual(
                jobs.map((j) => [j.job_name, (j.static_configs as { targets: string[] }[])[0]!.targets[0]]),
                [
                    ["federate-p1", "prometheus-p1.observability.svc.cluster.local:9090"],
                    ["federate-p2", "prometheus-p2.observability.svc.cluster.local:9090"],
                    ["federate-r1", "prometheus-r1.observability.svc.cluster.local:9090"],
                ],
            );
            assert.deepEqual(jobs[0], {
                job_name: "federate-p1",
                honor_labels: true,
                metrics_path: "/federate",
                params: { "match[]": ['{job="kubernetes-pods"}'] },
                static_configs: [
                    {
                        targets: ["prometheus-p1.observability.svc.cluster.local:9090"],
                        labels: { cluster: "p1" },
                    },
                ],
            });
            assert.deepEqual(
                hub.stubs.map((s) => s.metadata.name),
                ["prometheus-p1", "prometheus-p2"],
            );
            assert.deepEqual(hub.stubs[0], {
                apiVersion: "v1",
                kind: "Service",
                metadata: {
                    name: "prometheus-p1",
                    namespace: "observability",
                    labels: {
                        "app.kubernetes.io/managed-by": "istio-multicluster",
                        "istio-multicluster/endpoints-in": "p1",
                    },
                },
                spec: {
                    type: "ClusterIP",
                    ports: [{ name: "http", port: 9090, targetPort: 9090, protocol: "TCP" }],
                },
            });
            assert.equal(hub.jaeger!.releaseName, "jaeger");
            const grafana = hub.grafana!.values;
            assert.deepEqual(grafana.admin, {
                existingSecret: "grafana-admin",
                userKey: "admin-user",
                passwordKey: "admin-password",
            });
            const dashboards = (grafana.dashboards as { istio: Record<string, { url: string }> }).istio;
            assert.equal(
                dashboards["istio-mesh"]!.url,
                "https://raw.githubusercontent.com/istio/istio/1.30.3/manifests/addons/dashboards/" +
                    "istio-mesh-dashboard.gen.json",
            );
        });

        it("primaries alone carry the access policies, identical; remotes are covered by their primary's", () => {
            const plans = byCluster(observabilityPlan(mixed()));
            assert.deepEqual(plans.get("r1")!.istioObjects, []);
            assert.deepEqual(plans.get("p1")!.istioObjects, plans.get("p2")!.istioObjects);
            const objects = plans.get("p1")!.istioObjects;
            assert.deepEqual(
                objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`),
                [
                    "PeerAuthentication observability/default",
                    "AuthorizationPolicy observability/prometheus-federate",
                    "AuthorizationPolicy observability/prometheus-hub",
                    "AuthorizationPolicy observability/jaeger",
                ],
            );
            assert.deepEqual(objects[0]!.spec, { mtls: { mode: "STRICT" } });
            assert.deepEqual(objects[1]!.spec, {
                selector: {
                    matchLabels: {
                        "app.kubernetes.io/name": "prometheus",
                        "app.kubernetes.io/component": "server",
                        "app.kubernetes.io/instance": "prometheus-cluster",
                    },
                },
                action: "ALLOW",
                rules: [
                    {
                        from: [{ source: { principals: ["cluster.local/ns/observability/sa/prometheus"] } }],
                        to: [{ operation: { ports: ["9090"], methods: ["GET"], paths: ["/federate"] } }],
                    },
                ],
            });
            assert.deepEqual((objects[3]!.spec.rules as unknown[])[0], {
                from: [{ source: { principals: ["cluster.local/*"] } }],
                to: [{ operation: { ports: ["4317"] } }],
            });
        });

        it("metrics off: no Prometheus, no stubs, no federation policy; external backend: no Jaeger", () => {
            const t = topology([primary("c1"), primary("c2")], {
                hub: "c2",
                metrics: { enabled: false },
                tracing: { backend: "external" },
            });
            const plans = observabilityPlan(t);
            for (const p of plans) assert.equal(p.prometheus, undefined);
            assert.deepEqual(plans[1]!.hub, { stubs: [] });
            assert.deepEqual(
                plans[0]!.istioObjects.map((o) => o.metadata.name),
                ["default"],
            );
            assert.deepEqual(uiAccess(t), {});
        });

        it("dashboards off: the hub's Prometheus admits nobody through the mesh (an ALLOW policy without rules)", () => {
            const t = topology([primary("c1")], { hub: "c1", dashboards: { enabled: false } });
            const [plan] = observabilityPlan(t);
            const hubPolicy = plan!.istioObjects.find((o) => o.metadata.name === "prometheus-hub")!;
            assert.deepEqual(hubPolicy.spec.rules, []);
            assert.equal(plan!.hub!.grafana, undefined);
        });

        it("how to reach each UI: a port-forward to the hub by its context, or its kubeconfig", () => {
            const t = topology([primary("c1"), primary("c2")], { hub: "c2" });
            assert.deepEqual(uiAccess(t), {
                prometheus: {
                    portForward:
                        "kubectl --context ctx-c2 -n observability port-forward svc/prometheus 9090:9090",
                    url: "http://localhost:9090",
                },
                jaeger: {
                    portForward:
                        "kubectl --context ctx-c2 -n observability port-forward svc/jaeger 16686:16686",
                    url: "http://localhost:16686",
                },
                grafana: {
                    portForward: "kubectl --context ctx-c2 -n observability port-forward svc/grafana 3000:80",
                    url: "http://localhost:3000",
                },
            });
        });

        it("every cluster has a path to the hub: same network, or a gateway on 15443 at both ends", () => {
            for (const [name, make] of Object.entries(topologies)) {
                const doc = make();
                for (const hub of doc.clusters.map((c) => c.name as string)) {
                    const t = topology(doc.clusters, { hub });
                    const plan = composeMesh(t);
                    const servesOthers = (c: string) => {
                        const p = plan.clusters.find((x) => x.cluster.name === c)!;
                        // A remote's gateway is configured by its primary's cross-network Gateway.
                        const configBy = plan.clusters.find(
                            (x) => x.cluster.name === (p.cluster.primary ?? p.cluster.name),
                        )!;
                        return p.eastWestGateway && configBy.exposeServices;
                    };
                    const hubNetwork = t.clusters.find((c) => c.name === hub)!.network;
                    for (const c of t.clusters.filter((x) => x.network !== hubNetwork)) {
                        assert.ok(servesOthers(c.name) && servesOthers(hub), `${name}: ${c.name} -> ${hub}`);
                    }
                }
            }
        });
    });
});
