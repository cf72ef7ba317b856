/**
 * Shared helpers for the policies: which cluster a resource lives in, typed access to Helm chart values and
 * Kubernetes objects, and the handling of values that are unknown during preview.
 *
 * The engine hands policies their props wrapped in `unknownCheckingProxy` (reading an unknown value throws
 * `UnknownValueError`, which the engine turns into an advisory "can't run during preview"). Policies here
 * never let that happen: `known()` copies props into plain data where every unknown is the `UNKNOWN` marker,
 * and each rule skips what it cannot see. A value unknown at preview is never a violation.
 */
import * as crypto from "node:crypto";
import { BlockList, isIP } from "node:net";
import { PolicyResource, ResourceValidationArgs } from "@pulumi/policy/policy";

/**
 * @pulumi/policy's unknown-value machinery. The package exports it at runtime but its published typings strip
 * it (`@internal`), and its `index.d.ts` re-exports names `proxy.d.ts` lacks, so everything here imports
 * `@pulumi/policy/policy` and takes these two from `@pulumi/policy/proxy` directly: the very module the
 * analyzer server uses, so `instanceof UnknownValueError` holds for what the engine's proxy throws.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const policyProxy = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy: <T>(props: T) => T;
    UnknownValueError: new (sentinel: string, props: string[]) => Error;
};
/** Wraps props the way the engine does: reading an unknown value throws `UnknownValueError`. */
export const unknownCheckingProxy = policyProxy.unknownCheckingProxy;
/** Thrown by the proxy when a policy reads a value unknown during preview. */
export const UnknownValueError = policyProxy.UnknownValueError;

/** Stands for a value that is unknown until apply. */
export const UNKNOWN: unique symbol = Symbol("unknown");
/** The type of `UNKNOWN`. */
export type Unknown = typeof UNKNOWN;

