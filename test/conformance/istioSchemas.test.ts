import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BaseValues } from "../../stacks/chartValues/base";
import type { GatewayValues } from "../../stacks/chartValues/gateway";
import type { IstiodValues } from "../../stacks/chartValues/istiod";
import {
    chartDefaults,
    referenceDir,
    unknownValuePaths,
    validateGatewayValues,
    validateIstioObject,
} from "../support/istioSchemas";

/** The cross-network Gateway of Istio's multi-network guides, exposing every `*.local` service by SNI. */
const crossNetworkGateway = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "cross-network-gateway", namespace: "istio-system" },
    spec: {
        selector: { istio: "eastwestgateway" },
        servers: [
            {
                port: { number: 15443, name: "tls", protocol: "TLS" },
                tls: { mode: "AUTO_PASSTHROUGH" },
                hosts: ["*.local"],
            },
        ],
    },
};

/** Routes istiod's xDS (15012) and webhook (15017 → 443) ports through the east-west gateway. */
const istiodVirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "istiod-vs", namespace: "istio-system" },
    spec: {
        hosts: ["*"],
        gateways: ["istiod-gateway"],
        tls: [
            {
                match: [{ port: 15012, sniHosts: ["*"] }],
                route: [
                    {
                        destination: {
                            host: "istiod.istio-system.svc.cluster.local",
                            port: { number: 15012 },
                        },
                    },
                ],
            },
            {
                match: [{ port: 15017, sniHosts: ["*"] }],
                route: [
                    { destination: { host: "istiod.istio-system.svc.cluster.local", port: { number: 443 } } },
                ],
            },
        ],
    },
};

/** The cross-network Gateway with its only server's `tls` replaced. */
function gatewayWithTls(tls: Record<string, unknown>): typeof crossNetworkGateway {
    const server = crossNetworkGateway.spec.servers[0];
    assert.ok(server);
    return {
        ...crossNetworkGateway,
        spec: { ...crossNetworkGateway.spec, servers: [{ ...server, tls } as typeof server] },
    };
}

