/**
 * Remote secrets, used for real: in a mesh of three local clusters (two primaries on two networks, one
 * remote), in both layouts, every kubeconfig the program put in a remote secret is used by a real client
 * against its target API server. It must authenticate as the reader ServiceAccount with the token the real
 * token controller issued, list and watch everything istiod reads (the reader ClusterRole's rules, read
 * back from the target), and create, change or delete nothing.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as YAML from "yaml";
import { Api } from "../../tools/clusters/api";
import { adminAccess, MeshState } from "../../tools/clusters/state";
import { repoRoot } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";
import { TopologyCase } from "../support/topologyCases";
import { startClusters, stopClusters } from "./support/clusters";
import { runTopology, versionsUnderTest } from "./support/tier";

const referenceRoot = path.resolve(repoRoot, "..", "shared", "reference");
/** The newest Istio version beside the repository: the remote secrets' shape does not vary by version. */
const version = versionsUnderTest(referenceRoot, "1.36.3")[0]!;

interface Kubeconfig {
    clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
    users: { name: string; user: Record<string, unknown> }[];
}

/** One remote secret's kubeconfig, as istiod would read it: by reader, for a cluster. */
interface RemoteKubeconfig {
    readonly reader: string;
    readonly secret: string;
    readonly target: string;
    readonly api: Api;
    readonly keys: string[];
}

async function remoteKubeconfigs(state: MeshState, readers: readonly string[]): Promise<RemoteKubeconfig[]> {
    const out: RemoteKubeconfig[] = [];
    for (const reader of readers) {
        const c = state.clusters.find((x) => x.name === reader)!;
        const admin = new Api(adminAccess(c));
        try {
            const secrets = await admin.list<{ metadata: { name: string }; data?: Record<string, string> }>(
                `/api/v1/namespaces/istio-system/secrets?labelSelector=${encodeURIComponent("istio/multiCluster=true")}`,
            );
            for (const s of secrets) {
                for (const [target, b64] of Object.entries(s.data ?? {})) {
                    const doc = YAML.parse(Buffer.from(b64, "base64").toString("utf8")) as Kubeconfig;
                    const cluster = doc.clusters[0]!.cluster;
                    const user = doc.users[0]!.user;
                    out.push({
                        reader,
                        secret: s.metadata.name,
                        target,
                        keys: Object.keys(user),
                        api: new Api({
                            server: cluster.server,
                            ca: Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8"),
                            token: user.token as string,
                        }),
                    });
                }
            }
        } finally {
            admin.close();
        }
    }
    return out;
}

/** What a reader must be able to list and watch: every get/list/watch rule of the target's reader ClusterRole. */
async function readerPaths(target: MeshState["clusters"][number]): Promise<string[]> {
    const admin = new Api(adminAccess(target));
    try {
        type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[] };
        const roles = await admin.list<{ metadata: { name: string }; rules?: Rule[] }>(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles?labelSelector=app%3Distio-reader",
        );
        assert.ok(roles.length > 0, `${target.name}: no istio-reader ClusterRole`);
        const paths = new Set<string>();
        for (const rule of roles.flatMap((r) => r.rules ?? [])) {
            if (!rule.verbs.includes("list") || !rule.verbs.includes("watch")) continue;
            for (const group of rule.apiGroups ?? []) {
                const base = group === "" ? "/api/v1" : undefined;
                let prefix = base;
                if (!prefix) {
                    const g = await admin.get<{ preferredVersion?: { groupVersion: string } }>(
                        `/apis/${group}`,
                    );
                    if (!g?.preferredVersion) continue; // a group this cluster does not serve (MCS, Gateway API)
                    prefix = `/apis/${g.preferredVersion.groupVersion}`;
                }
                const served = await admin.get<{ resources: { name: string; verbs: string[] }[] }>(prefix);
                for (const res of rule.resources ?? []) {
                    const names = res === "*" ? (served?.resources ?? []).map((r) => r.name) : [res];
                    for (const name of names.filter((n) => !n.includes("/"))) {
                        const r = served?.resources.find((x) => x.name === name);
                        if (r?.verbs.includes("list")) paths.add(`${prefix}/${name}`);
                    }
                }
            }
        }
        return [...paths].sort();
    } finally {
        admin.close();
    }
}

const layouts = ["per-cluster", "per-reader"] as const;

