/**
 * The local clusters' cloud load balancer, and the east-west gateway's TLS passthrough stand-in (see
 * supervisor.ts). Addresses come from the cluster's own loopback range (state.ts); with `--lb hostname` the
 * status reports `<service>.<namespace>.<cluster>.s<slot>.lb.e2e.test` (RFC 2606's reserved `.test`), which
 * /etc/hosts resolves to the address.
 */
import * as net from "node:net";
import { Api, Json } from "./api";
import { addHostsEntry } from "./hosts";
import { log } from "./log";
import { ClusterState, MeshState } from "./state";

interface ServicePort {
    name?: string;
    port: number;
    targetPort?: number | string;
    protocol?: string;
}

interface Service {
    metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
    spec: { type?: string; selector?: Record<string, string>; ports?: ServicePort[]; externalIPs?: string[] };
    status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

interface IstioObject {
    metadata: { name: string; namespace: string };
    spec: Json;
}

interface Route {
    /** What the route was read from, for the log. */
    readonly via: string;
    readonly host: string;
    readonly port: number;
}

/** The annotation that asks for a given load-balancer address, as MetalLB reads it. */
export const requestedAddressAnnotation = "metallb.io/loadBalancerIPs";

/** The hostname a load balancer reports in hostname mode. */
export function lbHostname(svc: { name: string; namespace: string }, cluster: string, slot: number): string {
    return `${svc.name}.${svc.namespace}.${cluster}.s${slot}.lb.e2e.test`;
}

/** Where a connection to `address:port` goes: found at connect time, so it follows the live objects. */
type Resolve = () => Promise<{ host: string; port: number } | undefined>;

export class LoadBalancers {
    private readonly assigned = new Map<string, string>();
    private readonly listeners = new Map<string, { server: net.Server; resolve: { current: Resolve } }>();

    constructor(
        private readonly state: MeshState,
        private readonly apis: ReadonlyMap<string, Api>,
    ) {}

    async sync(c: ClusterState): Promise<void> {
        const api = this.apis.get(c.name)!;
        const services = await api.list<Service>("/api/v1/services");
        const lbs = services.filter((s) => s.spec.type === "LoadBalancer");
        const wanted = new Map<string, Resolve>();
        for (const svc of lbs) {
            const address = this.addressOf(c, svc);
            const hostname =
                this.state.lb === "hostname" ? lbHostname(svc.metadata, c.name, this.state.slot) : undefined;
            if (hostname) addHostsEntry(this.state.dir, hostname, address);
            const ingress = [hostname ? { hostname } : { ip: address }];
            // The API server defaults fields of its own (ipMode): compare what this controller sets.
            const current = (svc.status?.loadBalancer?.ingress ?? []).map((i) =>
                i.hostname ? { hostname: i.hostname } : { ip: i.ip },
            );
            if (JSON.stringify(current) !== JSON.stringify(ingress)) {
                await api.json(
                    "PATCH",
                    `/api/v1/namespaces/${svc.metadata.namespace}/services/${svc.metadata.name}/status`,
                    { status: { loadBalancer: { ingress } } },
                    "application/merge-patch+json",
                );
                log(
                    `${c.name}: load balancer ${svc.metadata.namespace}/${svc.metadata.name} at ${hostname ?? address}`,
                );
            }
            for (const p of svc.spec.ports ?? []) {
                if ((p.protocol ?? "TCP") !== "TCP") continue;
                wanted.set(`${address}:${p.port}`, () => this.passthrough(c, svc, p));
            }
        }
        // External IPs in the cluster's range are served on the Service's ports, as kube-proxy would.
        for (const svc of services.filter((s) => s.spec.type !== "LoadBalancer")) {
            for (const ip of (svc.spec.externalIPs ?? []).filter((x) => x.startsWith(`${c.lbPrefix}.`))) {
                for (const p of svc.spec.ports ?? []) {
                    if ((p.protocol ?? "TCP") === "TCP")
                        wanted.set(`${ip}:${p.port}`, () => this.passthrough(c, svc, p));
                }
            }
        }
        for (const [key, l] of this.listeners) {
            if (key.startsWith(`${c.lbPrefix}.`) && !wanted.has(key)) {
                l.server.close();
                this.listeners.delete(key);
            }
        }
        for (const [key, resolve] of wanted) {
            const existing = this.listeners.get(key);
            if (existing) {
                existing.resolve.current = resolve;
                continue;
            }
            this.listen(key, resolve);
        }
    }

    private addressOf(c: ClusterState, svc: Service): string {
        const key = `${c.name}/${svc.metadata.namespace}/${svc.metadata.name}/${svc.metadata.uid}`;
        let address = this.assigned.get(key);
        if (!address) {
            const taken = new Set(this.assigned.values());
            const requested = svc.metadata.annotations?.[requestedAddressAnnotation]?.split(",")[0]?.trim();
            if (requested && requested.startsWith(`${c.lbPrefix}.`) && !taken.has(requested))
                address = requested;
            else if (requested)
                log(
                    `${c.name}: ${svc.metadata.namespace}/${svc.metadata.name} asks for ${requested}, not free in ${c.lbPrefix}.0/24`,
                );
            // After a supervisor restart, keep what the status already reports.
            const reported = svc.status?.loadBalancer?.ingress?.[0]?.ip;
            if (!address && reported?.startsWith(`${c.lbPrefix}.`) && !taken.has(reported))
                address = reported;
            // Automatic addresses from .1 to .199; .200 and above are for requests.
            for (let n = 1; !address && n < 200; n++) {
                if (!taken.has(`${c.lbPrefix}.${n}`)) address = `${c.lbPrefix}.${n}`;
            }
            if (!address) throw new Error(`${c.name}: no load-balancer address left in ${c.lbPrefix}.0/24`);
            this.assigned.set(key, address);
        }
        return address;
    }

