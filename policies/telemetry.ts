/**
 * Telemetry: traces sampled at no more than the platform allows, and sent only to a collector inside the mesh
 * (a cluster-local Service name), never to an address outside it.
 */
import { ResourceValidationPolicy } from "@pulumi/policy/policy";
import { configOf, isRemoteIstiod, istioChart, isUnknown, list, num, resourceOf, str } from "./lib";

const telemetryType = "kubernetes:telemetry.istio.io/v1:Telemetry";

/** The sampling ceiling's configuration. */
export interface SamplingConfig {
    /** The highest `randomSamplingPercentage` a Telemetry may set. Default 100 (Istio's own bound). */
    readonly maxPercent?: number;
}

/** Every tracing rule of a Telemetry samples at most the configured ceiling. */
export const tracingSamplingCeiling: ResourceValidationPolicy = {
    name: "tracing-sampling-ceiling",
    description: "Telemetry resources sample traces at no more than the configured percentage.",
    configSchema: {
        properties: { maxPercent: { type: "number", minimum: 0, maximum: 100, default: 100 } },
    },
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (r.type !== telemetryType) return;
        const { maxPercent = 100 } = configOf<SamplingConfig>(args, { maxPercent: 100 });
        const rules = list(r.props, "spec", "tracing");
        if (rules === undefined || isUnknown(rules)) return;
        for (const rule of rules) {
            const rate = num(rule, "randomSamplingPercentage");
            if (rate === undefined || isUnknown(rate)) continue;
            if (rate > maxPercent) {
                reportViolation(
                    `Telemetry ${r.name} samples ${rate}% of requests, above the ceiling of ${maxPercent}%; lower ` +
                        "`observability.tracing.samplingPercent`",
                );
            }
        }
    },
};

/** A primary's tracing providers name cluster-local Services: spans travel through the mesh only. */
export const tracingCollectorInMesh: ResourceValidationPolicy = {
    name: "tracing-collector-in-mesh",
    description:
        "Tracing providers in istiod's mesh config name a cluster-local Service, reached through the mesh.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = istioChart(r.type, r.props);
        if (chart?.chart !== "istiod" || isRemoteIstiod(chart.values)) return;
        const providers = list(chart.values, "meshConfig", "extensionProviders");
        if (providers === undefined || isUnknown(providers)) return;
        for (const p of providers) {
            for (const kind of ["opentelemetry", "zipkin"]) {
                const service = str(p, kind, "service");
                if (service === undefined || isUnknown(service)) continue;
                if (!/^[a-z0-9-]+\.[a-z0-9-]+\.svc(\.[a-z0-9.-]+)?$/.test(service)) {
                    reportViolation(
                        `${r.name}: tracing provider ${String(str(p, "name") ?? "?")} sends spans to ${service}, ` +
                            "outside the mesh; set `observability.tracing.service` to the hub's collector Service " +
                            "(<name>.<namespace>.svc.cluster.local)",
                    );
                }
            }
        }
    },
};

/** The telemetry policies. */
export const telemetryPolicies = [tracingSamplingCeiling, tracingCollectorInMesh];
