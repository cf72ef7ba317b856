/**
 * The Istio objects the program applies beside the charts, as plain objects: pure, so tests validate each
 * against Istio's CRD schemas.
 */
import { istioNamespace } from "./names";
import { eastWestSelector } from "./values";

/** An Istio custom object as the Kubernetes API takes it. */
export interface IstioObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: Record<string, unknown>;
}

const networkingV1 = "networking.istio.io/v1";

/**
 * Exposes every service of the cluster to other networks: mTLS traffic on 15443 is passed through by SNI
 * (AUTO_PASSTHROUGH), so the gateway never terminates a workload's TLS.
 */
export function crossNetworkGateway(): IstioObject {
    return {
        apiVersion: networkingV1,
        kind: "Gateway",
        metadata: { name: "cross-network-gateway", namespace: istioNamespace },
        spec: {
            selector: { ...eastWestSelector },
            servers: [
                {
                    port: { number: 15443, name: "tls", protocol: "TLS" },
                    tls: { mode: "AUTO_PASSTHROUGH" },
                    hosts: ["*.local"],
                },
            ],
        },
    };
}

/** Exposes istiod's XDS (15012) and webhook (15017) ports to remotes, passed through untouched. */
export function istiodGateway(): IstioObject {
    return {
        apiVersion: networkingV1,
        kind: "Gateway",
        metadata: { name: "istiod-gateway", namespace: istioNamespace },
        spec: {
            selector: { ...eastWestSelector },
            servers: [
                {
                    port: { name: "tls-istiod", number: 15012, protocol: "tls" },
                    tls: { mode: "PASSTHROUGH" },
                    hosts: ["*"],
                },
                {
                    port: { name: "tls-istiodwebhook", number: 15017, protocol: "tls" },
                    tls: { mode: "PASSTHROUGH" },
                    hosts: ["*"],
                },
            ],
        },
    };
}

/** istiod's Service of a revision (the chart names it `istiod`, then `-<revision>`) and its cluster-local host. */
function istiodService(revision?: string): { readonly name: string; readonly host: string } {
    const name = revision ? `istiod-${revision}` : "istiod";
    return { name, host: `${name}.${istioNamespace}.svc.cluster.local` };
}

/**
 * Routes webhook calls made by URL at `host` (a hostname the east-west load balancer reported, which the API
 * server sends as SNI on 15017) to the webhook port of `revision`'s istiod: the serving revision's route
 * (`istiodVirtualService`) matches only its own names, and `host` is known only once the gateway exists.
 */
export function reportedHostVirtualService(revision: string, host: string): IstioObject {
    const service = istiodService(revision).host;
    return {
        apiVersion: networkingV1,
        kind: "VirtualService",
        metadata: { name: "istiod-vs-reported-host", namespace: istioNamespace },
        spec: {
            hosts: ["*"],
            gateways: ["istiod-gateway"],
            tls: [
                {
                    match: [{ port: 15017, sniHosts: [host] }],
                    route: [{ destination: { host: service, port: { number: 443 } } }],
                },
            ],
        },
    };
}

/**
 * Routes the exposed ports to istiod: 15012 to 15012, 15017 to the webhook's 443. With a revision, only
 * that revision's istiod is matched (by SNI) and targeted. `webhookHost` is the gateway's hostname when
 * remotes call the webhooks by URL at it: the API server then sends that name as SNI on 15017.
 */
export function istiodVirtualService(revision?: string, webhookHost?: string): IstioObject {
    const { name: service, host } = istiodService(revision);
    const sniHosts = revision ? [`${service}.${istioNamespace}.svc`, host] : ["*"];
    const route = (port: number, target: number) => ({
        match: [
            {
                port,
                sniHosts: revision && port === 15017 && webhookHost ? [...sniHosts, webhookHost] : sniHosts,
            },
        ],
        route: [{ destination: { host, port: { number: target } } }],
    });
    return {
        apiVersion: networkingV1,
        kind: "VirtualService",
        metadata: { name: revision ? `istiod-vs-${revision}` : "istiod-vs", namespace: istioNamespace },
        spec: { hosts: ["*"], gateways: ["istiod-gateway"], tls: [route(15012, 15012), route(15017, 443)] },
    };
}
