/**
 * The offline plan: runs the real program (index.ts) under Pulumi's own mock monitor in preview mode and
 * records every resource the program registers, exactly as the engine would receive it: type, name, parent,
 * provider, dependencies, protection and inputs (secrets and unknowns kept as such).
 *
 * Nothing here changes what the program does. The program cannot tell this engine from the real one; the mock
 * only answers registrations the way a preview does: inputs come back as outputs, and every output the
 * program did not set itself is unknown until apply.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeStack from "@pulumi/pulumi/runtime/stack";
import { assertSdkInternals } from "./sdkInternals";
import { PlanRefused, projectSettings, redactedSecret, repoRoot, StackConfig } from "./stackFile";

export {
    aliasLoop,
    loadConfigFile,
    loadStackFile,
    PlanRefused,
    redactedSecret,
    repoRoot,
    StackConfig,
    stackConfigFromDocument,
} from "./stackFile";

/**
 * SDK internals the planner needs and the SDK's typings do not declare: the active monitor (to record what
 * the engine receives), waiting for outstanding registrations, and the count of errors the program logged.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): unknown;
    waitForRPCs(): Promise<void>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeState = require("@pulumi/pulumi/runtime/state") as { getStore(): { logErrorCount?: number } };

/** RPC markers, as the Pulumi wire protocol defines them (sdk/nodejs/runtime/rpc.ts). */
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const resourceSig = "5cf8f73096256a8f31e491e813e4eb8e";

/** Shown in place of a value that is unknown until apply. */
export const unknownMarker = "[unknown]";

/** One resource as the engine received it. */
export interface PlannedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** The parent's URN; null for the stack itself. */
    readonly parent: string | null;
    /** The cluster whose provider the resource uses; null outside any cluster. */
    readonly cluster: string | null;
    /** The provider reference (`urn::id`), if any. */
    readonly provider: string | null;
    /** Every resource this one waits for, explicitly or through its inputs (sorted URNs). */
    readonly dependsOn: readonly string[];
    /** Per input property, the resources it came from. */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    /** Whether the resource is `protect`ed. */
    readonly protect: boolean;
    /** True for custom resources (and providers), false for components. */
    readonly custom: boolean;
    /** For a read (`X.get`): the ID read. */
    readonly readId?: string;
    /** Inputs in Pulumi's wire form: secrets wrapped, unknowns as the unknown sentinel. */
    readonly rawInputs: Record<string, unknown>;
}

/** The result of a plan. */
export interface Plan {
    readonly stack: string;
    readonly resources: readonly PlannedResource[];
    readonly outputs: Record<string, unknown>;
    /** Milliseconds the program took to run. */
    readonly millis: number;
}

interface ProtoMap<V> {
    forEach(f: (value: V, key: string) => void): void;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getProvidersMap(): ProtoMap<string>;
    getProtect?(): boolean;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): ProtoMap<{ getUrnsList(): string[] }>;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface ReadRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getId(): string;
    getDependenciesList(): string[];
    getProperties(): { toJavaScript(): Record<string, unknown> } | undefined;
}

type Callback = (err: unknown, resp: unknown) => void;

/** The monitor methods the planner wraps. */
interface Monitor {
    registerResource(req: RegisterRequest, cb: Callback): void;
    readResource(req: ReadRequest, cb: Callback): void;
}

/**
 * Outputs a resource has after apply beyond its inputs (tests use it to play the cluster: a token Secret's
 * data, a load balancer's address). The plan itself sets none: it is a preview.
 */
export type ApplyOutputs = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;

/** How `evaluate` runs the program. */
export interface EvaluateOptions {
    /** Preview (the default, and what the plan does) or update. */
    readonly preview?: boolean;
    /** Only when not a preview: outputs of resources after apply. */
    readonly applyOutputs?: ApplyOutputs;
    /** The stack's outputs as its last deployment left them (the program reads them back); absent: a new stack. */
    readonly deployedOutputs?: Readonly<Record<string, unknown>>;
}

