/**
 * For a process that prints messages only (the plan, and the bench's floor when it is to match the plan): the
 * SDK records a stack trace for every promise it makes (for its leak report) and one per resource (its source
 * position), and under tsx each is mapped through source maps: a third of a large plan's time. The plan prints
 * messages, never a stack, and the engine it stands in for reads no source positions, so the output is the same
 * without them. The SDK also tags every promise it makes for that leak report (`runtime/debuggable`
 * `debuggablePromise`: three properties and an Error each, and a Set holding it until it settles): in the
 * bench's plan of 100 primaries (three runs each way, alternating) that is 16% of the time (31.8 s against
 * 26.6 s) and 7% of the peak memory (2.85 GiB against 2.66), for a report the plan never prints; it is left
 * untagged. `PLAN_STACK_TRACES=1` keeps all of it, to debug a crash or a hang.
 */
export function dropStackTraces(env: NodeJS.ProcessEnv = process.env): void {
    if (env.PLAN_STACK_TRACES === "1") return;
    Error.stackTraceLimit = 0;
    process.setSourceMapsEnabled(false);
    // An SDK internal (tools/sdkInternals.ts checks it is there); called through its module's exports.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as Record<string, unknown>;
    // Its own shape (promise, context), which tools/sdkInternals.ts checks: only the tagging goes.
    debuggable.debuggablePromise = <T>(p: Promise<T>, _context: unknown): Promise<T> => p;
}
