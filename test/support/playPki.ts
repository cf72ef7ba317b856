/**
 * Real key material for a plan run as an update: what the `tls` provider would return for each of the
 * program's `tls` resources, made here with node:crypto (keys) and the openssl CLI (requests and
 * certificates), from exactly the inputs the program registered (subject, CA flag, path length, key usages,
 * validity). So the `cacerts` Secrets of a played update hold a real root, real intermediates and their keys,
 * which a real istiod can load.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApplyOutputs } from "../../tools/planner";

interface Subject {
    commonName?: string;
    organization?: string;
    organizationalUnit?: string;
    locality?: string;
    country?: string;
    province?: string;
}

const usageNames: Record<string, { ku?: string; eku?: string }> = {
    cert_signing: { ku: "keyCertSign" },
    crl_signing: { ku: "cRLSign" },
    digital_signature: { ku: "digitalSignature" },
    key_encipherment: { ku: "keyEncipherment" },
    content_commitment: { ku: "nonRepudiation" },
    key_agreement: { ku: "keyAgreement" },
    server_auth: { eku: "serverAuth" },
    client_auth: { eku: "clientAuth" },
};

function subjectArg(s: Subject | undefined): string {
    const parts: [string, string | undefined][] = [
        ["C", s?.country],
        ["ST", s?.province],
        ["L", s?.locality],
        ["O", s?.organization],
        ["OU", s?.organizationalUnit],
        ["CN", s?.commonName],
    ];
    const text = parts
        .filter(([, v]) => v)
        .map(([k, v]) => `/${k}=${v!.replace(/\//g, "\\/")}`)
        .join("");
    return text || "/";
}

function extensions(inputs: Record<string, unknown>): string {
    const lines: string[] = [];
    if (inputs.isCaCertificate) {
        const pathLen =
            typeof inputs.maxPathLength === "number" && inputs.maxPathLength >= 0
                ? `,pathlen:${inputs.maxPathLength}`
                : "";
        lines.push(`basicConstraints=critical,CA:true${pathLen}`);
    } else {
        lines.push("basicConstraints=critical,CA:false");
    }
    const uses = ((inputs.allowedUses as string[] | undefined) ?? []).map((u) => usageNames[u] ?? {});
    const ku = uses.flatMap((u) => (u.ku ? [u.ku] : []));
    const eku = uses.flatMap((u) => (u.eku ? [u.eku] : []));
    if (ku.length > 0) lines.push(`keyUsage=critical,${ku.join(",")}`);
    if (eku.length > 0) lines.push(`extendedKeyUsage=${eku.join(",")}`);
    if (inputs.setSubjectKeyId) lines.push("subjectKeyIdentifier=hash");
    for (const san of sans(inputs)) lines.push(`subjectAltName=${san}`);
    return `[ext]\n${lines.join("\n")}\n`;
}

/** The SAN extension's value for the names a request or certificate carries (none: nothing). */
function sans(inputs: Record<string, unknown>): string[] {
    const names = [
        ...((inputs.dnsNames as string[] | undefined) ?? []).map((d) => `DNS:${d}`),
        ...((inputs.ipAddresses as string[] | undefined) ?? []).map((i) => `IP:${i}`),
        ...((inputs.uris as string[] | undefined) ?? []).map((u) => `URI:${u}`),
    ];
    return names.length > 0 ? [names.join(",")] : [];
}

function days(inputs: Record<string, unknown>): string {
    const hours = typeof inputs.validityPeriodHours === "number" ? inputs.validityPeriodHours : 24 * 365;
    return String(Math.max(1, Math.ceil(hours / 24)));
}

