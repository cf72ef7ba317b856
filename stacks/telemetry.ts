/**
 * Telemetry through Istio's own APIs: a tracing provider in every primary's mesh config (`meshConfig.
 * extensionProviders`) pointing at the hub's collector Service, one `telemetry.istio.io/v1` Telemetry in every
 * primary's root namespace (sampling from config, a `cluster` tag read from the proxy's own environment), and
 * JSON access logs on or off.
 *
 * Pure: the reader of `istio-multicluster:observability` (one call from stacks/validate.ts), the istiod values
 * and the Telemetry object are functions of the settings, identical on every primary.
 */
import type { IstiodValues } from "../components/chartValues";
import type { IstioObject } from "./istioObjects";
import { istioNamespace } from "./names";
import { projectName } from "./topology";

/** The config key this module reads. */
export const observabilityKey = `${projectName}:observability`;

/** The tracing protocol of the hub's collector. */
export type TracingProtocol = "opentelemetry" | "zipkin";

/** The validated `istio-multicluster:observability`. */
export interface ObservabilitySettings {
    /** The cluster whose collector receives every cluster's spans. */
    readonly hub: string;
    readonly tracing: {
        /** Percent of requests traced when no caller decided (0-100); default 1. */
        readonly samplingPercent: number;
        readonly protocol: TracingProtocol;
        /** The collector Service's name, which exists only in the hub, so the mesh routes it only there. */
        readonly service: string;
        readonly port: number;
    };
    /** JSON access logs of every proxy on stdout; default off. */
    readonly accessLogs: boolean;
}

/** The name of the tracing provider in mesh config, which the Telemetry names. */
export const tracingProviderName = "mesh-tracing";

/** Defaults per protocol: OTLP gRPC on 4317 to the OpenTelemetry collector; Zipkin on 9411. */
export const collectorDefaults: Record<TracingProtocol, { service: string; port: number }> = {
    opentelemetry: { service: "opentelemetry-collector.observability.svc.cluster.local", port: 4317 },
    zipkin: { service: "zipkin.observability.svc.cluster.local", port: 9411 },
};

/**
 * The environment variable every injected proxy carries with its own cluster ID (the istiod chart's
 * `files/injection-template.yaml` and `gateway-injection-template.yaml` set it from the injecting istiod's
 * cluster, which for a remote is the cluster named in its injection path). A literal per cluster would be
 * wrong for the remotes a primary's root-namespace Telemetry also covers.
 */
export const clusterIdEnv = "ISTIO_META_CLUSTER_ID";

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function describe(v: unknown): string {
    if (Array.isArray(v)) return `a list of ${v.length}`;
    if (typeof v === "object" && v !== null) return "a map";
    return JSON.stringify(v) ?? String(v);
}

