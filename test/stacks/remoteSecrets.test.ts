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
    readerTokenSuffix,
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

describe("reader token rotation (mesh.readerTokens)", () => {
    const P = "istio-multicluster:mesh.readerTokens";
    const read = (readerTokens: unknown, istio: unknown = { version: "1.30.4" }) =>
        validateTopology(rawConfig(mesh({ istio, readerTokens }), [primary("a", "n1"), primary("b", "n2")]));

    it("names the token Secret after the rotation asked for, and never moves it otherwise", () => {
        const now = new Date("2026-12-07T12:00:00Z");
        assert.equal(readerTokenSuffix(undefined, now), "");
        assert.equal(readerTokenSuffix({ rotation: "0" }, now), "", "rotation 0 is istioctl's name");
        assert.equal(readerTokenSuffix({ rotation: "3" }, now), "-3");
        assert.equal(readerTokenSuffix({ rotation: "2026-12-07" }, now), "-2026-12-07");
        // By age: the same suffix through a period, a new one at the first `up` of the next.
        const day = 86_400_000;
        const start = Math.floor(now.getTime() / day / 30) * 30 * day;
        assert.equal(readerTokenSuffix({ maxAgeDays: 30 }, new Date(start)), `-a${start / day / 30}`);
        assert.equal(
            readerTokenSuffix({ maxAgeDays: 30 }, new Date(start + 30 * day - 1)),
            `-a${start / day / 30}`,
        );
        assert.equal(
            readerTokenSuffix({ maxAgeDays: 30 }, new Date(start + 30 * day)),
            `-a${start / day / 30 + 1}`,
        );
        assert.equal(
            readerTokenSuffix({ rotation: "2", maxAgeDays: 30 }, new Date(start)),
            `-2-a${start / day / 30}`,
        );
    });

    it("reads a counter or a date, and an age on Istio 1.30.4 or later", () => {
        for (const [given, rotation] of [
            [4, "4"],
            ["4", "4"],
            ["2026-12-07", "2026-12-07"],
        ] as const) {
            const r = read({ rotation: given });
            assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
            assert.deepEqual(r.topology.mesh.readerTokens, { rotation });
        }
        const aged = read({ maxAgeDays: 90 });
        assert.ok(aged.ok);
        assert.deepEqual(aged.topology.mesh.readerTokens, { maxAgeDays: 90 });
    });

    it("refuses what is no rotation, and an unattended rotation below Istio 1.30.4, naming the floor", () => {
        const errors = (r: ReturnType<typeof read>) => (r.ok ? [] : r.errors);
        assert.deepEqual(errors(read({ rotation: -1, maxAgeDays: 0, every: 3 })), [
            `${P}.every: unknown key; allowed keys are: rotation, maxAgeDays`,
            `${P}.rotation: must be a whole number of at least 0 or a date (2026-12-07), got -1`,
            `${P}.maxAgeDays: must be a whole number of at least 1, got 0`,
        ]);
        assert.deepEqual(errors(read({ rotation: "2026-02-30" })), [
            `${P}.rotation: must be a whole number of at least 0 or a date (2026-12-07), got "2026-02-30"; change it to issue new reader tokens at the next \`up\``,
        ]);
        assert.deepEqual(errors(read("yes")), [
            `${P}: must be a map with \`rotation\` and/or \`maxAgeDays\`, got "yes"`,
        ]);
        assert.deepEqual(
            errors(
                read(
                    { maxAgeDays: 30 },
                    {
                        revisions: [
                            { name: "a", version: "1.30.3" },
                            { name: "b", version: "1.31.1" },
                        ],
                        tags: { default: "b" },
                    },
                ),
            ),
            [
                `${P}.maxAgeDays: an unattended rotation needs Istio 1.30.4 or later in every revision (this mesh runs 1.30.3): before it, istiod could lose a remote cluster's endpoints or network gateway when its remote secret changed (istio/istio#60612, #60920, #61043); upgrade first, or rotate with \`rotation\` and check \`npm run verify\` after the \`up\``,
            ],
        );
        // An attended rotation (a counter an operator changes and checks) is every version's.
        assert.ok(read({ rotation: 1 }, { version: "1.29.6" }).ok);
    });
});
