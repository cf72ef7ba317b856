/**
 * Validators the tests use to check what the program emits against Istio's own reference data
 * (charts' values and schema, CRD OpenAPI schemas) instead of against our beliefs about them.
 *
 * Limitations, on purpose:
 * - CEL rules (`x-kubernetes-validations`) are not evaluated: they need a CEL interpreter, and the API server
 *   would report them loudly at apply time anyway. The keyword is registered so that it is not mistaken for
 *   a typo, but it checks nothing.
 * - `x-kubernetes-list-type: set|map` uniqueness is not checked.
 * - Helm validates the gateway values after merging them over the chart's defaults; we validate our values
 *   alone, which is stricter only where the defaults would have filled a required field (none are required).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019";
import Ajv2020 from "ajv/dist/2020";
import type AjvCore from "ajv/dist/core";
import type { ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { parse as parseYaml, parseAllDocuments } from "yaml";

/** The charts whose values the tests check. */
export type IstioChart = "base" | "istiod" | "gateway";

/** The minimum a Kubernetes object needs for `validateIstioObject` to find its CRD. */
export interface KubernetesObjectLike {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata?: unknown;
    readonly spec?: unknown;
    readonly [field: string]: unknown;
}

type JsonObject = Record<string, unknown>;

/** The extension keywords Kubernetes allows in CRD schemas; registered as annotations that check nothing. */
const kubernetesKeywords = [
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations",
] as const;

const repoRoot = path.resolve(__dirname, "..", "..");

/**
 * The Istio 1.30.3 reference directory: `$ISTIO_REFERENCE_DIR` if set, else
 * `../shared/reference/istio-1.30.3` next to the repository. Throws when it is missing: a schema test that
 * silently skips would pass while checking nothing.
 */
export function referenceDir(): string {
    const fromEnv = process.env["ISTIO_REFERENCE_DIR"];
    const dir =
        fromEnv !== undefined && fromEnv !== ""
            ? path.resolve(fromEnv)
            : path.resolve(repoRoot, "..", "shared", "reference", "istio-1.30.3");
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        throw new Error(
            `Istio reference data not found at ${dir}` +
                (fromEnv ? " (from `ISTIO_REFERENCE_DIR`)" : "") +
                ": set `ISTIO_REFERENCE_DIR` to a directory holding Istio 1.30.3's `charts/` and `crds/crd-all.gen.yaml`.",
        );
    }
    return dir;
}

