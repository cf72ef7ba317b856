/**
 * Day two under the real Pulumi CLI on local clusters: an Istio upgrade from 1.29.6 to 1.30.3 by revision
 * canary, in the demo mesh (two primaries on two networks, a remote of primary1), one config edit and one
 * `pulumi up` per step, each followed by `pulumi preview --expect-no-changes`.
 *
 * The charts are Istio's own of each version (../shared/reference/istio-<v>/charts, stamped as released);
 * every istiod Pod is answered by the one istiod binary the clusters were built with (tools/clusters/build.ts),
 * whichever revision's chart made the Pod: what the engine tier proves is the engine's order of operations
 * and Helm's view of the releases, not a 1.29 control plane's behaviour.
 */
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Api } from "../../tools/clusters/api";
import { ensureBinaries } from "../../tools/clusters/build";
import { adminAccess, MeshState } from "../../tools/clusters/state";
import { releasedCharts } from "../../tools/engine/charts";
import { makeMeshPki, MeshPki, pkiConfigCommands } from "../../tools/engine/meshPki";
import { demoChain, demoMeshId } from "./support/chain";
import { assertEveryClusterSynced, EngineStack, nameOf, summaryCounts, verify } from "./support/engineStack";

const clusters = ["primary1", "primary2", "remote1"];
const primaries = ["primary1", "primary2"];
const old = { name: "1-29-6", version: "1.29.6" };
const next = { name: "1-30-3", version: "1.30.3" };
const istio = "istio-multicluster:mesh.istio";

interface Live {
    /** Deployed Helm releases in istio-system. */
    releases: string[];
    /** Revision tag → the revision its webhook serves. */
    tags: Record<string, string>;
    /** The revision the east-west gateway's pods run on. */
    gateway?: string;
    /** The sample namespace's injection labels. */
    sample: Record<string, string>;
}

/** What one cluster runs now, read from its API server. */
async function live(mesh: MeshState, cluster: string): Promise<Live> {
    const api = new Api(adminAccess(mesh.clusters.find((c) => c.name === cluster)!));
    try {
        const secrets = await api.list<{ metadata: { labels?: Record<string, string> } }>(
            "/api/v1/namespaces/istio-system/secrets?labelSelector=owner%3Dhelm%2Cstatus%3Ddeployed",
        );
        const hooks = await api.list<{ metadata: { name: string; labels?: Record<string, string> } }>(
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
        );
        const gateway = await api.get<{
            spec: { template: { metadata: { labels?: Record<string, string> } } };
        }>("/apis/apps/v1/namespaces/istio-system/deployments/istio-eastwestgateway");
        const sample = await api.get<{ metadata: { labels?: Record<string, string> } }>(
            "/api/v1/namespaces/sample",
        );
        const labels = sample?.metadata.labels ?? {};
        return {
            releases: secrets.map((s) => s.metadata.labels?.name ?? "?").sort(),
            tags: Object.fromEntries(
                hooks
                    .filter((h) => h.metadata.name.startsWith("istio-revision-tag-"))
                    .map((h) => [
                        h.metadata.labels?.["istio.io/tag"] ?? "?",
                        h.metadata.labels?.["istio.io/rev"] ?? "?",
                    ]),
            ),
            ...(gateway ? { gateway: gateway.spec.template.metadata.labels?.["istio.io/rev"] } : {}),
            sample: Object.fromEntries(
                Object.entries(labels).filter(([k]) => k === "istio-injection" || k === "istio.io/rev"),
            ),
        };
    } finally {
        api.close();
    }
}

/** Subjects of the certificates in a PEM text, in order. */
function subjects(pem: string): string[] {
    return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map(
        (m) => new X509Certificate(m[0]).subject,
    );
}

async function readObject(
    mesh: MeshState,
    cluster: string,
    objectPath: string,
): Promise<Record<string, string>> {
    const api = new Api(adminAccess(mesh.clusters.find((c) => c.name === cluster)!));
    try {
        return (await api.get<{ data?: Record<string, string> }>(objectPath))?.data ?? {};
    } finally {
        api.close();
    }
}

/** A Secret's data, decoded. */
async function secretData(
    mesh: MeshState,
    cluster: string,
    ns: string,
    name: string,
): Promise<Record<string, string>> {
    const data = await readObject(mesh, cluster, `/api/v1/namespaces/${ns}/secrets/${name}`);
    return Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
    );
}

