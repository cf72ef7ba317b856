import * as assert from "node:assert/strict";
import {
    clientTlsNotDisabled,
    destinationRuleHostQualified,
    failoverNeedsOutlierDetection,
    ingressTlsRequired,
    subsetsRouted,
    trafficWeightsSum,
} from "../../policies/traffic";
import { policies } from "../../policies/pack";
import { loadPolicyConfig } from "../../tools/policyRunner";
import { trafficObjects, validateTraffic } from "../../stacks/traffic";
import { crossNetworkGateway } from "../../stacks/istioObjects";
import { FakeResource, runResource, runStack, unknown } from "./harness";

const object = (
    cluster: string,
    o: { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: unknown },
): FakeResource => ({
    type: `kubernetes:networking.istio.io/v1:${o.kind}`,
    name: `${cluster}/${o.kind.toLowerCase()}/${o.metadata.name}`,
    cluster,
    props: { ...structuredClone(o) },
});
const dr = (spec: Record<string, unknown>, name = "helloworld", namespace = "sample") =>
    object("c1", {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name, namespace },
        spec,
    });
const vs = (spec: Record<string, unknown>, name = "helloworld", namespace = "sample") =>
    object("c1", {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name, namespace },
        spec,
    });
const gw = (servers: unknown, selector: unknown = { istio: "ingressgateway" }) =>
    object("c1", {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: { name: "hello.example.com", namespace: "istio-system" },
        spec: { selector, servers },
    });

const host = "helloworld.sample.svc.cluster.local";
const outlier = { consecutive5xxErrors: 3, interval: "5s", baseEjectionTime: "30s", maxEjectionPercent: 50 };
const failover = { localityLbSetting: { enabled: true, failover: [{ from: "r1", to: "r2" }] } };

/** The program's own objects for a service with failover, a canary, TLS origination and ingress. */
function programObjects(): FakeResource[] {
    const { traffic } = validateTraffic(
        {
            services: [
                {
                    name: "helloworld",
                    namespace: "sample",
                    ports: [{ number: 5000 }],
                    failover: { order: ["r1", "r2"], priority: ["topology.istio.io/network"] },
                    canary: [
                        { subset: "v1", labels: { version: "v1" }, weight: 90 },
                        { subset: "v2", labels: { version: "v2" }, weight: 10 },
                    ],
                },
            ],
            externalServices: [
                {
                    name: "httpbin",
                    hosts: ["httpbin.org"],
                    ports: [{ number: 80, protocol: "HTTP" }],
                    tls: {},
                },
            ],
            ingress: {
                hosts: [{ host: "hello.example.com", service: "helloworld", credentialName: "hello-tls" }],
            },
        },
        [
            {
                name: "c1",
                role: "primary",
                region: "r1",
                access: { kind: "context", context: "c1" },
                eastWest: { serviceType: "LoadBalancer" },
                index: 0,
            },
            {
                name: "c2",
                role: "primary",
                region: "r2",
                access: { kind: "context", context: "c2" },
                eastWest: { serviceType: "LoadBalancer" },
                index: 1,
            },
        ],
    );
    return trafficObjects(traffic!).map((o) => object("c1", { ...o, metadata: { ...o.metadata } }));
}