/** The wire protocol's unknown sentinels (one per type; strings are by far the most common). */
const unknownSentinels = new Set([
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** Whether a value is unknown (the marker, or a raw sentinel in props that were never proxied). */
export function isUnknown(v: unknown): v is Unknown {
    return v === UNKNOWN || (typeof v === "string" && unknownSentinels.has(v));
}

/**
 * A plain deep copy of props (proxied or not) in which every unknown value is `UNKNOWN`: safe to read with
 * ordinary code, never throws `UnknownValueError`.
 */
export function known(v: unknown): unknown {
    if (isUnknown(v)) return UNKNOWN;
    if (v === null || typeof v !== "object") return v;
    const read = (k: string): unknown => {
        try {
            return known((v as Record<string, unknown>)[k]);
        } catch (e) {
            if (e instanceof UnknownValueError) return UNKNOWN;
            throw e;
        }
    };
    if (Array.isArray(v)) return Object.keys(v).map(read);
    return Object.fromEntries(Object.keys(v).map((k) => [k, read(k)]));
}

/** Reads `path` from plain props; `UNKNOWN` as soon as any step is unknown, undefined when absent. */
export function at(v: unknown, ...path: (string | number)[]): unknown {
    let cur = v;
    for (const p of path) {
        if (isUnknown(cur)) return UNKNOWN;
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[p];
    }
    return isUnknown(cur) ? UNKNOWN : cur;
}

/** A string at `path`, `UNKNOWN`, or undefined (absent or not a string). */
export function str(v: unknown, ...path: (string | number)[]): string | Unknown | undefined {
    const x = at(v, ...path);
    return isUnknown(x) || typeof x === "string" ? x : undefined;
}

/** A number at `path` (numeric strings too), `UNKNOWN`, or undefined. */
export function num(v: unknown, ...path: (string | number)[]): number | Unknown | undefined {
    const x = at(v, ...path);
    if (isUnknown(x) || typeof x === "number") return x;
    if (typeof x === "string" && /^\d+$/.test(x)) return Number(x);
    return undefined;
}

/** A map at `path` (plain object), `UNKNOWN`, or undefined. */
export function obj(v: unknown, ...path: (string | number)[]): Record<string, unknown> | Unknown | undefined {
    const x = at(v, ...path);
    if (isUnknown(x)) return x;
    return typeof x === "object" && x !== null && !Array.isArray(x)
        ? (x as Record<string, unknown>)
        : undefined;
}

/** A list at `path`, `UNKNOWN`, or undefined. */
export function list(v: unknown, ...path: (string | number)[]): unknown[] | Unknown | undefined {
    const x = at(v, ...path);
    return isUnknown(x) || Array.isArray(x) ? x : undefined;
}

/** Resource types the policies recognise. */
export const types = {
    provider: "pulumi:providers:kubernetes",
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    configMap: "kubernetes:core/v1:ConfigMap",
    gateway: "kubernetes:networking.istio.io/v1:Gateway",
    virtualService: "kubernetes:networking.istio.io/v1:VirtualService",
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    certRequest: "tls:index/certRequest:CertRequest",
    locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
    stack: "pulumi:pulumi:Stack",
} as const;

/** Helm resource types whose inputs carry `chart`, `version` and `values`. */
const helmTypes = new Set([
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:helm.sh/v3:Chart",
]);

/** Whether a resource type is a Helm resource (a v3 Release, or a v3/v4 Chart). */
export function isHelmType(type: string): boolean {
    return helmTypes.has(type);
}

/**
 * The name of the chart a Helm resource installs, from its plain props; undefined for anything else, or while
 * `chart` is unknown. `chart` may be a bare name (`istiod`), `repo/istiod`, an `oci://` or https reference or a
 * packaged `.tgz`: the last path segment decides, without `.tgz` or a `-<version>` suffix.
 */
export function helmChartName(type: string, props: unknown): string | undefined {
    if (!helmTypes.has(type)) return undefined;
    const chart = str(props, "chart");
    if (typeof chart !== "string") return undefined;
    return chart
        .replace(/\.tgz$/, "")
        .split("/")
        .pop()!
        .replace(/-\d+\.\d+\.\d+.*$/, "");
}

/** The Istio charts this mesh installs. */
export type IstioChartName = "base" | "istiod" | "gateway";

/** What the policies read from one Istio chart installation, whichever Helm resource carries it. */
export interface ChartInfo {
    readonly chart: IstioChartName;
    readonly version: string | Unknown | undefined;
    /** The chart values, plain (unknowns marked); `{}` when none are set. */
    readonly values: Record<string, unknown>;
}

/**
 * The Istio chart a Helm resource installs, from its plain props; undefined for anything else. `chart` may be
 * a bare name (`istiod`), `repo/istiod`, an OCI or https reference; the last path segment decides.
 */
export function istioChart(type: string, props: unknown): ChartInfo | undefined {
    const last = helmChartName(type, props);
    if (last !== "base" && last !== "istiod" && last !== "gateway") return undefined;
    const values = obj(props, "values");
    return {
        chart: last,
        version: str(props, "version"),
        values: values === undefined || isUnknown(values) ? {} : values,
    };
}

/** Whether an istiod chart's values make a remote (profile `remote`: no control plane of its own). */
export function isRemoteIstiod(values: Record<string, unknown>): boolean {
    return str(values, "profile") === "remote";
}

/** Whether a gateway chart's values make an east-west gateway. */
export function isEastWestGateway(values: Record<string, unknown>): boolean {
    return (
        at(values, "networkGateway") !== undefined ||
        str(values, "labels", "istio") === "eastwestgateway" ||
        /eastwest/.test(String(str(values, "name") ?? ""))
    );
}

/** The cluster a resource is created in: its provider's name (a provider is its own cluster). */
export function clusterOf(r: {
    type: string;
    name: string;
    provider?: { name: string };
}): string | undefined {
    if (r.type === types.provider) return r.name;
    return r.provider?.name;
}

/** A resource of the stack with its props made plain (unknowns marked). */
export interface Res {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly cluster: string | undefined;
    readonly props: Record<string, unknown>;
    readonly protect: boolean;
    readonly source: PolicyResource;
}

const knownPropsMade = new WeakMap<object, Record<string, unknown>>();

/**
 * `known(props)`, deep-frozen, made once per props object: where one props object is handed to many policies
 * (the offline plan's runner shares one per resource), they share one plain copy, which none can change.
 */
export function knownProps(props: unknown): Record<string, unknown> {
    if (props === null || typeof props !== "object") return (known(props) ?? {}) as Record<string, unknown>;
    let made = knownPropsMade.get(props);
    if (made === undefined) {
        made = deepFreeze((known(props) ?? {}) as Record<string, unknown>);
        knownPropsMade.set(props, made);
    }
    return made;
}

function deepFreeze<T>(v: T): T {
    if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
        Object.freeze(v);
        for (const x of Object.values(v)) deepFreeze(x);
    }
    return v;
}

/** Every resource of a stack validation, props plain, in the engine's order. */
export function stackResources(resources: readonly PolicyResource[]): Res[] {
    return resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        cluster: clusterOf(r),
        props: knownProps(r.props),
        protect: r.opts.protect,
        source: r,
    }));
}

