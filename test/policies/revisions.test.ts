import * as assert from "node:assert/strict";
import { istioRevisionConsistent, istioVersionPinned } from "../../policies/consistency";
import { istioRevisionsConsistent } from "../../policies/revisions";
import { chart, gatewayValues, istiodValues, runStack } from "./harness";

type Values = Record<string, unknown>;
const at = (r: ReturnType<typeof chart>, version: string, name = r.name) => ({
    ...r,
    name,
    props: { ...r.props, version },
});
const istiod = (cluster: string, rev: string, version: string, tags: string[], extra: Values = {}) =>
    at(
        chart(cluster, "istiod", {
            ...istiodValues(cluster, `${cluster}-net`, extra),
            revision: rev,
            ...(tags.length > 0 ? { revisionTags: tags } : {}),
        }),
        version,
        `${cluster}-istiod-${rev}`,
    );

/** Two primaries and a remote, 1-29-6 serving and 1-30-3 as canary: what the program plans. */
const canary = () => [
    ...["a", "b"].flatMap((c) => [
        at(chart(c, "base", { defaultRevision: "1-29-6" }), "1.30.3"),
        istiod(c, "1-29-6", "1.29.6", ["default"]),
        istiod(c, "1-30-3", "1.30.3", ["canary"]),
        at(chart(c, "gateway", gatewayValues(`${c}-net`, { revision: "1-29-6" })), "1.29.6"),
    ]),
    at(chart("r", "base", { profile: "remote", defaultRevision: "1-29-6" }), "1.30.3"),
    istiod("r", "1-29-6", "1.29.6", ["default"], { profile: "remote" }),
    istiod("r", "1-30-3", "1.30.3", ["canary"], { profile: "remote" }),
];

describe("istio-revisions-consistent", () => {
    it("passes the program's canary, and says nothing with one revision", async () => {
        assert.deepEqual((await runStack(istioRevisionsConsistent, canary())).messages, []);
        const one = canary().filter((r) => !r.name.endsWith("1-30-3"));
        assert.deepEqual((await runStack(istioRevisionsConsistent, one)).messages, []);
    });

    it("reports a cluster missing a revision, a revision at two versions, and a skew over one minor", async () => {
        const rs = canary().filter((r) => r.name !== "r-istiod-1-30-3");
        rs[2] = istiod("a", "1-30-3", "1.30.4", ["canary"]);
        rs.push(
            istiod("b", "old", "1.28.0", []),
            istiod("a", "old", "1.28.0", []),
            istiod("r", "old", "1.28.0", []),
        );
        const out = await runStack(istioRevisionsConsistent, rs);
        assert.deepEqual(out.messages, [
            'istiod b-istiod-1-30-3 runs revision "1-30-3" at 1.30.3, but it runs at 1.30.4 elsewhere; a revision is one version in every cluster (`mesh.istio.revisions[].version`)',
            "cluster r runs no istiod of revision \"1-30-3\", which other clusters run; every revision is installed in every cluster (a remote's istiod of a revision points at its primary's istiod of that revision)",
            "revisions run 1.28.0 beside 1.30.4: Istio supports control planes at most one minor apart (a proxy may be one minor behind its control plane, never more); upgrade one minor at a time",
            "chart base of a-base is pinned to 1.30.3 but the newest revision runs 1.30.4; base carries the CRDs every revision reads: it follows the newest revision",
            "chart base of b-base is pinned to 1.30.3 but the newest revision runs 1.30.4; base carries the CRDs every revision reads: it follows the newest revision",
            "chart base of r-base is pinned to 1.30.3 but the newest revision runs 1.30.4; base carries the CRDs every revision reads: it follows the newest revision",
        ]);
    });

    it("reports a tag on two revisions, a tag naming another revision elsewhere, and base off the default tag", async () => {
        const rs = canary();
        rs[2] = istiod("a", "1-30-3", "1.30.3", ["canary", "default"]);
        rs[6] = istiod("b", "1-30-3", "1.30.3", []);
        rs[5] = istiod("b", "1-29-6", "1.29.6", ["canary", "default"]);
        rs[4] = at(chart("b", "base", { defaultRevision: "1-30-3" }), "1.30.3");
        const out = await runStack(istioRevisionsConsistent, rs);
        assert.deepEqual(out.messages, [
            'tag "default" is rendered by the istiod releases of revisions "1-29-6" and "1-30-3" in cluster a; a tag names one revision (`mesh.istio.tags`)',
            'tag "canary" names revision "1-29-6" in cluster b but "1-30-3" elsewhere; a tag names the same revision in every cluster',
            'chart base of b-base validates with revision "1-30-3" but the `default` tag names "1-29-6" in cluster b; the default validator follows the tag',
        ]);
    });

    it("reports a gateway on a revision its cluster does not run, or newer than its control plane", async () => {
        const rs = canary();
        rs[3] = at(chart("a", "gateway", gatewayValues("a-net", { revision: "gone" })), "1.29.6");
        rs[7] = at(chart("b", "gateway", gatewayValues("b-net", { revision: "1-29-6" })), "1.30.3");
        const out = await runStack(istioRevisionsConsistent, rs);
        assert.deepEqual(out.messages, [
            'gateway a-eastwestgateway runs on revision "gone", which cluster a does not run; gateways follow the `default` tag\'s revision: keep a revision until no gateway uses it',
            'gateway b-eastwestgateway is 1.30.3, newer than 1.29.6 of revision "1-29-6" that injects it; a proxy is never newer than its control plane',
        ]);
    });
});

describe("the consistency policies beside revisions", () => {
    it("istio-version-pinned allows several versions while revisions run side by side, within the config's list", async () => {
        assert.deepEqual((await runStack(istioVersionPinned, canary())).messages, []);
        assert.deepEqual(
            (await runStack(istioVersionPinned, canary(), { versions: ["1.29.6", "1.30.3"] })).messages,
            [],
        );
        const out = await runStack(istioVersionPinned, canary(), { version: "1.30.3" });
        assert.deepEqual(out.messages, [
            "chart istiod of a-istiod-1-29-6 is pinned to 1.29.6, which this stack's policy config does not allow (1.30.3); pin `mesh.istio.revisions` to allowed versions, or add the new version to the policy's `versions` for the upgrade",
            "chart gateway of a-eastwestgateway is pinned to 1.29.6, which this stack's policy config does not allow (1.30.3); pin `mesh.istio.revisions` to allowed versions, or add the new version to the policy's `versions` for the upgrade",
            "chart istiod of b-istiod-1-29-6 is pinned to 1.29.6, which this stack's policy config does not allow (1.30.3); pin `mesh.istio.revisions` to allowed versions, or add the new version to the policy's `versions` for the upgrade",
            "chart gateway of b-eastwestgateway is pinned to 1.29.6, which this stack's policy config does not allow (1.30.3); pin `mesh.istio.revisions` to allowed versions, or add the new version to the policy's `versions` for the upgrade",
            "chart istiod of r-istiod-1-29-6 is pinned to 1.29.6, which this stack's policy config does not allow (1.30.3); pin `mesh.istio.revisions` to allowed versions, or add the new version to the policy's `versions` for the upgrade",
        ]);
    });

    it("istio-revision-consistent leaves several revisions to istio-revisions-consistent", async () => {
        assert.deepEqual((await runStack(istioRevisionConsistent, canary())).messages, []);
    });
});