function withFiles<T>(files: Record<string, string>, f: (dir: string) => T): T {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "play-pki-"));
    try {
        for (const [n, text] of Object.entries(files))
            fs.writeFileSync(path.join(dir, n), text, { mode: 0o600 });
        return f(dir);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function openssl(dir: string, args: string[]): string {
    return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The outputs of one `tls` resource, or undefined for any other type. */
export function tlsOutputs(
    type: string,
    inputs: Record<string, unknown>,
): Record<string, unknown> | undefined {
    switch (type) {
        case "tls:index/privateKey:PrivateKey": {
            const rsa = (inputs.algorithm ?? "RSA") === "RSA";
            const pair = rsa
                ? crypto.generateKeyPairSync("rsa", { modulusLength: Number(inputs.rsaBits ?? 2048) })
                : crypto.generateKeyPairSync("ec", {
                      namedCurve: inputs.ecdsaCurve === "P384" ? "secp384r1" : "prime256v1",
                  });
            const privateKeyPem = pair.privateKey.export({
                type: rsa ? "pkcs1" : "sec1",
                format: "pem",
            }) as string;
            return {
                privateKeyPem,
                privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }),
                publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }),
            };
        }
        case "tls:index/selfSignedCert:SelfSignedCert":
            return withFiles(
                { "key.pem": String(inputs.privateKeyPem), "ext.cnf": extensions(inputs) },
                (dir) => ({
                    certPem: openssl(dir, [
                        "req",
                        "-x509",
                        "-new",
                        "-key",
                        "key.pem",
                        "-subj",
                        subjectArg(inputs.subject as Subject),
                        "-days",
                        days(inputs),
                        "-config",
                        "ext.cnf",
                        "-extensions",
                        "ext",
                        "-set_serial",
                        serial(),
                        "-sha256",
                    ]),
                }),
            );
        case "tls:index/certRequest:CertRequest":
            return withFiles({ "key.pem": String(inputs.privateKeyPem) }, (dir) => ({
                certRequestPem: openssl(dir, [
                    "req",
                    "-new",
                    "-key",
                    "key.pem",
                    "-subj",
                    subjectArg(inputs.subject as Subject),
                    ...sans(inputs).flatMap((san) => ["-addext", `subjectAltName=${san}`]),
                ]),
            }));
        case "tls:index/locallySignedCert:LocallySignedCert":
            return withFiles(
                {
                    "csr.pem": String(inputs.certRequestPem),
                    "ca.pem": String(inputs.caCertPem),
                    "ca-key.pem": String(inputs.caPrivateKeyPem),
                    "ext.cnf": extensions(inputs),
                },
                (dir) => ({
                    certPem: openssl(dir, [
                        "x509",
                        "-req",
                        "-in",
                        "csr.pem",
                        "-CA",
                        "ca.pem",
                        "-CAkey",
                        "ca-key.pem",
                        "-set_serial",
                        serial(),
                        "-days",
                        days(inputs),
                        "-extfile",
                        "ext.cnf",
                        "-extensions",
                        "ext",
                        "-sha256",
                        "-copy_extensions",
                        "copy",
                    ]),
                }),
            );
        default:
            return undefined;
    }
}

function serial(): string {
    return `0x${crypto.randomBytes(12).toString("hex")}`;
}

/** Pulumi's secret marker on the wire (sdk/nodejs/runtime/rpc.ts): the mock hands secret inputs so. */
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

/** Inputs with every secret wrapper replaced by its value. */
function reveal(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(reveal);
    if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        if (o[sigKey] === secretSig) return reveal(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)]));
    }
    return v;
}

/**
 * `applyOutputs` for the `tls` resources, falling back to `rest` for every other type. Like the provider,
 * one resource with the same inputs keeps its outputs: plans made again with the same `memo` (the rounds of
 * one played update) reuse the keys and certificates already made.
 */
export function playPki(
    rest?: ApplyOutputs,
    memo = new Map<string, Record<string, unknown>>(),
): ApplyOutputs {
    return (args) => {
        const inputs = reveal(args.inputs) as Record<string, unknown>;
        const key = `${args.type}::${args.name}::${JSON.stringify(inputs)}`;
        let out = memo.get(key);
        if (!out) {
            out = tlsOutputs(args.type, inputs);
            if (out) memo.set(key, out);
        }
        return out ?? rest?.(args);
    };
}
