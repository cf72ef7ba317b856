/**
 * Runs the pack in-process on an offline plan, building each policy's arguments the way the Pulumi engine and
 * @pulumi/policy's analyzer server do (node_modules/@pulumi/policy/server.js): props are the inputs with secrets
 * in plain text, wrapped in `unknownCheckingProxy` so that reading an unknown value throws `UnknownValueError`;
 * enforcement is the stack's policy config over each policy's level over the pack's default; "disabled" skips.
 *
 * Lives in tools/, not in the pack: the pack a platform team publishes holds policies only, and this engine-side
 * code imports the planner. Never imports `policies/index` (constructing a PolicyPack starts a gRPC server).
 */
import * as fs from "node:fs";
import {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy/policy";
import Ajv from "ajv";
import type { PlannedResource } from "./planner";
import { plainInputs } from "./planner";
import { unknownCheckingProxy, UnknownValueError } from "../policies/lib";
import { defaultEnforcementLevel, packName, policies as packPolicies } from "../policies/pack";

/** One reported violation. */
export interface Violation {
    readonly policy: string;
    readonly level: "advisory" | "mandatory";
    /** The resource the violation is about; the stack's URN when a stack policy names none. */
    readonly urn: string;
    readonly message: string;
}

/** A policy config file's content (`--policy-pack-config`): per policy a level, or a level and settings. */
export type PolicyConfig = Record<
    string,
    EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

/** A policy config that names no policy of the pack or does not match a policy's schema. */
export class PolicyConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyConfigError";
    }
}

const levels = new Set(["advisory", "mandatory", "remediate", "disabled"]);

