/**
 * MeshSecurity in the whole program: every primary gets exactly the same security objects, each with its
 * cluster's provider, waiting for exactly its namespace and its cluster's istiod; remotes get none.
 */
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { MeshSecurity } from "../../components/meshSecurity";
import { evaluate, Plan, plainInputs, plan, PlannedResource, runProgram } from "../../tools/planner";
import { ClusterDoc, mesh, primary, remote, stackConfig } from "../support/fixtures";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };

const T = {
    component: "multicluster:security:MeshSecurity",
    namespace: "kubernetes:core/v1:Namespace",
    release: "kubernetes:helm.sh/v3:Release",
    pa: "kubernetes:security.istio.io/v1:PeerAuthentication",
    ap: "kubernetes:security.istio.io/v1:AuthorizationPolicy",
} as const;

const sample = {
    name: "sample",
    denyByDefault: true,
    allow: [
        {
            name: "helloworld-from-sleep",
            selector: { app: "helloworld" },
            from: { serviceAccounts: ["sample/sleep"] },
            to: { methods: ["GET"] },
        },
    ],
};

function config(clusters: ClusterDoc[], namespaces: unknown[] = [sample], security?: unknown) {
    return stackConfig(mesh(), clusters, {
        extra: {
            "istio-multicluster:namespaces": namespaces,
            ...(security !== undefined ? { "istio-multicluster:security": security } : {}),
        },
    });
}

const isSecurity = (r: PlannedResource) => r.type === T.pa || r.type === T.ap;

function byName(p: Plan, type: string, name: string): PlannedResource {
    const r = p.resources.find((x) => x.type === type && x.name === name);
    assert.ok(r, `no ${type} ${name}`);
    return r;
}

/** The security objects of one cluster, as (type, name) -> inputs. */
function objectsOf(p: Plan, cluster: string) {
    return p.resources
        .filter((r) => isSecurity(r) && r.cluster === cluster)
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((r) => ({ type: r.type, name: r.name.slice(cluster.length + 1), inputs: plainInputs(r) }));
}

