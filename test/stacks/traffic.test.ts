/**
 * stacks/traffic/: the exact Istio objects each traffic setting compiles to, and every refusal with its
 * exact message and config path (all problems at once).
 */
import { strict as assert } from "node:assert";
import {
    canaryVirtualService,
    checkServiceNamespaces,
    clusterLocalHosts,
    destinationRule,
    GlobalService,
    ingressGateway,
    ingressGatewayValues,
    ingressVirtualService,
    objectResourceName,
    originationRules,
    serviceEntry,
    TrafficObject,
    trafficObjects,
    TrafficSpec,
    validateTraffic,
} from "../../stacks/traffic";
import { validateTopology } from "../../stacks/validate";
import { ClusterDoc, mesh, primary, rawConfig, remote } from "../support/fixtures";
import { labelledKey } from "../support/testPki";

const S = "istio-multicluster:services";
/** The application namespaces the tests' services live in (`istio-multicluster:namespaces`). */
const appNamespaces = ["sample", "data", "shop", "partners"].map((name) => ({ name }));
const E = "istio-multicluster:externalServices";
const I = "istio-multicluster:ingress";

/** cluster1 (region1) and cluster2 (region2), primaries on two networks; cluster3 a remote in region3. */
const clusters = (): ClusterDoc[] => [
    primary("cluster1", "network1", { region: "region1" }),
    primary("cluster2", "network2", { region: "region2" }),
    remote("cluster3", "cluster1", "network3", { region: "region3", zone: "zone-a" }),
];

function validate(
    keys: { services?: unknown; externalServices?: unknown; ingress?: unknown },
    cs = clusters(),
) {
    return validateTopology({ ...rawConfig(mesh(), cs), namespaces: appNamespaces, ...keys });
}

function traffic(keys: { services?: unknown; externalServices?: unknown; ingress?: unknown }): TrafficSpec {
    const result = validate(keys);
    if (!result.ok) assert.fail(`refused: ${result.errors.join("\n")}`);
    return result.topology.traffic!;
}

/** The seed: helloworld v1 in cluster1, v2 in cluster2, 80/20 locality distribution, 90/10 canary. */
const helloworld = () => ({
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
});

const host = "helloworld.sample.svc.cluster.local";
const outlier = { consecutive5xxErrors: 3, interval: "5s", baseEjectionTime: "30s", maxEjectionPercent: 50 };

