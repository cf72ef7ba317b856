/**
 * Telemetry: traces sampled at no more than the platform allows, and sent only to a collector inside the mesh
 * (a cluster-local Service name), never to an address outside it; and the observability backends (Prometheus,
 * Jaeger, Grafana) reachable only through the mesh: ClusterIP Services, no Ingress or route, injected pods, and
 * STRICT mTLS in their namespace in every primary.
 *
 * Self-contained: the value paths below are the facts of the charts' own values.yaml and templates
 * (prometheus 29.27.0, jaeger 4.11.1, grafana 12.11.1), restated here because the pack imports nothing from
 * the program.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import {
    at,
    configOf,
    controlPlanes,
    helmChartName,
    isRemoteIstiod,
    istioChart,
    isUnknown,
    list,
    num,
    obj,
    Res,
    resourceOf,
    stackResources,
    str,
    UNKNOWN,
    Unknown,
} from "./lib";

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
                        "`istio-multicluster:observability.tracing.samplingPercent`",
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
                            "outside the mesh; use `istio-multicluster:observability.tracing.backend: jaeger`, or set " +
                            "`tracing.service` to a cluster-local collector Service (<name>.<namespace>.svc.cluster.local)",
                    );
                }
            }
        }
    },
};

/** The observability charts whose releases must stay inside the mesh. */
export type ObservabilityChartName = "prometheus" | "jaeger" | "grafana";

/** The stack config key the observability backends come from. */
const observabilityKey = "istio-multicluster:observability";

/**
 * Where each chart exposes its pods, by value path. `services`: Service types (absent means ClusterIP in every
 * chart); `ingresses`: `enabled` switches of Ingress objects; `routes`: maps of Gateway API routes, each entry
 * with its own `enabled`; `routeSwitches`: single route switches; `injection`: the pod annotation and label maps
 * Istio's injector reads. `query.*` are jaeger's pre-4 (v1 all-in-one/query) keys, checked when present.
 */
const exposure: Record<
    ObservabilityChartName,
    {
        readonly services: readonly string[][];
        readonly ingresses: readonly string[][];
        readonly routes: readonly string[][];
        readonly routeSwitches: readonly string[][];
        readonly injection: readonly string[][];
    }
> = {
    prometheus: {
        services: [["server", "service", "type"]],
        ingresses: [["server", "ingress", "enabled"]],
        routes: [["server", "route"]],
        routeSwitches: [],
        injection: [
            ["server", "podAnnotations"],
            ["server", "podLabels"],
        ],
    },
    grafana: {
        services: [["service", "type"]],
        ingresses: [["ingress", "enabled"]],
        routes: [["route"]],
        routeSwitches: [],
        injection: [["podAnnotations"], ["podLabels"]],
    },
    jaeger: {
        services: [
            ["jaeger", "service", "type"],
            ["query", "service", "type"],
        ],
        ingresses: [
            ["jaeger", "ingress", "enabled"],
            ["query", "ingress", "enabled"],
        ],
        routes: [],
        routeSwitches: [["jaeger", "httproute", "enabled"]],
        // The chart hard-codes the pod's annotations: only labels reach it.
        injection: [
            ["jaeger", "podLabels"],
            ["query", "podLabels"],
        ],
    },
};

/** The observability chart a Helm resource installs, or undefined. */
export function observabilityChartOf(type: string, props: unknown): ObservabilityChartName | undefined {
    const name = helmChartName(type, props);
    return name === "prometheus" || name === "jaeger" || name === "grafana" ? name : undefined;
}

/** Whether a Helm value switches its template on: Go templates take any non-empty value as true. */
function switchedOn(v: unknown): boolean {
    return v !== undefined && v !== null && v !== false && v !== 0 && v !== "";
}

/** Istio's injector injects for these values of `sidecar.istio.io/inject` (any other non-empty one turns it off). */
const injectOn = new Set(["y", "yes", "true", "on"]);
const injectKey = "sidecar.istio.io/inject";

/** What in a release's values reaches outside the mesh, one phrase per finding; unknowns skipped. */
function exposures(chart: ObservabilityChartName, values: unknown): string[] {
    const e = exposure[chart];
    const out: string[] = [];
    const where = (path: readonly string[]) => `values.${path.join(".")}`;
    for (const path of e.services) {
        const t = at(values, ...path);
        if (isUnknown(t) || t === undefined || t === null || t === "ClusterIP") continue;
        out.push(`has a Service of type ${JSON.stringify(t)} (${where(path)}), not ClusterIP`);
    }
    for (const path of e.ingresses) {
        const on = at(values, ...path);
        if (!isUnknown(on) && switchedOn(on)) out.push(`enables an Ingress (${where(path)})`);
    }
    for (const path of e.routeSwitches) {
        const on = at(values, ...path);
        if (!isUnknown(on) && switchedOn(on)) out.push(`enables a Gateway API route (${where(path)})`);
    }
    for (const path of e.routes) {
        const routes = obj(values, ...path);
        if (routes === undefined || isUnknown(routes)) continue;
        for (const [name, route] of Object.entries(routes)) {
            const on = at(route, "enabled");
            if (!isUnknown(on) && switchedOn(on)) {
                out.push(`enables a Gateway API route (${where([...path, name, "enabled"])})`);
            }
        }
    }
    for (const path of e.injection) {
        const v = at(values, ...path, injectKey);
        if (isUnknown(v) || v === undefined || v === null || v === "") continue;
        if (typeof v === "string" && injectOn.has(v.toLowerCase())) continue;
        out.push(`turns sidecar injection off (${where(path)} sets ${injectKey}: ${JSON.stringify(v)})`);
    }
    return out;
}

