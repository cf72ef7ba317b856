/**
 * The kind recipe (scripts/kind), run against stand-ins for docker, kind, pulumi and npm: docker answers
 * `inspect` with recorded output (test/fixtures/kind), the others record how they were called. What cannot be
 * tested here (real clusters) is the path a user runs; shellcheck lints the scripts in CI (.ci/run).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../tools/planner";

const fixtures = path.join(repoRoot, "test", "fixtures", "kind");

describe("kind recipe", () => {
    let bin: string;
    let log: string;

    before(() => {
        bin = fs.mkdtempSync(path.join(os.tmpdir(), "kind-recipe-"));
        log = path.join(bin, "calls.log");
        const stub = (name: string, body: string) =>
            fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
        // docker inspect <name>: the recorded output, or Docker's own error for an unknown object.
        stub(
            "docker",
            `echo "docker $*" >> "${log}"\n` +
                `[ "$1" = inspect ] || exit 2\n` +
                `f="${fixtures}/$2.json"\n` +
                `if [ -f "$f" ]; then cat "$f"; else echo "[]"; echo "Error: No such object: $2" >&2; exit 1; fi`,
        );
        for (const tool of ["kind", "pulumi", "npm"]) stub(tool, `echo "${tool} $*" >> "${log}"`);
    });
    after(() => fs.rmSync(bin, { recursive: true, force: true }));
    beforeEach(() => fs.rmSync(log, { force: true }));

    const bash = (script: string, env: Record<string, string> = {}) =>
        spawnSync("bash", ["-c", script], {
            cwd: repoRoot,
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}:${process.env["PATH"]}`, ...env },
        });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trimEnd().split("\n") : []);

    describe("kind_node_address", () => {
        it("reads each node's address on the kind network from docker inspect", () => {
            const r = bash(
                ". scripts/kind/lib.sh; kind_node_address cluster1-control-plane; kind_node_address cluster2-control-plane",
            );
            assert.equal(r.stderr, "");
            assert.equal(r.stdout, "172.19.0.3\n172.19.0.4\n");
        });

        it("follows KIND_EXPERIMENTAL_DOCKER_NETWORK", () => {
            const r = bash(". scripts/kind/lib.sh; kind_node_address cluster2-control-plane", {
                KIND_EXPERIMENTAL_DOCKER_NETWORK: "monitoring",
            });
            assert.equal(r.stdout, "10.77.0.5\n");
        });

        it("says which networks a container is on when it is not on kind's", () => {
            const r = bash(". scripts/kind/lib.sh; kind_node_address stray-container");
            assert.equal(r.status, 1);
            assert.equal(r.stdout, "");
            assert.equal(
                r.stderr,
                "kind: stray-container has no address on the Docker network kind (it is on: bridge)\n",
            );
        });

        it("says when the container does not exist", () => {
            const r = bash(". scripts/kind/lib.sh; kind_node_address cluster3-control-plane");
            assert.equal(r.status, 1);
            assert.equal(
                r.stderr,
                "Error: No such object: cluster3-control-plane\n" +
                    "kind: no container cluster3-control-plane; did `kind create cluster` succeed?\n",
            );
        });
    });

    it("up.sh: creates both clusters, writes the discovered addresses into the stack, applies and verifies", () => {
        const r = bash("scripts/kind/up.sh");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(
            r.stdout,
            "kind: cluster1 at 172.19.0.3, cluster2 at 172.19.0.4 on Docker network kind\n",
        );
        assert.deepEqual(calls(), [
            "kind get clusters",
            "kind create cluster --name cluster1 --image kindest/node:v1.33.1 --wait 120s",
            "kind get clusters",
            "kind create cluster --name cluster2 --image kindest/node:v1.33.1 --wait 120s",
            "docker inspect cluster1-control-plane",
            "docker inspect cluster2-control-plane",
            "pulumi config set --stack dev --path istio-multicluster:clusters[0].eastWest.address 172.19.0.3",
            "pulumi config set --stack dev --path istio-multicluster:clusters[1].eastWest.address 172.19.0.4",
            "pulumi config set --stack dev --path istio-multicluster:clusters[1].apiServer https://172.19.0.4:6443",
            "pulumi up --stack dev --yes",
            "npm run verify -- --stack dev --wait 10m",
        ]);
    });

    it("down.sh: destroys the stack, then deletes both clusters", () => {
        const r = bash("scripts/kind/down.sh", { STACK: "laptop" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(calls(), [
            "pulumi destroy --stack laptop --yes",
            "kind delete cluster --name cluster1",
            "kind delete cluster --name cluster2",
        ]);
    });
});
