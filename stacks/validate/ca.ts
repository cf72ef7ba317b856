/**
 * Reads `mesh.ca`: generated, external-root or external-intermediates, with every brought certificate checked
 * (CAs that may sign, valid today, chaining to the root, expiring before it) and keys matched to them.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { excerpt, isDnsLabel, isObject, keyPath } from "../checks";
import {
    CaMode,
    CaRotation,
    CaSettings,
    ExternalIntermediate,
    projectName,
    rotationStages,
} from "../topology";
import { configValue, Obj, prune, Reader } from "../reader";

/** Istio's cert tooling defaults (tools/certs/common.mk): root 3650 days, intermediates 730, RSA 4096. */
export const caDefaults = { rootValidityDays: 3650, intermediateValidityDays: 730, rsaBits: 4096 } as const;
export const defaultEarlyRenewalHours = 30 * 24;

/** The last instant an X.509 validity can name (GeneralizedTime ends at the year 9999). */
export const endOfTime = Date.UTC(9999, 11, 31, 23, 59, 59);
export const day = 24 * 60 * 60 * 1000;

/** PEM blocks of any kind in a text. */
export const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The PEM certificate blocks of a text, in order (other kinds of block left out). */
export function pemCertificates(text: string): string[] {
    return [...text.matchAll(pemBlock)].filter((b) => b[1] === "CERTIFICATE").map((b) => b[0]);
}

/**
 * Reads a certificate field: only PEM certificates, every one parsing. Whatever else the field holds (a private
 * key pasted by mistake, above all) is refused without showing any of it.
 */
export function readCertificates(
    r: Reader,
    obj: Obj,
    key: string,
    path: string,
    required: boolean,
    what: string,
): { pem: string; certs: X509Certificate[] } | undefined {
    const v = configValue(obj, key);
    const p = `${path}.${key}`;
    if (v === undefined) return required ? r.fail(p, `required; set it to ${what} (PEM)`) : undefined;
    if (typeof v !== "string") return r.fail(p, `must be a PEM text, got ${excerpt(v)}`);
    if (/PRIVATE KEY-----/.test(v)) {
        return r.fail(
            p,
            `holds a private key (not shown); paste only ${what} (-----BEGIN CERTIFICATE-----) here, and keep ` +
                `keys in secret config`,
        );
    }
    const blocks = [...v.matchAll(pemBlock)];
    const rest = v.replace(pemBlock, "").trim();
    if (blocks.length === 0 || rest !== "" || blocks.some((b) => b[1] !== "CERTIFICATE")) {
        return r.fail(
            p,
            `is not a PEM certificate; paste ${what} (-----BEGIN CERTIFICATE-----), never its key`,
        );
    }
    try {
        return { pem: v, certs: blocks.map((b) => new X509Certificate(b[0])) };
    } catch {
        return r.fail(p, `holds a PEM block that is not a readable X.509 certificate; paste ${what} again`);
    }
}

/**
 * The keyUsage extension's bits (RFC 5280 4.2.1.3), or undefined when the certificate has none (any use).
 * Node's X509Certificate exposes only the extended key usage, so the extension is read from the DER.
 */
export function keyUsageBits(cert: X509Certificate): number | undefined {
    const der = cert.raw;
    const oid = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]);
    const at = der.indexOf(oid);
    if (at === -1) return undefined;
    let i = at + oid.length;
    if (der[i] === 0x01) i += 3; // critical BOOLEAN
    if (der[i] !== 0x04) return undefined; // OCTET STRING
    i += 2;
    if (der[i] !== 0x03) return undefined; // BIT STRING
    const len = der[i + 1] ?? 0;
    const first = len >= 2 ? (der[i + 3] ?? 0) : 0;
    const second = len >= 3 ? (der[i + 4] ?? 0) : 0;
    return (first << 8) | second;
}

/** keyCertSign, bit 5 of keyUsage. */
export const keyCertSign = 0x0400;

