/**
 * The engine tier: the real Pulumi CLI (built from Go modules into .e2e/bin), the real Kubernetes provider and
 * the real policy analyzer, running this repository's program and its Pulumi.demo.yaml against local clusters
 * (npm run clusters). The scenarios run in order on one set of clusters, as an operator would live them: up
 * from nothing, no perpetual diff, a cluster added and removed, policies, a refused config, secrets, verify,
 * destroy. Then the same first `up` with load balancers that report hostnames.
 *
 * No containers run (simulated nodes): every Deployment becomes Available and every webhook is answered by a
 * real istiod, but no Envoy runs and no traffic flows; the demo stack turns the smoke test off for that reason.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Api, waitFor } from "../../tools/clusters/api";
import { adminAccess, MeshState } from "../../tools/clusters/state";
import { ensureBinaries } from "../../tools/clusters/build";
import { repoRoot } from "../../tools/planner";
import { demoChain, demoMeshId as meshId } from "./support/chain";
import {
    assertEveryClusterSynced,
    EngineEvent,
    EngineStack,
    nameOf,
    summaryCounts,
    verify,
} from "./support/engineStack";

const istioSystem = "/api/v1/namespaces/istio-system";

/** Secrets of the program's remote-secret layouts (label istio/multiCluster) in a cluster, by name. */
async function remoteSecrets(mesh: MeshState, cluster: string): Promise<string[]> {
    const api = new Api(adminAccess(mesh.clusters.find((c) => c.name === cluster)!));
    try {
        const items = await api.list<{ metadata: { name: string } }>(
            `${istioSystem}/secrets?labelSelector=istio%2FmultiCluster%3Dtrue`,
        );
        return items.map((s) => s.metadata.name).sort();
    } finally {
        api.close();
    }
}

/** Remote secrets retired by a layout switch (label istio/multiCluster: "false") in a cluster: name and data keys. */
async function retiredSecrets(mesh: MeshState, cluster: string): Promise<string[]> {
    const api = new Api(adminAccess(mesh.clusters.find((c) => c.name === cluster)!));
    try {
        const items = await api.list<{ metadata: { name: string }; data?: Record<string, string> }>(
            `${istioSystem}/secrets?labelSelector=istio%2FmultiCluster%3Dfalse`,
        );
        return items.map((s) => `${s.metadata.name} [${Object.keys(s.data ?? {}).join(", ")}]`).sort();
    } finally {
        api.close();
    }
}

/** The steps an `up` finished, in the order the engine finished them: `op name`. */
function finishedSteps(events: readonly EngineEvent[]): { op: string; name: string }[] {
    return [...events]
        .sort((a, b) => a.sequence - b.sequence)
        .flatMap((e) => (e.resOutputsEvent ? [e.resOutputsEvent.metadata] : []))
        .map((m) => ({ op: m.op, name: nameOf(m.urn) }));
}

/** The data of every reader token Secret in the clusters: what must never appear in plain text. */
async function readerTokens(mesh: MeshState): Promise<string[]> {
    const tokens: string[] = [];
    for (const c of mesh.clusters) {
        const api = new Api(adminAccess(c));
        try {
            const items = await api.list<{ type?: string; data?: Record<string, string> }>(
                `${istioSystem}/secrets`,
            );
            for (const s of items.filter((s) => s.type === "kubernetes.io/service-account-token")) {
                if (s.data?.token) tokens.push(Buffer.from(s.data.token, "base64").toString());
            }
        } finally {
            api.close();
        }
    }
    return tokens;
}

/** The policy results the CLI printed: `level policy name` per violation. */
function cliViolations(output: string): string[] {
    const out: string[] = [];
    for (const m of output.matchAll(/- \[(advisory|mandatory)\]\s+(\S+)\s+\([^)]*: ([^)]+)\)/g)) {
        out.push(`${m[1]} ${m[2]} ${m[3]}`);
    }
    return out.sort();
}

