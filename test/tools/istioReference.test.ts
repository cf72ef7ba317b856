/**
 * tools/istio-reference.sh, which CI runs to give the conformance tier Istio's data: with a stand-in `helm`
 * that records its calls, it pulls exactly the three official chart packages at the version asked, untars each
 * whole into charts/<chart>, and takes the CRDs from the base chart.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../tools/planner";

describe("tools/istio-reference.sh", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-reference-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("helm pulls base, istiod and gateway at the version, untarred whole, and the base chart's CRDs", () => {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        // `helm pull <chart> --repo <url> --version <v> --untar --untardir <dir>`, as a package would unpack.
        fs.writeFileSync(
            path.join(bin, "helm"),
            [
                "#!/usr/bin/env bash",
                'echo "$*" >> "$HELM_LOG"',
                'chart="$2"; untardir="${9}"',
                'mkdir -p "$untardir/$chart/templates" "$untardir/$chart/files"',
                'echo "name: $chart" > "$untardir/$chart/Chart.yaml"',
                'if [ "$chart" = base ]; then echo "kind: CustomResourceDefinition" > "$untardir/$chart/files/crd-all.gen.yaml"; fi',
                "",
            ].join("\n"),
            { mode: 0o755 },
        );
        const out = path.join(dir, "out");
        const log = path.join(dir, "helm.log");
        const run = spawnSync("bash", [path.join(repoRoot, "tools", "istio-reference.sh"), "1.30.3", out], {
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, HELM_LOG: log },
        });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, `Istio 1.30.3 reference data in ${out}\n`);
        const calls = fs.readFileSync(log, "utf8").trim().split("\n");
        const repo = "https://istio-release.storage.googleapis.com/charts";
        assert.deepEqual(
            calls.map((c) => c.replace(/--untardir \S+/, "--untardir <tmp>")),
            ["base", "istiod", "gateway"].map(
                (c) => `pull ${c} --repo ${repo} --version 1.30.3 --untar --untardir <tmp>`,
            ),
        );
        for (const chart of ["base", "istiod", "gateway"]) {
            assert.equal(
                fs.readFileSync(path.join(out, "charts", chart, "Chart.yaml"), "utf8"),
                `name: ${chart}\n`,
            );
            assert.ok(fs.statSync(path.join(out, "charts", chart, "templates")).isDirectory());
        }
        assert.equal(
            fs.readFileSync(path.join(out, "crds", "crd-all.gen.yaml"), "utf8"),
            "kind: CustomResourceDefinition\n",
        );
    });

    it("says so in one line when helm is missing", () => {
        const run = spawnSync(
            "/bin/bash",
            [path.join(repoRoot, "tools", "istio-reference.sh"), "1.30.3", dir],
            {
                encoding: "utf8",
                env: { PATH: "/nonexistent" },
            },
        );
        assert.equal(run.status, 1);
        assert.equal(run.stderr, "istio-reference.sh: helm is not on PATH\n");
    });
});
