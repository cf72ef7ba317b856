/**
 * Decides whether a stack configuration describes a possible mesh, and turns it into a `Topology`.
 *
 * Pure: it takes the raw config values and which keys Pulumi holds as secret, and returns either the
 * topology or every problem at once, each naming its config path and the fix. Whether a possible mesh is
 * also a safe one is the policy pack's question, not this module's.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { readSmokeTest } from "./smokeTest";
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
    ResourceSettings,
    ServiceType,
    Topology,
    WorkloadSettings,
} from "./topology";
import { validateSecurity } from "./security";
import { validateTraffic } from "./traffic";

/** The raw input: the two config values as parsed from JSON, and whether Pulumi holds each key as secret. */
export interface RawConfig {
    readonly mesh: unknown;
    readonly clusters: unknown;
    /** `istio-multicluster:namespaces` and `istio-multicluster:security`; both optional (stacks/security.ts). */
    readonly namespaces?: unknown;
    readonly security?: unknown;
    /** `istio-multicluster:smokeTest` (read by stacks/smokeTest.ts). */
    readonly smokeTest?: unknown;
    readonly secret: { readonly mesh: boolean; readonly clusters: boolean };
    /** `istio-multicluster:services`, `externalServices` and `ingress` (stacks/traffic.ts); each optional. */
    readonly services?: unknown;
    readonly externalServices?: unknown;
    readonly ingress?: unknown;
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

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const exactSemver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const quantity = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv6 = /^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/;
const cidr4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
const cidr6 = /^[0-9a-fA-F:]+:[0-9a-fA-F:.]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

/** True for an address that names the local machine: useless to another cluster. */
export function isLoopbackHost(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    return (
        h === "localhost" || h.endsWith(".localhost") || /^127\./.test(h) || h === "::1" || h === "0.0.0.0"
    );
}

/** True for an IPv4 or IPv6 literal. */
export function isIpAddress(address: string): boolean {
    return ipv4.test(address) || ipv6.test(address);
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * A value as messages show it. Maps and lists are described, never printed: a config key holding any
 * `secure:` value reaches the program decrypted, and a mistyped kubeconfig or key must not end up in logs.
 */
function quote(v: unknown): string {
    if (Array.isArray(v)) return `a list of ${v.length}`;
    if (typeof v === "object" && v !== null) return "a map";
    return JSON.stringify(v) ?? String(v);
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0]!;
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j]!;
            row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length]!;
}

/** Collects problems while reading one raw object; each reader returns a typed value or undefined. */
class Reader {
    readonly errors: string[] = [];

    fail(path: string, message: string): undefined {
        this.errors.push(`${path}: ${message}`);
        return undefined;
    }

    /** Reports every key of `obj` not in `allowed`, with a hint when one is close. */
    knownKeys(obj: Obj, path: string, allowed: readonly string[]): void {
        for (const key of Object.keys(obj)) {
            if (allowed.includes(key)) continue;
            const near = allowed.find(
                (a) =>
                    a.toLowerCase() === key.toLowerCase() ||
                    distance(a.toLowerCase(), key.toLowerCase()) <= 2,
            );
            const hint = near ? `did you mean \`${near}\`?` : `allowed keys are: ${allowed.join(", ")}`;
            this.fail(`${path}.${key}`, `unknown key; ${hint}`);
        }
    }

    object(obj: Obj, key: string, path: string): Obj | undefined {
        const v = obj[key];
        if (v === undefined) return undefined;
        if (!isObject(v)) return this.fail(`${path}.${key}`, `must be a map, got ${quote(v)}`);
        return v;
    }

    string(obj: Obj, key: string, path: string, required: boolean, fix: string): string | undefined {
        const v = obj[key];
        if (v === undefined || v === null || v === "") {
            return required ? this.fail(`${path}.${key}`, `required; ${fix}`) : undefined;
        }
        if (typeof v === "number") {
            // YAML reads 1.30 as the number 1.3: say how to keep the text.
            return this.fail(
                `${path}.${key}`,
                `must be a string, got the number ${quote(v)}; quote it in YAML`,
            );
        }
        if (typeof v !== "string") return this.fail(`${path}.${key}`, `must be a string, got ${quote(v)}`);
        return v;
    }

    matching(
        obj: Obj,
        key: string,
        path: string,
        required: boolean,
        re: RegExp,
        what: string,
    ): string | undefined {
        const v = this.string(obj, key, path, required, `set it to ${what}`);
        if (v !== undefined && !re.test(v)) return this.fail(`${path}.${key}`, `${quote(v)} is not ${what}`);
        return v;
    }

