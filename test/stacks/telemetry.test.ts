/**
 * Telemetry: the `istio-multicluster:observability` setting (every problem by config path), the istiod values
 * and the Telemetry every primary gets, and how the program creates them (primaries only, identical, after
 * their istiod).
 */
import { strict as assert } from "node:assert";
import { meshTelemetry, telemetryIstiodValues, validateObservability } from "../../stacks/telemetry";
import { validateTopology } from "../../stacks/validate";
import { Plan, plainInputs, plan, PlannedResource } from "../../tools/planner";
import { mesh, primary, rawConfig, remote, stackConfig } from "../support/fixtures";

const key = "istio-multicluster:observability";
const clusters = ["c1", "c2", "c3"];
const otel = {
    samplingPercent: 1,
    protocol: "opentelemetry",
    service: "opentelemetry-collector.observability.svc.cluster.local",
    port: 4317,
} as const;

describe("observability", () => {
    describe("validateObservability", () => {
        it("is absent unless configured; applies the OpenTelemetry defaults", () => {
            assert.deepEqual(validateObservability(undefined, clusters), { errors: [] });
            assert.deepEqual(validateObservability({ hub: "c2" }, clusters), {
                settings: { hub: "c2", tracing: otel, accessLogs: false },
                errors: [],
            });
            assert.deepEqual(
                validateObservability(
                    { hub: "c1", tracing: { protocol: "zipkin", samplingPercent: 12.5 }, accessLogs: true },
                    clusters,
                ).settings,
                {
                    hub: "c1",
                    tracing: {
                        samplingPercent: 12.5,
                        protocol: "zipkin",
                        service: "zipkin.observability.svc.cluster.local",
                        port: 9411,
                    },
                    accessLogs: true,
                },
            );
        });

        const refused: [string, unknown, string[]][] = [
            ["not a map", true, [`${key}: must be a map such as \`{ hub: cluster1 }\`, got true`]],
            [
                "no hub, an unknown key",
                { tracng: {} },
                [
                    `${key}.tracng: unknown key; allowed keys are: hub, tracing, accessLogs`,
                    `${key}.hub: required; name the cluster that runs the collector (clusters are: c1, c2, c3)`,
                ],
            ],
            [
                "a hub naming an unknown cluster",
                { hub: "c9" },
                [`${key}.hub: "c9" is not a cluster of the mesh; clusters are: c1, c2, c3`],
            ],
            [
                "sampling outside 0-100, an unknown protocol, a bad port, a service that is not a Service name",
                {
                    hub: "c1",
                    tracing: {
                        samplingPercent: 150,
                        protocol: "jaeger",
                        port: 0,
                        service: "http://collector",
                    },
                    accessLogs: "yes",
                },
                [
                    `${key}.tracing.samplingPercent: must be a number from 0 to 100, got 150`,
                    `${key}.tracing.protocol: "jaeger" is not one of: opentelemetry, zipkin`,
                    `${key}.tracing.service: "http://collector" is not a Service name such as ` +
                        "opentelemetry-collector.observability.svc.cluster.local; name the hub's collector Service " +
                        "by its cluster-local DNS name",
                    `${key}.tracing.port: must be a port number from 1 to 65535, got 0`,
                    `${key}.accessLogs: must be true or false, got "yes"`,
                ],
            ],
            [
                "negative sampling",
                { hub: "c1", tracing: { samplingPercent: -1 } },
                [`${key}.tracing.samplingPercent: must be a number from 0 to 100, got -1`],
            ],
        ];
        for (const [label, raw, errors] of refused) {
            it(`refuses ${label}`, () => assert.deepEqual(validateObservability(raw, clusters), { errors }));
        }

        it("is validated with the rest of the topology, all problems at once", () => {
            const r = validateTopology({
                ...rawConfig(mesh(), [primary("c1"), { name: "c2" }]),
                observability: { hub: "c2" },
            });
            assert.equal(r.ok, false);
            assert.deepEqual(r.ok ? [] : r.errors.filter((e) => e.startsWith(key)), [
                `${key}.hub: "c2" is not a cluster of the mesh; clusters are: c1`,
            ]);
        });
    });

    describe("values and objects", () => {
        it("the provider in mesh config, and JSON access logs only when on", () => {
            assert.deepEqual(telemetryIstiodValues({ hub: "c1", tracing: otel, accessLogs: true }), {
                meshConfig: {
                    extensionProviders: [
                        {
                            name: "mesh-tracing",
                            opentelemetry: {
                                service: "opentelemetry-collector.observability.svc.cluster.local",
                                port: 4317,
                            },
                        },
                    ],
                    accessLogFile: "/dev/stdout",
                    accessLogEncoding: "JSON",
                },
            });
            assert.deepEqual(
                telemetryIstiodValues({
                    hub: "c1",
                    tracing: { ...otel, protocol: "zipkin", service: "z.o.svc.cluster.local", port: 9411 },
                    accessLogs: false,
                }),
                {
                    meshConfig: {
                        extensionProviders: [
                            {
                                name: "mesh-tracing",
                                zipkin: { service: "z.o.svc.cluster.local", port: 9411 },
                            },
                        ],
                    },
                },
            );
        });

        it("the mesh-wide Telemetry: sampling from config, the cluster tag from the proxy's environment", () => {
            assert.deepEqual(
                meshTelemetry({ hub: "c1", tracing: { ...otel, samplingPercent: 7 }, accessLogs: false }),
                {
                    apiVersion: "telemetry.istio.io/v1",
                    kind: "Telemetry",
                    metadata: { name: "mesh-default", namespace: "istio-system" },
                    spec: {
                        tracing: [
                            {
                                providers: [{ name: "mesh-tracing" }],
                                randomSamplingPercentage: 7,
                                customTags: {
                                    cluster: {
                                        environment: {
                                            name: "ISTIO_META_CLUSTER_ID",
                                            defaultValue: "unknown",
                                        },
                                    },
                                },
                            },
                        ],
                    },
                },
            );
        });
    });

    describe("in the program", () => {
        let p: Plan;
        const byName = (name: string): PlannedResource => {
            const r = p.resources.find((x) => x.name === name);
            assert.ok(r, `no resource ${name}`);
            return r;
        };
        before(async () => {
            p = await plan(
                stackConfig(mesh(), [primary("c1", "n1"), primary("c2", "n2"), remote("c3", "c1", "n3")], {
                    extra: { [key]: { hub: "c2", tracing: { samplingPercent: 5 }, accessLogs: true } },
                }),
            );
        });

        it("every primary, and only primaries, gets the same Telemetry, after its istiod and namespace", () => {
            const telemetries = p.resources.filter(
                (r) => r.type === "kubernetes:telemetry.istio.io/v1:Telemetry",
            );
            assert.deepEqual(telemetries.map((r) => [r.name, r.cluster]).sort(), [
                ["c1-telemetry-mesh-default", "c1"],
                ["c2-telemetry-mesh-default", "c2"],
            ]);
            const bodies = telemetries.map((r) => {
                const i = plainInputs(r);
                return { apiVersion: i.apiVersion, kind: i.kind, metadata: i.metadata, spec: i.spec };
            });
            assert.deepEqual(bodies[0], bodies[1]);
            assert.deepEqual(
                bodies[0],
                meshTelemetry({ hub: "c2", tracing: { ...otel, samplingPercent: 5 }, accessLogs: true }),
            );
            for (const t of telemetries) {
                assert.deepEqual(
                    t.dependsOn,
                    [byName(`${t.cluster}-istio-system`).urn, byName(`${t.cluster}-istiod`).urn].sort(),
                );
                const parent = p.resources.find((x) => x.urn === t.parent)!;
                assert.equal(parent.type, "multicluster:observability:MeshTelemetry");
            }
        });

        it("every primary's istiod names the hub's collector and writes JSON access logs; the remote's does not", () => {
            for (const c of ["c1", "c2"]) {
                const mc = (
                    plainInputs(byName(`${c}-istiod`)).values as { meshConfig: Record<string, unknown> }
                ).meshConfig;
                assert.deepEqual(mc.extensionProviders, [
                    {
                        name: "mesh-tracing",
                        opentelemetry: { service: otel.service, port: 4317 },
                    },
                ]);
                assert.equal(mc.accessLogEncoding, "JSON");
                assert.equal(mc.trustDomain, "cluster.local", "the role's mesh config is kept");
            }
            const remoteValues = JSON.stringify(byName("c3-istiod").rawInputs.values);
            assert.ok(!remoteValues.includes("extensionProviders"));
        });
    });
});
