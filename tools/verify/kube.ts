/**
 * The little `verify` needs from a cluster: authenticated GETs by path, through `@kubernetes/client-node`'s
 * KubeConfig (contexts from $KUBECONFIG or ~/.kube/config, or a kubeconfig given as text), and a GET to a
 * pod's port through a port-forward, the way `istioctl` reaches istiod's debug endpoints.
 */
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type * as ClientNode from "@kubernetes/client-node" with { "resolution-mode": "import" };
import type { KubeConfig } from "@kubernetes/client-node" with { "resolution-mode": "import" };

/**
 * `@kubernetes/client-node` 1.x is an ES module and this project is CommonJS: Node (20.19 and later, which
 * `engines` requires) loads it with `require`, and the types come from the import above.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clientNode = require("@kubernetes/client-node") as typeof ClientNode;
const { KubeConfig: KubeConfigClass, PortForward } = clientNode;

/** A failed request, with the HTTP status when the server answered. */
export class KubeError extends Error {
    constructor(
        message: string,
        public readonly status?: number,
    ) {
        super(message);
        this.name = "KubeError";
    }
}

/** Read access to one cluster. */
export interface Kube {
    /** GET `path` as JSON; undefined when the object does not exist (404). Throws KubeError otherwise. */
    get<T>(path: string): Promise<T | undefined>;
    /** GET `path` on `port` of a pod through a port-forward; the body as text. */
    podGet(namespace: string, pod: string, port: number, path: string): Promise<string>;
}

/** How long one request may take: a cluster that does not answer must not hold up the others. */
export const requestTimeoutMs = 8000;

/** A KubeConfig for a context of the user's kubeconfig files, or an error that says what is missing. */
export function kubeConfigForContext(context: string): KubeConfig {
    const kc = new KubeConfigClass();
    kc.loadFromDefault();
    if (!kc.getContextObject(context)) {
        const files = process.env["KUBECONFIG"] || "~/.kube/config";
        throw new KubeError(`context "${context}" is not in the kubeconfig (${files})`);
    }
    kc.setCurrentContext(context);
    return kc;
}

/** A KubeConfig from kubeconfig text (its current context). */
export function kubeConfigFromText(text: string): KubeConfig {
    const kc = new KubeConfigClass();
    try {
        kc.loadFromString(text);
    } catch (e) {
        throw new KubeError(`the kubeconfig does not parse: ${(e as Error).message.split("\n")[0]}`);
    }
    if (!kc.getCurrentCluster()) throw new KubeError("the kubeconfig names no current cluster");
    return kc;
}

/** Read access through `kc`. */
export function kubeClient(kc: KubeConfig): Kube {
    const server = kc.getCurrentCluster()?.server;
    return {
        async get<T>(path: string): Promise<T | undefined> {
            if (!server) throw new KubeError("the kubeconfig names no server");
            const { status, body } = await request(kc, server, path);
            if (status === 404) return undefined;
            if (status !== 200) throw new KubeError(`GET ${path}: HTTP ${status}${reason(body)}`, status);
            try {
                return JSON.parse(body) as T;
            } catch {
                throw new KubeError(`GET ${path}: the answer is not JSON`);
            }
        },
        podGet: (namespace, pod, port, path) => portForwardGet(kc, namespace, pod, port, path),
    };
}

function reason(body: string): string {
    try {
        const m = (JSON.parse(body) as { message?: unknown }).message;
        return typeof m === "string" && m !== "" ? ` (${m})` : "";
    } catch {
        return "";
    }
}

async function request(
    kc: KubeConfig,
    server: string,
    path: string,
): Promise<{ status: number; body: string }> {
    const url = new URL(server.replace(/\/$/, "") + path);
    const opts: https.RequestOptions = { method: "GET", headers: { Accept: "application/json" } };
    await kc.applyToHTTPSOptions(opts);
    const lib = url.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
        const req = lib.request(url, { ...opts, timeout: requestTimeoutMs }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
                resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
            );
            res.on("error", (e) => reject(new KubeError(`${url.host}: ${e.message}`)));
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${requestTimeoutMs / 1000}s`)));
        req.on("error", (e) => reject(new KubeError(`${url.host} unreachable: ${e.message}`)));
        req.end();
    });
}

/**
 * GET through a port-forward: a local listener whose connections client-node forwards to the pod (the
 * Kubernetes port-forward subresource over a WebSocket). Requests arrive at the pod from its own loopback.
 */
async function portForwardGet(
    kc: KubeConfig,
    namespace: string,
    pod: string,
    port: number,
    path: string,
): Promise<string> {
    const forward = new PortForward(kc, true);
    const server = net.createServer((socket) => {
        forward.portForward(namespace, pod, [port], socket, null, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const local = (server.address() as net.AddressInfo).port;
    try {
        return await new Promise<string>((resolve, reject) => {
            const req = http.get(
                { host: "127.0.0.1", port: local, path, timeout: requestTimeoutMs },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () =>
                        res.statusCode === 200
                            ? resolve(Buffer.concat(chunks).toString("utf8"))
                            : reject(
                                  new KubeError(
                                      `port-forward to ${pod}:${port}${path}: HTTP ${res.statusCode}`,
                                  ),
                              ),
                    );
                },
            );
            req.on("timeout", () => req.destroy(new Error("no answer")));
            req.on("error", (e) => reject(new KubeError(`port-forward to ${pod}:${port}: ${e.message}`)));
        });
    } finally {
        server.close();
    }
}
