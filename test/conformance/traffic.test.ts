/**
 * Every traffic object and the ingress gateway's release, checked against Istio 1.30.3's own data: objects
 * against their CRD schemas, the ingress values against the gateway chart's values and `values.schema.json`,
 * the cluster-local `meshConfig.serviceSettings` against the istiod chart. Run over a config that sets every
 * traffic knob, in a mesh with a revision, so that no emitted shape goes unchecked.
 */
import { strict as assert } from "node:assert";
import { Plan, plainInputs, plan } from "../../tools/planner";
import { trafficObjects, validateTraffic } from "../../stacks/traffic";
import { validateTopology } from "../../stacks/validate";
import { mesh, primary, rawConfig, remote, stackConfig } from "../support/fixtures";
import { unknownValuePaths, validateGatewayValues, validateIstioObject } from "../support/istioSchemas";

const clusters = [
    primary("c1", "n1", { region: "us-east", zone: "us-east-1a" }),
    primary("c2", "n2", { region: "eu-west" }),
    remote("c3", "c1", "n3", { region: "ap-south" }),
];

const everyKnob = {
    namespaces: ["sample", "data", "shop"].map((name) => ({ name })),
    services: [
        {
            name: "helloworld",
            namespace: "sample",
            ports: [{ number: 5000, protocol: "HTTP" }],
            distribute: [
                { from: "us-east/*", to: { "us-east/*": 80, "eu-west/*": 20 } },
                { from: "eu-west", to: { "eu-west": 80, "us-east/us-east-1a": 20 } },
            ],
            canary: [
                { subset: "v1", labels: { version: "v1" }, weight: 90 },
                { subset: "v2", labels: { version: "v2" }, weight: 10 },
            ],
        },
        {
            name: "api",
            namespace: "shop",
            ports: [
                { number: 8080, protocol: "GRPC" },
                { number: 8081, protocol: "HTTP2" },
                { number: 9000, protocol: "TCP" },
            ],
            failover: {
                order: ["us-east", "eu-west", "ap-south"],
                priority: ["topology.istio.io/network", "topology.istio.io/cluster"],
            },
            outlierDetection: {
                consecutive5xxErrors: 5,
                interval: "10s",
                baseEjectionTime: "1m",
                maxEjectionPercent: 30,
            },
            connectionPool: {
                maxConnections: 100,
                connectTimeout: "2s",
                http1MaxPendingRequests: 10,
                http2MaxRequests: 1000,
                maxRequestsPerConnection: 5,
                maxRetries: 3,
            },
            tls: { mode: "MUTUAL", sni: "api.shop.example.com", credentialName: "api-client" },
            canary: [
                { subset: "east", cluster: "c1", weight: 70 },
                { subset: "west", cluster: "c2", weight: 30 },
            ],
        },
        {
            name: "cache",
            namespace: "data",
            ports: [{ number: 6379, protocol: "TCP" }],
            clusterLocal: true,
            tls: { mode: "ISTIO_MUTUAL" },
        },
    ],
    externalServices: [
        {
            name: "httpbin",
            hosts: ["httpbin.org", "www.httpbin.org"],
            ports: [{ number: 80, protocol: "HTTP", targetPort: 443 }],
            tls: { mode: "SIMPLE" },
        },
        {
            name: "partner",
            namespace: "shop",
            hosts: ["partner.example.com"],
            ports: [{ number: 80, name: "http", protocol: "HTTP", targetPort: 443 }],
            tls: { mode: "MUTUAL", credentialName: "partner-client", sni: "partner.example.com" },
        },
        {
            name: "legacy-db",
            namespace: "data",
            hosts: ["db.legacy.internal"],
            resolution: "STATIC",
            endpoints: ["10.1.2.3", "fd00::1"],
            ports: [
                { number: 5432, protocol: "TCP" },
                { number: 8443, protocol: "HTTPS" },
            ],
        },
    ],
    ingress: {
        clusters: ["c1", "c2", "c3"],
        serviceType: "LoadBalancer",
        sourceRanges: ["203.0.113.0/24", "2001:db8::/32"],
        serviceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
        autoscale: { min: 2, max: 6 },
        pdb: true,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } },
        hosts: [
            { host: "hello.example.com", service: "helloworld", credentialName: "hello-tls" },
            { host: "api.example.com", service: "api", port: 8081, credentialName: "api-tls" },
            { host: "plain.example.com", service: "helloworld" },
        ],
    },
};