    dnsLabel(obj: Obj, key: string, path: string, required: boolean): string | undefined {
        const v = this.matching(
            obj,
            key,
            path,
            required,
            dns1123Label,
            "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
        );
        if (v !== undefined && v.length > 63)
            return this.fail(`${path}.${key}`, `${quote(v)} is longer than 63 characters`);
        return v;
    }

    integer(obj: Obj, key: string, path: string, min: number, fallback?: number): number | undefined {
        const v = obj[key];
        if (v === undefined) return fallback;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
            return this.fail(`${path}.${key}`, `must be a whole number of at least ${min}, got ${quote(v)}`);
        }
        return v;
    }

    boolean(obj: Obj, key: string, path: string, fallback: boolean): boolean {
        const v = obj[key];
        if (v === undefined) return fallback;
        if (typeof v !== "boolean") {
            this.fail(`${path}.${key}`, `must be true or false, got ${quote(v)}`);
            return fallback;
        }
        return v;
    }

    oneOf<T extends string>(
        obj: Obj,
        key: string,
        path: string,
        allowed: readonly T[],
        fallback?: T,
    ): T | undefined {
        const v = obj[key];
        if (v === undefined) return fallback;
        if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
            return this.fail(`${path}.${key}`, `${quote(v)} is not one of: ${allowed.join(", ")}`);
        }
        return v as T;
    }

    stringMap(obj: Obj, key: string, path: string): Record<string, string> | undefined {
        const m = this.object(obj, key, path);
        if (!m) return undefined;
        for (const [k, v] of Object.entries(m)) {
            if (typeof v !== "string") this.fail(`${path}.${key}.${k}`, `must be a string, got ${quote(v)}`);
        }
        return m as Record<string, string>;
    }

    /** A secret value: present only when the config key is held as a secret. */
    secret(
        obj: Obj,
        key: string,
        path: string,
        isSecret: boolean,
        fix: string,
    ): pulumi.Output<string> | undefined {
        const v = this.string(obj, key, path, false, "");
        if (v === undefined) return undefined;
        if (!isSecret) {
            return this.fail(`${path}.${key}`, `holds key material in plain text; ${fix}`);
        }
        return pulumi.secret(v);
    }
}

const workloadKeys = ["replicas", "autoscale", "pdb", "resources"] as const;
const eastWestKeys = [...workloadKeys, "serviceType", "sourceRanges", "serviceAnnotations"] as const;

function readResources(r: Reader, obj: Obj, path: string): ResourceSettings | undefined {
    const res = r.object(obj, "resources", path);
    if (!res) return undefined;
    const p = `${path}.resources`;
    r.knownKeys(res, p, ["requests", "limits"]);
    const out: { requests?: Obj; limits?: Obj } = {};
    for (const part of ["requests", "limits"] as const) {
        const q = r.object(res, part, p);
        if (!q) continue;
        r.knownKeys(q, `${p}.${part}`, ["cpu", "memory"]);
        for (const k of ["cpu", "memory"]) {
            r.matching(q, k, `${p}.${part}`, false, quantity, "a Kubernetes quantity such as 500m or 2Gi");
        }
        out[part] = q;
    }
    return out;
}

function readWorkload(r: Reader, obj: Obj, path: string, base: WorkloadSettings = {}): WorkloadSettings {
    const replicas = r.integer(obj, "replicas", path, 1);
    let autoscale: WorkloadSettings["autoscale"];
    const a = r.object(obj, "autoscale", path);
    if (a) {
        const p = `${path}.autoscale`;
        r.knownKeys(a, p, ["min", "max"]);
        const min = r.integer(a, "min", p, 1);
        const max = r.integer(a, "max", p, 1);
        if (min === undefined || max === undefined) {
            if (a.min === undefined || a.max === undefined) r.fail(p, "needs both `min` and `max`");
        } else if (max < min) {
            r.fail(`${p}.max`, `${max} is less than min ${min}; set max to at least ${min}`);
        } else {
            autoscale = { min, max };
        }
    }
    if (obj.replicas !== undefined && obj.autoscale !== undefined) {
        r.fail(path, "`replicas` and `autoscale` cannot both be set; keep one");
    }
    const pdb = obj.pdb === undefined ? base.pdb : r.boolean(obj, "pdb", path, false);
    const resources = readResources(r, obj, path) ?? base.resources;
    // A cluster that sets replicas drops the mesh's autoscale and the other way round.
    const scaling =
        replicas !== undefined || autoscale !== undefined
            ? { replicas, autoscale }
            : { replicas: base.replicas, autoscale: base.autoscale };
    return prune({ ...scaling, pdb, resources });
}

