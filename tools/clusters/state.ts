/**
 * What `npm run clusters -- up` started in a directory, written to `<dir>/clusters.json` so that `down`, the
 * supervisor and the test tiers find every process, port and address again; and the loopback address plan.
 *
 * Addresses: every `up` claims a slot s (0-63) and uses 127.(64+s).0.0/16 alone, so that two `up`s with
 * different directories run side by side. Cluster i gets pod IPs in 127.(64+s).(2i).0/24 (its simulated
 * node's podCIDR, so each Pod has an address of its own that a process can listen on), load-balancer
 * addresses in 127.(64+s).(2i+1).0/24 and Service cluster IPs in 127.(64+s).(200+i).0/24: nothing any
 * cluster hands out ever leaves this machine.
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
    /** The first three octets of its load-balancer addresses (`127.64.1`). */
    readonly lbPrefix: string;
    readonly serviceCidr: string;
    readonly nodeName: string;
    readonly pids: Partial<Record<ClusterProcess, number>>;
}

/** Everything one `up` started. */
export interface MeshState {
    readonly dir: string;
    readonly slot: number;
    readonly lb: LbMode;
    readonly clusters: ClusterState[];
    supervisorPid?: number;
    readonly startedAt: string;
}

/** Most clusters in one directory (the address plan's limit). */
export const maxClusters = 50;
/** Slots: 127.64.0.0/16 to 127.127.0.0/16. */
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

export function octets(slot: number): number {
    return 64 + slot;
}

/** The addresses of cluster `index` in `slot`. */
export function addressPlan(slot: number, index: number) {
    const a = octets(slot);
    return {
        podCidr: `127.${a}.${2 * index}.0/24`,
        /** The node's own address: the top of the pod range, which kwok hands out last. */
        nodeIp: `127.${a}.${2 * index}.254`,
        lbPrefix: `127.${a}.${2 * index + 1}`,
        serviceCidr: `127.${a}.${200 + index}.0/24`,
        /** The `kubernetes` Service's IP: the first of the range. */
        serviceIp: `127.${a}.${200 + index}.1`,
    };
}

/** Where slots are claimed: one folder per slot, holding the directory that owns it. */
function slotsDir(): string {
    return path.join(os.tmpdir(), "istio-multicluster-e2e-slots");
}

/**
 * Claims a free slot for `dir` (atomically, by mkdir). A slot whose owner left nothing running is taken
 * back.
 */
export function claimSlot(dir: string): number {
    fs.mkdirSync(slotsDir(), { recursive: true });
    for (let s = 0; s < slotCount; s++) {
        const folder = path.join(slotsDir(), String(s));
        try {
            fs.mkdirSync(folder);
            fs.writeFileSync(path.join(folder, "owner"), dir);
            return s;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
            let owner = "";
            try {
                owner = fs.readFileSync(path.join(folder, "owner"), "utf8");
            } catch {
                continue; // being claimed right now
            }
            const st = owner ? safeRead(owner) : undefined;
            if (owner && (!st || st.slot !== s || !pidsOf(st).some(alive))) {
                fs.writeFileSync(path.join(folder, "owner"), dir);
                return s;
            }
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
        if (fs.readFileSync(path.join(folder, "owner"), "utf8") === dir)
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
