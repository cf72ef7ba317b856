/**
 * A fake Kubernetes API server for `verify`'s tests: HTTPS on 127.0.0.1 only, with a throwaway CA and server
 * certificate made by the openssl CLI at test time (never written into the repository), bearer-token
 * authentication, and a table of GET answers keyed by path and query. Anything not in the table is a 404, as a
 * missing object is on a real API server.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** The CA (PEM) clients trust, and the server's certificate and key for 127.0.0.1. */
export interface FakeTls {
    readonly caPem: string;
    readonly certPem: string;
    readonly keyPem: string;
}

let tls: FakeTls | undefined;

/** Made once per test process, in a temporary directory removed at once. */
export function fakeTls(): FakeTls {
    if (tls) return tls;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kube-"));
    const openssl = (args: string[]) =>
        execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    try {
        fs.writeFileSync(
            path.join(dir, "ext.cnf"),
            "[req]\ndistinguished_name=dn\n[dn]\n" +
                "[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\n" +
                "[leaf]\nbasicConstraints=critical,CA:false\nsubjectAltName=IP:127.0.0.1\n" +
                "extendedKeyUsage=serverAuth\n",
        );
        const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            ["req", "-x509", ...key, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2"].concat([
                "-subj",
                "/CN=fake-kube-ca",
                "-config",
                "ext.cnf",
                "-extensions",
                "ca",
            ]),
        );
        openssl(
            ["req", "-new", ...key, "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=127.0.0.1"].concat(
                ["-config", "ext.cnf"],
            ),
        );
        openssl(
            [
                "x509",
                "-req",
                "-in",
                "req.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
            ].concat(["-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf", "-extensions", "leaf"]),
        );
        const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
        tls = { caPem: read("ca.pem"), certPem: read("cert.pem"), keyPem: read("key.pem") };
        return tls;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** An answer other than 200 with a JSON body. */
export class Answer {
    constructor(
        public readonly status: number,
        public readonly body: unknown,
    ) {}
}

/** One fake cluster. */
export interface FakeCluster {
    readonly name: string;
    /** `https://127.0.0.1:<port>` */
    readonly url: string;
    /**
     * GET answers by path (with query): a value is served as JSON with 200, an `Answer` as it says; a function
     * is called for each request and its result served so.
     */
    readonly routes: Map<string, unknown>;
    /** Bearer tokens the server accepts; any other gets 401. */
    readonly tokens: Set<string>;
    /** Every path requested, in order. */
    readonly requests: string[];
    close(): Promise<void>;
}

/** Starts a fake API server on 127.0.0.1 (a free port). */
export async function startFakeCluster(name: string): Promise<FakeCluster> {
    const { certPem, keyPem } = fakeTls();
    const routes = new Map<string, unknown>();
    const tokens = new Set<string>();
    const requests: string[] = [];
    const sockets = new Set<{ destroy(): void }>();
    const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
        const url = req.url ?? "/";
        requests.push(url);
        const send = (status: number, body: unknown) => {
            res.writeHead(status, { "Content-Type": "application/json" });
            res.end(JSON.stringify(body));
        };
        const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (auth === undefined || !tokens.has(auth)) {
            send(401, { kind: "Status", status: "Failure", message: "Unauthorized", code: 401 });
            return;
        }
        if (req.method !== "GET") {
            send(405, { kind: "Status", message: `${req.method} is not served by the fake`, code: 405 });
            return;
        }
        if (!routes.has(url)) {
            send(404, { kind: "Status", status: "Failure", message: `${url} not found`, code: 404 });
            return;
        }
        const route = routes.get(url);
        const v: unknown = typeof route === "function" ? (route as () => unknown)() : route;
        if (v instanceof Answer) send(v.status, v.body);
        else send(200, v);
    });
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        name,
        url: `https://127.0.0.1:${port}`,
        routes,
        tokens,
        requests,
        close: () =>
            new Promise<void>((resolve) => {
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}

/** A kubeconfig (YAML-compatible JSON) with one context per entry, each authenticating with its token. */
export function kubeconfigFor(
    entries: readonly { context: string; server: string; token: string }[],
    current?: string,
): string {
    const ca = Buffer.from(fakeTls().caPem).toString("base64");
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: entries.map((e) => ({
            name: e.context,
            cluster: { server: e.server, "certificate-authority-data": ca },
        })),
        users: entries.map((e) => ({ name: e.context, user: { token: e.token } })),
        contexts: entries.map((e) => ({ name: e.context, context: { cluster: e.context, user: e.context } })),
        "current-context": current ?? entries[0]?.context ?? "",
    });
}
