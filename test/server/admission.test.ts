/**
 * The server tier: every object of every tested topology, admitted by real API servers (Kubernetes 1.36,
 * built from k8s.io/kubernetes) with Istio's CRDs, the charts' own ValidatingAdmissionPolicies and webhooks,
 * defaulting, and a real istiod answering injection and validation. Run for every Istio version whose charts
 * are in ../shared/reference. What it cannot show: no container runs, so no Envoy and no traffic.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { repoRoot } from "../../tools/planner";
import { topologyCases } from "../support/topologyCases";
import { renderRefusals } from "./support/apply";
import { sampleMemory, startClusters, stopClusters } from "./support/clusters";
import { clusterNames, runTopology, TierResult, versionsUnderTest } from "./support/tier";

const referenceRoot = path.resolve(repoRoot, "..", "shared", "reference");
const kubeVersion = "1.36.3";
const only = process.env.SERVER_TIER_ONLY;

describe("server tier: every object admitted by a real API server", function () {
    this.timeout(600_000);
    const results: TierResult[] = [];
    const peaks: { clusters: number; mib: number }[] = [];
    after(() => {
        const admitted = results.reduce((n, r) => n + r.admitted, 0);
        const refused = results.reduce((n, r) => n + r.refused.length, 0);
        const deployments = results.reduce((n, r) => n + r.deployments, 0);
        const seconds = results.reduce((n, r) => n + r.millis, 0) / 1000;
        console.log(
            `      server tier: ${results.length} topology runs, ${admitted} objects admitted, ${refused} refused, ` +
                `${deployments} Deployments (${results.reduce((n, r) => n + r.unavailable.length, 0)} not Available), ` +
                `${results.reduce((n, r) => n + r.injected, 0)} Pods injected by the real istiod, ` +
                `${seconds.toFixed(0)} s of topology time`,
        );
        for (const n of [...new Set(peaks.map((p) => p.clusters))].sort()) {
            const mib = Math.max(...peaks.filter((p) => p.clusters === n).map((p) => p.mib));
            console.log(`      peak memory of ${n} local clusters with their istiods: ${mib} MiB`);
        }
    });

    for (const v of versionsUnderTest(referenceRoot, kubeVersion)) {
        describe(`Istio ${v.version}`, () => {
            for (const c of topologyCases.filter((x) => !only || x.label.includes(only))) {
                it(`${c.label}: admitted, and every Deployment Available`, async function () {
                    const base = c.config();
                    const state = await startClusters(clusterNames(base), c.lb, c.label);
                    const peak = sampleMemory(state);
                    let ok = false;
                    let failure: Error | undefined;
                    try {
                        const r = await runTopology(c, base, state, v, 90_000);
                        results.push(r);
                        peaks.push({ clusters: r.clusters, mib: peak() });
                        assert.deepEqual(r.refused, [], `refused:\n${renderRefusals(r.refused)}`);
                        assert.ok(r.admitted > 0, "nothing was applied");
                        if (r.gateways) {
                            assert.ok(r.injected > 0, "no Pod was injected: the gateways' Pods must be");
                        }
                        assert.deepEqual(
                            r.unavailable,
                            [],
                            `not Available:\n  ${r.unavailable.join("\n  ")}`,
                        );
                        ok = true;
                    } catch (e) {
                        failure = e instanceof Error ? e : new Error(String(e));
                    }
                    // Stopped whatever happened (unless SERVER_TIER_KEEP_FAILED=1 keeps a failed topology's
                    // clusters running to look at); the folder (logs) is kept when the topology failed.
                    if (ok || process.env.SERVER_TIER_KEEP_FAILED !== "1") await stopClusters(state, !ok);
                    else
                        console.log(
                            `      kept running: KUBECONFIG=${state.dir}/kubeconfig; npm run clusters -- down --dir ${state.dir}`,
                        );
                    if (failure) throw failure;
                });
            }
        });
    }
});