    private listen(key: string, resolve: Resolve): void {
        const [host, port] = [
            key.slice(0, key.lastIndexOf(":")),
            Number(key.slice(key.lastIndexOf(":") + 1)),
        ];
        const holder = { current: resolve };
        const server = net.createServer((socket) => {
            socket.on("error", () => socket.destroy());
            holder
                .current()
                .then((target) => {
                    if (!target) {
                        socket.destroy();
                        return;
                    }
                    const upstream = net.connect(target.port, target.host);
                    upstream.on("error", () => socket.destroy());
                    socket.pipe(upstream).pipe(socket);
                })
                .catch(() => socket.destroy());
        });
        server.on("error", (e) => log(`load balancer ${key}: ${e.message}`));
        server.listen(port, host);
        this.listeners.set(key, { server, resolve: holder });
    }

    /**
     * The stand-in for the gateway's Envoy: for a port that a Gateway selecting this Service's pods serves
     * with TLS `PASSTHROUGH`, the destination of the VirtualService bound to it, at that Service's ready
     * endpoint. Undefined (the connection is closed) for anything else.
     */
    private async passthrough(
        c: ClusterState,
        svc: Service,
        port: ServicePort,
    ): Promise<{ host: string; port: number } | undefined> {
        const api = this.apis.get(c.name)!;
        const podPort = typeof port.targetPort === "number" ? port.targetPort : port.port;
        const route = await findRoute(api, svc, podPort);
        if (!route) return undefined;
        const target = await endpointOf(api, route.host, route.port);
        if (!target)
            log(`${c.name}: ${route.via} routes to ${route.host}:${route.port}, which has no ready endpoint`);
        return target;
    }

    close(): void {
        for (const l of this.listeners.values()) l.server.close();
        this.listeners.clear();
    }
}

async function listIstio(api: Api, kind: string): Promise<IstioObject[]> {
    const r = await api.request("GET", `/apis/networking.istio.io/v1/${kind}`);
    return r.status === 200 ? ((JSON.parse(r.body) as { items?: IstioObject[] }).items ?? []) : [];
}

async function findRoute(api: Api, svc: Service, podPort: number): Promise<Route | undefined> {
    const selector = svc.spec.selector ?? {};
    const query = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    const pods = query
        ? await api.list<{ metadata: { labels?: Record<string, string> } }>(
              `/api/v1/namespaces/${svc.metadata.namespace}/pods?labelSelector=${encodeURIComponent(query)}`,
          )
        : [];
    const podLabels = { ...selector, ...(pods[0]?.metadata.labels ?? {}) };
    const gateways = (await listIstio(api, "gateways")).filter((g) =>
        Object.entries((g.spec.selector as Record<string, string> | undefined) ?? {}).every(
            ([k, v]) => podLabels[k] === v,
        ),
    );
    const services = await listIstio(api, "virtualservices");
    for (const gw of gateways) {
        const servers =
            (gw.spec.servers as { port?: { number?: number }; tls?: { mode?: string } }[] | undefined) ?? [];
        if (!servers.some((s) => s.port?.number === podPort && s.tls?.mode === "PASSTHROUGH")) continue;
        for (const vs of services) {
            const bound = ((vs.spec.gateways as string[] | undefined) ?? []).some(
                (g) =>
                    g === `${gw.metadata.namespace}/${gw.metadata.name}` ||
                    (g === gw.metadata.name && vs.metadata.namespace === gw.metadata.namespace),
            );
            if (!bound) continue;
            type TlsRoute = {
                match?: { port?: number }[];
                route?: { destination?: { host?: string; port?: { number?: number } } }[];
            };
            for (const tls of (vs.spec.tls as TlsRoute[] | undefined) ?? []) {
                if (tls.match && !tls.match.some((m) => m.port === undefined || m.port === podPort)) continue;
                const d = tls.route?.[0]?.destination;
                if (!d?.host) continue;
                return {
                    via: `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}`,
                    host: qualify(d.host, vs.metadata.namespace),
                    port: d.port?.number ?? podPort,
                };
            }
        }
    }
    return undefined;
}

function qualify(host: string, namespace: string): string {
    const parts = host
        .replace(/\.svc\.cluster\.local$/, "")
        .replace(/\.svc$/, "")
        .split(".");
    return parts.length >= 2 ? `${parts[0]}.${parts[1]}` : `${parts[0]}.${namespace}`;
}

/** A ready endpoint (Pod address and port) of Service `name.namespace` for its port `port`. */
async function endpointOf(
    api: Api,
    host: string,
    port: number,
): Promise<{ host: string; port: number } | undefined> {
    const [name, namespace] = host.split(".") as [string, string];
    const svc = await api.get<Service>(`/api/v1/namespaces/${namespace}/services/${name}`);
    const sp =
        svc?.spec.ports?.find((p) => p.port === port) ??
        (svc?.spec.ports?.length === 1 ? svc.spec.ports[0] : undefined);
    if (!sp) return undefined;
    type Slice = {
        ports?: { name?: string; port?: number }[];
        endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
    };
    const slices = await api.list<Slice>(
        `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`,
    );
    for (const s of slices) {
        const p = s.ports?.find((x) => (x.name ?? "") === (sp.name ?? "")) ?? s.ports?.[0];
        const e = s.endpoints?.find((x) => x.conditions?.ready !== false && x.addresses.length > 0);
        if (p?.port && e) return { host: e.addresses[0]!, port: p.port };
    }
    return undefined;
}
