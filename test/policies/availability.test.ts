import * as assert from "node:assert/strict";
import {
    controlPlaneReplicas,
    pkiProtected,
    podDisruptionBudget,
    resourceRequestsSet,
} from "../../policies/availability";
import { chart, gatewayValues, istiodValues, runResource, secret, unknown } from "./harness";

const istiod = (extra: Record<string, unknown>) => chart("a", "istiod", istiodValues("a", "n", extra));
const gateway = (extra: Record<string, unknown>) => chart("a", "gateway", gatewayValues("n", extra));

describe("control-plane-replicas", () => {
    it("passes 2 replicas by autoscaling or a fixed count, and ignores remote istiod", async () => {
        for (const r of [
            istiod({}),
            istiod({ autoscaleEnabled: false, replicaCount: 3 }),
            gateway({}),
            gateway({ autoscaling: { enabled: false }, replicaCount: 2 }),
            chart("r", "istiod", { profile: "remote" }),
        ]) {
            assert.deepEqual((await runResource(controlPlaneReplicas, r)).messages, []);
        }
    });
    it("reports chart defaults (1) and explicit single replicas", async () => {
        assert.deepEqual(
            (await runResource(controlPlaneReplicas, istiod({ autoscaleMin: undefined }))).messages,
            [
                "istiod a-istiod may run 1 replica(s); set `mesh.controlPlane.replicas` (or `autoscale.min`) to at least 2",
            ],
        );
        assert.deepEqual(
            (
                await runResource(
                    controlPlaneReplicas,
                    gateway({ autoscaling: { enabled: false }, replicaCount: 1 }),
                )
            ).messages,
            [
                "east-west gateway a-eastwestgateway may run 1 replica(s); set `mesh.eastWest.replicas` (or the cluster's `clusters[].eastWest.replicas`) (or `autoscale.min`) to at least 2",
            ],
        );
    });
    it("config override: minReplicas", async () => {
        assert.deepEqual(
            (await runResource(controlPlaneReplicas, istiod({}), { minReplicas: 3 })).messages.length,
            1,
        );
        assert.deepEqual(
            (await runResource(controlPlaneReplicas, istiod({ autoscaleMin: 1 }), { minReplicas: 1 }))
                .messages,
            [],
        );
    });
    it("skips unknown counts", async () => {
        assert.deepEqual(
            (await runResource(controlPlaneReplicas, istiod({ autoscaleMin: unknown }))).messages,
            [],
        );
        assert.deepEqual(
            (await runResource(controlPlaneReplicas, gateway({ autoscaling: unknown }))).messages,
            [],
        );
    });
});

describe("pod-disruption-budget", () => {
    it("passes maxUnavailable 1, and minAvailable below the replicas", async () => {
        for (const r of [
            istiod({}),
            istiod({ pdb: { minAvailable: 1 } }),
            gateway({}),
            gateway({ podDisruptionBudget: { maxUnavailable: "50%" } }),
        ]) {
            assert.deepEqual((await runResource(podDisruptionBudget, r)).messages, []);
        }
    });
    it("reports no PDB, and PDBs that block drains", async () => {
        const msgs = async (r: Parameters<typeof runResource>[1]) =>
            (await runResource(podDisruptionBudget, r)).messages;
        assert.deepEqual(
            await msgs(istiod({ global: { meshID: "m", defaultPodDisruptionBudget: { enabled: false } } })),
            ["istiod a-istiod has no PodDisruptionBudget; set `mesh.controlPlane.pdb` to true"],
        );
        assert.deepEqual(await msgs(gateway({ podDisruptionBudget: {} })), [
            "east-west gateway a-eastwestgateway has no PodDisruptionBudget; set `mesh.eastWest.pdb` (or the cluster's `clusters[].eastWest.pdb`) to true",
        ]);
        // The istiod chart's own default, minAvailable 1, with a single replica.
        assert.deepEqual(await msgs(istiod({ pdb: undefined, autoscaleMin: 1 })), [
            "istiod a-istiod has a PodDisruptionBudget that allows no eviction with 1 replica(s), which blocks node drains; set `mesh.controlPlane.pdb` to true (a budget of maxUnavailable 1)",
        ]);
        assert.deepEqual(
            await msgs(gateway({ podDisruptionBudget: { maxUnavailable: 0 } })).then((m) => m.length),
            1,
        );
    });
    it("skips unknown settings", async () => {
        assert.deepEqual((await runResource(podDisruptionBudget, istiod({ pdb: unknown }))).messages, []);
        assert.deepEqual(
            (
                await runResource(
                    podDisruptionBudget,
                    gateway({ podDisruptionBudget: { maxUnavailable: unknown } }),
                )
            ).messages,
            [],
        );
    });
});

