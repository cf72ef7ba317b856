/**
 * GlobalServices and IngressGateway in the whole program: the traffic objects are identical in every primary,
 * each created with that primary's provider and waiting for exactly its istiod; ingress gateways are the
 * gateway chart as `istio-ingressgateway`, injected like the east-west gateway; cluster-local hosts reach
 * every primary's istiod; a refused traffic config registers nothing.
 */
import { strict as assert } from "node:assert";
import {
    loadStackFile,
    Plan,
    PlannedResource,
    PlanRefused,
    plainInputs,
    plan,
    stackConfigFromDocument,
} from "../../tools/planner";
import { longestChain } from "../../tools/graph";
import { ClusterDoc, mesh, primary, remote } from "../support/fixtures";

function config(clusters: ClusterDoc[], traffic: Record<string, unknown>) {
    return stackConfigFromDocument(
        "test",
        {
            config: {
                "istio-multicluster:mesh": mesh(),
                "istio-multicluster:clusters": clusters,
                "istio-multicluster:namespaces": ["sample", "data", "y"].map((name) => ({ name })),
                // Hardening's values and edges are asserted in test/components/hardening.test.ts.
                "istio-multicluster:hardening": { mode: "off" },
                ...Object.fromEntries(
                    Object.entries(traffic).map(([k, v]) => [`istio-multicluster:${k}`, v]),
                ),
            },
        },
        "test",
    );
}

const helloworld = {
    name: "helloworld",
    namespace: "sample",
    ports: [{ number: 5000, protocol: "HTTP" }],
    distribute: [
        { from: "region1/*", to: { "region1/*": 80, "region2/*": 20 } },
        { from: "region2/*", to: { "region2/*": 80, "region1/*": 20 } },
    ],
    canary: [
        { subset: "v1", labels: { version: "v1" }, weight: 90 },
        { subset: "v2", labels: { version: "v2" }, weight: 10 },
    ],
};
const cache = {
    name: "cache",
    namespace: "data",
    ports: [{ number: 6379, protocol: "TCP" }],
    clusterLocal: true,
};
const httpbin = { name: "httpbin", hosts: ["httpbin.org"], ports: [{ number: 443, protocol: "TLS" }] };
const ingress = {
    hosts: [{ host: "hello.example.com", service: "helloworld", credentialName: "hello-tls" }],
};

const istioTypes = (p: Plan) =>
    p.resources.filter((r) => r.type.startsWith("kubernetes:networking.istio.io/"));
const byName = (p: Plan, name: string): PlannedResource => {
    const r = p.resources.find((x) => x.name === name);
    assert.ok(r, `no resource ${name}`);
    return r;
};
const urnOf = (p: Plan, name: string) => byName(p, name).urn;
/** What a traffic object is, apart from where it is applied. */
const body = (r: PlannedResource) => {
    const i = plainInputs(r);
    return { type: r.type, apiVersion: i.apiVersion, kind: i.kind, metadata: i.metadata, spec: i.spec };
};