/** The mocks the plan runs under (the bench's floor uses the same). */
export function mocksFor(options: EvaluateOptions): pulumi.runtime.Mocks {
    return {
        newResource(args: pulumi.runtime.MockResourceArgs): {
            id: string | undefined;
            state: Record<string, unknown>;
        } {
            // The program reads its own stack's last outputs; a test may give them, else the stack is new.
            if (args.type === "pulumi:pulumi:StackReference") {
                return {
                    id: args.id,
                    state: {
                        ...(args.inputs as Record<string, unknown>),
                        outputs: options.deployedOutputs ?? {},
                        secretOutputNames: [],
                    },
                };
            }
            // Outputs echo inputs; what the program did not set is unknown in a preview. Providers get a
            // stable ID so references to them read well; other new resources have none until created.
            const provider = args.type.startsWith("pulumi:providers:");
            const preview = options.preview ?? true;
            const id = provider ? `${args.name}-id` : args.id || (preview ? undefined : `${args.name}-id`);
            const extra = preview ? undefined : options.applyOutputs?.(args);
            return { id, state: { ...(args.inputs as Record<string, unknown>), ...extra } };
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
            throw new Error(`the program called ${args.token}, which the offline plan does not answer`);
        },
    };
}

let running = false;

/**
 * Runs the program once for `config` and returns what it registered. Throws `PlanRefused` when the
 * program refuses the config (every problem listed), or the program's own error otherwise.
 */
export async function plan(config: StackConfig, options: EvaluateOptions = {}): Promise<Plan> {
    return evaluate(config, runProgram, options);
}

/** Evaluates index.ts afresh: the stack's program. */
export function runProgram(): Record<string, unknown> {
    clearProgramModules();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(repoRoot, "index.ts")) as Record<string, unknown>;
}

/**
 * Runs `program` (the stack's program, or a test's few resources) under the mock monitor in preview mode
 * with `config`, and returns what it registered.
 */
export async function evaluate(
    config: StackConfig,
    program: () => Record<string, unknown>,
    options: EvaluateOptions = {},
): Promise<Plan> {
    if (running) throw new Error("plan() is not re-entrant: the Pulumi runtime is one per process");
    running = true;
    const project = projectSettings();
    const records = new Map<string, PlannedResource>();
    const order: string[] = [];
    /** URNs registered more than once: the engine refuses the second registration of a URN. */
    const duplicates: string[] = [];
    const started = process.hrtime.bigint();
    // An error inside an apply surfaces as an unhandled rejection, and the registrations waiting on it
    // never finish: the first one ends the plan, as it ends `pulumi up`.
    let failed: (e: unknown) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => undefined);
    const onRejection = (e: unknown) => failed(e);
    process.on("unhandledRejection", onRejection);
    try {
        // The DIY backend's organization, as the engine tier's `pulumi` names it.
        await pulumi.runtime.setMocks(
            mocksFor(options),
            project.name,
            config.stack,
            options.preview ?? true,
            "organization",
        );
        pulumi.runtime.setAllConfig({ ...config.values }, [...config.secretKeys]);
        const monitor = runtimeSettings.getMonitor() as Monitor;
        assertSdkInternals(monitor);
        // Each registration or read is recorded as the engine received it, once the monitor has accepted it.
        const recording =
            <Req>(
                call: (req: Req, cb: Callback) => void,
                record: (urn: string, req: Req) => PlannedResource,
            ) =>
            (req: Req, cb: Callback) =>
                call(req, (err, resp) => {
                    if (!err) {
                        const urn = (resp as { getUrn(): string }).getUrn();
                        if (records.has(urn)) duplicates.push(urn);
                        else order.push(urn);
                        records.set(urn, record(urn, req));
                    }
                    cb(err, resp);
                });
        monitor.registerResource = recording(monitor.registerResource.bind(monitor), fromRegister);
        monitor.readResource = recording(monitor.readResource.bind(monitor), fromRead);

        let exported: Record<string, unknown> = {};
        try {
            await Promise.race([
                runtimeStack.runInPulumiStack(() => {
                    exported = program();
                    return Promise.resolve(exported);
                }),
                failure,
            ]);
        } catch (e) {
            throw refusal(e);
        }
        const outputs: Record<string, unknown> = {};
        try {
            await Promise.race([runtimeSettings.waitForRPCs(), failure]);
            for (const [k, v] of Object.entries(exported))
                outputs[k] = await Promise.race([displayOutput(v), failure]);
        } catch (e) {
            throw refusal(e);
        }
        if (duplicates.length > 0) {
            throw new Error(
                `the program registered ${duplicates.length} URN(s) more than once, which the engine refuses: ` +
                    [...new Set(duplicates)].join(", "),
            );
        }
        const errors = runtimeState.getStore().logErrorCount ?? 0;
        if (errors > 0) throw new Error(`the program logged ${errors} error(s)`);
        const millis = Number(process.hrtime.bigint() - started) / 1e6;
        const providers = new Map<string, string>();
        for (const r of records.values()) {
            if (r.type === "pulumi:providers:kubernetes") providers.set(r.urn, r.name);
        }
        const resources = order.map((urn) => withCluster(records.get(urn)!, providers));
        return { stack: config.stack, resources, outputs, millis };
    } finally {
        process.off("unhandledRejection", onRejection);
        running = false;
    }
}

