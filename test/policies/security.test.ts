import * as assert from "node:assert/strict";
import {
    denyByDefaultHasAllowRules,
    meshMtlsStrict,
    mtlsNoPermissiveOverride,
    principalsInTrustDomain,
    rootAuthorizationHasSelector,
    securityIdenticalOnPrimaries,
} from "../../policies/security";
import { chart, FakeResource, istiodValues, runResource, runStack, unknown } from "./harness";

const PA = "kubernetes:security.istio.io/v1:PeerAuthentication";
const AP = "kubernetes:security.istio.io/v1:AuthorizationPolicy";

function object(
    type: string,
    cluster: string,
    namespace: string,
    name: string,
    spec: unknown,
    metadata: Record<string, unknown> = {},
): FakeResource {
    return {
        type,
        name: `${cluster}/${namespace}/${name}`,
        cluster,
        props: {
            apiVersion: "security.istio.io/v1",
            kind: type.split(":").pop(),
            metadata: { name, namespace, ...metadata },
            spec,
        },
    };
}

const strict = (cluster: string, mode: unknown = "STRICT") =>
    object(PA, cluster, "istio-system", "default", { mtls: { mode } });
const allowNothing = (cluster: string, ns = "sample", annotations?: Record<string, string>) =>
    object(AP, cluster, ns, "allow-nothing", {}, annotations ? { annotations } : {});
const allowSleep = (cluster: string, principal = "example.com/ns/sample/sa/sleep") =>
    object(AP, cluster, "sample", "helloworld-from-sleep", {
        selector: { matchLabels: { app: "helloworld" } },
        action: "ALLOW",
        rules: [
            { from: [{ source: { principals: [principal] } }], to: [{ operation: { methods: ["GET"] } }] },
        ],
    });

/** The objects of one primary, compliant; istiodValues uses trust domain example.com. */
const primaryWith = (cluster: string) => [
    chart(cluster, "istiod", istiodValues(cluster)),
    strict(cluster),
    allowNothing(cluster),
    allowSleep(cluster),
];
const remoteIstiod = (cluster: string) =>
    chart(cluster, "istiod", { profile: "remote", global: { multiCluster: { clusterName: cluster } } });
const mesh = () => [...primaryWith("a"), ...primaryWith("b"), remoteIstiod("r")];

describe("mesh-mtls-strict", () => {
    it("passes a STRICT mesh-wide PeerAuthentication in every primary (the remote needs none)", async () => {
        assert.deepEqual((await runStack(meshMtlsStrict, mesh())).messages, []);
    });
    it("reports a primary without one and a PERMISSIVE one", async () => {
        const rs = mesh().filter((r) => r.name !== "b/istio-system/default");
        rs[1] = strict("a", "PERMISSIVE");
        const out = await runStack(meshMtlsStrict, rs);
        assert.deepEqual(out.messages, [
            "PeerAuthentication a/istio-system/default sets mesh-wide mTLS to PERMISSIVE in primary a; set `istio-multicluster:security.mtls: STRICT`",
            "primary b has no mesh-wide PeerAuthentication in istio-system; its workloads accept plain text: set `istio-multicluster:security.mtls: STRICT`",
        ]);
    });
    it("a selector makes it not mesh-wide", async () => {
        const rs = mesh();
        rs[1] = object(PA, "a", "istio-system", "default", {
            selector: { matchLabels: { app: "x" } },
            mtls: { mode: "STRICT" },
        });
        assert.equal((await runStack(meshMtlsStrict, rs)).messages.length, 1);
    });
    it("skips an unknown mode", async () => {
        const rs = mesh();
        rs[1] = strict("a", unknown);
        assert.deepEqual((await runStack(meshMtlsStrict, rs)).messages, []);
    });
    it("config override: another root namespace", async () => {
        const out = await runStack(meshMtlsStrict, mesh(), { rootNamespace: "istio-config" });
        assert.deepEqual(out.messages, [
            "primary a has no mesh-wide PeerAuthentication in istio-config; its workloads accept plain text: set `istio-multicluster:security.mtls: STRICT`",
            "primary b has no mesh-wide PeerAuthentication in istio-config; its workloads accept plain text: set `istio-multicluster:security.mtls: STRICT`",
        ]);
    });
});