export function canSign(cert: X509Certificate): boolean {
    const bits = keyUsageBits(cert);
    return bits === undefined || (bits & keyCertSign) !== 0;
}

export function isoDay(date: string | number): string {
    return new Date(date).toISOString().slice(0, 10);
}

/** The checks every CA certificate of the mesh passes: a CA, allowed to sign, valid now. */
export function checkCaCertificate(
    r: Reader,
    path: string,
    cert: X509Certificate,
    what: string,
    now: number,
): void {
    // Node's `ca` is OpenSSL's check: basicConstraints CA:true and, if the key usage is restricted, keyCertSign.
    if (!cert.ca && canSign(cert))
        r.fail(path, "is not a CA certificate (basicConstraints CA:true); istiod cannot sign with it");
    else if (!canSign(cert))
        r.fail(
            path,
            `its key usage does not allow signing certificates (keyCertSign); issue ${what} with ` +
                `keyUsage keyCertSign, cRLSign`,
        );
    if (Date.parse(cert.validTo) <= now)
        r.fail(path, `expired on ${isoDay(cert.validTo)}; renew ${what} before installing the mesh`);
    else if (Date.parse(cert.validFrom) > now)
        r.fail(path, `is not valid before ${isoDay(cert.validFrom)}; check the issuing machine's clock`);
}

export function readCa(
    r: Reader,
    mesh: Obj,
    isSecret: boolean,
    primaries: readonly string[],
    now: number,
): CaSettings {
    const path = `${projectName}:mesh.ca`;
    const ca = r.object(mesh, "ca", `${projectName}:mesh`) ?? {};
    r.knownKeys(ca, path, [
        "rootValidityDays",
        "intermediateValidityDays",
        "earlyRenewalHours",
        "rsaBits",
        "protect",
        "rootCert",
        "rootKey",
        "intermediates",
        "generation",
        "rotation",
    ]);
    const generation = r.integer(ca, "generation", path, 1, 1, 1000);
    // X.509 cannot name a time after the year 9999: a validity that ends later cannot be issued.
    const maxDays = Math.floor((endOfTime - now) / day);
    const untilYear9999 = " (the days from today to the end of 9999, the last year a certificate can name)";
    const rootValidityDays = r.integer(
        ca,
        "rootValidityDays",
        path,
        1,
        caDefaults.rootValidityDays,
        maxDays,
        untilYear9999,
    );
    const intermediateValidityDays = r.integer(
        ca,
        "intermediateValidityDays",
        path,
        1,
        caDefaults.intermediateValidityDays,
        maxDays,
        untilYear9999,
    );
    if (
        rootValidityDays !== undefined &&
        intermediateValidityDays !== undefined &&
        intermediateValidityDays >= rootValidityDays
    ) {
        r.fail(
            `${path}.intermediateValidityDays`,
            `${intermediateValidityDays} days is not shorter than the root's ${rootValidityDays}; ` +
                `an intermediate must expire before its root`,
        );
    }
    const earlyRenewalHours = r.integer(
        ca,
        "earlyRenewalHours",
        path,
        0,
        defaultEarlyRenewalHours,
        maxDays * 24,
    );
    if (
        earlyRenewalHours !== undefined &&
        intermediateValidityDays !== undefined &&
        earlyRenewalHours >= intermediateValidityDays * 24
    ) {
        r.fail(
            `${path}.earlyRenewalHours`,
            `${earlyRenewalHours} hours is not shorter than the intermediates' validity; every ` +
                `\`pulumi up\` would renew them`,
        );
    }
    const rsaBits = configValue(ca, "rsaBits");
    if (rsaBits !== undefined && !(rsaBits === 2048 || rsaBits === 3072 || rsaBits === 4096)) {
        r.fail(`${path}.rsaBits`, `${excerpt(rsaBits)} is not one of: 2048, 3072, 4096`);
    }
    const protect = r.boolean(ca, "protect", path, false);

    const root = readCertificates(r, ca, "rootCert", path, false, "the root's certificate");
    const rootCertPem = root?.pem;
    const rootCert = root?.certs[0];
    root?.certs.forEach((c, i) =>
        checkCaCertificate(
            r,
            `${path}.rootCert`,
            c,
            root.certs.length > 1 ? `root ${i + 1} of the bundle` : "the root",
            now,
        ),
    );
    const rootKeyPem = r.secret(ca, "rootKey", path, isSecret, keyFix(`${path}.rootKey`));
    const im = r.object(ca, "intermediates", path);
    const intermediates = readIntermediates(
        r,
        im,
        `${path}.intermediates`,
        primaries,
        isSecret,
        rootCert,
        now,
    );

    let mode: CaMode = "generated";
    if (rootKeyPem !== undefined || configValue(ca, "rootKey") !== undefined) {
        mode = "external-root";
        if (configValue(ca, "rootCert") === undefined)
            r.fail(`${path}.rootCert`, "required with `rootKey`; set it to the root certificate (PEM)");
        if (im)
            r.fail(
                `${path}.intermediates`,
                "cannot be combined with `rootKey`; bring the root key or the intermediates, not both",
            );
        rootOutlivesIntermediates(r, `${path}.rootCert`, rootCert, intermediateValidityDays, now);
    } else if (im) {
        mode = "external-intermediates";
        if (configValue(ca, "rootCert") === undefined) {
            r.fail(`${path}.rootCert`, "required with `intermediates`; set it to the root certificate (PEM)");
        }
        requireEveryPrimary(r, im, `${path}.intermediates`, primaries);
    } else if (configValue(ca, "rootCert") !== undefined) {
        r.fail(`${path}.rootCert`, "needs either a secret `rootKey` or `intermediates` for every primary");
    }
    return {
        mode,
        rootValidityDays: rootValidityDays ?? caDefaults.rootValidityDays,
        intermediateValidityDays: intermediateValidityDays ?? caDefaults.intermediateValidityDays,
        earlyRenewalHours: earlyRenewalHours ?? defaultEarlyRenewalHours,
        rsaBits: typeof rsaBits === "number" ? rsaBits : caDefaults.rsaBits,
        protect,
        ...prune({ rootCertPem, rootKeyPem }),
        intermediates,
        generation: generation ?? 1,
        ...prune({
            rotation: readRotation(
                r,
                ca,
                path,
                mode,
                isSecret,
                primaries,
                rootCert,
                intermediateValidityDays,
                now,
            ),
        }),
    };
}

