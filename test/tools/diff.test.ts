/**
 * The offline plan diff: leaf-level input changes, golden Markdown for the three changes a reviewer meets most
 * (a cluster added, a cluster removed, a value changed), secrets kept as `[secret]`, and `--diff <git ref>`
 * end to end in a throwaway repository.
 *
 * The goldens are the real program's plans of the dev stack: when the program legitimately changes what it
 * creates, regenerate them with `UPDATE_GOLDEN=1 npx mocha test/tools/diff.test.ts` and review the diff.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { diffPlans, inputChanges, PlanDoc, readPlanDoc, renderDiffMarkdown } from "../../tools/diff";
import { mermaidTopology } from "../../tools/mermaid";
import { plan, planDocument, repoRoot, stackConfigFromDocument } from "../../tools/planner";
import { evaluatePolicies, loadPolicyConfig } from "../../tools/policyRunner";

const golden = path.join(__dirname, "golden");

/** The dev stack file's document, fresh each time, for a test to change. */
function devDoc(): { config: Record<string, unknown> } {
    return YAML.parse(fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
}

type ClusterDoc = Record<string, unknown>;
const clustersOf = (doc: { config: Record<string, unknown> }) =>
    doc.config["istio-multicluster:clusters"] as ClusterDoc[];

/** Plans a dev-stack document as `npm run plan -- --json` would: the plan document and the policy results. */
async function planOf(doc: unknown): Promise<{ doc: PlanDoc; mermaid: string }> {
    const p = await plan(stackConfigFromDocument("dev", doc, "Pulumi.dev.yaml"));
    const violations = await evaluatePolicies(
        p.resources,
        loadPolicyConfig(path.join(repoRoot, "policies", "config.dev.json")),
    );
    const policy = violations.map(({ policy, level, urn, message }) => ({ policy, level, urn, message }));
    return { doc: { ...planDocument(p), policy }, mermaid: mermaidTopology(p.outputs) };
}

function assertGolden(name: string, actual: string): void {
    const file = path.join(golden, name);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(golden, { recursive: true });
        fs.writeFileSync(file, actual);
    }
    assert.equal(
        actual,
        fs.readFileSync(file, "utf8"),
        `${name} differs: if the program's change is intended, UPDATE_GOLDEN=1 npx mocha test/tools/diff.test.ts`,
    );
}

/** dev with a third cluster: a remote of cluster1 on its own network. */
function devWithCluster3() {
    const doc = devDoc();
    clustersOf(doc).push({
        name: "cluster3",
        role: "remote",
        primary: "cluster1",
        network: "network3",
        context: "kind-cluster3",
        apiServer: "https://172.18.0.4:6443",
        eastWest: { address: "172.18.0.4" },
    });
    return doc;
}

