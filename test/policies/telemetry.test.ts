import * as assert from "node:assert/strict";
import { tracingCollectorInMesh, tracingSamplingCeiling } from "../../policies/telemetry";
import { chart, FakeResource, istiodValues, runResource, unknown } from "./harness";

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
                "`observability.tracing.samplingPercent`",
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
            "c1-istiod: tracing provider mesh-tracing sends spans to collector.example.com, outside the mesh; set " +
                "`observability.tracing.service` to the hub's collector Service (<name>.<namespace>.svc.cluster.local)",
        ]);
    });
});