/** A root that signs intermediates here must outlive one issued today. */
function rootOutlivesIntermediates(
    r: Reader,
    path: string,
    root: X509Certificate | undefined,
    intermediateValidityDays: number | undefined,
    now: number,
): void {
    if (!root?.ca || intermediateValidityDays === undefined) return;
    const needed = now + intermediateValidityDays * day;
    if (Date.parse(root.validTo) < needed && Date.parse(root.validTo) > now) {
        r.fail(
            path,
            `expires on ${isoDay(root.validTo)}, before intermediates issued today for ` +
                `intermediateValidityDays (${intermediateValidityDays}) would (${isoDay(needed)}); renew ` +
                `the root or shorten intermediateValidityDays`,
        );
    }
}

/**
 * `mesh.ca.rotation` (stacks/caRotation.ts): the stage, and the next root where the current one is brought
 * (with its key in `external-root` mode, with every primary's intermediate under it from `switch` on in
 * `external-intermediates` mode). In `generated` mode the next root is generated, and nothing is brought.
 */
function readRotation(
    r: Reader,
    ca: Obj,
    path: string,
    mode: CaMode,
    isSecret: boolean,
    primaries: readonly string[],
    currentRoot: X509Certificate | undefined,
    intermediateValidityDays: number | undefined,
    now: number,
): CaRotation | undefined {
    const rot = r.object(ca, "rotation", path);
    if (!rot) return undefined;
    const p = `${path}.rotation`;
    r.knownKeys(rot, p, ["stage", "rootCert", "rootKey", "intermediates"]);
    const stage =
        configValue(rot, "stage") === undefined
            ? r.fail(
                  `${p}.stage`,
                  `required; set it to the stage this \`pulumi up\` carries out: ${rotationStages.join(", ")} ` +
                      `(in that order, one \`up\` each)`,
              )
            : r.oneOf(rot, "stage", p, rotationStages);
    if (mode === "generated") {
        for (const key of ["rootCert", "rootKey", "intermediates"]) {
            if (configValue(rot, key) !== undefined) {
                r.fail(
                    `${p}.${key}`,
                    "the next root is generated here, as the current one is (no `mesh.ca.rootCert`); remove " +
                        "it, or bring the current root too",
                );
            }
        }
        return stage === undefined ? undefined : { stage, intermediates: {} };
    }
    const next = readCertificates(r, rot, "rootCert", p, true, "the next root's certificate");
    const nextRoot = next?.certs[0];
    if (next && nextRoot) {
        next.certs.forEach((c) => checkCaCertificate(r, `${p}.rootCert`, c, "the next root", now));
        if (currentRoot && nextRoot.fingerprint256 === currentRoot.fingerprint256) {
            r.fail(`${p}.rootCert`, "is the current root (`mesh.ca.rootCert`); bring the new root here");
        }
    }
    let rootKeyPem: CaRotation["rootKeyPem"];
    if (mode === "external-root") {
        rootKeyPem =
            configValue(rot, "rootKey") === undefined
                ? r.fail(`${p}.rootKey`, `required with \`mesh.ca.rootKey\`; ${keyFix(`${p}.rootKey`)}`)
                : r.secret(rot, "rootKey", p, isSecret, keyFix(`${p}.rootKey`));
        rootOutlivesIntermediates(r, `${p}.rootCert`, nextRoot, intermediateValidityDays, now);
        if (configValue(rot, "intermediates") !== undefined) {
            r.fail(
                `${p}.intermediates`,
                "cannot be combined with `mesh.ca.rootKey`; the intermediates under the next root are issued here",
            );
        }
    } else if (configValue(rot, "rootKey") !== undefined) {
        r.fail(
            `${p}.rootKey`,
            "the root key never enters the program when intermediates are brought; bring every primary's " +
                "intermediate under the next root in `rotation.intermediates` instead",
        );
    }
    let intermediates: CaRotation["intermediates"] = {};
    if (mode === "external-intermediates") {
        const im = r.object(rot, "intermediates", p);
        intermediates = readIntermediates(
            r,
            im,
            `${p}.intermediates`,
            primaries,
            isSecret,
            nextRoot,
            now,
            "`mesh.ca.rotation.rootCert`",
        );
        if (stage === "switch" || stage === "finish") {
            if (im === undefined) {
                r.fail(
                    `${p}.intermediates`,
                    `required from stage \`switch\`: every primary's intermediate issued by the next root`,
                );
            } else requireEveryPrimary(r, im, `${p}.intermediates`, primaries);
        }
    }
    if (stage === undefined) return undefined;
    return prune({ stage, rootCertPem: next?.pem, rootKeyPem, intermediates });
}

