/**
 * A chain of engine-tier scenarios on their own local clusters and one stack of Pulumi.demo.yaml: the
 * clusters start before the first scenario and stop after the last (kept with ENGINE_TIER_KEEP_FAILED=1 when
 * one failed). The scenarios build on each other, so once one fails the rest fail too: they are neither
 * skipped nor able to pass on a mesh that was never made.
 */
import * as path from "node:path";
import { MeshState } from "../../../tools/clusters/state";
import { repoRoot } from "../../../tools/planner";
import { startClusters, stopClusters } from "../../server/support/clusters";
import { EngineStack } from "./engineStack";

/** The stack file every chain starts from. */
export const demoStackFile = path.join(repoRoot, "Pulumi.demo.yaml");
/** Its `mesh.meshId`. */
export const demoMeshId = "demo-mesh";
/** The Istio version whose charts the stack starts with. */
export const engineVersion = process.env.ENGINE_TIER_ISTIO ?? "1.30.3";

/** Options of `demoChain`. */
export interface ChainOptions {
    /** Primaries added later in the chain: their intermediates are made now, set by the scenario. */
    readonly later?: readonly string[];
    /** Names the clusters' folder (default: the load balancers' kind). */
    readonly label?: string;
}

/** Registers the chain's hooks in the calling `describe`; returns the stack once it exists. */
export function demoChain(
    names: readonly string[],
    lb: "ip" | "hostname",
    opts: ChainOptions = {},
): () => EngineStack & { mesh: MeshState } {
    const later = opts.later ?? [];
    const keep = process.env.ENGINE_TIER_KEEP_FAILED === "1";
    let mesh: MeshState | undefined;
    let stack: (EngineStack & { mesh: MeshState }) | undefined;
    let failed = false;
    before(async function () {
        this.timeout(10 * 60_000);
        mesh = await startClusters(names, lb, `engine-${opts.label ?? lb}`);
        const primaries = names.filter((n) => n.startsWith("primary") && !later.includes(n));
        stack = Object.assign(
            await EngineStack.on(mesh, "demo", demoStackFile, {
                version: engineVersion,
                meshId: demoMeshId,
                primaries,
                later,
            }),
            { mesh },
        );
    });
    beforeEach(function () {
        if (failed) throw new Error(`not run: an earlier scenario failed`);
    });
    afterEach(function () {
        if (this.currentTest?.state === "failed") failed = true;
    });
    after(async () => {
        await stopClusters(mesh, keep && failed);
    });
    return () => stack!;
}