/** Turns the program's refusal into PlanRefused, keeping the validator's list of problems. */
function refusal(e: unknown): unknown {
    const problems = (e as { problems?: unknown }).problems;
    if (Array.isArray(problems)) return new PlanRefused((e as Error).message, problems as string[]);
    return e;
}

/** Forgets the program's own modules so that each plan evaluates them afresh. */
function clearProgramModules(): void {
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(repoRoot) && !key.includes(`${path.sep}node_modules${path.sep}`)) {
            const rel = path.relative(repoRoot, key);
            if (rel === "index.ts" || /^(components|stacks)[\\/]/.test(rel)) delete require.cache[key];
        }
    }
}

function fromRegister(urn: string, req: RegisterRequest): PlannedResource {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v, k) => (propertyDependencies[k] = v.getUrnsList()));
    const providers = new Map<string, string>();
    req.getProvidersMap().forEach((v, k) => providers.set(k, v));
    const provider = req.getProvider() || (req.getCustom() ? "" : (providers.get("kubernetes") ?? ""));
    return {
        urn,
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent() || null,
        cluster: null,
        provider: provider || null,
        dependsOn: allDependencies(req.getDependenciesList(), propertyDependencies),
        propertyDependencies,
        protect: req.getProtect?.() ?? false,
        custom: req.getCustom(),
        rawInputs: req.getObject()?.toJavaScript() ?? {},
    };
}

function fromRead(urn: string, req: ReadRequest): PlannedResource {
    return {
        urn,
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent() || null,
        cluster: null,
        provider: req.getProvider() || null,
        dependsOn: allDependencies(req.getDependenciesList(), {}),
        propertyDependencies: {},
        protect: false,
        custom: true,
        readId: req.getId(),
        rawInputs: req.getProperties()?.toJavaScript() ?? {},
    };
}

function allDependencies(explicit: string[], byProperty: Record<string, string[]>): string[] {
    return [...new Set([...explicit, ...Object.values(byProperty).flat()])].sort();
}

function withCluster(r: PlannedResource, providers: Map<string, string>): PlannedResource {
    if (r.type === "pulumi:providers:kubernetes") return { ...r, cluster: r.name };
    if (!r.provider) return r;
    const providerUrn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    return { ...r, cluster: providers.get(providerUrn) ?? null };
}

