/**
 * MeshNamespaces in the whole program: every cluster, whatever its role, gets every application namespace,
 * labelled for the install, with its own provider, as a child of its own component, waiting for nothing.
 */
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { MeshNamespaces } from "../../components/meshNamespaces";
import { evaluate, Plan, plainInputs, plan } from "../../tools/planner";
import { ClusterDoc, mesh, primary, remote, stackConfig } from "../support/fixtures";

const T = {
    component: "multicluster:security:MeshNamespaces",
    namespace: "kubernetes:core/v1:Namespace",
} as const;

const namespaces = [
    { name: "sample", labels: { team: "demo" }, annotations: { "example.com/owner": "demo team" } },
    { name: "shop", denyByDefault: true, allowNothing: true },
];

function config(clusters: ClusterDoc[], meshExtra: Record<string, unknown> = {}) {
    return stackConfig(mesh(meshExtra), clusters, { extra: { "istio-multicluster:namespaces": namespaces } });
}

function appNamespaces(p: Plan) {
    return p.resources
        .filter((r) => r.type === T.namespace && r.name.includes("/"))
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((r) => {
            const parent = p.resources.find((x) => x.urn === r.parent)!;
            const provider = p.resources.find((x) => r.provider?.startsWith(`${x.urn}::`));
            return {
                name: r.name,
                cluster: r.cluster,
                provider: provider?.name,
                parent: `${parent.type}::${parent.name}`,
                dependsOn: r.dependsOn,
                inputs: plainInputs(r),
            };
        });
}

const expected = (cluster: string, injection: Record<string, string>) => [
    {
        name: `${cluster}/sample`,
        cluster,
        provider: cluster,
        parent: `${T.component}::${cluster}`,
        dependsOn: [],
        inputs: {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: {
                name: "sample",
                labels: { team: "demo", ...injection },
                annotations: { "example.com/owner": "demo team" },
            },
        },
    },
    {
        name: `${cluster}/shop`,
        cluster,
        provider: cluster,
        parent: `${T.component}::${cluster}`,
        dependsOn: [],
        inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { ...injection } } },
    },
];

describe("MeshNamespaces", () => {
    it("primary-remote: both clusters get every namespace, with their own provider and component", async () => {
        const p = await plan(config([primary("c1", "n1"), remote("c2", "c1", "n2")]));
        const injection = { "istio-injection": "enabled" };
        assert.deepEqual(appNamespaces(p), [...expected("c1", injection), ...expected("c2", injection)]);
        const components = p.resources
            .filter((r) => r.type === T.component)
            .sort((a, b) => (a.name < b.name ? -1 : 1));
        assert.deepEqual(
            components.map((c) => [
                c.name,
                c.parent?.endsWith("::pulumi:pulumi:Stack::istio-multicluster-test"),
            ]),
            [
                ["c1", true],
                ["c2", true],
            ],
        );
    });

    it("with a revision the namespaces carry istio.io/rev, in primaries and remotes alike", async () => {
        const p = await plan(
            config([primary("c1", "n1"), remote("c2", "c1", "n2")], {
                istio: { version: "1.30.3", revision: "1-30-3" },
            }),
        );
        const injection = { "istio.io/rev": "1-30-3" };
        assert.deepEqual(appNamespaces(p), [...expected("c1", injection), ...expected("c2", injection)]);
    });

    it("a cluster added later gets every namespace; the others' namespaces stay exactly as they were", async () => {
        const before = appNamespaces(await plan(config([primary("c1", "n1"), primary("c2", "n2")])));
        const after = appNamespaces(
            await plan(config([primary("c1", "n1"), primary("c2", "n2"), remote("c3", "c2", "n3")])),
        );
        const injection = { "istio-injection": "enabled" };
        assert.deepEqual(after, [...before, ...expected("c3", injection)]);
    });

    it("no namespaces configured: no component, no namespace beyond istio-system", async () => {
        const p = await plan(stackConfig(mesh(), [primary("c1", "n1"), remote("c2", "c1", "n2")]));
        assert.deepEqual(
            p.resources
                .filter((r) => r.type === T.component || (r.type === T.namespace && r.name.includes("/")))
                .map((r) => r.name),
            [],
        );
    });

    it("its children inherit the provider it is given (never the ambient kubeconfig)", async () => {
        const p = await evaluate(stackConfig(mesh(), []), () => {
            const provider = new k8s.Provider("k", { context: "ctx-k" });
            new MeshNamespaces(
                "k",
                { cluster: "k", namespaces: [{ name: "a", labels: { "istio-injection": "enabled" } }] },
                { provider },
            );
            return {};
        });
        const ns = p.resources.find((r) => r.type === T.namespace)!;
        assert.equal(ns.name, "k/a");
        assert.equal(ns.cluster, "k");
    });
});
