/** What each cluster runs for observability: releases, stub Services, and the Istio objects that admit and scrape them. */
import { IstioObject } from "../istioObjects";
import { injectionRevision } from "../revisions";
import { injectionLabel, managedByLabel } from "../names";
import { principal } from "../security";
import { projectName } from "../core";
import type { CoreTopology } from "../core";

import {
    ChartPin,
    ObservabilitySettings,
    clusterPrometheusName,
    observabilityNames,
    observabilityPorts,
} from "./settings";
import {
    ClusterObservability,
    HubPlan,
    KubeObject,
    clusterPrometheusValues,
    grafanaValues,
    hubPrometheusValues,
    jaegerValues,
} from "./values";

/** Pod selectors the access policies use: the charts' labels, with the release name as the instance. */
export const observabilitySelectors = {
    clusterPrometheus: {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/instance": observabilityNames.clusterRelease,
    },
    hubPrometheus: {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/instance": observabilityNames.hubRelease,
    },
    jaeger: {
        "app.kubernetes.io/name": "jaeger",
        "app.kubernetes.io/instance": observabilityNames.jaeger,
        "app.kubernetes.io/component": "all-in-one",
    },
} as const;

export function allow(
    name: string,
    namespace: string,
    selector: Record<string, string>,
    rules: Record<string, unknown>[],
): IstioObject {
    return {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name, namespace },
        spec: { selector: { matchLabels: { ...selector } }, action: "ALLOW", rules },
    };
}

/**
 * The Istio objects of the observability namespace, the same in every primary: STRICT mTLS, and who may call
 * what. An ALLOW policy with rules denies everything else to the pods it selects; with none, everything.
 */
/** What the observability feature reads of the topology: the core and its own section. */
export interface ObservabilityInput extends CoreTopology {
    readonly observability?: ObservabilitySettings;
}

export function observabilityIstioObjects(
    topology: ObservabilityInput,
    s: ObservabilitySettings,
): IstioObject[] {
    const ns = s.namespace;
    const td = topology.mesh.trustDomain;
    const hubPrometheus = principal(td, ns, observabilityNames.hubService);
    const grafana = principal(td, ns, observabilityNames.grafana);
    const objects: IstioObject[] = [
        {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: "default", namespace: ns },
            spec: { mtls: { mode: "STRICT" } },
        },
    ];
    if (s.metrics) {
        objects.push(
            allow("prometheus-federate", ns, observabilitySelectors.clusterPrometheus, [
                {
                    from: [{ source: { principals: [hubPrometheus] } }],
                    to: [
                        {
                            operation: {
                                ports: [String(observabilityPorts.prometheus)],
                                methods: ["GET"],
                                paths: ["/federate"],
                            },
                        },
                    ],
                },
            ]),
            allow(
                "prometheus-hub",
                ns,
                observabilitySelectors.hubPrometheus,
                s.dashboards
                    ? [
                          {
                              from: [{ source: { principals: [grafana] } }],
                              to: [{ operation: { ports: [String(observabilityPorts.prometheus)] } }],
                          },
                      ]
                    : [],
            ),
        );
    }
    if (s.tracing.backend === "jaeger") {
        objects.push(
            allow("jaeger", ns, observabilitySelectors.jaeger, [
                // Spans come from every proxy of the mesh, each with its own identity: any of the mesh's.
                {
                    from: [
                        {
                            source: {
                                principals: [td, ...(topology.mesh.trustDomainAliases ?? [])].map(
                                    (d) => `${d}/*`,
                                ),
                            },
                        },
                    ],
                    to: [{ operation: { ports: [String(observabilityPorts.otlpGrpc)] } }],
                },
                ...(s.dashboards
                    ? [
                          {
                              from: [{ source: { principals: [grafana] } }],
                              to: [{ operation: { ports: [String(observabilityPorts.jaegerUi)] } }],
                          },
                      ]
                    : []),
            ]),
        );
    }
    return objects;
}

