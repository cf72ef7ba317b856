/**
 * Local Kubernetes clusters made of real control-plane processes: per cluster its own etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler (built from k8s.io/kubernetes), one kwok-simulated node so that
 * Pods are scheduled and become Ready with no container runtime, and its own CA, serving certificate and
 * ServiceAccount signing key. One supervisor per directory (supervisor.ts) plays the cloud's load balancer
 * and runs a real istiod for every istiod Pod.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { Api, sleep, waitFor } from "./api";
import { bin, ClustersFailed, ClustersRefused, clusterBinaries, ensureBinaries, goVersion } from "./build";
import { makeClusterPki } from "./pki";
import {
    addressPlan,
    adminAccess,
    alive,
    claimSlot,
    ClusterProcess,
    ClusterState,
    kubeconfigOf,
    LbMode,
    maxClusters,
    MeshState,
    networkPlan,
    pidsOf,
    readState,
    releaseSlot,
    writeState,
} from "./state";
import { removeHostsEntries } from "./hosts";
import { createNetwork, inNetns, removeNetwork } from "./network";
import { defaultStorageClass, localProvisioner } from "./volumes";

/** What `up` is asked for. */
export interface UpOptions {
    readonly names: readonly string[];
    readonly dir: string;
    readonly lb: LbMode;
    /** Progress lines. */
    readonly log: (s: string) => void;
    /** How long each cluster may take to become ready. Default 120 s. */
    readonly timeoutMs?: number;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Checks `up`'s input; every problem at once. */
export function checkUpInput(names: readonly string[], dir: string): string[] {
    const problems: string[] = [];
    if (names.length === 0) problems.push("--names: give at least one cluster name (--names a,b,c)");
    if (names.length > maxClusters)
        problems.push(`--names: at most ${maxClusters} clusters in one directory`);
    for (const n of names) {
        if (!dnsLabel.test(n))
            problems.push(`--names: "${n.slice(0, 70)}" is not a DNS label (a-z, 0-9, '-', at most 63)`);
    }
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length > 0) problems.push(`--names: ${[...new Set(dup)].join(", ")} given more than once`);
    if (!dir) problems.push("--dir: give the directory for the clusters' files (--dir D)");
    return problems;
}

interface Started {
    readonly child: ChildProcess;
    readonly log: string;
    exited?: string;
}

/**
 * Starts `binary` inside the namespace `netns`, in its own process group, its output appended to `log`; it
 * outlives this process (`ip netns exec` execs it: the pid is the binary's).
 */
function start(netns: string, binary: string, args: string[], log: string, env?: NodeJS.ProcessEnv): Started {
    const fd = fs.openSync(log, "a");
    const [cmd, argv] = inNetns(netns, [bin(binary), ...args]);
    const child = spawn(cmd, argv, {
        detached: true,
        stdio: ["ignore", fd, fd],
        env: env ?? process.env,
    });
    fs.closeSync(fd);
    const s: Started = { child, log };
    child.on("exit", (code, signal) => (s.exited = signal ? `killed by ${signal}` : `exited ${code}`));
    child.on("error", (e) => (s.exited = e.message));
    child.unref();
    return s;
}

/** Why a process that should be running is not: its state and the telling line of its log. */
function whyDown(name: string, s: Started): string {
    let tail = "";
    try {
        const lines = fs.readFileSync(s.log, "utf8").trim().split("\n");
        tail =
            lines.reverse().find((l) => /address already in use|bind|error|fatal|failed/i.test(l)) ??
            lines[0] ??
            "";
    } catch {
        // no log
    }
    const port = /listen tcp [^:]*:(\d+): bind: address already in use/.exec(tail)?.[1];
    if (port) return `${name}: port ${port} will not bind (address already in use)`;
    return `${name} ${s.exited ?? "is not answering"}${tail ? `: ${tail.trim().slice(0, 300)}` : ""} (log: ${s.log})`;
}