/** `intermediates` (brought ones, per primary): each checked against `rootCert` and its key. */
function readIntermediates(
    r: Reader,
    im: Obj | undefined,
    path: string,
    primaries: readonly string[],
    isSecret: boolean,
    rootCert: X509Certificate | undefined,
    now: number,
    rootName?: string,
): Record<string, ExternalIntermediate> {
    const intermediates = new Map<string, ExternalIntermediate>();
    for (const [cluster, raw] of Object.entries(im ?? {})) {
        const p = keyPath(path, cluster);
        if (!primaries.includes(cluster)) {
            r.fail(
                p,
                `${excerpt(cluster)} is not a primary; intermediates are for primaries: ${primaries.filter(isDnsLabel).join(", ") || "none"}`,
            );
            continue;
        }
        if (!isObject(raw)) {
            r.fail(p, "must be a map with `cert`, `key` and optionally `chain`");
            continue;
        }
        r.knownKeys(raw, p, ["cert", "key", "chain"]);
        const cert = readCertificates(r, raw, "cert", p, true, "the intermediate certificate");
        const keyPem =
            configValue(raw, "key") === undefined
                ? r.fail(`${p}.key`, `required; ${keyFix(`${p}.key`)}`)
                : r.secret(raw, "key", p, isSecret, keyFix(`${p}.key`));
        const chain = readCertificates(r, raw, "chain", p, false, "the certificates between it and the root");
        const chainBad = configValue(raw, "chain") !== undefined && chain === undefined;
        if (cert !== undefined && keyPem !== undefined && !chainBad) {
            checkIntermediate(
                r,
                p,
                cert.certs[0]!,
                chain?.certs ?? [],
                configValue(raw, "key"),
                rootCert,
                now,
                rootName,
            );
            intermediates.set(cluster, prune({ certPem: cert.pem, keyPem, chainPem: chain?.pem }));
        }
    }
    return Object.fromEntries(intermediates);
}

