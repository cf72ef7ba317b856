/**
 * Root rotation (stacks/caRotation.ts): what each stage trusts and signs with, which step from the deployed
 * stage is safe, and how `mesh.ca.rotation` is read and refused in each CA mode.
 */
import { strict as assert } from "node:assert";
import { deployedRotation, RotationState, rotationStepProblem, trustPlan } from "../../stacks/caRotation";
import { validateTopology } from "../../stacks/validate";
import { fakeCertPem, mesh, primary, rawConfig } from "../support/fixtures";
import { labelledKey } from "../support/testPki";

const state = (generation: number, stage: RotationState["stage"]): RotationState => ({ generation, stage });

describe("root rotation", () => {
    describe("trustPlan", () => {
        it("adds the next root after the current one, then signs with it, then drops the old one", () => {
            assert.deepEqual(trustPlan({ generation: 1 }), {
                signing: 1,
                bundle: [1],
                roots: [1],
                intermediates: [1],
                multiRoot: false,
            });
            const at = (stage: "add" | "switch" | "finish") =>
                trustPlan({ generation: 1, rotation: { stage, intermediates: {} } });
            assert.deepEqual(at("add"), {
                signing: 1,
                bundle: [1, 2],
                roots: [1, 2],
                intermediates: [1],
                multiRoot: true,
            });
            assert.deepEqual(at("switch"), {
                signing: 2,
                bundle: [1, 2],
                roots: [1, 2],
                intermediates: [1, 2],
                multiRoot: true,
            });
            assert.deepEqual(at("finish"), {
                signing: 2,
                bundle: [2],
                roots: [2],
                intermediates: [2],
                multiRoot: true,
            });
        });

        it("is multi-root with a brought bundle of several roots, rotation or not", () => {
            const two = fakeCertPem("ROOT") + fakeCertPem("ROOTB", "ROOTB");
            assert.equal(trustPlan({ generation: 1, rootCertPem: two }).multiRoot, true);
            assert.equal(trustPlan({ generation: 1, rootCertPem: fakeCertPem("ROOT") }).multiRoot, false);
        });

        it("plans a finished rotation and the next generation alike", () => {
            assert.deepEqual(
                trustPlan({ generation: 1, rotation: { stage: "finish", intermediates: {} } }),
                trustPlan({ generation: 2 }),
            );
        });
    });

    describe("rotationStepProblem", () => {
        const ok = (from: RotationState | undefined, to: RotationState) =>
            assert.equal(
                rotationStepProblem(from, to),
                undefined,
                `${JSON.stringify(from)} -> ${JSON.stringify(to)}`,
            );
        const refused = (from: RotationState, to: RotationState, pattern: RegExp) => {
            const problem = rotationStepProblem(from, to);
            assert.ok(problem !== undefined, `${JSON.stringify(from)} -> ${JSON.stringify(to)} was allowed`);
            assert.match(problem, pattern);
        };

        it("allows staying, one stage forward, and any state on a stack never deployed", () => {
            ok(state(1, "none"), state(1, "none"));
            ok(state(1, "none"), state(1, "add"));
            ok(state(1, "add"), state(1, "switch"));
            ok(state(1, "switch"), state(1, "finish"));
            ok(state(1, "switch"), state(2, "none"));
            ok(state(1, "finish"), state(2, "none"));
            ok(state(2, "none"), state(2, "add"));
            ok(state(1, "finish"), state(2, "add"));
            ok(undefined, state(3, "switch"));
        });

        it("allows one stage back while the old root still exists", () => {
            ok(state(1, "add"), state(1, "none"));
            ok(state(1, "switch"), state(1, "add"));
        });

        it("refuses a skipped stage, naming where the stack is and the next stage", () => {
            refused(
                state(1, "none"),
                state(1, "switch"),
                /skips 1 stage .*left `mesh.ca.generation: 1` without `rotation`; the next stage is `mesh.ca.generation: 1` with `rotation.stage: add`/,
            );
            refused(state(1, "none"), state(1, "finish"), /skips 2 stages/);
            refused(state(1, "add"), state(2, "none"), /skips 1 stage.*`rotation.stage: switch`/);
            refused(state(1, "switch"), state(2, "add"), /skips 1 stage.*`rotation.stage: finish`/);
        });

        it("refuses undoing a finished rotation, or more than one stage at once", () => {
            refused(state(1, "finish"), state(1, "switch"), /goes back past a finished rotation/);
            refused(state(2, "none"), state(1, "switch"), /goes back past a finished rotation/);
            refused(
                state(1, "switch"),
                state(1, "none"),
                /goes back more than one stage.*next: `mesh.ca.generation: 1` with `rotation.stage: add`/,
            );
        });
    });

    describe("deployedRotation", () => {
        it("reads the recorded state; none for a stack never deployed; generation 1 for one before it", () => {
            assert.equal(deployedRotation({}), undefined);
            assert.deepEqual(deployedRotation({ rootCertPem: "x" }), state(1, "none"));
            assert.deepEqual(
                deployedRotation({ caRotation: { generation: 2, stage: "add" } }),
                state(2, "add"),
            );
            assert.deepEqual(
                deployedRotation({ caRotation: { generation: 0, stage: "add" } }),
                state(1, "none"),
            );
        });
    });

    describe("mesh.ca.rotation in config", () => {
        const read = (ca: Record<string, unknown>, secret = true) =>
            validateTopology(
                rawConfig(mesh({ ca }), [primary("cluster1", "n1"), primary("cluster2", "n2")], {
                    mesh: secret,
                }),
            );
        const problems = (ca: Record<string, unknown>) => {
            const r = read(ca);
            assert.ok(!r.ok, "accepted");
            return r.errors;
        };
        const key = "istio-multicluster:mesh.ca.rotation";
        const nextIntermediates = {
            cluster1: { cert: fakeCertPem("I1B", "ROOTB"), key: labelledKey("I1B", "ROOTB") },
            cluster2: { cert: fakeCertPem("I2B", "ROOTB"), key: labelledKey("I2B", "ROOTB") },
        };
        const current = {
            rootCert: fakeCertPem("ROOT"),
            intermediates: {
                cluster1: { cert: fakeCertPem("I1"), key: labelledKey("I1") },
                cluster2: { cert: fakeCertPem("I2"), key: labelledKey("I2") },
            },
        };

        it("reads a generated rotation and the generation", () => {
            const r = read({ generation: 3, rotation: { stage: "switch" } });
            assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
            assert.equal(r.topology.mesh.ca.generation, 3);
            assert.equal(r.topology.mesh.ca.rotation?.stage, "switch");
            const plain = read({});
            assert.ok(plain.ok);
            assert.equal(plain.topology.mesh.ca.generation, 1);
            assert.equal(plain.topology.mesh.ca.rotation, undefined);
        });

        it("refuses a missing or unknown stage, a bad generation, and unknown keys", () => {
            assert.deepEqual(problems({ generation: 0, rotation: { stag: "add" } }), [
                "istio-multicluster:mesh.ca.generation: must be a whole number of at least 1, got 0",
                `${key}.stag: unknown key; did you mean \`stage\`?`,
                `${key}.stage: required; set it to the stage this \`pulumi up\` carries out: add, switch, finish (in that order, one \`up\` each)`,
            ]);
            assert.deepEqual(problems({ rotation: { stage: "begin" } }), [
                `${key}.stage: "begin" is not one of: add, switch, finish`,
            ]);
        });

        it("refuses a brought next root when the current root is generated", () => {
            assert.deepEqual(problems({ rotation: { stage: "add", rootCert: fakeCertPem("ROOTB") } }), [
                `${key}.rootCert: the next root is generated here, as the current one is (no \`mesh.ca.rootCert\`); remove it, or bring the current root too`,
            ]);
        });

        it("needs the next root and its secret key with an external root, and not the current one again", () => {
            // Test roots live two years: intermediates issued here must expire before them.
            const base = {
                rootCert: fakeCertPem("ROOT"),
                rootKey: labelledKey("ROOT"),
                intermediateValidityDays: 365,
            };
            const ok = read({
                ...base,
                rotation: { stage: "add", rootCert: fakeCertPem("ROOTB"), rootKey: labelledKey("ROOTB") },
            });
            assert.ok(ok.ok, ok.ok ? "" : ok.errors.join("\n"));
            assert.equal(ok.topology.mesh.ca.rotation?.rootCertPem, fakeCertPem("ROOTB"));
            assert.deepEqual(problems({ ...base, rotation: { stage: "add" } }), [
                `${key}.rootCert: required; set it to the next root's certificate (PEM)`,
                `${key}.rootKey: required with \`mesh.ca.rootKey\`; set it with \`pulumi config set --secret --path '${key}.rootKey' < key.pem\``,
            ]);
            assert.deepEqual(
                problems({
                    ...base,
                    rotation: { stage: "add", rootCert: fakeCertPem("ROOT"), rootKey: labelledKey("ROOT") },
                }),
                [`${key}.rootCert: is the current root (\`mesh.ca.rootCert\`); bring the new root here`],
            );
            const plain = read(
                {
                    ...base,
                    rotation: { stage: "add", rootCert: fakeCertPem("ROOTB"), rootKey: labelledKey("ROOTB") },
                },
                false,
            );
            assert.ok(!plain.ok);
            assert.ok(
                plain.errors.some((e) => e.startsWith(`${key}.rootKey: holds key material in plain text`)),
            );
            assert.ok(!plain.errors.join("\n").includes("PRIVATE KEY"), "a key was echoed");
        });

        it("needs every primary's intermediate under the next root from `switch`, with brought intermediates", () => {
            const add = read({ ...current, rotation: { stage: "add", rootCert: fakeCertPem("ROOTB") } });
            assert.ok(add.ok, add.ok ? "" : add.errors.join("\n"));
            assert.deepEqual(
                problems({ ...current, rotation: { stage: "switch", rootCert: fakeCertPem("ROOTB") } }),
                [
                    `${key}.intermediates: required from stage \`switch\`: every primary's intermediate issued by the next root`,
                ],
            );
            assert.deepEqual(
                problems({
                    ...current,
                    rotation: {
                        stage: "switch",
                        rootCert: fakeCertPem("ROOTB"),
                        intermediates: { cluster1: nextIntermediates.cluster1 },
                    },
                }),
                [
                    `${key}.intermediates.cluster2: missing; every primary needs its intermediate CA (\`cert\` and a secret \`key\`)`,
                ],
            );
            const switched = read({
                ...current,
                rotation: {
                    stage: "switch",
                    rootCert: fakeCertPem("ROOTB"),
                    intermediates: nextIntermediates,
                },
            });
            assert.ok(switched.ok, switched.ok ? "" : switched.errors.join("\n"));
            assert.deepEqual(Object.keys(switched.topology.mesh.ca.rotation!.intermediates).sort(), [
                "cluster1",
                "cluster2",
            ]);
        });

        it("refuses an intermediate that does not chain to the next root, and a root key beside intermediates", () => {
            const found = problems({
                ...current,
                rotation: {
                    stage: "switch",
                    rootCert: fakeCertPem("ROOTB"),
                    rootKey: labelledKey("ROOTB"),
                    intermediates: { ...nextIntermediates, cluster2: current.intermediates.cluster2 },
                },
            });
            // The test certificates are made seconds apart, so an expiry comparison may also speak; these must.
            for (const expected of [
                `${key}.rootKey: the root key never enters the program when intermediates are brought; bring every primary's intermediate under the next root in \`rotation.intermediates\` instead`,
                `${key}.intermediates.cluster2.cert: does not chain to \`mesh.ca.rotation.rootCert\`; issue the intermediate from that root (with any certificates in between in \`chain\`), or every cluster's workloads will refuse it`,
            ])
                assert.ok(found.includes(expected), `missing: ${expected}\nin: ${found.join("\n")}`);
            assert.ok(!found.some((e) => e.includes("cluster1")), found.join("\n"));
        });
    });
});
