/**
 * Checks of single config values, shared by every reader of stack configuration: names against the limits
 * Kubernetes and Helm enforce, addresses and ranges parsed by `node:net` (never by a regex), Kubernetes
 * quantities by their real grammar, and how a bad value may appear in a message.
 *
 * Pure and dependency-free, so that any module that reads a new config section can use the same rules.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

/** Length limits Kubernetes and Helm enforce on the names this program derives. */
export const nameLimits = {
    /** A DNS-1123 label: namespace names, Service names, each label of a DNS name. */
    dnsLabel: 63,
    /** A DNS-1123 subdomain: most object names (Secrets, ConfigMaps, webhooks), a whole DNS name. */
    dnsSubdomain: 253,
    /** A label value, and the name part of a label or annotation key. */
    labelValue: 63,
    /** A Helm release name (Helm refuses longer ones: it derives label values from them). */
    helmRelease: 53,
} as const;

const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A label value's characters; its 63-character limit is `isLabelValue`'s, checked apart where a message says so. */
export const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const qualifiedNamePattern = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63. */
export function isDnsLabel(s: string): boolean {
    return s.length <= nameLimits.dnsLabel && dnsLabelPattern.test(s);
}

/** A DNS-1123 subdomain: dot-separated DNS labels, at most 253 characters in all. */
export function isDnsSubdomain(s: string): boolean {
    return s.length <= nameLimits.dnsSubdomain && s.split(".").every(isDnsLabel);
}

/**
 * A host name another machine can resolve: a DNS-1123 subdomain whose last label is not a number (decimal, or
 * hex as `0x7f`). URL parsers take such a name for an IPv4 address in another notation (`0x7f.1` is 127.0.0.1
 * to them), and `10.0.0.256` is a bad IPv4 address, not a host name.
 */
export function isHostName(s: string): boolean {
    return isDnsSubdomain(s) && !/^([0-9]+|0x[0-9a-f]*)$/i.test(s.slice(s.lastIndexOf(".") + 1));
}

/** A Kubernetes label value: empty, or at most 63 letters, digits, '-', '_', '.' starting and ending alphanumeric. */
export function isLabelValue(s: string): boolean {
    return s.length <= nameLimits.labelValue && labelValuePattern.test(s);
}

/** A label or annotation key: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function isQualifiedName(s: string): boolean {
    const slash = s.indexOf("/");
    const prefix = slash === -1 ? undefined : s.slice(0, slash);
    const name = slash === -1 ? s : s.slice(slash + 1);
    if (prefix !== undefined && (prefix === "" || !isDnsSubdomain(prefix))) return false;
    return name.length <= nameLimits.labelValue && qualifiedNamePattern.test(name);
}

/** The IP family of a literal address (4 or 6), or 0 for anything else; IPv6 zones (`%eth0`) are not addresses. */
export function ipFamily(s: string): 0 | 4 | 6 {
    if (s.includes("%")) return 0;
    return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
}

/** True for an IPv4 or IPv6 literal (no zone). */
export function isIpAddress(s: string): boolean {
    return ipFamily(s) !== 0;
}

/** Address ranges no other cluster can reach, and which Kubernetes refuses as a Service's `externalIPs`. */
export type SpecialRange = "unspecified" | "loopback" | "link-local" | "multicast";

const specialRanges: readonly [SpecialRange, BlockList][] = (() => {
    const make = (v4: [string, number][], v6: [string, number][]): BlockList => {
        const b = new BlockList();
        for (const [net, prefix] of v4) b.addSubnet(net, prefix, "ipv4");
        for (const [net, prefix] of v6) b.addSubnet(net, prefix, "ipv6");
        return b;
    };
    return [
        ["unspecified", make([["0.0.0.0", 8]], [["::", 128]])],
        ["loopback", make([["127.0.0.0", 8]], [["::1", 128]])],
        ["link-local", make([["169.254.0.0", 16]], [["fe80::", 10]])],
        [
            "multicast",
            make(
                [
                    ["224.0.0.0", 4],
                    ["255.255.255.255", 32],
                ],
                [["ff00::", 8]],
            ),
        ],
    ];
})();

