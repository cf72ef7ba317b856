/**
 * The @pulumi/pulumi internals the offline plan rests on, checked in one place. They are not public API: a
 * minor release may move them, which is why package.json pins @pulumi/pulumi exactly (README, "Why
 * @pulumi/pulumi is pinned"). After an upgrade, this says what moved, instead of a plan that silently records
 * nothing or reads every config key as plain text.
 */

/** The README section an upgrader reads. */
export const pinnedSdkSection = "README.md#why-pulumipulumi-is-pinned";

/** The version the internals were checked against. */
export const pinnedSdkVersion = "3.276.0";

/** Wire-protocol markers the planner decodes (sdk/nodejs/runtime/rpc.ts). */
export const wireMarkers = {
    unknownValue: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    specialSigKey: "4dabf18193072939515e22adb298388d",
    specialSecretSig: "1b47061264138c4ac30d75fd1eb44270",
    specialResourceSig: "5cf8f73096256a8f31e491e813e4eb8e",
} as const;

const isFunction = (v: unknown, arity?: number) =>
    typeof v === "function" && (arity === undefined || (v as (...a: unknown[]) => unknown).length === arity);

/**
 * Every internal the planner and stacks/config.ts use that is not what they expect, as one line each; empty
 * when all is well. `monitor` is the active monitor after `setMocks`, when there is one to check.
 */
export function sdkInternalProblems(monitor?: unknown): string[] {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const load = (m: string): Record<string, unknown> => {
        try {
            return require(m) as Record<string, unknown>;
        } catch {
            return {};
        }
    };
    const settings = load("@pulumi/pulumi/runtime/settings");
    const state = load("@pulumi/pulumi/runtime/state");
    const config = load("@pulumi/pulumi/runtime/config");
    const rpc = load("@pulumi/pulumi/runtime/rpc");
    const debuggable = load("@pulumi/pulumi/runtime/debuggable");
    const version = (load("@pulumi/pulumi/package.json") as { version?: unknown }).version;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const problems: string[] = [];
    const need = (ok: boolean, what: string) => {
        if (!ok) problems.push(what);
    };
    need(version === pinnedSdkVersion, `@pulumi/pulumi is ${String(version)}, not ${pinnedSdkVersion}`);
    need(isFunction(settings.getMonitor), "runtime/settings.getMonitor() is gone");
    need(isFunction(settings.waitForRPCs), "runtime/settings.waitForRPCs() is gone");
    need(isFunction(state.getStore), "runtime/state.getStore() is gone");
    if (isFunction(state.getStore)) {
        const store = (state.getStore as () => Record<string, unknown>)();
        need(typeof store.logErrorCount === "number", "runtime/state's store has no numeric logErrorCount");
    }
    need(isFunction(config.isConfigSecret, 1), "runtime/config.isConfigSecret(key) is gone");
    need(
        isFunction(debuggable.debuggablePromise, 2),
        "runtime/debuggable.debuggablePromise(promise, context) is gone",
    );
    for (const [k, v] of Object.entries(wireMarkers)) {
        need(rpc[k] === v, `runtime/rpc.${k} is not ${v}`);
    }
    if (monitor !== undefined) {
        const m = monitor as Record<string, unknown>;
        need(
            isFunction(m.registerResource, 2),
            "the mock monitor has no registerResource(request, callback)",
        );
        need(isFunction(m.readResource, 2), "the mock monitor has no readResource(request, callback)");
    }
    return problems;
}

/** Throws, naming every moved internal and where to read about the pin, when any is not as expected. */
export function assertSdkInternals(monitor?: unknown): void {
    const problems = sdkInternalProblems(monitor);
    if (problems.length > 0) {
        throw new Error(`the SDK's mock monitor changed: see ${pinnedSdkSection}: ${problems.join("; ")}`);
    }
}