describe("traffic: the seed's helloworld", () => {
    const t = traffic({ services: [helloworld()] });
    const svc = t.services[0]!;

    it("compiles to a DestinationRule with 80/20 distribution, outlier detection and the two subsets", () => {
        assert.deepEqual(destinationRule(svc), {
            apiVersion: "networking.istio.io/v1",
            kind: "DestinationRule",
            metadata: { name: "helloworld", namespace: "sample" },
            spec: {
                host,
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
                    outlierDetection: outlier,
                },
                subsets: [
                    { name: "v1", labels: { version: "v1" } },
                    { name: "v2", labels: { version: "v2" } },
                ],
            },
        });
    });

    it("compiles to a VirtualService splitting 90/10 between the subsets", () => {
        assert.deepEqual(canaryVirtualService(svc), {
            apiVersion: "networking.istio.io/v1",
            kind: "VirtualService",
            metadata: { name: "helloworld", namespace: "sample" },
            spec: {
                hosts: [host],
                http: [
                    {
                        match: [{ port: 5000 }],
                        route: [
                            { destination: { host, subset: "v1", port: { number: 5000 } }, weight: 90 },
                            { destination: { host, subset: "v2", port: { number: 5000 } }, weight: 10 },
                        ],
                    },
                ],
            },
        });
    });

    it("emits exactly those two objects, no TLS block, and no cluster-local host", () => {
        assert.deepEqual(
            trafficObjects(t).map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`),
            ["DestinationRule sample/helloworld", "VirtualService sample/helloworld"],
        );
        assert.equal("tls" in (destinationRule(svc).spec.trafficPolicy as object), false);
        assert.deepEqual(clusterLocalHosts(t), []);
    });
});

describe("traffic: failover, pools, TLS, canary by cluster", () => {
    it("turns a region order into failover pairs (each to the next, the last to the first) with priorities", () => {
        const t = traffic({
            services: [
                {
                    name: "api",
                    namespace: "shop",
                    ports: [
                        { number: 8080, protocol: "GRPC" },
                        { number: 9000, protocol: "TCP" },
                    ],
                    failover: {
                        order: ["region2", "region1", "region3"],
                        priority: ["topology.istio.io/network", "topology.istio.io/cluster"],
                    },
                    outlierDetection: { consecutive5xxErrors: 5, interval: "10s" },
                    connectionPool: { maxConnections: 100, http2MaxRequests: 1000, connectTimeout: "2s" },
                    tls: { mode: "ISTIO_MUTUAL", sni: "api.shop.example.com" },
                    canary: [
                        { subset: "east", cluster: "cluster1", weight: 50 },
                        { subset: "west", cluster: "cluster2", weight: 50 },
                    ],
                },
            ],
        });
        const svc = t.services[0]!;
        const h = "api.shop.svc.cluster.local";
        assert.deepEqual(destinationRule(svc).spec, {
            host: h,
            trafficPolicy: {
                connectionPool: {
                    tcp: { maxConnections: 100, connectTimeout: "2s" },
                    http: { http2MaxRequests: 1000 },
                },
                loadBalancer: {
                    localityLbSetting: {
                        enabled: true,
                        failover: [
                            { from: "region2", to: "region1" },
                            { from: "region1", to: "region3" },
                            { from: "region3", to: "region2" },
                        ],
                        failoverPriority: ["topology.istio.io/network", "topology.istio.io/cluster"],
                    },
                },
                outlierDetection: { ...outlier, consecutive5xxErrors: 5, interval: "10s" },
                tls: { mode: "ISTIO_MUTUAL", sni: "api.shop.example.com" },
            },
            subsets: [
                { name: "east", labels: { "topology.istio.io/cluster": "cluster1" } },
                { name: "west", labels: { "topology.istio.io/cluster": "cluster2" } },
            ],
        });
        const split = (port: number) => [
            { destination: { host: h, subset: "east", port: { number: port } }, weight: 50 },
            { destination: { host: h, subset: "west", port: { number: port } }, weight: 50 },
        ];
        assert.deepEqual(canaryVirtualService(svc)!.spec, {
            hosts: [h],
            http: [{ match: [{ port: 8080 }], route: split(8080) }],
            tcp: [{ match: [{ port: 9000 }], route: split(9000) }],
        });
    });

    it("emits only outlier detection for a plain service, and no VirtualService", () => {
        const t = traffic({
            services: [{ name: "db", namespace: "data", ports: [{ number: 5432, protocol: "TCP" }] }],
        });
        assert.deepEqual(destinationRule(t.services[0]!).spec, {
            host: "db.data.svc.cluster.local",
            trafficPolicy: { outlierDetection: outlier },
        });
        assert.equal(canaryVirtualService(t.services[0]!), undefined);
    });

    it("gives cluster-local hosts to istiod and keeps a failoverPriority-only service", () => {
        const t = traffic({
            services: [
                {
                    name: "cache",
                    namespace: "data",
                    ports: [{ number: 6379, protocol: "TCP" }],
                    clusterLocal: true,
                },
                {
                    name: "web",
                    namespace: "shop",
                    ports: [{ number: 80 }],
                    failover: { priority: ["topology.istio.io/network"] },
                },
            ],
        });
        assert.deepEqual(clusterLocalHosts(t), ["cache.data.svc.cluster.local"]);
        assert.deepEqual(
            (destinationRule(t.services[1]!).spec.trafficPolicy as Record<string, unknown>).loadBalancer,
            {
                localityLbSetting: { enabled: true, failoverPriority: ["topology.istio.io/network"] },
            },
        );
    });
});

describe("traffic: external services", () => {
    it("compiles DNS and STATIC ServiceEntries, and TLS origination per host", () => {
        const t = traffic({
            externalServices: [
                {
                    name: "httpbin",
                    hosts: ["httpbin.org"],
                    ports: [{ number: 80, protocol: "HTTP", targetPort: 443 }],
                    tls: { mode: "SIMPLE" },
                },
                {
                    name: "legacy-db",
                    namespace: "data",
                    hosts: ["db.legacy.internal"],
                    resolution: "STATIC",
                    endpoints: ["10.1.2.3", "10.1.2.4"],
                    ports: [{ number: 5432, name: "postgres", protocol: "TCP" }],
                },
            ],
        });
        const [httpbin, db] = t.externalServices;
        assert.deepEqual(serviceEntry(httpbin!), {
            apiVersion: "networking.istio.io/v1",
            kind: "ServiceEntry",
            metadata: { name: "httpbin", namespace: "istio-system" },
            spec: {
                hosts: ["httpbin.org"],
                location: "MESH_EXTERNAL",
                resolution: "DNS",
                ports: [{ number: 80, name: "http-80", protocol: "HTTP", targetPort: 443 }],
            },
        });
        assert.deepEqual(originationRules(httpbin!), [
            {
                apiVersion: "networking.istio.io/v1",
                kind: "DestinationRule",
                metadata: { name: "httpbin.org", namespace: "istio-system" },
                spec: { host: "httpbin.org", trafficPolicy: { tls: { mode: "SIMPLE", sni: "httpbin.org" } } },
            },
        ]);
        assert.deepEqual(serviceEntry(db!).spec, {
            hosts: ["db.legacy.internal"],
            location: "MESH_EXTERNAL",
            resolution: "STATIC",
            ports: [{ number: 5432, name: "postgres", protocol: "TCP" }],
            endpoints: [{ address: "10.1.2.3" }, { address: "10.1.2.4" }],
        });
        assert.deepEqual(originationRules(db!), []);
    });
});

describe("traffic: ingress", () => {
    const t = traffic({
        services: [
            helloworld(),
            { name: "shop", namespace: "shop", ports: [{ number: 8080, protocol: "HTTP" }] },
        ],
        ingress: {
            sourceRanges: ["203.0.113.0/24"],
            autoscale: { min: 2, max: 4 },
            pdb: true,
            hosts: [
                { host: "hello.example.com", service: "helloworld", credentialName: "hello-tls" },
                { host: "shop.example.com", service: "shop", namespace: "shop", port: 8080 },
            ],
        },
    });
    const [hello, shop] = t.ingress!.hosts;

    it("defaults to every primary and takes the east-west gateway's service options", () => {
        assert.deepEqual(t.ingress!.clusters, ["cluster1", "cluster2"]);
        assert.deepEqual(ingressGatewayValues(t.ingress!, "1-30-3"), {
            name: "istio-ingressgateway",
            revision: "1-30-3",
            labels: { istio: "ingressgateway" },
            service: { type: "LoadBalancer", loadBalancerSourceRanges: ["203.0.113.0/24"] },
            autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4 },
            podDisruptionBudget: { maxUnavailable: 1 },
        });
    });

    it("serves a host with a credential on HTTPS and routes it through the canary's weights", () => {
        assert.deepEqual(ingressGateway(hello!), {
            apiVersion: "networking.istio.io/v1",
            kind: "Gateway",
            metadata: { name: "hello.example.com", namespace: "istio-system" },
            spec: {
                selector: { istio: "ingressgateway" },
                servers: [
                    {
                        port: { number: 443, name: "https", protocol: "HTTPS" },
                        tls: { mode: "SIMPLE", credentialName: "hello-tls" },
                        hosts: ["hello.example.com"],
                    },
                ],
            },
        });
        assert.deepEqual(ingressVirtualService(hello!), {
            apiVersion: "networking.istio.io/v1",
            kind: "VirtualService",
            metadata: { name: "hello.example.com", namespace: "istio-system" },
            spec: {
                hosts: ["hello.example.com"],
                gateways: ["hello.example.com"],
                http: [
                    {
                        route: [
                            { destination: { host, subset: "v1", port: { number: 5000 } }, weight: 90 },
                            { destination: { host, subset: "v2", port: { number: 5000 } }, weight: 10 },
                        ],
                    },
                ],
            },
        });
    });

    it("serves a host without a credential on plain HTTP, routed to the service", () => {
        assert.deepEqual(ingressGateway(shop!).spec, {
            selector: { istio: "ingressgateway" },
            servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["shop.example.com"] }],
        });
        assert.deepEqual(ingressVirtualService(shop!).spec.http, [
            { route: [{ destination: { host: "shop.shop.svc.cluster.local", port: { number: 8080 } } }] },
        ]);
    });
});

describe("traffic: refusals", () => {
    const svc = (extra: Record<string, unknown>) => ({ ...helloworld(), ...extra });
    const rows: [string, Parameters<typeof validate>[0], string[]][] = [
        [
            "duplicate services, unknown region, bad ports",
            {
                services: [
                    helloworld(),
                    svc({
                        ports: [{ number: 0 }, { number: 70000, protocol: "UDP" }],
                        distribute: undefined,
                        failover: { order: ["region1", "mars", "region1"] },
                    }),
                ],
            },
            [
                `${S}[1].ports[0].number: must be a whole number from 1 to 65535, got 0`,
                `${S}[1].ports[1].number: must be a whole number from 1 to 65535, got 70000`,
                `${S}[1].ports[1].protocol: "UDP" is not one of: HTTP, HTTP2, GRPC, TCP`,
                `${S}[1].failover.order[1]: "mars" is not the region of any cluster; regions are: region1, region2, region3`,
                `${S}[1].failover.order[2]: "region1" is listed twice; list each region once`,
                `${S}[1].name: "helloworld" in namespace sample is already services[0]; merge the two entries`,
            ],
        ],
        [
            "weights out of range and not summing to 100, unknown cluster and locality",
            {
                services: [
                    svc({
                        distribute: [{ from: "region9/*", to: { "region1/*": 101, "region2/*": 20 } }],
                        canary: [
                            { subset: "a", cluster: "cluster9", weight: 90 },
                            { subset: "b", labels: { version: "v2" }, weight: 20 },
                            { subset: "c", labels: { version: "v3" }, cluster: "cluster1", weight: -1 },
                        ],
                    }),
                ],
            },
            [
                `${S}[0].distribute[0].from: region "region9" is not the region of any cluster; regions are: region1, region2, region3`,
                `${S}[0].distribute[0].to.region1/*: must be a whole number from 1 to 100, got 101`,
                `${S}[0].canary[0].cluster: "cluster9" is not a cluster of the mesh; clusters are: cluster1, cluster2, cluster3`,
                `${S}[0].canary[2].weight: must be a whole number from 0 to 100, got -1`,
                `${S}[0].canary[2]: set exactly one of \`labels\` (workload labels such as \`version: v2\`) or \`cluster\` (a cluster name)`,
            ],
        ],
        [
            "weights summing to something else, distribute with failover, locality labels beside order",
            {
                services: [
                    svc({
                        distribute: [{ from: "region1", to: { region1: 70, region2: 20 } }],
                        failover: {
                            order: ["region1", "region2"],
                            priority: ["topology.kubernetes.io/zone"],
                        },
                        canary: [
                            { subset: "v1", labels: { version: "v1" }, weight: 80 },
                            { subset: "v2", labels: { version: "v2" }, weight: 10 },
                        ],
                        outlierDetection: { consecutive5xxErrors: 0, interval: "5 seconds" },
                    }),
                ],
            },
            [
                `${S}[0].failover.priority[0]: "topology.kubernetes.io/zone" cannot be combined with \`failover.order\` (Istio refuses it); order regions in \`order\` and drop it here`,
                `${S}[0].distribute: cannot be combined with \`failover.order\` (Istio refuses both); keep one`,
                `${S}[0].distribute[0].to: weights sum to 90; make them sum to 100`,
                `${S}[0].canary: weights sum to 90; make them sum to 100`,
                `${S}[0].outlierDetection.consecutive5xxErrors: must be a whole number from 1 to 1000, got 0`,
                `${S}[0].outlierDetection.interval: "5 seconds" is not a duration such as 5s, 500ms or 1m30s`,
            ],
        ],
        [
            "bad names, namespace, missing ports, cluster-local with failover, TLS without mode",
            {
                services: [
                    {
                        name: "Hello",
                        namespace: "sample_ns",
                        clusterLocal: true,
                        failover: { order: ["region1", "region2"] },
                        tls: { sni: "x.example.com" },
                    },
                ],
            },
            [
                `${S}[0].name: "Hello" is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)`,
                `${S}[0].namespace: "sample_ns" is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)`,
                `${S}[0].ports: required; list the service's ports, e.g. \`[{ number: 5000, protocol: HTTP }]\``,
                `${S}[0].failover: a cluster-local service never leaves its cluster; remove it or \`clusterLocal\``,
                `${S}[0].tls.mode: required; set DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL (or remove \`tls\`: auto mTLS already uses ISTIO_MUTUAL)`,
            ],
        ],
        [
            "external: an IP with DNS resolution, STATIC without endpoints, bad port, duplicate host",
            {
                externalServices: [
                    { name: "a", hosts: ["192.0.2.1"], ports: [{ number: 443, protocol: "TLS" }] },
                    {
                        name: "b",
                        hosts: ["b.example.com"],
                        resolution: "STATIC",
                        ports: [{ number: 65536, protocol: "TCP" }],
                    },
                    {
                        name: "c",
                        hosts: ["b.example.com"],
                        ports: [{ number: 80, protocol: "HTTP" }],
                        endpoints: ["10.0.0.1"],
                        tls: { mode: "MUTUAL" },
                    },
                    { name: "a", hosts: ["a.example.com"], ports: [{ number: 80 }] },
                    {
                        name: "d",
                        hosts: ["d.example.com"],
                        ports: [{ number: 443, protocol: "TLS" }],
                        tls: { mode: "SIMPLE" },
                    },
                ],
            },
            [
                `${E}[0].hosts[0]: "192.0.2.1" is an IP address, which DNS resolution cannot resolve; use its DNS name, or \`resolution: STATIC\` with the address in \`endpoints\``,
                `${E}[1].ports[0].number: must be a whole number from 1 to 65535, got 65536`,
                `${E}[1].endpoints: required with \`resolution: STATIC\`; list the IP addresses behind the hosts`,
                `${E}[2].endpoints: only with \`resolution: STATIC\`; remove it (DNS resolves the hosts) or set STATIC`,
                `${E}[2].tls.credentialName: required with mode MUTUAL; name the Secret holding the client certificate and key`,
                `${E}[2].hosts[0]: "b.example.com" is already a host of externalServices[1]; declare each host once`,
                `${E}[3].ports[0].protocol: required; set one of: HTTP, HTTPS, HTTP2, GRPC, TCP, TLS`,
                `${E}[3].name: "a" in namespace istio-system is already externalServices[0]; names must be unique`,
                `${E}[4].tls: originates TLS, but port 443 (TLS) already carries the caller's TLS; give that port protocol HTTP (with targetPort 443) or TCP, or remove \`tls\``,
            ],
        ],
        [
            "ingress: unknown cluster and service, NodePort with ranges, a TCP port",
            {
                services: [{ name: "db", namespace: "data", ports: [{ number: 5432, protocol: "TCP" }] }],
                ingress: {
                    clusters: ["cluster1", "nowhere"],
                    serviceType: "NodePort",
                    sourceRanges: ["10.0.0.0/8"],
                    hosts: [
                        { host: "db.example.com", service: "db" },
                        { host: "x.example.com", service: "missing" },
                        { host: "not a host", service: "db", port: 5432 },
                    ],
                },
            },
            [
                `${I}.clusters[1]: "nowhere" is not a cluster of the mesh; clusters are: cluster1, cluster2, cluster3`,
                `${I}.sourceRanges: Kubernetes refuses loadBalancerSourceRanges on a NodePort Service; remove it or use a LoadBalancer`,
                `${I}.hosts[0].service: "db" has no HTTP, HTTP2 or GRPC port; ingress routes HTTP`,
                `${I}.hosts[1].service: "missing" is not one of istio-multicluster:services; services are: data/db`,
                `${I}.hosts[2].host: "not a host" is not a fully qualified DNS name such as hello.example.com`,
                `${I}.hosts[2].port: 5432 is not an HTTP, HTTP2 or GRPC port of db; its ports are: 5432 (TCP)`,
            ],
        ],
        [
            "wrong shapes",
            { services: { helloworld: {} }, externalServices: "none", ingress: [] },
            [
                `${S}: must be a list of services, got a map`,
                `${E}: must be a list of external services, got "none"`,
                `${I}: must be a map, got a list of 0`,
            ],
        ],
    ];
    for (const [name, keys, errors] of rows) {
        it(`refuses ${name}, with every problem and its path`, () => {
            const result = validate(keys);
            assert.equal(result.ok, false);
            assert.deepEqual(!result.ok && result.errors, errors);
        });
    }

    it("refuses a failover order when no cluster declares a region, and a zone without a region", () => {
        const cs = [primary("cluster1", "network1", { zone: "z1" }), primary("cluster2", "network2")];
        const result = validate(
            { services: [svc({ distribute: undefined, failover: { order: ["region1", "region2"] } })] },
            cs,
        );
        assert.deepEqual(!result.ok && result.errors, [
            "istio-multicluster:clusters[0].zone: needs `region`; set the region too",
            `${S}[0].failover.order[0]: "region1" is not the region of any cluster; regions are: none (set \`region\` on the clusters in istio-multicluster:clusters)`,
            `${S}[0].failover.order[1]: "region2" is not the region of any cluster; regions are: none (set \`region\` on the clusters in istio-multicluster:clusters)`,
        ]);
    });

    it("reads a cluster's region and zone, and refuses one that is not a label value", () => {
        const ok = validate({});
        assert.ok(ok.ok);
        assert.deepEqual(
            ok.topology.clusters.map((c) => [c.name, c.region, c.zone]),
            [
                ["cluster1", "region1", undefined],
                ["cluster2", "region2", undefined],
                ["cluster3", "region3", "zone-a"],
            ],
        );
        const bad = validate({}, [primary("cluster1", "network1", { region: "us east" })]);
        assert.deepEqual(!bad.ok && bad.errors, [
            `istio-multicluster:clusters[0].region: "us east" is not a Kubernetes label value (the nodes' region)`,
        ]);
    });

    it("leaves the topology without traffic when none of the keys is set", () => {
        const result = validate({});
        assert.equal(result.ok && result.topology.traffic, undefined);
        assert.deepEqual(validateTraffic({}, []), { errors: [] });
    });
});

describe("traffic: namespaces cross-check (istio-multicluster:namespaces)", () => {
    const services = traffic({
        services: [helloworld(), { name: "db", namespace: "data", ports: [{ number: 1 }] }],
    }).services as GlobalService[];
    it("reports services in a namespace the mesh does not declare", () => {
        assert.deepEqual(checkServiceNamespaces(services, ["sample", "shop"]), [
            `${S}[1].namespace: "data" is not one of istio-multicluster:namespaces (sample, shop); add it there or move the service`,
        ]);
        assert.deepEqual(checkServiceNamespaces(services, ["sample", "data"]), []);
    });
    it("checks external services outside istio-system too, and runs inside validateTraffic", () => {
        const externals = [
            {
                name: "a",
                namespace: "istio-system",
                hosts: ["a.example.com"],
                resolution: "DNS" as const,
                ports: [],
                index: 0,
            },
            {
                name: "b",
                namespace: "partners",
                hosts: ["b.example.com"],
                resolution: "DNS" as const,
                ports: [],
                index: 1,
            },
        ];
        assert.deepEqual(checkServiceNamespaces([], ["sample"], externals), [
            `${E}[1].namespace: "partners" is not one of istio-multicluster:namespaces (sample); add it there or move the service`,
        ]);
        const raw = { services: [helloworld()] };
        const valid = validate({});
        assert.ok(valid.ok);
        const cs = valid.topology.clusters;
        assert.deepEqual(validateTraffic(raw, cs, ["shop"]).errors, [
            `${S}[0].namespace: "sample" is not one of istio-multicluster:namespaces (shop); add it there or move the service`,
        ]);
        assert.deepEqual(validateTraffic(raw, cs, ["sample"]).errors, []);
        assert.deepEqual(validateTraffic(raw, cs).errors, []);
    });
    it("checks nothing while the namespaces are not known, and refuses every service when none is declared", () => {
        assert.deepEqual(checkServiceNamespaces(services, undefined), []);
        assert.deepEqual(
            checkServiceNamespaces(services, []).map((m) => m.split(": ").slice(1).join(": ")),
            services.map(
                (s) =>
                    `${JSON.stringify(s.namespace)} is not one of istio-multicluster:namespaces (none is declared); ` +
                    "add it there or move the service",
            ),
        );
    });
});

describe("traffic: resource names", () => {
    it("never collide, whatever the cluster, kind, namespace and name (every combination of tricky parts)", () => {
        // Parts that would collide under a '-' or '.' separator: "a-b" + "c" against "a" + "b-c", and so on.
        const labels = ["a", "b", "a-b", "b-c", "c", "a-b-c", "destinationrule", "sample"];
        const names = [...labels, "a.b", "a-b.c", "a.b-c", "b.c"];
        const kinds = ["DestinationRule", "VirtualService", "ServiceEntry", "Gateway"] as const;
        const seen = new Map<string, string>();
        for (const cluster of labels)
            for (const kind of kinds)
                for (const namespace of labels)
                    for (const name of names) {
                        const o: TrafficObject = {
                            apiVersion: "networking.istio.io/v1",
                            kind,
                            metadata: { name, namespace },
                            spec: {},
                        };
                        const id = `${cluster} ${kind} ${namespace} ${name}`;
                        const key = objectResourceName(cluster, o);
                        assert.equal(seen.get(key), undefined, `${id} and ${seen.get(key)} share ${key}`);
                        seen.set(key, id);
                    }
        assert.equal(seen.size, labels.length * kinds.length * labels.length * names.length);
    });
});

describe("traffic: messages share the validator's rules", () => {
    it("refuses key material and malformed keys in ingress annotations, and never echoes a long value whole", () => {
        // A real key made at test time (test/support/testPki.ts): no key material is committed.
        const key = labelledKey("ANNOTATED");
        const body = key.split("\n")[1]!;
        const long = "a".repeat(5000);
        const result = validate({
            services: [{ name: long, namespace: "sample", ports: [{ number: 5000 }] }],
            ingress: {
                serviceAnnotations: { "example.com/cert": key, "bad key!": "x" },
                hosts: [{ host: "hello.example.com", service: "helloworld" }],
            },
        });
        assert.equal(result.ok, false);
        const errors = result.ok ? [] : result.errors;
        assert.ok(
            errors.includes(
                `${I}.serviceAnnotations["example.com/cert"]: holds a private key (not shown); key material never goes in an annotation`,
            ),
            errors.join("\n"),
        );
        assert.ok(
            errors.some((e) =>
                e.startsWith(`${I}.serviceAnnotations["bad key!"]: is not a valid annotation key`),
            ),
        );
        assert.ok(
            errors.includes(
                `${S}[0].name: "${"a".repeat(40)}…" (5000 characters) is longer than 63 characters`,
            ),
            errors.join("\n"),
        );
        for (const e of errors) {
            assert.ok(!e.includes(body), e);
            assert.ok(e.length < 400, e);
        }
    });
});
