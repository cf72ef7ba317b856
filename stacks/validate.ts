/**
 * Decides whether a stack configuration describes a possible mesh, and turns it into a `Topology`.
 *
 * Pure: it takes the raw config values and which keys Pulumi holds as secret, and returns either the
 * topology or every problem at once, each naming its config path and the fix. Whether a possible mesh is
 * also a safe one is the policy pack's question, not this module's.
 *
 * Rules every reader here follows: a key's value is looked up only if it is the map's own (`Object.hasOwn`),
 * so a key named like a prototype member (`constructor`) is just a key; `null` and `""` mean the key is not
 * set, everywhere; a bad value is shown only as a short escaped excerpt (`checks.excerpt`), and a value that
 * may be key material is never shown at all.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { validateHardening } from "./hardening";
import { readSmokeTest } from "./smokeTest";
import { validateObservability } from "./observability";
import {
    canonicalAddress,
    checkApiServer,
    didYouMean,
    excerpt,
    ipFamily,
    isDnsLabel,
    isDnsSubdomain,
    isHostName,
    isLabelValue,
    isObject,
    labelValuePattern,
    isLocalHostName,
    keyPath,
    looksLikeSecret,
    nameLimits,
    parseCidr,
    specialRange,
} from "./checks";
import { remoteSecretName } from "./names";
import { maxClustersPerReaderSecret, remoteSecretLayouts } from "./remoteSecrets";
import {
    CaMode,
    CaSettings,
    ClusterAccess,
    ClusterRole,
    ClusterSpec,
    EastWestSettings,
    ExternalIntermediate,
    projectName,
    ServiceType,
    Topology,
    topLevelConfigKeys,
    WorkloadSettings,
} from "./topology";
import { validateSecurity } from "./security";
import { validateTraffic } from "./traffic";
import { isChartRepository, releaseNames } from "./values";
import { configValue, Derived, exactSemver, Obj, prune, Reader, readResources } from "./reader";

// Earlier homes of these checks: other modules import them from here.
export { isIpAddress, isLoopbackHost } from "./checks";
export { configValue } from "./reader";

/** The raw input: the two config values as parsed from JSON, and whether Pulumi holds each key as secret. */
export interface RawConfig {
    readonly mesh: unknown;
    readonly clusters: unknown;
    /** `istio-multicluster:namespaces` and `istio-multicluster:security`; both optional (stacks/security.ts). */
    readonly namespaces?: unknown;
    readonly security?: unknown;
    /** `istio-multicluster:services`, `externalServices` and `ingress` (stacks/traffic.ts); each optional. */
    readonly services?: unknown;
    readonly externalServices?: unknown;
    readonly ingress?: unknown;
    /** `istio-multicluster:smokeTest` (read by stacks/smokeTest.ts). */
    readonly smokeTest?: unknown;
    /** `istio-multicluster:hardening` (read by stacks/hardening.ts). */
    readonly hardening?: unknown;
    /** `istio-multicluster:observability` (read by stacks/observability.ts). */
    readonly observability?: unknown;
    readonly secret: { readonly mesh: boolean; readonly clusters: boolean };
    /**
     * Every config key the stack sets (`<namespace>:<name>`, all namespaces), when the caller can list them:
     * keys of this project that the program does not read are then refused. Default: not checked.
     */
    readonly configKeys?: readonly string[];
}

/**
 * The validator's input from a stack's config values, the one place that knows which keys the program reads
 * (`topLevelConfigKeys`): the program reads them through `pulumi.Config`, `verify` from the decrypted config.
 * `read` gives a key's text as Pulumi holds it (JSON for a structured value), undefined when unset.
 */
export function rawConfigFrom(
    read: (key: string) => string | undefined,
    isSecret: (key: string) => boolean,
    configKeys?: readonly string[],
): RawConfig {
    const values = new Map(topLevelConfigKeys.map((k) => [k, parseConfigValue(read(k))]));
    return {
        mesh: values.get("mesh"),
        clusters: values.get("clusters"),
        namespaces: values.get("namespaces"),
        security: values.get("security"),
        services: values.get("services"),
        externalServices: values.get("externalServices"),
        ingress: values.get("ingress"),
        smokeTest: values.get("smokeTest"),
        hardening: values.get("hardening"),
        observability: values.get("observability"),
        secret: { mesh: isSecret("mesh"), clusters: isSecret("clusters") },
        ...(configKeys !== undefined ? { configKeys } : {}),
    };
}

function parseConfigValue(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
        return withoutNulls(JSON.parse(text) as unknown);
    } catch {
        // A scalar: the validator says what it should have been.
        return text;
    }
}

/**
 * `null` means "not set" everywhere (README, "Configuration"): `services: null`, or `outlierDetection: ~`
 * under a service, is the key left out. Entries of maps are dropped; items of lists stay (a list item of null
 * is a mistake the section's reader names).
 */
