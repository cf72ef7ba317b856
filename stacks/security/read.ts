/** Reads and checks `istio-multicluster:namespaces` and `security`: namespaces, their mTLS and their allow rules. */
import {
    annotationValueProblem,
    didYouMean,
    excerpt,
    isDnsLabel,
    isDnsSubdomain,
    isLabelValue,
    isObject,
    isQualifiedName,
    sharedNamespaceKind,
} from "../checks";
import { injectionLabel, istioNamespace, networkLabel } from "../names";
import { injectionRevision, revisionLabelValues } from "../revisions";
import {
    AllowOperation,
    AllowRule,
    AllowSource,
    MeshNamespace,
    MtlsMode,
    Obj,
    SecurityContext,
    SecurityResult,
    allowNothingName,
    httpMethods,
    namespacesKey,
    ownedLabels,
    securityKey,
} from "./settings";
import { principal } from "./objects";

/** `did you mean `x`?` when one candidate is close, else the list. */
export function hint(given: string, candidates: readonly string[], what: string): string {
    const near = didYouMean(given, candidates);
    return near ? `did you mean \`${near}\`?` : `${what} are: ${candidates.join(", ") || "none"}`;
}

export class Problems {
    readonly errors: string[] = [];
    fail(path: string, message: string): undefined {
        this.errors.push(`${path}: ${message}`);
        return undefined;
    }
    knownKeys(obj: Obj, path: string, allowed: readonly string[]): void {
        for (const key of Object.keys(obj)) {
            if (!allowed.includes(key))
                this.fail(`${path}.${key}`, `unknown key; ${hint(key, allowed, "keys")}`);
        }
    }
    boolean(obj: Obj, key: string, path: string): boolean {
        const v = obj[key];
        if (v === undefined) return false;
        if (typeof v !== "boolean") {
            this.fail(`${path}.${key}`, `must be true or false, got ${excerpt(v)}`);
            return false;
        }
        return v;
    }
    mtls(obj: Obj, key: string, path: string): MtlsMode | undefined {
        const v = obj[key];
        if (v === undefined) return undefined;
        if (v !== "STRICT" && v !== "PERMISSIVE") {
            const fix =
                v === "DISABLE"
                    ? "DISABLE would take workloads out of mTLS; use PERMISSIVE for a migration window"
                    : "set STRICT or PERMISSIVE";
            return this.fail(`${path}.${key}`, `${excerpt(v)} is not one of: STRICT, PERMISSIVE; ${fix}`);
        }
        return v;
    }
    /** A list of strings, each checked by `each` (which returns a problem, or undefined when fine). */
    strings(
        obj: Obj,
        key: string,
        path: string,
        each: (s: string, at: string) => string | undefined,
    ): string[] | undefined {
        const v = obj[key];
        if (v === undefined) return undefined;
        if (!Array.isArray(v) || v.length === 0) {
            return this.fail(`${path}.${key}`, `must be a non-empty list, got ${excerpt(v)}`);
        }
        const out: string[] = [];
        v.forEach((s, i) => {
            const at = `${path}.${key}[${i}]`;
            if (typeof s !== "string") {
                this.fail(at, `must be a string, got ${excerpt(s)}`);
                return;
            }
            const problem = each(s, at);
            if (problem !== undefined) this.fail(at, problem);
            else out.push(s);
        });
        return out.length === v.length ? out : undefined;
    }
    /** A map of labels (keys and values checked as Kubernetes label keys and values). */
    labels(obj: Obj, key: string, path: string, values: "label" | "annotation"): Record<string, string> {
        const v = obj[key];
        if (v === undefined) return {};
        if (!isObject(v)) {
            this.fail(`${path}.${key}`, `must be a map, got ${excerpt(v)}`);
            return {};
        }
        for (const [k, x] of Object.entries(v)) {
            const at = `${path}.${key}[${excerpt(k)}]`;
            if (!isQualifiedName(k)) {
                this.fail(
                    at,
                    `${excerpt(k)} is not a Kubernetes ${values} key ([prefix/]name, name at most 63 letters, ` +
                        `digits, '-', '_' or '.')`,
                );
            } else if (typeof x !== "string") {
                this.fail(at, `must be a string, got ${excerpt(x)}; quote it in YAML`);
            } else if (values === "annotation" && annotationValueProblem(x) !== undefined) {
                this.fail(at, annotationValueProblem(x)!);
            } else if (values === "label" && (x.length > 63 || !isLabelValue(x))) {
                this.fail(
                    at,
                    `${excerpt(x)} is not a label value (at most 63 letters, digits, '-', '_' or '.')`,
                );
            }
        }
        return v as Record<string, string>;
    }
}

