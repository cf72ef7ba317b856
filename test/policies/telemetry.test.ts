import * as assert from "node:assert/strict";
import { policies } from "../../policies/pack";
import {
    observabilityMeshOnly,
    observabilityMtlsStrict,
    tracingCollectorInMesh,
    tracingSamplingCeiling,
} from "../../policies/telemetry";
import { loadPolicyConfig } from "../../tools/policyRunner";
import { chart, FakeResource, istiodValues, release, runResource, runStack, unknown, urn } from "./harness";

const telemetry = (rates: unknown[]): FakeResource => ({
    type: "kubernetes:telemetry.istio.io/v1:Telemetry",
    name: "c1-telemetry-mesh-default",
    cluster: "c1",
    props: {
        spec: {
            tracing: rates.map((r) => ({
                providers: [{ name: "mesh-tracing" }],
                randomSamplingPercentage: r,
            })),
        },
    },
});

describe("tracing-sampling-ceiling", () => {
    it("passes rates at or below the ceiling (default 100), and Telemetries without tracing", async () => {
        assert.deepEqual((await runResource(tracingSamplingCeiling, telemetry([100, 0]))).messages, []);
        assert.deepEqual(
            (await runResource(tracingSamplingCeiling, telemetry([10]), { maxPercent: 10 })).messages,
            [],
        );
        const none: FakeResource = { ...telemetry([]), props: { spec: {} } };
        assert.deepEqual((await runResource(tracingSamplingCeiling, none)).messages, []);
    });

    it("reports a rate above the configured ceiling, and skips unknowns", async () => {
        const out = await runResource(tracingSamplingCeiling, telemetry([25, unknown]), { maxPercent: 10 });
        assert.deepEqual(out.messages, [
            "Telemetry c1-telemetry-mesh-default samples 25% of requests, above the ceiling of 10%; lower " +
                "`istio-multicluster:observability.tracing.samplingPercent`",
        ]);
    });
});

describe("tracing-collector-in-mesh", () => {
    const withProvider = (service: unknown) =>
        chart(
            "c1",
            "istiod",
            istiodValues("c1", "n1", {
                meshConfig: {
                    extensionProviders: [{ name: "mesh-tracing", opentelemetry: { service, port: 4317 } }],
                },
            }),
        );

    it("passes a cluster-local collector Service and an unknown one", async () => {
        for (const s of [
            "opentelemetry-collector.observability.svc.cluster.local",
            "zipkin.tracing.svc",
            unknown,
        ]) {
            assert.deepEqual(
                (await runResource(tracingCollectorInMesh, withProvider(s))).messages,
                [],
                String(s),
            );
        }
    });

    it("reports spans sent outside the mesh", async () => {
        const out = await runResource(tracingCollectorInMesh, withProvider("collector.example.com"));
        assert.deepEqual(out.messages, [
            "c1-istiod: tracing provider mesh-tracing sends spans to collector.example.com, outside the mesh; use " +
                "`istio-multicluster:observability.tracing.backend: jaeger`, or set `tracing.service` to a " +
                "cluster-local collector Service (<name>.<namespace>.svc.cluster.local)",
        ]);
    });
});

/** An observability chart's release in `cluster`, in the observability namespace. */
const obsRelease = (
    cluster: string,
    name: string,
    chartRef: string,
    values: unknown,
    extra: Record<string, unknown> = {},
): FakeResource => ({
    type: release,
    name: `${cluster}/${name}`,
    cluster,
    props: { chart: chartRef, version: "1.0.0", name, namespace: "observability", values, ...extra },
});

/** The values the program gives each chart (the parts the policy reads). */
const compliant = {
    prometheus: {
        server: {
            service: { type: "ClusterIP", servicePort: 9090 },
            ingress: { enabled: false },
            route: { main: { enabled: false } },
            podAnnotations: { "traffic.sidecar.istio.io/includeOutboundIPRanges": "" },
            podLabels: { "sidecar.istio.io/inject": "true" },
        },
    },
    grafana: {
        service: { type: "ClusterIP", port: 80, appProtocol: "http" },
        ingress: { enabled: false },
        route: { main: { enabled: false } },
        podAnnotations: { "traffic.sidecar.istio.io/excludeOutboundPorts": "443" },
    },
    jaeger: {
        jaeger: {
            service: { type: "ClusterIP" },
            ingress: { enabled: false },
            httproute: { enabled: false },
            podLabels: { "sidecar.istio.io/inject": "true" },
        },
    },
};

