/**
 * No Kubernetes resource may fall back to the ambient kubeconfig: every one names the provider of one of
 * the mesh's clusters, and Pulumi.yaml disables the default Kubernetes provider.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as YAML from "yaml";
import { evaluate, loadStackFile, Plan, plainInputs, plan, repoRoot, StackConfig } from "../../tools/planner";
import { stackConfig, topologyConfig } from "../support/fixtures";

const providerType = "pulumi:providers:kubernetes";

/** Every Kubernetes resource whose provider is not one of `clusters`' providers, with the reason. */
function providerProblems(p: Plan, clusters: readonly string[]): string[] {
    const providers = new Map(p.resources.filter((r) => r.type === providerType).map((r) => [r.urn, r]));
    const problems: string[] = [];
    for (const r of p.resources) {
        if (!r.type.startsWith("kubernetes:")) continue;
        if (r.provider === null) {
            problems.push(`${r.name}: no explicit provider (the default one)`);
            continue;
        }
        const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
        const provider = providers.get(urn);
        if (provider === undefined || /::default(_\d+)*(_\d+_\d+_\d+)?$/.test(urn)) {
            problems.push(`${r.name}: provider ${r.provider} is not one of the program's cluster providers`);
        } else if (!clusters.includes(provider.name)) {
            problems.push(`${r.name}: provider ${provider.name} is not a cluster of the mesh`);
        } else if (r.cluster !== provider.name) {
            problems.push(`${r.name}: cluster ${r.cluster} but provider ${provider.name}`);
        }
    }
    return problems;
}

const clusterNames = (config: StackConfig): string[] =>
    (JSON.parse(config.values["istio-multicluster:clusters"]!) as { name: string }[]).map((c) => c.name);

describe("providers", () => {
    const cases: [string, () => StackConfig][] = [
        ["the dev stack", () => loadStackFile("dev")],
        ["three primaries and a remote", () => topologyConfig("threePrimariesAndRemote")],
    ];
    for (const [name, config] of cases) {
        it(`${name}: every Kubernetes resource uses its cluster's provider, one provider per cluster`, async () => {
            const c = config();
            const clusters = clusterNames(c);
            const p = await plan(c);
            const k8sResources = p.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8sResources.length >= 4 * clusters.length, `only ${k8sResources.length} resources`);
            assert.deepEqual(providerProblems(p, clusters), []);
            assert.deepEqual(
                p.resources
                    .filter((r) => r.type === providerType)
                    .map((r) => r.name)
                    .sort(),
                [...clusters].sort(),
            );
            // Every provider updates a changed Secret in place (remote secrets, cacerts): replacing one under its
            // fixed name deletes it first, and istiod drops the cluster until it comes back.
            for (const r of p.resources.filter((x) => x.type === providerType)) {
                assert.equal(plainInputs(r).enableSecretMutable, "true", r.name);
            }
            // Every cluster has resources of its own: none was silently moved to another cluster.
            for (const cluster of clusters) {
                assert.ok(
                    k8sResources.some(
                        (r) => r.cluster === cluster && r.type === "kubernetes:core/v1:Namespace",
                    ),
                    `no namespace in ${cluster}`,
                );
            }
        });
    }

    it("the check catches a resource created without a provider", async () => {
        const p = await evaluate(stackConfig(undefined, undefined), () => {
            const provider = new k8s.Provider("cluster1", { context: "ctx-cluster1" });
            new k8s.core.v1.Namespace("with-provider", {}, { provider });
            new k8s.core.v1.Namespace("ambient", {});
            new k8s.core.v1.Namespace(
                "elsewhere",
                {},
                { provider: new k8s.Provider("other", { context: "x" }) },
            );
            return {};
        });
        assert.deepEqual(providerProblems(p, ["cluster1"]), [
            "ambient: no explicit provider (the default one)",
            "elsewhere: provider other is not a cluster of the mesh",
        ]);
    });

    it("Pulumi.yaml disables the default Kubernetes provider, and the plan passes that on", () => {
        const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
            config?: Record<string, { value?: unknown }>;
        };
        const disabled = doc.config?.["pulumi:disable-default-providers"]?.value;
        assert.ok(Array.isArray(disabled), `pulumi:disable-default-providers is ${JSON.stringify(disabled)}`);
        assert.ok(disabled.includes("kubernetes"), JSON.stringify(disabled));
        const config = topologyConfig("primaryRemoteMultiNetwork");
        assert.ok(
            (JSON.parse(config.values["pulumi:disable-default-providers"]!) as string[]).includes(
                "kubernetes",
            ),
        );
    });
});
