/**
 * A topology played against local clusters: the stack config pointed at them (each cluster's `apiServer` is
 * its local API server, the Istio version under test, real external CA
 * material where the stack brings its own), and the outputs `pulumi up` would read back taken from the live
 * clusters: reader tokens as the token controller filled them, load-balancer addresses as the load balancer
 * reported them, real keys and certificates for the `tls` resources.
 */
import { isIP } from "node:net";
import { Api } from "../../../tools/clusters/api";
import { addHostsEntry } from "../../../tools/clusters/hosts";
import { requestedAddressAnnotation } from "../../../tools/clusters/loadBalancers";
import { adminAccess, MeshState } from "../../../tools/clusters/state";
import { ApplyOutputs, StackConfig } from "../../../tools/planner";
import { readerTokenSecretName } from "../../../components/clusterLink";
import { playCluster } from "../../support/playCluster";
import { playPki } from "../../support/playPki";
import { labelledCert, labelledKey } from "../../support/testPki";

const meshKey = "istio-multicluster:mesh";
const clustersKey = "istio-multicluster:clusters";

type Obj = Record<string, unknown>;

/**
 * An external CA for a stack that brings its own: the tests' labelled root and, per primary, an
 * intermediate under it with its key (test/support/testPki.ts), real enough for a real istiod.
 */
function externalCa(primaries: readonly string[]): {
    rootCert: string;
    intermediates: Record<string, { cert: string; key: string }>;
} {
    const intermediates: Record<string, { cert: string; key: string }> = {};
    for (const p of primaries) {
        intermediates[p] = { cert: labelledCert(`server tier ${p}`), key: labelledKey(`server tier ${p}`) };
    }
    return { rootCert: labelledCert("ROOT"), intermediates };
}

/** The config pointed at the local clusters (see the file's comment). */
export function localConfig(config: StackConfig, state: MeshState, version: string): StackConfig {
    const mesh = JSON.parse(config.values[meshKey]!) as Obj;
    const clusters = JSON.parse(config.values[clustersKey]!) as Obj[];
    const byName = new Map(state.clusters.map((c) => [c.name, c]));
    for (const c of clusters) {
        const local = byName.get(c.name as string);
        if (!local) throw new Error(`no local cluster ${String(c.name)}`);
        c.apiServer = local.server;
        // A fixed east-west IP is one the cluster's network must own: the fixtures' documentation addresses
        // (192.0.2.0/24 and the like) become one of its load-balancer range, which the load balancer serves
        // as externalIPs. A fixed hostname stays.
        const ew = c.eastWest as Obj | undefined;
        if (typeof ew?.address === "string" && isIP(ew.address) !== 0) {
            c.eastWest = { ...ew, address: `${local.lbPrefix}.250` };
        } else if (typeof ew?.address === "string") {
            // A fixed hostname names a load balancer provisioned in advance, with its DNS record: here the
            // address is asked of the load balancer (as MetalLB reads it) and the record is an /etc/hosts line.
            const address = `${local.lbPrefix}.240`;
            addHostsEntry(state.dir, ew.address, address);
            const annotations = {
                ...(ew.serviceAnnotations as Obj | undefined),
                [requestedAddressAnnotation]: address,
            };
            c.eastWest = { ...ew, serviceAnnotations: annotations };
        }
    }
    const istio = { ...(mesh.istio as Obj), version };
    const ca = mesh.ca as Obj | undefined;
    let newCa = ca;
    if (ca?.intermediates) {
        const made = externalCa(Object.keys(ca.intermediates));
        newCa = { ...ca, rootCert: made.rootCert, intermediates: made.intermediates };
    }
    const newMesh = { ...mesh, istio, ...(newCa ? { ca: newCa } : {}) };
    return {
        ...config,
        values: {
            ...config.values,
            [meshKey]: JSON.stringify(newMesh),
            [clustersKey]: JSON.stringify(clusters),
        },
    };
}

/** What the live clusters report, read before a plan (the mock's answers are synchronous). */
export interface LiveOutputs {
    /** Per cluster, the reader token Secret's data. */
    readonly tokens: ReadonlyMap<string, Record<string, string>>;
    /** Per cluster, the east-west gateway Service's status. */
    readonly gateways: ReadonlyMap<string, Obj>;
}

/** Reads the reader tokens and east-west load-balancer statuses of every cluster. */
export async function readLive(state: MeshState): Promise<LiveOutputs> {
    const tokens = new Map<string, Record<string, string>>();
    const gateways = new Map<string, Obj>();
    await Promise.all(
        state.clusters.map(async (c) => {
            const api = new Api(adminAccess(c));
            try {
                const t = await api.get<{ data?: Record<string, string> }>(
                    `/api/v1/namespaces/istio-system/secrets/${readerTokenSecretName}`,
                );
                if (t?.data?.token && t.data["ca.crt"]) tokens.set(c.name, t.data);
                const svc = await api.get<{ status?: Obj }>(
                    `/api/v1/namespaces/istio-system/services/istio-eastwestgateway`,
                );
                const ingress = (svc?.status?.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress;
                if (svc?.status && ingress && ingress.length > 0) gateways.set(c.name, svc.status);
            } finally {
                api.close();
            }
        }),
    );
    return { tokens, gateways };
}

/**
 * The outputs of a played update: live values where the clusters have them, the played ones (playCluster)
 * before they do, real PKI for `tls`.
 */
export function liveOutputs(
    live: LiveOutputs,
    lb: "ip" | "hostname",
    pki: Map<string, Record<string, unknown>>,
): ApplyOutputs {
    const played = playCluster(lb);
    return playPki((args) => {
        if (args.type === "kubernetes:core/v1:Secret" && args.name.endsWith("-reader-token")) {
            const data = live.tokens.get(args.name.replace(/-reader-token$/, ""));
            if (data) return { data };
        }
        if (args.type === "kubernetes:core/v1:Service" && args.name.endsWith("-eastwestgateway-service")) {
            const status = live.gateways.get(args.name.replace(/-eastwestgateway-service$/, ""));
            if (status) return { status };
        }
        return played(args);
    }, pki);
}