describe("traffic policies on the program's own objects", () => {
    it("pass every policy", async () => {
        const objects = programObjects();
        assert.equal(objects.length, 6);
        for (const p of [
            failoverNeedsOutlierDetection,
            trafficWeightsSum,
            destinationRuleHostQualified,
            clientTlsNotDisabled,
            ingressTlsRequired,
        ]) {
            for (const o of objects)
                assert.deepEqual((await runResource(p, o)).messages, [], `${p.name} ${o.name}`);
        }
        assert.deepEqual((await runStack(subsetsRouted, objects)).messages, []);
    });
    it("are registered: failover mandatory everywhere, the rest advisory in dev and mandatory in prod", () => {
        const names = [
            "failover-needs-outlier-detection",
            "traffic-weights-sum-100",
            "subsets-routed",
            "destination-rule-host-fqdn",
            "client-tls-not-disabled",
            "ingress-tls-required",
        ];
        for (const n of names)
            assert.equal(policies.find((p) => p.name === n)?.enforcementLevel, "mandatory", n);
        const dev = loadPolicyConfig("policies/config.dev.json");
        const prod = loadPolicyConfig("policies/config.prod.json");
        assert.deepEqual(dev["failover-needs-outlier-detection"], "mandatory");
        assert.equal(dev.all, "advisory");
        assert.equal(prod.all, "mandatory");
        for (const n of names) assert.equal(prod[n], undefined, `prod overrides ${n}`);
    });
});

describe("traffic policies on objects with nothing set", () => {
    it("report nothing for a bare DestinationRule, VirtualService and Gateway", async () => {
        const bare = [dr({ host }), vs({ hosts: [host] }), gw(undefined)];
        for (const p of [
            failoverNeedsOutlierDetection,
            trafficWeightsSum,
            destinationRuleHostQualified,
            clientTlsNotDisabled,
            ingressTlsRequired,
        ]) {
            for (const o of bare)
                assert.deepEqual((await runResource(p, o)).messages, [], `${p.name} ${o.name}`);
        }
        assert.deepEqual((await runStack(subsetsRouted, bare)).messages, []);
    });
});

describe("failover-needs-outlier-detection", () => {
    it("passes failover with outlier detection, inherited by subsets and ports, and distribute without it", async () => {
        for (const spec of [
            { host, trafficPolicy: { loadBalancer: failover, outlierDetection: outlier } },
            {
                host,
                trafficPolicy: { outlierDetection: outlier },
                subsets: [{ name: "v1", labels: {}, trafficPolicy: { loadBalancer: failover } }],
            },
            {
                host,
                trafficPolicy: {
                    loadBalancer: {
                        localityLbSetting: { distribute: [{ from: "r1/*", to: { "r1/*": 100 } }] },
                    },
                },
            },
        ]) {
            assert.deepEqual((await runResource(failoverNeedsOutlierDetection, dr(spec))).messages, []);
        }
    });
    it("reports failover or failoverPriority without outlier detection, or with it switched off", async () => {
        const out = await runResource(
            failoverNeedsOutlierDetection,
            dr({
                host,
                trafficPolicy: {
                    loadBalancer: failover,
                    portLevelSettings: [
                        {
                            port: { number: 80 },
                            loadBalancer: {
                                localityLbSetting: { failoverPriority: ["topology.istio.io/network"] },
                            },
                            outlierDetection: { consecutive5xxErrors: 0 },
                        },
                    ],
                },
            }),
        );
        assert.deepEqual(out.messages, [
            "DestinationRule c1/destinationrule/helloworld fails over (trafficPolicy.loadBalancer.localityLbSetting) without outlier detection, so Istio never fails over; set `outlierDetection` on the service in `istio-multicluster:services`",
            "DestinationRule c1/destinationrule/helloworld fails over (trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting) without outlier detection, so Istio never fails over; set `outlierDetection` on the service in `istio-multicluster:services`",
        ]);
    });
    it("skips unknown values", async () => {
        for (const spec of [
            { host, trafficPolicy: { loadBalancer: failover, outlierDetection: unknown } },
            { host, trafficPolicy: { loadBalancer: { localityLbSetting: unknown } } },
            { host, trafficPolicy: unknown },
        ]) {
            const out = await runResource(failoverNeedsOutlierDetection, dr(spec));
            assert.deepEqual(out.messages, []);
            assert.equal(out.couldNotRun, false);
        }
    });
});