function prune<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function readEastWest(
    r: Reader,
    obj: Obj,
    path: string,
    base?: EastWestSettings,
    perCluster = false,
): EastWestSettings {
    r.knownKeys(obj, path, perCluster ? [...eastWestKeys, "address"] : eastWestKeys);
    const serviceType: ServiceType =
        r.oneOf(obj, "serviceType", path, ["LoadBalancer", "NodePort"] as const) ??
        base?.serviceType ??
        "LoadBalancer";
    let sourceRanges = base?.sourceRanges;
    if (obj.sourceRanges !== undefined) {
        if (!Array.isArray(obj.sourceRanges)) {
            r.fail(`${path}.sourceRanges`, `must be a list of CIDRs, got ${quote(obj.sourceRanges)}`);
        } else {
            obj.sourceRanges.forEach((c, i) => {
                if (typeof c !== "string" || !(cidr4.test(c) || cidr6.test(c))) {
                    r.fail(`${path}.sourceRanges[${i}]`, `${quote(c)} is not a CIDR such as 10.0.0.0/8`);
                }
            });
            sourceRanges = obj.sourceRanges as string[];
        }
    }
    const serviceAnnotations = r.stringMap(obj, "serviceAnnotations", path) ?? base?.serviceAnnotations;
    let address: string | undefined;
    if (perCluster) {
        address = r.string(obj, "address", path, false, "");
        if (address !== undefined) {
            if (!isIpAddress(address) && !dns1123Subdomain.test(address)) {
                r.fail(
                    `${path}.address`,
                    `${quote(address)} is neither an IP address nor a DNS name; set the address the other ` +
                        `clusters reach this gateway at`,
                );
            } else if (isLoopbackHost(address)) {
                r.fail(
                    `${path}.address`,
                    `${quote(address)} is a loopback address, which other clusters cannot reach; set the ` +
                        `address they reach this gateway at (for kind, the node container's IP)`,
                );
            }
        }
    }
    return prune({
        ...readWorkload(r, obj, path, base),
        serviceType,
        sourceRanges,
        serviceAnnotations,
        address,
    });
}

