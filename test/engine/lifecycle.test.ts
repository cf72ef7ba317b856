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
import * as path from "node:path";
import { Api } from "../../tools/clusters/api";
import { ensureBinaries } from "../../tools/clusters/build";
import { adminAccess, MeshState } from "../../tools/clusters/state";
import { releasedCharts } from "../../tools/engine/charts";
import { demoChain } from "./support/chain";
import { nameOf, summaryCounts, verify } from "./support/engineStack";

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
        /** The preview's changes, as `op name`, reads and unchanged resources left out. */
        const planned = async () =>
            (await stack().previewSteps())
                .filter((s) => s.op !== "same" && s.op !== "read")
                .map((s) => `${s.op} ${nameOf(s.urn)}`)
                .sort();
        const noChanges = async () => {
            const r = await stack().run(["preview", "--expect-no-changes", "--diff"]);
            assert.equal(r.code, 0, r.stdout.slice(-4000));
        };

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
});