/** Every primary has an entry in `im`, or each missing one is named. */
function requireEveryPrimary(r: Reader, im: Obj, path: string, primaries: readonly string[]): void {
    for (const p of primaries) {
        if (!Object.hasOwn(im, p)) {
            r.fail(
                `${path}.${p}`,
                `missing; every primary needs its intermediate CA (\`cert\` and a secret \`key\`)`,
            );
        }
    }
}

const keyFix = (p: string) => `set it with \`pulumi config set --secret --path '${p}' < key.pem\``;

/**
 * An intermediate brought from outside must be a CA that may sign, valid now, not the root itself, inside the
 * root's lifetime, chaining to the mesh's root, and its key must be the certificate's. Each mistake fails
 * silently in a running mesh: a foreign root breaks mTLS between clusters, a mismatched key keeps istiod from
 * starting. A key that is not readable here (an opaque secret) is left to istiod; nothing from it is printed.
 */
export function checkIntermediate(
    r: Reader,
    path: string,
    cert: X509Certificate,
    chain: readonly X509Certificate[],
    keyText: unknown,
    root: X509Certificate | undefined,
    now: number,
    rootName = "`mesh.ca.rootCert`",
): void {
    if (root && cert.fingerprint256 === root.fingerprint256) {
        r.fail(
            `${path}.cert`,
            "is the root certificate itself; bring an intermediate issued by the root (each primary signs with " +
                "its own)",
        );
        return;
    }
    checkCaCertificate(r, `${path}.cert`, cert, "the intermediate", now);
    if (root && Date.parse(cert.validTo) > Date.parse(root.validTo)) {
        r.fail(
            `${path}.cert`,
            `is valid until ${isoDay(cert.validTo)}, after ${rootName} expires ` +
                `(${isoDay(root.validTo)}); issue the intermediate for at most the root's remaining lifetime`,
        );
    }
    if (root) {
        const path_ = [cert, ...chain, root];
        const verifies = (c: X509Certificate, issuer: X509Certificate) => {
            try {
                return c.verify(issuer.publicKey);
            } catch {
                return false; // a key type the issuer's signature cannot be checked with
            }
        };
        const broken = path_.slice(0, -1).findIndex((c, i) => !verifies(c, path_[i + 1]!));
        if (broken !== -1) {
            r.fail(
                `${path}.${broken === 0 ? "cert" : "chain"}`,
                `does not chain to ${rootName}; issue the intermediate from that root (with any ` +
                    `certificates in between in \`chain\`), or every cluster's workloads will refuse it`,
            );
        }
    }
    if (typeof keyText === "string" && keyText.includes("PRIVATE KEY-----")) {
        let matches = false;
        try {
            matches = cert.checkPrivateKey(createPrivateKey(keyText));
        } catch {
            matches = false;
        }
        if (!matches)
            r.fail(
                `${path}.key`,
                "is not the private key of `cert`; set the key the intermediate was issued for",
            );
    }
}
