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

/**
 * Where a connection to `address:port` goes, given the server name its TLS ClientHello asks for (SNI, if
 * any): found at connect time, so it follows the live objects.
 */
type Resolve = (sni: string | undefined) => Promise<{ host: string; port: number } | undefined>;

/** The largest ClientHello read before routing (a TLS record is at most 16 KiB plus its header). */
const maxHello = 16 * 1024 + 5;

/**
 * The server name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3): undefined when there is none or the
 * bytes are no ClientHello, null when more bytes are needed. How Envoy's TLS inspector routes a
 * passthrough connection before any byte goes upstream.
 */
export function clientHelloSni(b: Buffer): string | undefined | null {
    if (b.length < 5) return null;
    if (b[0] !== 0x16) return undefined;
    const recordEnd = 5 + b.readUInt16BE(3);
    if (b.length < recordEnd) return b.length >= maxHello ? undefined : null;
    let at = 5;
    if (b[at] !== 0x01) return undefined;
    at += 4 + 2 + 32; // handshake type and length, client version, random
    at += 1 + (b[at] ?? 0); // session id
    if (at + 2 > recordEnd) return undefined;
    at += 2 + b.readUInt16BE(at); // cipher suites
    at += 1 + (b[at] ?? 0); // compression methods
    if (at + 2 > recordEnd) return undefined;
    const extensionsEnd = Math.min(recordEnd, at + 2 + b.readUInt16BE(at));
    at += 2;
    while (at + 4 <= extensionsEnd) {
        const type = b.readUInt16BE(at);
        const length = b.readUInt16BE(at + 2);
        at += 4;
        if (type === 0 && at + 5 <= extensionsEnd) {
            // server_name_list: its length, then (name_type 0 = host_name, length, name).
            const nameLength = b.readUInt16BE(at + 3);
            return b[at + 2] === 0 ? b.toString("ascii", at + 5, at + 5 + nameLength) : undefined;
        }
        at += length;
    }
    return undefined;
}

/** Whether a VirtualService's `sniHosts` entry matches a server name as Envoy's filter chain match does. */
function sniMatches(pattern: string, sni: string | undefined): boolean {
    if (pattern === "*") return true;
    if (sni === undefined) return false;
    return pattern.startsWith("*.") ? sni.endsWith(pattern.slice(1)) : pattern === sni;
}

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
                wanted.set(`${address}:${p.port}`, (sni) => this.passthrough(c, svc, p, sni));
            }
        }
        // External IPs in the cluster's range are served on the Service's ports, as kube-proxy would.
        for (const svc of services.filter((s) => s.spec.type !== "LoadBalancer")) {
            for (const ip of (svc.spec.externalIPs ?? []).filter((x) => x.startsWith(`${c.lbPrefix}.`))) {
                for (const p of svc.spec.ports ?? []) {
                    if ((p.protocol ?? "TCP") === "TCP")
                        wanted.set(`${ip}:${p.port}`, (sni) => this.passthrough(c, svc, p, sni));
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
            // Read the ClientHello first (the client speaks first in TLS), route by its server name, then hand
            // the bytes read and the rest of the stream to the upstream.
            let hello = Buffer.alloc(0);
            const onData = (chunk: Buffer) => {
                hello = Buffer.concat([hello, chunk]);
                const sni = clientHelloSni(hello);
                if (sni === null) return;
                socket.off("data", onData);
                socket.pause();
                holder
                    .current(sni)
                    .then((target) => {
                        if (!target) {
                            socket.destroy();
                            return;
                        }
                        const upstream = net.connect(target.port, target.host);
                        upstream.on("error", () => socket.destroy());
                        upstream.write(hello);
                        socket.pipe(upstream).pipe(socket);
                        socket.resume();
                    })
                    .catch(() => socket.destroy());
            };
            socket.on("data", onData);
        });
        server.on("error", (e) => log(`load balancer ${key}: ${e.message}`));
        server.listen(port, host);
        this.listeners.set(key, { server, resolve: holder });
    }

    /**
     * The stand-in for the gateway's Envoy: for a port that a Gateway selecting this Service's pods serves
     * with TLS `PASSTHROUGH`, the destination of the VirtualService bound to it whose match takes the port and
     * the connection's server name (SNI), at that Service's ready endpoint. Undefined (the connection is
     * closed) for anything else.
     */
    private async passthrough(
        c: ClusterState,
        svc: Service,
        port: ServicePort,
        sni: string | undefined,
    ): Promise<{ host: string; port: number } | undefined> {
        const api = this.apis.get(c.name)!;
        const podPort = typeof port.targetPort === "number" ? port.targetPort : port.port;
        const route = await findRoute(api, svc, podPort, sni);
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

async function findRoute(
    api: Api,
    svc: Service,
    podPort: number,
    sni: string | undefined,
): Promise<Route | undefined> {
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
                match?: { port?: number; sniHosts?: string[] }[];
                route?: { destination?: { host?: string; port?: { number?: number } } }[];
            };
            // A match takes the port and, as Envoy routes passthrough TLS, one of its `sniHosts`.
            for (const tls of (vs.spec.tls as TlsRoute[] | undefined) ?? []) {
                const matched = (tls.match ?? [{}]).some(
                    (m) =>
                        (m.port === undefined || m.port === podPort) &&
                        (m.sniHosts === undefined || m.sniHosts.some((h) => sniMatches(h, sni))),
                );
                if (!matched) continue;
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