async function configMapData(
    mesh: MeshState,
    cluster: string,
    ns: string,
    name: string,
): Promise<Record<string, string>> {
    return readObject(mesh, cluster, `/api/v1/namespaces/${ns}/configmaps/${name}`);
}

/** Reads `read` until `done` holds or `ms` pass; the last value read either way. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms: number): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
        const v = await read();
        if (done(v) || Date.now() > end) return v;
        await new Promise((r) => setTimeout(r, 2000));
    }
}

/** The preview's changes, as `op name`, reads and unchanged resources left out. */
async function plannedChanges(stack: EngineStack): Promise<string[]> {
    return (await stack.previewSteps())
        .filter((s) => s.op !== "same" && s.op !== "read")
        .map((s) => `${s.op} ${nameOf(s.urn)}`)
        .sort();
}

/** `pulumi preview --expect-no-changes` passes: the last `up` left nothing to do. */
async function expectNoChanges(stack: EngineStack): Promise<void> {
    const r = await stack.run(["preview", "--expect-no-changes", "--diff"]);
    assert.equal(r.code, 0, r.stdout.slice(-4000));
}

describe("engine tier: day two on local clusters", function () {
    this.timeout(30 * 60_000);
    before(async function () {
        this.timeout(90 * 60_000);
        await ensureBinaries((s) => process.stderr.write(`      ${s}\n`));
    });

    describe("an Istio upgrade by revision canary, 1.29.6 to 1.30.3", () => {
        const stack = demoChain(clusters, "ip", { label: "upgrade" });
        const mesh = () => stack().mesh;
        const set = (key: string, value: string) =>
            stack().ok(["config", "set", "--path", `${istio}.${key}`, value]);
        const rm = (key: string) => stack().ok(["config", "rm", "--path", `${istio}.${key}`]);
        const planned = () => plannedChanges(stack());
        const noChanges = () => expectNoChanges(stack());

        it("lifecycle: 1.29.6 as revision 1-29-6 (the one-version form) comes up from nothing", async () => {
            // Both versions' charts, one directory each: `{version}` in mesh.istio.charts picks the release's.
            const root = path.join(stack().workDir, "charts");
            for (const v of [old.version, next.version]) releasedCharts(v, root);
            await set("charts", path.join(root, "istio-{version}"));
            await set("version", old.version);
            await set("revision", old.name);
            await stack().up();
            for (const c of clusters) {
                const l = await live(mesh(), c);
                assert.deepEqual(
                    l.releases,
                    ["istio-base", "istio-eastwestgateway", `istiod-${old.name}`],
                    c,
                );
                assert.deepEqual(l.tags, { default: old.name }, c);
                assert.equal(l.gateway, old.name, c);
                assert.deepEqual(l.sample, { "istio.io/rev": old.name }, c);
            }
            await noChanges();
        });

        it("lifecycle: the same mesh written as revisions and tags moves no release (only the namespace's label)", async () => {
            await rm("version");
            await rm("revision");
            await set("revisions[0].name", old.name);
            await set("revisions[0].version", old.version);
            await set("tags.default", old.name);
            // Under the general form the default tag serves istio-injection=enabled: the label changes, the
            // revision that injects the namespace does not. Every release keeps its state under its new name.
            assert.deepEqual(
                await planned(),
                clusters.map((c) => `update ${c}/sample`),
            );
            const { run } = await stack().up();
            const counts = summaryCounts(run.stdout);
            assert.equal(counts.created, undefined, run.stdout.slice(-3000));
            assert.equal(counts.deleted, undefined, run.stdout.slice(-3000));
            for (const c of clusters)
                assert.deepEqual((await live(mesh(), c)).sample, { "istio-injection": "enabled" });
            await noChanges();
        });

        it("lifecycle: the canary 1.30.3 installed beside it in every cluster, nothing else moved", async () => {
            await set("revisions[1].name", next.name);
            await set("revisions[1].version", next.version);
            await set("tags.canary", next.name);
            const changes = await planned();
            assert.deepEqual(
                changes,
                [
                    ...clusters.flatMap((c) => [`create ${c}-istiod-${next.name}`, `update ${c}-base`]),
                    `create primary1-istiod-vs-${next.name}`,
                    // hardening (light in the demo): each primary's new istiod is admitted by its own policy.
                    ...primaries.map((c) => `create ${c}-istiod-${next.name}-ingress`),
                ].sort(),
            );
            await stack().up();
            for (const c of clusters) {
                const l = await live(mesh(), c);
                assert.deepEqual(
                    l.releases,
                    ["istio-base", "istio-eastwestgateway", `istiod-${old.name}`, `istiod-${next.name}`],
                    c,
                );
                assert.deepEqual(l.tags, { canary: next.name, default: old.name }, c);
                assert.equal(l.gateway, old.name, c);
            }
            await noChanges();
            // What an operator reads before moving the tag: every cluster runs both, the tags where planned.
            const checked = verify(stack());
            assert.equal(checked.code, 0, checked.output);
            const lines = checked.output.split("\n").filter((l) => l.includes("✔ revisions"));
            assert.equal(lines.length, clusters.length, checked.output);
            for (const l of lines) assert.match(l, /revisions 1-29-6 \(default\), 1-30-3 \(canary\)$/);
        });

        it("lifecycle: the default tag moved to 1-30-3: tags, base's validator and the gateways move, in one up", async () => {
            await set("tags.default", next.name);
            assert.deepEqual(
                await planned(),
                clusters
                    .flatMap((c) => [
                        `update ${c}-base`,
                        `update ${c}-eastwestgateway`,
                        `update ${c}-istiod-${old.name}`,
                        `update ${c}-istiod-${next.name}`,
                    ])
                    .sort(),
            );
            await stack().up();
            for (const c of clusters) {
                const l = await live(mesh(), c);
                assert.deepEqual(l.tags, { canary: next.name, default: next.name }, c);
                assert.equal(l.gateway, next.name, c);
                assert.deepEqual(l.sample, { "istio-injection": "enabled" }, c);
            }
            await noChanges();
        });

        it("lifecycle: the old revision removed: only its releases and route go", async () => {
            await rm("revisions[0]");
            assert.deepEqual(
                await planned(),
                [
                    ...clusters.map((c) => `delete ${c}-istiod-${old.name}`),
                    `delete primary1-istiod-vs-${old.name}`,
                    ...primaries.map((c) => `delete ${c}-istiod-${old.name}-ingress`),
                ].sort(),
            );
            await stack().up();
            for (const c of clusters) {
                const l = await live(mesh(), c);
                assert.deepEqual(
                    l.releases,
                    ["istio-base", "istio-eastwestgateway", `istiod-${next.name}`],
                    c,
                );
                assert.deepEqual(l.tags, { canary: next.name, default: next.name }, c);
            }
            await noChanges();
        });
    });

    describe("a root CA rotation, staged: add, switch, finish", () => {
        const stack = demoChain(clusters, "ip", { label: "rotation" });
        const mesh = () => stack().mesh;
        const ca = "istio-multicluster:mesh.ca";
        let rootA: string;
        let next: MeshPki;
        const rootB = () => fs.readFileSync(next.rootCert, "utf8");
        const cacerts = (c: string) => `${demoMeshId}-${c}-cacerts`;
        const planned = () => plannedChanges(stack());
        const noChanges = () => expectNoChanges(stack());
        const stage = (value: string) =>
            stack().ok(["config", "set", "--path", `${ca}.rotation.stage`, value]);
        /**
         * Each primary's `cacerts` (the bundle and the signing intermediate's issuer), and in every cluster the
         * `istio-ca-root-cert` the real istiod publishes in `sample`: the roots of each, by subject, waited for
         * (istiod reloads a changed `cacerts` from its files, as the kubelet refreshes them).
         */
        const assertTrust = async (bundle: string[], signer: string) => {
            for (const c of primaries) {
                const data = await secretData(mesh(), c, "istio-system", "cacerts");
                assert.deepEqual(subjects(data["root-cert.pem"]!), bundle, `${c} cacerts root-cert.pem`);
                assert.equal(
                    new X509Certificate(data["ca-cert.pem"]!).issuer,
                    signer,
                    `${c} ca-cert.pem issuer`,
                );
            }
            for (const c of clusters) {
                const published = await until(
                    async () =>
                        subjects(
                            (await configMapData(mesh(), c, "sample", "istio-ca-root-cert"))[
                                "root-cert.pem"
                            ] ?? "",
                        ),
                    (roots) => JSON.stringify(roots) === JSON.stringify(bundle),
                    90_000,
                );
                assert.deepEqual(published, bundle, `${c}: istio-ca-root-cert published by istiod`);
            }
        };
        const A = `O=${demoMeshId}\nCN=Root CA`;
        const B = `O=${demoMeshId}\nCN=Root CA 2`;

        it("lifecycle: root rotation: the mesh comes up under root A, recorded at generation 1", async () => {
            rootA = fs.readFileSync(path.join(stack().pkiDir, "root-cert.pem"), "utf8");
            next = makeMeshPki(path.join(stack().workDir, "pki-next"), demoMeshId, primaries, "Root CA 2");
            await stack().up();
            await assertTrust([A], A);
            const outputs = JSON.parse((await stack().ok(["stack", "output", "--json"])).stdout) as Record<
                string,
                unknown
            >;
            assert.deepEqual(outputs.caRotation, { generation: 1, stage: "none" });
            assert.ok(rootA.includes("BEGIN CERTIFICATE"));
            await noChanges();
        });

        it("lifecycle: root rotation: a skipped stage is refused by preview and up, naming the key; nothing changes", async () => {
            // Every resource the state holds, with when it was last changed (secrets are encrypted afresh at
            // every write of the state, so their text says nothing); the stack's read of its own outputs is
            // read afresh by every run, even a refused one, so it is left out.
            const resources = async () =>
                (
                    JSON.parse(await stack().exportState()) as {
                        deployment: {
                            resources: { urn: string; type: string; id?: string; modified?: string }[];
                        };
                    }
                ).deployment.resources
                    .filter((r) => r.type !== "pulumi:pulumi:StackReference")
                    .map((r) => JSON.stringify([r.urn, r.id, r.modified]))
                    .sort();
            const before = await resources();
            for (const c of pkiConfigCommands(next, `${ca}.rotation`))
                await stack().ok(c.args, { stdin: c.stdin });
            await stage("switch");
            for (const command of [["preview"], ["up", "--yes", "--skip-preview"]]) {
                const r = await stack().run(command);
                assert.notEqual(r.code, 0, r.stdout);
                const out = r.stdout + r.stderr;
                assert.match(
                    out,
                    /istio-multicluster:mesh\.ca\.rotation: skips 1 stage of the root rotation: the last `pulumi up` of this stack left `mesh\.ca\.generation: 1` without `rotation`; the next stage is `mesh\.ca\.generation: 1` with `rotation\.stage: add`/,
                    out.slice(-3000),
                );
                assert.doesNotMatch(out, /\s+at .*\.(ts|js):\d+/, "a stack trace was printed");
            }
            const after = await resources();
            const changed = after
                .filter((r) => !before.includes(r))
                .map((r) => (JSON.parse(r) as string[])[0]);
            assert.deepEqual(changed, [], "the refused up changed these resources");
            assert.equal(after.length, before.length);
            await assertTrust([A], A);
        });

        it("lifecycle: root rotation: add: every bundle trusts A then B, istiod multi-root, A still signs", async () => {
            await stage("add");
            assert.deepEqual(
                await planned(),
                primaries.flatMap((c) => [`update ${cacerts(c)}`, `update ${c}-istiod`]).sort(),
            );
            await stack().up();
            await assertTrust([A, B], A);
            // The old root's PEM is kept verbatim and first: the new bundle contains the old one as istiod needs.
            const data = await secretData(mesh(), "primary1", "istio-system", "cacerts");
            assert.ok(data["root-cert.pem"]!.startsWith(rootA.trim()), "root A is not first and verbatim");
            await noChanges();
        });

        it("lifecycle: root rotation: switch: intermediates under B sign, both still trusted, only cacerts change", async () => {
            await stage("switch");
            assert.deepEqual(await planned(), primaries.map((c) => `update ${cacerts(c)}`).sort());
            await stack().up();
            await assertTrust([A, B], B);
            await noChanges();
        });

        it("lifecycle: root rotation: finish: A removed everywhere, every cluster still synced", async () => {
            await stage("finish");
            assert.deepEqual(await planned(), primaries.map((c) => `update ${cacerts(c)}`).sort());
            await stack().up();
            await assertTrust([B], B);
            const data = await secretData(mesh(), "primary1", "istio-system", "cacerts");
            assert.equal(data["root-cert.pem"]!.trim(), rootB().trim());
            await noChanges();
            const checked = verify(stack());
            assert.equal(checked.code, 0, checked.output);
            assertEveryClusterSynced(checked.output);
            const outputs = JSON.parse((await stack().ok(["stack", "output", "--json"])).stdout) as Record<
                string,
                unknown
            >;
            assert.deepEqual(outputs.caRotation, { generation: 1, stage: "finish" });
        });
    });
});
