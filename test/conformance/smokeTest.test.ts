/**
 * The smoke test's objects against Kubernetes' schema (the OpenAPI models client-node is generated from) and
 * against what Istio 1.30.3's injector reads from them.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { injectionLabel } from "../../stacks/names";
import { SmokeObject, smokeObjects, SmokeTestSettings } from "../../stacks/smokeTest";
import { loadStackFile, plainInputs, plan } from "../../tools/planner";
import { referenceDir } from "../support/istioSchemas";
import { validateKubeObject } from "../support/kubeSchemas";

const settings: SmokeTestSettings = {
    namespace: "smoke-test",
    v1: "cluster1",
    v2: "cluster2",
    timeoutMinutes: 10,
};

describe("the smoke test's objects", () => {
    it("every object the dev plan emits conforms to its Kubernetes schema", async () => {
        const p = await plan(loadStackFile("dev"));
        const smoke = p.resources.filter((r) => r.custom && r.name.startsWith("smoke-test-"));
        assert.deepEqual(smoke.map((r) => r.type).sort(), [
            "kubernetes:apps/v1:Deployment",
            "kubernetes:apps/v1:Deployment",
            "kubernetes:apps/v1:Deployment",
            "kubernetes:apps/v1:Deployment",
            "kubernetes:batch/v1:Job",
            "kubernetes:batch/v1:Job",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Service",
            "kubernetes:core/v1:Service",
        ]);
        for (const r of smoke) {
            const i = plainInputs(r);
            assert.deepEqual(
                validateKubeObject({ ...i, apiVersion: i.apiVersion as string, kind: i.kind as string }),
                [],
                r.name,
            );
        }
    });

    it("the pure objects conform in every cluster role, with and without a revision", () => {
        for (const cluster of ["cluster1", "cluster2", "cluster3"]) {
            for (const revision of [undefined, "1-30-3"]) {
                const objects = smokeObjects(settings, cluster, revision, "dev");
                for (const o of Object.values(objects) as SmokeObject<unknown>[]) {
                    assert.deepEqual(validateKubeObject(o), [], `${cluster} ${o.kind} ${o.metadata.name}`);
                }
            }
        }
    });

    it("the schema check catches a misplaced field and a wrong type, so the checks above can fail", () => {
        const { job } = smokeObjects(settings, "cluster1", undefined, "dev");
        const spec = job.spec as unknown as { template: { spec: Record<string, unknown> } };
        const bad = {
            ...job,
            spec: {
                ...spec,
                backoffLimit: "0",
                template: { ...spec.template, spec: { ...spec.template.spec, restartpolicy: "Never" } },
            },
        };
        assert.deepEqual(validateKubeObject(bad), [
            'Job.spec.backoffLimit: must be a number, got "0"',
            "Job.spec.template.spec.restartpolicy: not a field of V1PodSpec",
        ]);
    });

    it("Istio 1.30.3's injector honours the Job's native-sidecar annotation", () => {
        const template = fs.readFileSync(
            path.join(referenceDir(), "charts", "istiod", "files", "injection-template.yaml"),
            "utf8",
        );
        const annotations = (
            smokeObjects(settings, "cluster1", undefined, "dev").job.spec as {
                template: { metadata: { annotations: Record<string, string> } };
            }
        ).template.metadata.annotations;
        assert.deepEqual(annotations, { "sidecar.istio.io/nativeSidecar": "true" });
        assert.ok(template.includes("index .ObjectMeta.Annotations `sidecar.istio.io/nativeSidecar`"));
    });

    it("the namespace's injection label is a key the chart's injection webhooks select on", () => {
        const webhook = fs.readFileSync(
            path.join(referenceDir(), "charts", "istiod", "templates", "mutatingwebhook.yaml"),
            "utf8",
        );
        for (const revision of [undefined, "1-30-3"]) {
            const ns = smokeObjects(settings, "cluster1", revision, "dev").namespace;
            assert.deepEqual(ns.metadata.labels, injectionLabel(revision));
            for (const key of Object.keys(ns.metadata.labels ?? {}))
                assert.ok(webhook.includes(`- key: ${key}`), key);
        }
    });
});