describe("traffic-weights-sum-100", () => {
    const split = (a: unknown, b: unknown) => [
        { destination: { host, subset: "v1" }, weight: a },
        { destination: { host, subset: "v2" }, weight: b },
    ];
    it("passes weights summing to 100 and a single unweighted destination", async () => {
        const out = await runResource(
            trafficWeightsSum,
            vs({ hosts: [host], http: [{ route: split(90, 10) }, { route: [{ destination: { host } }] }] }),
        );
        assert.deepEqual(out.messages, []);
    });
    it("reports routes and distributions that do not sum to 100", async () => {
        assert.deepEqual(
            (
                await runResource(
                    trafficWeightsSum,
                    vs({
                        hosts: [host],
                        http: [{ route: split(90, 20) }],
                        tcp: [{ route: split(50, undefined) }],
                    }),
                )
            ).messages,
            [
                "VirtualService c1/virtualservice/helloworld http[0] weights sum to 110; make the service's `canary` weights in `istio-multicluster:services` sum to 100",
                "VirtualService c1/virtualservice/helloworld tcp[0] weights sum to 50; make the service's `canary` weights in `istio-multicluster:services` sum to 100",
            ],
        );
        const d = dr({
            host,
            trafficPolicy: {
                loadBalancer: {
                    localityLbSetting: { distribute: [{ from: "r1/*", to: { "r1/*": 80, "r2/*": 10 } }] },
                },
            },
        });
        assert.deepEqual((await runResource(trafficWeightsSum, d)).messages, [
            "DestinationRule c1/destinationrule/helloworld trafficPolicy.loadBalancer.localityLbSetting.distribute[0] weights sum to 90; make the service's `distribute` weights in `istio-multicluster:services` sum to 100",
        ]);
    });
    it("skips unknown weights", async () => {
        assert.deepEqual(
            (
                await runResource(
                    trafficWeightsSum,
                    vs({ hosts: [host], http: [{ route: split(90, unknown) }] }),
                )
            ).messages,
            [],
        );
    });
});

describe("subsets-routed", () => {
    const rule = dr({
        host,
        subsets: [
            { name: "v1", labels: { version: "v1" } },
            { name: "v2", labels: { version: "v2" } },
        ],
    });
    it("passes routes to defined subsets, with short hosts resolved in the object's namespace", async () => {
        const routes = vs({
            hosts: ["helloworld"],
            http: [
                {
                    route: [
                        { destination: { host: "helloworld", subset: "v1" }, weight: 50 },
                        { destination: { host: "helloworld.sample", subset: "v2" }, weight: 50 },
                    ],
                },
            ],
        });
        assert.deepEqual((await runStack(subsetsRouted, [rule, routes])).messages, []);
    });
    it("reports a route to a missing subset and a subset no route uses", async () => {
        const routes = vs({
            hosts: [host],
            http: [
                {
                    route: [
                        { destination: { host, subset: "v1" }, weight: 50 },
                        { destination: { host, subset: "v3" }, weight: 50 },
                    ],
                },
            ],
        });
        const out = await runStack(subsetsRouted, [rule, routes]);
        assert.deepEqual(out.messages, [
            "VirtualService c1/virtualservice/helloworld routes to subset v3 of helloworld.sample.svc.cluster.local, which no DestinationRule in cluster c1 defines; list it in the service's `canary` in `istio-multicluster:services`",
            "DestinationRule c1/destinationrule/helloworld defines subset v2 of helloworld.sample.svc.cluster.local that no VirtualService routes to; give it a weight in the service's `canary` in `istio-multicluster:services` or remove it",
        ]);
    });
    it("does not call a subset unused while some route is unknown", async () => {
        const routes = vs({ hosts: [host], http: unknown });
        assert.deepEqual((await runStack(subsetsRouted, [rule, routes])).messages, []);
    });
});

