import * as assert from "node:assert/strict";
import {
    eastWestGatewayMatchesCluster,
    istioRevisionConsistent,
    istioVersionPinned,
    meshIdentityConsistent,
} from "../../policies/consistency";
import { chart, gatewayValues, istiodValues, runStack, unknown } from "./harness";

const mesh = () => [
    chart("a", "base", { defaultRevision: "1-30-3" }),
    chart("a", "istiod", istiodValues("a", "net-a")),
    chart("a", "gateway", gatewayValues("net-a")),
    chart("b", "base", { defaultRevision: "1-30-3" }),
    chart("b", "istiod", istiodValues("b", "net-b")),
    chart("b", "gateway", gatewayValues("net-b")),
    chart("r", "istiod", {
        profile: "remote",
        revision: "1-30-3",
        global: { multiCluster: { clusterName: "r" } },
    }),
];

describe("mesh-identity-consistent", () => {
    it("passes one mesh ID and one trust domain (a remote without either)", async () => {
        assert.deepEqual((await runStack(meshIdentityConsistent, mesh())).messages, []);
    });
    it("reports a different mesh ID, a missing one, and a different trust domain", async () => {
        const rs = mesh();
        rs[4] = chart(
            "b",
            "istiod",
            istiodValues("b", "net-b", { global: { meshID: "other", multiCluster: { clusterName: "b" } } }),
        );
        rs.push(
            chart(
                "c",
                "istiod",
                istiodValues("c", "net-c", {
                    global: { multiCluster: { clusterName: "c" } },
                    meshConfig: {},
                }),
            ),
        );
        const out = await runStack(meshIdentityConsistent, rs);
        assert.deepEqual(out.messages, [
            "istiod c-istiod sets no global.meshID; set `mesh.meshId`, which every istiod takes",
            'istiod b-istiod has global.meshID "other" but the mesh is "mesh1"; install every cluster from the one `mesh.meshId`',
            'istiod c-istiod has trust domain "cluster.local" but the mesh uses "example.com"; install every cluster from the one `mesh.trustDomain`',
        ]);
    });
    it("skips unknown values", async () => {
        const rs = mesh();
        rs[4] = chart(
            "b",
            "istiod",
            istiodValues("b", "net-b", { global: { meshID: unknown }, meshConfig: unknown }),
        );
        assert.deepEqual((await runStack(meshIdentityConsistent, rs)).messages, []);
    });
});

describe("istio-version-pinned", () => {
    it("passes every chart on one exact version, and the configured one", async () => {
        assert.deepEqual((await runStack(istioVersionPinned, mesh())).messages, []);
        assert.deepEqual((await runStack(istioVersionPinned, mesh(), { version: "1.30.3" })).messages, []);
    });
    it("reports ranges, latest, a missing version and a different version", async () => {
        const rs = mesh();
        const withVersion = (i: number, version: unknown) => {
            rs[i] = { ...rs[i]!, props: { ...rs[i]!.props, version } };
        };
        withVersion(0, "^1.30.0");
        withVersion(1, "latest");
        withVersion(2, undefined);
        withVersion(3, "1.29.0");
        const out = await runStack(istioVersionPinned, rs);
        assert.deepEqual(out.messages, [
            'chart base of a-base has version "^1.30.0"; pin it to an exact version in `mesh.istio.version`, such as "1.30.3"',
            'chart istiod of a-istiod has version "latest"; pin it to an exact version in `mesh.istio.version`, such as "1.30.3"',
            'chart gateway of a-eastwestgateway has version null; pin it to an exact version in `mesh.istio.version`, such as "1.30.3"',
            "chart base of b-base is pinned to 1.29.0 but the mesh runs 1.30.3; set `mesh.istio.version` to 1.30.3: every chart in every cluster follows it",
        ]);
    });
    it("config override: a required version reports every chart on another", async () => {
        const out = await runStack(istioVersionPinned, mesh(), { version: "1.30.4" });
        assert.equal(out.messages.length, 7);
        assert.match(out.messages[0]!, /is pinned to 1\.30\.3 but the mesh runs 1\.30\.4/);
    });
    it("skips unknown versions", async () => {
        const rs = mesh();
        rs[0] = { ...rs[0]!, props: { ...rs[0]!.props, version: unknown } };
        assert.deepEqual((await runStack(istioVersionPinned, rs)).messages, []);
    });
});

describe("istio-revision-consistent", () => {
    it("passes one revision everywhere, and no revision anywhere", async () => {
        assert.deepEqual((await runStack(istioRevisionConsistent, mesh())).messages, []);
        const none = [
            chart("a", "base", {}),
            chart("a", "istiod", istiodValues("a", "n", { revision: undefined })),
        ];
        assert.deepEqual((await runStack(istioRevisionConsistent, none)).messages, []);
    });
    it("reports a chart on another revision or none", async () => {
        const rs = mesh();
        rs[3] = chart("b", "base", {});
        rs[5] = chart("b", "gateway", gatewayValues("net-b", { revision: "canary" }));
        const out = await runStack(istioRevisionConsistent, rs);
        assert.deepEqual(out.messages, [
            'chart base of b-base has revision none but the mesh uses "1-30-3"; set `mesh.istio.revision` once: every chart of every cluster follows it',
            'chart gateway of b-eastwestgateway has revision "canary" but the mesh uses "1-30-3"; set `mesh.istio.revision` once: every chart of every cluster follows it',
        ]);
    });
    it("skips unknown revisions", async () => {
        const rs = mesh();
        rs[5] = chart("b", "gateway", gatewayValues("net-b", { revision: unknown }));
        assert.deepEqual((await runStack(istioRevisionConsistent, rs)).messages, []);
    });
});

describe("east-west-gateway-matches-cluster", () => {
    it("passes gateways on their cluster's network and istiod's revision", async () => {
        assert.deepEqual((await runStack(eastWestGatewayMatchesCluster, mesh())).messages, []);
    });
    it("reports another network and another revision", async () => {
        const rs = mesh();
        rs[2] = chart("a", "gateway", gatewayValues("net-b", { revision: "other" }));
        const out = await runStack(eastWestGatewayMatchesCluster, rs);
        assert.deepEqual(out.messages, [
            'east-west gateway a-eastwestgateway has networkGateway "net-b" but cluster a is on network "net-a"; set the cluster\'s `clusters[].network` once: its istiod and its gateway both follow it',
            'east-west gateway a-eastwestgateway has revision "other" but istiod a-istiod in its cluster has "1-30-3"; set `mesh.istio.revision` once: the gateway follows its istiod',
        ]);
    });
    it("skips unknown network values", async () => {
        const rs = mesh();
        rs[2] = chart("a", "gateway", gatewayValues(unknown));
        assert.deepEqual((await runStack(eastWestGatewayMatchesCluster, rs)).messages, []);
    });
});