export function withoutNulls(v: unknown): unknown {
    if (v === null) return undefined;
    if (Array.isArray(v)) return (v as unknown[]).map((x) => (x === null ? x : withoutNulls(x)));
    if (typeof v === "object")
        return Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
                .filter(([, x]) => x !== null)
                .map(([k, x]) => [k, withoutNulls(x)]),
        );
    return v;
}

/** Either a topology or the full list of problems. */
export type ValidationResult =
    | { readonly ok: true; readonly topology: Topology }
    | { readonly ok: false; readonly errors: readonly string[] };

/** Thrown by `loadTopology` with every problem in its message, one per line. */
export class TopologyError extends Error {
    constructor(public readonly problems: readonly string[]) {
        super(
            `the stack configuration describes no possible mesh (${problems.length} problem` +
                `${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "TopologyError";
    }
}

/** Istio's cert tooling defaults (tools/certs/common.mk): root 3650 days, intermediates 730, RSA 4096. */
export const caDefaults = { rootValidityDays: 3650, intermediateValidityDays: 730, rsaBits: 4096 } as const;
const defaultEarlyRenewalHours = 30 * 24;

/** The largest replica count Kubernetes stores (int32). */
export const maxReplicas = 2147483647;
/** The last instant an X.509 validity can name (GeneralizedTime ends at the year 9999). */
const endOfTime = Date.UTC(9999, 11, 31, 23, 59, 59);
const day = 24 * 60 * 60 * 1000;

/** Every name the program derives from a cluster name (the longest of each kind). */
export function namesFromCluster(name: string): Derived[] {
    return [
        {
            what: "the remote secret",
            name: remoteSecretName(name),
            limit: nameLimits.dnsSubdomain,
            by: "Kubernetes",
        },
        {
            what: "the label value topology.istio.io/cluster",
            name,
            limit: nameLimits.labelValue,
            by: "Kubernetes",
        },
    ];
}

/** Every name the program (and the charts it installs) derives from the mesh's revision. */
export function namesFromRevision(revision: string): Derived[] {
    return [
        {
            what: "the istiod Helm release",
            name: releaseNames.istiod(revision),
            limit: nameLimits.helmRelease,
            by: "Helm",
        },
        {
            what: "the istiod Service",
            name: `istiod-${revision}`,
            limit: nameLimits.dnsLabel,
            by: "Kubernetes",
        },
        {
            what: "the label value istio.io/rev",
            name: revision,
            limit: nameLimits.labelValue,
            by: "Kubernetes",
        },
    ];
}

const workloadKeys = ["replicas", "autoscale", "pdb", "resources"] as const;
const eastWestKeys = [...workloadKeys, "serviceType", "sourceRanges", "serviceAnnotations"] as const;

function readWorkload(r: Reader, obj: Obj, path: string, base: WorkloadSettings = {}): WorkloadSettings {
    const replicas = r.integer(obj, "replicas", path, 1, undefined, maxReplicas);
    let autoscale: WorkloadSettings["autoscale"];
    const a = r.object(obj, "autoscale", path);
    if (a) {
        const p = `${path}.autoscale`;
        r.knownKeys(a, p, ["min", "max"]);
        const min = r.integer(a, "min", p, 1, undefined, maxReplicas);
        const max = r.integer(a, "max", p, 1, undefined, maxReplicas);
        if (min === undefined || max === undefined) {
            if (configValue(a, "min") === undefined || configValue(a, "max") === undefined)
                r.fail(p, "needs both `min` and `max`");
        } else if (max < min) {
            r.fail(`${p}.max`, `${max} is less than min ${min}; set max to at least ${min}`);
        } else {
            autoscale = { min, max };
        }
    }
    if (configValue(obj, "replicas") !== undefined && configValue(obj, "autoscale") !== undefined) {
        r.fail(path, "`replicas` and `autoscale` cannot both be set; keep one");
    }
    const pdb = configValue(obj, "pdb") === undefined ? base.pdb : r.boolean(obj, "pdb", path, false);
    const resources = readResources(r, obj, path) ?? base.resources;
    // A cluster that sets replicas drops the mesh's autoscale and the other way round.
    const scaling =
        replicas !== undefined || autoscale !== undefined
            ? { replicas, autoscale }
            : { replicas: base.replicas, autoscale: base.autoscale };
    return prune({ ...scaling, pdb, resources });
}

/** Where each east-west setting of a cluster came from, for messages about inherited settings. */
interface EastWestOrigin {
    readonly serviceType: string;
    readonly sourceRanges: string;
}

function readEastWest(
    r: Reader,
    obj: Obj,
    path: string,
    base?: { settings: EastWestSettings; origin: EastWestOrigin },
    perCluster = false,
): { settings: EastWestSettings; origin: EastWestOrigin } {
    r.knownKeys(obj, path, perCluster ? [...eastWestKeys, "address"] : eastWestKeys);
    const ownType = r.oneOf(obj, "serviceType", path, ["LoadBalancer", "NodePort"] as const);
    const serviceType: ServiceType = ownType ?? base?.settings.serviceType ?? "LoadBalancer";
    let sourceRanges = base?.settings.sourceRanges;
    let rangesOrigin = base?.origin.sourceRanges ?? `${path}.sourceRanges`;
    const rawRanges = configValue(obj, "sourceRanges");
    if (rawRanges !== undefined) {
        rangesOrigin = `${path}.sourceRanges`;
        if (!Array.isArray(rawRanges)) {
            r.fail(`${path}.sourceRanges`, `must be a list of CIDRs, got ${excerpt(rawRanges)}`);
        } else {
            let ok = true;
            rawRanges.forEach((c, i) => {
                if (typeof c !== "string" || parseCidr(c) === undefined) {
                    ok = false;
                    r.fail(
                        `${path}.sourceRanges[${i}]`,
                        `${excerpt(c)} is not a CIDR such as 10.0.0.0/8 or fd00::/8`,
                    );
                }
            });
            sourceRanges = ok ? (rawRanges as string[]) : undefined;
        }
    }
    const serviceAnnotations =
        r.annotations(obj, "serviceAnnotations", path) ?? base?.settings.serviceAnnotations;
    let address: string | undefined;
    if (perCluster) {
        address = r.string(obj, "address", path, false, "");
        if (address !== undefined && !checkAddress(r, `${path}.address`, address)) address = undefined;
    }
    return {
        settings: prune({
            ...readWorkload(r, obj, path, base?.settings),
            serviceType,
            sourceRanges,
            serviceAnnotations,
            address,
        }),
        origin: {
            serviceType: ownType !== undefined ? `${path}.serviceType` : (base?.origin.serviceType ?? path),
            sourceRanges: rangesOrigin,
        },
    };
}

/** An east-west address: an IP other clusters can reach (Kubernetes' rules for externalIPs), or a host name. */
function checkAddress(r: Reader, path: string, address: string): boolean {
    const family = ipFamily(address);
    if (family !== 0) {
        const range = specialRange(address);
        if (range === "loopback" || range === "unspecified") {
            r.fail(
                path,
                `${excerpt(address)} is ${range === "loopback" ? "a loopback" : "an unspecified"} address, which ` +
                    `other clusters cannot reach; set the address they reach this gateway at (for kind, the node ` +
                    `container's IP)`,
            );
            return false;
        }
        if (range !== undefined) {
            r.fail(
                path,
                `${excerpt(address)} is a ${range} address, which Kubernetes refuses as a Service's external IP ` +
                    `and other clusters cannot reach; set a unicast address they reach this gateway at`,
            );
            return false;
        }
        return true;
    }
    if (!isHostName(address)) {
        r.fail(
            path,
            `${excerpt(address)} is neither an IP address nor a DNS name; set the address the other ` +
                `clusters reach this gateway at`,
        );
        return false;
    }
    if (isLocalHostName(address)) {
        r.fail(
            path,
            `${excerpt(address)} is a loopback address, which other clusters cannot reach; set the ` +
                `address they reach this gateway at (for kind, the node container's IP)`,
        );
        return false;
    }
    return true;
}

