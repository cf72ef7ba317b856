/**
 * Local clusters for a server-tier test: started with `up` in a fresh folder under `.e2e/server`, stopped
 * with `down` after, whatever happened. Startup and what each topology costs are recorded for the summary.
 */
import { execFileSync } from "node:child_process";
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

/** Resident memory of every process in the clusters' network namespace, in MiB (from /proc). */
export function namespaceRssMiB(state: MeshState): number {
    let pids: string[] = [];
    try {
        pids = execFileSync("ip", ["netns", "pids", state.netns], { encoding: "utf8" })
            .split("\n")
            .filter(Boolean);
    } catch {
        return 0;
    }
    let kib = 0;
    for (const pid of pids) {
        try {
            const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
            kib += Number(m?.[1] ?? 0);
        } catch {
            // gone
        }
    }
    return Math.round(kib / 1024);
}

/** Samples `namespaceRssMiB` every second until stopped; returns the peak. */
export function sampleMemory(state: MeshState): () => number {
    let peak = namespaceRssMiB(state);
    const timer = setInterval(() => (peak = Math.max(peak, namespaceRssMiB(state))), 1000);
    timer.unref();
    return () => {
        clearInterval(timer);
        return Math.max(peak, namespaceRssMiB(state));
    };
}