describe("plan diff", () => {
    describe("inputChanges", () => {
        it("lists changed leaves by path, absent sides left out, and compares arrays of another length whole", () => {
            assert.deepEqual(
                inputChanges(
                    { a: { b: 1, c: [1, 2] }, d: "x", e: [1], gone: true },
                    { a: { b: 2, c: [1, 3] }, d: "x", e: [1, 2], added: "[secret]" },
                ),
                [
                    { path: "a.b", before: 1, after: 2 },
                    { path: "a.c[1]", before: 2, after: 3 },
                    { path: "added", after: "[secret]" },
                    { path: "e", before: [1], after: [1, 2] },
                    { path: "gone", before: true },
                ],
            );
        });

        it("is empty for equal values", () => {
            assert.deepEqual(inputChanges({ a: [1, { b: null }] }, { a: [1, { b: null }] }), []);
        });
    });

    describe("bases", () => {
        it("an empty base (a new stack): every resource added, every cluster marked added", () => {
            const head: PlanDoc = {
                stack: "s",
                resources: [
                    {
                        urn: "u:p",
                        type: "pulumi:providers:kubernetes",
                        name: "c1",
                        parent: null,
                        cluster: "c1",
                        dependsOn: [],
                        inputs: {},
                    },
                    {
                        urn: "u:c",
                        type: "multicluster:pki:TrustAnchor",
                        name: "m",
                        parent: null,
                        cluster: null,
                        dependsOn: [],
                        inputs: {},
                    },
                    {
                        urn: "u:k",
                        type: "tls:index/privateKey:PrivateKey",
                        name: "k",
                        parent: "u:c",
                        cluster: null,
                        dependsOn: [],
                        inputs: {},
                    },
                ],
                policy: [],
            };
            const d = diffPlans({ stack: "s", resources: [], policy: [] }, head, "`main`");
            assert.deepEqual(d.counts, { add: 3, remove: 0, modify: 0, same: 0 });
            assert.deepEqual(
                d.sections.map((x) => [x.cluster, x.status, x.added.map((r) => r.name)]),
                [
                    ["c1", "added", ["c1"]],
                    [null, "changed", ["m", "k"]],
                ],
            );
        });

        it("a base file that is not a plan document is refused, naming it", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-file-"));
            try {
                const file = path.join(dir, "base.json");
                fs.writeFileSync(file, JSON.stringify({ resources: "no" }));
                assert.throws(() => readPlanDoc(file), {
                    name: "PlanRefused",
                    message: `--diff ${file}: not a plan document (npm run plan -- --json): it needs \`stack\` and \`resources\``,
                });
                fs.writeFileSync(file, JSON.stringify({ stack: "dev", resources: [{ urn: "u" }] }));
                assert.throws(() => readPlanDoc(file), {
                    message: `--diff ${file}: not a plan document (npm run plan -- --json): resources[0] is not a planned resource`,
                });
                fs.writeFileSync(
                    file,
                    JSON.stringify({ stack: "dev", resources: [], policy: [{ policy: 1 }] }),
                );
                assert.throws(() => readPlanDoc(file), {
                    message: `--diff ${file}: not a plan document (npm run plan -- --json): \`policy\` is not a list of policy results`,
                });
                fs.writeFileSync(file, "{");
                assert.throws(() => readPlanDoc(file), {
                    name: "PlanRefused",
                    message: new RegExp(`^--diff ${file}: `),
                });
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("golden Markdown (dev stack)", function () {
        this.timeout(60_000);
        let dev: { doc: PlanDoc; mermaid: string };
        let dev3: { doc: PlanDoc; mermaid: string };
        before(async () => {
            dev = await planOf(devDoc());
            dev3 = await planOf(devWithCluster3());
        });

        it("a cluster added: its section marked added, every resource of it added, the primary's new link", () => {
            const d = diffPlans(dev.doc, dev3.doc, "`main`");
            assert.equal(d.sections.find((s) => s.cluster === "cluster3")?.status, "added");
            assert.equal(d.counts.remove, 0);
            assertGolden("cluster-added.md", renderDiffMarkdown(d, dev3.mermaid));
        });

        it("a cluster removed: its section marked removed, every resource of it removed", () => {
            const d = diffPlans(dev3.doc, dev.doc, "`main`");
            assert.equal(d.sections.find((s) => s.cluster === "cluster3")?.status, "removed");
            assert.equal(d.counts.add, 0);
            assertGolden("cluster-removed.md", renderDiffMarkdown(d, dev.mermaid));
        });

        it("a value changed: the primary's east-west address, in its gateway and in the remote it serves", async () => {
            const doc = devDoc();
            (clustersOf(doc)[0]!.eastWest as Record<string, unknown>).address = "172.18.0.12";
            const changed = await planOf(doc);
            const d = diffPlans(dev.doc, changed.doc, "`main`");
            assert.deepEqual(d.counts, { add: 0, remove: 0, modify: d.counts.modify, same: d.counts.same });
            assert.ok(d.counts.modify > 0);
            assertGolden("value-changed.md", renderDiffMarkdown(d, changed.mermaid));
        });

        it("a kubeconfig instead of a context: the change is shown, the kubeconfig only as [secret]", async () => {
            const doc = devDoc();
            const c2 = clustersOf(doc)[1]!;
            delete c2.context;
            c2.kubeconfig = { secure: "v1:AAAAAAAAAAAAAAAA:c2VjcmV0LWt1YmVjb25maWc=" };
            const changed = await planOf(doc);
            const d = diffPlans(dev.doc, changed.doc, "`main`");
            const provider = d.sections
                .find((s) => s.cluster === "cluster2")
                ?.modified.find((r) => r.type === "pulumi:providers:kubernetes");
            assert.deepEqual(provider?.changes, [
                { path: "context", before: "kind-cluster2" },
                { path: "kubeconfig", after: "[secret]" },
            ]);
            const md = renderDiffMarkdown(d, changed.mermaid);
            assert.match(md, /^ {2}- `kubeconfig`: _absent_ → `\[secret\]`$/m);
            assert.doesNotMatch(md, /c2VjcmV0|secret-kubeconfig/);
        });
    });

    it("the README's example is the value-changed golden, verbatim", () => {
        const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
        const marker = "<!-- diff:value-changed (test/tools/golden/value-changed.md) -->";
        const at = readme.indexOf(marker);
        assert.ok(at >= 0, `README.md has no ${marker}`);
        const start = readme.indexOf("````markdown\n", at) + "````markdown\n".length;
        const end = readme.indexOf("````\n", start);
        const expected = fs.readFileSync(path.join(golden, "value-changed.md"), "utf8");
        if (process.env.UPDATE_GOLDEN === "1") {
            fs.writeFileSync(
                path.join(repoRoot, "README.md"),
                readme.slice(0, start) + expected + readme.slice(end),
            );
            return;
        }
        assert.equal(
            readme.slice(start, end),
            expected,
            "README.md's example diff is stale: UPDATE_GOLDEN=1 npx mocha test/tools/diff.test.ts rewrites it",
        );
    });

    describe("--diff <git ref>", function () {
        this.timeout(120_000);

        it("plans the program at the ref with the ref's stack file, and shows what the working tree changes", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-repo-"));
            try {
                const files = spawnSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" })
                    .stdout.split("\0")
                    .filter((f) => f && fs.existsSync(path.join(repoRoot, f)));
                for (const f of files) {
                    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
                    fs.copyFileSync(path.join(repoRoot, f), path.join(dir, f));
                }
                const git = (...args: string[]) => {
                    const r = spawnSync(
                        "git",
                        ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
                        {
                            cwd: dir,
                            encoding: "utf8",
                        },
                    );
                    assert.equal(r.status, 0, r.stderr);
                };
                git("init", "-q", "-b", "main");
                git("add", "-A");
                git("commit", "-q", "-m", "base");
                fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
                const stackFile = path.join(dir, "Pulumi.dev.yaml");
                fs.writeFileSync(
                    stackFile,
                    fs.readFileSync(stackFile, "utf8").replace("address: 172.18.0.2", "address: 172.18.0.12"),
                );
                const run = spawnSync(
                    process.execPath,
                    ["--import", "tsx", "tools/plan.ts", "--stack", "dev", "--diff", "main"],
                    { cwd: dir, encoding: "utf8" },
                );
                assert.equal(run.status, 0, run.stderr);
                const lines = run.stdout.split("\n");
                assert.equal(lines[0], "<!-- istio-multicluster plan diff: dev -->");
                assert.equal(lines[1], "");
                assert.match(lines[2]!, /^### Offline plan of stack `dev` against `main` \([0-9a-f]{12}\)$/);
                assert.ok(
                    lines.includes("  - `values.service.externalIPs[0]`: `172.18.0.2` → `172.18.0.12`"),
                    run.stdout,
                );
                const bad = spawnSync(
                    process.execPath,
                    ["--import", "tsx", "tools/plan.ts", "--stack", "dev", "--diff", "no-such-ref"],
                    { cwd: dir, encoding: "utf8" },
                );
                assert.equal(bad.status, 2);
                assert.equal(
                    bad.stderr,
                    'plan refused: --diff "no-such-ref": neither a file nor a git ref of this checkout\n',
                );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