/** PEM blocks of any kind in a text. */
const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Reads a certificate field: only PEM certificates, every one parsing. Whatever else the field holds (a private
 * key pasted by mistake, above all) is refused without showing any of it.
 */
function readCertificates(
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
function keyUsageBits(cert: X509Certificate): number | undefined {
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
const keyCertSign = 0x0400;

function canSign(cert: X509Certificate): boolean {
    const bits = keyUsageBits(cert);
    return bits === undefined || (bits & keyCertSign) !== 0;
}

function isoDay(date: string | number): string {
    return new Date(date).toISOString().slice(0, 10);
}

/** The checks every CA certificate of the mesh passes: a CA, allowed to sign, valid now. */
function checkCaCertificate(r: Reader, path: string, cert: X509Certificate, what: string, now: number): void {
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

function readCa(
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
    ]);
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

    const keyFix = (p: string) => `set it with \`pulumi config set --secret --path '${p}' < key.pem\``;
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
    const intermediates = new Map<string, ExternalIntermediate>();
    const im = r.object(ca, "intermediates", path);
    if (im) {
        for (const [cluster, raw] of Object.entries(im)) {
            const p = keyPath(`${path}.intermediates`, cluster);
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
            const chain = readCertificates(
                r,
                raw,
                "chain",
                p,
                false,
                "the certificates between it and the root",
            );
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
                );
                intermediates.set(cluster, prune({ certPem: cert.pem, keyPem, chainPem: chain?.pem }));
            }
        }
    }

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
        if (rootCert?.ca && intermediateValidityDays !== undefined) {
            const needed = now + intermediateValidityDays * day;
            if (Date.parse(rootCert.validTo) < needed && Date.parse(rootCert.validTo) > now) {
                r.fail(
                    `${path}.rootCert`,
                    `expires on ${isoDay(rootCert.validTo)}, before intermediates issued today for ` +
                        `intermediateValidityDays (${intermediateValidityDays}) would (${isoDay(needed)}); renew ` +
                        `the root or shorten intermediateValidityDays`,
                );
            }
        }
    } else if (im) {
        mode = "external-intermediates";
        if (configValue(ca, "rootCert") === undefined) {
            r.fail(`${path}.rootCert`, "required with `intermediates`; set it to the root certificate (PEM)");
        }
        for (const p of primaries) {
            if (!Object.hasOwn(im, p)) {
                r.fail(
                    `${path}.intermediates.${p}`,
                    `missing; every primary needs its intermediate CA (\`cert\` and a secret \`key\`)`,
                );
            }
        }
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
        intermediates: Object.fromEntries(intermediates),
    };
}