function isObject(v: unknown): v is JsonObject {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readReferenceFile(...segments: string[]): string {
    const file = path.join(referenceDir(), ...segments);
    if (!fs.existsSync(file)) {
        throw new Error(`Istio reference file ${file} is missing: check \`ISTIO_REFERENCE_DIR\`.`);
    }
    return fs.readFileSync(file, "utf8");
}

// ---------------------------------------------------------------------------------------------------------
// Error formatting
// ---------------------------------------------------------------------------------------------------------

/** Turns a JSON pointer into `spec.servers[0].tls.mode`, reading `data` to tell array indexes from map keys. */
function readablePath(pointer: string, data: unknown): string {
    if (pointer === "") return "";
    let out = "";
    let node: unknown = data;
    for (const raw of pointer.slice(1).split("/")) {
        const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        if (Array.isArray(node)) {
            out += `[${key}]`;
            node = node[Number(key)];
        } else {
            out += /^[A-Za-z_$][\w$-]*$/.test(key)
                ? out === ""
                    ? key
                    : `.${key}`
                : `[${JSON.stringify(key)}]`;
            node = isObject(node) ? node[key] : undefined;
        }
    }
    return out;
}

function joinPath(parent: string, key: string): string {
    if (/^[A-Za-z_$][\w$-]*$/.test(key)) return parent === "" ? key : `${parent}.${key}`;
    return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Ajv errors as `path: message` lines. An `anyOf`/`oneOf` failure is reported once, without the errors of
 * each of its branches (those say why every alternative failed, which reads as noise).
 */
function formatErrors(errors: readonly ErrorObject[], data: unknown, unknownFieldMessage: string): string[] {
    const junctions = errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf");
    const kept = errors.filter(
        (e) => !junctions.some((j) => j !== e && e.schemaPath.startsWith(`${j.schemaPath}/`)),
    );
    const lines = kept.map((e) => {
        const at = readablePath(e.instancePath, data);
        if (e.keyword === "additionalProperties") {
            const field = String((e.params as { additionalProperty: unknown }).additionalProperty);
            return `${joinPath(at, field)}: ${unknownFieldMessage}`;
        }
        return `${at === "" ? "(root)" : at}: ${e.message ?? e.keyword}`;
    });
    return [...new Set(lines)];
}

// ---------------------------------------------------------------------------------------------------------
// CRDs
// ---------------------------------------------------------------------------------------------------------

interface ServedVersion {
    readonly crdName: string;
    readonly schema: JsonObject;
}

let crdIndex: Map<string, ServedVersion> | undefined;
let servedByKind: Map<string, string[]> | undefined;
const crdValidators = new Map<string, ValidateFunction>();
let crdAjv: Ajv | undefined;

function crdKey(group: string, version: string, kind: string): string {
    return `${group}/${version}/${kind}`;
}

function loadCrds(): Map<string, ServedVersion> {
    if (crdIndex) return crdIndex;
    const index = new Map<string, ServedVersion>();
    const kinds = new Map<string, string[]>();
    for (const doc of parseAllDocuments(readReferenceFile("crds", "crd-all.gen.yaml"))) {
        if (doc.errors.length > 0) throw new Error(`crd-all.gen.yaml: ${doc.errors[0]?.message}`);
        const crd: unknown = doc.toJS();
        if (!isObject(crd) || crd["kind"] !== "CustomResourceDefinition") continue;
        const spec = crd["spec"] as JsonObject;
        const group = spec["group"] as string;
        const kind = (spec["names"] as JsonObject)["kind"] as string;
        const name = (crd["metadata"] as JsonObject)["name"] as string;
        for (const v of spec["versions"] as JsonObject[]) {
            if (v["served"] !== true) continue;
            const schema = (v["schema"] as JsonObject | undefined)?.["openAPIV3Schema"];
            if (!isObject(schema)) continue;
            index.set(crdKey(group, v["name"] as string, kind), { crdName: name, schema });
            const kindKey = `${group}/${kind}`;
            kinds.set(kindKey, [...(kinds.get(kindKey) ?? []), v["name"] as string]);
        }
    }
    crdIndex = index;
    servedByKind = kinds;
    return index;
}

/**
 * Emulates the API server's pruning of a structural schema: an object schema that declares neither
 * `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` keeps only its declared `properties`.
 * The API server would silently drop any other field, so a misspelt field would be applied as if it were
 * absent; that is exactly the bug we want to catch, so such objects are compiled as
 * `additionalProperties: false`. Only the structural part is walked (properties, items,
 * additionalProperties), not `allOf`/`anyOf`/`oneOf`/`not`, which in a structural schema only add
 * constraints and never declare fields.
 */
function closeStructuralSchema(schema: JsonObject, atRoot: boolean): JsonObject {
    const out: JsonObject = { ...schema };
    if (isObject(out["properties"])) {
        out["properties"] = Object.fromEntries(
            Object.entries(out["properties"]).map(([k, v]) => [
                k,
                isObject(v) ? closeStructuralSchema(v, false) : v,
            ]),
        );
    }
    if (isObject(out["items"])) out["items"] = closeStructuralSchema(out["items"], false);
    if (isObject(out["additionalProperties"])) {
        out["additionalProperties"] = closeStructuralSchema(out["additionalProperties"], false);
    }
    if (atRoot) {
        // apiVersion, kind and metadata are implicit at a CRD's root; the API server validates metadata itself.
        out["properties"] = {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object" },
            ...(isObject(out["properties"]) ? out["properties"] : {}),
        };
    }
    const isObjectSchema = out["type"] === "object" || isObject(out["properties"]);
    if (
        isObjectSchema &&
        out["additionalProperties"] === undefined &&
        out["x-kubernetes-preserve-unknown-fields"] !== true &&
        out["x-kubernetes-embedded-resource"] !== true
    ) {
        out["additionalProperties"] = false;
    }
    return out;
}

function collectFormats(schema: unknown, into: Set<string>): void {
    if (Array.isArray(schema)) {
        for (const s of schema) collectFormats(s, into);
    } else if (isObject(schema)) {
        for (const [k, v] of Object.entries(schema)) {
            if (k === "format" && typeof v === "string") into.add(v);
            else collectFormats(v, into);
        }
    }
}

function getCrdAjv(): Ajv {
    if (crdAjv) return crdAjv;
    // OpenAPI v3 schemas (with `nullable`) are closest to draft-04/07; Ajv's default dialect handles them.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const keyword of kubernetesKeywords) ajv.addKeyword(keyword);
    crdAjv = ajv;
    return ajv;
}

function crdValidator(key: string, crd: ServedVersion): ValidateFunction {
    const cached = crdValidators.get(key);
    if (cached) return cached;
    const ajv = getCrdAjv();
    const schema = closeStructuralSchema(crd.schema, true);
    // Kubernetes ignores formats it does not know (it knows int32, double, byte, date-time, ...); so do we.
    const formats = new Set<string>();
    collectFormats(schema, formats);
    for (const f of formats) if (ajv.formats[f] === undefined) ajv.addFormat(f, true);
    const validate = ajv.compile(schema);
    crdValidators.set(key, validate);
    return validate;
}

/**
 * Validates an Istio object against the `openAPIV3Schema` of its CRD in Istio 1.30.3 (a served version),
 * with the API server's pruning emulated (unknown fields are errors, see `closeStructuralSchema`).
 * Returns readable errors such as `spec.servers[0].tls.mode: must be equal to one of the allowed values`;
 * empty when valid. CEL rules are not evaluated.
 */
export function validateIstioObject(obj: KubernetesObjectLike): string[] {
    const index = loadCrds();
    const slash = obj.apiVersion.lastIndexOf("/");
    const group = slash < 0 ? "" : obj.apiVersion.slice(0, slash);
    const version = obj.apiVersion.slice(slash + 1);
    const key = crdKey(group, version, obj.kind);
    const crd = index.get(key);
    if (!crd) {
        const served = servedByKind?.get(`${group}/${obj.kind}`);
        return served
            ? [
                  `${obj.apiVersion} ${obj.kind}: version ${version} is not served; served: ${served.join(", ")}`,
              ]
            : [`${obj.apiVersion} ${obj.kind}: unknown kind; no Istio 1.30.3 CRD defines it`];
    }
    const validate = crdValidator(key, crd);
    if (validate(obj)) return [];
    return formatErrors(validate.errors ?? [], obj, "unknown field (the API server would prune it)");
}

// ---------------------------------------------------------------------------------------------------------
// gateway chart values
// ---------------------------------------------------------------------------------------------------------

let gatewayValidator: ValidateFunction | undefined;

/**
 * The Ajv class for a schema's `$schema`. Helm (3.18+) validates with a 2020-12 validator when the draft is
 * not named, and `http://json-schema.org/schema#` means "the latest draft", so both get 2020-12.
 */
function ajvForDialect(dialect: unknown): AjvCore {
    const opts = { strict: false, allErrors: true } as const;
    const d = typeof dialect === "string" ? dialect.replace(/#$/, "") : undefined;
    let ajv: AjvCore;
    if (d === undefined || d === "http://json-schema.org/schema" || d.includes("2020-12"))
        ajv = new Ajv2020(opts);
    else if (d.includes("2019-09")) ajv = new Ajv2019(opts);
    else if (d.includes("draft-07") || d.includes("draft-06")) ajv = new Ajv(opts);
    else throw new Error(`gateway values.schema.json: unsupported \`$schema\` ${JSON.stringify(dialect)}`);
    addFormats(ajv);
    return ajv;
}

/**
 * Validates gateway chart values against the chart's `values.schema.json`, as `helm install` would.
 * Returns readable errors, empty when valid.
 */
export function validateGatewayValues(values: unknown): string[] {
    if (!gatewayValidator) {
        const schema = JSON.parse(readReferenceFile("charts", "gateway", "values.schema.json")) as JsonObject;
        const ajv = ajvForDialect(schema["$schema"]);
        // The dialect is chosen above; Ajv would otherwise try to resolve a meta-schema URI it may not hold.
        const body: JsonObject = { ...schema };
        delete body["$schema"];
        gatewayValidator = ajv.compile(body);
    }
    if (gatewayValidator(values)) return [];
    return formatErrors(gatewayValidator.errors ?? [], values, "unknown key (the chart's schema rejects it)");
}

// ---------------------------------------------------------------------------------------------------------
// Chart defaults (base and istiod have no schema)
// ---------------------------------------------------------------------------------------------------------

const defaultsCache = new Map<IstioChart, JsonObject>();

/**
 * The chart's defaults from its `values.yaml`. All three charts keep them under
 * `_internal_defaults_do_not_set` (so a profile can be merged between defaults and user values); that
 * wrapper is removed here, as users set those keys at the top level.
 */
export function chartDefaults(chart: IstioChart): Record<string, unknown> {
    const cached = defaultsCache.get(chart);
    if (cached) return cached;
    const parsed: unknown = parseYaml(readReferenceFile("charts", chart, "values.yaml"));
    if (!isObject(parsed)) throw new Error(`charts/${chart}/values.yaml is not a mapping`);
    const inner = parsed["_internal_defaults_do_not_set"];
    const defaults = isObject(inner) ? inner : parsed;
    defaultsCache.set(chart, defaults);
    return defaults;
}

/** Keys every chart reads through its profile template although `values.yaml` does not list them. */
const profileKeys = ["profile", "compatibilityVersion", "platform", "global.profile", "global.platform"];

/**
 * Paths the chart accepts beyond its listed defaults: keys its templates read that `values.yaml` only
 * mentions in a comment, and subtrees that are free-form though their default is not `{}` (MeshConfig is a
 * proto passed through whole; resource lists take any resource name; label and port maps take any key).
 * Nothing below these is checked.
 */
const acceptedPaths: Record<IstioChart, readonly string[]> = {
    base: [...profileKeys],
    istiod: [
        ...profileKeys,
        "meshConfig",
        "resources",
        "global.defaultResources",
        "global.proxy.resources",
        "global.waypoint.resources",
        "global.podDNSSearchNamespaces",
        "pdb.maxUnavailable",
        "base.validationFailurePolicy",
        "base.validationURL",
        "memory.targetAverageUtilization",
    ],
    gateway: [
        ...profileKeys,
        "resources",
        // Maps keyed by the user (label, annotation and port names) whose defaults are not empty.
        "labels",
        "podAnnotations",
        "networkGatewayPorts",
        "service.allocateLoadBalancerNodePorts",
        "service.loadBalancerClass",
        // In values.schema.json but not in values.yaml.
        "enabled",
        "defaultRevision",
        "runAsRoot",
        "unprivilegedPort",
    ],
};

/**
 * Every key path in `values` that the chart does not know: not in its defaults and not in `acceptedPaths`.
 * A key whose default is `{}` (or `null`, or a list or scalar) is free-form and not descended into.
 * This is how tests check base and istiod values, which the charts do not validate at all: Helm would
 * silently ignore a misspelt key.
 */
export function unknownValuePaths(chart: IstioChart, values: Record<string, unknown>): string[] {
    const accepted = new Set(acceptedPaths[chart]);
    const unknown: string[] = [];
    const walk = (given: JsonObject, defaults: JsonObject, prefix: string): void => {
        for (const [key, value] of Object.entries(given)) {
            const at = prefix === "" ? key : `${prefix}.${key}`;
            if (accepted.has(at)) continue;
            if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
                unknown.push(at);
                continue;
            }
            const def = defaults[key];
            if (isObject(def) && Object.keys(def).length > 0 && isObject(value)) walk(value, def, at);
        }
    };
    walk(values, chartDefaults(chart), "");
    return unknown;
}