describe("mtls-no-permissive-override", () => {
    const legacy = (mode: unknown, extra: Record<string, unknown> = {}) =>
        object(PA, "a", "legacy", "default", { mtls: { mode }, ...extra });
    it("passes STRICT, UNSET, and leaves the mesh-wide one to mesh-mtls-strict", async () => {
        for (const r of [legacy("STRICT"), legacy("UNSET"), strict("a", "PERMISSIVE")]) {
            assert.deepEqual((await runResource(mtlsNoPermissiveOverride, r)).messages, []);
        }
    });
    it("reports PERMISSIVE, DISABLE and a weak port", async () => {
        const r = legacy("PERMISSIVE", {
            selector: { matchLabels: { app: "x" } },
            portLevelMtls: { "8080": { mode: "DISABLE" } },
        });
        assert.deepEqual((await runResource(mtlsNoPermissiveOverride, r)).messages, [
            "PeerAuthentication a/legacy/default in namespace legacy sets PERMISSIVE, DISABLE on port 8080; end the migration window: remove `mtls` from that namespace in `istio-multicluster:namespaces`",
        ]);
    });
    it("skips unknown values", async () => {
        assert.deepEqual((await runResource(mtlsNoPermissiveOverride, legacy(unknown))).messages, []);
        const r = object(PA, "a", unknown, "default", { mtls: { mode: "PERMISSIVE" } });
        assert.deepEqual((await runResource(mtlsNoPermissiveOverride, r)).messages, []);
    });
    it("config override: a namespace allowed its migration window", async () => {
        const out = await runResource(mtlsNoPermissiveOverride, legacy("PERMISSIVE"), {
            permissiveNamespaces: ["legacy"],
        });
        assert.deepEqual(out.messages, []);
    });
});

describe("deny-by-default-has-allow-rules", () => {
    it("passes a deny-by-default namespace with an allow rule, and one that says allowNothing", async () => {
        const rs = [...mesh(), allowNothing("a", "vault", { "istio-multicluster/allow-nothing": "true" })];
        assert.deepEqual((await runStack(denyByDefaultHasAllowRules, rs)).messages, []);
    });
    it("reports a namespace that denies everything without saying so, per cluster", async () => {
        const rs = [...mesh(), allowNothing("a", "vault"), allowNothing("b", "vault", { other: "x" })];
        const out = await runStack(denyByDefaultHasAllowRules, rs);
        const msg = (c: string) =>
            `namespace vault in cluster ${c} denies every request and has no allow rule; add one under its \`allow\` in \`istio-multicluster:namespaces\`, or set \`allowNothing: true\` there if nothing may call it`;
        assert.deepEqual(out.messages, [msg("a"), msg("b")]);
    });
    it("an allow rule in another cluster or namespace does not count", async () => {
        const rs = [
            allowNothing("a"),
            allowSleep("b"),
            object(AP, "a", "other", "r", allowSleep("a").props!.spec),
        ];
        assert.equal((await runStack(denyByDefaultHasAllowRules, rs)).messages.length, 1);
    });
    it("skips unknown values", async () => {
        const rs = [allowNothing("a"), object(AP, "a", "sample", "r", { action: "ALLOW", rules: unknown })];
        assert.deepEqual((await runStack(denyByDefaultHasAllowRules, rs)).messages, []);
        const ns = [allowNothing("a", unknown)];
        assert.deepEqual((await runStack(denyByDefaultHasAllowRules, ns)).messages, []);
    });
});

describe("root-authorization-has-selector", () => {
    it("passes application namespaces and selected root policies", async () => {
        for (const r of [
            allowNothing("a"),
            object(AP, "a", "istio-system", "gw", { selector: { matchLabels: { istio: "ingressgateway" } } }),
            object(AP, "a", "istio-system", "gw", { targetRefs: [{ kind: "Gateway", name: "g" }] }),
        ]) {
            assert.deepEqual((await runResource(rootAuthorizationHasSelector, r)).messages, []);
        }
    });
    it("reports a mesh-wide allow-nothing in the root namespace", async () => {
        const out = await runResource(rootAuthorizationHasSelector, allowNothing("a", "istio-system"));
        assert.deepEqual(out.messages, [
            "AuthorizationPolicy a/istio-system/allow-nothing in istio-system has no selector, so it applies to every workload of the mesh, the east-west and ingress gateways included; put deny-by-default in application namespaces (`denyByDefault` in `istio-multicluster:namespaces`) or give it a selector",
        ]);
    });
    it("skips an unknown selector or namespace", async () => {
        for (const r of [
            object(AP, "a", "istio-system", "x", { selector: { matchLabels: unknown } }),
            allowNothing("a", unknown),
        ]) {
            assert.deepEqual((await runResource(rootAuthorizationHasSelector, r)).messages, []);
        }
    });
    it("config override: another root namespace", async () => {
        const r = allowNothing("a", "istio-config");
        assert.equal((await runResource(rootAuthorizationHasSelector, r)).messages.length, 0);
        assert.equal(
            (await runResource(rootAuthorizationHasSelector, r, { rootNamespace: "istio-config" })).messages
                .length,
            1,
        );
    });
});

