/** What the traffic readers share: config patterns, the problem collector, and pruning. */
import {
    annotationProblems,
    excerpt,
    istioDurationMs,
    isLabelValue,
    isObject,
    isQualifiedName,
    keyPath,
} from "../checks";

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

export const P = "istio-multicluster";
/** A DNS-1123 label's characters; its 63-character limit is checked apart, for a message that says so. */
export const dnsLabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
export const secretName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const dnsLabelText =
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
/** Labels Istio refuses in `failoverPriority` beside `failover` (the region failover already orders by them). */
export const localityLabels = [
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
];

export type Obj = Record<string, unknown>;

/** Collects problems; each reader returns a typed value or undefined. */
export class Problems {
    readonly errors: string[] = [];

    fail(path: string, message: string): undefined {
        this.errors.push(`${path}: ${message}`);
        return undefined;
    }

    /** `fail`, for a check that tracks whether everything so far was valid. */
    refuse(path: string, message: string): false {
        this.fail(path, message);
        return false;
    }

    keys(obj: Obj, path: string, allowed: readonly string[]): void {
        for (const k of Object.keys(obj)) {
            if (!allowed.includes(k))
                this.fail(`${path}.${k}`, `unknown key; allowed keys are: ${allowed.join(", ")}`);
        }
    }

    map(v: unknown, path: string): Obj | undefined {
        if (v === undefined) return undefined;
        return isObject(v) ? v : this.fail(path, `must be a map, got ${excerpt(v)}`);
    }

    /** A list that must be given and hold at least one `one`; `how` says how to give it. */
    requiredList(v: unknown, path: string, what: string, how: string, one: string): unknown[] | undefined {
        if (v === undefined) return this.fail(path, `required; ${how}`);
        const list = this.list(v, path, what);
        if (list?.length === 0) this.fail(path, `must list at least one ${one}`);
        return list;
    }

    list(v: unknown, path: string, what: string): unknown[] | undefined {
        if (v === undefined) return undefined;
        return Array.isArray(v) ? v : this.fail(path, `must be a list of ${what}, got ${excerpt(v)}`);
    }

    string(v: unknown, path: string, re: RegExp, what: string, required = false): string | undefined {
        if (v === undefined || v === null || v === "")
            return required ? this.fail(path, `required; set it to ${what}`) : undefined;
        if (typeof v !== "string") return this.fail(path, `must be a string, got ${excerpt(v)}`);
        if (!re.test(v)) return this.fail(path, `${excerpt(v)} is not ${what}`);
        return v;
    }

    label(v: unknown, path: string, required = false): string | undefined {
        const s = this.string(v, path, dnsLabelPattern, dnsLabelText, required);
        if (s !== undefined && s.length > 63)
            return this.fail(path, `${excerpt(s)} is longer than 63 characters`);
        return s;
    }

    /** A duration Istio accepts (`5s`, `1m30s`, `500ms`) within `bounds`. */
    duration(
        v: unknown,
        path: string,
        bounds: { minMs: number; maxMs: number; text: string },
    ): string | undefined {
        if (v === undefined || v === null) return undefined;
        const ms = typeof v === "string" ? istioDurationMs(v) : undefined;
        if (ms === undefined)
            return this.fail(path, `${excerpt(v)} is not a duration such as 5s, 500ms or 1m30s`);
        if (ms < bounds.minMs || ms > bounds.maxMs)
            return this.fail(path, `${excerpt(v)} is out of range; use a duration ${bounds.text}`);
        return v as string;
    }

    int(v: unknown, path: string, min: number, max: number): number | undefined {
        if (v === undefined) return undefined;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            return this.fail(path, `must be a whole number from ${min} to ${max}, got ${excerpt(v)}`);
        }
        return v;
    }

    port(v: unknown, path: string, required = true): number | undefined {
        if (v === undefined)
            return required ? this.fail(path, "required; set a port number from 1 to 65535") : undefined;
        return this.int(v, path, 1, 65535);
    }

    oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], fallback?: T): T | undefined {
        if (v === undefined) return fallback;
        if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
            return this.fail(path, `${excerpt(v)} is not one of: ${allowed.join(", ")}`);
        }
        return v as T;
    }

    boolean(v: unknown, path: string): boolean {
        if (v === undefined) return false;
        if (typeof v !== "boolean") {
            this.fail(path, `must be true or false, got ${excerpt(v)}`);
            return false;
        }
        return v;
    }

    labels(v: unknown, path: string): Record<string, string> | undefined {
        const m = this.map(v, path);
        if (!m) return undefined;
        let ok = true;
        for (const [k, x] of Object.entries(m)) {
            if (!isQualifiedName(k)) ok = this.refuse(keyPath(path, k), "is not a Kubernetes label key");
            else if (typeof x !== "string" || !isLabelValue(x))
                ok = this.refuse(keyPath(path, k), `${excerpt(x)} is not a Kubernetes label value`);
        }
        return ok ? (m as Record<string, string>) : undefined;
    }

    annotations(v: unknown, path: string): Record<string, string> | undefined {
        const m = this.map(v, path);
        if (!m) return undefined;
        const problems = annotationProblems(m, path);
        for (const [at, message] of problems) this.fail(at, message);
        return problems.length === 0 ? (m as Record<string, string>) : undefined;
    }
}

export function prune<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