describe("observability-mesh-only", () => {
    const meshOnly = (r: FakeResource) => runResource(observabilityMeshOnly, r);

    it("passes the program's releases, releases without values, and OCI or packaged chart references", async () => {
        const rs = [
            obsRelease("c1", "prometheus-cluster", "prometheus", compliant.prometheus),
            obsRelease("c1", "grafana", "grafana", compliant.grafana),
            obsRelease("c1", "jaeger", "jaeger", compliant.jaeger),
            obsRelease("c1", "prometheus-hub", "prometheus", {}),
            obsRelease("c1", "grafana-oci", "oci://registry.example.com/charts/grafana", compliant.grafana),
            obsRelease("c1", "jaeger-tgz", "./charts/jaeger-4.11.1.tgz", undefined),
            obsRelease("c1", "grafana-yes", "grafana", { podLabels: { "sidecar.istio.io/inject": "Yes" } }),
        ];
        for (const r of rs) assert.deepEqual((await meshOnly(r)).messages, [], r.name);
    });

    it("ignores other charts, whatever they expose", async () => {
        const lb = { service: { type: "LoadBalancer" }, server: { service: { type: "NodePort" } } };
        for (const ref of ["gateway", "kube-prometheus-stack", "oci://registry.example.com/loki"]) {
            assert.deepEqual((await meshOnly(obsRelease("c1", "other", ref, lb))).messages, [], ref);
        }
        const notHelm: FakeResource = {
            type: "kubernetes:core/v1:Service",
            name: "grafana",
            cluster: "c1",
            props: { chart: "grafana", values: lb },
        };
        assert.deepEqual((await meshOnly(notHelm)).messages, []);
    });

    const tail =
        "which puts it outside the mesh; the observability backends are reached only through the mesh (or " +
        "`kubectl port-forward`): release them as `istio-multicluster:observability` configures them, with no " +
        "override of these values";

    it("reports a prometheus Service that is not ClusterIP, its Ingress, route and injection turned off", async () => {
        const out = await meshOnly(
            obsRelease("c1", "prometheus-hub", "prometheus", {
                server: {
                    service: { type: "LoadBalancer" },
                    ingress: { enabled: true },
                    route: { main: { enabled: true }, other: { enabled: false } },
                    podAnnotations: { "sidecar.istio.io/inject": "false" },
                    podLabels: { "sidecar.istio.io/inject": false },
                },
            }),
        );
        assert.deepEqual(out.messages, [
            `c1/prometheus-hub: the prometheus release has a Service of type "LoadBalancer" (values.server.service.type), not ClusterIP, ${tail}`,
            `c1/prometheus-hub: the prometheus release enables an Ingress (values.server.ingress.enabled), ${tail}`,
            `c1/prometheus-hub: the prometheus release enables a Gateway API route (values.server.route.main.enabled), ${tail}`,
            `c1/prometheus-hub: the prometheus release turns sidecar injection off (values.server.podAnnotations sets sidecar.istio.io/inject: "false"), ${tail}`,
            `c1/prometheus-hub: the prometheus release turns sidecar injection off (values.server.podLabels sets sidecar.istio.io/inject: false), ${tail}`,
        ]);
    });

    it("reports grafana's NodePort Service, Ingress and disabled injection, by an OCI reference too", async () => {
        const out = await meshOnly(
            obsRelease("c1", "grafana", "oci://registry.example.com/charts/grafana", {
                service: { type: "NodePort" },
                ingress: { enabled: "false" }, // a non-empty string is true to Helm's templates
                podLabels: { "sidecar.istio.io/inject": "disabled" },
            }),
        );
        assert.deepEqual(out.messages, [
            `c1/grafana: the grafana release has a Service of type "NodePort" (values.service.type), not ClusterIP, ${tail}`,
            `c1/grafana: the grafana release enables an Ingress (values.ingress.enabled), ${tail}`,
            `c1/grafana: the grafana release turns sidecar injection off (values.podLabels sets sidecar.istio.io/inject: "disabled"), ${tail}`,
        ]);
    });

    it("reports jaeger's exposure, by its current and pre-4 (query.*) keys", async () => {
        const out = await meshOnly(
            obsRelease("c1", "jaeger", "jaeger", {
                jaeger: {
                    service: { type: "LoadBalancer" },
                    ingress: { enabled: true },
                    httproute: { enabled: true },
                    podLabels: { "sidecar.istio.io/inject": "false" },
                },
                query: { service: { type: "NodePort" }, ingress: { enabled: true } },
            }),
        );
        assert.deepEqual(out.messages, [
            `c1/jaeger: the jaeger release has a Service of type "LoadBalancer" (values.jaeger.service.type), not ClusterIP, ${tail}`,
            `c1/jaeger: the jaeger release has a Service of type "NodePort" (values.query.service.type), not ClusterIP, ${tail}`,
            `c1/jaeger: the jaeger release enables an Ingress (values.jaeger.ingress.enabled), ${tail}`,
            `c1/jaeger: the jaeger release enables an Ingress (values.query.ingress.enabled), ${tail}`,
            `c1/jaeger: the jaeger release enables a Gateway API route (values.jaeger.httproute.enabled), ${tail}`,
            `c1/jaeger: the jaeger release turns sidecar injection off (values.jaeger.podLabels sets sidecar.istio.io/inject: "false"), ${tail}`,
        ]);
    });

    it("skips values unknown at preview", async () => {
        const rs = [
            obsRelease("c1", "grafana", "grafana", unknown),
            obsRelease("c1", "grafana", unknown, { service: { type: "LoadBalancer" } }),
            obsRelease("c1", "prometheus", "prometheus", {
                server: {
                    service: { type: unknown },
                    ingress: { enabled: unknown },
                    route: unknown,
                    podAnnotations: unknown,
                    podLabels: { "sidecar.istio.io/inject": unknown },
                },
            }),
            obsRelease("c1", "jaeger", "jaeger", { jaeger: unknown, query: { service: unknown } }),
        ];
        for (const r of rs) {
            const out = await meshOnly(r);
            assert.deepEqual(out.messages, [], r.name);
            assert.equal(out.couldNotRun, false);
        }
    });
});

