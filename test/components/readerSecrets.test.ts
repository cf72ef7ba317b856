/**
 * Remote secrets in both layouts (`mesh.remoteSecrets`), through the whole program: exact Secrets, clusters,
 * parents, data keys and dependency edges, what a remote's gateway waits for, and that nothing else changes.
 */
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { ReaderSecrets } from "../../components/readerSecrets";
import { longestChain } from "../../tools/graph";
import { remoteKubeconfig } from "../../components/clusterLink";
import { linkPolicies } from "../../policies/links";
import { evaluatePolicies } from "../../tools/policyRunner";
import { ApplyOutputs, evaluate, plainInputs, plan, Plan, PlannedResource } from "../../tools/planner";
import { mesh, stackConfig, topologies } from "../support/fixtures";

const secretType = "kubernetes:core/v1:Secret";
const isRemoteSecret = (r: PlannedResource) =>
    r.type === secretType &&
    (r.rawInputs.metadata as { labels?: Record<string, string> }).labels?.["istio/multiCluster"] === "true";

/** Each remote Secret as one line: its name, cluster, Kubernetes name, parent type, data keys, dependencies. */
function remoteSecrets(p: Plan): string[] {
    const byUrn = new Map(p.resources.map((r) => [r.urn, r]));
    return p.resources
        .filter(isRemoteSecret)
        .map((r) => {
            const inputs = plainInputs(r) as {
                metadata: { name: string };
                stringData: Record<string, string>;
            };
            const parent = byUrn.get(r.parent!)!;
            const deps = r.dependsOn.map((d) => byUrn.get(d)!.name).sort();
            return (
                `${r.name} in ${r.cluster}: ${inputs.metadata.name} under ${parent.type}::${parent.name}; ` +
                `keys ${Object.keys(inputs.stringData).join(",")}; after ${deps.join(",")}`
            );
        })
        .sort();
}

/** The clusters' side of an update: reader tokens filled, certificates issued, releases deployed, addresses. */
const applied: ApplyOutputs = (args) => {
    if (args.type === secretType && args.name.endsWith("-reader-token")) {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        return { data: { token: b64(`token-of-${args.name}`), "ca.crt": b64(`CA of ${args.name}`) } };
    }
    if (args.type.startsWith("tls:index/") && args.type.endsWith("Cert")) {
        return { certPem: `certificate of ${args.name}\n` };
    }
    if (args.type === "kubernetes:helm.sh/v3:Release") {
        const inputs = args.inputs as Record<string, unknown>;
        return { status: { name: inputs.name, namespace: inputs.namespace, status: "deployed" } };
    }
    if (args.type === "kubernetes:core/v1:Service") {
        return { status: { loadBalancer: { ingress: [{ ip: "203.0.113.5" }] } } };
    }
    return undefined;
};

/** The three-primaries-and-a-remote mesh on update (kubeconfigs known), in a layout (or none set). */
async function planWith(layout?: string): Promise<Plan> {
    const t = topologies.threePrimariesAndRemote();
    return plan(stackConfig(mesh(layout ? { remoteSecrets: layout } : {}), t.clusters), {
        preview: false,
        applyOutputs: applied,
    });
}

