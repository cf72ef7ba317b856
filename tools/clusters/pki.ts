/**
 * One local cluster's own PKI, made with the openssl CLI: a CA, the API server's serving certificate (for
 * its address, localhost and the in-cluster names), an admin client certificate (group `system:masters`) and
 * the ServiceAccount signing key pair. Nothing is shared between clusters, as between real ones.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The files of a cluster's PKI, by role. */
export interface ClusterPki {
    readonly caCert: string;
    readonly caKey: string;
    readonly serverCert: string;
    readonly serverKey: string;
    readonly adminCert: string;
    readonly adminKey: string;
    readonly saKey: string;
    readonly saPub: string;
}

/** Where a cluster's PKI files are (made or not). */
export function pkiFiles(dir: string): ClusterPki {
    const f = (n: string) => path.join(dir, n);
    return {
        caCert: f("ca.crt"),
        caKey: f("ca.key"),
        serverCert: f("apiserver.crt"),
        serverKey: f("apiserver.key"),
        adminCert: f("admin.crt"),
        adminKey: f("admin.key"),
        saKey: f("sa.key"),
        saPub: f("sa.pub"),
    };
}

function openssl(dir: string, args: string[]): void {
    try {
        execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
        const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
        throw new Error(`openssl ${args[0]} failed: ${stderr.split("\n")[0]}`);
    }
}

/**
 * Makes the PKI of cluster `name` in `dir`; `ips` are the serving certificate's addresses besides
 * 127.0.0.1 (where the API server listens, the `kubernetes` Service's cluster IP).
 */
export function makeClusterPki(dir: string, name: string, ips: readonly string[]): ClusterPki {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const p = pkiFiles(dir);
    fs.writeFileSync(
        path.join(dir, "ext.cnf"),
        [
            "[server]",
            "basicConstraints=critical,CA:false",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=serverAuth",
            `subjectAltName=IP:127.0.0.1,${ips.map((i) => `IP:${i}`).join(",")},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,` +
                "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
            "[client]",
            "basicConstraints=critical,CA:false",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=clientAuth",
            "",
        ].join("\n"),
    );
    const days = "3650";
    /** A fresh P-256 key, unencrypted, written to `key`. */
    const newKey = (key: string) => [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
    ];
    openssl(dir, [
        "req",
        "-x509",
        ...newKey(p.caKey),
        "-out",
        p.caCert,
        "-days",
        days,
        "-subj",
        `/CN=${name}-ca`,
        "-addext",
        "basicConstraints=critical,CA:true",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ]);
    const leaf = (key: string, cert: string, subj: string, ext: string) => {
        const csr = `${cert}.csr`;
        openssl(dir, ["req", ...newKey(key), "-out", csr, "-subj", subj]);
        openssl(dir, [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            p.caCert,
            "-CAkey",
            p.caKey,
            "-CAcreateserial",
            "-days",
            days,
            "-out",
            cert,
            "-extfile",
            "ext.cnf",
            "-extensions",
            ext,
        ]);
        fs.rmSync(csr);
    };
    leaf(p.serverKey, p.serverCert, "/CN=kube-apiserver", "server");
    leaf(p.adminKey, p.adminCert, "/O=system:masters/CN=admin", "client");
    openssl(dir, ["genrsa", "-out", p.saKey, "2048"]);
    openssl(dir, ["rsa", "-in", p.saKey, "-pubout", "-out", p.saPub]);
    return p;
}
