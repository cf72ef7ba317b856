/**
 * `npm run verify` against fake API servers (HTTPS on 127.0.0.1, test/support/fakeKube.ts) that answer as a
 * healthy dev mesh does; then one thing broken at a time, each giving its ✖ line and hint and a non-zero exit.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { CheckResult } from "../../tools/verify/checks";
import { parseDuration, verify, VerifyIo } from "../../tools/verify";
import { PulumiRunner } from "../../tools/verify/config";
import { repoRoot } from "../../tools/planner";
import { Answer, FakeCluster, kubeconfigFor, startFakeCluster } from "../support/fakeKube";
import { devSpecs, FakeSpec, healthyMesh, obsPaths, paths, remoteSecret } from "../support/fakeMesh";
import { labelledCert, testPki } from "../support/testPki";

const devFile = path.join(repoRoot, "Pulumi.dev.yaml");
const noPulumi: PulumiRunner = () => ({ status: null, stdout: "", stderr: "", missing: true });

interface Run {
    code: number;
    out: string;
    err: string;
}

async function run(argv: string[], io: Partial<VerifyIo> = {}): Promise<Run> {
    let out = "";
    let err = "";
    const code = await verify(argv, {
        out: (s) => (out += s),
        err: (s) => (err += s),
        pulumi: noPulumi,
        ...io,
    });
    return { code, out, err };
}

async function runJson(
    argv: string[],
    io: Partial<VerifyIo> = {},
): Promise<{ code: number; results: CheckResult[] }> {
    const r = await run([...argv, "--json"], io);
    return { code: r.code, results: JSON.parse(r.out) as CheckResult[] };
}

const tuples = (rs: readonly CheckResult[]) => rs.map((r) => `${r.cluster} ${r.check} ${r.status}`);
const failures = (rs: readonly CheckResult[]) => rs.filter((r) => r.status === "fail");

const healthyDev = [
    "cluster1 kubernetes pass",
    "cluster1 istio-system pass",
    "cluster1 intermediate pass",
    "cluster1 trust-published pass",
    "cluster1 istiod pass",
    "cluster1 revisions pass",
    "cluster1 gateway pass",
    "cluster1 gateway-endpoints pass",
    "cluster1 remote-secrets pass",
    "cluster1 remote-secret-token pass",
    "cluster1 istiod-view pass",
    "cluster1 namespace pass",
    "cluster1 namespace pass",
    "cluster1 obs-namespace pass",
    "cluster1 prometheus pass",
    "cluster1 prometheus-injected pass",
    "cluster1 prometheus-service pass",
    "cluster1 hub-prometheus pass",
    "cluster1 hub-jaeger pass",
    "cluster1 hub-grafana pass",
    "cluster1 prometheus-stub pass",
    "cluster1 obs-mtls pass",
    "cluster1 obs-authz pass",
    "cluster1 trust-root pass",
    "cluster2 kubernetes pass",
    "cluster2 istio-system pass",
    "cluster2 revisions pass",
    "cluster2 gateway pass",
    "cluster2 gateway-endpoints pass",
    "cluster2 namespace pass",
    "cluster2 namespace pass",
    "cluster2 obs-namespace pass",
    "cluster2 prometheus pass",
    "cluster2 prometheus-injected pass",
    "cluster2 prometheus-service pass",
    "cluster2 webhooks pass",
];

describe("verify", function () {
    this.timeout(20_000);
    let c1: FakeCluster;
    let c2: FakeCluster;
    let dir: string;
    const savedKubeconfig = process.env["KUBECONFIG"];

    const writeFile = (name: string, text: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
    };
    const useKubeconfig = (entries: { context: string; server: string; token: string }[]) => {
        process.env["KUBECONFIG"] = writeFile(
            `kubeconfig-${entries.length}-${Date.now()}`,
            kubeconfigFor(entries),
        );
        return process.env["KUBECONFIG"];
    };
    const devContexts = () => [
        { context: "kind-cluster1", server: c1.url, token: "admin-cluster1" },
        { context: "kind-cluster2", server: c2.url, token: "admin-cluster2" },
    ];
    /** A stack file: the dev mesh settings with other clusters and extra keys. */
    const stackFile = (clusters: unknown[], extra: Record<string, unknown> = {}) => {
        const dev = YAML.parse(fs.readFileSync(devFile, "utf8")) as { config: Record<string, unknown> };
        // The dev stack's clusters replaced: its smoke test, namespaces and services (whose regions are the dev
        // clusters') and its observability hub (a dev cluster) go too, unless a test gives its own.
        const config: Record<string, unknown> = { ...dev.config };
        for (const k of ["smokeTest", "namespaces", "security", "services", "observability"])
            delete config[`istio-multicluster:${k}`];
        Object.assign(config, { "istio-multicluster:clusters": clusters }, extra);
        return writeFile(
            `Pulumi.t${Date.now()}${Math.random().toString(36).slice(2, 6)}.yaml`,
            YAML.stringify({ config }),
        );
    };

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-test-"));
        c1 = await startFakeCluster("cluster1");
        c2 = await startFakeCluster("cluster2");
    });
    after(async () => {
        await c1.close();
        await c2.close();
        fs.rmSync(dir, { recursive: true, force: true });
        if (savedKubeconfig === undefined) delete process.env["KUBECONFIG"];
        else process.env["KUBECONFIG"] = savedKubeconfig;
    });
    beforeEach(() => {
        for (const c of [c1, c2]) {
            c.routes.clear();
            c.tokens.clear();
            c.requests.length = 0;
        }
        // Pulumi.dev.yaml sets observability with cluster1 as its hub.
        healthyMesh([c1, c2], devSpecs, {
            namespaces: ["sample", "smoke-test"],
            observability: { hub: "cluster1" },
        });
        useKubeconfig(devContexts());
    });

    it("passes a healthy dev mesh: exit 0, every check ✔", async () => {
        const r = await run(["--config", devFile]);
        assert.equal(r.err, "", r.err);
        assert.equal(r.code, 0, r.out);
        const lines = r.out.trimEnd().split("\n");
        assert.equal(lines[0], "cluster1");
        assert.equal(lines[lines.length - 1], "36 checks: 36 passed, 0 failed");
        assert.deepEqual(
            lines.filter((l) => l.startsWith("  ")).map((l) => l.trim()[0]),
            Array(36).fill("✔"),
        );
        assert.ok(lines.includes("  ✔ kubernetes           Kubernetes v1.32.2"), r.out);
        assert.ok(lines.includes("  ✔ istiod-view          cluster2 synced"), r.out);
        assert.ok(
            lines.includes(
                "  ✔ webhooks             injection: service istio-system/istiod path /inject/cluster/cluster2/net/network2; " +
                    "validation: service istio-system/istiod; EndpointSlice istiod: 172.18.0.2",
            ),
            r.out,
        );
    });

    it("--json prints one document: every result with exactly cluster, check, status, expected, found, hint", async () => {
        const { code, results } = await runJson(["--config", devFile]);
        assert.equal(code, 0);
        assert.deepEqual(tuples(results), healthyDev);
        for (const r of results)
            assert.deepEqual(Object.keys(r), ["cluster", "check", "status", "expected", "found", "hint"]);
        const token = results.find((r) => r.check === "remote-secret-token")!;
        assert.deepEqual(token, {
            cluster: "cluster1",
            check: "remote-secret-token",
            status: "pass",
            expected: "the token in the secret for cluster2 authenticates to cluster2's API server",
            found: "accepted",
            hint: "",
        });
    });

    const obs = obsPaths();

    /** One break per check: what to change, and the one failure it must give. */
    const breaks: {
        title: string;
        breakIt: () => void;
        cluster: string;
        check: string;
        found: string;
        hint: RegExp;
    }[] = [
        {
            title: "a missing remote secret",
            breakIt: () => c1.routes.set(paths.remoteSecrets, { items: [] }),
            cluster: "cluster1",
            check: "remote-secrets",
            found: "none",
            hint: /^`pulumi up` creates istio-remote-secret-cluster2 \(ClusterLink cluster2\)$/,
        },
        {
            title: "an extra remote secret",
            breakIt: () => {
                const stray = { ...c2, name: "cluster9" } as FakeCluster;
                c1.routes.set(paths.remoteSecrets, {
                    items: [remoteSecret(c2, "reader-cluster2"), remoteSecret(stray, "x")],
                });
            },
            cluster: "cluster1",
            check: "remote-secrets",
            found: "cluster2 (istio-remote-secret-cluster2), cluster9 (istio-remote-secret-cluster9)",
            hint: /makes istiod read cluster9, which the plan does not: `kubectl -n istio-system delete secret istio-remote-secret-cluster9`/,
        },
        {
            title: "istiod not ready",
            breakIt: () => {
                const d = c1.routes.get(paths.istiod) as { status: Record<string, number> };
                d.status = { replicas: 1, readyReplicas: 0 };
            },
            cluster: "cluster1",
            check: "istiod",
            found: "0/1 ready, image docker.io/istio/pilot:1.30.3, revision default",
            hint: /^`kubectl -n istio-system describe deploy\/istiod` and `kubectl -n istio-system logs deploy\/istiod`/,
        },
        {
            title: "istiod at another version",
            breakIt: () => {
                const d = c1.routes.get(paths.istiod) as {
                    spec: { template: { spec: { containers: unknown[] } } };
                };
                d.spec.template.spec.containers = [
                    { name: "discovery", image: "docker.io/istio/pilot:1.29.1" },
                ];
            },
            cluster: "cluster1",
            check: "istiod",
            found: "1/1 ready, image docker.io/istio/pilot:1.29.1, revision default",
            hint: /`pulumi up` installs istiod 1\.30\.3$/,
        },
        {
            title: "a revision's webhook left behind in a remote (an old revision not uninstalled)",
            breakIt: () => {
                const list = c2.routes.get(paths.webhooks) as { items: unknown[] };
                list.items.push({
                    metadata: { name: "istio-sidecar-injector-1-29-6", labels: { "istio.io/rev": "1-29-6" } },
                });
            },
            cluster: "cluster2",
            check: "revisions",
            found: "revisions 1-29-6, default",
            hint: /^run `pulumi up` \(it installs every revision of `mesh.istio` and puts each tag on its revision\)/,
        },
        {
            title: "a remote absent from istiod's cluster list",
            breakIt: () =>
                c1.routes.set(paths.clusterz, [{ id: "cluster1", secretName: "", syncStatus: "synced" }]),
            cluster: "cluster1",
            check: "istiod-view",
            found: "no remote cluster",
            hint: /^istiod has not \(or not fully\) loaded the remote secrets/,
        },
        {
            title: "a remote that istiod cannot sync",
            breakIt: () =>
                c1.routes.set(paths.clusterz, [
                    {
                        id: "cluster2",
                        secretName: "istio-system/istio-remote-secret-cluster2",
                        syncStatus: "timeout",
                    },
                ]),
            cluster: "cluster1",
            check: "istiod-view",
            found: "cluster2 timeout",
            hint: /reachable from cluster1's pods$/,
        },
        {
            title: "an expired reader token",
            breakIt: () => c2.tokens.delete("reader-cluster2"),
            cluster: "cluster1",
            check: "remote-secret-token",
            found: "rejected: HTTP 401 Unauthorized",
            hint: /^the reader token of cluster2 is no longer accepted: change `mesh.readerTokens.rotation` \(a new number or today's date\) and run `pulumi up`: new tokens, every remote secret updated in place, the old token deleted last$/,
        },
        {
            title: "a wrong network label",
            breakIt: () =>
                c2.routes.set(paths.istioSystem, {
                    metadata: {
                        labels: { "topology.istio.io/network": "network1" },
                        annotations: { "topology.istio.io/controlPlaneClusters": "cluster1" },
                    },
                }),
            cluster: "cluster2",
            check: "istio-system",
            found: "label topology.istio.io/network=network1, annotation topology.istio.io/controlPlaneClusters=cluster1",
            hint: /`kubectl label ns istio-system topology.istio.io\/network=network2 --overwrite`/,
        },
        {
            title: "a remote without its primary annotation",
            breakIt: () =>
                c2.routes.set(paths.istioSystem, {
                    metadata: { labels: { "topology.istio.io/network": "network2" } },
                }),
            cluster: "cluster2",
            check: "istio-system",
            found: "label topology.istio.io/network=network2, annotation topology.istio.io/controlPlaneClusters=(none)",
            hint: /^run `pulumi up` \(it sets them on istio-system\)/,
        },
        {
            title: "a gateway without its address",
            breakIt: () => {
                const s = c1.routes.get(paths.gateway) as { spec: Record<string, unknown> };
                delete s.spec.externalIPs;
            },
            cluster: "cluster1",
            check: "gateway",
            found: "addresses (none), ports 15021, 15443, 15012, 15017",
            hint: /so the Service carries `eastWest.address` \(172\.18\.0\.2\)$/,
        },
        {
            title: "a gateway without ready endpoints",
            breakIt: () =>
                c2.routes.set(paths.gatewaySlices, {
                    items: [{ endpoints: [{ addresses: ["10.244.0.9"], conditions: { ready: false } }] }],
                }),
            cluster: "cluster2",
            check: "gateway-endpoints",
            found: "0 ready",
            hint: /its proxy needs istiod of cluster1 through that primary's gateway$/,
        },
        {
            title: "a Kubernetes older than Istio 1.30 supports",
            breakIt: () => c2.routes.set(paths.version, { gitVersion: "v1.31.4" }),
            cluster: "cluster2",
            check: "kubernetes",
            found: "Kubernetes v1.31.4",
            hint: /^upgrade the cluster to Kubernetes 1\.32 or later/,
        },
        {
            title: "a remote webhook that points elsewhere",
            breakIt: () =>
                c2.routes.set(paths.istiodSlices, {
                    items: [{ endpoints: [{ addresses: ["172.18.0.9"] }] }],
                }),
            cluster: "cluster2",
            check: "webhooks",
            found: "EndpointSlice istiod lacks 172.18.0.2",
            hint: /re-installs it with cluster1's east-west address/,
        },
        {
            title: "a mesh namespace without the injection label",
            breakIt: () => c2.routes.set(paths.namespace("smoke-test"), { metadata: { name: "smoke-test" } }),
            cluster: "cluster2",
            check: "namespace",
            found: "namespace smoke-test with istio-injection=(none)",
            hint: /`kubectl label ns smoke-test istio-injection=enabled --overwrite`/,
        },
        {
            title: "a missing stub Service for another cluster's Prometheus in the hub",
            breakIt: () => c1.routes.delete(obs.service("prometheus-cluster2")),
            cluster: "cluster1",
            check: "prometheus-stub",
            found: "no Service prometheus-cluster2 in observability",
            hint: /^re-run `pulumi up`: it creates prometheus-cluster2 so the hub's DNS resolves/,
        },
        {
            title: "a stub Service with a selector",
            breakIt: () => {
                const s = c1.routes.get(obs.service("prometheus-cluster2")) as {
                    spec: Record<string, unknown>;
                };
                s.spec.selector = { "app.kubernetes.io/name": "prometheus" };
            },
            cluster: "cluster1",
            check: "prometheus-stub",
            found: "port 9090, selector app.kubernetes.io/name=prometheus",
            hint: /`kubectl -n observability delete svc prometheus-cluster2` and re-run `pulumi up`$/,
        },
        {
            title: "a cluster Prometheus without its sidecar",
            breakIt: () => {
                const list = c2.routes.get(obs.prometheusPods) as {
                    items: { spec: Record<string, unknown> }[];
                };
                list.items[0]!.spec = { containers: [{ name: "prometheus-server" }] };
            },
            cluster: "cluster2",
            check: "prometheus-injected",
            found: "0/1 pods with istio-proxy (without: prometheus-cluster2-5c9d8-x7k2p)",
            hint: /`kubectl -n observability rollout restart deploy\/prometheus-cluster2`/,
        },
        {
            title: "a cluster Prometheus Deployment with no ready replica",
            breakIt: () => {
                const d = c2.routes.get(obs.deployment("prometheus-cluster2")) as {
                    status: Record<string, number>;
                };
                d.status = { replicas: 1, readyReplicas: 0 };
            },
            cluster: "cluster2",
            check: "prometheus",
            found: "0/1 ready",
            hint: /^`kubectl -n observability describe deploy\/prometheus-cluster2`/,
        },
        {
            title: "Grafana not available in the hub",
            breakIt: () => {
                const d = c1.routes.get(obs.deployment("grafana")) as { status: Record<string, number> };
                d.status = { replicas: 1 };
            },
            cluster: "cluster1",
            check: "hub-grafana",
            found: "0/1 ready",
            hint: /check the hub's egress to raw\.githubusercontent\.com for Grafana's dashboards/,
        },
        {
            title: "no Jaeger in the hub",
            breakIt: () => c1.routes.delete(obs.deployment("jaeger")),
            cluster: "cluster1",
            check: "hub-jaeger",
            found: "no Deployment jaeger in observability",
            hint: /^re-run `pulumi up`: it installs the Helm release jaeger in observability$/,
        },
        {
            title: "the observability namespace's PeerAuthentication PERMISSIVE",
            breakIt: () =>
                c1.routes.set(obs.peerAuthentication, {
                    metadata: { name: "default" },
                    spec: { mtls: { mode: "PERMISSIVE" } },
                }),
            cluster: "cluster1",
            check: "obs-mtls",
            found: "mTLS PERMISSIVE",
            hint: /^re-run `pulumi up` to restore it/,
        },
        {
            title: "a missing observability AuthorizationPolicy",
            breakIt: () => c1.routes.delete(obs.authorizationPolicy("prometheus-federate")),
            cluster: "cluster1",
            check: "obs-authz",
            found: "no prometheus-federate",
            hint: /^re-run `pulumi up` to restore them/,
        },
        {
            title: "an observability namespace without the injection label",
            breakIt: () => c2.routes.set(obs.namespace, { metadata: { name: "observability" } }),
            cluster: "cluster2",
            check: "obs-namespace",
            found: "namespace observability with istio-injection=(none)",
            hint: /`kubectl label ns observability istio-injection=enabled --overwrite`/,
        },
        {
            title: "a cluster Prometheus Service without ready endpoints",
            breakIt: () => c2.routes.set(obs.slices("prometheus-cluster2"), { items: [] }),
            cluster: "cluster2",
            check: "prometheus-service",
            found: "port 9090, 0 ready",
            hint: /^no ready Prometheus pod behind prometheus-cluster2/,
        },
        {
            title: "no cacerts",
            breakIt: () => c1.routes.delete(paths.cacerts),
            cluster: "cluster1",
            check: "cacerts",
            found: "no Secret cacerts in istio-system",
            hint: /^run `pulumi up`: the TrustAnchor writes `cacerts` before istiod starts/,
        },
    ];
    for (const b of breaks) {
        it(`fails on ${b.title}: one ✖ ${b.check} in ${b.cluster}, its hint, exit 1`, async () => {
            b.breakIt();
            const { code, results } = await runJson(["--config", devFile]);
            assert.equal(code, 1);
            const failed = failures(results);
            assert.deepEqual(
                failed.map((f) => [f.cluster, f.check, f.found]),
                [[b.cluster, b.check, b.found]],
            );
            assert.match(failed[0]!.hint, b.hint);
            const text = await run(["--config", devFile]);
            assert.equal(text.code, 1);
            assert.ok(text.out.includes(`  ✖ ${b.check}`), text.out);
            assert.ok(text.out.includes(`      hint: ${failed[0]!.hint}\n`), text.out);
        });
    }

    it("fails an intermediate within the renewal window, showing the days left", async () => {
        const later = new Date(Date.now() + 710 * 86_400_000);
        const { code, results } = await runJson(["--config", devFile], { now: () => later });
        assert.equal(code, 1);
        const f = failures(results);
        assert.deepEqual(
            f.map((x) => `${x.cluster} ${x.check}`),
            ["cluster1 intermediate"],
        );
        assert.match(f[0]!.found, /^issued by the root, (19|20) days left$/);
        assert.equal(
            f[0]!.expected,
            "intermediate issued by root-cert.pem, more than 30 days left (the renewal window)",
        );
    });

    it("fails primaries whose cacerts chain to different roots", async () => {
        const specs: FakeSpec[] = [
            { name: "cluster1", role: "primary", network: "network1", address: "172.18.0.2" },
            { name: "cluster2", role: "primary", network: "network2", address: "172.18.0.3" },
        ];
        const pki = testPki();
        healthyMesh([c1, c2], specs, {
            cacerts: { cluster2: { root: pki.shortRootCert, intermediate: pki.outlivesRootCert } },
        });
        const file = stackFile([
            {
                name: "cluster1",
                role: "primary",
                network: "network1",
                context: "kind-cluster1",
                eastWest: { address: "172.18.0.2" },
            },
            {
                name: "cluster2",
                role: "primary",
                network: "network2",
                context: "kind-cluster2",
                eastWest: { address: "172.18.0.3" },
            },
        ]);
        const { code, results } = await runJson(["--config", file]);
        assert.equal(code, 1);
        const f = failures(results);
        assert.deepEqual(
            f.map((x) => `${x.cluster} ${x.check}`),
            ["cluster2 trust-root"],
        );
        assert.match(f[0]!.expected, /^the mesh's one root \(SHA-256 [0-9A-F:]{23}…, as in cluster1\)$/);
        assert.match(f[0]!.hint, /^every primary's cacerts must chain to the same root/);
    });

    it("a root rotation's two-root bundle passes; an istiod that has not published it is named", async () => {
        const bundle = labelledCert("ROOT") + labelledCert("ROOTB", "ROOTB");
        const b64 = (t: string) => Buffer.from(t).toString("base64");
        c1.routes.set(paths.cacerts, {
            data: { "root-cert.pem": b64(bundle), "ca-cert.pem": b64(labelledCert("int-b", "ROOTB")) },
        });
        c1.routes.set(paths.publishedRoots, { data: { "root-cert.pem": bundle } });
        const healthy = await runJson(["--config", devFile]);
        assert.deepEqual(failures(healthy.results), []);
        assert.equal(healthy.code, 0);
        const published = healthy.results.find(
            (r) => r.cluster === "cluster1" && r.check === "trust-published",
        );
        assert.equal(published?.status, "pass");
        assert.equal(
            published?.expected,
            "istio-ca-root-cert holds the cacerts bundle: O=Istio, CN=ROOT + O=Istio, CN=ROOTB",
        );

        c1.routes.set(paths.publishedRoots, { data: { "root-cert.pem": labelledCert("ROOT") } });
        const lagging = await runJson(["--config", devFile]);
        assert.equal(lagging.code, 1);
        const f = failures(lagging.results);
        assert.deepEqual(
            f.map((x) => `${x.cluster} ${x.check} ${x.found}`),
            ["cluster1 trust-published istio-ca-root-cert holds O=Istio, CN=ROOT"],
        );
        assert.match(f[0]!.hint, /ISTIO_MULTIROOT_MESH=true/);
    });

    it("an unreachable cluster gives one line; the other cluster is still checked", async () => {
        const closed = await startFakeCluster("gone");
        await closed.close();
        useKubeconfig([
            devContexts()[0]!,
            { context: "kind-cluster2", server: closed.url, token: "admin-cluster2" },
        ]);
        const { code, results } = await runJson(["--config", devFile]);
        assert.equal(code, 1);
        assert.deepEqual(
            results.filter((r) => r.cluster === "cluster2").map((r) => [r.check, r.status]),
            [["kubernetes", "fail"]],
        );
        const line = results.find((r) => r.cluster === "cluster2")!;
        assert.match(line.found, /^127\.0\.0\.1:\d+ unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
        assert.equal(
            line.hint,
            "check that the cluster runs and that context kind-cluster2 reaches it (`kubectl --context kind-cluster2 get --raw /version`)",
        );
        assert.deepEqual(
            tuples(results.filter((r) => r.cluster === "cluster1")),
            healthyDev.filter((t) => t.startsWith("cluster1")),
        );
    });

    it("a source API server this machine cannot reach: the token check is not decidable here (skip), exit 0", async () => {
        const closed = await startFakeCluster("gone");
        await closed.close();
        c1.routes.set(paths.remoteSecrets, {
            items: [remoteSecret({ ...c2, url: closed.url }, "x")],
        });
        const r = await run(["--config", devFile]);
        assert.equal(r.code, 0, r.out);
        assert.match(
            r.out,
            /\n {2}- remote-secret-token {2}not reachable from this machine \(127\.0\.0\.1:\d+ unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+\); only istiod needs to reach it\n {6}expected: the token in the secret for cluster2 authenticates to cluster2's API server\n/,
        );
        assert.ok(r.out.endsWith("36 checks: 35 passed, 0 failed, 1 not decidable from here\n"), r.out);
    });

    it("a context missing from the kubeconfig gives one line naming it; the other cluster is still checked", async () => {
        const file = useKubeconfig([devContexts()[0]!]);
        const r = await run(["--config", devFile]);
        assert.equal(r.code, 1);
        assert.ok(
            r.out.includes(
                `cluster2\n  ✖ kubernetes           context "kind-cluster2" is not in the kubeconfig (${file})\n` +
                    "      expected: the API server answers; Kubernetes 1.32 or later (Istio 1.30.3)\n" +
                    "      hint: add the context to your kubeconfig (`kind export kubeconfig --name cluster2`) or " +
                    "fix `istio-multicluster:clusters[1].context`\n",
            ),
            r.out,
        );
        assert.ok(!r.out.includes("Error:") && !r.err.includes("    at "), "no stack trace");
        assert.ok(r.out.includes("  ✔ istiod-view"), r.out);
    });

    it("a kubeconfig that only a decrypted config holds: one line for that cluster, the others checked", async () => {
        const file = stackFile([
            {
                name: "cluster1",
                role: "primary",
                network: "network1",
                context: "kind-cluster1",
                eastWest: { address: "172.18.0.2" },
            },
            {
                name: "cluster2",
                role: "remote",
                primary: "cluster1",
                network: "network2",
                kubeconfig: { secure: "AAABAHNvbWV0aGluZw==" },
                eastWest: { address: "172.18.0.3" },
            },
        ]);
        const { code, results } = await runJson(["--config", file]);
        assert.equal(code, 1);
        assert.deepEqual(
            results.filter((r) => r.cluster === "cluster2"),
            [
                {
                    cluster: "cluster2",
                    check: "kubernetes",
                    status: "fail",
                    expected: "the API server answers; Kubernetes 1.32 or later (Istio 1.30.3)",
                    found: "its kubeconfig is a secure: value this config file cannot decrypt",
                    hint: `run \`npm run verify -- --stack ${path.basename(file).replace(/^Pulumi\.|\.yaml$/g, "")}\` with the Pulumi CLI logged in, which decrypts it`,
                },
            ],
        );
        assert.equal(failures(results).length, 1);
    });

    it("--stack reads the decrypted config through the Pulumi CLI, kubeconfig included", async () => {
        const calls: string[][] = [];
        const kubeconfig = kubeconfigFor([{ context: "c2", server: c2.url, token: "admin-cluster2" }]);
        const pulumi: PulumiRunner = (args) => {
            calls.push(args);
            const doc = YAML.parse(fs.readFileSync(devFile, "utf8")) as { config: Record<string, unknown> };
            const clusters = doc.config["istio-multicluster:clusters"] as Record<string, unknown>[];
            delete clusters[1]!.context;
            clusters[1]!.kubeconfig = kubeconfig;
            const out = Object.fromEntries(
                Object.entries(doc.config).map(([k, v]) => [
                    k,
                    { value: JSON.stringify(v), objectValue: v, secret: k === "istio-multicluster:clusters" },
                ]),
            );
            return { status: 0, stdout: JSON.stringify(out), stderr: "", missing: false };
        };
        const { code, results } = await runJson(["--stack", "dev"], { pulumi });
        assert.deepEqual(calls, [["config", "--show-secrets", "--json", "--stack", "dev"]]);
        assert.equal(code, 0, JSON.stringify(failures(results)));
        assert.deepEqual(tuples(results), healthyDev);
    });

    it("refuses an unknown stack in one line (exit 2), with and without the Pulumi CLI", async () => {
        const without = await run(["--stack", "nope"]);
        assert.deepEqual(
            [without.code, without.out, without.err],
            [
                2,
                "",
                'verify refused: unknown stack "nope": the Pulumi CLI is not on PATH and there is no Pulumi.nope.yaml; ' +
                    "install the CLI or pass --config <file>\n",
            ],
        );
        const pulumi: PulumiRunner = () => ({
            status: 255,
            stdout: "",
            stderr: "error: no stack named 'nope' found\n",
            missing: false,
        });
        const withCli = await run(["--stack", "nope"], { pulumi });
        assert.deepEqual(
            [withCli.code, withCli.err],
            [2, `verify refused: stack "nope": pulumi config failed: no stack named 'nope' found\n`],
        );
    });

    it("without the Pulumi CLI, --stack reads Pulumi.<stack>.yaml and says so", async () => {
        const r = await run(["--stack", "dev"]);
        assert.equal(r.code, 0, r.out);
        assert.equal(
            r.err,
            "note: the Pulumi CLI is not on PATH; read Pulumi.dev.yaml, whose secure: values cannot be decrypted\n",
        );
    });

    it("refuses bad arguments and a refused config with every problem (exit 2)", async () => {
        assert.deepEqual(await run([]), {
            code: 2,
            out: "",
            err:
                "verify refused: give exactly one of --stack and --config; usage: npm run verify -- " +
                "(--stack <name> | --config <file>) [--json] [--wait <duration>]; --help for more\n",
        });
        assert.equal(
            (await run(["--config", devFile, "--wait", "soon"])).err,
            "verify refused: --wait soon: not a duration; use e.g. 30s, 10m, 1h\n",
        );
        const bad = stackFile([{ name: "Cluster_1", role: "primary", context: "x" }]);
        const r = await run(["--config", bad]);
        assert.equal(r.code, 2);
        assert.equal(
            r.err,
            `verify refused: stack "${path.basename(bad).replace(/^Pulumi\.|\.yaml$/g, "")}": the configuration ` +
                "describes no possible mesh (1 problem(s))\n" +
                `  - istio-multicluster:clusters[0].name: "Cluster_1" is not a DNS-1123 label (lower-case letters, ` +
                "digits and '-', starting and ending with a letter or digit)\n",
        );
    });

    it("checks the namespaces of istio-multicluster:namespaces when the stack lists them", async () => {
        const file = stackFile(
            [
                {
                    name: "cluster1",
                    role: "primary",
                    network: "network1",
                    context: "kind-cluster1",
                    eastWest: { address: "172.18.0.2" },
                },
                {
                    name: "cluster2",
                    role: "remote",
                    primary: "cluster1",
                    network: "network2",
                    context: "kind-cluster2",
                    eastWest: { address: "172.18.0.3" },
                },
            ],
            { "istio-multicluster:namespaces": [{ name: "apps", labels: { team: "a" } }] },
        );
        c1.routes.set(paths.namespace("apps"), {
            metadata: { name: "apps", labels: { "istio-injection": "enabled" } },
        });
        const { code, results } = await runJson(["--config", file]);
        assert.equal(code, 1);
        assert.deepEqual(
            results.filter((r) => r.check === "namespace").map((r) => [r.cluster, r.status, r.found]),
            [
                ["cluster1", "pass", "namespace apps with istio-injection=enabled"],
                ["cluster2", "fail", "no namespace apps"],
            ],
        );
    });

    it("checks observability only as configured: none without it; with metrics off, only what the plan has", async () => {
        const dev = YAML.parse(fs.readFileSync(devFile, "utf8")) as { config: Record<string, unknown> };
        const clusters = dev.config["istio-multicluster:clusters"] as unknown[];
        const obsChecks = (rs: readonly CheckResult[]) =>
            rs
                .filter((r) => /^(obs-|prometheus|hub-)/.test(r.check))
                .map((r) => `${r.cluster} ${r.check} ${r.status}`);
        const without = await runJson(["--config", stackFile(clusters)]);
        assert.equal(without.code, 0, JSON.stringify(failures(without.results)));
        assert.deepEqual(obsChecks(without.results), []);

        healthyMesh([c1, c2], devSpecs, { observability: { hub: "cluster1", namespace: "telemetry" } });
        const file = stackFile(clusters, {
            "istio-multicluster:observability": {
                hub: "cluster1",
                namespace: "telemetry",
                metrics: { enabled: false },
            },
        });
        const { code, results } = await runJson(["--config", file]);
        assert.equal(code, 0, JSON.stringify(failures(results)));
        assert.deepEqual(obsChecks(results), [
            "cluster1 obs-namespace pass",
            "cluster1 hub-jaeger pass",
            "cluster1 obs-mtls pass",
            "cluster1 obs-authz pass",
            "cluster2 obs-namespace pass",
        ]);
        assert.deepEqual(
            results.filter((r) => r.check === "obs-authz").map((r) => [r.expected, r.found]),
            [["AuthorizationPolicies jaeger in telemetry", "1 present"]],
        );
    });

    it("with a revision: istiod, its webhooks and the injection label are the revision's", async () => {
        healthyMesh([c1, c2], devSpecs, { namespaces: ["apps"], revision: "1-30-3" });
        const dev = YAML.parse(fs.readFileSync(devFile, "utf8")) as { config: Record<string, unknown> };
        const meshDoc = dev.config["istio-multicluster:mesh"] as { istio: Record<string, unknown> };
        const file = stackFile(dev.config["istio-multicluster:clusters"] as unknown[], {
            "istio-multicluster:mesh": { ...meshDoc, istio: { ...meshDoc.istio, revision: "1-30-3" } },
            "istio-multicluster:namespaces": [{ name: "apps" }],
        });
        const { code, results } = await runJson(["--config", file]);
        assert.equal(code, 0, JSON.stringify(failures(results)));
        assert.deepEqual(
            results.filter((r) => ["istiod", "namespace", "webhooks"].includes(r.check)).map((r) => r.found),
            [
                "1/1 ready, image docker.io/istio/pilot:1.30.3, revision 1-30-3",
                "namespace apps with istio.io/rev=1-30-3",
                "namespace apps with istio.io/rev=1-30-3",
                "injection: service istio-system/istiod-1-30-3 path /inject/cluster/cluster2/net/network2; " +
                    "validation: service istio-system/istiod-1-30-3; EndpointSlice istiod-1-30-3: 172.18.0.2",
            ],
        );
    });

    it("accepts webhook URLs on the primary's gateway host when its address is a hostname, and nothing else", async () => {
        const specs: FakeSpec[] = [
            { name: "cluster1", role: "primary", network: "network1", address: "gw.cluster1.example.com" },
            {
                name: "cluster2",
                role: "remote",
                primary: "cluster1",
                network: "network2",
                address: "172.18.0.3",
            },
        ];
        healthyMesh([c1, c2], specs);
        const file = stackFile([
            {
                name: "cluster1",
                role: "primary",
                network: "network1",
                context: "kind-cluster1",
                // A host name needs a load balancer: the dev stack's NodePort cannot serve one (issue 9).
                eastWest: { serviceType: "LoadBalancer", address: "gw.cluster1.example.com" },
            },
            {
                name: "cluster2",
                role: "remote",
                primary: "cluster1",
                network: "network2",
                context: "kind-cluster2",
                eastWest: { address: "172.18.0.3" },
            },
        ]);
        const ok = await runJson(["--config", file]);
        assert.equal(ok.code, 0, JSON.stringify(failures(ok.results)));
        assert.equal(
            ok.results.find((r) => r.check === "webhooks")!.expected,
            "webhooks call https://gw.cluster1.example.com:15017 (injection path /inject/cluster/cluster2/net/network2)",
        );
        c2.routes.set(paths.validator, {
            webhooks: [{ clientConfig: { service: { name: "istiod", namespace: "istio-system" } } }],
        });
        const bad = await runJson(["--config", file]);
        assert.deepEqual(
            failures(bad.results).map((r) => [r.cluster, r.check, r.found]),
            [
                [
                    "cluster2",
                    "webhooks",
                    "validation webhook does not call https://gw.cluster1.example.com:15017",
                ],
            ],
        );
    });

    it("when istiod refuses the service proxy (401), port-forwards like istioctl and reports a failed forward", async () => {
        c1.routes.set(paths.clusterz, new Answer(401, { message: "Unauthorized" }));
        c1.routes.set(paths.istiodPods, {
            items: [{ metadata: { name: "istiod-7d9f" }, status: { phase: "Running" } }],
        });
        const { code, results } = await runJson(["--config", devFile]);
        assert.equal(code, 1);
        const f = failures(results);
        assert.deepEqual(
            f.map((x) => `${x.cluster} ${x.check}`),
            ["cluster1 istiod-view"],
        );
        assert.match(f[0]!.found, /^the read failed: port-forward to istiod-7d9f:15014/);
        assert.ok(
            c1.requests.some((p) =>
                p.startsWith("/api/v1/namespaces/istio-system/pods/istiod-7d9f/portforward"),
            ),
            c1.requests.join("\n"),
        );
    });

    describe("--wait", () => {
        it("re-checks with a progress line until all pass", async () => {
            const good = c1.routes.get(paths.clusterz);
            // istiod lists the remote from its third answer on: two rounds fail, the third passes.
            let asked = 0;
            c1.routes.set(paths.clusterz, () => (++asked >= 3 ? good : []));
            const r = await run(["--config", devFile, "--wait", "10s"], { intervalMs: 150 });
            assert.equal(r.code, 0, r.out + r.err);
            const progress = r.err.trimEnd().split("\n");
            assert.equal(progress.length, 2, r.err);
            for (const [i, line] of progress.entries()) {
                assert.match(
                    line,
                    new RegExp(
                        `^waiting \\(round ${i + 1}\\): 1 of 36 checks failing \\(cluster1 istiod-view\\); (10|9)s left$`,
                    ),
                );
            }
            assert.ok(r.out.endsWith("36 checks: 36 passed, 0 failed\n"), r.out);
        });

        it("gives up when the time runs out: the last report and exit 1", async () => {
            c2.tokens.delete("reader-cluster2");
            const started = Date.now();
            const r = await run(["--config", devFile, "--wait", "1s"], { intervalMs: 200 });
            assert.equal(r.code, 1);
            assert.ok(Date.now() - started >= 1000);
            assert.ok(r.err.endsWith("verify: still failing when --wait ran out\n"), r.err);
            assert.ok(r.out.includes("  ✖ remote-secret-token"), r.out);
        });

        it("reads durations as Go and kubectl write them", () => {
            assert.deepEqual(["10m", "30s", "1h", "1m30s", "250ms", "", "ten", "10"].map(parseDuration), [
                600_000,
                30_000,
                3_600_000,
                90_000,
                250,
                undefined,
                undefined,
                undefined,
            ]);
        });
    });
});
