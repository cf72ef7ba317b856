import * as assert from "node:assert/strict";
import { policies } from "../../policies/pack";
import { chartVersionsPinned } from "../../policies/releases";
import { loadPolicyConfig } from "../../tools/policyRunner";
import { FakeResource, release, runResource, unknown } from "./harness";

const helm = (name: string, chartRef: unknown, version: unknown, type = release): FakeResource => ({
    type,
    name,
    cluster: "c1",
    props: {
        chart: chartRef,
        ...(version === undefined ? {} : { version }),
        namespace: "observability",
        values: {},
    },
});

describe("chart-versions-pinned", () => {
    it("passes exact versions, whichever Helm resource and chart reference carries them", async () => {
        const rs = [
            helm("c1-istiod", "istiod", "1.30.3"),
            helm("c1/prometheus-cluster", "prometheus", "29.27.0"),
            helm("c1/grafana", "oci://registry.example.com/charts/grafana", "12.11.1"),
            helm("c1/jaeger", "jaegertracing/jaeger", "4.11.1-rc.1"),
            helm("c1/cert-manager", "cert-manager", "1.16.0", "kubernetes:helm.sh/v4:Chart"),
        ];
        for (const r of rs)
            assert.deepEqual((await runResource(chartVersionsPinned, r)).messages, [], r.name);
    });

    it("passes a chart whose file fixes its version, and ignores everything but Helm resources", async () => {
        const rs = [
            helm("local", "./charts/istiod", undefined),
            helm("archive", "/srv/charts/prometheus-29.27.0.tgz", undefined),
            helm("url", "https://example.com/charts/grafana-12.11.1.tgz", ""),
            helm("service", "grafana", "^12.0.0", "kubernetes:core/v1:Service"),
        ];
        for (const r of rs)
            assert.deepEqual((await runResource(chartVersionsPinned, r)).messages, [], r.name);
    });

    it("reports an observability chart's range, missing version or latest, naming its config key", async () => {
        const cases: [FakeResource, string][] = [
            [
                helm("c1/prometheus-hub", "prometheus", "^29.0.0"),
                'c1/prometheus-hub: chart prometheus has version "^29.0.0", a range, not one exact version; pin it ' +
                    "in `istio-multicluster:observability.charts.prometheus.version` to an exact version (such as 1.2.3)",
            ],
            [
                helm("c1/grafana", "oci://registry.example.com/charts/grafana", undefined),
                "c1/grafana: chart grafana has no version, so Helm installs the newest it finds; pin it in " +
                    "`istio-multicluster:observability.charts.grafana.version` to an exact version (such as 1.2.3)",
            ],
            [
                helm("c1/jaeger", "jaeger", "latest"),
                'c1/jaeger: chart jaeger has version "latest", the newest; pin it in ' +
                    "`istio-multicluster:observability.charts.jaeger.version` to an exact version (such as 1.2.3)",
            ],
        ];
        for (const [r, message] of cases) {
            assert.deepEqual((await runResource(chartVersionsPinned, r)).messages, [message], r.name);
        }
    });

    it("leaves Istio's charts to istio-version-pinned, and reports another chart against `version`", async () => {
        // One report per problem: istio-version-pinned reports an Istio chart's range, with the mesh's version.
        assert.deepEqual(
            (await runResource(chartVersionsPinned, helm("c1-istiod", "istiod", "~1.30"))).messages,
            [],
        );
        assert.deepEqual(
            (await runResource(chartVersionsPinned, helm("cm", "jetstack/cert-manager", ""))).messages,
            [
                "cm: chart cert-manager has no version, so Helm installs the newest it finds; pin `version` to an " +
                    "exact chart version (such as 1.2.3)",
            ],
        );
    });

    it("refuses every kind of range and partial version", async () => {
        for (const v of [
            ">=1.0.0",
            "<2.0.0",
            "1.x",
            "1.2.x",
            "*",
            "1.2",
            "v1.2.3",
            "1.2.3 || 1.2.4",
            "01.2.3",
            " ",
        ]) {
            const out = await runResource(
                chartVersionsPinned,
                helm("c1/prometheus-cluster", "prometheus", v),
            );
            assert.equal(out.messages.length, 1, JSON.stringify(v));
        }
    });

    it("skips a version or chart unknown at preview", async () => {
        for (const r of [helm("c1-istiod", "istiod", unknown), helm("c1-x", unknown, "^1.0.0")]) {
            const out = await runResource(chartVersionsPinned, r);
            assert.deepEqual(out.messages, [], r.name);
            assert.equal(out.couldNotRun, false);
        }
    });

    it("is registered: mandatory by default, in dev (like istio-version-pinned) and in prod", () => {
        assert.equal(policies.find((p) => p.name === "chart-versions-pinned")?.enforcementLevel, "mandatory");
        const dev = loadPolicyConfig("policies/config.dev.json");
        const prod = loadPolicyConfig("policies/config.prod.json");
        assert.equal(dev["chart-versions-pinned"], "mandatory");
        assert.equal(prod["chart-versions-pinned"], undefined);
        assert.equal(prod.all, "mandatory");
    });
});