export const namespaceKeys = [
    "name",
    "labels",
    "annotations",
    "mtls",
    "denyByDefault",
    "allowNothing",
    "allow",
    "revision",
];
export const ruleKeys = ["name", "selector", "from", "to"];
export const fromKeys = ["principals", "serviceAccounts", "namespaces"];
export const toKeys = ["methods", "paths", "ports"];

/**
 * What Istio would refuse or read otherwise in an AuthorizationPolicy path (`operation.paths`): a path matches
 * exactly, by prefix (`/api/*`), by suffix (`*.html`), or anything (`*`); a `*` anywhere else is a literal
 * character, not a wildcard. Path templates match whole segments: `{*}` one, `{**}` the rest (last only);
 * the webhook refuses any other `{...}` (a named `{id}`), and a template beside a `*`.
 */
export function pathProblem(s: string): string | undefined {
    if (!s.startsWith("/") && !s.startsWith("*")) return `${excerpt(s)} is not a path; start it with "/"`;
    if (/[{}]/.test(s)) {
        const segments = s.split("/");
        const bad = segments.find((seg) => /[{}]/.test(seg) && seg !== "{*}" && seg !== "{**}");
        if (bad !== undefined)
            return (
                `${excerpt(s)}: ${excerpt(bad)} is not a path template Istio takes; match one segment with {*} ` +
                "and the rest with {**} (a named template such as {id} is refused)"
            );
        if (segments.slice(0, -1).includes("{**}"))
            return `${excerpt(s)}: {**} matches the rest of a path, so it can only be the last segment`;
        if (segments.some((seg) => seg.includes("*") && seg !== "{*}" && seg !== "{**}"))
            return `${excerpt(s)}: a path template cannot also use a * prefix or suffix; use {*} or {**} segments`;
        return undefined;
    }
    const stars = [...s].filter((c) => c === "*").length;
    if (stars === 0 || s === "*") return undefined;
    if (stars === 1 && (s.startsWith("*") || s.endsWith("*"))) return undefined;
    return (
        `${excerpt(s)}: Istio reads a * only as a whole path, a prefix (/api/*) or a suffix (*.html), once; ` +
        "anywhere else it is a literal character. Use {*} for one segment in the middle (/api/{*}/x)"
    );
}

/** Why a namespace name cannot be an application namespace, or undefined when it can. */
export function reservedNamespace(name: string): string | undefined {
    switch (sharedNamespaceKind(name)) {
        case "istio":
            return "is Istio's root namespace, which the program manages; list only application namespaces";
        case "kubernetes":
            return "is reserved by Kubernetes for its own system; list only application namespaces";
        case "default":
            return "exists in every cluster and cannot be created here; put the workloads in a namespace of their own";
        default:
            return undefined;
    }
}

/**
 * Validates `istio-multicluster:namespaces` and `istio-multicluster:security` against the mesh's trust domain.
 * Every problem is reported with its config path; nothing is created from a refused config.
 */