function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[sigKey] === secretSig;
}

/**
 * Wire-form inputs as the plan shows them: a secret is "[secret]", an unknown "[unknown]", a resource
 * reference its URN. For a Kubernetes Secret, the keys of `data` and `stringData` stay visible.
 */
export function displayInputs(r: PlannedResource): Record<string, unknown> {
    const show = (v: unknown): unknown => {
        if (v === unknownValue) return unknownMarker;
        if (Array.isArray(v)) return v.map(show);
        if (typeof v === "object" && v !== null) {
            const o = v as Record<string, unknown>;
            // A secret whose value is not known yet stays "[unknown]": the SDK sends it wrapped as a secret
            // in 3.276 (bare in 3.248), and a preview's "not known until apply" is what a reader needs.
            if (o[sigKey] === secretSig) return o.value === unknownValue ? unknownMarker : redactedSecret;
            if (o[sigKey] === resourceSig) return o.urn;
            return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, show(x)]));
        }
        return v;
    };
    const inputs = show(r.rawInputs) as Record<string, unknown>;
    if (r.type === "kubernetes:core/v1:Secret") {
        for (const field of ["data", "stringData"]) {
            let raw = r.rawInputs[field];
            if (isSecretValue(raw)) raw = raw.value;
            if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
                inputs[field] = Object.fromEntries(
                    Object.entries(raw).map(([k, x]) => [
                        k,
                        x === unknownValue ? unknownMarker : redactedSecret,
                    ]),
                );
            } else if (raw !== undefined) {
                inputs[field] = raw === unknownValue ? unknownMarker : redactedSecret;
            }
        }
    }
    return inputs;
}

/**
 * Wire-form inputs as policies receive them: secrets in plain text (the engine decrypts them for
 * analyzers), unknowns left as the unknown sentinel, resource references as their URN.
 */
export function plainInputs(r: PlannedResource): Record<string, unknown> {
    const plain = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(plain);
        if (typeof v === "object" && v !== null) {
            const o = v as Record<string, unknown>;
            if (o[sigKey] === secretSig) return plain(o.value);
            if (o[sigKey] === resourceSig) return o.urn;
            return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
        }
        return v;
    };
    return plain(r.rawInputs) as Record<string, unknown>;
}

/** The unknown sentinel of the wire protocol, for code that inspects `plainInputs`. */
export function isUnknown(v: unknown): boolean {
    return v === unknownValue;
}

interface OutputInternals {
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
    promise(withUnknowns?: boolean): Promise<unknown>;
}

/** A stack output as the plan shows it, field by field, so that one unknown field hides no other. */
async function displayOutput(v: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) {
        const o = v as unknown as OutputInternals;
        if (await o.isSecret) return redactedSecret;
        if (!(await o.isKnown)) return unknownMarker;
        return displayOutput(await o.promise(true));
    }
    if (pulumi.Resource.isInstance(v)) return displayOutput(v.urn);
    if (Array.isArray(v)) return Promise.all(v.map(displayOutput));
    if (typeof v === "object" && v !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = await displayOutput(x);
        return out;
    }
    return v === undefined ? null : v === unknownValue ? unknownMarker : v;
}

/** The plan as the JSON document `npm run plan -- --json` prints (resources sorted by URN). */
export function planDocument(p: Plan): {
    stack: string;
    resources: {
        urn: string;
        type: string;
        name: string;
        parent: string | null;
        cluster: string | null;
        dependsOn: string[];
        inputs: Record<string, unknown>;
    }[];
} {
    return {
        stack: p.stack,
        resources: [...p.resources]
            .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0))
            .map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent,
                cluster: r.cluster,
                dependsOn: [...r.dependsOn],
                inputs: displayInputs(r),
                ...(r.readId !== undefined
                    ? { read: r.readId === "" || r.readId === unknownValue ? unknownMarker : r.readId }
                    : {}),
            })),
    };
}
