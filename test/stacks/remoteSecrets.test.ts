/**
 * The remote secret layouts: which Secrets each makes, the per-reader size bound, and `mesh.remoteSecrets`
 * in the validator.
 */
import { strict as assert } from "node:assert";
import {
    maxClustersPerReaderSecret,
    remoteSecretSpecs,
    secretSizeLimit,
    kubeconfigBudget,
} from "../../stacks/remoteSecrets";
import { validateTopology } from "../../stacks/validate";
import { mesh, primary, rawConfig } from "../support/fixtures";

const links = [
    { reader: "a", source: "b" },
    { reader: "a", source: "c" },
    { reader: "b", source: "a" },
    { reader: "b", source: "c" },
];

describe("remote secret layouts (stacks)", () => {
    it("per-cluster: a Secret per link, named after the cluster read", () => {
        assert.deepEqual(remoteSecretSpecs(links, "per-cluster"), [
            { reader: "a", name: "istio-remote-secret-b", sources: ["b"] },
            { reader: "a", name: "istio-remote-secret-c", sources: ["c"] },
            { reader: "b", name: "istio-remote-secret-a", sources: ["a"] },
            { reader: "b", name: "istio-remote-secret-c", sources: ["c"] },
        ]);
    });
    it("per-reader: one Secret per reader, every cluster it reads", () => {
        assert.deepEqual(remoteSecretSpecs(links, "per-reader"), [
            { reader: "a", name: "istio-remote-secrets", sources: ["b", "c"] },
            { reader: "b", name: "istio-remote-secrets", sources: ["a", "c"] },
        ]);
    });
    it("bounds a per-reader Secret by the 1 MiB limit at 6 KiB a kubeconfig: 168 clusters", () => {
        assert.equal(maxClustersPerReaderSecret, 168);
        assert.ok(maxClustersPerReaderSecret * kubeconfigBudget < secretSizeLimit);
    });

    describe("mesh.remoteSecrets", () => {
        const clusters = (n: number) =>
            Array.from({ length: n }, (_, i) => primary(`c${i + 1}`, `n${i + 1}`));
        it("is absent from the topology unless per-reader (so per-cluster plans stay as they were)", () => {
            for (const [value, expected] of [
                [undefined, undefined],
                ["per-cluster", undefined],
                ["per-reader", "per-reader"],
            ] as const) {
                const r = validateTopology(
                    rawConfig(mesh(value ? { remoteSecrets: value } : {}), clusters(2)),
                );
                assert.ok(r.ok);
                assert.equal(r.topology.mesh.remoteSecrets, expected);
            }
        });
        it("refuses another value, and per-reader past the size bound, naming the key", () => {
            const bad = validateTopology(rawConfig(mesh({ remoteSecrets: "per-pair" }), clusters(2)));
            assert.ok(!bad.ok);
            assert.deepEqual(bad.errors, [
                'istio-multicluster:mesh.remoteSecrets: "per-pair" is not one of: per-cluster, per-reader',
            ]);
            assert.ok(validateTopology(rawConfig(mesh({ remoteSecrets: "per-reader" }), clusters(169))).ok);
            const big = validateTopology(rawConfig(mesh({ remoteSecrets: "per-reader" }), clusters(170)));
            assert.ok(!big.ok);
            assert.deepEqual(big.errors, [
                "istio-multicluster:mesh.remoteSecrets: per-reader puts 169 kubeconfigs in each primary's one " +
                    "Secret, more than the 168 that fit in Kubernetes' 1 MiB Secret limit; use per-cluster",
            ]);
        });
    });
});
