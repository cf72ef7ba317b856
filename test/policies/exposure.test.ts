import * as assert from "node:assert/strict";
import {
    eastWestGatewayPorts,
    eastWestGatewayRestricted,
    istioSystemNetworkLabel,
} from "../../policies/exposure";
import { crossNetworkGateway, istiodGateway, istiodVirtualService } from "../../stacks/istioObjects";
import { chart, FakeResource, gatewayValues, istiodValues, runResource, runStack, unknown } from "./harness";

const namespace = (cluster: string, labels: unknown): FakeResource => ({
    type: "kubernetes:core/v1:Namespace",
    name: `${cluster}-istio-system`,
    cluster,
    props: { metadata: { name: "istio-system", labels } },
});
const istioObject = (
    cluster: string,
    o: { apiVersion: string; kind: string; metadata: unknown; spec: unknown },
): FakeResource => ({
    type: `kubernetes:networking.istio.io/v1:${o.kind}`,
    name: `${cluster}-${o.kind}`,
    cluster,
    props: { ...o },
});

describe("istio-system-network-label", () => {
    it("passes a namespace labelled with istiod's network", async () => {
        const out = await runStack(istioSystemNetworkLabel, [
            namespace("a", { "topology.istio.io/network": "n1" }),
            chart("a", "istiod", istiodValues("a", "n1")),
        ]);
        assert.deepEqual(out.messages, []);
    });
    it("reports a missing or different label", async () => {
        const out = await runStack(istioSystemNetworkLabel, [
            namespace("a", undefined),
            chart("a", "istiod", istiodValues("a", "n1")),
            namespace("b", { "topology.istio.io/network": "n1" }),
            chart("b", "istiod", istiodValues("b", "n2")),
        ]);
        assert.deepEqual(out.messages, [
            "namespace a-istio-system has topology.istio.io/network=null but istiod in cluster a is on network n1; set the cluster's `clusters[].network` once: the program labels istio-system and configures istiod from it",
            'namespace b-istio-system has topology.istio.io/network="n1" but istiod in cluster b is on network n2; set the cluster\'s `clusters[].network` once: the program labels istio-system and configures istiod from it',
        ]);
    });
    it("skips unknown labels", async () => {
        const out = await runStack(istioSystemNetworkLabel, [
            namespace("a", unknown),
            chart("a", "istiod", istiodValues("a", "n1")),
        ]);
        assert.deepEqual(out.messages, []);
    });
});