/**
 * The special range an IP literal falls in, if any. IPv4-mapped IPv6 forms (`::ffff:127.0.0.1`) count as
 * the IPv4 address they map.
 */
export function specialRange(ip: string): SpecialRange | undefined {
    const family = ipFamily(ip);
    if (family === 0) return undefined;
    const type = family === 4 ? "ipv4" : "ipv6";
    return specialRanges.find(([, list]) => list.check(ip, type))?.[0];
}

/** A host name that names the local machine (`localhost`, `*.localhost`). */
export function isLocalHostName(host: string): boolean {
    const h = host.toLowerCase().replace(/\.$/, "");
    return h === "localhost" || h.endsWith(".localhost");
}

/** True for an address (host name or IP literal, IPv6 optionally in brackets) that names the local machine. */
export function isLoopbackHost(host: string): boolean {
    const h = host.replace(/^\[(.*)\]$/, "$1");
    const range = specialRange(h);
    return isLocalHostName(h) || range === "loopback" || range === "unspecified";
}

/** A CIDR as Kubernetes accepts it in `loadBalancerSourceRanges`; undefined when `s` is not one. */
export function parseCidr(s: string): { address: string; prefix: number; family: 4 | 6 } | undefined {
    const parts = s.split("/");
    if (parts.length !== 2) return undefined;
    const [address, bits] = parts as [string, string];
    const family = ipFamily(address);
    if (family === 0 || !/^(0|[1-9][0-9]{0,2})$/.test(bits)) return undefined;
    const prefix = Number(bits);
    if (prefix > (family === 4 ? 32 : 128)) return undefined;
    return { address, prefix, family };
}

/** An API server address, checked: its canonical form, or the reason it cannot be used. */
export type ApiServerCheck =
    | { readonly ok: true; readonly canonical: string }
    | {
          readonly ok: false;
          /** What is wrong and what to do, to follow the (excerpted) value or the path. */
          readonly problem: string;
          /** False when the value may hold credentials and must not be shown at all. */
          readonly showValue: boolean;
      };

const unreachableFix =
    "which other clusters cannot reach; give the address the other clusters use (for kind, the control-plane " +
    "container's IP)";

/**
 * Checks an API server address other clusters use: `https://<host>[:<port>][/<path>]`, a host name or an IP
 * literal written the way Go's URL parser reads it (no `0x7f.1` or bare-integer hosts, which WHATWG URL parsing
 * would silently turn into 127.0.0.1), no user information, query or fragment, no whitespace.
 */
export function checkApiServer(s: string): ApiServerCheck {
    const fail = (problem: string, showValue = true): ApiServerCheck => ({ ok: false, problem, showValue });
    if (/\s/.test(s)) return fail("contains whitespace; give only https://<host>:<port>");
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(s);
    if (!m) return fail("is not a URL; use https://<host>:<port>");
    const scheme = m[1]!;
    const authority = m[2]!;
    const path = m[3]!;
    if (authority.includes("@"))
        return fail(
            "carries user information; credentials never go in the address, use https://<host>:<port>",
            false,
        );
    if (scheme.toLowerCase() !== "https")
        return fail("is not https; istiod reads other clusters over TLS only");
    if (m[4] !== undefined || m[5] !== undefined)
        return fail("has a query or fragment; give only https://<host>:<port>[/<path>]", false);
    const hp = /^(\[[^\]]*\]|[^:]*)(?::([0-9]{1,5}))?$/.exec(authority);
    const rawHost = hp?.[1] ?? "";
    const bracketed = rawHost.startsWith("[");
    const host = (bracketed ? rawHost.slice(1, -1) : rawHost).toLowerCase();
    const hostOk = bracketed ? ipFamily(host) === 6 : ipFamily(host) === 4 || isHostName(host);
    if (!hp || !hostOk) return fail("has no valid host; use https://<host name or IP address>:<port>");
    const port = hp[2] === undefined ? 443 : Number(hp[2]);
    if (port < 1 || port > 65535) return fail("has a port outside 1-65535");
    const range = specialRange(host);
    if (isLocalHostName(host) || range === "loopback")
        return fail(`is a loopback address, ${unreachableFix}`);
    if (range !== undefined) return fail(`is ${article(range)} ${range} address, ${unreachableFix}`);
    const canonicalHost = bracketed ? `[${canonicalAddress(host)}]` : host;
    return { ok: true, canonical: `https://${canonicalHost}:${port}${path.replace(/\/+$/, "")}` };
}

