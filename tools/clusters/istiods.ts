/**
 * A real istiod for every istiod Pod of the local clusters, as a kubelet would run the Pod's `discovery`
 * container, minus the container: `pilot-discovery` (built from istio.io/istio) in a folder of its own that
 * stands for the container's file system, where
 *
 * - the Pod's Secret and ConfigMap volumes are written at their mount paths (`cacerts` at `etc/cacerts`, which
 *   istiod reads relative to its working directory, as it does from `/` in its image) and kept up to date as
 *   a kubelet does, projected ServiceAccount tokens are requested for the Pod, emptyDirs are folders;
 * - the container's args and environment are the Pod's own (field references resolved as the kubelet does);
 * - it talks to its API server with a token of the Pod's ServiceAccount (so the chart's RBAC is what it
 *   has), and listens on the Pod's own address, so that the API server reaches its webhooks at the istiod
 *   Service's endpoints as in a real cluster.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { Api, Json } from "./api";
import { bin } from "./build";
import { log } from "./log";
import { ClusterState } from "./state";

interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: {
        fieldRef?: { fieldPath: string };
        resourceFieldRef?: { resource: string };
        secretKeyRef?: { name: string; key: string; optional?: boolean };
        configMapKeyRef?: { name: string; key: string; optional?: boolean };
    };
}

interface EnvFromSource {
    prefix?: string;
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
}

interface Container {
    name: string;
    args?: string[];
    env?: EnvVar[];
    envFrom?: EnvFromSource[];
    volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}

interface Volume {
    name: string;
    secret?: { secretName: string; optional?: boolean };
    configMap?: { name: string; optional?: boolean };
    emptyDir?: Json;
    projected?: {
        sources: {
            serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
            configMap?: { name: string; optional?: boolean };
            secret?: { name: string; optional?: boolean };
        }[];
    };
}

export interface Pod {
    metadata: {
        name: string;
        namespace: string;
        uid: string;
        deletionTimestamp?: string;
        labels?: Record<string, string>;
    };
    spec: { containers: Container[]; volumes?: Volume[]; serviceAccountName?: string; nodeName?: string };
    status?: { podIP?: string; phase?: string };
}

interface Running {
    readonly pod: Pod;
    readonly dir: string;
    child?: ChildProcess;
    restarts: number;
    nextStart: number;
    lastFiles: string;
}

/** The ports istiod listens on, by flag (the chart's containerPorts). */
const listenFlags: Record<string, number> = {
    httpAddr: 8080,
    grpcAddr: 15010,
    secureGRPCAddr: 15012,
    httpsAddr: 15017,
    monitoringAddr: 15014,
};

/** A port-forward's stream (stdin/stdout) joined to `<address> <port>`, connecting from 127.0.0.1. */
const loopbackForwarder = [
    'const s = require("node:net").connect({ host: process.argv[1], port: Number(process.argv[2]), localAddress: "127.0.0.1" });',
    "process.stdin.pipe(s); s.pipe(process.stdout);",
    's.on("error", () => process.exit(1)); s.on("close", () => process.exit(0));',
].join(" ");

export class IstiodRunner {
    private readonly running = new Map<string, Running>();

    constructor(private readonly apis: ReadonlyMap<string, Api>) {}

    async sync(c: ClusterState): Promise<void> {
        const api = this.apis.get(c.name)!;
        const pods = await api.list<Pod>(`/api/v1/pods?labelSelector=${encodeURIComponent("app=istiod")}`);
        const live = new Set<string>();
        for (const pod of pods) {
            if (pod.metadata.deletionTimestamp || !pod.status?.podIP) continue;
            if (!pod.spec.containers.some((x) => x.name === "discovery")) continue;
            const key = `${c.name}/${pod.metadata.uid}`;
            live.add(key);
            let r = this.running.get(key);
            if (!r) {
                r = {
                    pod,
                    dir: path.join(c.dir, "istiod", pod.metadata.name),
                    restarts: 0,
                    nextStart: 0,
                    lastFiles: "",
                };
                this.running.set(key, r);
                log(
                    `${c.name}: istiod for Pod ${pod.metadata.namespace}/${pod.metadata.name} at ${pod.status.podIP}`,
                );
                await this.portForward(api, pod);
            }
            await this.materialize(c, api, r);
            if (!r.child && Date.now() >= r.nextStart) {
                const loaded = await envFromValues(api, pod);
                if (typeof loaded === "string")
                    log(`${c.name}: istiod ${pod.metadata.name} waits: ${loaded}`);
                else this.start(c, r, loaded);
            }
        }
        for (const [key, r] of this.running) {
            if (key.startsWith(`${c.name}/`) && !live.has(key)) {
                log(`${c.name}: Pod ${r.pod.metadata.name} is gone; stopping its istiod`);
                void stop(r);
                this.running.delete(key);
            }
        }
    }