describe("east-west-gateway-ports", () => {
    it("passes the program's Gateways, VirtualService and chart ports", async () => {
        for (const o of [
            crossNetworkGateway(),
            istiodGateway(),
            istiodVirtualService("1-30-3"),
            istiodVirtualService(),
        ]) {
            assert.deepEqual((await runResource(eastWestGatewayPorts, istioObject("a", o))).messages, []);
        }
        const ports = [15021, 15012, 15017].map((port) => ({ name: `p${port}`, port, targetPort: port }));
        const single = chart(
            "a",
            "gateway",
            gatewayValues("n", { networkGateway: undefined, service: { type: "LoadBalancer", ports } }),
        );
        assert.deepEqual((await runResource(eastWestGatewayPorts, single)).messages, []);
    });
    it("reports wrong TLS modes, protocols and ports on Gateways", async () => {
        const gw = istiodGateway();
        const servers = [
            {
                port: { number: 15443, name: "tls", protocol: "TLS" },
                tls: { mode: "SIMPLE" },
                hosts: ["*.local"],
            },
            {
                port: { number: 15012, name: "tls-istiod", protocol: "HTTP" },
                tls: { mode: "PASSTHROUGH" },
                hosts: ["*"],
            },
            { port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] },
        ];
        const out = await runResource(
            eastWestGatewayPorts,
            istioObject("a", { ...gw, spec: { ...gw.spec, servers } }),
        );
        assert.deepEqual(out.messages, [
            'Gateway a-Gateway port 15443 has tls.mode "SIMPLE"; set AUTO_PASSTHROUGH so the gateway never terminates mesh mTLS',
            "Gateway a-Gateway port 15012 has protocol HTTP; set protocol TLS",
            "Gateway a-Gateway serves port 8080 on the east-west gateway; serve only 15443, 15012, 15017",
        ]);
    });
    it("reports a VirtualService routing the webhook elsewhere, and missing or extra chart ports", async () => {
        const vs = istiodVirtualService();
        const tls = [
            {
                match: [{ port: 15017, sniHosts: ["*"] }],
                route: [{ destination: { host: "istiod", port: { number: 15017 } } }],
            },
        ];
        assert.deepEqual(
            (await runResource(eastWestGatewayPorts, istioObject("a", { ...vs, spec: { ...vs.spec, tls } })))
                .messages,
            ["VirtualService a-VirtualService routes 15017 to istiod:15017; route it to istiod:443"],
        );
        const ports = [
            { port: 15021, targetPort: 15021 },
            { port: 15443, targetPort: 15444 },
            { port: 80, targetPort: 80 },
        ];
        const gw = chart(
            "a",
            "gateway",
            gatewayValues("n", {
                networkGateway: undefined,
                service: { type: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/8"], ports },
            }),
        );
        assert.deepEqual((await runResource(eastWestGatewayPorts, gw)).messages, [
            "east-west gateway a-eastwestgateway does not expose 15012 (tls-istiod); add it",
            "east-west gateway a-eastwestgateway does not expose 15017 (tls-webhook); add it",
            "east-west gateway a-eastwestgateway maps port 15443 to 15444; set targetPort 15443",
            "east-west gateway a-eastwestgateway exposes port 80; expose only 15021, 15443, 15012, 15017",
        ]);
        // No network and no service.ports: the chart's default ports (15021, 80, 443) are no east-west gateway's.
        const defaults = chart("a", "gateway", gatewayValues("n", { networkGateway: undefined }));
        assert.deepEqual((await runResource(eastWestGatewayPorts, defaults)).messages, [
            "east-west gateway a-eastwestgateway does not expose 15012 (tls-istiod); add it",
            "east-west gateway a-eastwestgateway does not expose 15017 (tls-webhook); add it",
            "east-west gateway a-eastwestgateway exposes port 80; expose only 15021, 15443, 15012, 15017",
            "east-west gateway a-eastwestgateway exposes port 443; expose only 15021, 15443, 15012, 15017",
        ]);
    });
    it("passes a network gateway on the chart's networkGatewayPorts, defaulted or restated", async () => {
        const network = (extra: Record<string, unknown>) => chart("a", "gateway", gatewayValues("n", extra));
        const restated = {
            "status-port": { port: 15021, targetPort: 15021 },
            tls: { port: 15443, targetPort: 15443, protocol: "TCP" },
            "tls-istiod": { port: 15012 },
            "tls-webhook": { port: 15017, targetPort: 15017 },
        };
        for (const r of [
            network({}),
            network({ networkGatewayPorts: {} }),
            network({ networkGatewayPorts: restated }),
            network({ networkGatewayPorts: { tls: { port: 15443, targetPort: 15443 } } }),
            // service.ports is not what the chart exposes once networkGateway is set.
            network({ service: { type: "LoadBalancer", ports: [{ port: 80, targetPort: 80 }] } }),
        ]) {
            assert.deepEqual((await runResource(eastWestGatewayPorts, r)).messages, []);
        }
    });
    it("reports a networkGatewayPorts override that moves, removes or adds a port", async () => {
        const gw = chart(
            "a",
            "gateway",
            gatewayValues("n", {
                networkGatewayPorts: {
                    "status-port": { port: 15021, targetPort: 15021 },
                    tls: { port: 443, targetPort: 15443 },
                    "tls-istiod": { port: 15012, targetPort: 15010 },
                    "tls-webhook": null,
                    http: { port: 80, targetPort: 8080 },
                },
            }),
        );
        assert.deepEqual((await runResource(eastWestGatewayPorts, gw)).messages, [
            "east-west gateway a-eastwestgateway sets networkGatewayPorts.tls to port 443, targetPort 15443; set both to 15443 (or remove the override: the chart's default is right)",
            "east-west gateway a-eastwestgateway sets networkGatewayPorts.tls-istiod to port 15012, targetPort 15010; set both to 15012 (or remove the override: the chart's default is right)",
            "east-west gateway a-eastwestgateway removes networkGatewayPorts.tls-webhook, so it does not expose 15017 (tls-webhook); remove that override to keep the chart's port 15017",
            "east-west gateway a-eastwestgateway adds networkGatewayPorts.http (port 80); expose only 15021, 15443, 15012, 15017",
        ]);
    });
    it("skips unknown servers and ports", async () => {
        const gw = istiodGateway();
        assert.deepEqual(
            (
                await runResource(
                    eastWestGatewayPorts,
                    istioObject("a", { ...gw, spec: { ...gw.spec, servers: unknown } }),
                )
            ).messages,
            [],
        );
        for (const extra of [
            { networkGateway: undefined, service: { ports: unknown } },
            { networkGateway: undefined, service: { ports: [{ port: unknown, targetPort: 15021 }] } },
            { networkGateway: unknown },
            { networkGatewayPorts: unknown },
            { networkGatewayPorts: { tls: unknown, "tls-istiod": { port: unknown, targetPort: 15012 } } },
        ]) {
            const chartGw = chart("a", "gateway", gatewayValues("n", extra));
            assert.deepEqual(await runResource(eastWestGatewayPorts, chartGw), {
                messages: [],
                urns: [],
                couldNotRun: false,
            });
        }
    });
});

