/**
 * Local clusters for a server-tier test: started with `up` in a fresh folder under `.e2e/server`, stopped
 * with `down` after, whatever happened. Startup and what each topology costs are recorded for the summary.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Api } from "../../../tools/clusters/api";
import { down, up } from "../../../tools/clusters/local";
import { adminAccess, ClusterState, LbMode, MeshState } from "../../../tools/clusters/state";
import { repoRoot } from "../../../tools/planner";

/** The version the local API servers report (`gitVersion`), e.g. `v1.36.3`. */
export async function serverVersion(c: ClusterState): Promise<string> {
    const api = new Api(adminAccess(c));
    try {
        return (await api.json<{ gitVersion: string }>("GET", "/version")).gitVersion;
    } finally {
        api.close();
    }
}

let counter = 0;

/** Starts clusters named `names`; the caller must `stopClusters` the result. */
export async function startClusters(names: readonly string[], lb: LbMode, label: string): Promise<MeshState> {
    const dir = path.join(
        repoRoot,
        ".e2e",
        "server",
        `${process.pid}-${++counter}-${label.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    return up({ names, dir, lb, log: () => undefined });
}

/** Stops them; keeps the folder (logs) only when `keep`. */
export async function stopClusters(state: MeshState | undefined, keep: boolean): Promise<void> {
    if (!state) return;
    await down(state.dir, () => undefined);
    if (!keep) fs.rmSync(state.dir, { recursive: true, force: true });
}

/** Admin clients for every cluster, by name. */
export function clients(state: MeshState): Map<string, Api> {
    return new Map(state.clusters.map((c) => [c.name, new Api(adminAccess(c))]));
}
