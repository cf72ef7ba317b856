/**
 * Telemetry against Istio 1.30.3's reference data: the Telemetry object against its CRD, the variable its
 * `cluster` tag reads set by both injection templates, and the tracing provider and JSON access logs in the
 * mesh config the istiod chart renders.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { chartDefaults } from "../../stacks/observability";
import { clusterIdEnv, meshTelemetry, tracingProviderName } from "../../stacks/telemetry";
import { loadStackFile, plainInputs, plan } from "../../tools/planner";
import { template } from "../support/helm";
import { referenceDir, validateIstioObject } from "../support/istioSchemas";

const charts = path.join(referenceDir(), "charts");

describe("telemetry, against Istio 1.30.3", function () {
    this.timeout(60000);

    it("the Telemetry is valid against its CRD, at the sampling bounds and between them", () => {
        for (const samplingPercent of [0, 0.5, 100]) {
            const t = meshTelemetry({
                hub: "c1",
                namespace: "observability",
                tracing: {
                    samplingPercent,
                    backend: "external",
                    protocol: "opentelemetry",
                    service: "o.o.svc.cluster.local",
                    port: 4317,
                },
                accessLogs: false,
                charts: chartDefaults,
            });
            assert.deepEqual(validateIstioObject({ ...t }), [], String(samplingPercent));
        }
    });

    it("both injection templates set the cluster ID variable the `cluster` tag reads", () => {
        for (const file of ["injection-template.yaml", "gateway-injection-template.yaml"]) {
            const text = fs.readFileSync(path.join(charts, "istiod", "files", file), "utf8");
            assert.match(
                text,
                new RegExp(
                    `- name: ${clusterIdEnv}\\n\\s+value: "\\{\\{ valueOrDefault \\.Values\\.global\\.multiCluster\\.clusterName`,
                ),
                file,
            );
        }
    });

    it("the istiod chart renders the provider and the JSON access log into the mesh config of every primary", async () => {
        const p = await plan(loadStackFile("dev"));
        const istiod = plainInputs(p.resources.find((r) => r.name === "cluster1-istiod")!);
        const objs = await template({
            releaseName: istiod.name as string,
            chart: path.join(charts, "istiod"),
            namespace: "istio-system",
            version: istiod.version as string,
            values: istiod.values as Record<string, unknown>,
        });
        const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "istio")!;
        const meshConfig = YAML.parse((cm.data as { mesh: string }).mesh) as Record<string, unknown>;
        assert.deepEqual(meshConfig.extensionProviders, [
            {
                name: tracingProviderName,
                // The dev stack runs the default backend, Jaeger in the hub's observability namespace.
                opentelemetry: {
                    service: "jaeger.observability.svc.cluster.local",
                    port: 4317,
                },
            },
        ]);
        assert.equal(meshConfig.accessLogEncoding, "JSON");
        assert.equal(meshConfig.accessLogFile, "/dev/stdout");
    });
});