/** Reads and checks a policy config file. */
export function loadPolicyConfig(file: string, policies: Policies = packPolicies): PolicyConfig {
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new PolicyConfigError(`${file}: ${(e as Error).message}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        throw new PolicyConfigError(`${file}: must be a JSON object of policy names`);
    }
    checkPolicyConfig(doc as PolicyConfig, policies, file);
    return doc as PolicyConfig;
}

/** Checks names, levels and settings against each policy's `configSchema`, as the CLI does. */
export function checkPolicyConfig(
    config: PolicyConfig,
    policies: Policies = packPolicies,
    source = "policy config",
): void {
    const byName = new Map(policies.map((p) => [p.name, p]));
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const [name, entry] of Object.entries(config)) {
        const policy = byName.get(name);
        if (name !== "all" && policy === undefined) {
            const guess = closest(name, [...byName.keys(), "all"]);
            throw new PolicyConfigError(
                `${source}: ${JSON.stringify(name)} is not a policy of ${packName}` +
                    (guess ? `; did you mean ${JSON.stringify(guess)}?` : ".") +
                    ` Policies are: ${[...byName.keys()].join(", ")}`,
            );
        }
        const level = typeof entry === "string" ? entry : entry.enforcementLevel;
        if (level !== undefined && !levels.has(level)) {
            throw new PolicyConfigError(
                `${source}: ${name}: enforcement level ${JSON.stringify(level)} is not one of advisory, mandatory, ` +
                    `remediate, disabled` +
                    (typeof level === "string" && closest(level, [...levels])
                        ? `; did you mean ${JSON.stringify(closest(level, [...levels]))}?`
                        : ""),
            );
        }
        if (typeof entry === "string" || policy === undefined) continue;
        const settings: Record<string, unknown> = { ...entry };
        delete settings.enforcementLevel;
        const schema = {
            type: "object",
            additionalProperties: false,
            ...(policy.configSchema ?? { properties: {} }),
        };
        const validate = ajv.compile(schema);
        if (!validate(settings)) {
            const known = Object.keys(policy.configSchema?.properties ?? {});
            const why = (validate.errors ?? []).map((e) => {
                const extra = (e.params as { additionalProperty?: unknown }).additionalProperty;
                if (e.keyword === "additionalProperties" && typeof extra === "string") {
                    const guess = closest(extra, known);
                    return (
                        `${JSON.stringify(extra)} is not a setting of ${name}` +
                        (guess ? `; did you mean ${JSON.stringify(guess)}?` : ".") +
                        (known.length
                            ? ` Settings are: ${known.join(", ")}`
                            : " It has no settings, only a level")
                    );
                }
                return `${e.instancePath || "/"} ${e.message ?? ""}`;
            });
            throw new PolicyConfigError(`${source}: ${name}: ${why.join("; ")}`);
        }
    }
}

/** A policy's effective level: its own config entry, then `all`, then its default, then the pack's. */
export function levelOf(policy: Policies[number], config: PolicyConfig): EnforcementLevel {
    const entry = (name: string) => {
        const e = config[name];
        return typeof e === "string" ? e : e?.enforcementLevel;
    };
    return entry(policy.name) ?? entry("all") ?? policy.enforcementLevel ?? defaultEnforcementLevel;
}

/** A policy's settings: schema defaults, then its config entry (without the level). */
function settingsOf(policy: Policies[number], config: PolicyConfig): Record<string, unknown> {
    const defaults: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (typeof s === "object" && s !== null && "default" in s) defaults[k] = s.default;
    }
    const e = config[policy.name];
    if (typeof e !== "object") return defaults;
    const settings: Record<string, unknown> = { ...e };
    delete settings.enforcementLevel;
    return { ...defaults, ...settings };
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

/** A planned resource's options as policies receive them. */
export function optionsOf(r: PlannedResource): PolicyResourceOptions {
    return {
        protect: r.protect,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

const noTags: ReadonlyMap<string, string> = new Map();

const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy =>
    (p as ResourceValidationPolicy).validateResource !== undefined;
const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy =>
    (p as StackValidationPolicy).validateStack !== undefined;

/**
 * Evaluates every enabled policy on the planned resources: resource policies on each registered resource (not
 * on reads, which the engine does not analyze), stack policies once on all of them. Violations come back
 * ordered by policy (pack order), then URN, then message.
 */
export async function evaluatePolicies(
    resources: readonly PlannedResource[],
    policyConfig: PolicyConfig = {},
    policies: Policies = packPolicies,
): Promise<Violation[]> {
    checkPolicyConfig(policyConfig, policies);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";
    const propsOf = sharedProps();
    const providerOf = (r: PlannedResource) => {
        if (!r.provider) return undefined;
        const p = byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
        if (!p) return undefined;
        return { type: p.type, props: propsOf(p), urn: p.urn, name: p.name };
    };
    const out: { order: number; v: Violation }[] = [];

    for (const [order, policy] of policies.entries()) {
        let level = levelOf(policy, policyConfig);
        if (level === "disabled") continue;
        if (level === "remediate") level = "mandatory";
        const report = (fallbackUrn: string) => (message: string, urn?: string) =>
            out.push({ order, v: { policy: policy.name, level, urn: urn ?? fallbackUrn, message } });
        const settings = settingsOf(policy, policyConfig);
        const getConfig = <T extends object>() => ({ ...settings }) as T;
        const run = async (fallbackUrn: string, f: () => Promise<void> | void) => {
            try {
                await f();
            } catch (e) {
                if (e instanceof NotApplicable) return;
                if (e instanceof UnknownValueError) {
                    // What the engine does: the policy could not run; an advisory note, never a violation.
                    out.push({
                        order,
                        v: {
                            policy: policy.name,
                            level: "advisory",
                            urn: fallbackUrn,
                            message: `can't run policy '${policy.name}' during preview: ${e.message}`,
                        },
                    });
                    return;
                }
                throw new Error(
                    `policy ${policy.name} failed on ${fallbackUrn}: ${e instanceof Error ? e.message : String(e)}`,
                    {
                        cause: e,
                    },
                );
            }
        };

        if (isResourcePolicy(policy) && policy.validateResource) {
            const validations = Array.isArray(policy.validateResource)
                ? policy.validateResource
                : [policy.validateResource];
            for (const r of resources) {
                if (r.readId !== undefined) continue;
                for (const validate of validations) {
                    const provider = providerOf(r);
                    const args: ResourceValidationArgs = {
                        type: r.type,
                        // Built on first read: most policies look at the type alone.
                        get props() {
                            return propsOf(r);
                        },
                        urn: r.urn,
                        name: r.name,
                        opts: optionsOf(r),
                        stackTags: noTags,
                        isType: () => false,
                        asType: () => undefined,
                        getConfig,
                        notApplicable,
                        ...(provider ? { provider } : {}),
                    };
                    await run(r.urn, () => validate(args, report(r.urn)));
                }
            }
        }
        if (isStackPolicy(policy)) {
            const args: StackValidationArgs = {
                resources: policyResources(resources, providerOf, propsOf),
                stackTags: noTags,
                getConfig,
                notApplicable,
            };
            await run(stackUrn, () => policy.validateStack(args, report(stackUrn)));
        }
    }
    return out
        .sort(
            (a, b) =>
                a.order - b.order ||
                (a.v.urn < b.v.urn ? -1 : a.v.urn > b.v.urn ? 1 : 0) ||
                (a.v.message < b.v.message ? -1 : a.v.message > b.v.message ? 1 : 0),
        )
        .map((x) => x.v);
}