/**
 * An intermediate brought from outside must be a CA that may sign, valid now, not the root itself, inside the
 * root's lifetime, chaining to the mesh's root, and its key must be the certificate's. Each mistake fails
 * silently in a running mesh: a foreign root breaks mTLS between clusters, a mismatched key keeps istiod from
 * starting. A key that is not readable here (an opaque secret) is left to istiod; nothing from it is printed.
 */
function checkIntermediate(
    r: Reader,
    path: string,
    cert: X509Certificate,
    chain: readonly X509Certificate[],
    keyText: unknown,
    root: X509Certificate | undefined,
    now: number,
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
            `is valid until ${isoDay(cert.validTo)}, after \`mesh.ca.rootCert\` expires ` +
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
                `does not chain to \`mesh.ca.rootCert\`; issue the intermediate from that root (with any ` +
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

/**
 * Top-level config keys: every key of this project must be one the program reads, and a key of another
 * namespace that is this project's name misspelt (`istio-multicluser:mesh`) is refused too.
 */
function checkConfigKeys(r: Reader, keys: readonly string[]): void {
    const known = [...topLevelConfigKeys] as string[];
    for (const key of keys) {
        const colon = key.indexOf(":");
        const namespace = colon === -1 ? projectName : key.slice(0, colon);
        const name = colon === -1 ? key : key.slice(colon + 1);
        if (namespace === projectName) {
            if (known.includes(name)) continue;
            const pathLike = known.find((k) => name.startsWith(`${k}.`) || name.startsWith(`${k}[`));
            const near = didYouMean(name, known);
            r.fail(
                /^[A-Za-z0-9_.[\]-]{1,100}$/.test(name)
                    ? `${projectName}:${name}`
                    : `${projectName}:${excerpt(name)}`,
                pathLike
                    ? `unknown key; to set part of \`${pathLike}\`, run \`pulumi config set --path ` +
                          `'${projectName}:${pathLike}...'\` (with --path, not as one key name)`
                    : `unknown key; ${near ? `did you mean \`${projectName}:${near}\`?` : `this project reads: ${known.join(", ")}`}`,
            );
        } else if (namespace !== "pulumi" && didYouMean(namespace, [projectName]) !== undefined) {
            r.fail(
                excerpt(key),
                `is in namespace ${excerpt(namespace)}, not this project's; did you mean \`${projectName}:` +
                    `${didYouMean(name, known) ?? name}\`?`,
            );
        }
    }
}

