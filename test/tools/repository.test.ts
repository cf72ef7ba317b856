/**
 * What a newcomer and CI rely on outside the code: the workflows (actions pinned by commit, `npm test` once,
 * the plan per stack, the Pulumi CLI pinned to the SDK, one comment marker), the Node.js lines, the licence.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { commentMarker } from "../../tools/diff";
import { stacksFound } from "../../tools/plan";
import { repoRoot } from "../../tools/planner";
import { pinnedSdkVersion } from "../../tools/sdkInternals";
import { nodeVersionProblem, supportedNode } from "../../stacks/nodeRuntime";

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}
interface Job {
    steps: Step[];
    strategy?: { matrix?: Record<string, unknown> };
    if?: string;
}
interface Workflow {
    jobs: Record<string, Job>;
    env?: Record<string, unknown>;
}

const workflowDir = path.join(repoRoot, ".github", "workflows");
const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), "utf8");
const workflow = (name: string) => YAML.parse(read(`.github/workflows/${name}`)) as Workflow;

/** Every `.ts` file under the given folders, at any depth, relative to the repository. */
function tsFilesUnder(...dirs: string[]): string[] {
    return dirs.flatMap((d) =>
        fs
            .readdirSync(path.join(repoRoot, d), { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".ts"))
            .map((f) => `${d}/${f}`),
    );
}