/** Everything observability puts in each cluster, in `istio-multicluster:clusters` order. */
export function observabilityPlan(topology: ObservabilityInput): ClusterObservability[] {
    const s = topology.observability;
    if (!s) return [];
    const names = topology.clusters.map((c) => c.name);
    const istioObjects = observabilityIstioObjects(topology, s);
    const chartRelease = (releaseName: string, chart: ChartPin, values: Record<string, unknown>) => ({
        releaseName,
        chart,
        values,
    });
    return topology.clusters.map((cluster) => {
        const isHub = cluster.name === s.hub;
        const hub: HubPlan | undefined = isHub
            ? {
                  ...(s.metrics
                      ? {
                            prometheus: chartRelease(
                                observabilityNames.hubRelease,
                                s.charts.prometheus,
                                hubPrometheusValues(s, names),
                            ),
                        }
                      : {}),
                  stubs: s.metrics
                      ? names.filter((c) => c !== s.hub).map((c) => stubService(c, s.namespace))
                      : [],
                  ...(s.tracing.backend === "jaeger"
                      ? { jaeger: chartRelease(observabilityNames.jaeger, s.charts.jaeger, jaegerValues(s)) }
                      : {}),
                  ...(s.dashboards
                      ? {
                            grafana: chartRelease(
                                observabilityNames.grafana,
                                s.charts.grafana,
                                grafanaValues(s, topology.mesh.istio.version),
                            ),
                        }
                      : {}),
              }
            : undefined;
        return {
            cluster,
            namespace: {
                name: s.namespace,
                labels: { ...managedByLabel, ...injectionLabel(injectionRevision(topology.mesh.istio)) },
            },
            ...(s.metrics
                ? {
                      prometheus: chartRelease(
                          observabilityNames.clusterRelease,
                          s.charts.prometheus,
                          clusterPrometheusValues(s, cluster.name),
                      ),
                  }
                : {}),
            ...(hub ? { hub } : {}),
            istioObjects: cluster.role === "primary" ? istioObjects : [],
        };
    });
}

/** The hub's stand-in for another cluster's Prometheus Service: same name and port, no selector, no endpoints. */
export function stubService(cluster: string, namespace: string): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
            name: clusterPrometheusName(cluster),
            namespace,
            labels: { ...managedByLabel, [`${projectName}/endpoints-in`]: cluster },
        },
        spec: {
            type: "ClusterIP",
            ports: [
                {
                    name: "http",
                    port: observabilityPorts.prometheus,
                    targetPort: observabilityPorts.prometheus,
                    protocol: "TCP",
                },
            ],
        },
    };
}

/** How to reach one UI: a port-forward to the hub, then a local URL. */
export interface UiAccess {
    readonly portForward: string;
    readonly url: string;
}

/** The port-forward command and URL of each UI the hub runs. */
export function uiAccess(
    topology: ObservabilityInput,
): Partial<Record<"prometheus" | "jaeger" | "grafana", UiAccess>> {
    const s = topology.observability;
    if (!s) return {};
    const hub = topology.clusters.find((c) => c.name === s.hub)!;
    const target =
        hub.access.kind === "context"
            ? `--context ${hub.access.context}`
            : `--kubeconfig <the kubeconfig of ${hub.name}>`;
    const forward = (service: string, local: number, remote: number): UiAccess => ({
        portForward: `kubectl ${target} -n ${s.namespace} port-forward svc/${service} ${local}:${remote}`,
        url: `http://localhost:${local}`,
    });
    return {
        ...(s.metrics
            ? {
                  prometheus: forward(
                      observabilityNames.hubService,
                      observabilityPorts.prometheus,
                      observabilityPorts.prometheus,
                  ),
              }
            : {}),
        ...(s.tracing.backend === "jaeger"
            ? {
                  jaeger: forward(
                      observabilityNames.jaeger,
                      observabilityPorts.jaegerUi,
                      observabilityPorts.jaegerUi,
                  ),
              }
            : {}),
        ...(s.dashboards
            ? { grafana: forward(observabilityNames.grafana, 3000, observabilityPorts.grafana) }
            : {}),
    };
}