describe("MeshSecurity", () => {
    it("primary-remote (the dev sample): the objects in the primary, exact, and none in the remote", async () => {
        const p = await plan(config([primary("c1", "n1"), remote("c2", "c1", "n2")]));
        assert.deepEqual(
            p.resources.filter((r) => r.type === T.component).map((r) => r.name),
            ["c1"],
        );
        assert.deepEqual(objectsOf(p, "c2"), []);
        assert.deepEqual(objectsOf(p, "c1"), [
            {
                type: T.pa,
                name: "istio-system/default",
                inputs: {
                    apiVersion: "security.istio.io/v1",
                    kind: "PeerAuthentication",
                    metadata: { name: "default", namespace: "istio-system" },
                    spec: { mtls: { mode: "STRICT" } },
                },
            },
            {
                type: T.ap,
                name: "sample/allow-nothing",
                inputs: {
                    apiVersion: "security.istio.io/v1",
                    kind: "AuthorizationPolicy",
                    metadata: { name: "allow-nothing", namespace: "sample" },
                    spec: {},
                },
            },
            {
                type: T.ap,
                name: "sample/helloworld-from-sleep",
                inputs: {
                    apiVersion: "security.istio.io/v1",
                    kind: "AuthorizationPolicy",
                    metadata: { name: "helloworld-from-sleep", namespace: "sample" },
                    spec: {
                        selector: { matchLabels: { app: "helloworld" } },
                        action: "ALLOW",
                        rules: [
                            {
                                from: [{ source: { principals: ["cluster.local/ns/sample/sa/sleep"] } }],
                                to: [{ operation: { methods: ["GET"] } }],
                            },
                        ],
                    },
                },
            },
        ]);
    });

    it("each object waits for exactly its namespace and its cluster's istiod, under its cluster's component", async () => {
        const p = await plan(config([primary("c1", "n1"), primary("c2", "n2")]));
        for (const cluster of ["c1", "c2"]) {
            const component = byName(p, T.component, cluster);
            const istiod = byName(p, T.release, `${cluster}-istiod`).urn;
            const rootNs = byName(p, T.namespace, `${cluster}-istio-system`).urn;
            const sampleNs = byName(p, T.namespace, `${cluster}/sample`).urn;
            const deps = (type: string, name: string) => {
                const r = byName(p, type, `${cluster}/${name}`);
                assert.equal(r.parent, component.urn);
                assert.equal(r.cluster, cluster);
                return r.dependsOn;
            };
            assert.deepEqual(deps(T.pa, "istio-system/default"), [istiod, rootNs].sort());
            assert.deepEqual(deps(T.ap, "sample/allow-nothing"), [istiod, sampleNs].sort());
            assert.deepEqual(deps(T.ap, "sample/helloworld-from-sleep"), [istiod, sampleNs].sort());
        }
    });

    it("multi-primary and mixed: every primary holds the very same objects", async () => {
        const p = await plan(
            config(
                [primary("p1", "n1"), primary("p2", "n2"), remote("r1", "p1", "n1"), primary("p3", "n3")],
                [sample, { name: "legacy", mtls: "PERMISSIVE" }, { name: "vault", allowNothing: true }],
            ),
        );
        const p1 = objectsOf(p, "p1");
        assert.deepEqual(
            p1.map((o) => o.name),
            [
                "istio-system/default",
                "legacy/default",
                "sample/allow-nothing",
                "sample/helloworld-from-sleep",
                "vault/allow-nothing",
            ],
        );
        assert.deepEqual(objectsOf(p, "p2"), p1);
        assert.deepEqual(objectsOf(p, "p3"), p1);
        assert.deepEqual(objectsOf(p, "r1"), []);
        assert.deepEqual(
            p.resources
                .filter((r) => r.type === T.component)
                .map((r) => r.name)
                .sort(),
            ["p1", "p2", "p3"],
        );
    });

    it("a mesh-wide PERMISSIVE mode is written as asked", async () => {
        const p = await plan(config([primary("c1")], [], { mtls: "PERMISSIVE" }));
        assert.deepEqual(objectsOf(p, "c1"), [
            {
                type: T.pa,
                name: "istio-system/default",
                inputs: {
                    apiVersion: "security.istio.io/v1",
                    kind: "PeerAuthentication",
                    metadata: { name: "default", namespace: "istio-system" },
                    spec: { mtls: { mode: "PERMISSIVE" } },
                },
            },
        ]);
    });

    it("a refused security config registers no resource at all", async () => {
        const seen: string[] = [];
        const spying = () => {
            const monitor = runtimeSettings.getMonitor() as {
                registerResource(req: { getType(): string; getName(): string }, cb: unknown): void;
            };
            const register = monitor.registerResource.bind(monitor);
            monitor.registerResource = (req, cb) => {
                if (req.getType() !== "pulumi:pulumi:Stack") seen.push(`${req.getType()}::${req.getName()}`);
                register(req, cb);
            };
            return runProgram();
        };
        await assert.rejects(
            evaluate(config([primary("c1")], [{ name: "kube-system" }]), spying),
            (e: Error & { problems?: string[] }) => {
                assert.deepEqual(e.problems, [
                    'istio-multicluster:namespaces[0].name: "kube-system" is reserved by Kubernetes for its own system; list only application namespaces',
                ]);
                return true;
            },
        );
        assert.deepEqual([...seen], []);
        // The same spy sees the program's resources when the config is good.
        await evaluate(config([primary("c1")]), spying);
        assert.ok(seen.includes(`${T.pa}::c1/istio-system/default`), seen.join("\n"));
    });

    it("refuses an object whose namespace the cluster does not create", async () => {
        await assert.rejects(
            evaluate(stackConfig(mesh(), []), () => {
                const provider = new k8s.Provider("k", { context: "ctx-k" });
                const istiod = new k8s.core.v1.ConfigMap("istiod", {}, { provider });
                new MeshSecurity(
                    "k",
                    {
                        cluster: "k",
                        objects: [
                            {
                                apiVersion: "security.istio.io/v1",
                                kind: "AuthorizationPolicy",
                                metadata: { name: "allow-nothing", namespace: "ghost" },
                                spec: {},
                            },
                        ],
                        namespaces: {},
                        istiod,
                    },
                    { provider },
                );
                return {};
            }),
            /MeshSecurity: AuthorizationPolicy allow-nothing lives in namespace ghost, which cluster k does not create/,
        );
    });
});