describe("GlobalServices, multi-primary with a remote", () => {
    let p: Plan;
    before(async () => {
        p = await plan(
            config(
                [
                    primary("cluster1", "network1", { region: "region1" }),
                    primary("cluster2", "network2", { region: "region2" }),
                    remote("cluster3", "cluster1", "network3", { region: "region1" }),
                ],
                { services: [helloworld, cache], externalServices: [httpbin], ingress },
            ),
        );
    });

    const names = [
        "destinationrule/sample/helloworld",
        "virtualservice/sample/helloworld",
        "destinationrule/data/cache",
        "serviceentry/istio-system/httpbin",
        "gateway/istio-system/hello.example.com",
        "virtualservice/istio-system/hello.example.com",
    ];

    it("applies the same objects in every primary, none in the remote", () => {
        const traffic = istioTypes(p).filter((r) => r.name.includes("/"));
        assert.deepEqual(
            traffic.map((r) => r.name).sort(),
            ["cluster1", "cluster2"].flatMap((c) => names.map((n) => `${c}/${n}`)).sort(),
        );
        for (const n of names) {
            assert.deepEqual(body(byName(p, `cluster1/${n}`)), body(byName(p, `cluster2/${n}`)), n);
        }
        assert.deepEqual(body(byName(p, "cluster1/virtualservice/sample/helloworld")).spec, {
            hosts: ["helloworld.sample.svc.cluster.local"],
            http: [
                {
                    match: [{ port: 5000 }],
                    route: [
                        {
                            destination: {
                                host: "helloworld.sample.svc.cluster.local",
                                subset: "v1",
                                port: { number: 5000 },
                            },
                            weight: 90,
                        },
                        {
                            destination: {
                                host: "helloworld.sample.svc.cluster.local",
                                subset: "v2",
                                port: { number: 5000 },
                            },
                            weight: 10,
                        },
                    ],
                },
            ],
        });
    });

    it("creates each object with its primary's provider, under its GlobalServices, after its istiod and namespace", () => {
        for (const c of ["cluster1", "cluster2"]) {
            const component = p.resources.find(
                (r) => r.type === "multicluster:traffic:GlobalServices" && r.name === c,
            );
            assert.ok(component);
            for (const n of names) {
                const r = byName(p, `${c}/${n}`);
                assert.equal(r.cluster, c);
                assert.equal(r.parent, component.urn);
                // Each object waits for its namespace: istio-system, or the application namespace MeshNamespaces makes.
                const namespace = n.split("/")[1]!;
                const deps = [
                    namespace === "istio-system" ? `${c}-istio-system` : `${c}/${namespace}`,
                    `${c}-istiod`,
                ];
                assert.deepEqual(r.dependsOn, deps.map((d) => urnOf(p, d)).sort(), n);
            }
        }
    });

    it("keeps cluster-local hosts in every primary's istiod", () => {
        for (const c of ["cluster1", "cluster2"]) {
            const values = plainInputs(byName(p, `${c}-istiod`)).values as {
                meshConfig: Record<string, unknown>;
            };
            assert.deepEqual(values.meshConfig.serviceSettings, [
                { settings: { clusterLocal: true }, hosts: ["cache.data.svc.cluster.local"] },
            ]);
        }
    });

    it("installs an ingress gateway in every primary by default, after its istiod", () => {
        const gateways = p.resources
            .filter((r) => r.type === "multicluster:traffic:IngressGateway")
            .map((r) => r.name);
        assert.deepEqual(gateways.sort(), ["cluster1", "cluster2"]);
        for (const c of ["cluster1", "cluster2"]) {
            const r = byName(p, `${c}-ingressgateway`);
            const i = plainInputs(r);
            assert.equal(r.cluster, c);
            assert.equal(i.chart, "gateway");
            assert.equal(i.name, "istio-ingressgateway");
            assert.equal(i.namespace, "istio-system");
            assert.equal(i.version, "1.30.3");
            assert.deepEqual(i.values, {
                name: "istio-ingressgateway",
                labels: { istio: "ingressgateway" },
                service: { type: "LoadBalancer" },
            });
            assert.deepEqual(r.dependsOn, [urnOf(p, `${c}-istio-system`), urnOf(p, `${c}-istiod`)].sort());
        }
    });
});

describe("IngressGateway on a remote, and no traffic at all", () => {
    it("waits for the remote's istiod and its remote secret in its primary, like its east-west gateway", async () => {
        const p = await plan(
            config([primary("c1", "n1"), remote("c2", "c1", "n2")], {
                services: [{ ...helloworld, distribute: undefined }],
                ingress: {
                    clusters: ["c2"],
                    serviceType: "NodePort",
                    hosts: [{ host: "h.example.com", service: "helloworld" }],
                },
            }),
        );
        const r = byName(p, "c2-ingressgateway");
        assert.equal(r.cluster, "c2");
        assert.deepEqual(plainInputs(r).values, {
            name: "istio-ingressgateway",
            labels: { istio: "ingressgateway" },
            service: { type: "NodePort" },
        });
        assert.deepEqual(
            r.dependsOn,
            [urnOf(p, "c2/in/c1"), urnOf(p, "c2-istio-system"), urnOf(p, "c2-istiod")].sort(),
        );
        assert.equal(p.resources.filter((x) => x.type === "multicluster:traffic:IngressGateway").length, 1);
    });

    it("registers no traffic resource when nothing is configured", async () => {
        const p = await plan(config([primary("c1", "n1"), primary("c2", "n2")], {}));
        assert.deepEqual(
            p.resources.filter(
                (r) =>
                    r.type.startsWith("multicluster:traffic:") ||
                    (r.type.startsWith("kubernetes:networking.istio.io/") && r.name.includes("/")),
            ),
            [],
        );
        const values = plainInputs(byName(p, "c1-istiod")).values as { meshConfig: Record<string, unknown> };
        assert.equal("serviceSettings" in values.meshConfig, false);
    });

    it("refuses a bad traffic config before registering anything", async () => {
        await assert.rejects(
            plan(
                config([primary("c1", "n1")], {
                    services: [{ name: "x", namespace: "y", ports: [{ number: 0 }] }],
                }),
            ),
            (e: unknown) => {
                assert.ok(e instanceof PlanRefused);
                assert.deepEqual(e.problems, [
                    "istio-multicluster:services[0].ports[0].number: must be a whole number from 1 to 65535, got 0",
                ]);
                return true;
            },
        );
    });
});

