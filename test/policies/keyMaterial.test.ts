import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import {
    caAllowedUses,
    caKeySizeRecommended,
    caKeyStrength,
    caValidityBounds,
    privateKeysOnlyInCacerts,
    rootKeyAbsent,
} from "../../policies/keyMaterial";
import { chart, FakeResource, istiodValues, runResource, runStack, secret, unknown, urn } from "./harness";
import { cacertsData, pki } from "./fixtures";

const cacerts = (cluster: string, data: Record<string, unknown>, extra: Partial<FakeResource> = {}) =>
    secret(
        cluster,
        `${cluster}-cacerts`,
        { metadata: { name: "cacerts", namespace: "istio-system" }, stringData: data },
        extra,
    );
const tls = (
    kind: "privateKey" | "selfSignedCert" | "locallySignedCert",
    name: string,
    props: Record<string, unknown>,
): FakeResource => ({
    type: {
        privateKey: "tls:index/privateKey:PrivateKey",
        selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
        locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
    }[kind],
    name,
    props,
});
const ec = (curve: string) =>
    crypto
        .generateKeyPairSync("ec", { namedCurve: curve })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString();

describe("private-keys-only-in-cacerts", () => {
    it("passes keys in cacerts ca-key.pem and in @pulumi/tls resources", async () => {
        const out = await runStack(privateKeysOnlyInCacerts, [
            tls("privateKey", "root-key", { algorithm: "RSA" }),
            tls("locallySignedCert", "int", { caPrivateKeyPem: pki.rootKey }),
            cacerts("a", cacertsData(pki.intCert, pki.intKey, pki.rootCert), {
                propertyDependencies: { stringData: ["root-key"] },
            }),
        ]);
        assert.deepEqual(out.messages, []);
    });
    it("reports keys in a ConfigMap, Helm values, another Secret's data and another cacerts key; and key flows", async () => {
        const out = await runStack(privateKeysOnlyInCacerts, [
            tls("privateKey", "k", { algorithm: "RSA" }),
            { type: "kubernetes:core/v1:ConfigMap", name: "cm", props: { data: { key: pki.intKey } } },
            chart("a", "istiod", istiodValues("a", "n", { caKey: pki.intKey })),
            secret("a", "s", {
                metadata: { name: "s" },
                data: { k: Buffer.from(pki.intKey).toString("base64") },
            }),
            cacerts("a", { ...cacertsData(pki.intCert, pki.intKey, pki.rootCert), "extra.pem": pki.rootKey }),
            {
                type: "kubernetes:core/v1:ConfigMap",
                name: "flow",
                props: { data: { k: unknown } },
                propertyDependencies: { data: ["k"] },
            },
        ]);
        assert.deepEqual(out.messages, [
            "kubernetes:core/v1:ConfigMap cm holds a private key at data.key; keep private keys only in the cacerts Secret (ca-key.pem) and pass them nowhere else",
            "kubernetes:helm.sh/v3:Release a-istiod holds a private key at values.caKey; keep private keys only in the cacerts Secret (ca-key.pem) and pass them nowhere else",
            "kubernetes:core/v1:Secret s holds a private key at data.k; keep private keys only in the cacerts Secret (ca-key.pem) and pass them nowhere else",
            "kubernetes:core/v1:Secret a-cacerts holds a private key at stringData.extra.pem; keep private keys only in the cacerts Secret (ca-key.pem) and pass them nowhere else",
            "kubernetes:core/v1:ConfigMap flow takes data from private key k; keep private keys only in the cacerts Secret (ca-key.pem)",
        ]);
    });
    it("skips unknown values", async () => {
        const out = await runStack(privateKeysOnlyInCacerts, [
            { type: "kubernetes:core/v1:ConfigMap", name: "cm", props: { data: unknown } },
        ]);
        assert.deepEqual(out.messages, []);
    });
});