function readCa(r: Reader, mesh: Obj, isSecret: boolean, primaries: readonly string[]): CaSettings {
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
    const rootValidityDays = r.integer(ca, "rootValidityDays", path, 1, caDefaults.rootValidityDays);
    const intermediateValidityDays = r.integer(
        ca,
        "intermediateValidityDays",
        path,
        1,
        caDefaults.intermediateValidityDays,
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
    const earlyRenewalHours = r.integer(ca, "earlyRenewalHours", path, 0, defaultEarlyRenewalHours);
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
    if (ca.rsaBits !== undefined && ![2048, 3072, 4096].includes(ca.rsaBits as number)) {
        r.fail(`${path}.rsaBits`, `${quote(ca.rsaBits)} is not one of: 2048, 3072, 4096`);
    }
    const protect = r.boolean(ca, "protect", path, false);

    const keyFix = (p: string) => `set it with \`pulumi config set --secret --path '${p}' "$(cat key.pem)"\``;
    const rootCertPem = r.string(ca, "rootCert", path, false, "");
    if (rootCertPem !== undefined && !certificates(rootCertPem)) {
        r.fail(
            `${path}.rootCert`,
            "is not a PEM certificate; paste the root's certificate (-----BEGIN CERTIFICATE-----), never its key",
        );
    }
    const rootKeyPem = r.secret(ca, "rootKey", path, isSecret, keyFix(`${path}.rootKey`));
    const intermediates: Record<string, ExternalIntermediate> = {};
    const im = r.object(ca, "intermediates", path);
    if (im) {
        for (const [cluster, raw] of Object.entries(im)) {
            const p = `${path}.intermediates.${cluster}`;
            if (!primaries.includes(cluster)) {
                r.fail(
                    p,
                    `${quote(cluster)} is not a primary; intermediates are for primaries: ${primaries.join(", ")}`,
                );
                continue;
            }
            if (!isObject(raw)) {
                r.fail(p, "must be a map with `cert`, `key` and optionally `chain`");
                continue;
            }
            r.knownKeys(raw, p, ["cert", "key", "chain"]);
            const certPem = r.string(raw, "cert", p, true, "set it to the intermediate certificate (PEM)");
            const keyPem =
                raw.key === undefined
                    ? r.fail(`${p}.key`, `required; ${keyFix(`${p}.key`)}`)
                    : r.secret(raw, "key", p, isSecret, keyFix(`${p}.key`));
            const chainPem = r.string(raw, "chain", p, false, "");
            if (certPem !== undefined && keyPem !== undefined) {
                checkIntermediate(r, p, certPem, chainPem, raw.key, rootCertPem);
                intermediates[cluster] = prune({ certPem, keyPem, chainPem });
            }
        }
    }

    let mode: CaMode = "generated";
    if (rootKeyPem !== undefined || ca.rootKey !== undefined) {
        mode = "external-root";
        if (rootCertPem === undefined)
            r.fail(`${path}.rootCert`, "required with `rootKey`; set it to the root certificate (PEM)");
        if (im)
            r.fail(
                `${path}.intermediates`,
                "cannot be combined with `rootKey`; bring the root key or the intermediates, not both",
            );
    } else if (im) {
        mode = "external-intermediates";
        if (rootCertPem === undefined) {
            r.fail(`${path}.rootCert`, "required with `intermediates`; set it to the root certificate (PEM)");
        }
        for (const p of primaries) {
            if (!(p in im)) {
                r.fail(
                    `${path}.intermediates.${p}`,
                    `missing; every primary needs its intermediate CA (\`cert\` and a secret \`key\`)`,
                );
            }
        }
    } else if (rootCertPem !== undefined && ca.intermediates === undefined) {
        r.fail(`${path}.rootCert`, "needs either a secret `rootKey` or `intermediates` for every primary");
    }
    return {
        mode,
        rootValidityDays: rootValidityDays ?? caDefaults.rootValidityDays,
        intermediateValidityDays: intermediateValidityDays ?? caDefaults.intermediateValidityDays,
        earlyRenewalHours: earlyRenewalHours ?? defaultEarlyRenewalHours,
        rsaBits: typeof ca.rsaBits === "number" ? ca.rsaBits : caDefaults.rsaBits,
        protect,
        ...prune({ rootCertPem, rootKeyPem }),
        intermediates,
    };
}

/** Parses every PEM certificate in `text`; undefined when there is none or one does not parse. */
function certificates(text: string): X509Certificate[] | undefined {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!blocks) return undefined;
    try {
        return blocks.map((b) => new X509Certificate(b));
    } catch {
        return undefined;
    }
}

/**
 * An intermediate brought from outside must be a CA that chains to the mesh's root, and its key must be the
 * certificate's. Either mistake fails silently in a running mesh: a foreign root breaks mTLS between clusters,
 * a mismatched key keeps istiod from starting. A key that is not readable here (an opaque secret) is left to
 * istiod; nothing from it is ever printed.
 */
