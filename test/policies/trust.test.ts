import * as assert from "node:assert/strict";
import { caRenewalDue, trustBundleConsistent } from "../../policies/trust";
import { labelledCert, labelledKey } from "../support/testPki";
import { chart, FakeResource, istiodValues, runStack, secret, unknown } from "./harness";

/** A cacerts Secret in `cluster`: an intermediate, its chain to `signer`, and the bundle `roots`. */
const cacerts = (cluster: string, int: string, signer: string, roots: string[]): FakeResource =>
    secret(cluster, `${cluster}-cacerts`, {
        metadata: { name: "cacerts", namespace: "istio-system" },
        stringData: {
            "ca-cert.pem": labelledCert(int, signer),
            "ca-key.pem": labelledKey(int, signer),
            "root-cert.pem": roots.map((r) => labelledCert(r, r)).join(""),
            "cert-chain.pem": labelledCert(int, signer) + labelledCert(signer, signer),
        },
    });
const multiRoot = { env: { ISTIO_MULTIROOT_MESH: "true" } };

describe("trust-bundle-consistent", () => {
    it("passes one root everywhere, and every stage of a rotation carried to every primary", async () => {
        const one = await runStack(trustBundleConsistent, [
            cacerts("a", "IA", "ROOT", ["ROOT"]),
            cacerts("b", "IB", "ROOT", ["ROOT"]),
            chart("a", "istiod", istiodValues("a")),
        ]);
        assert.deepEqual(one.messages, []);
        for (const [signer, roots] of [
            ["ROOT", ["ROOT", "ROOTB"]],
            ["ROOTB", ["ROOT", "ROOTB"]],
            ["ROOTB", ["ROOTB"]],
        ] as const) {
            const out = await runStack(trustBundleConsistent, [
                cacerts("a", "IA", signer, [...roots]),
                cacerts("b", "IB", signer, [...roots]),
                chart("a", "istiod", istiodValues("a", "n", multiRoot)),
                chart("b", "istiod", istiodValues("b", "n", multiRoot)),
            ]);
            assert.deepEqual(out.messages, [], `${signer} / ${roots.join("+")}`);
        }
    });

    it("reports a bundle one primary lacks, an intermediate of no trusted root, istiod not multi-root", async () => {
        const out = await runStack(trustBundleConsistent, [
            cacerts("a", "IA", "ROOT", ["ROOT", "ROOTB"]),
            cacerts("b", "IB", "ROOTB", ["ROOT"]),
            chart("a", "istiod", istiodValues("a")),
        ]);
        assert.deepEqual(out.messages, [
            'a-istiod: its cluster\'s cacerts holds 2 roots, but istiod runs without ISTIO_MULTIROOT_MESH=true and keeps trusting the old bundle alone; set `env.ISTIO_MULTIROOT_MESH: "true"` in its values',
            "b-cacerts trusts 1 root(s) and a-cacerts 2, not the same ones: workloads of the two clusters would refuse each other's certificates; carry every stage of a root rotation to every primary in one `pulumi up`",
            "b-cacerts: ca-cert.pem is signed by no root of its root-cert.pem; issue the intermediate from a root the bundle holds (add a new root in stage `add` first)",
        ]);
    });

    it("says nothing of a cacerts unknown in a preview", async () => {
        const out = await runStack(trustBundleConsistent, [
            secret("a", "a-cacerts", { metadata: { name: "cacerts" }, stringData: unknown }),
            cacerts("b", "IB", "ROOT", ["ROOT"]),
        ]);
        assert.deepEqual(out.messages, []);
    });
});

describe("ca-renewal-due", () => {
    it("passes certificates far from expiry (test intermediates live 730 days, roots 3650)", async () => {
        const out = await runStack(caRenewalDue, [cacerts("a", "IA", "ROOT", ["ROOT"])]);
        assert.deepEqual(out.messages, []);
    });

    it("warns of each CA certificate within the window, naming the file and how to renew", async () => {
        const out = await runStack(caRenewalDue, [cacerts("a", "IA", "ROOT", ["ROOT"])], { windowDays: 800 });
        assert.equal(out.messages.length, 1);
        assert.match(
            out.messages[0]!,
            /^a-cacerts: ca-cert\.pem \(the intermediate\), O=Istio, CN=IA, expires on \d{4}-\d\d-\d\d, within 800 days; renew it: a generated one is renewed by the first `pulumi up` within `mesh\.ca\.earlyRenewalHours`/,
        );
        const both = await runStack(caRenewalDue, [cacerts("a", "IA", "ROOT", ["ROOT"])], {
            windowDays: 4000,
        });
        assert.equal(both.messages.length, 2);
        assert.match(both.messages[1]!, /^a-cacerts: a root of root-cert\.pem, O=Istio, CN=ROOT, expires on/);
    });
});