describe("root-key-absent", () => {
    const byo = (key: string) => cacerts("a", cacertsData(pki.intCert, key, pki.rootCert));
    it("passes bring-your-own intermediates, and a generated root unless configured", async () => {
        assert.deepEqual((await runStack(rootKeyAbsent, [byo(pki.intKey)])).messages, []);
        assert.deepEqual((await runStack(rootKeyAbsent, [tls("selfSignedCert", "root", {})])).messages, []);
    });
    // external-root mode: the brought root's secret key signs the intermediates here.
    const externalRoot = (rootKey: string) => [
        byo(pki.intKey),
        tls("locallySignedCert", "int", {
            caCertPem: pki.rootCert,
            caPrivateKeyPem: rootKey,
            isCaCertificate: true,
        }),
    ];
    const signs =
        "int signs an intermediate with the root's private key, which puts that key in the state; issue the intermediates offline and set them in `mesh.ca.intermediates` (no `mesh.ca.rootKey`)";
    it("passes external-root mode (intermediates signed here) unless configured", async () => {
        assert.deepEqual((await runStack(rootKeyAbsent, externalRoot(pki.rootKey))).messages, []);
        assert.deepEqual(
            (await runStack(rootKeyAbsent, externalRoot(pki.rootKey), { requireExternalRoot: false }))
                .messages,
            [],
        );
    });
    it("config override: requireExternalRoot refuses signing in the stack, once per intermediate", async () => {
        for (const rootKey of [pki.rootKey, unknown]) {
            const out = await runStack(rootKeyAbsent, externalRoot(rootKey), { requireExternalRoot: true });
            assert.deepEqual(out.messages, [signs]);
            assert.deepEqual(out.urns, [
                urn({ type: "tls:index/locallySignedCert:LocallySignedCert", name: "int" }),
            ]);
        }
    });
    it("reports the root key in cacerts, in any mode", async () => {
        const leak = [byo(pki.rootKey), tls("locallySignedCert", "int", { caPrivateKeyPem: unknown })];
        const inCacerts =
            "kubernetes:core/v1:Secret a-cacerts holds the root CA's private key at stringData.ca-key.pem; remove it: only the intermediate's key belongs in the mesh";
        assert.deepEqual((await runStack(rootKeyAbsent, leak)).messages, [inCacerts]);
        assert.deepEqual((await runStack(rootKeyAbsent, leak, { requireExternalRoot: true })).messages, [
            signs,
            inCacerts,
        ]);
    });
    it("config override: requireExternalRoot refuses a generated root", async () => {
        const out = await runStack(rootKeyAbsent, [tls("selfSignedCert", "root", {})], {
            requireExternalRoot: true,
        });
        assert.equal(out.messages.length, 1);
        assert.match(out.messages[0]!, /^root CA root is generated/);
    });
    it("skips unknown cacerts data", async () => {
        assert.deepEqual(
            (await runStack(rootKeyAbsent, [cacerts("a", unknown as unknown as Record<string, unknown>)]))
                .messages,
            [],
        );
    });
});

describe("ca-key-strength and ca-key-size-recommended", () => {
    const key = (props: Record<string, unknown>) => tls("privateKey", "k", props);
    it("passes RSA 4096, ECDSA P256 and a 2048-bit brought intermediate", async () => {
        for (const r of [
            key({ algorithm: "RSA", rsaBits: 4096 }),
            key({ algorithm: "ECDSA", ecdsaCurve: "P256" }),
            cacerts("a", cacertsData(pki.intCert, pki.intKey, pki.rootCert)),
        ]) {
            assert.deepEqual((await runResource(caKeyStrength, r)).messages, []);
        }
        assert.deepEqual(
            (await runResource(caKeySizeRecommended, key({ algorithm: "RSA", rsaBits: 4096 }))).messages,
            [],
        );
    });
    it("reports weak RSA (the provider default 2048 passes), small or default curves, and ED25519", async () => {
        const msgs = async (props: Record<string, unknown>) =>
            (await runResource(caKeyStrength, key(props))).messages;
        assert.deepEqual(await msgs({ algorithm: "RSA", rsaBits: 1024 }), [
            "k key is RSA 1024; set `mesh.ca.rsaBits` (or bring keys) of 2048 bits or more (4096 recommended)",
        ]);
        assert.deepEqual(await msgs({ algorithm: "RSA" }), []);
        assert.deepEqual(await msgs({ algorithm: "ECDSA" }), [
            "k key uses curve P224; use ECDSA P256, P384 or P521",
        ]);
        assert.deepEqual(await msgs({ algorithm: "ED25519" }), [
            "k key is ED25519; Istio's CA needs RSA or ECDSA keys",
        ]);
        const weakEc = cacerts("a", { "ca-key.pem": ec("secp224r1") });
        assert.deepEqual((await runResource(caKeyStrength, weakEc)).messages, [
            "a-cacerts ca-key.pem uses curve secp224r1; use ECDSA P256, P384 or P521",
        ]);
        assert.deepEqual(
            (await runResource(caKeyStrength, cacerts("a", { "ca-key.pem": ec("prime256v1") }))).messages,
            [],
        );
    });
    it("recommends 4096 for RSA 2048 keys and brought certificates", async () => {
        assert.deepEqual(
            (await runResource(caKeySizeRecommended, key({ algorithm: "RSA", rsaBits: 2048 }))).messages,
            [
                "k key is RSA 2048; 4096 bits are recommended for a CA: set `mesh.ca.rsaBits` (or bring keys) of 4096",
            ],
        );
        const byo = await runResource(
            caKeySizeRecommended,
            cacerts("a", cacertsData(pki.intCert, "[secret]", pki.rootCert)),
        );
        assert.equal(byo.messages.length, 2);
    });
    it("config overrides: minRsaBits and recommendedRsaBits", async () => {
        assert.deepEqual(
            (await runResource(caKeyStrength, key({ algorithm: "RSA", rsaBits: 2048 }), { minRsaBits: 3072 }))
                .messages,
            [
                "k key is RSA 2048; set `mesh.ca.rsaBits` (or bring keys) of 3072 bits or more (4096 recommended)",
            ],
        );
        assert.deepEqual(
            (
                await runResource(caKeySizeRecommended, key({ algorithm: "RSA", rsaBits: 2048 }), {
                    recommendedRsaBits: 2048,
                })
            ).messages,
            [],
        );
    });
    it("skips unknown sizes and keys", async () => {
        assert.deepEqual(
            (await runResource(caKeyStrength, key({ algorithm: "RSA", rsaBits: unknown }))).messages,
            [],
        );
        assert.deepEqual(
            (await runResource(caKeyStrength, cacerts("a", { "ca-key.pem": unknown }))).messages,
            [],
        );
    });
});