export function validateSecurity(
    rawNamespaces: unknown,
    rawSecurity: unknown,
    ctx: SecurityContext,
): SecurityResult {
    const p = new Problems();

    // Mesh-wide settings.
    let mtls: MtlsMode = "STRICT";
    let aliases: string[] = [];
    if (rawSecurity !== undefined) {
        if (!isObject(rawSecurity)) {
            p.fail(securityKey, `must be a map, got ${excerpt(rawSecurity)}`);
        } else {
            p.knownKeys(rawSecurity, securityKey, ["mtls", "trustDomainAliases"]);
            mtls = p.mtls(rawSecurity, "mtls", securityKey) ?? "STRICT";
            aliases =
                p.strings(rawSecurity, "trustDomainAliases", securityKey, (s) => {
                    if (!isDnsSubdomain(s)) return `${excerpt(s)} is not a DNS name such as old.example.com`;
                    if (s === ctx.trustDomain) {
                        return `${excerpt(s)} is the mesh's own trust domain (\`mesh.trustDomain\`); remove it`;
                    }
                    return undefined;
                }) ?? [];
            const seen = new Set<string>();
            aliases.forEach((a, i) => {
                if (seen.has(a))
                    p.fail(`${securityKey}.trustDomainAliases[${i}]`, `${excerpt(a)} is listed twice`);
                seen.add(a);
            });
        }
    }
    const trustDomains = [ctx.trustDomain, ...aliases];

    // Namespaces: names first, so that rules can refer to any of them whatever the order.
    let list: unknown[] = [];
    if (rawNamespaces !== undefined) {
        if (!Array.isArray(rawNamespaces)) {
            p.fail(namespacesKey, `must be a list of namespaces, got ${excerpt(rawNamespaces)}`);
        } else {
            list = rawNamespaces;
        }
    }
    const declared = list.flatMap((n) => (isObject(n) && typeof n.name === "string" ? [n.name] : []));
    const referable = [...new Set([...declared.filter((n) => isDnsLabel(n)), istioNamespace])];
    const checkNamespaceRef = (ns: string): string | undefined =>
        referable.includes(ns)
            ? undefined
            : `namespace ${excerpt(ns)} is not an application namespace of the mesh; ` +
              `${hint(ns, referable, "namespaces it may name")} (add it to \`${namespacesKey}\` first)`;

    const namespaces: MeshNamespace[] = [];
    const firstIndex = new Map<string, number>();
    list.forEach((raw, index) => {
        const path = `${namespacesKey}[${index}]`;
        if (!isObject(raw)) {
            p.fail(path, `must be a map with at least \`name\`, got ${excerpt(raw)}`);
            return;
        }
        p.knownKeys(raw, path, namespaceKeys);
        const name = raw.name;
        let nameOk = false;
        if (name === undefined || name === "") {
            p.fail(`${path}.name`, "required; set it to the namespace's name");
        } else if (typeof name !== "string") {
            p.fail(`${path}.name`, `must be a string, got ${excerpt(name)}`);
        } else if (!isDnsLabel(name)) {
            p.fail(
                `${path}.name`,
                `${excerpt(name)} is not a DNS-1123 label (at most 63 lower-case letters, digits and '-', ` +
                    `starting and ending with a letter or digit)`,
            );
        } else if (reservedNamespace(name) !== undefined) {
            p.fail(`${path}.name`, `${excerpt(name)} ${reservedNamespace(name)!}`);
        } else if (firstIndex.has(name)) {
            p.fail(
                `${path}.name`,
                `${excerpt(name)} is already listed at namespaces[${firstIndex.get(name)!}]`,
            );
        } else {
            firstIndex.set(name, index);
            nameOk = true;
        }
        const labels = p.labels(raw, "labels", path, "label");
        for (const key of Object.keys(labels).filter((k) => ownedLabels.includes(k))) {
            const injection = Object.entries(
                injectionLabel(ctx.istio ? injectionRevision(ctx.istio) : undefined),
            )
                .map(([k, v]) => `${k}=${v}`)
                .join("");
            p.fail(
                `${path}.labels[${excerpt(key)}]`,
                key === networkLabel
                    ? "is set by the program on each cluster's istio-system; remove it (namespaces span networks)"
                    : `conflicts with the injection label the program sets (${injection}, from ` +
                          "`mesh.istio`); remove it, or name a revision or tag in `revision`",
            );
        }
        const annotations = p.labels(raw, "annotations", path, "annotation");
        const revision = readNamespaceRevision(p, raw, path, ctx);
        const nsMtls = p.mtls(raw, "mtls", path);
        const denyByDefault = p.boolean(raw, "denyByDefault", path);
        const allowNothing = p.boolean(raw, "allowNothing", path);
        const rules = readRules(
            p,
            raw,
            path,
            nameOk ? (name as string) : undefined,
            trustDomains,
            checkNamespaceRef,
        );
        if (allowNothing && raw.denyByDefault === false) {
            p.fail(`${path}.allowNothing`, "contradicts `denyByDefault: false`; remove one of them");
        }
        if (allowNothing && rules.length > 0) {
            p.fail(
                `${path}.allowNothing`,
                "says the namespace admits nothing, but it has `allow` rules; remove `allowNothing` or the rules",
            );
        }
        if (nameOk) {
            namespaces.push({
                name: name as string,
                labels,
                annotations,
                ...(revision !== undefined ? { revision } : {}),
                ...(nsMtls !== undefined ? { mtls: nsMtls } : {}),
                denyByDefault: denyByDefault || allowNothing,
                allowNothing,
                allow: rules,
                index,
            });
        }
    });

    if (p.errors.length > 0) return { ok: false, errors: p.errors };
    return { ok: true, namespaces, security: { mtls, trustDomainAliases: aliases } };
}