/** What our own policy runner says of the same stack file (npm run plan --json). */
function runnerViolations(stack: EngineStack, policyConfig: string): string[] {
    let stdout: string;
    try {
        stdout = execFileSync(
            process.execPath,
            [
                "--import",
                "tsx",
                path.join(repoRoot, "tools", "plan.ts"),
                "--config",
                path.join(stack.cwd, `Pulumi.${stack.stack}.yaml`),
                "--json",
                "--policy-config",
                policyConfig,
            ],
            { cwd: stack.cwd, env: stack.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
        );
    } catch (e) {
        stdout = (e as { stdout: string }).stdout;
    }
    const plan = JSON.parse(stdout) as { policy: { policy: string; level: string; urn: string }[] };
    return plan.policy.map((v) => `${v.level} ${v.policy} ${nameOf(v.urn)}`).sort();
}

/** Deletes, in the order the engine finished them (`--event-log`), by resource name. */
function deletions(events: readonly EngineEvent[]): string[] {
    return [...events]
        .sort((a, b) => a.sequence - b.sequence)
        .filter((e) => e.resOutputsEvent?.metadata.op === "delete")
        .map((e) => nameOf(e.resOutputsEvent!.metadata.urn));
}

describe("engine tier: the real Pulumi CLI on local clusters", function () {
    this.timeout(30 * 60_000);
    const timings: string[] = [];
    before(async function () {
        this.timeout(90 * 60_000);
        await ensureBinaries((s) => process.stderr.write(`      ${s}\n`));
    });
    const scenarioChain = (names: readonly string[], lb: "ip" | "hostname", later: readonly string[] = []) =>
        demoChain(names, lb, { later });

    after(() => {
        if (timings.length > 0) console.log(`      engine tier timings: ${timings.join("; ")}`);
    });

    describe("load balancers with IP addresses", () => {
        const stack = scenarioChain(["primary1", "primary2", "remote1", "primary3"], "ip", ["primary3"]);
        const mesh = (): MeshState => stack().mesh;

        it("1. `pulumi up` from nothing succeeds at the first try", async () => {
            const preview = await stack().ok(["preview"]);
            const { run } = await stack().up();
            const counts = summaryCounts(run.stdout);
            assert.ok((counts.created ?? 0) > 50, `created: ${JSON.stringify(counts)}`);
            assert.deepEqual(Object.keys(counts), ["created"]);
            timings.push(
                `3 clusters: preview ${(preview.ms / 1000).toFixed(1)} s, up ${(run.ms / 1000).toFixed(1)} s`,
            );
            for (const p of ["primary1", "primary2"]) {
                const others = ["primary1", "primary2", "remote1"].filter((c) => c !== p);
                assert.deepEqual(
                    await remoteSecrets(mesh(), p),
                    others.map((o) => `istio-remote-secret-${o}`),
                );
            }
        });

        it("2. right after, `pulumi preview --expect-no-changes` passes: no perpetual diff", async () => {
            const r = await stack().run(["preview", "--expect-no-changes", "--diff"]);
            assert.equal(r.code, 0, r.stdout.slice(-4000));
        });

        it("3. a fourth cluster in config: the preview creates that cluster's objects and its links only", async () => {
            const c = "istio-multicluster:clusters[3]";
            for (const [k, v] of Object.entries({
                name: "primary3",
                role: "primary",
                network: "network3",
                region: "region3",
                context: "primary3",
            })) {
                await stack().ok(["config", "set", "--path", `${c}.${k}`, v]);
            }
            await stack().setLaterIntermediates();
            const steps = await stack().previewSteps();
            // Reads are the program's read-backs of live Services (each update reads them again).
            const changed = steps.filter((s) => s.op !== "same" && s.op !== "read");
            assert.deepEqual([...new Set(changed.map((s) => s.op))], ["create"], "only creates");
            const stray = changed.filter((s) => !nameOf(s.urn).includes("primary3"));
            assert.deepEqual(
                stray.map((s) => nameOf(s.urn)),
                [],
                "every create is primary3's own or a link to or from it",
            );
            // Its secrets in the two other primaries; theirs and the remote's in it (a remote holds none).
            assert.deepEqual(
                changed
                    .map((s) => nameOf(s.urn))
                    .filter((n) => n.includes("/in/"))
                    .sort(),
                [
                    "primary1/in/primary3",
                    "primary2/in/primary3",
                    "primary3/in/primary1",
                    "primary3/in/primary2",
                    "remote1/in/primary3",
                ],
            );
            const { run } = await stack().up();
            assert.deepEqual(summaryCounts(run.stdout).created, changed.length);
            assert.deepEqual(await remoteSecrets(mesh(), "primary1"), [
                "istio-remote-secret-primary2",
                "istio-remote-secret-primary3",
                "istio-remote-secret-remote1",
            ]);
        });

        it("4. that cluster removed: its remote secrets leave every other cluster before its Istio is uninstalled", async () => {
            await stack().ok(["config", "rm", "--path", "istio-multicluster:clusters[3]"]);
            await stack().ok(["config", "rm", "--path", "istio-multicluster:mesh.ca.intermediates.primary3"]);
            const { events } = await stack().up();
            const order = deletions(events);
            const istio = order.findIndex((n) => /^primary3-(istiod|base)$/.test(n));
            assert.ok(istio >= 0, `primary3's Istio was uninstalled: ${order.join(", ")}`);
            for (const other of ["primary1", "primary2"]) {
                const secret = order.indexOf(`primary3/in/${other}`);
                assert.ok(
                    secret >= 0 && secret < istio,
                    `primary3/in/${other} deleted before primary3's Istio: ${order.join(", ")}`,
                );
                assert.ok(!(await remoteSecrets(mesh(), other)).includes("istio-remote-secret-primary3"));
            }
            const r = await stack().run(["preview", "--expect-no-changes"]);
            assert.equal(r.code, 0, r.stdout.slice(-3000));
        });

        it("5. the real analyzer: the compliant stack passes, prod's config refuses it, both as our own runner says", async () => {
            const dev = path.join(repoRoot, "policies", "config.dev.json");
            const pass = await stack().run([
                "preview",
                "--policy-pack",
                "./policies",
                "--policy-pack-config",
                dev,
            ]);
            assert.equal(pass.code, 0, pass.stdout.slice(-4000));
            assert.deepEqual(cliViolations(pass.stdout), runnerViolations(stack(), dev));
            // The demo stack's advisories (open east-west gateways, unprotected CA keys): the parse found them.
            assert.ok(cliViolations(pass.stdout).length >= 5, pass.stdout.slice(-3000));
            assert.ok(cliViolations(pass.stdout).every((v) => v.startsWith("advisory ")));

            const prod = path.join(repoRoot, "policies", "config.prod.json");
            const refused = await stack().run([
                "preview",
                "--policy-pack",
                "./policies",
                "--policy-pack-config",
                prod,
            ]);
            assert.notEqual(refused.code, 0);
            const mandatory = cliViolations(refused.stdout).filter((v) => v.startsWith("mandatory "));
            assert.ok(
                mandatory.some((v) => v.startsWith("mandatory pki-protected ")),
                mandatory.join("\n"),
            );
            assert.match(
                refused.stdout,
                /demo-mesh-primary1-cacerts is not protected; set `mesh\.ca\.protect` to true/,
            );
            assert.deepEqual(cliViolations(refused.stdout), runnerViolations(stack(), prod));
        });

        it("6. a refused config: the problems once, no stack trace, exit non-zero, nothing registered", async () => {
            const before = JSON.parse(await stack().exportState()) as {
                deployment: { resources: unknown[] };
            };
            await stack().ok(["config", "set", "--path", "istio-multicluster:mesh.meshId", "Not_A_Label"]);
            await stack().ok([
                "config",
                "set",
                "--path",
                "istio-multicluster:clusters[2].primary",
                "nowhere",
            ]);
            try {
                for (const args of [["preview"], ["up", "--yes", "--skip-preview"]]) {
                    const r = await stack().run(args);
                    const out = r.stdout + r.stderr;
                    assert.notEqual(r.code, 0);
                    for (const key of [
                        "istio-multicluster:mesh.meshId",
                        "istio-multicluster:clusters[2].primary",
                    ]) {
                        const n = out.split(key).length - 1;
                        assert.equal(n, 1, `${key} named once in:\n${out}`);
                    }
                    assert.doesNotMatch(out, /^\s+at .+\(.*:\d+:\d+\)$/m, "no stack trace");
                }
                const after = JSON.parse(await stack().exportState()) as {
                    deployment: { resources: unknown[] };
                };
                assert.equal(after.deployment.resources.length, before.deployment.resources.length);
            } finally {
                await stack().ok(["config", "set", "--path", "istio-multicluster:mesh.meshId", meshId]);
                await stack().ok([
                    "config",
                    "set",
                    "--path",
                    "istio-multicluster:clusters[2].primary",
                    "primary1",
                ]);
            }
        });

        it("7. no private key, token or kubeconfig in plain text: state, CLI output, event logs", async () => {
            const exported = await stack().exportState();
            const secrets = [
                ...(await readerTokens(mesh())),
                ...fs
                    .readdirSync(stack().pkiDir)
                    .filter((f) => f.endsWith("-key.pem"))
                    .map((f) => fs.readFileSync(path.join(stack().pkiDir, f), "utf8").split("\n")[1]!),
            ];
            assert.ok(secrets.length >= 5, "tokens and keys to look for");
            // Files the run wrote, not the repository's own sources that the project directory links to (Node 24's
            // recursive readdir follows those links; Node 20's did not).
            const workDir = fs.realpathSync(stack().workDir);
            const files = fs
                .readdirSync(stack().workDir, { recursive: true, withFileTypes: true })
                .filter((d) => d.isFile() && !d.parentPath.startsWith(stack().pkiDir))
                .map((d) => path.join(d.parentPath, d.name))
                .filter((f) => fs.realpathSync(f).startsWith(workDir + path.sep));
            const texts: [string, string][] = [
                ["stack export", exported],
                ["CLI output", stack().transcript()],
                ...files.map((f): [string, string] => [f, fs.readFileSync(f, "latin1")]),
            ];
            for (const [where, text] of texts) {
                assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, where);
                assert.doesNotMatch(text, /client-key-data|"token":\s*"ey/, where);
                for (const s of secrets) assert.ok(!text.includes(s), `a secret in plain text in ${where}`);
            }
        });

        it("8. verify passes on the live mesh, names a deleted remote secret, and `up --refresh` repairs it", async () => {
            const healthy = verify(stack());
            assert.equal(healthy.code, 0, healthy.output);
            assert.match(healthy.output, /^\d+ checks: (\d+) passed, 0 failed$/m);
            // istiod's own view, read through a port-forward to it (kwok's kubelet API, README): both primaries
            // see the two other clusters synced.
            assertEveryClusterSynced(healthy.output);
            assert.match(
                healthy.output,
                /✔ remote-secrets\s+primary2 \(istio-remote-secret-primary2\), remote1/,
            );

            const api = new Api(adminAccess(mesh().clusters.find((c) => c.name === "primary1")!));
            try {
                await api.json("DELETE", `${istioSystem}/secrets/istio-remote-secret-remote1`);
            } finally {
                api.close();
            }
            const broken = verify(stack());
            assert.equal(broken.code, 1);
            assert.match(
                broken.output,
                /✖ remote-secrets[^\n]*\n\s+expected: remote secrets for primary2, remote1 and no other\n\s+hint: [^\n]*istio-remote-secret-remote1/,
            );
            await stack().up(["--refresh"]);
            assert.ok((await remoteSecrets(mesh(), "primary1")).includes("istio-remote-secret-remote1"));
        });

        it("lifecycle: reader tokens rotated in one `up`: new tokens, every remote secret updated in place before the old tokens go, istiod still synced", async () => {
            const before = await readerTokens(mesh());
            await stack().ok([
                "config",
                "set",
                "--path",
                "istio-multicluster:mesh.readerTokens.rotation",
                "1",
            ]);
            const { events } = await stack().up();
            const finished = finishedSteps(events);
            const updated = finished.filter((e) => e.op === "update" && e.name.includes("/in/"));
            const revoked = finished.filter(
                (e) => e.op === "delete-replaced" && e.name.endsWith("-reader-token"),
            );
            // Every link's Secret (the same Secret, updated: istiod reloads it) and every source's old token.
            assert.equal(updated.length, 4, JSON.stringify(finished));
            assert.equal(revoked.length, 3, JSON.stringify(finished));
            const lastUpdate = Math.max(...updated.map((u) => finished.indexOf(u)));
            const firstRevoke = Math.min(...revoked.map((u) => finished.indexOf(u)));
            assert.ok(
                lastUpdate < firstRevoke,
                `remote secrets updated before any old token is deleted: ${JSON.stringify(finished)}`,
            );
            const after = await readerTokens(mesh());
            assert.equal(after.length, 3);
            for (const t of after) assert.ok(!before.includes(t), "a new token in every cluster");
            // The real istiod of each primary reloaded the Secrets it holds: every cluster still synced.
            const checked = verify(stack());
            assert.equal(checked.code, 0, checked.output);
            assertEveryClusterSynced(checked.output);
            const r = await stack().run(["preview", "--expect-no-changes"]);
            assert.equal(r.code, 0, r.stdout.slice(-3000));
        });

        it("lifecycle: remote secrets switched per-cluster to per-reader and back, one `up` each: the old Secrets retired first, istiod still synced", async () => {
            const primaries = ["primary1", "primary2"];
            const othersOf = (p: string) => ["primary1", "primary2", "remote1"].filter((c) => c !== p);
            const perCluster = (p: string) => othersOf(p).map((o) => `istio-remote-secret-${o}`);
            for (const [to, live, retired] of [
                [
                    "per-reader",
                    () => ["istio-remote-secrets"],
                    (p: string) => perCluster(p).map((n) => `${n} []`),
                ],
                ["per-cluster", perCluster, () => ["istio-remote-secrets []"]],
            ] as const) {
                await stack().ok(["config", "set", "--path", "istio-multicluster:mesh.remoteSecrets", to]);
                const finished = finishedSteps((await stack().up()).events);
                // In each primary, every Secret of the old layout is updated (retired) before the first Secret of
                // the new layout is created; nothing is deleted in this `up`.
                assert.deepEqual(
                    finished.filter((f) => f.op === "delete"),
                    [],
                    JSON.stringify(finished),
                );
                for (const p of primaries) {
                    const inReader = (n: string) => n === `${p}-remote-secrets` || n.endsWith(`/in/${p}`);
                    const retiring = finished.filter((f) => f.op === "update" && inReader(f.name));
                    const created = finished.filter((f) => f.op === "create" && inReader(f.name));
                    assert.equal(retiring.length, to === "per-reader" ? 2 : 1, JSON.stringify(finished));
                    assert.equal(created.length, to === "per-reader" ? 1 : 2, JSON.stringify(finished));
                    assert.ok(
                        Math.max(...retiring.map((f) => finished.indexOf(f))) <
                            Math.min(...created.map((f) => finished.indexOf(f))),
                        `${p}: retired before created: ${JSON.stringify(finished)}`,
                    );
                    assert.deepEqual(await remoteSecrets(mesh(), p), live(p), p);
                    assert.deepEqual(await retiredSecrets(mesh(), p), retired(p), p);
                }
                // The real istiod of each primary let each cluster go and took it again from the new Secret.
                const checked = verify(stack());
                assert.equal(checked.code, 0, checked.output);
                assertEveryClusterSynced(checked.output);
                // The next `up` deletes the retired Secrets (and a retired Secret's component), and only them.
                const settled = finishedSteps((await stack().up()).events).filter(
                    (f) => f.op !== "same" && f.op !== "read",
                );
                assert.deepEqual(
                    settled.filter((f) => f.op !== "delete"),
                    [],
                    JSON.stringify(settled),
                );
                assert.deepEqual(
                    settled
                        .map((f) => f.name)
                        .filter((n) => n.includes("/in/") || n.endsWith("-remote-secrets"))
                        .sort(),
                    to === "per-reader"
                        ? [
                              "primary1/in/primary2",
                              "primary2/in/primary1",
                              "remote1/in/primary1",
                              "remote1/in/primary2",
                          ]
                        : ["primary1-remote-secrets", "primary2-remote-secrets"],
                );
                for (const p of primaries) assert.deepEqual(await retiredSecrets(mesh(), p), [], p);
                assertEveryClusterSynced(verify(stack()).output);
                const r = await stack().run(["preview", "--expect-no-changes"]);
                assert.equal(r.code, 0, r.stdout.slice(-3000));
            }
        });

        it("9. `pulumi destroy` leaves nothing the program created", async () => {
            const r = await stack().ok(["destroy", "--yes", "--skip-preview"]);
            timings.push(`destroy ${(r.ms / 1000).toFixed(1)} s`);
            for (const c of mesh().clusters) {
                const api = new Api(adminAccess(c));
                try {
                    assert.deepEqual(await remoteSecrets(mesh(), c.name), [], `${c.name}: remote secrets`);
                    const releases = await api.list(`/api/v1/secrets?labelSelector=owner%3Dhelm`);
                    assert.equal(releases.length, 0, `${c.name}: Helm releases left`);
                    await waitFor(`${c.name}: istio-system gone`, 120_000, async () =>
                        (await api.get(istioSystem)) === undefined ? true : undefined,
                    );
                    await waitFor(`${c.name}: sample gone`, 120_000, async () =>
                        (await api.get("/api/v1/namespaces/sample")) === undefined ? true : undefined,
                    );
                    // Kept on purpose: the base chart marks Istio's CRDs `helm.sh/resource-policy: keep`.
                    const crds = await api.list<{ spec: { group: string } }>(
                        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                    );
                    assert.ok(
                        crds.some((d) => d.spec.group.endsWith("istio.io")),
                        `${c.name}: Istio's CRDs kept`,
                    );
                } finally {
                    api.close();
                }
            }
        });
    });

    describe("load balancers that report hostnames", () => {
        const stack = scenarioChain(["primary1", "primary2", "remote1"], "hostname");
        const mesh = (): MeshState => stack().mesh;

        // A primary that serves a remote gets the name its load balancer reports on istiod's certificate in the
        // same `up` (a patch of istiod's Deployment, and a route for that name on the webhook port), before the
        // remote is installed: the remote's API server calls the webhooks by URL at that name and checks it
        // against the certificate (README, "East-west addresses"). primary2 serves no remote: its reported
        // hostname is used as it comes.
        it("1. `pulumi up` from nothing links the mesh in one go, istiod's certificate naming the reported hostname; 2. no diff", async () => {
            // A named revision: its route matches only its own names, so the reported one gets a route too.
            await stack().ok(["config", "set", "--path", "istio-multicluster:mesh.istio.revision", "1-30-3"]);
            const { run } = await stack().up();
            const reported =
                /eastWestAddress: "(istio-eastwestgateway\.istio-system\.primary1\.s\d+\.lb\.e2e\.test)"/.exec(
                    run.stdout,
                );
            assert.ok(reported, run.stdout.slice(-4000));
            const hostname = reported[1]!;
            assert.match(
                run.stdout,
                /eastWestAddress: "istio-eastwestgateway\.istio-system\.primary2\.s\d+\.lb\.e2e\.test"/,
            );
            const primary1 = new Api(adminAccess(mesh().clusters.find((c) => c.name === "primary1")!));
            const remote1 = new Api(adminAccess(mesh().clusters.find((c) => c.name === "remote1")!));
            try {
                // istiod loads the name from a ConfigMap its Deployment was patched to read (envFrom).
                const istiod = await primary1.get<{
                    spec: {
                        template: {
                            spec: {
                                containers: {
                                    name: string;
                                    envFrom?: { configMapRef?: { name: string } }[];
                                }[];
                            };
                        };
                    };
                }>("/apis/apps/v1/namespaces/istio-system/deployments/istiod-1-30-3");
                const discovery = istiod!.spec.template.spec.containers.find((c) => c.name === "discovery")!;
                assert.deepEqual(discovery.envFrom, [{ configMapRef: { name: "istiod-reported-host" } }]);
                const config = await primary1.get<{ data: Record<string, string> }>(
                    "/api/v1/namespaces/istio-system/configmaps/istiod-reported-host",
                );
                assert.deepEqual(config!.data, { ISTIOD_CUSTOM_HOST: hostname });
                const injector = await remote1.get<{ webhooks: { clientConfig: { url?: string } }[] }>(
                    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector-1-30-3",
                );
                for (const w of injector!.webhooks) {
                    assert.ok(
                        w.clientConfig.url?.startsWith(`https://${hostname}:15017/inject/`),
                        w.clientConfig.url,
                    );
                }
            } finally {
                primary1.close();
                remote1.close();
            }
            // The remote's gateway was injected through those webhooks; the real istiods see every cluster.
            const checked = verify(stack());
            assert.equal(checked.code, 0, checked.output);
            assertEveryClusterSynced(checked.output);
            const r = await stack().run(["preview", "--expect-no-changes", "--diff"]);
            assert.equal(r.code, 0, r.stdout.slice(-4000));
        });

        it("9. `pulumi destroy` succeeds and leaves no Helm release", async () => {
            await stack().ok(["destroy", "--yes", "--skip-preview"]);
            for (const c of mesh().clusters) {
                const api = new Api(adminAccess(c));
                try {
                    assert.equal(
                        (await api.list(`/api/v1/secrets?labelSelector=owner%3Dhelm`)).length,
                        0,
                        c.name,
                    );
                } finally {
                    api.close();
                }
            }
        });
    });
});
