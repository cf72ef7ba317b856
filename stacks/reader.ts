/**
 * The config reader every validator shares: own-key lookups where `null` and `""` mean unset, and a `Reader`
 * that collects `<config path>: <problem>` lines while turning raw values into typed ones. Moved out of
 * stacks/validate/ so that section validators (observability) read values exactly as the core does.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    annotationProblems,
    didYouMean,
    excerpt,
    excerptLength,
    isObject,
    keyPath,
    nameLimits,
    parseQuantity,
    quantityText,
} from "./checks";
import { ResourceSettings } from "./core";

export const dnsLabelWhat =
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
export const exactSemver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
export const dns1123LabelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export type Obj = Record<string, unknown>;

/** The value of `key` in `obj` if set: own keys only, and `null` or `""` count as not set. */
export function configValue(obj: Obj, key: string): unknown {
    if (!Object.hasOwn(obj, key)) return undefined;
    const v = obj[key];
    return v === null || v === "" ? undefined : v;
}

/** A name derived from one config value, and the limit Kubernetes or Helm puts on it. */
export interface Derived {
    readonly what: string;
    readonly name: string;
    readonly limit: number;
    readonly by: "Kubernetes" | "Helm";
}

/** Collects problems while reading one raw object; each reader returns a typed value or undefined. */
export class Reader {
    private readonly seen = new Set<string>();
    readonly errors: string[] = [];

    fail(path: string, message: string): undefined {
        this.adopt([`${path}: ${message}`]);
        return undefined;
    }

    /** Problems another module's validator reported, already `<config path>: <problem>`, each listed once. */
    adopt(lines: readonly string[]): void {
        for (const line of lines) {
            if (!this.seen.has(line)) {
                this.seen.add(line);
                this.errors.push(line);
            }
        }
    }

    /** Reports every key of `obj` not in `allowed`, with a hint when one is close. */
    knownKeys(obj: Obj, path: string, allowed: readonly string[]): void {
        for (const key of Object.keys(obj)) {
            if (allowed.includes(key)) continue;
            const near = didYouMean(key, allowed);
            const hint =
                key === "<<"
                    ? "a YAML merge key must be resolved by the YAML reader; write the merged keys out"
                    : near
                      ? `did you mean \`${near}\`?`
                      : `allowed keys are: ${allowed.join(", ")}`;
            this.fail(keyPath(path, key), `unknown key; ${hint}`);
        }
    }

    object(obj: Obj, key: string, path: string): Obj | undefined {
        const v = configValue(obj, key);
        if (v === undefined) return undefined;
        if (!isObject(v)) return this.fail(`${path}.${key}`, `must be a map, got ${excerpt(v)}`);
        return v;
    }

    string(obj: Obj, key: string, path: string, required: boolean, fix: string): string | undefined {
        const v = configValue(obj, key);
        if (v === undefined) {
            return required ? this.fail(`${path}.${key}`, `required; ${fix}`) : undefined;
        }
        if (typeof v === "number") {
            // YAML reads 1.30 as the number 1.3: say how to keep the text.
            return this.fail(
                `${path}.${key}`,
                `must be a string, got the number ${excerpt(v)}; quote it in YAML`,
            );
        }
        if (typeof v !== "string") return this.fail(`${path}.${key}`, `must be a string, got ${excerpt(v)}`);
        return v;
    }

    matching(
        obj: Obj,
        key: string,
        path: string,
        required: boolean,
        test: (s: string) => boolean,
        what: string,
    ): string | undefined {
        const v = this.string(obj, key, path, required, `set it to ${what}`);
        if (v !== undefined && !test(v)) return this.fail(`${path}.${key}`, `${excerpt(v)} is not ${what}`);
        return v;
    }

    dnsLabel(obj: Obj, key: string, path: string, required: boolean): string | undefined {
        const v = this.matching(obj, key, path, required, (s) => dns1123LabelPattern.test(s), dnsLabelWhat);
        if (v !== undefined && v.length > nameLimits.dnsLabel)
            return this.fail(`${path}.${key}`, `${excerpt(v)} is longer than 63 characters; shorten it`);
        return v;
    }

