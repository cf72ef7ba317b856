/**
 * What `npm run clusters -- up` started in a directory, written to `<dir>/clusters.json` so that `down`, the
 * supervisor and the test tiers find every process, port and address again; and the address plan.
 *
 * Every `up` claims a slot s (0-63) and gets a network namespace of its own, `imc-e2e-<s>`, where all its
 * processes run: the clusters' network. A veth pair joins it to this host (host side 10.200.s.1, namespace
 * side 10.200.s.2, where the API servers listen), and the namespace's loopback holds 10.(100+s).0.0/16, so
 * any address in it is local there: cluster i gets pod IPs in 10.(100+s).(2i).0/24 (its simulated node's
 * podCIDR: each Pod has an address of its own that a process can listen on), load-balancer addresses in
 * 10.(100+s).(2i+1).0/24 and Service IPs in 10.(100+s).(200+i).0/24. Kubernetes refuses loopback
 * addresses in endpoints, so these are ordinary unicast addresses; the namespace has no default route, so
 * nothing any cluster does can reach beyond this host.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { ApiAccess } from "./api";
import { pkiFiles } from "./pki";

/** How load balancers report their address. */
export type LbMode = "ip" | "hostname";

/** The processes of one cluster, by role. */
export type ClusterProcess =
    "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

/** One cluster. */
export interface ClusterState {
    readonly name: string;
    readonly index: number;
    /** Its folder: PKI, etcd data, logs. */
    readonly dir: string;
    readonly server: string;
    readonly apiPort: number;
    readonly etcdPort: number;
    readonly etcdPeerPort: number;
    /** The simulated node's podCIDR. */
    readonly podCidr: string;
    /** The first three octets of its load-balancer addresses (`10.100.1`). */
    readonly lbPrefix: string;
    readonly serviceCidr: string;
    readonly nodeName: string;
    readonly pids: Partial<Record<ClusterProcess, number>>;
}

/** Everything one `up` started. */
export interface MeshState {
    readonly dir: string;
    readonly slot: number;
    /** The network namespace every process runs in. */
    readonly netns: string;
    readonly lb: LbMode;
    readonly clusters: ClusterState[];
    supervisorPid?: number;
    readonly startedAt: string;
}

/** Most clusters in one directory (the address plan's limit). */
export const maxClusters = 50;
/** Slots: 10.100.0.0/16 to 10.163.0.0/16, and 10.200.0.0/24 to 10.200.63.0/24 for the veths. */
export const slotCount = 64;

export function stateFile(dir: string): string {
    return path.join(dir, "clusters.json");
}

export function readState(dir: string): MeshState | undefined {
    const f = stateFile(dir);
    if (!fs.existsSync(f)) return undefined;
    return JSON.parse(fs.readFileSync(f, "utf8")) as MeshState;
}

export function writeState(state: MeshState): void {
    const f = stateFile(state.dir);
    fs.writeFileSync(`${f}.tmp`, JSON.stringify(state, null, 2) + "\n");
    fs.renameSync(`${f}.tmp`, f);
}

