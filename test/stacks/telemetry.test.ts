/**
 * Telemetry: the `istio-multicluster:observability` setting (every problem by config path), the istiod values
 * and the Telemetry every primary gets, and how the program creates them (primaries only, identical, after
 * their istiod).
 */
import { strict as assert } from "node:assert";
import { chartDefaults, ObservabilitySettings } from "../../stacks/observability";
import { meshTelemetry, telemetryIstiodValues } from "../../stacks/telemetry";
import { Plan, plainInputs, plan, PlannedResource } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";

const key = "istio-multicluster:observability";
const otel = {
    samplingPercent: 1,
    backend: "external",
    protocol: "opentelemetry",
    service: "opentelemetry-collector.observability.svc.cluster.local",
    port: 4317,
} as const;
/** Settings as the validator gives them, with an external collector and no metrics. */
const settings = (
    s: Pick<ObservabilitySettings, "hub" | "tracing" | "accessLogs">,
): ObservabilitySettings => ({
    namespace: "observability",
    charts: chartDefaults,
    ...s,
});

describe("observability", () => {
    describe("values and objects", () => {
        it("the provider in mesh config, and JSON access logs only when on", () => {
            assert.deepEqual(
                telemetryIstiodValues(settings({ hub: "c1", tracing: otel, accessLogs: true })),
                {
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
                },
            );
            assert.deepEqual(
                telemetryIstiodValues(
                    settings({
                        hub: "c1",
                        tracing: {
                            ...otel,
                            protocol: "zipkin",
                            service: "z.o.svc.cluster.local",
                            port: 9411,
                        },
                        accessLogs: false,
                    }),
                ),
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
                meshTelemetry(
                    settings({ hub: "c1", tracing: { ...otel, samplingPercent: 7 }, accessLogs: false }),
                ),
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
                    extra: {
                        [key]: {
                            hub: "c2",
                            tracing: { backend: "external", samplingPercent: 5 },
                            accessLogs: true,
                            metrics: { enabled: false },
                        },
                    },
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
                meshTelemetry(
                    settings({ hub: "c2", tracing: { ...otel, samplingPercent: 5 }, accessLogs: true }),
                ),
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