describe("traffic and the dependency depth", () => {
    it("adds no step to the longest chain, at any number of clusters", async () => {
        const many = (n: number) =>
            Array.from({ length: n }, (_, i) =>
                primary(`c${i + 1}`, `n${i + 1}`, { region: `region${(i % 2) + 1}` }),
            );
        const withTraffic = {
            services: [
                { ...helloworld, distribute: undefined, failover: { order: ["region1", "region2"] } },
                cache,
            ],
            externalServices: [httpbin],
            ingress,
        };
        const chains: number[] = [];
        for (const [n, traffic] of [
            [2, {}],
            [2, withTraffic],
            [6, withTraffic],
        ] as const) {
            chains.push(longestChain((await plan(config(many(n), traffic))).resources).length);
        }
        assert.deepEqual(chains, [chains[0], chains[0], chains[0]]);
    });
});

describe("GlobalServices, the dev stack's helloworld", () => {
    it("applies exactly the seed's DestinationRule and VirtualService in cluster1, after its istiod and namespace", async () => {
        const p = await plan(loadStackFile("dev"));
        const objects = istioTypes(p).filter((r) => r.name.includes("/"));
        assert.deepEqual(objects.map((r) => r.name).sort(), [
            "cluster1/destinationrule/sample/helloworld",
            "cluster1/virtualservice/sample/helloworld",
        ]);
        const h = "helloworld.sample.svc.cluster.local";
        assert.deepEqual(body(byName(p, "cluster1/destinationrule/sample/helloworld")), {
            type: "kubernetes:networking.istio.io/v1:DestinationRule",
            apiVersion: "networking.istio.io/v1",
            kind: "DestinationRule",
            metadata: { name: "helloworld", namespace: "sample" },
            spec: {
                host: h,
                trafficPolicy: {
                    loadBalancer: {
                        localityLbSetting: {
                            enabled: true,
                            distribute: [
                                { from: "region1/*", to: { "region1/*": 80, "region2/*": 20 } },
                                { from: "region2/*", to: { "region2/*": 80, "region1/*": 20 } },
                            ],
                        },
                    },
                    outlierDetection: {
                        consecutive5xxErrors: 3,
                        interval: "5s",
                        baseEjectionTime: "30s",
                        maxEjectionPercent: 50,
                    },
                },
                subsets: [
                    { name: "v1", labels: { version: "v1" } },
                    { name: "v2", labels: { version: "v2" } },
                ],
            },
        });
        assert.deepEqual(body(byName(p, "cluster1/virtualservice/sample/helloworld")).spec, {
            hosts: [h],
            http: [
                {
                    match: [{ port: 5000 }],
                    route: [
                        { destination: { host: h, subset: "v1", port: { number: 5000 } }, weight: 90 },
                        { destination: { host: h, subset: "v2", port: { number: 5000 } }, weight: 10 },
                    ],
                },
            ],
        });
        for (const r of objects)
            assert.deepEqual(r.dependsOn, [urnOf(p, "cluster1-istiod"), urnOf(p, "cluster1/sample")].sort());
    });
});
