/**
 * Revisions side by side, rendered: every Istio release of a canary plan (1.29.6 serving, 1.30.3 as canary;
 * then the `default` tag moved) rendered with `helm template` from the charts of its own version
 * (../shared/reference/istio-<version>/charts), and what Helm and Istio need checked on the objects.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { plainInputs, plan, stackConfigFromDocument } from "../../tools/planner";
import { K8sObject, template } from "../support/helm";
import { referenceDir } from "../support/istioSchemas";
import { playCluster } from "../support/playCluster";
import { isIstioRelease } from "../support/releases";

const old = { name: "1-29-6", version: "1.29.6" };
const next = { name: "1-30-3", version: "1.30.3" };

/** The charts of one version, beside the 1.30.3 reference. */
function chartsOf(version: string): string {
    const dir = path.join(path.dirname(referenceDir()), `istio-${version}`, "charts");
    assert.ok(fs.existsSync(dir), `no Istio ${version} charts at ${dir}`);
    return dir;
}

/** Per cluster, per release name, the objects it renders. */
async function render(tags: Record<string, string>): Promise<Map<string, Map<string, K8sObject[]>>> {
    const p = await plan(
        stackConfigFromDocument(
            "test",
            {
                config: {
                    "istio-multicluster:mesh": { meshId: "mesh1", istio: { revisions: [old, next], tags } },
                    "istio-multicluster:clusters": [
                        {
                            name: "c1",
                            role: "primary",
                            network: "n1",
                            context: "c1",
                            apiServer: "https://c1:6443",
                        },
                        {
                            name: "c2",
                            role: "primary",
                            network: "n2",
                            context: "c2",
                            apiServer: "https://c2:6443",
                        },
                        {
                            name: "c3",
                            role: "remote",
                            primary: "c1",
                            network: "n1",
                            context: "c3",
                            apiServer: "https://c3:6443",
                        },
                    ],
                },
            },
            "test",
        ),
        { preview: false, applyOutputs: playCluster("ip") },
    );
    const out = new Map<string, Map<string, K8sObject[]>>();
    for (const r of p.resources.filter(isIstioRelease)) {
        const inputs = plainInputs(r);
        const objects = await template({
            releaseName: inputs.name as string,
            chart: path.join(chartsOf(inputs.version as string), inputs.chart as string),
            namespace: "istio-system",
            version: inputs.version as string,
            values: inputs.values as Record<string, unknown>,
        });
        const cluster = out.get(r.cluster!) ?? new Map<string, K8sObject[]>();
        cluster.set(inputs.name as string, objects);
        out.set(r.cluster!, cluster);
    }
    return out;
}

const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const tagOwner = (releases: Map<string, K8sObject[]>, tag: string) =>
    [...releases]
        .filter(([, objs]) =>
            objs.some(
                (o) =>
                    o.kind === "MutatingWebhookConfiguration" &&
                    o.metadata.name === `istio-revision-tag-${tag}`,
            ),
        )
        .map(([name]) => name);

describe("revisions side by side, rendered with each version's own charts", function () {
    this.timeout(180000);
    let canary: Map<string, Map<string, K8sObject[]>>;
    let moved: Map<string, Map<string, K8sObject[]>>;
    before(async () => {
        canary = await render({ default: old.name, canary: next.name });
        moved = await render({ default: next.name, canary: next.name });
    });

    it("no object is rendered by two releases of one cluster (Helm would refuse the second)", () => {
        for (const releases of [...canary.values(), ...moved.values()]) {
            const owner = new Map<string, string>();
            for (const [release, objs] of releases) {
                for (const o of objs) {
                    const k = key(o);
                    assert.ok(!owner.has(k), `${k} rendered by both ${owner.get(k)} and ${release}`);
                    owner.set(k, release);
                }
            }
        }
    });

    it("each tag's webhook and Service come from the release of the revision it names, in every cluster", () => {
        for (const [cluster, releases] of canary) {
            assert.deepEqual(tagOwner(releases, "default"), [`istiod-${old.name}`], cluster);
            assert.deepEqual(tagOwner(releases, "canary"), [`istiod-${next.name}`], cluster);
            const svc = releases
                .get(`istiod-${old.name}`)!
                .find((o) => o.kind === "Service" && o.metadata.name === "istiod-revision-tag-default");
            if (cluster !== "c3") assert.ok(svc, `${cluster}: no Service for the default tag`);
        }
        for (const [cluster, releases] of moved) {
            assert.deepEqual(tagOwner(releases, "default"), [`istiod-${next.name}`], cluster);
        }
    });

    it("the default tag injects istio-injection=enabled namespaces through its revision's istiod", () => {
        const mwc = canary
            .get("c1")!
            .get(`istiod-${old.name}`)!
            .find((o) => o.metadata.name === "istio-revision-tag-default")!;
        const hooks = mwc.webhooks as {
            clientConfig: { service?: { name: string } };
            namespaceSelector?: unknown;
        }[];
        assert.ok(hooks.length > 0);
        for (const h of hooks) assert.equal(h.clientConfig.service?.name, `istiod-${old.name}`);
        assert.ok(JSON.stringify(hooks.map((h) => h.namespaceSelector)).includes("istio-injection"));
    });

    it("each revision's istiod comes from its own version's chart; the remote's revisions point at the primary by their own Service", () => {
        for (const rev of [old, next]) {
            const deployment = canary
                .get("c1")!
                .get(`istiod-${rev.name}`)!
                .find((o) => o.kind === "Deployment")!;
            // The reference charts carry a development image tag; the chart that rendered it says its version.
            assert.equal(deployment.metadata.labels?.["istio.io/rev"], rev.name);
            assert.equal(deployment.metadata.labels?.["helm.sh/chart"], `istiod-${rev.version}`);
            const remote = canary.get("c3")!.get(`istiod-${rev.name}`)!;
            assert.ok(!remote.some((o) => o.kind === "Deployment"), "a remote runs no istiod");
            assert.ok(remote.some((o) => o.kind === "Service" && o.metadata.name === `istiod-${rev.name}`));
        }
        // base carries the newest CRDs and one default validator, on the `default` tag's revision.
        const base = canary.get("c1")!.get("istio-base")!;
        const validator = base.find((o) => o.metadata.name === "istiod-default-validator")!;
        assert.ok(JSON.stringify(validator).includes(`istiod-${old.name}`));
    });
});