function checkIntermediate(
    r: Reader,
    path: string,
    certPem: string,
    chainPem: string | undefined,
    keyText: unknown,
    rootCertPem: string | undefined,
): void {
    const cert = certificates(certPem)?.[0];
    if (!cert) {
        r.fail(
            `${path}.cert`,
            "is not a PEM certificate; paste the intermediate's certificate, never its key",
        );
        return;
    }
    if (!cert.ca)
        r.fail(
            `${path}.cert`,
            "is not a CA certificate (basicConstraints CA:true); istiod cannot sign with it",
        );
    const chain = chainPem === undefined ? [] : certificates(chainPem);
    if (chain === undefined) r.fail(`${path}.chain`, "is not a list of PEM certificates");
    const root = rootCertPem === undefined ? undefined : certificates(rootCertPem)?.[0];
    if (root && chain) {
        const path_ = [cert, ...chain, root];
        const broken = path_.slice(0, -1).findIndex((c, i) => !c.verify(path_[i + 1]!.publicKey));
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

/** Validates the raw stack configuration; pure apart from wrapping secrets with `pulumi.secret`. */
export function validateTopology(raw: RawConfig): ValidationResult {
    const r = new Reader();
    const meshPath = `${projectName}:mesh`;
    const clustersPath = `${projectName}:clusters`;

    let mesh: Obj = {};
    if (raw.mesh === undefined) {
        r.fail(meshPath, "required; set `meshId` and `istio.version` under it in Pulumi.<stack>.yaml");
    } else if (!isObject(raw.mesh)) {
        r.fail(meshPath, `must be a map, got ${quote(raw.mesh)}`);
    } else {
        mesh = raw.mesh;
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
    const meshGiven = isObject(raw.mesh);
    const meshId = meshGiven ? r.dnsLabel(mesh, "meshId", meshPath, true) : undefined;
    const trustDomain =
        r.matching(
            mesh,
            "trustDomain",
            meshPath,
            false,
            dns1123Subdomain,
            "a DNS name such as cluster.local",
        ) ?? "cluster.local";
    const istio = r.object(mesh, "istio", meshPath);
    const istioPath = `${meshPath}.istio`;
    let version: string | undefined;
    let revision: string | undefined;
    let defaultTag: boolean | undefined;
    if (!istio) {
        if (meshGiven && mesh.istio === undefined) {
            r.fail(istioPath, "required; set `version` under it, e.g. `version: 1.30.3`");
        }
    } else {
        r.knownKeys(istio, istioPath, ["version", "revision", "defaultTag"]);
        version = r.matching(
            istio,
            "version",
            istioPath,
            true,
            exactSemver,
            "an exact version such as 1.30.3 (no ranges, no `latest`)",
        );
        revision = r.dnsLabel(istio, "revision", istioPath, false);
        if (revision === "default") {
            r.fail(
                `${istioPath}.revision`,
                "`default` is reserved by Istio for the default revision tag; omit `revision` or pick another name",
            );
        }
        // The `default` revision tag (issue 7): only a revision can carry it.
        if (istio.defaultTag !== undefined) {
            defaultTag = r.boolean(istio, "defaultTag", istioPath, true);
            if (defaultTag && istio.revision === undefined) {
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
    let rawClusters: unknown[] = [];
    if (raw.clusters === undefined) {
        r.fail(clustersPath, "required; list the clusters of the mesh, at least one with `role: primary`");
    } else if (!Array.isArray(raw.clusters) || raw.clusters.length === 0) {
        r.fail(clustersPath, `must be a non-empty list of clusters, got ${quote(raw.clusters)}`);
    } else {
        rawClusters = raw.clusters;
    }
    const objs = rawClusters.map((c, i) => {
        if (!isObject(c)) r.fail(`${clustersPath}[${i}]`, `must be a map, got ${quote(c)}`);
        return isObject(c) ? c : undefined;
    });
    const primaries = objs.flatMap((c) =>
        c && c.role === "primary" && typeof c.name === "string" ? [c.name] : [],
    );
    // Names that are themselves invalid are reported on their own line, not offered as a fix.
    const primaryHint = primaries.filter((n) => dns1123Label.test(n)).join(", ") || "none";
    const firstIndex = new Map<string, number>();
    const clusters: ClusterSpec[] = [];
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
        const name = r.dnsLabel(c, "name", path, true);
        if (name !== undefined) {
            const prev = firstIndex.get(name);
            if (prev !== undefined) {
                r.fail(
                    `${path}.name`,
                    `${quote(name)} is already used by clusters[${prev}]; cluster names must be unique`,
                );
            } else {
                firstIndex.set(name, i);
            }
        }
        const role: ClusterRole | undefined =
            c.role === undefined
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
                        `${quote(primary)} is not a primary; primaries are: ${primaryHint}`,
                    );
                }
            }
        } else if (role === "primary" && c.primary !== undefined) {
            r.fail(`${path}.primary`, "only a remote names a primary; remove it or set `role: remote`");
        }
        const network = r.matching(
            c,
            "network",
            path,
            false,
            labelValue,
            "a Kubernetes label value (letters, digits, '-', '_', '.')",
        );
        if (network !== undefined && network.length > 63)
            r.fail(`${path}.network`, `${quote(network)} is longer than 63 characters`);
        const region = r.matching(
            c,
            "region",
            path,
            false,
            labelValue,
            "a Kubernetes label value (the nodes' region)",
        );
        const zone = r.matching(
            c,
            "zone",
            path,
            false,
            labelValue,
            "a Kubernetes label value (the nodes' zone)",
        );
        if (zone !== undefined && region === undefined)
            r.fail(`${path}.zone`, "needs `region`; set the region too");
        let access: ClusterAccess | undefined;
        if (c.context !== undefined && c.kubeconfig !== undefined) {
            r.fail(path, "set exactly one of `context` and `kubeconfig`, not both");
        } else if (c.context === undefined && c.kubeconfig === undefined) {
            r.fail(
                path,
                "set exactly one of `context` (a context of your kubeconfig file) or `kubeconfig` (a secret)",
            );
        } else if (c.context !== undefined) {
            const context = r.string(c, "context", path, true, "name a context of your kubeconfig file");
            if (context !== undefined) access = { kind: "context", context };
        } else {
            const kubeconfig = r.secret(
                c,
                "kubeconfig",
                path,
                raw.secret.clusters,
                `set it with \`pulumi config set --secret --path '${path}.kubeconfig' "$(cat kubeconfig.yaml)"\``,
            );
            if (kubeconfig !== undefined) access = { kind: "kubeconfig", kubeconfig };
        }
        const apiServer = r.string(c, "apiServer", path, false, "");
        if (apiServer !== undefined) {
            let url: URL | undefined;
            try {
                // Without a scheme, `host:port` would parse as a URL whose scheme is the host.
                if (/^[a-z][a-z0-9+.-]*:\/\//i.test(apiServer)) url = new URL(apiServer);
            } catch {
                url = undefined;
            }
            if (!url)
                r.fail(`${path}.apiServer`, `${quote(apiServer)} is not a URL; use https://<host>:<port>`);
            if (url && url.protocol !== "https:") {
                r.fail(
                    `${path}.apiServer`,
                    `${quote(apiServer)} is not https; istiod reads other clusters over TLS only`,
                );
            } else if (url && isLoopbackHost(url.hostname)) {
                r.fail(
                    `${path}.apiServer`,
                    `${quote(apiServer)} is a loopback address, which other clusters cannot reach; ` +
                        `give the address the other clusters use (for kind, the control-plane container's IP)`,
                );
            }
        }
        const ewRaw = r.object(c, "eastWest", path) ?? {};
        const eastWest = readEastWest(r, ewRaw, `${path}.eastWest`, meshEastWest, true);
        if (eastWest.serviceType === "NodePort" && eastWest.address === undefined) {
            r.fail(
                `${path}.eastWest.address`,
                "required when the east-west gateway is a NodePort; set it to a node address the other clusters reach",
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
    const named = objs.filter((c) => c && c.network !== undefined).length;
    const present = objs.filter((c) => c).length;
    if (named > 0 && named < present) {
        const missing = objs.flatMap((c, i) => (c && c.network === undefined ? [`clusters[${i}]`] : []));
        r.fail(
            clustersPath,
            `networks are named on some clusters but not on ${missing.join(", ")}; name a network on every ` +
                `cluster (multi-network) or on none (single network)`,
        );
    }
    const ca = readCa(r, mesh, raw.secret.mesh, primaries);
    const sec = validateSecurity(raw.namespaces, raw.security, { trustDomain, revision });
    if (!sec.ok) r.errors.push(...sec.errors);
    // Services live in the mesh's namespaces; while those are refused, only the traffic config's own checks run.
    const traffic = validateTraffic(raw, clusters, sec.ok ? sec.namespaces.map((n) => n.name) : undefined);
    r.errors.push(...traffic.errors);
    const smoke = readSmokeTest(
        raw.smokeTest,
        clusters.map((c) => c.name),
    );
    r.errors.push(...smoke.errors);

    if (remoteSecrets === "per-reader" && rawClusters.length - 1 > maxClustersPerReaderSecret) {
        r.fail(
            `${meshPath}.remoteSecrets`,
            `per-reader puts ${rawClusters.length - 1} kubeconfigs in each primary's one Secret, more than the ` +
                `${maxClustersPerReaderSecret} that fit in Kubernetes' 1 MiB Secret limit; use per-cluster`,
        );
    }
    if (r.errors.length > 0 || meshId === undefined || version === undefined || !sec.ok) {
        return { ok: false, errors: r.errors };
    }
    return {
        ok: true,
        topology: {
            mesh: {
                meshId,
                trustDomain,
                ...(sec.security.trustDomainAliases.length > 0
                    ? { trustDomainAliases: sec.security.trustDomainAliases }
                    : {}),
                istio: prune({ version, revision, defaultTag }),
                ca,
                controlPlane,
                ...(remoteSecrets === "per-reader" ? { remoteSecrets } : {}),
            },
            clusters,
            namespaces: sec.namespaces,
            security: sec.security,
            ...(traffic.traffic ? { traffic: traffic.traffic } : {}),
            ...(smoke.settings ? { smokeTest: smoke.settings } : {}),
        },
    };
}