/** Validates the raw stack configuration; pure apart from wrapping secrets with `pulumi.secret`. */
export function validateTopology(raw: RawConfig, now: Date = new Date()): ValidationResult {
    const r = new Reader();
    const at = now.getTime();
    const meshPath = `${projectName}:mesh`;
    const clustersPath = `${projectName}:clusters`;
    if (raw.configKeys) checkConfigKeys(r, raw.configKeys);

    const rawMesh = raw.mesh === null || raw.mesh === "" ? undefined : raw.mesh;
    let mesh: Obj = {};
    if (rawMesh === undefined) {
        r.fail(meshPath, "required; set `meshId` and `istio.version` under it in Pulumi.<stack>.yaml");
    } else if (!isObject(rawMesh)) {
        r.fail(meshPath, `must be a map, got ${excerpt(rawMesh)}`);
    } else {
        mesh = rawMesh;
    }
    r.knownKeys(mesh, meshPath, [
        "meshId",
        "trustDomain",
        "istio",
        "ca",
        "controlPlane",
        "eastWest",
        "remoteSecrets",
    ]);
    const remoteSecrets = r.oneOf(mesh, "remoteSecrets", meshPath, remoteSecretLayouts);
    const meshGiven = isObject(rawMesh);
    const meshId = meshGiven ? r.dnsLabel(mesh, "meshId", meshPath, true) : undefined;
    const trustDomain =
        r.matching(
            mesh,
            "trustDomain",
            meshPath,
            false,
            isDnsSubdomain,
            "a DNS name such as cluster.local (labels of at most 63 characters, 253 in all)",
        ) ?? "cluster.local";
    const istio = r.object(mesh, "istio", meshPath);
    const istioPath = `${meshPath}.istio`;
    let version: string | undefined;
    let revision: string | undefined;
    let defaultTag: boolean | undefined;
    let charts: string | undefined;
    if (!istio) {
        if (meshGiven && configValue(mesh, "istio") === undefined) {
            r.fail(istioPath, "required; set `version` under it, e.g. `version: 1.30.3`");
        }
    } else {
        r.knownKeys(istio, istioPath, ["version", "revision", "defaultTag", "charts"]);
        version = r.matching(
            istio,
            "version",
            istioPath,
            true,
            (s) => exactSemver.test(s),
            "an exact version such as 1.30.3 (no ranges, no `latest`)",
        );
        revision = r.dnsLabel(istio, "revision", istioPath, false);
        if (revision === "default") {
            r.fail(
                `${istioPath}.revision`,
                "`default` is reserved by Istio for the default revision tag; omit `revision` or pick another name",
            );
            revision = undefined;
        } else if (
            revision !== undefined &&
            !r.derived(`${istioPath}.revision`, revision, namesFromRevision(revision))
        ) {
            revision = undefined;
        }
        charts = r.string(
            istio,
            "charts",
            istioPath,
            false,
            "set it to a Helm repository (https://, oci://) or a directory holding `base`, `istiod` and `gateway`",
        );
        if (charts !== undefined) {
            for (const problem of chartSourceProblems(charts, version))
                r.fail(`${istioPath}.charts`, problem);
        }
        // The `default` revision tag (issue 7): only a revision can carry it.
        if (configValue(istio, "defaultTag") !== undefined) {
            defaultTag = r.boolean(istio, "defaultTag", istioPath, true);
            if (defaultTag && configValue(istio, "revision") === undefined) {
                r.fail(
                    `${istioPath}.defaultTag`,
                    "only with `revision`: without one the install already is the default; remove `defaultTag`",
                );
            }
        }
    }
    const cpObj = r.object(mesh, "controlPlane", meshPath) ?? {};
    r.knownKeys(cpObj, `${meshPath}.controlPlane`, workloadKeys);
    const controlPlane = readWorkload(r, cpObj, `${meshPath}.controlPlane`);
    const ewObj = r.object(mesh, "eastWest", meshPath) ?? {};
    const meshEastWest = readEastWest(r, ewObj, `${meshPath}.eastWest`);

    // Clusters.
    const givenClusters = raw.clusters === null || raw.clusters === "" ? undefined : raw.clusters;
    let rawClusters: unknown[] = [];
    if (givenClusters === undefined) {
        r.fail(clustersPath, "required; list the clusters of the mesh, at least one with `role: primary`");
    } else if (!Array.isArray(givenClusters) || givenClusters.length === 0) {
        r.fail(clustersPath, `must be a non-empty list of clusters, got ${excerpt(givenClusters)}`);
    } else {
        rawClusters = givenClusters;
    }
    const objs = rawClusters.map((c, i) => {
        if (!isObject(c)) r.fail(`${clustersPath}[${i}]`, `must be a map, got ${excerpt(c)}`);
        return isObject(c) ? c : undefined;
    });
    const nameOf = (c: Obj | undefined): unknown => (c ? configValue(c, "name") : undefined);
    const primaries = objs.flatMap((c) => {
        const name = nameOf(c);
        return c && configValue(c, "role") === "primary" && typeof name === "string" ? [name] : [];
    });
    // Which clusters get an east-west gateway (stacks/mesh.ts): every one in a multi-network mesh, else only
    // the primaries that serve remotes. A NodePort gateway's address is asked of those only.
    const networksGiven = new Set(objs.flatMap((c) => (c ? [configValue(c, "network")] : [])));
    const servingPrimaries = new Set(
        objs.flatMap((c) => (c && configValue(c, "role") === "remote" ? [configValue(c, "primary")] : [])),
    );
    const getsEastWestGateway = (name: string | undefined) =>
        networksGiven.size > 1 || (name !== undefined && servingPrimaries.has(name));
    // Names that are themselves invalid are reported on their own line, not offered as a fix.
    const primaryHint = primaries.filter(isDnsLabel).join(", ") || "none";
    const firstIndex = new Map<string, number>();
    const clusters: ClusterSpec[] = [];
    /** Values that must differ between clusters: the first path that used each. */
    const unique = new Map<string, string>();
    const once = (kind: string, value: string, path: string, what: string, shown: string): void => {
        const key = `${kind}\u0000${value}`;
        const first = unique.get(key);
        if (first === undefined) unique.set(key, path);
        else r.fail(path, `${shown} is also ${first}: ${what}`);
    };
    objs.forEach((c, i) => {
        if (!c) return;
        const path = `${clustersPath}[${i}]`;
        r.knownKeys(c, path, [
            "name",
            "role",
            "primary",
            "network",
            "region",
            "zone",
            "context",
            "kubeconfig",
            "apiServer",
            "eastWest",
        ]);
        let name = r.dnsLabel(c, "name", path, true);
        if (name !== undefined) {
            const prev = firstIndex.get(name);
            if (prev !== undefined) {
                r.fail(
                    `${path}.name`,
                    `${excerpt(name)} is already used by clusters[${prev}]; cluster names must be unique`,
                );
            } else {
                firstIndex.set(name, i);
            }
            if (!r.derived(`${path}.name`, name, namesFromCluster(name))) name = undefined;
        }
        const role: ClusterRole | undefined =
            configValue(c, "role") === undefined
                ? r.fail(`${path}.role`, "required; set it to `primary` or `remote`")
                : r.oneOf(c, "role", path, ["primary", "remote"] as const);
        let primary: string | undefined;
        if (role === "remote") {
            primary = r.string(
                c,
                "primary",
                path,
                true,
                `name the primary that serves this remote (primaries are: ${primaryHint})`,
            );
            if (primary !== undefined) {
                if (primary === name) {
                    r.fail(
                        `${path}.primary`,
                        `a remote cannot be its own primary; primaries are: ${primaryHint}`,
                    );
                } else if (!primaries.includes(primary)) {
                    r.fail(
                        `${path}.primary`,
                        `${excerpt(primary)} is not a primary; primaries are: ${primaryHint}`,
                    );
                }
            }
        } else if (role === "primary" && configValue(c, "primary") !== undefined) {
            r.fail(`${path}.primary`, "only a remote names a primary; remove it or set `role: remote`");
        }
        const network = r.matching(
            c,
            "network",
            path,
            false,
            (s) => labelValuePattern.test(s),
            "a Kubernetes label value (letters, digits, '-', '_', '.')",
        );
        if (network !== undefined && !isLabelValue(network))
            r.fail(`${path}.network`, `${excerpt(network)} is longer than 63 characters; shorten it`);
        const region = r.matching(
            c,
            "region",
            path,
            false,
            isLabelValue,
            "a Kubernetes label value (the nodes' region)",
        );
        const zone = r.matching(
            c,
            "zone",
            path,
            false,
            isLabelValue,
            "a Kubernetes label value (the nodes' zone)",
        );
        if (zone !== undefined && region === undefined)
            r.fail(`${path}.zone`, "needs `region`; set the region too");
        let access: ClusterAccess | undefined;
        const hasContext = configValue(c, "context") !== undefined;
        const hasKubeconfig = configValue(c, "kubeconfig") !== undefined;
        if (hasContext && hasKubeconfig) {
            r.fail(path, "set exactly one of `context` and `kubeconfig`, not both");
        } else if (!hasContext && !hasKubeconfig) {
            r.fail(
                path,
                "set exactly one of `context` (a context of your kubeconfig file) or `kubeconfig` (a secret)",
            );
        } else if (hasContext) {
            const context = readContext(r, c, path);
            if (context !== undefined) {
                access = { kind: "context", context };
                once(
                    "context",
                    context,
                    `${path}.context`,
                    "both entries name one cluster; give each cluster of the mesh its own context",
                    excerpt(context),
                );
            }
        } else {
            const kubeconfig = r.secret(
                c,
                "kubeconfig",
                path,
                raw.secret.clusters,
                `set it with \`pulumi config set --secret --path '${path}.kubeconfig' < kubeconfig.yaml\``,
            );
            // Kubeconfigs are not compared: secret values are opaque to the offline plan, all alike.
            if (kubeconfig !== undefined) access = { kind: "kubeconfig", kubeconfig };
        }
        let apiServer = r.string(c, "apiServer", path, false, "");
        if (apiServer !== undefined) {
            const check = checkApiServer(apiServer);
            if (!check.ok) {
                r.fail(
                    `${path}.apiServer`,
                    `${check.showValue ? excerpt(apiServer) : "the address"} ${check.problem}`,
                );
                apiServer = undefined;
            } else {
                once(
                    "apiServer",
                    check.canonical,
                    `${path}.apiServer`,
                    "two clusters cannot share one API server; give each cluster its own address",
                    excerpt(apiServer),
                );
            }
        }
        const ewRaw = r.object(c, "eastWest", path) ?? {};
        const ew = readEastWest(r, ewRaw, `${path}.eastWest`, meshEastWest, true);
        const eastWest = ew.settings;
        const inherited = (origin: string) => (origin.startsWith(meshPath) ? ` (set in \`${origin}\`)` : "");
        if (eastWest.serviceType === "NodePort") {
            if (
                eastWest.address === undefined &&
                configValue(ewRaw, "address") === undefined &&
                getsEastWestGateway(name)
            ) {
                r.fail(
                    `${path}.eastWest.address`,
                    "required when the east-west gateway is a NodePort; set it to a node address the other clusters reach",
                );
            } else if (eastWest.address !== undefined && ipFamily(eastWest.address) === 0) {
                r.fail(
                    `${path}.eastWest.address`,
                    `${excerpt(eastWest.address)} is a host name, which a NodePort east-west gateway` +
                        `${inherited(ew.origin.serviceType)} cannot use: nothing listens at its ports, and istiod ` +
                        `derives no gateway address from it; set the IP address of a node the other clusters ` +
                        `reach, or use serviceType LoadBalancer`,
                );
            }
            if (eastWest.sourceRanges !== undefined && eastWest.sourceRanges.length > 0) {
                const forbidden =
                    "Kubernetes forbids loadBalancerSourceRanges on a NodePort Service; remove sourceRanges " +
                    "(and restrict access in the nodes' firewall), or use serviceType LoadBalancer";
                const rangesFromMesh = ew.origin.sourceRanges.startsWith(meshPath);
                if (rangesFromMesh && ew.origin.serviceType.startsWith(meshPath)) {
                    r.fail(
                        ew.origin.sourceRanges,
                        `cannot be combined with serviceType NodePort: ${forbidden}`,
                    );
                } else if (rangesFromMesh) {
                    r.fail(
                        ew.origin.serviceType,
                        `NodePort cannot be combined with the sourceRanges set in \`${ew.origin.sourceRanges}\`: ` +
                            `Kubernetes forbids loadBalancerSourceRanges on a NodePort Service; set ` +
                            `\`sourceRanges: []\` on this cluster, or use serviceType LoadBalancer`,
                    );
                } else {
                    r.fail(
                        ew.origin.sourceRanges,
                        `cannot be combined with serviceType NodePort${inherited(ew.origin.serviceType)}: ${forbidden}`,
                    );
                }
            }
        }
        if (eastWest.address !== undefined) {
            once(
                "address",
                canonicalAddress(eastWest.address),
                `${path}.eastWest.address`,
                "two east-west gateways cannot share one address; give each cluster its own",
                excerpt(eastWest.address),
            );
        }
        if (name !== undefined && role !== undefined && access !== undefined) {
            clusters.push({
                name,
                role,
                ...prune({ primary, network, region, zone, apiServer }),
                access,
                eastWest,
                index: i,
            });
        }
    });
    if (rawClusters.length > 0 && primaries.length === 0) {
        r.fail(clustersPath, "no cluster has `role: primary`; a mesh needs at least one control plane");
    }
    const hasNetwork = (c: Obj | undefined) => c !== undefined && configValue(c, "network") !== undefined;
    const named = objs.filter(hasNetwork).length;
    const present = objs.filter((c) => c).length;
    if (named > 0 && named < present) {
        const missing = objs.flatMap((c, i) => (c && !hasNetwork(c) ? [`clusters[${i}]`] : []));
        r.fail(
            clustersPath,
            `networks are named on some clusters but not on ${missing.join(", ")}; name a network on every ` +
                `cluster (multi-network) or on none (single network)`,
        );
    }
    const ca = readCa(r, mesh, raw.secret.mesh, primaries, at);
    const sec = validateSecurity(raw.namespaces, raw.security, { trustDomain, revision });
    if (!sec.ok) r.adopt(sec.errors);
    // Services live in the mesh's namespaces; while those are refused, only the traffic config's own checks run.
    const traffic = validateTraffic(raw, clusters, sec.ok ? sec.namespaces.map((n) => n.name) : undefined);
    r.adopt(traffic.errors);
    const smoke = readSmokeTest(
        raw.smokeTest,
        clusters.map((c) => c.name),
    );
    r.adopt(smoke.errors);
    const smokeNamespace = smoke.settings?.namespace;
    if (smokeNamespace !== undefined && sec.ok && sec.namespaces.some((n) => n.name === smokeNamespace)) {
        // Both would create a Namespace of that name in every cluster: the second fails, and a destroy of the
        // smoke test would delete the application's namespace.
        r.fail(
            `${projectName}:smokeTest.namespace`,
            `${excerpt(smokeNamespace)} is also in ${projectName}:namespaces; the smoke test makes a namespace of ` +
                "its own: give it another name",
        );
    }
    // Namespaces other sections create: observability needs one of its own.
    const takenNamespaces = new Map<string, string>(
        (sec.ok ? sec.namespaces : []).map((n) => [n.name, `${projectName}:namespaces`]),
    );
    if (smokeNamespace !== undefined)
        takenNamespaces.set(smokeNamespace, `${projectName}:smokeTest.namespace`);
    const observability = validateObservability(raw.observability, {
        clusters: clusters.map((c) => c.name),
        takenNamespaces,
    });
    r.adopt(observability.errors);

    if (remoteSecrets === "per-reader" && rawClusters.length - 1 > maxClustersPerReaderSecret) {
        r.fail(
            `${meshPath}.remoteSecrets`,
            `per-reader puts ${rawClusters.length - 1} kubeconfigs in each primary's one Secret, more than the ` +
                `${maxClustersPerReaderSecret} that fit in Kubernetes' 1 MiB Secret limit; use per-cluster`,
        );
    }
    if (r.errors.length > 0 || meshId === undefined || version === undefined || !sec.ok) {
        // Hardening's own checks run too, so that every problem is reported at once.
        return { ok: false, errors: [...r.errors, ...validateHardening(raw.hardening, undefined).errors] };
    }
    const topology: Topology = {
        mesh: {
            meshId,
            trustDomain,
            ...(sec.security.trustDomainAliases.length > 0
                ? { trustDomainAliases: sec.security.trustDomainAliases }
                : {}),
            istio: prune({ version, revision, defaultTag, charts }),
            ca,
            controlPlane,
            ...(remoteSecrets === "per-reader" ? { remoteSecrets } : {}),
        },
        clusters,
        namespaces: sec.namespaces,
        security: sec.security,
        ...(traffic.traffic ? { traffic: traffic.traffic } : {}),
        ...(smoke.settings ? { smokeTest: smoke.settings } : {}),
        ...(observability.settings ? { observability: observability.settings } : {}),
    };
    // Quota floors are checked against what the rest of the topology needs (stacks/hardening.ts).
    const hardening = validateHardening(raw.hardening, topology);
    if (!hardening.settings) return { ok: false, errors: hardening.errors };
    return { ok: true, topology: { ...topology, hardening: hardening.settings } };
}

