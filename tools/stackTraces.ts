/**
 * For a process that prints messages only (the plan, and the bench's floor when it is to match the plan): the
 * SDK records a stack trace for every promise it makes (for its leak report) and one per resource (its source
 * position), and under tsx each is mapped through source maps: a third of a large plan's time. The plan prints
 * messages, never a stack, and the engine it stands in for reads no source positions, so the output is the same
 * without them. `PLAN_STACK_TRACES=1` keeps them, to debug a crash.
 */
export function dropStackTraces(env: NodeJS.ProcessEnv = process.env): void {
    if (env.PLAN_STACK_TRACES === "1") return;
    Error.stackTraceLimit = 0;
    process.setSourceMapsEnabled(false);
}