/**
 * `namespaces[].revision`: the revision or revision tag whose control plane injects the namespace
 * (`istio.io/rev=<it>`), such as `canary` while a new revision is tried. It must be one the mesh installs:
 * a revision cannot be removed while a namespace names it.
 */
function readNamespaceRevision(
    p: Problems,
    raw: Obj,
    path: string,
    ctx: SecurityContext,
): string | undefined {
    const value = raw.revision;
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") {
        p.fail(`${path}.revision`, `must be a revision or tag name, got ${excerpt(value)}`);
        return undefined;
    }
    if (ctx.istio === undefined) return value;
    const known = revisionLabelValues(ctx.istio);
    if (!known.includes(value)) {
        p.fail(
            `${path}.revision`,
            `${excerpt(value)} is not a revision or tag the mesh installs (${
                known.join(", ") || "none: set " + "`mesh.istio.revision` or `revisions`"
            }); a revision is removed only once no namespace names it`,
        );
        return undefined;
    }
    return value;
}

export function readRules(
    p: Problems,
    ns: Obj,
    path: string,
    namespace: string | undefined,
    trustDomains: readonly string[],
    checkNamespaceRef: (ns: string) => string | undefined,
): AllowRule[] {
    const raw = ns.allow;
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
        p.fail(`${path}.allow`, `must be a list of allow rules, got ${excerpt(raw)}`);
        return [];
    }
    const rules: AllowRule[] = [];
    const names = new Map<string, number>();
    raw.forEach((rule, i) => {
        const at = `${path}.allow[${i}]`;
        if (!isObject(rule)) {
            p.fail(at, `must be a map with \`name\` and \`from\`, got ${excerpt(rule)}`);
            return;
        }
        p.knownKeys(rule, at, ruleKeys);
        const before = p.errors.length;
        const name = rule.name;
        if (name === undefined || name === "") {
            p.fail(`${at}.name`, "required; name the rule (it becomes the AuthorizationPolicy's name)");
        } else if (typeof name !== "string" || !isDnsLabel(name)) {
            p.fail(
                `${at}.name`,
                `${excerpt(name)} is not a DNS-1123 label (lower-case letters, digits and '-')`,
            );
        } else if (name === allowNothingName) {
            p.fail(`${at}.name`, `${excerpt(name)} is the name of the deny-by-default policy; pick another`);
        } else if (names.has(name)) {
            p.fail(
                `${at}.name`,
                `${excerpt(name)} is already used by allow[${names.get(name)!}]; rule names are unique`,
            );
        } else {
            names.set(name, i);
        }
        let selector: Record<string, string> | undefined;
        if (rule.selector !== undefined) {
            selector = p.labels(rule, "selector", at, "label");
            if (isObject(rule.selector) && Object.keys(rule.selector).length === 0) {
                p.fail(
                    `${at}.selector`,
                    "is empty; give workload labels such as `app: helloworld`, or omit it",
                );
            }
        }
        const from = readFrom(p, rule, at, trustDomains, checkNamespaceRef);
        const to = readTo(p, rule, at);
        if (p.errors.length === before && namespace !== undefined && from !== undefined) {
            rules.push({
                name: name as string,
                ...(selector !== undefined ? { selector } : {}),
                from,
                ...(to !== undefined ? { to } : {}),
            });
        }
    });
    return rules;
}