describe("istioSchemas", function () {
    describe("referenceDir", function () {
        let saved: string | undefined;
        beforeEach(function () {
            saved = process.env["ISTIO_REFERENCE_DIR"];
        });
        afterEach(function () {
            if (saved === undefined) delete process.env["ISTIO_REFERENCE_DIR"];
            else process.env["ISTIO_REFERENCE_DIR"] = saved;
        });

        it("defaults to ../shared/reference/istio-1.30.3 beside the repository", function () {
            delete process.env["ISTIO_REFERENCE_DIR"];
            const repoRoot = path.resolve(__dirname, "..", "..");
            const expected = path.resolve(repoRoot, "..", "shared", "reference", "istio-1.30.3");
            if (fs.existsSync(expected)) assert.equal(referenceDir(), expected);
            else assert.throws(() => referenceDir(), { message: new RegExp(`not found at ${expected}:`) });
        });

        it("honours ISTIO_REFERENCE_DIR", function () {
            const dir = referenceDir();
            process.env["ISTIO_REFERENCE_DIR"] = path.relative(process.cwd(), dir);
            assert.equal(referenceDir(), dir);
        });

        it("throws, naming the path and ISTIO_REFERENCE_DIR, when the directory is missing", function () {
            const missing = path.resolve("/nonexistent/istio-reference");
            process.env["ISTIO_REFERENCE_DIR"] = missing;
            assert.throws(() => referenceDir(), {
                message:
                    `Istio reference data not found at ${missing} (from \`ISTIO_REFERENCE_DIR\`): set ` +
                    "`ISTIO_REFERENCE_DIR` to a directory holding Istio 1.30.3's `charts/` and `crds/crd-all.gen.yaml`.",
            });
        });
    });

    describe("validateIstioObject", function () {
        it("accepts the cross-network Gateway", function () {
            assert.deepEqual(validateIstioObject(crossNetworkGateway), []);
        });

        it("accepts the istiod VirtualService", function () {
            assert.deepEqual(validateIstioObject(istiodVirtualService), []);
        });

        const cases: { name: string; obj: Parameters<typeof validateIstioObject>[0]; errors: string[] }[] = [
            {
                name: "a TLS mode outside the enum",
                obj: gatewayWithTls({ mode: "AUTO" }),
                errors: ["spec.servers[0].tls.mode: must be equal to one of the allowed values"],
            },
            {
                name: "a misspelt field that the API server would prune",
                obj: gatewayWithTls({ mdoe: "AUTO_PASSTHROUGH" }),
                errors: ["spec.servers[0].tls.mdoe: unknown field (the API server would prune it)"],
            },
            {
                name: "a misspelt top-level spec field",
                obj: { ...crossNetworkGateway, spec: { ...crossNetworkGateway.spec, selectors: {} } },
                errors: ["spec.selectors: unknown field (the API server would prune it)"],
            },
            {
                name: "a missing required field and a wrong type",
                obj: {
                    ...crossNetworkGateway,
                    spec: { selector: { istio: 1 }, servers: [{ port: { number: 15443, protocol: "TLS" } }] },
                },
                errors: [
                    "spec.selector.istio: must be string",
                    "spec.servers[0]: must have required property 'hosts'",
                    "spec.servers[0].port: must have required property 'name'",
                ],
            },
            {
                name: "a port number of the wrong type in a VirtualService route",
                obj: {
                    ...istiodVirtualService,
                    spec: {
                        ...istiodVirtualService.spec,
                        tls: [
                            {
                                match: [{ port: 15012, sniHosts: ["*"] }],
                                route: [{ destination: { host: "x", port: { number: "15012" } } }],
                            },
                        ],
                    },
                },
                errors: ["spec.tls[0].route[0].destination.port.number: must be integer"],
            },
            {
                name: "an unknown kind",
                obj: { ...crossNetworkGateway, kind: "Gatway" },
                errors: ["networking.istio.io/v1 Gatway: unknown kind; no Istio 1.30.3 CRD defines it"],
            },
            {
                name: "a version that is not served",
                obj: { ...crossNetworkGateway, apiVersion: "networking.istio.io/v2" },
                errors: [
                    "networking.istio.io/v2 Gateway: version v2 is not served; served: v1, v1alpha3, v1beta1",
                ],
            },
        ];
        for (const c of cases) {
            it(`reports ${c.name}`, function () {
                assert.deepEqual(validateIstioObject(c.obj), c.errors);
            });
        }

        it("leaves fields under x-kubernetes-preserve-unknown-fields open (status)", function () {
            assert.deepEqual(
                validateIstioObject({ ...crossNetworkGateway, status: { anything: { goes: true } } }),
                [],
            );
        });
    });

    describe("validateGatewayValues", function () {
        it("accepts the east-west gateway values", function () {
            const values: GatewayValues = {
                name: "istio-eastwestgateway",
                networkGateway: "network1",
                labels: { istio: "eastwestgateway" },
                service: { type: "LoadBalancer" },
            };
            assert.deepEqual(validateGatewayValues(values), []);
        });

        const cases: { name: string; values: unknown; errors: string[] }[] = [
            {
                name: "an unknown top-level key (the root is closed)",
                values: { servce: { type: "LoadBalancer" } },
                errors: ["servce: unknown key (the chart's schema rejects it)"],
            },
            {
                name: "a service type that is not a string",
                values: { service: { type: 1 } },
                errors: ["service.type: must be string"],
            },
            {
                name: "a replica count given as a string",
                values: { replicaCount: "2" },
                errors: ["replicaCount: must be integer,null"],
            },
            {
                name: "a PDB eviction policy outside the enum",
                values: { podDisruptionBudget: { unhealthyPodEvictionPolicy: "Always" } },
                errors: [
                    "podDisruptionBudget.unhealthyPodEvictionPolicy: must be equal to one of the allowed values",
                ],
            },
            {
                name: "a network gateway port without its port number",
                values: { networkGatewayPorts: { tls: { targetPort: 15443 } } },
                errors: ["networkGatewayPorts.tls: must have required property 'port'"],
            },
        ];
        for (const c of cases) {
            it(`reports ${c.name}`, function () {
                assert.deepEqual(validateGatewayValues(c.values), c.errors);
            });
        }

        it("does not catch a misspelt key inside `service` (the schema leaves it open), unknownValuePaths does", function () {
            const values = { service: { typo: 1 } };
            assert.deepEqual(validateGatewayValues(values), []);
            assert.deepEqual(unknownValuePaths("gateway", values), ["service.typo"]);
        });
    });

    describe("chartDefaults", function () {
        it("unwraps _internal_defaults_do_not_set for every chart", function () {
            for (const chart of ["base", "istiod", "gateway"] as const) {
                assert.equal("_internal_defaults_do_not_set" in chartDefaults(chart), false, chart);
            }
            assert.equal(chartDefaults("base")["defaultRevision"], "default");
            assert.deepEqual(
                (chartDefaults("istiod")["istiodRemote"] as Record<string, unknown>)["injectionPath"],
                "/inject",
            );
            assert.deepEqual(
                (chartDefaults("gateway")["service"] as Record<string, unknown>)["type"],
                "LoadBalancer",
            );
        });
    });

    describe("unknownValuePaths", function () {
        it("accepts the multicluster istiod keys, meshConfig being free-form", function () {
            const values: IstiodValues = {
                global: { meshID: "m", multiCluster: { clusterName: "c" } },
                meshConfig: { trustDomain: "x" },
            };
            assert.deepEqual(unknownValuePaths("istiod", { ...values }), []);
        });

        it("reports a misspelt istiod key by its full path", function () {
            assert.deepEqual(unknownValuePaths("istiod", { global: { meshId: "m" } }), ["global.meshId"]);
        });

        const cases: {
            chart: "base" | "istiod" | "gateway";
            values: Record<string, unknown>;
            unknown: string[];
        }[] = [
            {
                chart: "istiod",
                values: {
                    profile: "remote",
                    revision: "1-30",
                    env: { PILOT_ENABLE_X: "true" },
                    istiodRemote: { injectionPath: "/inject/cluster/c/net/n" },
                    meshConfig: { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: "true" } } },
                    global: { remotePilotAddress: "10.0.0.1", externalIstiod: true, configCluster: true },
                    pdb: { maxUnavailable: 1 },
                    resources: { limits: { cpu: "2" } },
                },
                unknown: [],
            },
            {
                chart: "istiod",
                values: { pilot: { replicaCount: 2 }, global: { multicluster: { clusterName: "c" } } },
                unknown: ["pilot", "global.multicluster"],
            },
            {
                chart: "base",
                values: { profile: "remote", defaultRevision: "1-30", base: { enableCRDTemplates: true } },
                unknown: [],
            },
            {
                chart: "base",
                values: { global: { externalIstiod: true }, revision: "x" },
                unknown: ["global.externalIstiod", "revision"],
            },
            {
                chart: "gateway",
                values: {
                    labels: { anything: "x" },
                    autoscaling: { enabled: false, minReplica: 2 },
                    networkGatewayPorts: { tls: { port: 1 } },
                },
                unknown: ["autoscaling.minReplica"],
            },
        ];
        for (const c of cases) {
            it(`${c.chart}: ${JSON.stringify(c.values)} → ${JSON.stringify(c.unknown)}`, function () {
                assert.deepEqual(unknownValuePaths(c.chart, c.values), c.unknown);
            });
        }
    });

    describe("chartValues types", function () {
        it("reject misspelt keys at compile time (checked by tsc)", function () {
            const base: BaseValues = {
                profile: "remote",
                // @ts-expect-error base has no global.externalIstiod in 1.30.3
                global: { externalIstiod: true },
            };
            const istiod: IstiodValues = {
                // @ts-expect-error the key is meshID
                global: { meshId: "m" },
            };
            const gateway: GatewayValues = {
                // @ts-expect-error the key is type
                service: { typo: 1 },
            };
            // The same objects are what the runtime checks catch.
            assert.deepEqual(unknownValuePaths("base", { ...base }), ["global.externalIstiod"]);
            assert.deepEqual(unknownValuePaths("istiod", { ...istiod }), ["global.meshId"]);
            assert.deepEqual(unknownValuePaths("gateway", { ...gateway }), ["service.typo"]);
        });
    });
});
