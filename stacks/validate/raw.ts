/** The raw config as the program reads it (parsed JSON per top-level key, null as not set), and the shape of a result. */
import { Topology, topLevelConfigKeys } from "../topology";

/** The raw input: the two config values as parsed from JSON, and whether Pulumi holds each key as secret. */
export interface RawConfig {
    readonly mesh: unknown;
    readonly clusters: unknown;
    /** `istio-multicluster:namespaces` and `istio-multicluster:security`; both optional (stacks/security/). */
    readonly namespaces?: unknown;
    readonly security?: unknown;
    /** `istio-multicluster:services`, `externalServices` and `ingress` (stacks/traffic/); each optional. */
    readonly services?: unknown;
    readonly externalServices?: unknown;
    readonly ingress?: unknown;
    /** `istio-multicluster:smokeTest` (read by stacks/smokeTest.ts). */
    readonly smokeTest?: unknown;
    /** `istio-multicluster:hardening` (read by stacks/hardening.ts). */
    readonly hardening?: unknown;
    /** `istio-multicluster:observability` (read by stacks/observability/). */
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

export function parseConfigValue(text: string | undefined): unknown {
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