/** The resource under resource validation, props plain. */
export function resourceOf(args: ResourceValidationArgs): Omit<Res, "source"> {
    return {
        type: args.type,
        name: args.name,
        urn: args.urn,
        cluster: clusterOf(args),
        props: knownProps(args.props),
        protect: args.opts.protect,
    };
}

/** Whether `from` depends on `to`, directly or through any chain of dependencies. */
export function dependsTransitively(from: PolicyResource, to: PolicyResource): boolean {
    const seen = new Set<string>();
    const stack = [...from.dependencies];
    while (stack.length > 0) {
        const r = stack.pop()!;
        if (r.urn === to.urn) return true;
        if (seen.has(r.urn)) continue;
        seen.add(r.urn);
        stack.push(...r.dependencies);
    }
    return false;
}

/**
 * A Kubernetes Secret's entries as text: `stringData` as is, `data` base64-decoded (stringData wins, as in the
 * API server). Each value is a string or `UNKNOWN`; the whole map is `UNKNOWN` when it is unknown.
 */
export function secretEntries(props: Record<string, unknown>): Record<string, string | Unknown> | Unknown {
    const out: Record<string, string | Unknown> = {};
    for (const field of ["data", "stringData"] as const) {
        const m = at(props, field);
        if (isUnknown(m)) return UNKNOWN;
        if (typeof m !== "object" || m === null) continue;
        for (const [k, v] of Object.entries(m)) {
            if (isUnknown(v)) out[k] = UNKNOWN;
            else if (typeof v === "string")
                out[k] = field === "data" ? Buffer.from(v, "base64").toString("utf8") : v;
        }
    }
    return out;
}

// Names the program also writes. The pack is published on its own (`pulumi policy publish`), so it keeps its
// own copy instead of importing the program's; test/policies/facts.test.ts fails the day the two differ.
/** The namespace Istio's control plane and its secrets live in. */
export const istioNamespace = "istio-system";
/** The namespace label that tells Istio a cluster's network. */
export const networkLabel = "topology.istio.io/network";
/** The service account whose token a primary's istiod uses to read another cluster. */
export const readerServiceAccount = "istio-reader-service-account";

/**
 * Whether a host (a URL's hostname, IPv6 in brackets or not) names the machine itself or no machine at all:
 * `localhost`, loopback (127.0.0.0/8, ::1, IPv4-mapped loopback) or unspecified (0.0.0.0, ::). Another
 * cluster can never reach an API server at such an address.
 */
export function isLoopbackHost(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    if (h === "localhost" || h.endsWith(".localhost")) return true;
    const family = isIP(h);
    if (family === 0) return false;
    const local = new BlockList();
    local.addSubnet("127.0.0.0", 8, "ipv4");
    local.addAddress("0.0.0.0", "ipv4");
    local.addAddress("::1", "ipv6");
    local.addAddress("::", "ipv6");
    local.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
    local.addAddress("::ffff:0.0.0.0", "ipv6");
    return local.check(h, family === 4 ? "ipv4" : "ipv6");
}

/**
 * A DNS-1123 label (at most 63 characters): what Istio accepts as a cluster ID and Kubernetes as a Secret data
 * key. Defined once for every policy: stacks/validate/ keeps its own unexported and without the length limit.
 */