describe("traffic conformance with Istio 1.30.3", () => {
    let p: Plan;
    before(async () => {
        p = await plan(
            stackConfig(mesh({ istio: { version: "1.30.3", revision: "1-30-3" } }), clusters, {
                extra: Object.fromEntries(
                    Object.entries(everyKnob).map(([k, v]) => [`istio-multicluster:${k}`, v]),
                ),
            }),
        );
    });

    it("emits every kind of traffic object, each admitted by its CRD schema", () => {
        const objects = p.resources.filter(
            (r) => r.type.startsWith("kubernetes:networking.istio.io/") && r.name.includes("/"),
        );
        assert.deepEqual(
            [...new Set(objects.map((r) => r.type))].sort(),
            ["DestinationRule", "Gateway", "ServiceEntry", "VirtualService"].map(
                (k) => `kubernetes:networking.istio.io/v1:${k}`,
            ),
        );
        // 3 DRs + 2 canary VSs + 3 SEs + 3 origination DRs + 3 Gateways + 3 VSs, in each of the two primaries.
        assert.equal(objects.length, 2 * 17);
        const problems = objects.flatMap((r) => {
            const i = plainInputs(r);
            return validateIstioObject({
                apiVersion: i.apiVersion as string,
                kind: i.kind as string,
                metadata: i.metadata,
                spec: i.spec,
            }).map((e) => `${r.name}: ${e}`);
        });
        assert.deepEqual(problems, []);
    });

    it("gives the ingress gateways values the gateway chart accepts", () => {
        const releases = p.resources.filter((r) => r.name.endsWith("-ingressgateway"));
        assert.deepEqual(releases.map((r) => r.name).sort(), [
            "c1-ingressgateway",
            "c2-ingressgateway",
            "c3-ingressgateway",
        ]);
        for (const r of releases) {
            const values = plainInputs(r).values as Record<string, unknown>;
            assert.equal(values.revision, "1-30-3");
            assert.deepEqual(validateGatewayValues(values), [], r.name);
            assert.deepEqual(unknownValuePaths("gateway", values), [], r.name);
        }
    });

    it("gives istiod a serviceSettings block its chart accepts", () => {
        const values = plainInputs(p.resources.find((r) => r.name === "c1-istiod")!).values as Record<
            string,
            unknown
        >;
        assert.deepEqual((values.meshConfig as Record<string, unknown>).serviceSettings, [
            { settings: { clusterLocal: true }, hosts: ["cache.data.svc.cluster.local"] },
        ]);
        assert.deepEqual(unknownValuePaths("istiod", values), []);
    });

    it("the builders' objects for the same config match their CRDs, and a broken one does not", () => {
        const topology = validateTopology({ ...rawConfig(mesh(), clusters), ...everyKnob });
        assert.ok(topology.ok);
        const objects = trafficObjects(topology.topology.traffic!);
        for (const o of objects)
            assert.deepEqual(validateIstioObject({ ...o }), [], `${o.kind} ${o.metadata.name}`);
        const dr = objects.find((o) => o.kind === "DestinationRule")!;
        const broken = { ...dr, spec: { ...dr.spec, trafficPolicy: { outlierDetection: { interval: 5 } } } };
        assert.notDeepEqual(validateIstioObject(broken), []);
        assert.deepEqual(validateTraffic({ services: [] }, []).errors, []);
    });
});