describe("remote secrets, used for real", function () {
    this.timeout(600_000);
    for (const layout of layouts) {
        describe(`${layout} layout`, () => {
            let state: MeshState | undefined;
            let kubeconfigs: RemoteKubeconfig[] = [];
            const c: TopologyCase = {
                label: `remote secrets ${layout}`,
                lb: "ip",
                config: () =>
                    stackConfig(mesh(layout === "per-reader" ? { remoteSecrets: "per-reader" } : {}), [
                        primary("p1", "n1"),
                        primary("p2", "n2"),
                        remote("r1", "p1", "n1"),
                    ]),
            };
            before(async () => {
                state = await startClusters(["p1", "p2", "r1"], "ip", c.label);
                const r = await runTopology(c, c.config(), state, version, 90_000);
                assert.deepEqual(r.refused, []);
                assert.deepEqual(r.unavailable, []);
                kubeconfigs = await remoteKubeconfigs(state, ["p1", "p2"]);
            });
            after(async () => {
                for (const k of kubeconfigs) k.api.close();
                await stopClusters(state, false);
            });

            it("every primary holds a kubeconfig for every other cluster, in the layout's Secrets", () => {
                const pairs = kubeconfigs.map((k) => `${k.reader}<-${k.target}`).sort();
                assert.deepEqual(pairs, ["p1<-p2", "p1<-r1", "p2<-p1", "p2<-r1"]);
                const names = new Set(kubeconfigs.map((k) => k.secret));
                assert.deepEqual(
                    [...names].sort(),
                    layout === "per-cluster"
                        ? ["istio-remote-secret-p1", "istio-remote-secret-p2", "istio-remote-secret-r1"]
                        : ["istio-remote-secrets"],
                );
                for (const k of kubeconfigs)
                    assert.deepEqual(k.keys, ["token"], `${k.reader}<-${k.target}: only a token`);
            });

            it("each authenticates at its target as the reader ServiceAccount, with the token the token controller issued", async () => {
                for (const k of kubeconfigs) {
                    const review = await k.api.json<{ status: { userInfo: { username: string } } }>(
                        "POST",
                        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                        { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
                    );
                    assert.equal(
                        review.status.userInfo.username,
                        "system:serviceaccount:istio-system:istio-reader-service-account",
                        `${k.reader}<-${k.target}`,
                    );
                    const target = state!.clusters.find((x) => x.name === k.target)!;
                    assert.equal(
                        k.api.access.server,
                        target.server,
                        `${k.reader}<-${k.target}: the target's own API server`,
                    );
                }
            });

            it("each lists and watches everything the reader ClusterRole grants, services to endpointslices", async () => {
                let checked = 0;
                for (const k of kubeconfigs) {
                    const paths = await readerPaths(state!.clusters.find((x) => x.name === k.target)!);
                    for (const p of [
                        "/api/v1/services",
                        "/api/v1/pods",
                        "/api/v1/nodes",
                        "/api/v1/namespaces",
                    ]) {
                        assert.ok(paths.includes(p), `${k.target}: the reader role grants no list on ${p}`);
                    }
                    assert.ok(
                        paths.some((p) => p.endsWith("/endpointslices")),
                        `${k.target}: no endpointslices`,
                    );
                    await Promise.all(
                        paths.map(async (p) => {
                            const list = await k.api.request("GET", `${p}?limit=1`);
                            assert.equal(
                                list.status,
                                200,
                                `${k.reader}<-${k.target}: list ${p}: ${list.body.slice(0, 200)}`,
                            );
                            const watch = await k.api.request("GET", `${p}?watch=1&timeoutSeconds=1`);
                            assert.equal(
                                watch.status,
                                200,
                                `${k.reader}<-${k.target}: watch ${p}: ${watch.body.slice(0, 200)}`,
                            );
                            checked++;
                        }),
                    );
                }
                assert.ok(checked >= kubeconfigs.length * 10, `only ${checked} list/watch checks`);
            });

            it("none can create, change or delete anything, but a remote's istio-ca-root-cert ConfigMaps", async () => {
                // istiod writes our root into every namespace of a remote it serves (the istiod test sees it
                // there): the istiod chart's remote profile grants its reader ConfigMap writes for that, and
                // nothing else. Every other attempt, on any target, is refused.
                for (const k of kubeconfigs) {
                    const name = `reader-probe-${k.reader}`;
                    const r = await k.api.request("POST", "/api/v1/namespaces/default/configmaps", {
                        metadata: { name },
                    });
                    const remoteTarget = k.target === "r1";
                    assert.equal(
                        r.status,
                        remoteTarget ? 201 : 403,
                        `${k.reader}<-${k.target}: POST configmaps`,
                    );
                    if (remoteTarget) {
                        const admin = new Api(adminAccess(state!.clusters.find((x) => x.name === "r1")!));
                        await admin.request("DELETE", `/api/v1/namespaces/default/configmaps/${name}`);
                        admin.close();
                    }
                }
                const attempts: [string, string, unknown][] = [
                    [
                        "POST",
                        "/api/v1/namespaces/istio-system/secrets",
                        { metadata: { name: "reader-probe" } },
                    ],
                    [
                        "POST",
                        "/api/v1/namespaces/default/pods",
                        { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }] } },
                    ],
                    [
                        "POST",
                        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                        {
                            metadata: { name: "reader-probe" },
                            roleRef: {
                                apiGroup: "rbac.authorization.k8s.io",
                                kind: "ClusterRole",
                                name: "cluster-admin",
                            },
                            subjects: [],
                        },
                    ],
                    ["DELETE", "/api/v1/namespaces/istio-system/services/istiod", undefined],
                    ["PATCH", "/api/v1/namespaces/istio-system", { metadata: { labels: { x: "y" } } }],
                ];
                for (const k of kubeconfigs) {
                    for (const [method, p, body] of attempts) {
                        const r = await k.api.request(
                            method,
                            p,
                            body,
                            method === "PATCH" ? "application/merge-patch+json" : "application/json",
                        );
                        assert.equal(
                            r.status,
                            403,
                            `${k.reader}<-${k.target}: ${method} ${p} answered ${r.status}`,
                        );
                    }
                }
            });
        });
    }
});