    /**
     * Tells kwok (the node's kubelet API) how to port-forward to this istiod: a kubelet forwards inside the
     * Pod's network namespace, so istiod sees the connection come from its loopback (and answers /debug,
     * which it refuses to any other address). Here every istiod shares one namespace, so the forward is a
     * connection from 127.0.0.1 to the Pod's address and port. Owned by the Pod: gone with it.
     */
    private async portForward(api: Api, pod: Pod): Promise<void> {
        const { name, namespace, uid } = pod.metadata;
        const body = {
            apiVersion: "kwok.x-k8s.io/v1alpha1",
            kind: "PortForward",
            metadata: {
                name,
                namespace,
                ownerReferences: [{ apiVersion: "v1", kind: "Pod", name, uid }],
            },
            spec: {
                forwards: Object.values(listenFlags).map((port) => ({
                    ports: [port],
                    command: [process.execPath, "-e", loopbackForwarder, pod.status!.podIP!, String(port)],
                })),
            },
        };
        try {
            await api.json("POST", `/apis/kwok.x-k8s.io/v1alpha1/namespaces/${namespace}/portforwards`, body);
        } catch (e) {
            if (!/already exists/i.test((e as Error).message))
                log(`port-forward for ${name}: ${(e as Error).message}`);
        }
    }

    /** Writes the Pod's volumes where its container mounts them; true when something changed. */
    private async materialize(c: ClusterState, api: Api, r: Running): Promise<void> {
        const pod = r.pod;
        const ns = pod.metadata.namespace;
        const container = pod.spec.containers.find((x) => x.name === "discovery")!;
        const files: Record<string, string> = {};
        const dirs: string[] = [];
        for (const m of container.volumeMounts ?? []) {
            const v = pod.spec.volumes?.find((x) => x.name === m.name);
            if (!v) continue;
            const at = path.join(r.dir, m.mountPath);
            if (v.secret) {
                const s = await api.get<{ data?: Record<string, string> }>(
                    `/api/v1/namespaces/${ns}/secrets/${v.secret.secretName}`,
                );
                for (const [k, b64] of Object.entries(s?.data ?? {}))
                    files[path.join(at, k)] = Buffer.from(b64, "base64").toString("utf8");
            } else if (v.configMap) {
                const cm = await api.get<{ data?: Record<string, string> }>(
                    `/api/v1/namespaces/${ns}/configmaps/${v.configMap.name}`,
                );
                for (const [k, text] of Object.entries(cm?.data ?? {})) files[path.join(at, k)] = text;
            } else if (v.projected) {
                for (const src of v.projected.sources) {
                    if (
                        src.serviceAccountToken &&
                        !fs.existsSync(path.join(at, src.serviceAccountToken.path))
                    ) {
                        files[path.join(at, src.serviceAccountToken.path)] = await this.token(
                            api,
                            pod,
                            src.serviceAccountToken.audience,
                        );
                    }
                    if (src.configMap) {
                        const cm = await api.get<{ data?: Record<string, string> }>(
                            `/api/v1/namespaces/${ns}/configmaps/${src.configMap.name}`,
                        );
                        for (const [k, text] of Object.entries(cm?.data ?? {}))
                            files[path.join(at, k)] = text;
                    }
                }
            } else {
                dirs.push(at);
            }
        }
        if (!fs.existsSync(path.join(r.dir, "kubeconfig"))) {
            files[path.join(r.dir, "kubeconfig")] = this.kubeconfig(c, await this.token(api, pod, undefined));
        }
        const digest = JSON.stringify(Object.entries(files).map(([f, t]) => [f, t.length, t.slice(-64)]));
        if (digest === r.lastFiles) return;
        for (const d of dirs) fs.mkdirSync(d, { recursive: true });
        for (const [f, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(f), { recursive: true });
            if (!fs.existsSync(f) || fs.readFileSync(f, "utf8") !== text) {
                fs.writeFileSync(`${f}.tmp`, text, { mode: 0o600 });
                fs.renameSync(`${f}.tmp`, f);
            }
        }
        r.lastFiles = digest;
    }

    private async token(api: Api, pod: Pod, audience: string | undefined): Promise<string> {
        const sa = pod.spec.serviceAccountName ?? "default";
        const r = await api.json<{ status: { token: string } }>(
            "POST",
            `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`,
            {
                apiVersion: "authentication.k8s.io/v1",
                kind: "TokenRequest",
                spec: {
                    ...(audience ? { audiences: [audience] } : {}),
                    expirationSeconds: 86400,
                    boundObjectRef: {
                        apiVersion: "v1",
                        kind: "Pod",
                        name: pod.metadata.name,
                        uid: pod.metadata.uid,
                    },
                },
            },
        );
        return r.status.token;
    }