describe("principals-in-trust-domain", () => {
    it("passes principals in the trust domain", async () => {
        assert.deepEqual((await runStack(principalsInTrustDomain, mesh())).messages, []);
    });
    it("reports a foreign trust domain and a wildcard, naming where they are", async () => {
        const rs = mesh();
        rs[3] = allowSleep("a", "cluster.local/ns/sample/sa/sleep");
        rs.push(
            object(AP, "b", "sample", "deny-any", {
                action: "DENY",
                rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }],
            }),
        );
        const out = await runStack(principalsInTrustDomain, rs);
        assert.deepEqual(out.messages, [
            'AuthorizationPolicy a/sample/helloworld-from-sleep names principal "cluster.local/ns/sample/sa/sleep" (spec.rules[0].from[0].source.principals[0]), outside the mesh\'s trust domain "example.com"; write it as <trustDomain>/ns/<namespace>/sa/<serviceAccount>, or list its trust domain in `istio-multicluster:security.trustDomainAliases`',
            'AuthorizationPolicy b/sample/deny-any names principal "*" (spec.rules[0].from[0].source.notPrincipals[0]), outside the mesh\'s trust domain "example.com"; write it as <trustDomain>/ns/<namespace>/sa/<serviceAccount>, or list its trust domain in `istio-multicluster:security.trustDomainAliases`',
        ]);
    });
    it("accepts an alias istiod is configured with, and judges other clusters by every primary", async () => {
        const rs = [
            chart(
                "a",
                "istiod",
                istiodValues("a", "n", {
                    meshConfig: { trustDomain: "example.com", trustDomainAliases: ["old.io"] },
                }),
            ),
            allowSleep("a", "old.io/ns/sample/sa/sleep"),
            allowSleep("elsewhere", "old.io/ns/sample/sa/sleep"),
        ];
        assert.deepEqual((await runStack(principalsInTrustDomain, rs)).messages, []);
    });
    it("skips an unknown trust domain", async () => {
        const rs = mesh();
        rs[0] = chart("a", "istiod", istiodValues("a", "n", { meshConfig: unknown }));
        rs[3] = allowSleep("a", "other.io/ns/sample/sa/sleep");
        assert.deepEqual((await runStack(principalsInTrustDomain, rs)).messages, []);
    });
});

describe("security-identical-on-primaries", () => {
    it("passes primaries holding the same objects", async () => {
        assert.deepEqual((await runStack(securityIdenticalOnPrimaries, mesh())).messages, []);
    });
    it("reports an object missing from a primary, one that differs, and one in a remote", async () => {
        const rs = mesh().filter((r) => r.name !== "b/sample/allow-nothing");
        const i = rs.findIndex((r) => r.name === "b/sample/helloworld-from-sleep");
        rs[i] = allowSleep("b", "example.com/ns/sample/sa/other");
        rs.push(strict("r"));
        const out = await runStack(securityIdenticalOnPrimaries, rs);
        assert.deepEqual(out.messages, [
            "PeerAuthentication r/istio-system/default is in remote cluster r, where no istiod reads it; Istio config belongs in the primaries only",
            "AuthorizationPolicy sample/allow-nothing is in primaries a but not in b; every primary must hold the same security objects, or workloads served by the others escape it",
            "AuthorizationPolicy sample/helloworld-from-sleep differs between primaries: a and b; every primary must hold the same security objects, or workloads served by the others get other rules",
        ]);
    });
    it("skips content that is unknown", async () => {
        const rs = mesh();
        const i = rs.findIndex((r) => r.name === "b/sample/helloworld-from-sleep");
        rs[i] = allowSleep("b", unknown);
        assert.deepEqual((await runStack(securityIdenticalOnPrimaries, rs)).messages, []);
    });
});