async function waitUntil<T>(
    what: string,
    s: Started,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
): Promise<T> {
    return waitFor(what, timeoutMs, async () => {
        if (s.exited) throw new ClustersFailed(whyDown(what, s));
        return probe();
    }).catch((e: unknown) => {
        throw e instanceof ClustersFailed
            ? e
            : new ClustersFailed(s.exited ? whyDown(what, s) : (e as Error).message);
    });
}

/** Starts one cluster and waits until it is ready; records pids into `pids` as they start. */
async function startCluster(
    name: string,
    index: number,
    root: string,
    slot: number,
    netns: string,
    pids: Partial<Record<ClusterProcess, number>>,
    timeoutMs: number,
    log: (s: string) => void,
): Promise<ClusterState> {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
    const plan = addressPlan(slot, index);
    const { nsIp } = networkPlan(slot);
    const pki = makeClusterPki(path.join(dir, "pki"), name, [nsIp, plan.serviceIp]);
    const { apiPort, etcdPort, etcdPeerPort } = plan;
    const logFile = (p: string) => path.join(dir, "logs", `${p}.log`);
    const server = `https://${nsIp}:${apiPort}`;
    const state: ClusterState = {
        name,
        index,
        dir,
        server,
        apiPort,
        etcdPort,
        etcdPeerPort,
        podCidr: plan.podCidr,
        lbPrefix: plan.lbPrefix,
        serviceCidr: plan.serviceCidr,
        nodeName: `${name}-node`,
        pids,
    };

    const etcdUrl = `http://${nsIp}:${etcdPort}`;
    const peerUrl = `http://${nsIp}:${etcdPeerPort}`;
    const etcd = start(
        netns,
        "etcd",
        [
            `--name=${name}`,
            `--data-dir=${path.join(dir, "etcd")}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=${peerUrl}`,
            `--initial-advertise-peer-urls=${peerUrl}`,
            `--initial-cluster=${name}=${peerUrl}`,
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
        logFile("etcd"),
    );
    pids.etcd = etcd.child.pid;
    await waitUntil(`${name} etcd`, etcd, timeoutMs, async () => {
        const ok = await fetch(`${etcdUrl}/health`).then(
            (r) => r.ok,
            () => false,
        );
        return ok ? true : undefined;
    });

    const apiserver = start(
        netns,
        "kube-apiserver",
        [
            `--etcd-servers=${etcdUrl}`,
            `--bind-address=${nsIp}`,
            `--secure-port=${apiPort}`,
            `--advertise-address=${nsIp}`,
            "--endpoint-reconciler-type=none",
            `--tls-cert-file=${pki.serverCert}`,
            `--tls-private-key-file=${pki.serverKey}`,
            `--client-ca-file=${pki.caCert}`,
            "--authorization-mode=Node,RBAC",
            `--service-cluster-ip-range=${plan.serviceCidr}`,
            "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${pki.saPub}`,
            `--service-account-signing-key-file=${pki.saKey}`,
            // Webhooks and aggregated APIs are called at a Service's endpoints (the Pod's own address), not at
            // its cluster IP: there is no kube-proxy to route a cluster IP.
            "--enable-aggregator-routing=true",
            // Port-forwards go to the node's kubelet API (kwok's) at its InternalIP; its serving certificate
            // is not checked (no --kubelet-certificate-authority), as on most clusters.
            "--kubelet-preferred-address-types=InternalIP",
            "--profiling=false",
            "--v=0",
        ],
        logFile("kube-apiserver"),
    );
    pids["kube-apiserver"] = apiserver.child.pid;
    const admin = new Api(adminAccess(state), 10_000);
    try {
        await waitUntil(`${name} kube-apiserver`, apiserver, timeoutMs, async () => {
            const r = await admin.request("GET", "/readyz").catch(() => undefined);
            return r?.status === 200 ? true : undefined;
        });

        const kubeconfig = path.join(dir, "admin.kubeconfig");
        fs.writeFileSync(kubeconfig, kubeconfigOf([state]), { mode: 0o600 });
        const kcm = start(
            netns,
            "kube-controller-manager",
            [
                `--kubeconfig=${kubeconfig}`,
                `--authentication-kubeconfig=${kubeconfig}`,
                `--authorization-kubeconfig=${kubeconfig}`,
                `--service-account-private-key-file=${pki.saKey}`,
                `--root-ca-file=${pki.caCert}`,
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                "--secure-port=0",
                "--controllers=*",
                "--v=0",
            ],
            logFile("kube-controller-manager"),
        );
        pids["kube-controller-manager"] = kcm.child.pid;
        const scheduler = start(
            netns,
            "kube-scheduler",
            [
                `--kubeconfig=${kubeconfig}`,
                `--authentication-kubeconfig=${kubeconfig}`,
                `--authorization-kubeconfig=${kubeconfig}`,
                "--leader-elect=false",
                "--secure-port=0",
                "--v=0",
            ],
            logFile("kube-scheduler"),
        );
        pids["kube-scheduler"] = scheduler.child.pid;

        await admin.json("POST", "/api/v1/nodes", nodeObject(state.nodeName, plan.podCidr));
        // A default StorageClass, as every managed cluster has; the supervisor provisions its volumes.
        await admin.json("POST", "/apis/storage.k8s.io/v1/storageclasses", storageClassObject());
        // kwok's PortForward CRD, before kwok starts watching it.
        const crd = YAML.parse(fs.readFileSync(bin("kwok-portforward-crd.yaml"), "utf8")) as {
            metadata: { name: string };
        };
        await admin.json("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        await waitUntil(`${name}: kwok's PortForward API`, apiserver, timeoutMs, async () => {
            const got = await admin.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
                `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
            );
            return got?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
                ? true
                : undefined;
        });
        const kwok = start(
            netns,
            "kwok",
            [
                `--kubeconfig=${kubeconfig}`,
                `--config=${bin("kwok-stages.yaml")}`,
                "--manage-all-nodes=true",
                // A node lease renewed as a kubelet renews it: without one the node lifecycle controller marks
                // the node unreachable between status heartbeats and its Pods not Ready.
                "--node-lease-duration-seconds=40",
                `--cidr=${plan.podCidr}`,
                `--node-ip=${plan.nodeIp}`,
                // The node's kubelet API: kwok serves port-forward there (to what the supervisor's PortForward
                // objects say), so `kubectl port-forward` and npm run verify reach istiod as on a real node.
                `--node-port=${kubeletPort}`,
                `--server-address=${plan.nodeIp}:${kubeletPort}`,
                `--tls-cert-file=${pki.serverCert}`,
                `--tls-private-key-file=${pki.serverKey}`,
                "--enable-crds=PortForward",
            ],
            logFile("kwok"),
        );
        pids.kwok = kwok.child.pid;

        await waitUntil(`${name}: the default ServiceAccount`, kcm, timeoutMs, () =>
            admin
                .get("/api/v1/namespaces/default/serviceaccounts/default")
                .then((sa) => (sa ? true : undefined)),
        );
        await waitUntil(`${name}: node ${state.nodeName} Ready`, kwok, timeoutMs, async () => {
            const node = await admin.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
                `/api/v1/nodes/${state.nodeName}`,
            );
            return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
                ? true
                : undefined;
        });
        if (scheduler.exited) throw new ClustersFailed(whyDown(`${name} kube-scheduler`, scheduler));
        log(`${name}: ready at ${server}`);
        return state;
    } finally {
        admin.close();
    }
}

/** The default StorageClass: volumes made by the supervisor (volumes.ts), bound at once. */
function storageClassObject(): unknown {
    return {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
            name: defaultStorageClass,
            annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: localProvisioner,
        reclaimPolicy: "Delete",
        volumeBindingMode: "Immediate",
    };
}

/** A simulated node: big enough for any test mesh, with the podCIDR the Pods' addresses come from. */
function nodeObject(name: string, podCidr: string): unknown {
    const resources = { cpu: "64", memory: "256Gi", pods: "250", "ephemeral-storage": "1Ti" };
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name,
            labels: {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                type: "kwok",
            },
            annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" },
        },
        spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
        status: { capacity: resources, allocatable: resources },
    };
}

/** The kubelet port, where kwok serves the node's API. */
const kubeletPort = 10250;

/** Starts the clusters; on any failure stops everything it started and throws one line. */
export async function up(opts: UpOptions): Promise<MeshState> {
    const problems = checkUpInput(opts.names, opts.dir);
    if (problems.length > 0) throw new ClustersRefused(problems.join("; "));
    const dir = path.resolve(opts.dir);
    const previous = readState(dir);
    if (previous && pidsOf(previous).some(alive)) {
        throw new ClustersRefused(
            `${dir} is in use by running clusters (${previous.clusters.map((c) => c.name).join(", ")}); run down --dir ${opts.dir} first or choose another --dir`,
        );
    }
    goVersion();
    checkNetworkTools();
    if (opts.lb === "hostname") checkHostsWritable();
    const built = await ensureBinaries(opts.log, ["clusters"]);
    if (built.length > 0) opts.log(`built: ${built.join(", ")}`);
    for (const b of clusterBinaries) {
        if (!fs.existsSync(bin(b))) throw new ClustersRefused(`${bin(b)} is missing after the build`);
    }
    fs.mkdirSync(dir, { recursive: true });
    for (const n of opts.names) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    const slot = claimSlot(dir);
    const { netns } = networkPlan(slot);
    const state: MeshState = {
        dir,
        slot,
        netns,
        lb: opts.lb,
        clusters: [],
        startedAt: new Date().toISOString(),
    };
    // Every pid is written to the state as soon as its process starts, so that `down` (or the cleanup
    // below) finds everything even when `up` itself is interrupted.
    const pids = opts.names.map(
        () =>
            new Proxy(
                {},
                {
                    set(target, key, value) {
                        (target as Record<string | symbol, unknown>)[key] = value;
                        writeState(state);
                        return true;
                    },
                },
            ),
    );
    state.clusters.push(
        ...opts.names.map((name, index) => ({ name, index, pids: pids[index]! }) as unknown as ClusterState),
    );
    writeState(state);
    const interrupted = () => {
        void stopAll(state).then(() => {
            removeNetwork(slot);
            releaseSlot(slot, dir);
            process.exit(130);
        });
    };
    process.once("SIGINT", interrupted);
    process.once("SIGTERM", interrupted);
    try {
        createNetwork(slot);
        const timeoutMs = opts.timeoutMs ?? 120_000;
        const clusters = await Promise.all(
            opts.names.map((n, i) => startCluster(n, i, dir, slot, netns, pids[i]!, timeoutMs, opts.log)),
        );
        state.clusters.splice(0, state.clusters.length, ...clusters);
        writeState(state);
        fs.writeFileSync(path.join(dir, "kubeconfig"), kubeconfigOf(clusters), { mode: 0o600 });
        await startSupervisor(state, opts.log, timeoutMs);
        return state;
    } catch (e) {
        await stopAll(state);
        removeNetwork(slot);
        releaseSlot(slot, dir);
        throw e;
    } finally {
        process.removeListener("SIGINT", interrupted);
        process.removeListener("SIGTERM", interrupted);
    }
}

async function startSupervisor(state: MeshState, log: (s: string) => void, timeoutMs: number): Promise<void> {
    const ready = path.join(state.dir, "supervisor.ready");
    fs.rmSync(ready, { force: true });
    const logPath = path.join(state.dir, "supervisor.log");
    const fd = fs.openSync(logPath, "a");
    const [cmd, argv] = inNetns(state.netns, [
        process.execPath,
        "--import",
        "tsx",
        path.join(__dirname, "supervisor.ts"),
        state.dir,
    ]);
    const child = spawn(cmd, argv, {
        detached: true,
        stdio: ["ignore", fd, fd],
        cwd: path.resolve(__dirname, "..", ".."),
    });
    fs.closeSync(fd);
    const s: Started = { child, log: logPath };
    child.on("exit", (code) => (s.exited = `exited ${code}`));
    child.unref();
    state.supervisorPid = child.pid;
    writeState(state);
    await waitUntil("the supervisor (load balancers, istiod)", s, timeoutMs, () =>
        Promise.resolve(fs.existsSync(ready) ? true : undefined),
    );
    log(`supervisor: load balancers (${state.lb}) and istiod runner up (log: ${logPath})`);
}

/**
 * Stops the supervisor (which stops its istiods), then every cluster process at once: SIGTERM to each process
 * group, SIGKILL to what is left after `graceMs`.
 */
async function stopAll(state: MeshState, graceMs = 3_000): Promise<void> {
    const groups = [
        ...(state.supervisorPid ? [[state.supervisorPid]] : []),
        state.clusters.flatMap((c) => Object.values(c.pids).filter((x): x is number => !!x)),
    ];
    for (const pids of groups) {
        for (const pid of pids) signal(pid, "SIGTERM");
        let deadline = Date.now() + graceMs;
        while (pids.some(alive) && Date.now() < deadline) await sleep(100);
        // Nothing here keeps state worth a graceful shutdown (etcd's data is discarded). The whole group is
        // killed even when its leader is gone: the supervisor's istiods live in its group.
        for (const pid of pids) signal(pid, "SIGKILL");
        deadline = Date.now() + 5_000;
        while (pids.some(alive) && Date.now() < deadline) await sleep(50);
    }
    removeHostsEntries(state.dir);
}

function signal(pid: number, sig: NodeJS.Signals): void {
    for (const target of [-pid, pid]) {
        try {
            process.kill(target, sig);
        } catch {
            // gone
        }
    }
}

/** Stops everything `up` started in `dir`; the logs stay. */
export async function down(dirArg: string, log: (s: string) => void): Promise<void> {
    const dir = path.resolve(dirArg);
    const state = readState(dir);
    if (!state) throw new ClustersRefused(`${dir} has no clusters (no clusters.json)`);
    await stopAll(state);
    const left = pidsOf(state).filter(alive);
    if (left.length > 0) throw new ClustersRefused(`processes ${left.join(", ")} would not stop`);
    removeNetwork(state.slot);
    releaseSlot(state.slot, dir);
    fs.rmSync(path.join(dir, "clusters.json"));
    for (const c of state.clusters)
        fs.rmSync(path.join(c.dir ?? path.join(dir, c.name), "etcd"), { recursive: true, force: true });
    log(`stopped ${state.clusters.map((c) => c.name).join(", ")} (logs kept in ${dir})`);
}

/** The namespace needs root and iproute2: said before anything is built. */
function checkNetworkTools(): void {
    if (process.getuid?.() !== 0) {
        throw new ClustersRefused(
            "the clusters run in a network namespace of their own, which needs root (ip netns add); run as root",
        );
    }
    try {
        execFileSync("ip", ["-V"], { stdio: "ignore" });
    } catch {
        throw new ClustersRefused("no `ip` command: install iproute2 (apt-get install iproute2)");
    }
}

function checkHostsWritable(): void {
    try {
        fs.accessSync("/etc/hosts", fs.constants.W_OK);
    } catch {
        throw new ClustersRefused(
            "--lb hostname needs to write /etc/hosts (the load balancers' hostnames resolve to loopback there); run as root or use --lb ip",
        );
    }
}
