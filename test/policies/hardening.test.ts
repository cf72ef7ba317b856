import * as assert from "node:assert/strict";
import { networkPoliciesPresent, quotaCoversNeed, spreadSet } from "../../policies/hardening";
import { chart, FakeResource, gatewayValues, istiodValues, runStack, unknown } from "./harness";

const networkPolicy = (
    cluster: string,
    name: string,
    matchLabels: unknown,
    ports: number[],
): FakeResource => ({
    type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    name: `${cluster}-${name}`,
    cluster,
    props: {
        metadata: { name, namespace: "istio-system" },
        spec: {
            podSelector: { matchLabels },
            ingress: [{ ports: ports.map((port) => ({ protocol: "TCP", port })) }],
        },
    },
});
const istiodPolicy = (c: string) =>
    networkPolicy(c, "istiod-ingress", { app: "istiod" }, [15010, 15012, 15017]);
const gatewayPolicy = (c: string, ports = [15021, 15443]) =>
    networkPolicy(
        c,
        "istio-eastwestgateway-ingress",
        { app: "istio-eastwestgateway", istio: "eastwestgateway" },
        ports,
    );
const quota = (cluster: string, hard: Record<string, unknown>): FakeResource => ({
    type: "kubernetes:core/v1:ResourceQuota",
    name: `${cluster}-istio-system-quota`,
    cluster,
    props: { metadata: { namespace: "istio-system" }, spec: { hard } },
});
const spread = [{ topologyKey: "topology.kubernetes.io/zone" }, { topologyKey: "kubernetes.io/hostname" }];
const twoPrimaries = (extraIstiod = {}, extraGateway = {}) => [
    chart("a", "istiod", istiodValues("a", "na", extraIstiod)),
    chart("b", "istiod", istiodValues("b", "nb", extraIstiod)),
    chart("a", "gateway", gatewayValues("na", extraGateway)),
    chart("b", "gateway", gatewayValues("nb", extraGateway)),
];

describe("istio-system-network-policies", () => {
    it("passes when istiod and every east-west gateway have one that admits 15443", async () => {
        const out = await runStack(networkPoliciesPresent, [
            ...twoPrimaries(),
            istiodPolicy("a"),
            istiodPolicy("b"),
            gatewayPolicy("a"),
            gatewayPolicy("b"),
        ]);
        assert.deepEqual(out.messages, []);
    });

    it("reports a missing policy, and one that would drop the cross-network port", async () => {
        const out = await runStack(networkPoliciesPresent, [
            ...twoPrimaries(),
            istiodPolicy("a"),
            gatewayPolicy("a"),
            gatewayPolicy("b", [15021, 80, 443]),
            // In another namespace: does not count.
            {
                ...istiodPolicy("b"),
                props: { ...istiodPolicy("b").props, metadata: { namespace: "default" } },
            },
        ]);
        assert.deepEqual(out.messages, [
            "b-istiod: istiod of cluster b has no NetworkPolicy in istio-system; set `hardening.mode` to `full` " +
                "(or `light`), or remove `mode: off`",
            "b-eastwestgateway: no NetworkPolicy admits 15443 to the east-west gateway of b, so calls from other " +
                "networks are dropped; let the program's `hardening` write the policy",
        ]);
    });

    it("skips what is unknown at preview", async () => {
        const out = await runStack(networkPoliciesPresent, [
            ...twoPrimaries(),
            networkPolicy("a", "x", unknown, []),
            networkPolicy("b", "x", { app: "istiod" }, []),
            {
                ...gatewayPolicy("b"),
                props: {
                    ...gatewayPolicy("b").props,
                    spec: { podSelector: { matchLabels: { istio: "eastwestgateway" } }, ingress: unknown },
                },
            },
        ]);
        assert.deepEqual(out.messages, []);
    });
});

describe("istio-system-quota-covers-need", () => {
    // istiod 5 max + 100% surge = 10 x 500m/2Gi; gateway 5 + 2 = 7 x 500m/512Mi: 8500m, 24064Mi, 17 pods.
    it("passes a quota at or above the peak need", async () => {
        const out = await runStack(quotaCoversNeed, [
            chart("a", "istiod", istiodValues("a")),
            chart("a", "gateway", gatewayValues("na")),
            quota("a", { "requests.cpu": "8500m", "requests.memory": "24064Mi", pods: "17" }),
        ]);
        assert.deepEqual(out.messages, []);
    });

    it("reports a quota below the need (chart defaults where values are silent) and a cluster without one", async () => {
        const out = await runStack(quotaCoversNeed, [
            chart("a", "istiod", istiodValues("a")),
            chart("a", "gateway", gatewayValues("na")),
            quota("a", { "requests.cpu": "8", "requests.memory": "64Gi", pods: "16" }),
            // Nothing sized: istiod 10 x 500m/2048Mi, gateway 7 x 100m/128Mi = 5700m, 17 pods.
            chart("b", "istiod", { global: { multiCluster: { clusterName: "b" } } }),
            chart("b", "gateway", { name: "istio-eastwestgateway", networkGateway: "nb" }),
            quota("b", { "requests.cpu": "5", pods: "17" }),
            chart("c", "istiod", istiodValues("c")),
        ]);
        const tail = "need at maximum replicas plus surge; raise `hardening.quota` or remove it";
        assert.deepEqual(out.messages, [
            `a-istio-system-quota: requests.cpu 8 is below the 8500m istiod and the gateways of a ${tail}`,
            `a-istio-system-quota: pods 16 is below the 17 pods istiod and the gateways of a ${tail}`,
            `b-istio-system-quota: requests.cpu 5 is below the 5700m istiod and the gateways of b ${tail}`,
            "cluster c: istio-system has no ResourceQuota; set `hardening.mode: full`",
        ]);
    });

    it("skips unknown sizes and unknown quotas", async () => {
        const out = await runStack(quotaCoversNeed, [
            chart("a", "istiod", istiodValues("a", "na", { autoscaleMax: unknown })),
            quota("a", { pods: "1" }),
            chart("b", "istiod", istiodValues("b")),
            quota("b", { "requests.cpu": unknown }),
        ]);
        assert.deepEqual(out.messages, []);
    });
});

describe("control-plane-spread", () => {
    it("passes istiod and gateways spread across nodes; reports those that are not; skips unknowns", async () => {
        const ok = await runStack(
            spreadSet,
            twoPrimaries({ topologySpreadConstraints: spread }, { topologySpreadConstraints: spread }),
        );
        assert.deepEqual(ok.messages, []);
        const out = await runStack(spreadSet, [
            chart("a", "istiod", istiodValues("a", "na", { topologySpreadConstraints: [spread[0]] })),
            chart("a", "gateway", gatewayValues("na", { topologySpreadConstraints: unknown })),
            chart("b", "gateway", gatewayValues("nb")),
        ]);
        assert.deepEqual(out.messages, [
            "a-istiod: istiod of cluster a does not spread across nodes; a node loss can take every replica; set " +
                "`hardening.mode: full`",
            "b-eastwestgateway: gateway of cluster b does not spread across nodes; a node loss can take every " +
                "replica; set `hardening.mode: full`",
        ]);
    });
});