describe("destination-rule-host-fqdn", () => {
    it("passes full service hosts, external names and wildcards", async () => {
        for (const h of [host, "httpbin.org", "api.partner.example.com", "*.example.com"]) {
            assert.deepEqual(
                (await runResource(destinationRuleHostQualified, dr({ host: h }))).messages,
                [],
                h,
            );
        }
    });
    it("reports short names", async () => {
        const messages = [];
        for (const h of [
            "helloworld",
            "helloworld.sample",
            "helloworld.sample.svc",
            "helloworld.sample.svc.cluster",
        ]) {
            messages.push(...(await runResource(destinationRuleHostQualified, dr({ host: h }))).messages);
        }
        const m = (h: string) =>
            `DestinationRule c1/destinationrule/helloworld host ${JSON.stringify(h)} is not fully qualified, so Istio resolves it against the rule's namespace; write ${host}`;
        assert.deepEqual(messages, [
            m("helloworld"),
            m("helloworld.sample"),
            m("helloworld.sample.svc"),
            m("helloworld.sample.svc.cluster"),
        ]);
    });
    it("skips unknown hosts", async () => {
        assert.deepEqual(
            (await runResource(destinationRuleHostQualified, dr({ host: unknown }))).messages,
            [],
        );
    });
});

describe("client-tls-not-disabled", () => {
    it("passes no TLS block and ISTIO_MUTUAL", async () => {
        for (const trafficPolicy of [{}, { tls: { mode: "ISTIO_MUTUAL" } }, { tls: { mode: unknown } }]) {
            assert.deepEqual(
                (await runResource(clientTlsNotDisabled, dr({ host, trafficPolicy }))).messages,
                [],
            );
        }
    });
    it("reports DISABLE at any level", async () => {
        const out = await runResource(
            clientTlsNotDisabled,
            dr({
                host,
                trafficPolicy: { tls: { mode: "DISABLE" } },
                subsets: [{ name: "v1", labels: {}, trafficPolicy: { tls: { mode: "DISABLE" } } }],
            }),
        );
        assert.deepEqual(out.messages, [
            "DestinationRule c1/destinationrule/helloworld sets trafficPolicy.tls.mode DISABLE, sending plain text; remove `tls` from the service in `istio-multicluster:services` (auto mTLS applies) or set another mode",
            "DestinationRule c1/destinationrule/helloworld sets subsets[0].trafficPolicy.tls.mode DISABLE, sending plain text; remove `tls` from the service in `istio-multicluster:services` (auto mTLS applies) or set another mode",
        ]);
    });
});

describe("ingress-tls-required", () => {
    it("passes HTTPS, an HTTP redirect, and leaves east-west Gateways alone", async () => {
        const https = {
            port: { number: 443, name: "https", protocol: "HTTPS" },
            tls: { mode: "SIMPLE", credentialName: "c" },
            hosts: ["hello.example.com"],
        };
        const redirect = {
            port: { number: 80, name: "http", protocol: "HTTP" },
            tls: { httpsRedirect: true },
            hosts: ["hello.example.com"],
        };
        assert.deepEqual((await runResource(ingressTlsRequired, gw([https, redirect]))).messages, []);
        assert.deepEqual(
            (await runResource(ingressTlsRequired, object("c1", crossNetworkGateway()))).messages,
            [],
        );
    });
    it("reports plain HTTP", async () => {
        const plain = { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["hello.example.com"] };
        assert.deepEqual((await runResource(ingressTlsRequired, gw([plain]))).messages, [
            "Gateway c1/gateway/hello.example.com servers[0] serves hello.example.com without TLS (HTTP); set `credentialName` on the host in `istio-multicluster:ingress`",
        ]);
    });
    it("skips unknown selectors and protocols", async () => {
        const plain = { port: { number: 80, name: "http", protocol: unknown }, hosts: ["h.example.com"] };
        assert.deepEqual((await runResource(ingressTlsRequired, gw([plain]))).messages, []);
        assert.deepEqual(
            (
                await runResource(
                    ingressTlsRequired,
                    gw([{ ...plain, port: { number: 80, protocol: "HTTP" } }], unknown),
                )
            ).messages,
            [],
        );
    });
});