describe("ca-validity-bounds", () => {
    const generated = (rootDays: number, intDays: number) => [
        tls("selfSignedCert", "root", { validityPeriodHours: rootDays * 24 }),
        tls("locallySignedCert", "int", { validityPeriodHours: intDays * 24 }),
    ];
    it("passes Istio's defaults and brought certificates within bounds", async () => {
        assert.deepEqual((await runStack(caValidityBounds, generated(3650, 730))).messages, []);
        assert.deepEqual(
            (await runStack(caValidityBounds, [cacerts("a", cacertsData(pki.intCert, "", pki.rootCert))]))
                .messages,
            [],
        );
    });
    it("reports a too-long root, a too-long intermediate, and an intermediate outliving its root", async () => {
        assert.deepEqual((await runStack(caValidityBounds, generated(4000, 1900))).messages, [
            "root CA root is valid 4000 days; set `mesh.ca.rootValidityDays` to at most 3650",
            "intermediate CA int is valid 1900 days; set `mesh.ca.intermediateValidityDays` to at most 1825",
        ]);
        assert.deepEqual((await runStack(caValidityBounds, generated(300, 400))).messages, [
            "intermediate CA int is valid 400 days, longer than its root's 300; set `mesh.ca.intermediateValidityDays` below `mesh.ca.rootValidityDays`",
        ]);
        const outlives = await runStack(caValidityBounds, [
            cacerts("a", cacertsData(pki.outlivesRootCert, "", pki.shortRootCert)),
        ]);
        assert.equal(outlives.messages.length, 1);
        assert.match(outlives.messages[0]!, /^a-cacerts ca-cert\.pem expires .*, after its root/);
    });
    it("config override: maxIntermediateValidityDays 730 refuses a 1000-day brought intermediate", async () => {
        const rs = [cacerts("a", cacertsData(pki.int1000dCert, "", pki.rootCert))];
        assert.deepEqual((await runStack(caValidityBounds, rs)).messages, []);
        assert.deepEqual(
            (await runStack(caValidityBounds, rs, { maxIntermediateValidityDays: 730 })).messages,
            ["a-cacerts ca-cert.pem is valid 1000 days; issue an intermediate valid at most 730 days"],
        );
    });
    it("skips unknown validity", async () => {
        const rs = [
            tls("selfSignedCert", "root", { validityPeriodHours: unknown }),
            tls("locallySignedCert", "int", { validityPeriodHours: unknown }),
        ];
        assert.deepEqual((await runStack(caValidityBounds, rs, { maxRootValidityDays: 1 })).messages, []);
    });
});

describe("ca-allowed-uses", () => {
    const cert = (props: Record<string, unknown>) =>
        tls("selfSignedCert", "root", { isCaCertificate: true, ...props });
    it("passes a CA that can sign, and a brought CA intermediate", async () => {
        assert.deepEqual(
            (await runResource(caAllowedUses, cert({ allowedUses: ["cert_signing", "crl_signing"] })))
                .messages,
            [],
        );
        assert.deepEqual(
            (await runResource(caAllowedUses, cacerts("a", { "ca-cert.pem": pki.intCert }))).messages,
            [],
        );
    });
    it("reports camelCase uses, a CA that cannot sign, a non-CA, and a brought non-CA certificate", async () => {
        assert.deepEqual(
            (await runResource(caAllowedUses, cert({ allowedUses: ["certSigning", "digital_signature"] })))
                .messages,
            [
                'root allowedUses has "certSigning", which @pulumi/tls drops; spell key usages in snake_case such as cert_signing',
                "root cannot sign certificates; add cert_signing (and crl_signing) to allowedUses",
            ],
        );
        assert.deepEqual(
            (
                await runResource(
                    caAllowedUses,
                    cert({ isCaCertificate: false, allowedUses: ["cert_signing"] }),
                )
            ).messages,
            ["root is not a CA certificate; set isCaCertificate: true"],
        );
        assert.deepEqual(
            (await runResource(caAllowedUses, cacerts("a", { "ca-cert.pem": pki.notCaCert }))).messages,
            ["a-cacerts ca-cert.pem is not a CA certificate; bring an intermediate with CA:true"],
        );
    });
    it("skips unknown uses", async () => {
        assert.deepEqual((await runResource(caAllowedUses, cert({ allowedUses: unknown }))).messages, []);
        assert.deepEqual(
            (await runResource(caAllowedUses, cert({ allowedUses: ["cert_signing", unknown] }))).messages,
            [],
        );
    });
});
