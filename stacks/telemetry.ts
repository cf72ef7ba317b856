/**
 * Telemetry through Istio's own APIs: a tracing provider in every primary's mesh config (`meshConfig.
 * extensionProviders`) pointing at the hub's collector Service, one `telemetry.istio.io/v1` Telemetry in every
 * primary's root namespace (sampling from config, a `cluster` tag read from the proxy's own environment), and
 * JSON access logs on or off.
 *
 * Pure: the istiod values and the Telemetry object are functions of the settings (stacks/observability/ reads
 * them), identical on every primary.
 */
import type { IstiodValues } from "./chartValues/istiod";
import type { IstioObject } from "./istioObjects";
import { istioNamespace } from "./names";
import type { ObservabilitySettings } from "./observability";

export type { ObservabilitySettings } from "./observability";

/** The name of the tracing provider in mesh config, which the Telemetry names. */
export const tracingProviderName = "mesh-tracing";

/**
 * The environment variable every injected proxy carries with its own cluster ID (the istiod chart's
 * `files/injection-template.yaml` and `gateway-injection-template.yaml` set it from the injecting istiod's
 * cluster, which for a remote is the cluster named in its injection path). A literal per cluster would be
 * wrong for the remotes a primary's root-namespace Telemetry also covers.
 */
export const clusterIdEnv = "ISTIO_META_CLUSTER_ID";

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