    /** Every derived name within its limit; otherwise one problem naming the longest offender. */
    derived(path: string, value: string, names: readonly Derived[]): boolean {
        const over = names.filter((d) => d.name.length > d.limit);
        if (over.length === 0) return true;
        const worst = over.reduce((a, b) => (b.name.length - b.limit > a.name.length - a.limit ? b : a));
        const allowed = value.length - (worst.name.length - worst.limit);
        this.fail(
            path,
            `${excerpt(value)}${value.length > excerptLength ? "" : ` (${value.length} characters)`} makes ${worst.what} ${worst.name.length} characters ` +
                `long, over ${worst.by}'s limit of ${worst.limit}; use at most ${allowed} characters`,
        );
        return false;
    }

    integer(
        obj: Obj,
        key: string,
        path: string,
        min: number,
        fallback?: number,
        max = Number.MAX_SAFE_INTEGER,
        why = "",
    ): number | undefined {
        const v = configValue(obj, key);
        if (v === undefined) return fallback;
        if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
            return this.fail(
                `${path}.${key}`,
                `must be a whole number of at least ${min}, got ${excerpt(v)}`,
            );
        }
        if (v > max) return this.fail(`${path}.${key}`, `${v} is more than ${max}${why}; use at most ${max}`);
        return v;
    }

    boolean(obj: Obj, key: string, path: string, fallback: boolean): boolean {
        const v = configValue(obj, key);
        if (v === undefined) return fallback;
        if (typeof v !== "boolean") {
            this.fail(`${path}.${key}`, `must be true or false, got ${excerpt(v)}`);
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
        const v = configValue(obj, key);
        if (v === undefined) return fallback;
        if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
            return this.fail(`${path}.${key}`, `${excerpt(v)} is not one of: ${allowed.join(", ")}`);
        }
        return v as T;
    }

    /** Annotations: keys Kubernetes accepts, string values, within the 256 KiB Kubernetes allows in all. */
    annotations(obj: Obj, key: string, path: string): Record<string, string> | undefined {
        const m = this.object(obj, key, path);
        if (!m) return undefined;
        const problems = annotationProblems(m, `${path}.${key}`);
        for (const [p, message] of problems) this.fail(p, message);
        return problems.length === 0
            ? Object.fromEntries(Object.entries(m) as [string, string][])
            : undefined;
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

/** Container resources under `key` (default `resources`): quantities by Kubernetes' grammar, requests ≤ limits. */
export function readResources(
    r: Reader,
    obj: Obj,
    path: string,
    key = "resources",
): ResourceSettings | undefined {
    const res = r.object(obj, key, path);
    if (!res) return undefined;
    const p = `${path}.${key}`;
    r.knownKeys(res, p, ["requests", "limits"]);
    const out: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
    const values: Record<"requests" | "limits", Map<string, number>> = {
        requests: new Map(),
        limits: new Map(),
    };
    let ok = true;
    for (const part of ["requests", "limits"] as const) {
        const q = r.object(res, part, p);
        if (!q) continue;
        r.knownKeys(q, `${p}.${part}`, ["cpu", "memory"]);
        const read: Record<string, string> = {};
        for (const k of ["cpu", "memory"]) {
            const raw = configValue(q, k);
            if (raw === undefined) continue;
            const text = quantityText(raw);
            const value = text !== undefined ? parseQuantity(text) : undefined;
            if (text === undefined || value === undefined) {
                ok = false;
                r.fail(
                    `${p}.${part}.${k}`,
                    `${excerpt(raw)} is not a Kubernetes quantity; write it like 500m, 1, 2Gi or 129e6`,
                );
            } else if (value < 0) {
                ok = false;
                r.fail(`${p}.${part}.${k}`, `${excerpt(raw)} is negative; resources are never below 0`);
            } else {
                read[k] = text;
                values[part].set(k, value);
            }
        }
        out[part] = read;
    }
    for (const [k, request] of values.requests) {
        const limit = values.limits.get(k);
        if (limit !== undefined && request > limit) {
            ok = false;
            r.fail(
                `${p}.requests.${k}`,
                `${out.requests![k]} is more than the limit ${out.limits![k]}; Kubernetes refuses a request ` +
                    `above its limit, raise the limit or lower the request`,
            );
        }
    }
    return ok ? out : undefined;
}

export function prune<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