/**
 * Per resource, its props as policies receive them (secrets in plain text, reading an unknown throws
 * `UnknownValueError`), built once on first use and shared by every policy. The engine gives each policy a
 * copy of its own; here one policy must not be able to change what the next one sees, so the shared copy is
 * read-only: writing to it throws. (Not frozen: the unknown-checking proxy must be able to wrap what it
 * returns, which V8 forbids for a frozen property.)
 */
export function sharedProps(): (r: PlannedResource) => Record<string, unknown> {
    const made = new Map<PlannedResource, Record<string, unknown>>();
    return (r) => {
        let props = made.get(r);
        if (props === undefined) {
            props = unknownCheckingProxy(readOnly(plainInputs(r)));
            made.set(r, props);
        }
        return props;
    };
}

const readOnlyViews = new WeakMap<object, object>();
const refuseWrite = (): never => {
    throw new TypeError("a policy tried to change a resource's props; they are read-only");
};
const readOnlyHandler: ProxyHandler<object> = {
    get: (target, key) => readOnly(Reflect.get(target, key) as unknown),
    set: refuseWrite,
    defineProperty: refuseWrite,
    deleteProperty: refuseWrite,
    setPrototypeOf: refuseWrite,
    preventExtensions: refuseWrite,
};

/** A read-only view of plain data (objects and arrays, as `plainInputs` makes them); anything else as is. */
export function readOnly<T>(v: T): T {
    if (typeof v !== "object" || v === null) return v;
    const proto = Object.getPrototypeOf(v) as unknown;
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return v;
    let view = readOnlyViews.get(v);
    if (view === undefined) {
        view = new Proxy(v, readOnlyHandler);
        readOnlyViews.set(v, view);
    }
    return view as T;
}

/** The stack's resources as `validateStack` receives them: parents and dependencies resolved to objects. */
export function policyResources(
    resources: readonly PlannedResource[],
    providerOf: (r: PlannedResource) => PolicyResource["provider"],
    propsOf: (r: PlannedResource) => Record<string, unknown> = sharedProps(),
): PolicyResource[] {
    const made = resources.map((r): PolicyResource => {
        const provider = providerOf(r);
        return {
            type: r.type,
            get props() {
                return propsOf(r);
            },
            urn: r.urn,
            name: r.name,
            opts: optionsOf(r),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
            ...(provider ? { provider } : {}),
        };
    });
    const byUrn = new Map(made.map((r) => [r.urn, r]));
    resources.forEach((r, i) => {
        const m = made[i]!;
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) m.parent = parent;
        m.dependencies = r.dependsOn.flatMap((d) => byUrn.get(d) ?? []);
        for (const [k, urns] of Object.entries(r.propertyDependencies)) {
            m.propertyDependencies[k] = urns.flatMap((d) => byUrn.get(d) ?? []);
        }
    });
    return made;
}

/** The candidate nearest to a misspelt name (edit distance at most a third of its length), if any. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
    const distance = (a: string, b: string): number => {
        let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
        for (let i = 1; i <= a.length; i++) {
            const cur = [i];
            for (let j = 1; j <= b.length; j++) {
                cur[j] = Math.min(
                    prev[j]! + 1,
                    cur[j - 1]! + 1,
                    prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
                );
            }
            prev = cur;
        }
        return prev[b.length]!;
    };
    let best: { c: string; d: number } | undefined;
    for (const c of candidates) {
        const d = distance(name.toLowerCase(), c.toLowerCase());
        if (d <= Math.max(1, Math.floor(c.length / 3)) && (best === undefined || d < best.d)) best = { c, d };
    }
    return best?.c;
}