    private kubeconfig(c: ClusterState, token: string): string {
        const ca = fs.readFileSync(path.join(c.dir, "pki", "ca.crt"), "utf8");
        return YAML.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                {
                    name: c.name,
                    cluster: {
                        server: c.server,
                        "certificate-authority-data": Buffer.from(ca).toString("base64"),
                    },
                },
            ],
            users: [{ name: "istiod", user: { token } }],
            contexts: [{ name: c.name, context: { cluster: c.name, user: "istiod" } }],
            "current-context": c.name,
        });
    }

    private start(c: ClusterState, r: Running, loaded: Record<string, string>): void {
        const pod = r.pod;
        const container = pod.spec.containers.find((x) => x.name === "discovery")!;
        const ip = pod.status!.podIP!;
        const kubeconfig = path.join(r.dir, "kubeconfig");
        // As the kubelet: `envFrom` first, then `env`, which wins over it.
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: r.dir, ...loaded };
        for (const e of container.env ?? []) {
            const v = envValue(pod, e);
            if (v !== undefined) env[e.name] = v;
        }
        // The container's KUBECONFIG names the optional istio-kubeconfig mount: here, the Pod's own token.
        env.KUBECONFIG = kubeconfig;
        const args = [
            ...(container.args ?? ["discovery"]),
            `--kubeconfig=${kubeconfig}`,
            ...Object.entries(listenFlags).map(([flag, port]) => `--${flag}=${ip}:${port}`),
            // ControlZ listens on the Pod's loopback (9876): here every istiod shares one loopback.
            `--ctrlz_address=${ip}`,
        ];
        const logFile = path.join(c.dir, "logs", `istiod-${pod.metadata.name}.log`);
        const fd = fs.openSync(logFile, "a");
        const child = spawn(bin("pilot-discovery"), args, { cwd: r.dir, env, stdio: ["ignore", fd, fd] });
        fs.closeSync(fd);
        r.child = child;
        child.on("exit", (code, sig) => {
            if (r.child !== child) return;
            r.child = undefined;
            r.restarts++;
            r.nextStart = Date.now() + Math.min(30_000, 1000 * 2 ** Math.min(r.restarts, 5));
            log(
                `${c.name}: istiod ${pod.metadata.name} ${sig ? `killed by ${sig}` : `exited ${code}`} (restart ${r.restarts}; log ${logFile})`,
            );
        });
    }

    /** Stops every istiod: SIGTERM, SIGKILL after 3 s; resolves when all have exited. */
    async stopAll(): Promise<void> {
        const all = [...this.running.values()];
        this.running.clear();
        await Promise.all(all.map(stop));
    }
}

function stop(r: Running): Promise<void> {
    const child = r.child;
    r.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill("SIGTERM");
    });
}

/**
 * The variables of the container's `envFrom` as the kubelet loads them (each key of the ConfigMap or Secret,
 * after `prefix`; later sources win), or why the container cannot start: a source that is not optional and
 * does not exist.
 */
async function envFromValues(api: Api, pod: Pod): Promise<Record<string, string> | string> {
    const container = pod.spec.containers.find((x) => x.name === "discovery")!;
    const ns = pod.metadata.namespace;
    const out: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
        const ref = from.configMapRef ?? from.secretRef;
        if (!ref) continue;
        const kind = from.configMapRef ? "configmaps" : "secrets";
        const obj = await api.get<{ data?: Record<string, string> }>(
            `/api/v1/namespaces/${ns}/${kind}/${ref.name}`,
        );
        if (!obj) {
            if (ref.optional) continue;
            return `${kind} ${ns}/${ref.name} (envFrom) does not exist`;
        }
        for (const [k, v] of Object.entries(obj.data ?? {})) {
            out[`${from.prefix ?? ""}${k}`] =
                kind === "secrets" ? Buffer.from(v, "base64").toString("utf8") : v;
        }
    }
    return out;
}

/** An env var's value as the kubelet resolves it (resource fields: this machine's two cores, no memory limit). */
function envValue(pod: Pod, e: EnvVar): string | undefined {
    if (e.value !== undefined) return e.value;
    const f = e.valueFrom;
    if (f?.fieldRef) {
        const fields: Record<string, string | undefined> = {
            "metadata.name": pod.metadata.name,
            "metadata.namespace": pod.metadata.namespace,
            "metadata.uid": pod.metadata.uid,
            "spec.serviceAccountName": pod.spec.serviceAccountName,
            "spec.nodeName": pod.spec.nodeName,
            "status.podIP": pod.status?.podIP,
        };
        return fields[f.fieldRef.fieldPath];
    }
    if (f?.resourceFieldRef) return f.resourceFieldRef.resource === "limits.cpu" ? "2" : undefined;
    return undefined;
}