/** Whether a process is alive. */
export function alive(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Every pid a state records. */
export function pidsOf(state: MeshState): number[] {
    return [
        ...(state.supervisorPid ? [state.supervisorPid] : []),
        ...state.clusters.flatMap((c) => Object.values(c.pids).filter((p): p is number => !!p)),
    ];
}

/** The network of slot `slot`: its namespace, the veth addresses and the cluster range. */
export function networkPlan(slot: number) {
    return {
        netns: `imc-e2e-${slot}`,
        hostVeth: `imc${slot}h`,
        nsVeth: `imc${slot}n`,
        /** This host's end of the veth. */
        hostIp: `10.200.${slot}.1`,
        /** The namespace's end: the API servers and etcds listen here. */
        nsIp: `10.200.${slot}.2`,
        /** Local to the namespace (on its loopback), routed to it from this host. */
        clusterRange: `10.${100 + slot}.0.0/16`,
    };
}

/** The addresses and ports of cluster `index` in `slot` (ports are the namespace's own: no clashes). */
export function addressPlan(slot: number, index: number) {
    const a = 100 + slot;
    return {
        apiPort: 6443 + index,
        etcdPort: 20000 + 2 * index,
        etcdPeerPort: 20001 + 2 * index,
        podCidr: `10.${a}.${2 * index}.0/24`,
        /** The node's own address: the top of the pod range, which kwok hands out last. */
        nodeIp: `10.${a}.${2 * index}.254`,
        lbPrefix: `10.${a}.${2 * index + 1}`,
        serviceCidr: `10.${a}.${200 + index}.0/24`,
        /** The `kubernetes` Service's IP: the first of the range. */
        serviceIp: `10.${a}.${200 + index}.1`,
    };
}

/** Where slots are claimed: one folder per slot, holding the directory that owns it. */
function slotsDir(): string {
    return path.join(os.tmpdir(), "istio-multicluster-e2e-slots");
}

/**
 * Claims a free slot for `dir` (atomically, by mkdir), recording the directory and the claiming process. A
 * slot is taken back only when its claimer has exited and nothing its owner started is running.
 */
export function claimSlot(dir: string): number {
    fs.mkdirSync(slotsDir(), { recursive: true });
    const record = `${dir}\n${process.pid}`;
    for (let s = 0; s < slotCount; s++) {
        const folder = path.join(slotsDir(), String(s));
        try {
            fs.mkdirSync(folder);
            fs.writeFileSync(path.join(folder, "owner"), record);
            return s;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
            let owner: string[];
            try {
                owner = fs.readFileSync(path.join(folder, "owner"), "utf8").split("\n");
            } catch {
                continue; // being claimed right now
            }
            const [ownerDir, claimer] = [owner[0] ?? "", Number(owner[1] ?? 0)];
            if (alive(claimer)) continue;
            const st = ownerDir ? safeRead(ownerDir) : undefined;
            if (st && st.slot === s && pidsOf(st).some(alive)) continue;
            fs.writeFileSync(path.join(folder, "owner"), record);
            return s;
        }
    }
    throw new Error(`no free address slot: ${slotCount} local meshes are running; stop one with down`);
}

function safeRead(dir: string): MeshState | undefined {
    try {
        return readState(dir);
    } catch {
        return undefined;
    }
}

export function releaseSlot(slot: number, dir: string): void {
    const folder = path.join(slotsDir(), String(slot));
    try {
        if (fs.readFileSync(path.join(folder, "owner"), "utf8").split("\n")[0] === dir)
            fs.rmSync(folder, { recursive: true });
    } catch {
        // already gone
    }
}

/** Admin access to a cluster (its CA and admin client certificate). */
export function adminAccess(c: ClusterState): ApiAccess {
    const p = pkiFiles(path.join(c.dir, "pki"));
    return {
        server: c.server,
        ca: fs.readFileSync(p.caCert, "utf8"),
        cert: fs.readFileSync(p.adminCert, "utf8"),
        key: fs.readFileSync(p.adminKey, "utf8"),
    };
}

/** A kubeconfig with one admin context per cluster, each named as its cluster, credentials inline. */
export function kubeconfigOf(clusters: readonly ClusterState[], current?: string): string {
    const users = clusters.map((c) => {
        const a = adminAccess(c);
        const b64 = (s: string | undefined) => Buffer.from(s ?? "").toString("base64");
        return {
            cluster: { name: c.name, cluster: { server: c.server, "certificate-authority-data": b64(a.ca) } },
            user: {
                name: `${c.name}-admin`,
                user: { "client-certificate-data": b64(a.cert), "client-key-data": b64(a.key) },
            },
            context: { name: c.name, context: { cluster: c.name, user: `${c.name}-admin` } },
        };
    });
    return YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: users.map((u) => u.cluster),
        users: users.map((u) => u.user),
        contexts: users.map((u) => u.context),
        "current-context": current ?? clusters[0]?.name ?? "",
        preferences: {},
    });
}