describe("east-west-gateway-restricted", () => {
    const gw = (service: unknown) => chart("a", "gateway", gatewayValues("n", { service }));
    it("passes source ranges, or an internal load balancer", async () => {
        assert.deepEqual(
            (
                await runResource(
                    eastWestGatewayRestricted,
                    gw({ type: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/8"] }),
                )
            ).messages,
            [],
        );
        const internal = gw({
            type: "LoadBalancer",
            annotations: { "networking.gke.io/load-balancer-type": "Internal" },
        });
        assert.deepEqual((await runResource(eastWestGatewayRestricted, internal)).messages, []);
    });
    it("reports an open load balancer (also by default), 0.0.0.0/0, and NodePort", async () => {
        const msgs = async (service: unknown) =>
            (await runResource(eastWestGatewayRestricted, gw(service))).messages;
        const open =
            "east-west gateway a-eastwestgateway is a public load balancer open to anyone; set `mesh.eastWest.sourceRanges` (or a cluster's `eastWest.sourceRanges`) to the other clusters' ranges, or make it internal with `eastWest.serviceAnnotations`";
        assert.deepEqual(await msgs({ type: "LoadBalancer" }), [open]);
        assert.deepEqual(await msgs({}), [open]);
        assert.deepEqual(await msgs({ loadBalancerSourceRanges: ["0.0.0.0/0"] }), [
            "east-west gateway a-eastwestgateway allows 0.0.0.0/0; set `eastWest.sourceRanges` to the other clusters' egress ranges only",
        ]);
        assert.deepEqual(await msgs({ type: "NodePort" }), [
            "east-west gateway a-eastwestgateway is a NodePort Service, open on every node; set `mesh.eastWest.serviceType` to LoadBalancer with `eastWest.sourceRanges` or an internal load balancer (`eastWest.serviceAnnotations`), or accept NodePort in this policy's config (`allowNodePort: true`)",
        ]);
    });
    it("config override: allowNodePort", async () => {
        assert.deepEqual(
            (await runResource(eastWestGatewayRestricted, gw({ type: "NodePort" }), { allowNodePort: true }))
                .messages,
            [],
        );
    });
    it("skips unknown ranges and annotations", async () => {
        assert.deepEqual(
            (
                await runResource(
                    eastWestGatewayRestricted,
                    gw({ type: "LoadBalancer", loadBalancerSourceRanges: unknown }),
                )
            ).messages,
            [],
        );
        assert.deepEqual((await runResource(eastWestGatewayRestricted, gw({ type: unknown }))).messages, []);
    });
});