export function readFrom(
    p: Problems,
    rule: Obj,
    at: string,
    trustDomains: readonly string[],
    checkNamespaceRef: (ns: string) => string | undefined,
): AllowSource | undefined {
    const path = `${at}.from`;
    const from = rule.from;
    if (from === undefined) {
        return p.fail(
            path,
            "required; say who may call: `principals`, `serviceAccounts` (<namespace>/<name>) or `namespaces`",
        );
    }
    if (!isObject(from)) return p.fail(path, `must be a map, got ${excerpt(from)}`);
    p.knownKeys(from, path, fromKeys);
    if (!fromKeys.some((k) => from[k] !== undefined)) {
        return p.fail(path, "names nobody; give `principals`, `serviceAccounts` or `namespaces`");
    }
    const [trustDomain] = trustDomains;
    const principals = p.strings(from, "principals", path, (s) => {
        const m = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(s);
        if (s.startsWith("spiffe://")) {
            return `${excerpt(s)} has the spiffe:// scheme, which Istio's principals omit; write ${excerpt(s.slice(9))}`;
        }
        if (!m) {
            return `${excerpt(s)} is not a principal <trustDomain>/ns/<namespace>/sa/<serviceAccount>, e.g. ${excerpt(
                `${trustDomain}/ns/sample/sa/sleep`,
            )}`;
        }
        const [, td, ns, sa] = m as unknown as [string, string, string, string];
        if (!trustDomains.includes(td)) {
            return (
                `trust domain ${excerpt(td)} is not the mesh's (${excerpt(trustDomain)}); use ${excerpt(trustDomain)}, ` +
                `or list ${excerpt(td)} in \`${securityKey}.trustDomainAliases\` if it is an alias of the mesh's`
            );
        }
        if (!isDnsSubdomain(sa) || sa.length > 253) return `service account ${excerpt(sa)} is not a DNS name`;
        return checkNamespaceRef(ns);
    });
    const serviceAccounts = p.strings(from, "serviceAccounts", path, (s) => {
        const m = /^([^/]+)\/([^/]+)$/.exec(s);
        if (!m) return `${excerpt(s)} is not <namespace>/<serviceAccount>, e.g. "sample/sleep"`;
        const [, ns, sa] = m as unknown as [string, string, string];
        if (!isDnsSubdomain(sa) || sa.length > 253) return `service account ${excerpt(sa)} is not a DNS name`;
        return checkNamespaceRef(ns);
    });
    const namespaces = p.strings(from, "namespaces", path, (s) => checkNamespaceRef(s));
    const expanded = (serviceAccounts ?? []).map((s) => {
        const [ns, sa] = s.split("/") as [string, string];
        return principal(trustDomain!, ns, sa);
    });
    return {
        principals: [...new Set([...(principals ?? []), ...expanded])],
        namespaces: [...new Set(namespaces ?? [])],
    };
}

export function readTo(p: Problems, rule: Obj, at: string): AllowOperation | undefined {
    const path = `${at}.to`;
    const to = rule.to;
    if (to === undefined) return undefined;
    if (!isObject(to)) return p.fail(path, `must be a map, got ${excerpt(to)}`);
    p.knownKeys(to, path, toKeys);
    if (!toKeys.some((k) => to[k] !== undefined)) {
        return p.fail(
            path,
            "is empty; give `methods`, `paths` or `ports`, or omit `to` to admit any request",
        );
    }
    const methods = p.strings(to, "methods", path, (s) =>
        httpMethods.includes(s)
            ? undefined
            : `${excerpt(s)} is not an HTTP method; ${hint(s, httpMethods, "methods")}`,
    );
    const paths = p.strings(to, "paths", path, pathProblem);
    let ports: number[] | undefined;
    if (to.ports !== undefined) {
        if (!Array.isArray(to.ports) || to.ports.length === 0) {
            p.fail(`${path}.ports`, `must be a non-empty list of port numbers, got ${excerpt(to.ports)}`);
        } else {
            ports = [];
            to.ports.forEach((n, i) => {
                if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
                    p.fail(`${path}.ports[${i}]`, `must be a port number from 1 to 65535, got ${excerpt(n)}`);
                } else ports!.push(n);
            });
        }
    }
    return {
        ...(methods ? { methods } : {}),
        ...(paths ? { paths } : {}),
        ...(ports ? { ports } : {}),
    };
}