function article(word: string): string {
    return /^[aeiou]/.test(word) ? "an" : "a";
}

/** The same IP literal or host name, written one way (for finding one address given twice). */
export function canonicalAddress(address: string): string {
    if (ipFamily(address) === 6) return new URL(`https://[${address}]`).hostname.slice(1, -1);
    return address.toLowerCase().replace(/\.$/, "");
}

/**
 * A duration as Istio reads one (Go's `time.ParseDuration`, the API's `Duration` in YAML): one or more
 * decimal numbers, each with a unit (`h`, `m`, `s`, `ms`, `us`, `µs`, `ns`), such as `5s`, `1m30s`, `1.5h` or
 * `500ms`. Its length in milliseconds; undefined when `s` is not one.
 */
export function istioDurationMs(s: string): number | undefined {
    if (!/^(?:[0-9]+(?:\.[0-9]+)?(?:h|m|s|ms|us|µs|ns))+$/.test(s)) return undefined;
    const unitMs: Record<string, number> = {
        h: 3600e3,
        m: 60e3,
        s: 1e3,
        ms: 1,
        us: 1e-3,
        µs: 1e-3,
        ns: 1e-6,
    };
    let ms = 0;
    for (const [, n, unit] of s.matchAll(/([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/g))
        ms += Number(n) * unitMs[unit!]!;
    return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A Prometheus duration (`15s`, `1h30m`, `15d`, `2w`, `1y`: whole numbers, units from largest to smallest);
 * its length in milliseconds, undefined when `s` is not one.
 */
export function prometheusDurationMs(s: string): number | undefined {
    const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
    if (!m || s === "") return undefined;
    const unitMs = [365 * 86400e3, 7 * 86400e3, 86400e3, 3600e3, 60e3, 1e3, 1];
    const ms = m.slice(1).reduce((sum, n, i) => sum + Number(n ?? 0) * unitMs[i]!, 0);
    return Number.isFinite(ms) ? ms : undefined;
}

/** A length of time as a reader says it (`1h`, `10d`), for bounds in messages. */
export const durationBounds = {
    /** Outlier detection's interval and ejection time (Istio wants at least 1ms). */
    outlier: { minMs: 1, maxMs: 24 * 3600e3, text: "from 1ms to 24h" },
    /** A connection timeout. */
    connect: { minMs: 1, maxMs: 3600e3, text: "from 1ms to 1h" },
    /** How often Prometheus scrapes. */
    scrape: { minMs: 1e3, maxMs: 3600e3, text: "from 1s to 1h" },
    /** How long Prometheus keeps samples. */
    retention: { minMs: 3600e3, maxMs: 10 * 365 * 86400e3, text: "from 1h to 10y" },
} as const;

/**
 * A quantity as written in YAML, as text: YAML reads `cpu: 1`, a quota of `16` or `memory: 129e6` as numbers,
 * which Kubernetes takes as the quantities `1`, `16` and `129e6`. Undefined for anything else (including the
 * non-finite `.nan` and `.inf`), which the caller refuses.
 */
export function quantityText(raw: unknown): string | undefined {
    if (typeof raw === "number") return Number.isFinite(raw) ? String(raw) : undefined;
    return typeof raw === "string" ? raw : undefined;
}

/**
 * A Kubernetes quantity, by the API's grammar: an optionally signed decimal number, then a binary suffix
 * (Ki..Ei), a decimal suffix (n, u, m, k, M..E) or a decimal exponent (`e3`, `E-2`). `1`, `0.5`, `129e6`,
 * `1Pi` and `500m` are quantities; `1.5.1`, `2GB` and `1e` are not. Undefined when `s` is not one, else its
 * value as a number (for comparing requests with limits).
 */
export function parseQuantity(s: string): number | undefined {
    const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/.exec(
        s,
    );
    if (!m) return undefined;
    const [, sign, number, suffix] = m as unknown as [string, string, string, string | undefined];
    const binary: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
    const decimal: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
    // Decimal scales go into the number's own exponent, so that `5e-324` is not rounded to 0 on the way.
    let value: number;
    if (suffix !== undefined && Object.hasOwn(binary, suffix))
        value = Number(number) * 1024 ** binary[suffix]!;
    else {
        const exponent =
            suffix === undefined
                ? 0
                : Object.hasOwn(decimal, suffix)
                  ? decimal[suffix]!
                  : Number(suffix.slice(1));
        value = Number(`${number}e${exponent}`);
    }
    if (sign === "-") value = -value;
    return Number.isFinite(value) ? value : undefined;
}

/**
 * Whether a text looks like key material or credentials: a PEM block, a private key, a kubeconfig, a JSON
 * web token, a bearer token. Such a text is never echoed, whatever field it was put in.
 */
export function looksLikeSecret(s: string): boolean {
    return (
        /-----BEGIN [A-Z0-9 ]+-----/.test(s) ||
        /PRIVATE KEY/.test(s) ||
        /\b(client-key-data|client-certificate-data|token|password|auth-provider)\s*:/i.test(s) ||
        /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/.test(s) ||
        /\bapiVersion\s*:/.test(s) ||
        // An HTTP credential: `Bearer <token>`, `Basic <base64>`.
        /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/i.test(s) ||
        // A user and password in a URL (`https://user:pass@host`).
        /[a-z][a-z0-9+.-]{0,31}:\/\/[^/\s@]{0,256}:[^/\s@]{0,256}@/i.test(s) ||
        // A credential in a query (`?token=`, `&access_token=`, `X-Amz-Signature=`, ...).
        /[?&][a-z0-9_-]{0,32}(token|secret|password|passwd|signature|sig|key|auth)[a-z0-9_-]{0,32}=/i.test(
            s,
        ) ||
        // (Every repetition is bounded: these run on values of any length, and must stay linear.)
        // Well-known token shapes: AWS access key IDs, GitHub and Slack tokens.
        /\b(AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,})\b/.test(s)
    );
}

/** Longest excerpt of a value a message shows. */
export const excerptLength = 40;

/**
 * A value as a message may show it: short, escaped (nothing outside printable ASCII, so no control characters,
 * terminal escapes or forged lines), never a map or list's content, never anything that looks like key
 * material (described by its size instead).
 */
export function excerpt(v: unknown): string {
    if (Array.isArray(v)) return `a list of ${v.length}`;
    if (typeof v === "object" && v !== null) return "a map";
    if (typeof v !== "string") return String(v);
    if (looksLikeSecret(v)) {
        const lines = v.split(/\r\n|\r|\n/).length;
        return `a text of ${v.length} characters${lines > 1 ? ` on ${lines} lines` : ""} (not shown)`;
    }
    const shown = v.length > excerptLength ? v.slice(0, excerptLength) : v;
    const escaped = [...shown]
        .map((ch) => {
            if (ch === '"' || ch === "\\") return `\\${ch}`;
            const code = ch.codePointAt(0)!;
            if (code >= 0x20 && code < 0x7f) return ch;
            return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
        })
        .join("");
    return v.length > excerptLength ? `"${escaped}…" (${v.length} characters)` : `"${escaped}"`;
}

/**
 * One step of a config path: `.key` for a plain key, `["…"]` (escaped, shortened) for anything else, so that
 * a key a user wrote can never forge a path or a line in a message.
 */
export function keyPath(path: string, key: string): string {
    if (/^[A-Za-z0-9_-]{1,63}$/.test(key)) return `${path}.${key}`;
    return `${path}[${excerpt(key)}]`;
}

/** `record[key]` when `key` is the record's own property: never a prototype's member (`constructor`). */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
    return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
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

/** The allowed word `word` was most likely meant to be (same letters in another case, or 2 edits away). */
export function didYouMean(word: string, allowed: readonly string[]): string | undefined {
    if (word.length > 200) return undefined;
    const w = word.toLowerCase();
    return allowed.find((a) => a.toLowerCase() === w || editDistance(a.toLowerCase(), w) <= 2);
}

/**
 * Why a namespace the program creates for one of its own parts (the smoke test, observability) cannot be
 * `ns`: one that exists in every cluster or that Istio or Kubernetes own. Creating it fails ("already
 * exists"), and a destroy would try to delete it.
 */
export function sharedNamespaceProblem(ns: string): string | undefined {
    const kind = sharedNamespaceKind(ns);
    if (kind === "default")
        return "is Kubernetes' `default` namespace, which every cluster has and the program cannot create (a destroy would try to delete it); name one of its own";
    if (kind !== undefined) return "is a system namespace; name one of its own";
    return undefined;
}

/**
 * Namespaces every cluster has or that Istio or Kubernetes own: `istio-system` (Istio's root namespace),
 * `kube-*`, `default`. Each section that creates namespaces refuses them, in its own words.
 */
export function sharedNamespaceKind(ns: string): "istio" | "kubernetes" | "default" | undefined {
    if (ns === "istio-system") return "istio";
    if (ns.startsWith("kube-")) return "kubernetes";
    if (ns === "default") return "default";
    return undefined;
}

/**
 * Why an annotation value cannot be written: key material or anything that looks like a credential.
 * Annotations are plain text to anyone who can read the object, and sit in the plan and the state.
 */
export function annotationValueProblem(v: string): string | undefined {
    if (/PRIVATE KEY-----/.test(v))
        return "holds a private key (not shown); key material never goes in an annotation";
    if (looksLikeSecret(v))
        return (
            "holds what looks like a credential (a token, a password or a key; not shown); an annotation is " +
            "readable by anyone who can read its object: give the credential to its consumer as a Secret"
        );
    return undefined;
}

/**
 * The problems of an annotations map, each as [config path, message]: keys Kubernetes accepts, string values,
 * no key material, within the 256 KiB Kubernetes allows in all. One rule for every annotation map in config.
 */
export function annotationProblems(m: Readonly<Record<string, unknown>>, path: string): [string, string][] {
    const problems: [string, string][] = [];
    let size = 0;
    for (const [k, v] of Object.entries(m)) {
        if (!isQualifiedName(k)) {
            problems.push([
                keyPath(path, k),
                "is not a valid annotation key; use [<DNS prefix>/]<name>, the name at most 63 letters, " +
                    "digits, '-', '_' or '.'",
            ]);
        }
        if (typeof v !== "string") {
            problems.push([keyPath(path, k), `must be a string, got ${excerpt(v)}; quote it in YAML`]);
        } else if (annotationValueProblem(v) !== undefined) {
            problems.push([keyPath(path, k), annotationValueProblem(v)!]);
        } else {
            size += k.length + v.length;
        }
    }
    if (size > 256 * 1024) {
        problems.push([path, `hold ${size} bytes; Kubernetes allows 262144 bytes of annotations in all`]);
    }
    return problems;
}

/** A map as config gives it: an object that is neither null nor a list. */
export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
