/**
 * Day two, the whole program under the mock runtime: Istio revisions side by side (a canary upgrade), what
 * each cluster gets per revision, how a moved tag orders the releases and what each step of an upgrade
 * changes; and a reader token rotation.
 */
import { strict as assert } from "node:assert";
import {
    Plan,
    PlannedResource,
    plainInputs,
    plan,
    PlanRefused,
    stackConfigFromDocument,
} from "../tools/planner";
import { playCluster } from "./support/playCluster";

type Doc = Record<string, unknown>;
const release = "kubernetes:helm.sh/v3:Release";
const vsType = "kubernetes:networking.istio.io/v1:VirtualService";

const clusters = [
    {
        name: "c1",
        role: "primary",
        network: "n1",
        context: "ctx-c1",
        apiServer: "https://c1.example.com:6443",
    },
    {
        name: "c2",
        role: "primary",
        network: "n2",
        context: "ctx-c2",
        apiServer: "https://c2.example.com:6443",
    },
    {
        name: "c3",
        role: "remote",
        primary: "c1",
        network: "n1",
        context: "ctx-c3",
        apiServer: "https://c3.example.com:6443",
    },
];
const old = { name: "1-29-6", version: "1.29.6" };
const next = { name: "1-30-3", version: "1.30.3" };

async function planOf(istio: Doc, extra: Doc = {}): Promise<Plan> {
    return plan(
        stackConfigFromDocument(
            "test",
            {
                config: {
                    "istio-multicluster:mesh": { meshId: "mesh1", istio },
                    "istio-multicluster:clusters": clusters,
                    "istio-multicluster:namespaces": [{ name: "shop" }, { name: "try", revision: "canary" }],
                    ...extra,
                },
            },
            "test",
        ),
    );
}