describe("repository", () => {
    describe("workflows", () => {
        const files = fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));

        it("pin every action by a full commit SHA, with the release named beside it", () => {
            for (const file of files) {
                for (const line of read(`.github/workflows/${file}`).split("\n")) {
                    const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
                    if (!m) continue;
                    assert.match(m[1]!, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${line.trim()}`);
                    assert.match(m[2]!, /^ # v\d+(\.\d+){0,2}$/, `${file}: ${line.trim()} names no release`);
                }
            }
        });

        it("run npm test once, outside any matrix, and the plan and its diff once per stack", () => {
            const pr = workflow("pull-request.yml");
            const runs = Object.entries(pr.jobs).flatMap(([name, job]) =>
                job.steps.filter((s) => s.run?.trim() === "npm test").map(() => name),
            );
            assert.deepEqual(runs, ["test"]);
            assert.equal(pr.jobs.test!.strategy, undefined);
            assert.deepEqual(pr.jobs.plan!.strategy?.matrix?.stack, stacksFound());
            const plan = pr.jobs.plan!.steps.map((s) => s.run ?? "").join("\n");
            assert.match(
                plan,
                /npm run -s plan -- --stack "\$STACK" --diff "\$BASE_SHA" > "plan-diff\/\$STACK\.md"/,
            );
            assert.match(plan, /if \[ "\$STATUS" = 1 \]; then .* exit 1; fi/);
        });

        it("pin the Pulumi CLI to the SDK's version and gate the real preview on its credentials", () => {
            const pr = workflow("pull-request.yml");
            assert.equal(pr.env?.PULUMI_VERSION, pinnedSdkVersion);
            const preview = pr.jobs.preview!;
            const action = preview.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
            assert.equal(action?.with?.["pulumi-version"], "${{ env.PULUMI_VERSION }}");
            assert.equal(preview.if, "${{ needs.gate.outputs.stacks != '[]' }}");
        });

        it("use the Node.js line of .nvmrc everywhere", () => {
            for (const file of files) {
                for (const job of Object.values(workflow(file).jobs)) {
                    for (const s of job.steps.filter((x) => x.uses?.startsWith("actions/setup-node@"))) {
                        assert.deepEqual(s.with, { "node-version-file": ".nvmrc", cache: "npm" }, file);
                    }
                }
            }
        });

        it("find a stack's comment by the marker the diff writes", () => {
            const script = read(".github/workflows/plan-comment.yml");
            assert.ok(script.includes("const marker = `" + commentMarker("${stack}") + "`;"));
        });
    });

    describe("Node.js", () => {
        it("engines: the supported LTS lines, stated once (stacks/nodeRuntime.ts); .nvmrc names one of them", () => {
            const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
            assert.equal(engines, supportedNode);
            const pack = JSON.parse(read("policies/package.json")) as { engines: { node: string } };
            assert.equal(pack.engines.node, engines);
            assert.equal(read(".nvmrc"), "24\n");
        });

        it("a Node.js outside engines is refused in one line naming the version and the fix", () => {
            for (const v of ["v22.13.0", "v22.23.5", "v24.0.0", "v24.22.3", "v26.12.1"]) {
                assert.equal(nodeVersionProblem(v), undefined, v);
            }
            for (const v of ["v18.20.8", "v20.20.2", "v22.12.0", "v23.11.1", "garbage"]) {
                const p = nodeVersionProblem(v);
                assert.ok(p !== undefined, v);
                assert.ok(!p.includes("\n"), p);
                assert.ok(p.includes(v) && p.includes(supportedNode) && p.includes("nvm install"), p);
            }
        });

        it("every entry point checks it before anything else: the tools, the test tiers, npm test, index.ts", () => {
            const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
            const tools = Object.values(scripts).flatMap((c) => [
                ...c.matchAll(/node --import tsx (tools\/\w+\.ts)/g),
            ]);
            assert.ok(tools.length >= 5, String(tools.length));
            for (const [, file] of tools) {
                if (file === "tools/requireNode.ts") continue;
                const firstImport = /^import .*$/m.exec(read(file!))?.[0];
                assert.equal(firstImport, 'import "./requireNode";', file);
            }
            assert.match(scripts.test!, /^node --import tsx tools\/requireNode\.ts && /);
            const mocharcs = fs.readdirSync(repoRoot).filter((f) => /^\.mocharc.*\.json$/.test(f));
            assert.ok(mocharcs.length >= 5, mocharcs.join(", "));
            for (const f of mocharcs) {
                const opts = (JSON.parse(read(f)) as { "node-option": string[] })["node-option"];
                assert.deepEqual(opts, ["import=tsx", "import=./tools/requireNode.ts"], f);
            }
            assert.match(
                read("index.ts"),
                /if \(nodeProblem !== undefined\) throw new pulumi\.RunError\(nodeProblem\);\n\nconst topology = loadTopology\(\);/,
            );
        });
    });

    describe("install scripts", () => {
        it("allowScripts decides every locked package with one, so npm's warning means a new one appeared", () => {
            // None is needed (README, "Install scripts"): esbuild's binary comes from its platform package,
            // protobufjs' only checks its CLI, @pulumi/kubernetes' would ask a Pulumi CLI for its plugin.
            const lock = JSON.parse(read("package-lock.json")) as {
                packages: Record<string, { hasInstallScript?: boolean }>;
            };
            const withScripts = Object.entries(lock.packages)
                .filter(([, p]) => p.hasInstallScript === true)
                .map(([k]) => k.replace(/^.*node_modules\//, ""))
                .sort();
            const pkg = JSON.parse(read("package.json")) as { allowScripts?: Record<string, boolean> };
            assert.deepEqual(pkg.allowScripts, Object.fromEntries(withScripts.map((k) => [k, false])));
            const pack = JSON.parse(read("policies/package.json")) as {
                allowScripts?: Record<string, boolean>;
            };
            assert.deepEqual(pack.allowScripts, { protobufjs: false });
        });
    });

    describe("hints", () => {
        it("no fix hint puts key material or a kubeconfig on a command line: they read standard input", () => {
            const offenders = tsFilesUnder("stacks", "components", "policies", "tools").filter((f) =>
                /\$\(cat /.test(read(f)),
            );
            assert.deepEqual(offenders, []);
            assert.match(read("stacks/validate/ca.ts"), /--path '\$\{p\}' < key\.pem/);
        });
    });

    describe("names", () => {
        it("the project is istio-multicluster and every component's type is multicluster:<module>:<Type>", () => {
            assert.equal((YAML.parse(read("Pulumi.yaml")) as { name: string }).name, "istio-multicluster");
            const dir = path.join(repoRoot, "components");
            const tokens = fs
                .readdirSync(dir)
                .filter((f) => f.endsWith(".ts"))
                .flatMap((f) => [
                    ...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/super\(\s*"([^"]+)"/g),
                ])
                .map((m) => m[1]!);
            assert.ok(tokens.length >= 5, tokens.join(", "));
            for (const t of tokens) assert.match(t, /^multicluster:[a-z][a-zA-Z]*:[A-Z][A-Za-z]*$/);
        });
    });

    describe("errors under the real CLI", () => {
        it("every ResourceError of the program hides its stack (components/refusal.ts)", () => {
            // The CLI prints a ResourceError that does not hide its stack with util.inspect: the whole
            // resource object under the message (seen in the engine tier). One helper makes them all.
            const sources = ["index.ts", ...tsFilesUnder("components", "stacks")];
            const offenders = sources.filter(
                (f) => f !== "components/refusal.ts" && /new\s+pulumi\.ResourceError\s*\(/.test(read(f)),
            );
            assert.deepEqual(offenders, []);
            assert.match(
                read("components/refusal.ts"),
                /new pulumi\.ResourceError\(message, resource, true\)/,
            );
        });
    });

    describe("licence", () => {
        it("LICENSE is the Apache License 2.0 that package.json and the pack declare", () => {
            const text = read("LICENSE");
            assert.match(text, /^ +Apache License\n +Version 2\.0, January 2004\n/);
            assert.match(text, /END OF TERMS AND CONDITIONS/);
            assert.equal((JSON.parse(read("package.json")) as { license: string }).license, "Apache-2.0");
            assert.equal(
                (JSON.parse(read("policies/package.json")) as { license: string }).license,
                "Apache-2.0",
            );
        });
    });
});
