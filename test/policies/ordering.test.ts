import * as assert from "node:assert/strict";
import { istiodAfterCacerts } from "../../policies/ordering";
import { chart, istiodValues, runStack, secret, unknown } from "./harness";

const cacerts = (cluster: string) =>
    secret(cluster, `${cluster}-cacerts`, {
        metadata: { name: "cacerts", namespace: "istio-system" },
        stringData: { "ca-key.pem": unknown },
    });

describe("istiod-after-cacerts", () => {
    it("passes when istiod depends on its cluster's cacerts directly or transitively", async () => {
        const out = await runStack(istiodAfterCacerts, [
            cacerts("a"),
            cacerts("b"),
            chart("a", "istiod", istiodValues("a"), { dependsOn: ["a-cacerts"] }),
            chart("b", "base", {}, { dependsOn: ["b-cacerts"] }),
            chart("b", "istiod", istiodValues("b"), { dependsOn: ["b-base"] }),
        ]);
        assert.deepEqual(out.messages, []);
    });

    it("reports istiod that does not wait for cacerts, or waits only for another cluster's", async () => {
        const out = await runStack(istiodAfterCacerts, [
            cacerts("a"),
            cacerts("b"),
            chart("a", "istiod", istiodValues("a")),
            chart("b", "istiod", istiodValues("b"), { dependsOn: ["a-cacerts"] }),
        ]);
        assert.deepEqual(out.messages, [
            "istiod a-istiod does not wait for a-cacerts, the cacerts of cluster a; add it to istiod's dependsOn, or istiod may start first and keep a self-signed CA",
            "istiod b-istiod does not wait for b-cacerts, the cacerts of cluster b; add it to istiod's dependsOn, or istiod may start first and keep a self-signed CA",
        ]);
    });

    it("reports a primary without any cacerts, and ignores remote-profile istiod", async () => {
        const out = await runStack(istiodAfterCacerts, [
            chart("a", "istiod", istiodValues("a")),
            chart("r", "istiod", { profile: "remote" }),
        ]);
        assert.equal(out.messages.length, 1);
        assert.match(out.messages[0]!, /^istiod a-istiod in cluster a has no cacerts Secret/);
    });

    it("never fails on unknown values (unknown chart values, unknown cacerts data)", async () => {
        const out = await runStack(istiodAfterCacerts, [
            cacerts("a"),
            chart("a", "istiod", istiodValues("a"), {
                dependsOn: ["a-cacerts"],
                props: { chart: "istiod", version: unknown, values: unknown },
            }),
        ]);
        assert.deepEqual(out, { messages: [], urns: [], couldNotRun: false });
    });
});
