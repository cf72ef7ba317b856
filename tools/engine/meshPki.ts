/**
 * A mesh root and one intermediate CA per primary, made with the openssl CLI, for stacks that bring their own
 * PKI (`mesh.ca.rootCert` + `mesh.ca.intermediates`): the demo and the engine tier, where the tls provider
 * cannot be built. ECDSA P-256 (quick to make; istiod signs with it as with RSA). The root key is deleted once
 * the intermediates are signed, as an organisation's offline root would never reach the program; the
 * intermediate keys are written with mode 0600 and are only ever passed to `pulumi config set --secret` on
 * standard input.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The files of a mesh PKI. */
export interface MeshPki {
    readonly rootCert: string;
    /** Per primary: its intermediate's certificate and key files. */
    readonly intermediates: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
}

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * Makes (or finds, when already made in `dir`) the mesh's root and the primaries' intermediates; `rootName`
 * tells a rotation's next root from the current one by its subject.
 */
export function makeMeshPki(
    dir: string,
    meshId: string,
    primaries: readonly string[],
    rootName = "Root CA",
): MeshPki {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = (f: string) => path.join(dir, f);
    const pki: MeshPki = {
        rootCert: file("root-cert.pem"),
        intermediates: Object.fromEntries(
            primaries.map((p) => [p, { cert: file(`${p}-ca-cert.pem`), key: file(`${p}-ca-key.pem`) }]),
        ),
    };
    const missing = [pki.rootCert, ...Object.values(pki.intermediates).flatMap((i) => [i.cert, i.key])].some(
        (f) => !fs.existsSync(f),
    );
    if (!missing) return pki;
    fs.writeFileSync(
        file("ca.ext"),
        [
            "[root]",
            "basicConstraints=critical,CA:true",
            "keyUsage=critical,keyCertSign,cRLSign",
            "subjectKeyIdentifier=hash",
            "[intermediate]",
            "basicConstraints=critical,CA:true,pathlen:0",
            "keyUsage=critical,digitalSignature,keyCertSign,cRLSign",
            "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid",
            "[req]",
            "distinguished_name=dn",
            "[dn]",
            "",
        ].join("\n"),
    );
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(dir, [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "root-key.pem",
        "-out",
        "root-cert.pem",
        "-days",
        "3650",
        "-subj",
        `/O=${meshId}/CN=${rootName}`,
        "-config",
        "ca.ext",
        "-extensions",
        "root",
    ]);
    try {
        for (const p of primaries) {
            openssl(dir, [
                "req",
                "-new",
                ...ec,
                "-keyout",
                `${p}-ca-key.pem`,
                "-out",
                `${p}.csr`,
                "-subj",
                `/O=${meshId}/CN=Intermediate CA/L=${p}`,
                "-config",
                "ca.ext",
            ]);
            fs.chmodSync(file(`${p}-ca-key.pem`), 0o600);
            openssl(dir, [
                "x509",
                "-req",
                "-in",
                `${p}.csr`,
                "-CA",
                "root-cert.pem",
                "-CAkey",
                "root-key.pem",
                "-CAcreateserial",
                "-out",
                `${p}-ca-cert.pem`,
                "-days",
                "730",
                "-extfile",
                "ca.ext",
                "-extensions",
                "intermediate",
            ]);
            fs.rmSync(file(`${p}.csr`));
        }
    } finally {
        fs.rmSync(file("root-key.pem"), { force: true });
    }
    return pki;
}

/**
 * The `pulumi config set` commands that put a mesh PKI into a stack: each value read from standard input
 * (never on the command line), the keys as secrets.
 */
export function pkiConfigCommands(
    pki: MeshPki,
    under = "istio-multicluster:mesh.ca",
): { args: string[]; stdin: string }[] {
    const set = (key: string, file: string, secret: boolean) => ({
        args: ["config", "set", "--path", `${under}.${key}`, ...(secret ? ["--secret"] : [])],
        stdin: fs.readFileSync(file, "utf8"),
    });
    return [
        set("rootCert", pki.rootCert, false),
        ...Object.entries(pki.intermediates).flatMap(([p, i]) => [
            set(`intermediates.${p}.cert`, i.cert, false),
            set(`intermediates.${p}.key`, i.key, true),
        ]),
    ];
}