describe("remote secret layouts", function () {
    this.timeout(60_000);
    let perCluster: Plan;
    let perReader: Plan;
    let unset: Plan;
    before(async () => {
        unset = await planWith();
        perCluster = await planWith("per-cluster");
        perReader = await planWith("per-reader");
    });

    it("per-cluster (the default): one Secret per primary and cluster it reads, after that cluster's token", () => {
        const link = "multicluster:mesh:ClusterLink";
        const line = (source: string, reader: string) =>
            `${source}/in/${reader} in ${reader}: istio-remote-secret-${source} under ${link}::${source}; ` +
            `keys ${source}; after ${[`${reader}-istio-system`, `${source}-reader-token`].sort().join(",")}`;
        assert.deepEqual(
            remoteSecrets(perCluster),
            [
                line("cluster1", "cluster2"),
                line("cluster1", "cluster3"),
                line("cluster2", "cluster1"),
                line("cluster2", "cluster3"),
                line("cluster3", "cluster1"),
                line("cluster3", "cluster2"),
                line("cluster4", "cluster1"),
                line("cluster4", "cluster2"),
                line("cluster4", "cluster3"),
            ].sort(),
        );
    });

    it("leaving mesh.remoteSecrets out is per-cluster, resource for resource", () => {
        assert.deepEqual(unset.resources, perCluster.resources);
    });

    it("per-reader: one Secret per primary holding every cluster it reads, after each of their tokens", () => {
        const owner = "multicluster:mesh:ReaderSecrets";
        assert.deepEqual(remoteSecrets(perReader), [
            `cluster1-remote-secrets in cluster1: istio-remote-secrets under ${owner}::cluster1; ` +
                `keys cluster2,cluster3,cluster4; after cluster1-istio-system,cluster2-reader-token,` +
                `cluster3-reader-token,cluster4-reader-token`,
            `cluster2-remote-secrets in cluster2: istio-remote-secrets under ${owner}::cluster2; ` +
                `keys cluster1,cluster3,cluster4; after cluster1-reader-token,cluster2-istio-system,` +
                `cluster3-reader-token,cluster4-reader-token`,
            `cluster3-remote-secrets in cluster3: istio-remote-secrets under ${owner}::cluster3; ` +
                `keys cluster1,cluster2,cluster4; after cluster1-reader-token,cluster2-reader-token,` +
                `cluster3-istio-system,cluster4-reader-token`,
        ]);
    });

    it("per-reader: each key holds exactly the kubeconfig the per-cluster Secret holds for that cluster", () => {
        const data = (p: Plan, name: string) =>
            plainInputs(p.resources.find((r) => r.name === name)!).stringData as Record<string, string>;
        const inReader = data(perReader, "cluster2-remote-secrets");
        for (const source of ["cluster1", "cluster3", "cluster4"]) {
            assert.equal(inReader[source], data(perCluster, `${source}/in/cluster2`)[source]);
        }
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        assert.equal(
            inReader.cluster4,
            remoteKubeconfig("cluster4", "https://cluster4.example.com:6443", {
                token: b64("token-of-cluster4-reader-token"),
                "ca.crt": b64("CA of cluster4-reader-token"),
            }),
        );
    });

    it("the link policies pass both layouts", async () => {
        for (const p of [perCluster, perReader]) {
            assert.deepEqual(await evaluatePolicies(p.resources, {}, linkPolicies), []);
        }
    });

    it("the remote's gateways wait for the Secret its primary reads it through, in either layout", () => {
        const waits = (p: Plan, name: string) => {
            const r = p.resources.find((x) => x.name === name)!;
            const names = new Map(p.resources.map((x) => [x.urn, x.name]));
            return r.dependsOn.map((d) => names.get(d)!).filter((n) => /remote-secrets|\/in\//.test(n));
        };
        assert.deepEqual(waits(perCluster, "cluster4-eastwestgateway"), ["cluster4/in/cluster1"]);
        assert.deepEqual(waits(perReader, "cluster4-eastwestgateway"), ["cluster1-remote-secrets"]);
    });

    it("changes nothing else: the same other resources, and the same longest chain", () => {
        const others = (p: Plan) =>
            p.resources
                .filter((r) => !isRemoteSecret(r) && r.type !== "multicluster:mesh:ReaderSecrets")
                .map((r) => r.urn)
                .sort();
        assert.deepEqual(others(perReader), others(perCluster));
        assert.equal(longestChain(perReader.resources).length, longestChain(perCluster.resources).length);
        assert.equal(perCluster.resources.length - perReader.resources.length, 9 - 3 - 3);
    });
});

describe("ReaderSecrets", () => {
    const program = (kubeconfigs: Record<string, string>) => () => {
        const provider = new k8s.Provider("a", { context: "ctx-a" });
        const namespace = new k8s.core.v1.Namespace(
            "a-istio-system",
            { metadata: { name: "istio-system" } },
            {
                provider,
            },
        );
        new ReaderSecrets("a", { reader: "a", namespace, kubeconfigs }, { provider });
        return {};
    };
    it("refuses a reader that reads itself, or nothing", async () => {
        await assert.rejects(
            evaluate(stackConfig(undefined, undefined), program({ a: "x", b: "y" })),
            /ReaderSecrets a: cluster a cannot read itself/,
        );
        await assert.rejects(
            evaluate(stackConfig(undefined, undefined), program({})),
            /ReaderSecrets a: a reads no cluster/,
        );
    });
});
