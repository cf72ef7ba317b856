/**
 * A refused config under the Pulumi CLI: the program runs through `@pulumi/pulumi/cmd/run`, the entry point
 * the CLI's Node.js language host starts, against a monitor and engine served by the test. The CLI prints
 * what the program logs to the engine; a refusal must be logged once, as the problem list, without a trace.
 */
import { strict as assert } from "node:assert";
import { runUnderLanguageHost } from "../support/languageHost";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";

describe("a refused config under the language host's entry point", function () {
    // Node start-up plus ts-node transpiling the program.
    this.timeout(60000);

    const problems = [
        `istio-multicluster:mesh.meshId: "Mesh_1" is not a DNS-1123 label (lower-case letters, digits and '-', ` +
            `starting and ending with a letter or digit)`,
        `istio-multicluster:clusters[1].primary: "cluster9" is no cluster of the mesh; a primary is removed only once no remote names it: move this remote to another primary (primaries are: cluster1) or remove it too`,
    ];
    const message =
        "the stack configuration describes no possible mesh (2 problems):\n" +
        problems.map((p) => `  - ${p}`).join("\n");

    for (const dryRun of [true, false]) {
        it(`prints the problems once, with no stack trace, and registers nothing (${dryRun ? "preview" : "up"})`, async () => {
            const run = await runUnderLanguageHost(
                stackConfig(mesh({ meshId: "Mesh_1" }), [
                    primary("cluster1", "network1"),
                    remote("cluster2", "cluster9", "network2"),
                ]),
                { dryRun },
            );
            const errors = run.logs.filter((l) => l.severity === "error").map((l) => l.message);
            assert.deepEqual(errors, [message], `stderr:\n${run.stderr}`);
            const everything = [...run.logs.map((l) => l.message), run.stdout, run.stderr].join("\n");
            for (const p of problems) {
                assert.equal(
                    everything.split(p).length - 1,
                    1,
                    `printed more than once: ${p}\n${everything}`,
                );
            }
            assert.doesNotMatch(everything, /^\s+at /m, "a stack trace was printed");
            assert.doesNotMatch(everything, /unhandled exception/);
            assert.deepEqual(run.registered, ["pulumi:pulumi:Stack::istio-multicluster-test"]);
            assert.notEqual(run.code, 0);
        });
    }
});

describe("top-level config keys under the language host's entry point", function () {
    this.timeout(60000);

    it("a misspelt key beside the valid ones is refused (read from PULUMI_CONFIG), and nothing secret is printed", async () => {
        const run = await runUnderLanguageHost(
            stackConfig(
                mesh(),
                [
                    primary("cluster1", "network1", {
                        context: "apiVersion: v1\nusers: [{user: {token: s3cr3t}}]",
                    }),
                    remote("cluster2", "cluster1", "network2"),
                ],
                { extra: { "istio-multicluster:cluster": [{ name: "cluster3" }] } },
            ),
            { dryRun: true },
        );
        const errors = run.logs.filter((l) => l.severity === "error").map((l) => l.message);
        assert.deepEqual(
            errors,
            [
                "the stack configuration describes no possible mesh (2 problems):\n" +
                    "  - istio-multicluster:cluster: unknown key; did you mean `istio-multicluster:clusters`?\n" +
                    "  - istio-multicluster:clusters[0].context: is not a context name (not shown: it looks like a " +
                    "kubeconfig or a credential); name a context of your kubeconfig file, or put a kubeconfig in " +
                    "`kubeconfig` as a secret",
            ],
            `stderr:\n${run.stderr}`,
        );
        const everything = [...run.logs.map((l) => l.message), run.stdout, run.stderr].join("\n");
        assert.doesNotMatch(everything, /s3cr3t/);
        assert.deepEqual(run.registered, ["pulumi:pulumi:Stack::istio-multicluster-test"]);
        assert.notEqual(run.code, 0);
    });
});
