/**
 * A throwaway PKI for tests, made with the openssl CLI when first asked for and never written into the
 * repository: certificates dated from today and keys that exist only for this test run.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** PEM texts by role. */
export interface TestPki {
    /** Root CA, RSA 2048, 3650 days, CA:true. */
    readonly rootCert: string;
    readonly rootKey: string;
    /** Intermediate under the root, 730 days, CA:true pathlen 0. */
    readonly intCert: string;
    readonly intKey: string;
    /** The same intermediate key, certified for 1000 days. */
    readonly int1000dCert: string;
    /** The same key, certified without CA:true. */
    readonly notCaCert: string;
    /** A 100-day root. */
    readonly shortRootCert: string;
    /** An intermediate of the 100-day root valid for 200 days: it outlives its root. */
    readonly outlivesRootCert: string;
    /** The intermediate key certified as a CA whose key usage does not allow signing certificates. */
    readonly noSignCert: string;
}

let cached: TestPki | undefined;

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** The test PKI (made once per process, in a temporary directory that is removed at once). */
export function testPki(): TestPki {
    if (cached) return cached;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-pki-"));
    try {
        const ext = (name: string, body: string) =>
            fs.writeFileSync(path.join(dir, name), `[ext]\n${body}\n`);
        ext("root.ext", "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign");
        ext(
            "int.ext",
            "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign",
        );
        ext("leaf.ext", "basicConstraints=critical,CA:false");
        ext("nosign.ext", "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature");
        const root = (key: string, cert: string, cn: string, days: number) =>
            openssl(dir, [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-days",
                String(days),
                "-subj",
                `/O=Istio/CN=${cn}`,
                "-extensions",
                "ext",
                "-config",
                "root.ext",
            ]);
        const sign = (out: string, ca: string, caKey: string, days: number, extFile: string) =>
            openssl(dir, [
                "x509",
                "-req",
                "-in",
                "int.csr",
                "-CA",
                ca,
                "-CAkey",
                caKey,
                "-CAcreateserial",
                "-out",
                out,
                "-days",
                String(days),
                "-extfile",
                extFile,
                "-extensions",
                "ext",
            ]);
        fs.writeFileSync(path.join(dir, "req.cnf"), "[req]\ndistinguished_name=dn\n[dn]\n");
        root("root-key.pem", "root-cert.pem", "Root CA", 3650);
        root("short-root-key.pem", "short-root-cert.pem", "Short Root", 100);
        openssl(dir, [
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "int-key.pem",
            "-out",
            "int.csr",
            "-subj",
            "/O=Istio/CN=Intermediate CA",
            "-config",
            "req.cnf",
        ]);
        sign("int-cert.pem", "root-cert.pem", "root-key.pem", 730, "int.ext");
        sign("int-1000d-cert.pem", "root-cert.pem", "root-key.pem", 1000, "int.ext");
        sign("not-ca-cert.pem", "root-cert.pem", "root-key.pem", 730, "leaf.ext");
        sign("outlives-root-cert.pem", "short-root-cert.pem", "short-root-key.pem", 200, "int.ext");
        sign("no-sign-cert.pem", "root-cert.pem", "root-key.pem", 730, "nosign.ext");
        const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
        cached = {
            rootCert: read("root-cert.pem"),
            rootKey: read("root-key.pem"),
            intCert: read("int-cert.pem"),
            intKey: read("int-key.pem"),
            int1000dCert: read("int-1000d-cert.pem"),
            notCaCert: read("not-ca-cert.pem"),
            shortRootCert: read("short-root-cert.pem"),
            outlivesRootCert: read("outlives-root-cert.pem"),
            noSignCert: read("no-sign-cert.pem"),
        };
        return cached;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const labelled = new Map<string, { cert: string; key: string }>();

/**
 * A real CA certificate (ECDSA P-256, quick to make) standing for `label` in a test: labels starting with
 * "ROOT" (the mesh's root, "ROOTB" the next one in a rotation) are self-signed roots; any other label is an intermediate (CA, pathlen 0) issued by `issuer` (default "ROOT").
 * The same label and issuer give the same certificate for the whole run.
 */
export function labelledCert(label: string, issuer = "ROOT"): string {
    return labelledPair(label, issuer).cert;
}

/** The private key of `labelledCert(label, issuer)`. */
export function labelledKey(label: string, issuer = "ROOT"): string {
    return labelledPair(label, issuer).key;
}

function labelledPair(label: string, issuer: string): { cert: string; key: string } {
    const isRoot = label === issuer || label.startsWith("ROOT");
    const id = isRoot ? label : `${label}<-${issuer}`;
    const known = labelled.get(id);
    if (known) return known;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-cert-"));
    try {
        const subj = `/O=Istio/CN=${label.replace(/[^A-Za-z0-9 ()-]/g, "_")}`;
        fs.writeFileSync(
            path.join(dir, "ext.cnf"),
            "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n" +
                (isRoot
                    ? "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"
                    : "basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\n"),
        );
        const newKey = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
        ];
        if (isRoot) {
            openssl(dir, [
                "req",
                "-x509",
                ...newKey,
                "-out",
                "cert.pem",
                "-days",
                "3650",
                "-subj",
                subj,
                "-config",
                "ext.cnf",
                "-extensions",
                "ext",
            ]);
        } else {
            const ca = labelledPair(issuer, issuer.startsWith("ROOT") ? issuer : "ROOT");
            fs.writeFileSync(path.join(dir, "ca.pem"), ca.cert);
            fs.writeFileSync(path.join(dir, "ca-key.pem"), ca.key);
            openssl(dir, ["req", "-new", ...newKey, "-out", "req.csr", "-subj", subj, "-config", "ext.cnf"]);
            openssl(dir, [
                "x509",
                "-req",
                "-in",
                "req.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                "cert.pem",
                "-days",
                "730",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "ext",
            ]);
        }
        const pair = {
            cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"),
            key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"),
        };
        labelled.set(id, pair);
        return pair;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