describe("observability-mtls-strict", () => {
    const peerAuth = (cluster: string, namespace: unknown, spec: unknown): FakeResource => ({
        type: "kubernetes:security.istio.io/v1:PeerAuthentication",
        name: `${cluster}/${String(namespace)}/PeerAuthentication/default`,
        cluster,
        props: { metadata: { name: "default", namespace }, spec },
    });
    const strict = { mtls: { mode: "STRICT" } };
    /** Two primaries (c1 the hub) and a remote (c3), each cluster with its Prometheus. */
    const mesh = (paC1: unknown = strict, paC2: unknown = strict): FakeResource[] => [
        chart("c1", "istiod", istiodValues("c1")),
        chart("c2", "istiod", istiodValues("c2")),
        chart("c3", "istiod", { profile: "remote", global: { multiCluster: { clusterName: "c3" } } }),
        obsRelease("c1", "prometheus-hub", "prometheus", compliant.prometheus),
        obsRelease("c1", "jaeger", "jaeger", compliant.jaeger),
        obsRelease("c1", "grafana", "grafana", compliant.grafana),
        ...["c1", "c2", "c3"].map((c) =>
            obsRelease(c, "prometheus-cluster", "prometheus", compliant.prometheus),
        ),
        peerAuth("c1", "istio-system", strict),
        peerAuth("c2", "istio-system", strict),
        peerAuth("c1", "observability", paC1),
        peerAuth("c2", "observability", paC2),
    ];

    it("passes STRICT in the namespace in every primary (none needed in a remote)", async () => {
        assert.deepEqual((await runStack(observabilityMtlsStrict, mesh())).messages, []);
    });

    it("passes a stack without observability releases", async () => {
        const rs = mesh().filter((r) => r.type !== release || r.props?.chart === "istiod");
        const bare = rs.filter((r) => !r.name.endsWith("observability/PeerAuthentication/default"));
        assert.deepEqual((await runStack(observabilityMtlsStrict, bare)).messages, []);
    });

    it("reports a primary without the namespace's PeerAuthentication, naming the releases it leaves open", async () => {
        const rs = mesh().filter((r) => r.name !== "c2/observability/PeerAuthentication/default");
        const out = await runStack(observabilityMtlsStrict, rs);
        assert.deepEqual(out.messages, [
            "primary c2 has no PeerAuthentication in namespace observability, which hosts c1/prometheus-hub, " +
                "c1/jaeger, c1/grafana, c1/prometheus-cluster, c2/prometheus-cluster, c3/prometheus-cluster: the " +
                "backends there accept plain text; every primary needs mTLS STRICT in that namespace, which the " +
                "program writes for `istio-multicluster:observability`",
        ]);
        assert.deepEqual(out.urns, [urn({ type: release, name: "c2-istiod" })]);
    });

    it("reports a mode other than STRICT, and a STRICT one that only selects some workloads", async () => {
        const permissive = await runStack(observabilityMtlsStrict, mesh({ mtls: { mode: "PERMISSIVE" } }));
        assert.equal(permissive.messages.length, 1);
        assert.match(
            permissive.messages[0]!,
            /^primary c1 sets mTLS PERMISSIVE in namespace observability, which hosts .*; it must be STRICT, as the program writes it for `istio-multicluster:observability`$/,
        );
        const unset = await runStack(observabilityMtlsStrict, mesh(strict, {}));
        assert.match(unset.messages[0]!, /^primary c2 sets mTLS UNSET in namespace observability/);
        const scoped = { selector: { matchLabels: { app: "grafana" } }, mtls: { mode: "STRICT" } };
        const out = await runStack(observabilityMtlsStrict, mesh(strict, scoped));
        assert.match(out.messages[0]!, /^primary c2 has no PeerAuthentication in namespace observability/);
    });

    it("reports per namespace: a release elsewhere needs its own namespace's PeerAuthentication", async () => {
        const rs = [
            ...mesh(),
            {
                ...obsRelease("c1", "grafana-default", "grafana", {}),
                props: { chart: "grafana", version: "1.0.0" },
            },
        ];
        const out = await runStack(observabilityMtlsStrict, rs);
        assert.equal(out.messages.length, 2);
        assert.match(
            out.messages[0]!,
            /^primary c1 has no PeerAuthentication in namespace default, which hosts c1\/grafana-default:/,
        );
        assert.match(out.messages[1]!, /^primary c2 has no PeerAuthentication in namespace default/);
    });

    it("skips what is unknown at preview: a namespace, a spec, a mode", async () => {
        for (const pa of [
            peerAuth("c2", unknown, strict),
            peerAuth("c2", "observability", unknown),
            peerAuth("c2", "observability", { mtls: { mode: unknown } }),
        ]) {
            const rs = [
                ...mesh().filter((r) => r.name !== "c2/observability/PeerAuthentication/default"),
                pa,
            ];
            assert.deepEqual((await runStack(observabilityMtlsStrict, rs)).messages, [], pa.name);
        }
        const unknownNs = mesh().map((r) =>
            r.props?.namespace === "observability" ? { ...r, props: { ...r.props, namespace: unknown } } : r,
        );
        const noPa = unknownNs.filter((r) => !r.name.endsWith("observability/PeerAuthentication/default"));
        assert.deepEqual((await runStack(observabilityMtlsStrict, noPa)).messages, []);
    });
});

describe("observability policies, registered", () => {
    it("are mandatory by default and in prod, advisory in dev (like the other telemetry policies)", () => {
        const dev = loadPolicyConfig("policies/config.dev.json");
        const prod = loadPolicyConfig("policies/config.prod.json");
        for (const n of ["observability-mesh-only", "observability-mtls-strict"]) {
            assert.equal(policies.find((p) => p.name === n)?.enforcementLevel, "mandatory", n);
            assert.equal(dev[n], undefined, `dev overrides ${n}`);
            assert.equal(prod[n], undefined, `prod overrides ${n}`);
        }
        assert.equal(dev.all, "advisory");
        assert.equal(prod.all, "mandatory");
    });
});