const byName = (p: Plan, type: string, name: string): PlannedResource => {
    const r = p.resources.find((x) => x.type === type && x.name === name);
    assert.ok(r, `no ${type} ${name}; have ${p.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const inputs = (p: Plan, name: string) => plainInputs(byName(p, release, name));
const values = (p: Plan, name: string) => inputs(p, name).values as Doc;

/** Names of the resources whose inputs differ between two plans (present in both), and those in one only. */
function changes(a: Plan, b: Plan): { changed: string[]; added: string[]; removed: string[] } {
    const key = (r: PlannedResource) => `${r.type}::${r.name}`;
    const before = new Map(a.resources.map((r) => [key(r), r]));
    const after = new Map(b.resources.map((r) => [key(r), r]));
    const changed = [...after]
        .filter(
            ([k, r]) =>
                before.has(k) && JSON.stringify(r.rawInputs) !== JSON.stringify(before.get(k)!.rawInputs),
        )
        .map(([, r]) => r.name)
        .sort();
    return {
        changed,
        added: [...after.keys()].filter((k) => !before.has(k)).sort(),
        removed: [...before.keys()].filter((k) => !after.has(k)).sort(),
    };
}

describe("revisions side by side: 1.29.6 serving, 1.30.3 as canary", () => {
    let p: Plan;
    before(async () => {
        p = await planOf({ revisions: [old, next], tags: { default: old.name, canary: next.name } });
    });

    it("every cluster runs an istiod per revision at its own version, the tags on their revisions", () => {
        for (const c of ["c1", "c2", "c3"]) {
            for (const [rev, tags] of [
                [old, ["default"]],
                [next, ["canary"]],
            ] as const) {
                const r = inputs(p, `${c}-istiod-${rev.name}`);
                assert.equal(r.name, `istiod-${rev.name}`);
                assert.equal(r.version, rev.version);
                assert.equal(values(p, `${c}-istiod-${rev.name}`).revision, rev.name);
                assert.deepEqual(values(p, `${c}-istiod-${rev.name}`).revisionTags, tags);
            }
        }
        // The remote's releases of each revision point at the primary, by the same injection path.
        for (const rev of [old, next]) {
            const v = values(p, `c3-istiod-${rev.name}`);
            assert.equal(v.profile, "remote");
            assert.equal((v.istiodRemote as Doc).injectionPath, "/inject/cluster/c3/net/n1");
        }
        assert.equal(p.resources.filter((r) => r.type === release && /-istiod/.test(r.name)).length, 6);
    });

    it("base carries the newest CRDs and validates with the `default` tag's revision", () => {
        for (const c of ["c1", "c2"]) {
            assert.equal(inputs(p, `${c}-base`).version, "1.30.3");
            assert.deepEqual(values(p, `${c}-base`), { defaultRevision: old.name });
        }
    });

    it("gateways follow the `default` tag, and wait for its istiod", () => {
        for (const c of ["c1", "c2", "c3"]) {
            const gw = byName(p, release, `${c}-eastwestgateway`);
            assert.equal(plainInputs(gw).version, old.version);
            assert.equal((plainInputs(gw).values as Doc).revision, old.name);
            assert.ok(gw.dependsOn.includes(byName(p, release, `${c}-istiod-${old.name}`).urn));
        }
    });

    it("a release holding a tag is updated after the releases that may be giving it up", () => {
        for (const c of ["c1", "c2", "c3"]) {
            const serving = byName(p, release, `${c}-istiod-${old.name}`);
            const canary = byName(p, release, `${c}-istiod-${next.name}`);
            assert.ok(serving.dependsOn.includes(canary.urn));
            assert.ok(!canary.dependsOn.includes(serving.urn));
        }
    });

    it("the primary exposes each revision's istiod by its own SNI", () => {
        for (const rev of [old, next]) {
            const vs = plainInputs(byName(p, vsType, `c1-istiod-vs-${rev.name}`));
            assert.equal((vs.metadata as Doc).name, `istiod-vs-${rev.name}`);
            const tls = (vs.spec as { tls: { match: { sniHosts: string[] }[] }[] }).tls;
            assert.deepEqual(tls[0]!.match[0]!.sniHosts, [
                `istiod-${rev.name}.istio-system.svc`,
                `istiod-${rev.name}.istio-system.svc.cluster.local`,
            ]);
        }
        assert.equal(p.resources.filter((r) => r.type === vsType).length, 2, "only c1 serves a remote");
    });

    it("namespaces: the default tag by istio-injection=enabled, a canary namespace by its tag", () => {
        const labels = (name: string) =>
            (plainInputs(byName(p, "kubernetes:core/v1:Namespace", name)).metadata as { labels: Doc }).labels;
        assert.equal(labels("c1/shop")["istio-injection"], "enabled");
        assert.equal(labels("c1/shop")["istio.io/rev"], undefined);
        assert.equal(labels("c2/try")["istio.io/rev"], "canary");
    });

    it("hardening admits both istiods: a NetworkPolicy each (the quota grows with the step that adds one)", () => {
        const names = p.resources
            .filter(
                (r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.name.startsWith("c1"),
            )
            .map((r) => (plainInputs(r).metadata as Doc).name)
            .sort();
        assert.deepEqual(names, [
            "istio-eastwestgateway-ingress",
            "istiod-1-29-6-ingress",
            "istiod-1-30-3-ingress",
        ]);
    });
});

describe("an upgrade, step by step: what each `up` changes", () => {
    it("moving `default` to the new revision changes the istiod releases, base's validator and the gateways only", async () => {
        const before = await planOf({
            revisions: [old, next],
            tags: { default: old.name, canary: next.name },
        });
        const after = await planOf({
            revisions: [old, next],
            tags: { default: next.name, canary: next.name },
        });
        const d = changes(before, after);
        assert.deepEqual(d.added, []);
        assert.deepEqual(d.removed, []);
        assert.deepEqual(
            d.changed,
            ["c1", "c2", "c3"]
                .flatMap((c) => [
                    `${c}-base`,
                    `${c}-eastwestgateway`,
                    `${c}-istiod-1-29-6`,
                    `${c}-istiod-1-30-3`,
                ])
                .sort(),
        );
        // The old holder gives the tag up first: the new one now waits for it.
        const serving = byName(after, release, "c1-istiod-1-30-3");
        assert.ok(serving.dependsOn.includes(byName(after, release, "c1-istiod-1-29-6").urn));
        assert.deepEqual(values(after, "c1-istiod-1-29-6").revisionTags, undefined);
        assert.deepEqual(values(after, "c1-istiod-1-30-3").revisionTags, ["canary", "default"]);
    });

    it("adding the canary creates its releases and routes only; removing the old revision deletes only its own", async () => {
        const shopOnly = { "istio-multicluster:namespaces": [{ name: "shop" }] };
        const one = await planOf({ revisions: [old], tags: { default: old.name } }, shopOnly);
        const two = await planOf(
            { revisions: [old, next], tags: { default: old.name, canary: next.name } },
            shopOnly,
        );
        const added = changes(one, two);
        assert.deepEqual(added.removed, []);
        // base moves to the newest CRDs; the quotas of istio-system make room for the second istiod.
        assert.deepEqual(added.changed, [
            "c1-base",
            "c1-istio-system-quota",
            "c2-base",
            "c2-istio-system-quota",
            "c3-base",
        ]);
        assert.deepEqual(
            added.added,
            [
                ...["c1", "c2", "c3"].map((c) => `${release}::${c}-istiod-1-30-3`),
                `${vsType}::c1-istiod-vs-1-30-3`,
                "kubernetes:networking.k8s.io/v1:NetworkPolicy::c1-istiod-1-30-3-ingress",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy::c2-istiod-1-30-3-ingress",
            ].sort(),
        );
        const done = await planOf({ revisions: [next], tags: { default: next.name, canary: next.name } });
        const moved = await planOf({
            revisions: [old, next],
            tags: { default: next.name, canary: next.name },
        });
        const removed = changes(moved, done);
        assert.deepEqual(removed.added, []);
        assert.deepEqual(removed.changed, ["c1-istio-system-quota", "c2-istio-system-quota"]);
        assert.deepEqual(
            removed.removed,
            [
                ...["c1", "c2", "c3"].map((c) => `${release}::${c}-istiod-1-29-6`),
                `${vsType}::c1-istiod-vs-1-29-6`,
                "kubernetes:networking.k8s.io/v1:NetworkPolicy::c1-istiod-1-29-6-ingress",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy::c2-istiod-1-29-6-ingress",
            ].sort(),
        );
    });

    it("the shorthand and its general form plan the same objects, under the revision's resource names", async () => {
        const shorthand = await planOf(
            { version: "1.30.3", revision: "1-30-3" },
            {
                "istio-multicluster:namespaces": [{ name: "shop", revision: "1-30-3" }],
            },
        );
        const general = await planOf(
            { revisions: [next], tags: { default: next.name } },
            {
                "istio-multicluster:namespaces": [{ name: "shop", revision: "1-30-3" }],
            },
        );
        const rename = (name: string) => name.replace(/-istiod(-vs)?$/, (m) => `${m}-1-30-3`);
        const doc = (p: Plan) =>
            p.resources
                .map((r) => ({ type: r.type, name: rename(r.name), inputs: JSON.stringify(r.rawInputs) }))
                .sort((a, b) => `${a.type}${a.name}`.localeCompare(`${b.type}${b.name}`));
        assert.deepEqual(doc(general), doc(shorthand));
    });
});

describe("reader token rotation: what one `up` replaces and updates", () => {
    const secretType = "kubernetes:core/v1:Secret";
    it("a new rotation renames every token Secret; the remote secrets keep their names and read the new token", async () => {
        const istio = { version: "1.30.3" };
        const shop = { "istio-multicluster:namespaces": [{ name: "shop" }] };
        const before = await planOf(istio, shop);
        const after = await planOf(istio, {
            ...shop,
            "istio-multicluster:mesh": { meshId: "mesh1", istio, readerTokens: { rotation: 2 } },
        });
        // In a preview the tokens are unknown before and after: the remote secrets' new contents show in `up`.
        const d = changes(before, after);
        assert.deepEqual(d.added, []);
        assert.deepEqual(d.removed, []);
        assert.deepEqual(d.changed, ["c1-reader-token", "c2-reader-token", "c3-reader-token"]);
        for (const c of ["c1", "c2", "c3"]) {
            const token = byName(after, secretType, `${c}-reader-token`);
            assert.equal(
                (plainInputs(token).metadata as Doc).name,
                "istio-reader-service-account-istio-remote-secret-token-2",
            );
        }
        // Each remote secret is the same Secret (updated in place), built from its source's token.
        for (const [source, reader] of [
            ["c3", "c1"],
            ["c1", "c2"],
        ]) {
            const secret = byName(after, secretType, `${source}/in/${reader}`);
            assert.equal((plainInputs(secret).metadata as Doc).name, `istio-remote-secret-${source}`);
            assert.ok(secret.dependsOn.includes(byName(after, secretType, `${source}-reader-token`).urn));
        }
    });
});

describe("root rotation: what each stage's `up` changes, and a skipped stage refused", () => {
    const rotationPlan = (ca: Doc, deployedOutputs?: Doc): Promise<Plan> =>
        plan(
            stackConfigFromDocument(
                "test",
                {
                    config: {
                        "istio-multicluster:mesh": { meshId: "mesh1", istio: { version: "1.30.3" }, ca },
                        "istio-multicluster:clusters": clusters,
                    },
                },
                "test",
            ),
            // As an update, with what clusters and the tls provider would return (certificates named after
            // their resources), so that a cacerts Secret whose content changes is seen to change.
            { deployedOutputs, preview: false, applyOutputs: playCluster("ip") },
        );
    const stage = (s: string) => ({ rotation: { stage: s } });
    let none: Plan, add: Plan, sw: Plan, finish: Plan;
    before(async () => {
        none = await rotationPlan({});
        add = await rotationPlan(stage("add"));
        sw = await rotationPlan(stage("switch"));
        finish = await rotationPlan(stage("finish"));
    });

    it("add: the next root, every primary's trust bundle, and istiod made multi-root; nothing else", () => {
        assert.deepEqual(changes(none, add), {
            changed: ["c1-istiod", "c2-istiod", "mesh1-c1-cacerts", "mesh1-c2-cacerts"],
            added: [
                "tls:index/privateKey:PrivateKey::mesh1/root-g2-key",
                "tls:index/selfSignedCert:SelfSignedCert::mesh1/root-g2-cert",
            ],
            removed: [],
        });
        for (const c of ["c1", "c2"]) {
            const v = values(add, `${c}-istiod`);
            assert.equal((v.env as Doc).ISTIO_MULTIROOT_MESH, "true");
            const proxy = ((v.meshConfig as Doc).defaultConfig as Doc).proxyMetadata as Doc;
            assert.equal(proxy.PROXY_CONFIG_XDS_AGENT, "true");
            assert.equal(values(none, `${c}-istiod`).env, undefined);
        }
        assert.deepEqual(values(add, "c3-istiod"), values(none, "c3-istiod"));
        assert.deepEqual(add.outputs.caRotation, { generation: 1, stage: "add" });
        assert.deepEqual(none.outputs.caRotation, { generation: 1, stage: "none" });
    });

    it("switch: new intermediates and the cacerts that carry them, and nothing else", () => {
        const signed = "tls:index/locallySignedCert:LocallySignedCert";
        assert.deepEqual(changes(add, sw), {
            changed: ["mesh1-c1-cacerts", "mesh1-c2-cacerts"],
            added: [
                "tls:index/certRequest:CertRequest::mesh1-c1/g2-csr",
                "tls:index/certRequest:CertRequest::mesh1-c2/g2-csr",
                `${signed}::mesh1-c1/g2-cert`,
                `${signed}::mesh1-c2/g2-cert`,
                "tls:index/privateKey:PrivateKey::mesh1-c1/g2-key",
                "tls:index/privateKey:PrivateKey::mesh1-c2/g2-key",
            ],
            removed: [],
        });
    });

    it("finish: the old root and its intermediates go, the cacerts change, and nothing else", () => {
        const c = changes(sw, finish);
        assert.deepEqual(c.changed, ["mesh1-c1-cacerts", "mesh1-c2-cacerts"]);
        assert.deepEqual(c.added, []);
        assert.deepEqual(c.removed, [
            "tls:index/certRequest:CertRequest::mesh1-c1-csr",
            "tls:index/certRequest:CertRequest::mesh1-c2-csr",
            "tls:index/locallySignedCert:LocallySignedCert::mesh1-c1-cert",
            "tls:index/locallySignedCert:LocallySignedCert::mesh1-c2-cert",
            "tls:index/privateKey:PrivateKey::mesh1-c1-key",
            "tls:index/privateKey:PrivateKey::mesh1-c2-key",
            "tls:index/privateKey:PrivateKey::mesh1/root-key",
            "tls:index/selfSignedCert:SelfSignedCert::mesh1/root-cert",
        ]);
    });

    it("refuses a stage the deployed stack skips to, naming the key and the stage to set", async () => {
        const deployed = { rootCertPem: "x", caRotation: { generation: 1, stage: "none" } };
        await assert.rejects(rotationPlan(stage("switch"), deployed), (e: unknown) => {
            assert.ok(e instanceof PlanRefused, String(e));
            assert.equal(e.problems.length, 1);
            assert.match(
                e.problems[0]!,
                /^istio-multicluster:mesh\.ca\.rotation: skips 1 stage of the root rotation: the last `pulumi up` of this stack left `mesh.ca.generation: 1` without `rotation`; the next stage is `mesh.ca.generation: 1` with `rotation.stage: add`/,
            );
            return true;
        });
        // One stage on from what was deployed plans; so does any stage on a stack never deployed.
        await rotationPlan(stage("switch"), {
            rootCertPem: "x",
            caRotation: { generation: 1, stage: "add" },
        });
        await rotationPlan(stage("finish"), {});
        // A stack deployed before the record existed is at generation 1 without a rotation.
        await assert.rejects(rotationPlan(stage("finish"), { rootCertPem: "x" }), /skips 2 stages/);
    });
});

describe("remote-secret layout switch: the old layout retired for one `up`, the new one created after it", () => {
    const secretType = "kubernetes:core/v1:Secret";
    const layoutPlan = (layout: string, deployedOutputs?: Doc): Promise<Plan> =>
        plan(
            stackConfigFromDocument(
                "test",
                {
                    config: {
                        "istio-multicluster:mesh": {
                            meshId: "mesh1",
                            istio: { version: "1.30.3" },
                            remoteSecrets: layout,
                        },
                        "istio-multicluster:clusters": clusters,
                    },
                },
                "test",
            ),
            { deployedOutputs },
        );
    /** The outputs a deployment of `p` leaves for the next to read back. */
    const left = (p: Plan): Doc => ({ ...p.outputs });
    const retiredMarks = (r: PlannedResource) => {
        const i = plainInputs(r);
        const metadata = i.metadata as Doc;
        return {
            labels: metadata.labels,
            annotations: metadata.annotations,
            data: i.data ?? null,
            stringData: i.stringData ?? null,
        };
    };
    const retired = {
        labels: { "istio/multiCluster": "false" },
        annotations: {
            "istio-multicluster/retired":
                "mesh.remoteSecrets switched layouts; the next pulumi up deletes this Secret",
        },
        data: null,
        stringData: null,
    };
    let perCluster: Plan, perReader: Plan;
    before(async () => {
        perCluster = await layoutPlan("per-cluster");
        perReader = await layoutPlan("per-reader");
    });

    it("each deployment records its layout and links; with no switch nothing is retired and nothing waits more", async () => {
        assert.equal(perCluster.outputs.remoteSecretLayout, "per-cluster");
        assert.equal(perReader.outputs.remoteSecretLayout, "per-reader");
        assert.deepEqual(perCluster.outputs.links, { c1: ["c2", "c3"], c2: ["c1", "c3"] });
        for (const [p, layout] of [
            [perCluster, "per-cluster"],
            [perReader, "per-reader"],
        ] as const) {
            const again = await layoutPlan(layout, left(p));
            assert.deepEqual(changes(p, again), { changed: [], added: [], removed: [] });
            const edges = (q: Plan) => q.resources.map((r) => [r.urn, r.dependsOn]).sort();
            assert.deepEqual(edges(again), edges(p));
        }
    });

    it("per-cluster to per-reader: every per-cluster Secret retired in place, each reader's new Secret after its own", async () => {
        const sw = await layoutPlan("per-reader", left(perCluster));
        const d = changes(perCluster, sw);
        assert.deepEqual(d.changed, ["c1/in/c2", "c2/in/c1", "c3/in/c1", "c3/in/c2"]);
        assert.deepEqual(d.removed, []);
        // The new layout's resources, as the settled per-reader plan has them.
        assert.deepEqual(d.added, changes(perCluster, perReader).added);
        for (const name of d.changed) {
            const r = byName(sw, secretType, name);
            assert.deepEqual(retiredMarks(r), retired, name);
            // The same resource (URN) as the deployed one: an update, never a delete and create.
            assert.equal(r.urn, byName(perCluster, secretType, name).urn);
        }
        for (const [reader, sources] of [
            ["c1", ["c2", "c3"]],
            ["c2", ["c1", "c3"]],
        ] as const) {
            const secret = byName(sw, secretType, `${reader}-remote-secrets`);
            const waits = sources.map((s) => byName(sw, secretType, `${s}/in/${reader}`).urn);
            for (const w of waits) assert.ok(secret.dependsOn.includes(w), `${reader}: after ${w}`);
            const other = reader === "c1" ? "c2" : "c1";
            assert.ok(
                !secret.dependsOn.some((u) => u.endsWith(`/in/${other}`)),
                `${reader} waits for nothing in ${other}`,
            );
        }
        // The next `up`, with the switch recorded, deletes the retired Secrets and changes nothing else.
        const settled = await layoutPlan("per-reader", left(sw));
        assert.deepEqual(changes(sw, settled), {
            changed: [],
            added: [],
            removed: [...d.changed].map((n) => `${secretType}::${n}`).sort(),
        });
        assert.deepEqual(changes(perReader, settled), { changed: [], added: [], removed: [] });
    });

    it("per-reader to per-cluster: each reader's one Secret retired in place, the per-cluster Secrets after it", async () => {
        const sw = await layoutPlan("per-cluster", left(perReader));
        const d = changes(perReader, sw);
        assert.deepEqual(d.changed, ["c1-remote-secrets", "c2-remote-secrets"]);
        assert.deepEqual(d.removed, []);
        for (const reader of ["c1", "c2"]) {
            const old = byName(sw, secretType, `${reader}-remote-secrets`);
            assert.deepEqual(retiredMarks(old), retired);
            assert.equal(old.urn, byName(perReader, secretType, `${reader}-remote-secrets`).urn);
            for (const s of sw.resources.filter(
                (r) => r.type === secretType && r.name.endsWith(`/in/${reader}`),
            )) {
                assert.ok(s.dependsOn.includes(old.urn), `${s.name} after ${old.name}`);
            }
        }
        const settled = await layoutPlan("per-cluster", left(sw));
        assert.deepEqual(changes(perCluster, settled), { changed: [], added: [], removed: [] });
    });

    it("retires nothing for a stack never deployed, one that recorded no layout, or links gone from the mesh", async () => {
        for (const deployed of [
            {},
            { rootCertPem: "x" },
            { rootCertPem: "x", links: left(perCluster).links },
        ]) {
            const p = await layoutPlan("per-reader", deployed);
            assert.deepEqual(
                changes(perReader, p),
                { changed: [], added: [], removed: [] },
                JSON.stringify(deployed),
            );
        }
        // A link the mesh no longer has is deleted as before (cluster removal), not retired.
        const p = await layoutPlan("per-reader", {
            remoteSecretLayout: "per-cluster",
            links: { c1: ["c9"], c9: ["c1"] },
        });
        assert.deepEqual(changes(perReader, p), { changed: [], added: [], removed: [] });
    });
});