/**
 * A Prometheus, Jaeger or Grafana release exposes nothing outside the mesh: its Services are ClusterIP, it
 * renders no Ingress or Gateway API route, and its pods keep their sidecar (without one they are outside the
 * mesh: reachable in plain text, and unreachable from other networks through the east-west gateways).
 */
export const observabilityMeshOnly: ResourceValidationPolicy = {
    name: "observability-mesh-only",
    description:
        "Prometheus, Jaeger and Grafana releases expose nothing outside the mesh: ClusterIP only, no Ingress or route, sidecars injected.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        const chart = observabilityChartOf(r.type, r.props);
        if (chart === undefined) return;
        const values = at(r.props, "values");
        if (isUnknown(values)) return;
        for (const what of exposures(chart, values)) {
            reportViolation(
                `${r.name}: the ${chart} release ${what}, which puts it outside the mesh; the observability backends ` +
                    "are reached only through the mesh (or `kubectl port-forward`): release them as " +
                    `\`${observabilityKey}\` configures them, with no override of these values`,
            );
        }
    },
};

/** The Istio PeerAuthentication kind, whichever served version the program uses. */
const peerAuthenticationType = /^kubernetes:security\.istio\.io\/v1(beta1)?:PeerAuthentication$/;

/** Whether a PeerAuthentication's spec selects workloads (or may: unknown), instead of the whole namespace. */
function selectsWorkloads(spec: unknown): boolean {
    const labels = obj(spec, "selector", "matchLabels");
    return isUnknown(labels) || (labels !== undefined && Object.keys(labels).length > 0);
}

/**
 * Every namespace hosting a Prometheus, Jaeger or Grafana release has a namespace-wide STRICT PeerAuthentication
 * in every primary: each istiod reads Istio config only from its own cluster, and configures the proxies of every
 * cluster it serves, so one missing primary leaves its backends accepting plain text.
 */
export const observabilityMtlsStrict: StackValidationPolicy = {
    name: "observability-mtls-strict",
    description:
        "Every namespace hosting Prometheus, Jaeger or Grafana has a STRICT namespace-wide PeerAuthentication in every primary.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        // Namespace -> the releases it hosts; a release whose namespace is unknown is skipped.
        const hosted = new Map<string, Res[]>();
        for (const r of all) {
            if (observabilityChartOf(r.type, r.props) === undefined) continue;
            const ns = str(r.props, "namespace");
            if (isUnknown(ns)) continue;
            const key = ns || "default";
            hosted.set(key, [...(hosted.get(key) ?? []), r]);
        }
        const peerAuths = all.filter((r) => peerAuthenticationType.test(r.type));
        for (const [cluster, istiod] of controlPlanes(all).primaries) {
            const here = peerAuths.filter((r) => r.cluster === cluster);
            for (const [ns, releases] of hosted) {
                const names = releases.map((r) => r.name).join(", ");
                // Namespace-wide PeerAuthentications of this namespace: their modes, UNKNOWN where unsure.
                const modes: (string | Unknown | undefined)[] = [];
                for (const pa of here) {
                    const paNs = str(pa.props, "metadata", "namespace");
                    const spec = at(pa.props, "spec");
                    if (isUnknown(paNs)) modes.push(UNKNOWN);
                    else if ((paNs || "default") !== ns) continue;
                    else if (isUnknown(spec)) modes.push(UNKNOWN);
                    else if (!selectsWorkloads(spec)) modes.push(str(spec, "mtls", "mode"));
                }
                if (modes.some(isUnknown) || modes.includes("STRICT")) continue;
                reportViolation(
                    modes.length === 0
                        ? `primary ${cluster} has no PeerAuthentication in namespace ${ns}, which hosts ${names}: ` +
                              "the backends there accept plain text; every primary needs mTLS STRICT in that " +
                              `namespace, which the program writes for \`${observabilityKey}\``
                        : `primary ${cluster} sets mTLS ${modes.map((m) => m ?? "UNSET").join(", ")} in namespace ` +
                              `${ns}, which hosts ${names}; it must be STRICT, as the program writes it for ` +
                              `\`${observabilityKey}\``,
                    istiod.urn,
                );
            }
        }
    },
};

/** The telemetry policies. */
export const telemetryPolicies = [
    tracingSamplingCeiling,
    tracingCollectorInMesh,
    observabilityMeshOnly,
    observabilityMtlsStrict,
];