export const dns1123Label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The label that marks a remote secret. */
export const multiClusterLabel = "istio/multiCluster";
/** The annotation naming a remote secret's cluster. */
export const clusterAnnotation = "networking.istio.io/cluster";
/**
 * The remote Secret of the `per-reader` layout (`mesh.remoteSecrets: per-reader`): one per reading primary,
 * every data key a cluster it reads. The `per-cluster` layout names each `istio-remote-secret-<cluster>`.
 */
export const perReaderSecretName = "istio-remote-secrets";

/**
 * The annotation of a remote secret retired by a switch of `mesh.remoteSecrets` for one `up`
 * (stacks/remoteSecrets.ts `retiredRemoteSecrets`): labelled `istio/multiCluster: "false"`, with no data.
 */
export const retiredAnnotation = "istio-multicluster/retired";

/**
 * Whether a Secret's props make it a remote secret (by label or by Istio's naming). A retired one is not: istiod
 * no longer selects it and it holds nothing; one that still holds data is judged as a remote secret.
 */
export function isRemoteSecret(props: Record<string, unknown>): boolean {
    const name = str(props, "metadata", "name");
    const marked =
        at(props, "metadata", "labels", multiClusterLabel) !== undefined ||
        (typeof name === "string" && name.startsWith("istio-remote-secret-"));
    return marked && !isRetiredRemoteSecret(props);
}

function isRetiredRemoteSecret(props: Record<string, unknown>): boolean {
    if (at(props, "metadata", "annotations", retiredAnnotation) === undefined) return false;
    if (at(props, "metadata", "labels", multiClusterLabel) !== "false") return false;
    const entries = secretEntries(props);
    return !isUnknown(entries) && Object.keys(entries).length === 0;
}

/** The readable X.509 certificates of a PEM text (unreadable blocks are left out). */
export function certificates(text: string): crypto.X509Certificate[] {
    return pemBlocks(text, "CERTIFICATE").flatMap((b) => {
        try {
            return [new crypto.X509Certificate(b)];
        } catch {
            return [];
        }
    });
}

/** Whether a Secret's props make it a `cacerts` Secret. */
export function isCacerts(props: Record<string, unknown>): boolean {
    return str(props, "metadata", "name") === "cacerts";
}

/** PEM private key blocks (any algorithm, PKCS#1/#8/SEC1, encrypted or not). */
export const privateKeyPattern = /-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----/;

/** Every string inside a plain value, with its path (`a.b[0]`). */
export function strings(v: unknown, path = ""): { path: string; value: string }[] {
    if (typeof v === "string") return [{ path, value: v }];
    if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${path}[${i}]`));
    if (typeof v === "object" && v !== null) {
        return Object.entries(v).flatMap(([k, x]) => strings(x, path ? `${path}.${k}` : k));
    }
    return [];
}

/** PEM blocks of one kind (`CERTIFICATE`, or any private key) in a text. */
export function pemBlocks(text: string, kind: "CERTIFICATE" | "PRIVATE KEY"): string[] {
    const re =
        kind === "CERTIFICATE"
            ? /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g
            : /-----BEGIN ((RSA|EC|DSA|ENCRYPTED) )?PRIVATE KEY-----[\s\S]*?-----END ((RSA|EC|DSA|ENCRYPTED) )?PRIVATE KEY-----/g;
    return text.match(re) ?? [];
}

/** The config a policy was given, over its defaults (the engine may or may not have applied schema defaults). */
export function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    return { ...defaults, ...args.getConfig<Partial<T>>() };
}

/** Clusters whose istiod is a primary's (reads Istio config) and those whose istiod is a remote's. */
export function controlPlanes(all: readonly Res[]): { primaries: Map<string, Res>; remotes: Set<string> } {
    const primaries = new Map<string, Res>();
    const remotes = new Set<string>();
    for (const r of all) {
        const chart = istioChart(r.type, r.props);
        if (chart?.chart !== "istiod" || r.cluster === undefined) continue;
        if (isRemoteIstiod(chart.values)) remotes.add(r.cluster);
        else if (!primaries.has(r.cluster)) primaries.set(r.cluster, r);
    }
    return { primaries, remotes };
}