/**
 * A kubeconfig context: one line, no whitespace at its ends. Anything else is most likely a kubeconfig or a
 * token pasted into the wrong key: refused without showing any of it.
 */
function readContext(r: Reader, c: Obj, path: string): string | undefined {
    const v = configValue(c, "context");
    const p = `${path}.context`;
    if (typeof v !== "string") return r.fail(p, `must be a string, got ${excerpt(v)}`);
    if (/[\r\n]/.test(v) || looksLikeSecret(v)) {
        return r.fail(
            p,
            "is not a context name (not shown: it looks like a kubeconfig or a credential); name a context " +
                "of your kubeconfig file, or put a kubeconfig in `kubeconfig` as a secret",
        );
    }
    if (v.trim() !== v || v.length > 1024 || /[\u0000-\u001f\u007f]/.test(v)) {
        return r.fail(
            p,
            `${excerpt(v)} is not a context name: a context is one line of at most 1024 characters, without ` +
                `control characters or whitespace at its ends; copy it from \`kubectl config get-contexts\``,
        );
    }
    return v;
}

/**
 * What is wrong with `mesh.istio.charts`: a repository address with credentials in it (they would sit in
 * the stack file and the state; give them to Helm another way), or a local directory that lacks one of the
 * three charts or holds another version than `mesh.istio.version` (Helm reads no version for a chart given
 * as a path, so this is the only place the pin is enforced). A relative directory is read from the project's
 * directory, where Pulumi runs the program and the Kubernetes provider.
 */