describe("resource-requests-set", () => {
    it("passes explicit cpu and memory requests", async () => {
        assert.deepEqual((await runResource(resourceRequestsSet, istiod({}))).messages, []);
        assert.deepEqual((await runResource(resourceRequestsSet, gateway({}))).messages, []);
    });
    it("reports missing requests", async () => {
        assert.deepEqual(
            (await runResource(resourceRequestsSet, istiod({ resources: undefined }))).messages,
            [
                "istiod a-istiod sets no cpu or memory request; set `mesh.controlPlane.resources.requests.cpu` and `mesh.controlPlane.resources.requests.memory` to what it needs",
            ],
        );
        assert.deepEqual(
            (await runResource(resourceRequestsSet, gateway({ resources: { requests: { cpu: "1" } } })))
                .messages,
            [
                "east-west gateway a-eastwestgateway sets no memory request; set `mesh.eastWest.resources.requests.memory` (or the cluster\'s `clusters[].eastWest.resources.requests.memory`) to what it needs",
            ],
        );
    });
    it("treats an unknown request as set", async () => {
        assert.deepEqual(
            (
                await runResource(
                    resourceRequestsSet,
                    istiod({ resources: { requests: { cpu: unknown, memory: unknown } } }),
                )
            ).messages,
            [],
        );
    });
});

describe("pki-protected", () => {
    const tls = (type: string, protect: boolean, props: Record<string, unknown> = {}) => ({
        type,
        name: type.slice(type.lastIndexOf(":") + 1),
        props,
        protect,
    });
    const key = (protect: boolean) => tls("tls:index/privateKey:PrivateKey", protect, { algorithm: "RSA" });
    const cacerts = (protect: boolean, props: Record<string, unknown> = {}) =>
        secret("a", "c", { metadata: { name: "cacerts" }, ...props }, { protect });
    it("passes protected keys and cacerts, and ignores other resources", async () => {
        assert.deepEqual((await runResource(pkiProtected, key(true))).messages, []);
        assert.deepEqual((await runResource(pkiProtected, cacerts(true))).messages, []);
        assert.deepEqual(
            (await runResource(pkiProtected, secret("a", "s", { metadata: { name: "s" } }))).messages,
            [],
        );
    });
    it("requires no protect on certificates and CSRs, which earlyRenewalHours replaces", async () => {
        for (const type of [
            "tls:index/selfSignedCert:SelfSignedCert",
            "tls:index/locallySignedCert:LocallySignedCert",
            "tls:index/certRequest:CertRequest",
        ]) {
            const r = tls(type, false, { validityPeriodHours: 17520, earlyRenewalHours: 720 });
            assert.deepEqual((await runResource(pkiProtected, r)).messages, [], type);
        }
    });
    it("reports unprotected keys and cacerts", async () => {
        assert.deepEqual((await runResource(pkiProtected, key(false))).messages, [
            "tls:index/privateKey:PrivateKey PrivateKey is not protected; set `mesh.ca.protect` to true",
        ]);
        assert.deepEqual((await runResource(pkiProtected, cacerts(false))).messages, [
            "kubernetes:core/v1:Secret c is not protected; set `mesh.ca.protect` to true",
        ]);
    });
    it("identifies cacerts and keys even when their data is unknown, and skips an unknown name", async () => {
        assert.equal(
            (await runResource(pkiProtected, cacerts(false, { stringData: unknown }))).messages.length,
            1,
        );
        assert.equal(
            (
                await runResource(
                    pkiProtected,
                    tls("tls:index/privateKey:PrivateKey", false, { algorithm: unknown }),
                )
            ).messages.length,
            1,
        );
        assert.deepEqual(await runResource(pkiProtected, secret("a", "c", { metadata: { name: unknown } })), {
            messages: [],
            urns: [],
            couldNotRun: false,
        });
    });
});
