/**
 * The offline plan: the JSON document's shape, determinism, no key material in any output, and the CLI's
 * exit codes and messages.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { evaluatePolicies, loadPolicyConfig } from "../../tools/policyRunner";
import {
    loadConfigFile,
    loadStackFile,
    plan,
    planDocument,
    repoRoot,
    StackConfig,
} from "../../tools/planner";
import { renderTree } from "../../tools/render";
import { labelledKey } from "../support/testPki";
import { fakeCertPem, mesh, primary, remote, stackConfig, topologies } from "../support/fixtures";

/** Runs the CLI as `npm run plan` does. */
function cli(...args: string[]) {
    return spawnSync(process.execPath, ["--import", "tsx", "tools/plan.ts", ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 30_000,
    });
}

async function planText(config: StackConfig): Promise<{ json: string; tree: string }> {
    const p = await plan(config);
    return { json: JSON.stringify(planDocument(p), null, 2), tree: renderTree(p) };
}

describe("plan", () => {
    describe("planDocument", () => {
        it("has the stack and, per resource, exactly urn, type, name, parent, cluster, dependsOn, inputs", async () => {
            const doc = planDocument(await plan(loadStackFile("dev")));
            assert.deepEqual(Object.keys(doc), ["stack", "resources"]);
            assert.equal(doc.stack, "dev");
            assert.ok(doc.resources.length > 0);
            const urns = doc.resources.map((r) => r.urn);
            assert.deepEqual(urns, [...urns].sort(), "resources are not sorted by URN");
            assert.equal(new Set(urns).size, urns.length, "duplicate URNs");
            for (const r of doc.resources) {
                const keys = Object.keys(r).filter((k) => k !== "read");
                assert.deepEqual(
                    keys,
                    ["urn", "type", "name", "parent", "cluster", "dependsOn", "inputs"],
                    r.urn,
                );
                assert.equal(typeof r.type, "string");
                // The URN's type part is the parent's type chain, `$`-separated, then the resource's own.
                assert.ok(
                    r.urn.endsWith(`::${r.type}::${r.name}`) || r.urn.endsWith(`$${r.type}::${r.name}`),
                    r.urn,
                );
                assert.ok(r.parent === null || urns.includes(r.parent), `${r.urn}: parent ${r.parent}`);
                assert.ok(r.cluster === null || typeof r.cluster === "string");
                assert.ok(Array.isArray(r.dependsOn) && r.dependsOn.every((d) => urns.includes(d)), r.urn);
                assert.equal(typeof r.inputs, "object");
                if ("read" in r) assert.equal(typeof (r as { read: unknown }).read, "string");
            }
            assert.equal(doc.resources.filter((r) => r.parent === null).length, 1, "one root: the stack");
        });

        it("is byte-identical for two runs of the same config, as is the tree", async () => {
            const t = topologies.threePrimariesAndRemote();
            const first = await planText(stackConfig(t.mesh, t.clusters));
            const second = await planText(stackConfig(t.mesh, t.clusters));
            assert.equal(second.json, first.json);
            assert.equal(second.tree, first.tree);
        });
    });

    describe("key material", () => {
        // One real key, made once: the tests look for its PEM and its base64 body in every output.
        const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
        const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        const keyBody = keyPem.split("\n")[1]!;
        const token = "t0ken-" + crypto.createHash("sha256").update(keyPem).digest("hex");
        const kubeconfig = `apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: ${token}}}]\n`;
        // The intermediate's own key: the validator refuses a key that is not the certificate's.
        const intKeyPem = labelledKey("INT");
        const intKeyBody = intKeyPem.split("\n")[1]!;

        function assertClean(text: string, what: string) {
            assert.ok(!text.includes("PRIVATE KEY"), `${what} holds a PEM private key`);
            assert.ok(!text.includes(keyBody), `${what} holds the key's body`);
            assert.ok(!text.includes(token), `${what} holds the kubeconfig token`);
            assert.ok(!text.includes("v1:SECURE"), `${what} holds a secure config value`);
        }

        it("a `secure:` key in the stack file is opaque before the program sees it", async () => {
            const config = stackConfig(
                mesh({ ca: { rootCert: fakeCertPem("ROOT"), rootKey: { secure: keyPem } } }),
                [
                    primary("cluster1", "network1", {
                        context: undefined,
                        kubeconfig: { secure: kubeconfig },
                    }),
                    remote("cluster2", "cluster1", "network2"),
                ],
            );
            assertClean(JSON.stringify(config), "the stack config");
            assert.deepEqual(config.secretKeys, ["istio-multicluster:clusters", "istio-multicluster:mesh"]);
            const { json, tree } = await planText(config);
            assertClean(json, "the JSON plan");
            assertClean(tree, "the tree");
        });

        // Held as secret config but given to the program in plain text: what the real CLI does after decryption.
        const inMemory = (meshDoc: Record<string, unknown>, clusters: unknown[]): StackConfig => {
            const base = stackConfig(meshDoc, clusters);
            return { ...base, secretKeys: ["istio-multicluster:clusters", "istio-multicluster:mesh"] };
        };

        it("a decrypted root key and kubeconfig never reach the JSON plan or the tree", async () => {
            const config = inMemory(mesh({ ca: { rootCert: fakeCertPem("ROOT"), rootKey: keyPem } }), [
                primary("cluster1", "network1", { context: undefined, kubeconfig }),
                remote("cluster2", "cluster1", "network2"),
            ]);
            assert.ok(
                config.values["istio-multicluster:mesh"]!.includes("PRIVATE KEY"),
                "the key is not in the config",
            );
            const p = await plan(config);
            // The key was used: it signs the intermediate.
            assert.ok(
                JSON.stringify(p.resources).includes(keyBody),
                "the root key did not reach the program",
            );
            assertClean(JSON.stringify(planDocument(p), null, 2), "the JSON plan");
            assertClean(renderTree(p), "the tree");
            assertClean(JSON.stringify(p.outputs), "the stack outputs");
        });

        it("a decrypted intermediate key, known in a preview, never reaches the JSON plan or the tree", async () => {
            const t = topologies.primaryRemoteMultiNetwork();
            const config = inMemory(
                mesh({
                    ca: {
                        rootCert: fakeCertPem("ROOT"),
                        intermediates: { cluster1: { cert: fakeCertPem("INT"), key: intKeyPem } },
                    },
                }),
                t.clusters,
            );
            const p = await plan(config);
            const cacerts = p.resources.find((r) => r.name === "mesh1-cluster1-cacerts");
            assert.ok(
                cacerts && JSON.stringify(cacerts.rawInputs).includes(intKeyBody),
                "the key is not in cacerts",
            );
            for (const [text, what] of [
                [JSON.stringify(planDocument(p), null, 2), "the JSON plan"],
                [renderTree(p), "the tree"],
            ] as const) {
                assertClean(text, what);
                assert.ok(!text.includes(intKeyBody), `${what} holds the intermediate key's body`);
            }
        });
    });

    describe("the CLI", () => {
        it("--json into a pipe read slowly: the whole document, past the pipe's 64 KiB buffer", () => {
            // The reader sleeps first, so the pipe is full when the plan is done: exiting before stdout is
            // flushed would cut the document at 64 KiB.
            const run = spawnSync(
                "sh",
                [
                    "-c",
                    `"${process.execPath}" --import tsx tools/plan.ts --stack prod --json </dev/null | (sleep 1; cat)`,
                ],
                { cwd: repoRoot, encoding: "utf8", timeout: 30_000 },
            );
            assert.ok(run.stdout.length > 65536, `${run.stdout.length} bytes`);
            assert.doesNotThrow(() => JSON.parse(run.stdout));
        });

        it("defers the SDK modules a plan never calls, which still load on first use", () => {
            const probe = (script: string) =>
                spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
                    cwd: repoRoot,
                    encoding: "utf8",
                });
            const loaded =
                "console.log(['/automation/localWorkspace', '/arborist/', '/typescript/']" +
                ".map((p) => Object.keys(require.cache).some((k) => k.includes(p))));";
            const deferred = probe(
                "require('./tools/lazySdk').deferUnusedSdkModules(); const p = require('@pulumi/pulumi'); " +
                    loaded +
                    " console.log(typeof p.automation.LocalWorkspace, typeof p.runtime.serializeFunction); " +
                    loaded,
            );
            assert.equal(
                deferred.stdout,
                "[ false, false, false ]\nfunction function\n[ true, false, false ]\n",
                deferred.stderr,
            );
            // Importing the module from elsewhere (as tests do) installs nothing: the SDK loads the Automation API
            // and the TypeScript compiler as usual (npm's arborist it has loaded lazily itself since 3.276).
            const imported = probe("require('./tools/lazySdk'); require('@pulumi/pulumi'); " + loaded);
            assert.equal(imported.stdout, "[ true, false, true ]\n", imported.stderr);
        });

        it("drops stack traces, source maps and promise tags in its own process only, unless PLAN_STACK_TRACES=1", () => {
            const probe = (env: Record<string, string>) =>
                spawnSync(
                    process.execPath,
                    [
                        "--import",
                        "tsx",
                        "-e",
                        "require('./tools/plan').dropStackTraces(); " +
                            "const p = Promise.resolve(1); " +
                            "const tagged = require('@pulumi/pulumi/runtime/debuggable').debuggablePromise(p, 'x'); " +
                            "console.log(Error.stackTraceLimit, process.sourceMapsEnabled, tagged === p && !('_debugId' in p))",
                    ],
                    { cwd: repoRoot, encoding: "utf8", env: { ...process.env, ...env } },
                ).stdout.trim();
            assert.equal(probe({ PLAN_STACK_TRACES: "" }), "0 false true");
            assert.equal(probe({ PLAN_STACK_TRACES: "1" }), "10 true false");
            // Importing the CLI's module (as the tests do) changes nothing.
            assert.ok(Error.stackTraceLimit > 0);
        });

        it("--stack dev --json: exit 0 and the plan document, as planDocument makes it, with the policy results", async () => {
            const run = cli("--stack", "dev", "--json");
            assert.equal(run.status, 0, run.stderr);
            const p = await plan(loadStackFile("dev"));
            const policy = (
                await evaluatePolicies(p.resources, loadPolicyConfig("policies/config.dev.json"))
            ).map(({ policy, level, urn, message }) => ({ policy, level, urn, message }));
            assert.ok(
                policy.length > 0 && policy.every((v) => v.level === "advisory"),
                "dev: advisories only",
            );
            assert.equal(run.stdout, JSON.stringify({ ...planDocument(p), policy }, null, 2) + "\n");
        });

        it("--config with --policy-config: exit 1 on a mandatory violation, each reported once", async () => {
            const file = "test/policies/fixtures/Pulumi.broken.yaml";
            const run = cli("--config", file, "--policy-config", "policies/config.prod.json", "--json");
            assert.equal(run.status, 1, run.stderr);
            const doc = JSON.parse(run.stdout) as {
                policy: { policy: string; urn: string; level: string }[];
            };
            const expected = await evaluatePolicies(
                (await plan(loadConfigFile(file))).resources,
                loadPolicyConfig("policies/config.prod.json"),
            );
            assert.deepEqual(
                doc.policy,
                expected.map(({ policy, level, urn, message }) => ({ policy, level, urn, message })),
            );
            const keys = doc.policy.map((v) => `${v.policy} ${v.urn}`);
            assert.equal(new Set(keys).size, keys.length, "a break is reported once");
            assert.ok(doc.policy.some((v) => v.level === "mandatory"));
        });

        it("--config with a refused config: exit 2, every problem on stderr, no stack trace", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-test-"));
            try {
                const file = path.join(dir, "Pulumi.broken.yaml");
                fs.writeFileSync(
                    file,
                    YAML.stringify({
                        config: {
                            "istio-multicluster:mesh": { meshID: "mesh1", istio: { version: "latest" } },
                            "istio-multicluster:clusters": [
                                primary("cluster1", "network1"),
                                remote("cluster2", "cluster9", "network2"),
                            ],
                        },
                    }),
                );
                const run = cli("--config", file);
                assert.equal(run.status, 2, run.stdout);
                assert.equal(run.stdout, "");
                assert.equal(
                    run.stderr,
                    [
                        "plan refused: the stack configuration describes no possible mesh (4 problems):",
                        "  - istio-multicluster:mesh.meshID: unknown key; did you mean `meshId`?",
                        "  - istio-multicluster:mesh.meshId: required; set it to a DNS-1123 label (lower-case " +
                            "letters, digits and '-', starting and ending with a letter or digit)",
                        '  - istio-multicluster:mesh.istio.version: "latest" is not an exact version such as ' +
                            "1.30.3 (no ranges, no `latest`)",
                        '  - istio-multicluster:clusters[1].primary: "cluster9" is no cluster of the mesh; a ' +
                            "primary is removed only once no remote names it: move this remote to another primary " +
                            "(primaries are: cluster1) or remove it too",
                        "",
                    ].join("\n"),
                );
                assert.doesNotMatch(run.stderr, /^\s+at /m);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