export function chartSourceProblems(charts: string, version: string | undefined): string[] {
    if (isChartRepository(charts)) {
        try {
            const url = new URL(charts);
            if (url.username || url.password) {
                return [
                    "a repository address must not carry a user or password; use a mirror that needs none here",
                ];
            }
            if (url.search !== "" || url.hash !== "" || looksLikeSecret(charts)) {
                // A token in a query (`?token=...`) would be in the stack file, the state and every plan.
                return [
                    "a repository address takes no query or fragment (they carry tokens; not shown); use a " +
                        "mirror that needs none here",
                ];
            }
        } catch {
            return ["is not a valid repository address; give https://host/path or oci://host/path"];
        }
        return [];
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(charts)) {
        return ["give an https:// or oci:// repository, or a local directory"];
    }
    const problems: string[] = [];
    for (const chart of ["base", "istiod", "gateway"]) {
        const file = path.resolve(charts, chart, "Chart.yaml");
        let chartVersion: unknown;
        try {
            chartVersion = (YAML.parse(fs.readFileSync(file, "utf8")) as { version?: unknown } | null)
                ?.version;
        } catch {
            problems.push(
                `no chart \`${chart}\` in ${charts} (expected ${path.join(charts, chart, "Chart.yaml")})`,
            );
            continue;
        }
        if (version !== undefined && String(chartVersion) !== version) {
            problems.push(
                `the \`${chart}\` chart in ${charts} is version ${String(chartVersion)}, not mesh.istio.version ` +
                    `${version}; point it at the charts of ${version}`,
            );
        }
    }
    return problems;
}
