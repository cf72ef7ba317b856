/**
 * A staged root rotation (`mesh.ca.rotation`): what each stage puts in the trust bundle, which root signs,
 * which roots and intermediates exist, and which step from the last deployed stage is safe.
 *
 * The stages follow Istio's own rotation test (tests/integration/security/cacert_rotation) and its
 * plugged-in CA docs (../shared/ISTIO-FACTS.md, "Root CA rotation"):
 * - `add`: every trust bundle (`root-cert.pem` in `cacerts`) holds the current root A, verbatim and first,
 *   then the next root B; intermediates are still A's. Workloads learn to trust B.
 * - `switch`: every primary's intermediate is re-issued under B; the bundle still holds both, so a
 *   certificate from either root is trusted everywhere while workloads renew theirs.
 * - `finish`: the bundle holds B alone; A and its intermediates are gone.
 * istiod takes a changed root bundle only with `ISTIO_MULTIROOT_MESH=true`, and only when the new bundle
 * contains the old one or is contained by it (up to 1.29 compared as text, hence A verbatim and first);
 * proxies take a new bundle without a restart only with `PROXY_CONFIG_XDS_AGENT=true`. Both are set from
 * the first rotation on (`multiRoot`). A stage must be reached in every cluster before the next one starts:
 * one `up` per stage does that, and a stage skipped (B's intermediates signing while a workload trusts
 * only A) is refused against the stage the stack's last deployment recorded (`rotationStepProblem`).
 */
import { CaSettings, RotationStage, rotationStages } from "./core";

/** Where a stack is in its root's life: generation `g`, and the stage of a rotation to `g + 1`. */
export interface RotationState {
    readonly generation: number;
    readonly stage: RotationStage | "none";
}

/** The stack output that records the deployed state, read back by the next deployment. */
export const rotationOutput = "caRotation";

export function rotationState(ca: Pick<CaSettings, "generation" | "rotation">): RotationState {
    return { generation: ca.generation, stage: ca.rotation?.stage ?? "none" };
}

/** Position along the stages of every rotation: `finish` of generation g is where g + 1 starts. */
export function rotationPosition(state: RotationState): number {
    const step = state.stage === "none" ? 0 : rotationStages.indexOf(state.stage) + 1;
    return 3 * (state.generation - 1) + step;
}

/** What one stage puts where: generations of roots (1 = the first root). */
export interface TrustPlan {
    /** The root whose intermediates sign workload certificates. */
    readonly signing: number;
    /** The roots in every `root-cert.pem`, in this order (the older first). */
    readonly bundle: readonly number[];
    /** Roots that exist (generated or brought) at this stage. */
    readonly roots: readonly number[];
    /** Generations whose intermediates exist: the older ones stay through `switch`, so it can be undone. */
    readonly intermediates: readonly number[];
    /**
     * istiod runs with `ISTIO_MULTIROOT_MESH` and proxies with `PROXY_CONFIG_XDS_AGENT`: from the first rotation
     * on, or with a brought bundle of several roots.
     */
    readonly multiRoot: boolean;
}

export function trustPlan(ca: Pick<CaSettings, "generation" | "rotation" | "rootCertPem">): TrustPlan {
    const g = ca.generation;
    // A brought bundle of several roots is a multi-root mesh from the start, rotation or not.
    const broughtRoots = ca.rootCertPem?.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
    const multiRoot = g > 1 || ca.rotation !== undefined || broughtRoots > 1;
    switch (ca.rotation?.stage) {
        case undefined:
            return { signing: g, bundle: [g], roots: [g], intermediates: [g], multiRoot };
        case "add":
            return { signing: g, bundle: [g, g + 1], roots: [g, g + 1], intermediates: [g], multiRoot };
        case "switch":
            return {
                signing: g + 1,
                bundle: [g, g + 1],
                roots: [g, g + 1],
                intermediates: [g, g + 1],
                multiRoot,
            };
        case "finish":
            return { signing: g + 1, bundle: [g + 1], roots: [g + 1], intermediates: [g + 1], multiRoot };
    }
}

/**
 * The deployed state recorded in a stack's outputs: undefined for a stack never deployed (any stage may
 * start it), generation 1 without a rotation for one deployed before the output existed.
 */
export function deployedRotation(outputs: Readonly<Record<string, unknown>>): RotationState | undefined {
    if (Object.keys(outputs).length === 0) return undefined;
    const recorded = outputs[rotationOutput];
    if (
        typeof recorded === "object" &&
        recorded !== null &&
        Number.isInteger((recorded as RotationState).generation) &&
        (recorded as RotationState).generation >= 1 &&
        ["none", ...rotationStages].includes((recorded as RotationState).stage)
    ) {
        const { generation, stage } = recorded as RotationState;
        return { generation, stage };
    }
    return { generation: 1, stage: "none" };
}

/** How a state is written in config. */
export function describeState(state: RotationState): string {
    const generation = `\`mesh.ca.generation: ${state.generation}\``;
    return state.stage === "none"
        ? `${generation} without \`rotation\``
        : `${generation} with \`rotation.stage: ${state.stage}\``;
}

/** The state one stage after `state`, written as config. */
function nextState(state: RotationState): RotationState {
    switch (state.stage) {
        case "none":
            return { generation: state.generation, stage: "add" };
        case "add":
            return { generation: state.generation, stage: "switch" };
        case "switch":
            return { generation: state.generation, stage: "finish" };
        case "finish":
            return { generation: state.generation + 1, stage: "add" };
    }
}

/**
 * Why going from the deployed state to `next` in one `up` is unsafe, or undefined when it is safe: staying,
 * one stage forward, or one stage back from `add` or `switch` (their old root still exists). A skipped
 * stage lets some cluster's workloads meet certificates of a root they do not trust yet, or lose one they
 * still need; a finished rotation's old root is gone, so it cannot be undone.
 */
export function rotationStepProblem(
    deployed: RotationState | undefined,
    next: RotationState,
): string | undefined {
    if (deployed === undefined) return undefined;
    const from = rotationPosition(deployed);
    const to = rotationPosition(next);
    const was = `the last \`pulumi up\` of this stack left ${describeState(deployed)}`;
    if (to - from === 0 || to - from === 1) return undefined;
    if (to - from === -1 && from % 3 !== 0) return undefined;
    if (to > from) {
        return (
            `skips ${to - from - 1} stage${to - from - 1 > 1 ? "s" : ""} of the root rotation: ${was}; ` +
            `the next stage is ${describeState(nextState(deployed))}. Each stage must reach every cluster ` +
            `(one \`pulumi up\`) before the next starts, or workloads meet certificates of a root they do ` +
            `not trust yet`
        );
    }
    return from % 3 === 0
        ? `goes back past a finished rotation: ${was}, and the root it retired is gone; keep it, or start ` +
              `a new rotation with ${describeState(nextState(deployed))}`
        : `goes back more than one stage: ${was}; undo one stage per \`pulumi up\` (next: ` +
              `${describeState(previousState(deployed))})`;
}

function previousState(state: RotationState): RotationState {
    const i = ["none", ...rotationStages].indexOf(state.stage);
    return { generation: state.generation, stage: (["none", ...rotationStages] as const)[i - 1]! };
}