/** Validates `istio-multicluster:observability` against the mesh's clusters; absent means none. */
export function validateObservability(
    raw: unknown,
    clusters: readonly string[],
): { settings?: ObservabilitySettings; errors: string[] } {
    const errors: string[] = [];
    const path = observabilityKey;
    if (raw === undefined || raw === null) return { errors };
    if (typeof raw !== "object" || Array.isArray(raw)) {
        return { errors: [`${path}: must be a map such as \`{ hub: cluster1 }\`, got ${describe(raw)}`] };
    }
    const o = raw as Record<string, unknown>;
    for (const k of Object.keys(o)) {
        if (!["hub", "tracing", "accessLogs"].includes(k))
            errors.push(`${path}.${k}: unknown key; allowed keys are: hub, tracing, accessLogs`);
    }
    const known = clusters.join(", ") || "none";
    const hub = o.hub;
    if (hub === undefined) {
        errors.push(
            `${path}.hub: required; name the cluster that runs the collector (clusters are: ${known})`,
        );
    } else if (typeof hub !== "string" || !clusters.includes(hub)) {
        errors.push(`${path}.hub: ${describe(hub)} is not a cluster of the mesh; clusters are: ${known}`);
    }
    const t = o.tracing ?? {};
    let tracing: ObservabilitySettings["tracing"] | undefined;
    if (typeof t !== "object" || t === null || Array.isArray(t)) {
        errors.push(`${path}.tracing: must be a map such as \`{ samplingPercent: 1 }\`, got ${describe(t)}`);
    } else {
        const tr = t as Record<string, unknown>;
        const allowed = ["samplingPercent", "protocol", "service", "port"];
        for (const k of Object.keys(tr)) {
            if (!allowed.includes(k))
                errors.push(`${path}.tracing.${k}: unknown key; allowed keys are: ${allowed.join(", ")}`);
        }
        const sampling = tr.samplingPercent ?? 1;
        if (typeof sampling !== "number" || !Number.isFinite(sampling) || sampling < 0 || sampling > 100) {
            errors.push(
                `${path}.tracing.samplingPercent: must be a number from 0 to 100, got ${describe(sampling)}`,
            );
        }
        const protocol = tr.protocol ?? "opentelemetry";
        if (protocol !== "opentelemetry" && protocol !== "zipkin") {
            errors.push(
                `${path}.tracing.protocol: ${describe(protocol)} is not one of: opentelemetry, zipkin`,
            );
        }
        const d = collectorDefaults[protocol === "zipkin" ? "zipkin" : "opentelemetry"];
        const service = tr.service ?? d.service;
        if (typeof service !== "string" || !dns1123Subdomain.test(service) || !service.includes(".svc.")) {
            errors.push(
                `${path}.tracing.service: ${describe(service)} is not a Service name such as ` +
                    `${d.service}; name the hub's collector Service by its cluster-local DNS name`,
            );
        }
        const port = tr.port ?? d.port;
        if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
            errors.push(`${path}.tracing.port: must be a port number from 1 to 65535, got ${describe(port)}`);
        }
        tracing = {
            samplingPercent: sampling as number,
            protocol: protocol as TracingProtocol,
            service: service as string,
            port: port as number,
        };
    }
    if (o.accessLogs !== undefined && typeof o.accessLogs !== "boolean") {
        errors.push(`${path}.accessLogs: must be true or false, got ${describe(o.accessLogs)}`);
    }
    if (errors.length > 0 || !tracing) return { errors };
    return { settings: { hub: hub as string, tracing, accessLogs: o.accessLogs === true }, errors };
}

/** A tracing extension provider of mesh config (the subset of MeshConfig.ExtensionProvider used here). */
export type ExtensionProvider =
    | { readonly name: string; readonly opentelemetry: { readonly service: string; readonly port: number } }
    | { readonly name: string; readonly zipkin: { readonly service: string; readonly port: number } };

/** What every primary's istiod gets: the tracing provider, and JSON access logs when on. */
export function telemetryIstiodValues(s: ObservabilitySettings): IstiodValues {
    const target = { service: s.tracing.service, port: s.tracing.port };
    const provider: ExtensionProvider =
        s.tracing.protocol === "zipkin"
            ? { name: tracingProviderName, zipkin: target }
            : { name: tracingProviderName, opentelemetry: target };
    return {
        meshConfig: {
            extensionProviders: [provider],
            ...(s.accessLogs ? { accessLogFile: "/dev/stdout", accessLogEncoding: "JSON" as const } : {}),
        },
    };
}

/**
 * The mesh-wide Telemetry in the root namespace of every primary: traces to the hub's collector at the
 * configured rate, each span tagged `cluster` with the proxy's own cluster ID (unknown if the variable is absent).
 */
export function meshTelemetry(s: ObservabilitySettings): IstioObject {
    return {
        apiVersion: "telemetry.istio.io/v1",
        kind: "Telemetry",
        metadata: { name: "mesh-default", namespace: istioNamespace },
        spec: {
            tracing: [
                {
                    providers: [{ name: tracingProviderName }],
                    randomSamplingPercentage: s.tracing.samplingPercent,
                    customTags: {
                        cluster: { environment: { name: clusterIdEnv, defaultValue: "unknown" } },
                    },
                },
            ],
        },
    };
}
