/**
 * TrustAnchor: exact children, inputs, providers and dependencies in each CA mode, evaluated under the
 * planner's mock monitor with a small program (providers, namespaces, the anchor) or with the whole program.
 */
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { caAllowedUses, TrustAnchor } from "../../components/trustAnchor";
import { validateTopology } from "../../stacks/validate";
import {
    ApplyOutputs,
    displayInputs,
    evaluate,
    Plan,
    plainInputs,
    plan,
    PlannedResource,
    redactedSecret,
} from "../../tools/planner";
import {
    ClusterDoc,
    fakeCertPem,
    mesh,
    primary,
    rawConfig,
    stackConfig,
    topologies,
    topologyConfig,
} from "../support/fixtures";

const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const isSecretWire = (v: unknown) =>
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[sigKey] === secretSig;

const T = {
    anchor: "multicluster:pki:TrustAnchor",
    key: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    csr: "tls:index/certRequest:CertRequest",
    signed: "tls:index/locallySignedCert:LocallySignedCert",
    secret: "kubernetes:core/v1:Secret",
    namespace: "kubernetes:core/v1:Namespace",
    provider: "pulumi:providers:kubernetes",
} as const;

/**
 * A program with one provider and `istio-system` namespace per primary and the TrustAnchor `mesh1`, its CA
 * settings validated from `ca` (with `caSecret`, the mesh key is held as secret).
 */
function anchorProgram(ca: Record<string, unknown>, primaries: string[], caSecret = false) {
    return () => {
        const clusters: ClusterDoc[] = primaries.map((n, i) => primary(n, `network${i + 1}`));
        const result = validateTopology(rawConfig(mesh({ ca }), clusters, { mesh: caSecret }));
        if (!result.ok) throw new Error(result.errors.join("\n"));
        const anchor = new TrustAnchor("mesh1", {
            ca: result.topology.mesh.ca,
            clusters: primaries.map((name) => {
                const provider = new k8s.Provider(name, { context: `ctx-${name}` });
                const namespace = new k8s.core.v1.Namespace(
                    `${name}-istio-system`,
                    { metadata: { name: "istio-system" } },
                    { provider },
                );
                return { name, provider, namespace };
            }),
        });
        return { rootCertPem: anchor.rootCertPem, trustBundlePem: anchor.trustBundlePem };
    };
}

/** What the TLS provider would return after apply: recognisable PEMs named after each resource. */
const tlsOutputs: ApplyOutputs = (args) => {
    switch (args.type) {
        case T.key:
            return { privateKeyPem: `KEY(${args.name})` };
        case T.csr:
            return { certRequestPem: `CSR(${args.name})` };
        case T.selfSigned:
        case T.signed:
            return { certPem: fakeCertPem(`CERT(${args.name})`) };
    }
    return undefined;
};

const noConfig = () => stackConfig(undefined, undefined);

class View {
    constructor(readonly p: Plan) {}
    get(type: string, name: string): PlannedResource {
        const r = this.p.resources.find((x) => x.type === type && x.name === name);
        assert.ok(r, `no ${type} named ${name}`);
        return r;
    }
    get anchor(): PlannedResource {
        const anchors = this.p.resources.filter((r) => r.type === T.anchor);
        assert.equal(anchors.length, 1);
        return anchors[0]!;
    }
    /** `type::name` of the anchor's children, sorted. */
    children(): string[] {
        return this.p.resources
            .filter((r) => r.parent === this.anchor.urn)
            .map((r) => `${r.type}::${r.name}`)
            .sort();
    }
    cacerts(cluster: string): PlannedResource {
        return this.get(T.secret, `mesh1-${cluster}-cacerts`);
    }
    /**
     * The cacerts Secret's stringData unwrapped, after checking it is a secret: the SDK sends a map with a
     * secret value as one secret map, so the wire form shows the secrecy of the whole, not of each key.
     */
    stringData(cluster: string): Record<string, string> {
        const raw = this.cacerts(cluster).rawInputs.stringData;
        assert.ok(isSecretWire(raw), `stringData is not a secret: ${JSON.stringify(raw)}`);
        return plainInputs(this.cacerts(cluster)).stringData as Record<string, string>;
    }
}

const cacertsKeys = ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"];

describe("TrustAnchor", () => {
    describe("generated", () => {
        let v: View;
        before(async () => {
            v = new View(await evaluate(noConfig(), anchorProgram({}, ["cluster1", "cluster2"])));
        });

        it("creates exactly the root, one intermediate and one cacerts per primary, all its children", () => {
            assert.deepEqual(v.children(), [
                `${T.secret}::mesh1-cluster1-cacerts`,
                `${T.secret}::mesh1-cluster2-cacerts`,
                `${T.csr}::mesh1-cluster1-csr`,
                `${T.csr}::mesh1-cluster2-csr`,
                `${T.signed}::mesh1-cluster1-cert`,
                `${T.signed}::mesh1-cluster2-cert`,
                `${T.key}::mesh1-cluster1-key`,
                `${T.key}::mesh1-cluster2-key`,
                `${T.key}::mesh1/root-key`,
                `${T.selfSigned}::mesh1/root-cert`,
            ]);
            const types = v.p.resources.map((r) => r.type);
            assert.equal(
                types.filter((t) => t.startsWith("tls:")).length,
                8,
                "TLS resources outside the anchor",
            );
            assert.equal(v.anchor.protect, false);
            for (const r of v.p.resources.filter((x) => x.parent === v.anchor.urn))
                assert.equal(r.protect, false);
        });

        it("makes the root an RSA 4096 CA valid 10 years that can sign", () => {
            assert.deepEqual(displayInputs(v.get(T.key, "mesh1/root-key")), {
                algorithm: "RSA",
                rsaBits: 4096,
            });
            assert.deepEqual(displayInputs(v.get(T.selfSigned, "mesh1/root-cert")), {
                privateKeyPem: "[unknown]",
                subject: { organization: "Istio", commonName: "Root CA" },
                isCaCertificate: true,
                setSubjectKeyId: true,
                validityPeriodHours: 87600,
                earlyRenewalHours: 720,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
            });
            assert.deepEqual(
                [...caAllowedUses],
                ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
            );
            assert.deepEqual(v.get(T.selfSigned, "mesh1/root-cert").dependsOn, [
                v.get(T.key, "mesh1/root-key").urn,
            ]);
        });

        for (const cluster of ["cluster1", "cluster2"]) {
            it(`signs ${cluster}'s intermediate with the root: a CA that signs no CA, for istiod`, () => {
                assert.deepEqual(displayInputs(v.get(T.key, `mesh1-${cluster}-key`)), {
                    algorithm: "RSA",
                    rsaBits: 4096,
                });
                assert.deepEqual(displayInputs(v.get(T.csr, `mesh1-${cluster}-csr`)), {
                    privateKeyPem: "[unknown]",
                    subject: { organization: "Istio", commonName: "Intermediate CA", locality: cluster },
                    dnsNames: ["istiod.istio-system.svc"],
                });
                const cert = v.get(T.signed, `mesh1-${cluster}-cert`);
                assert.deepEqual(displayInputs(cert), {
                    certRequestPem: "[unknown]",
                    caCertPem: "[unknown]",
                    caPrivateKeyPem: "[unknown]",
                    isCaCertificate: true,
                    maxPathLength: 0,
                    setSubjectKeyId: true,
                    validityPeriodHours: 17520,
                    earlyRenewalHours: 720,
                    allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
                });
                assert.deepEqual(
                    cert.dependsOn,
                    [
                        v.get(T.csr, `mesh1-${cluster}-csr`).urn,
                        v.get(T.key, "mesh1/root-key").urn,
                        v.get(T.selfSigned, "mesh1/root-cert").urn,
                    ].sort(),
                );
            });

            it(`writes ${cluster}'s cacerts with ${cluster}'s provider, after its namespace and intermediate`, () => {
                const secret = v.cacerts(cluster);
                const provider = v.get(T.provider, cluster);
                assert.equal(secret.parent, v.anchor.urn);
                assert.equal(secret.provider, `${provider.urn}::${cluster}-id`);
                assert.equal(secret.cluster, cluster);
                assert.deepEqual(displayInputs(secret), {
                    apiVersion: "v1",
                    kind: "Secret",
                    metadata: { name: "cacerts", namespace: "istio-system" },
                    type: "Opaque",
                    // Unknown as a whole in a preview: the certificates do not exist yet.
                    stringData: "[unknown]",
                });
                const ns = v.get(T.namespace, `${cluster}-istio-system`);
                assert.ok(secret.dependsOn.includes(ns.urn), "cacerts does not wait for its namespace");
                assert.ok(
                    secret.dependsOn.includes(v.get(T.signed, `mesh1-${cluster}-cert`).urn),
                    "cacerts does not wait for its intermediate",
                );
                const other = cluster === "cluster1" ? "cluster2" : "cluster1";
                assert.ok(
                    !secret.dependsOn.some((u) => u.includes(other)),
                    `cacerts waits for ${other}: ${secret.dependsOn.join(", ")}`,
                );
            });
        }

        it("after apply, cacerts holds exactly the four PEMs, each a secret, chain = intermediate then root", async () => {
            const applied = new View(
                await evaluate(noConfig(), anchorProgram({}, ["cluster1"]), {
                    preview: false,
                    applyOutputs: tlsOutputs,
                }),
            );
            const data = applied.stringData("cluster1");
            assert.deepEqual(Object.keys(data).sort(), cacertsKeys);
            assert.deepEqual(data, {
                "ca-cert.pem": fakeCertPem("CERT(mesh1-cluster1-cert)"),
                "ca-key.pem": "KEY(mesh1-cluster1-key)",
                "root-cert.pem": fakeCertPem("CERT(mesh1/root-cert)"),
                "cert-chain.pem":
                    fakeCertPem("CERT(mesh1-cluster1-cert)") + fakeCertPem("CERT(mesh1/root-cert)"),
            });
            assert.deepEqual(Object.values(displayInputs(applied.cacerts("cluster1")).stringData as object), [
                redactedSecret,
                redactedSecret,
                redactedSecret,
                redactedSecret,
            ]);
            assert.equal(applied.p.outputs.rootCertPem, fakeCertPem("CERT(mesh1/root-cert)"));
        });

        it("follows the CA settings: key size, validity, renewal, protect", async () => {
            const p = new View(
                await evaluate(
                    noConfig(),
                    anchorProgram(
                        {
                            rsaBits: 3072,
                            rootValidityDays: 1000,
                            intermediateValidityDays: 100,
                            earlyRenewalHours: 48,
                            protect: true,
                        },
                        ["cluster1"],
                    ),
                ),
            );
            assert.equal(plainInputs(p.get(T.key, "mesh1/root-key")).rsaBits, 3072);
            assert.equal(plainInputs(p.get(T.key, "mesh1-cluster1-key")).rsaBits, 3072);
            assert.equal(plainInputs(p.get(T.selfSigned, "mesh1/root-cert")).validityPeriodHours, 24000);
            assert.equal(plainInputs(p.get(T.selfSigned, "mesh1/root-cert")).earlyRenewalHours, 48);
            assert.equal(plainInputs(p.get(T.signed, "mesh1-cluster1-cert")).validityPeriodHours, 2400);
            assert.equal(plainInputs(p.get(T.signed, "mesh1-cluster1-cert")).earlyRenewalHours, 48);
            const children = p.p.resources.filter((r) => r.parent === p.anchor.urn);
            assert.equal(children.length, 6);
            // Keys and cacerts are protected; certificates and requests are not: renewal replaces them.
            for (const r of children) {
                const guarded = r.type === T.key || r.type === T.secret;
                assert.equal(r.protect, guarded, `${r.name}: protect should be ${guarded}`);
            }
            // Only the PKI: the namespaces and providers it was given stay as they were.
            assert.equal(p.get(T.namespace, "cluster1-istio-system").protect, false);
            assert.equal(p.anchor.protect, false);
        });
    });

    describe("external-root", () => {
        const ca = { rootCert: fakeCertPem("ROOT"), rootKey: "ROOT-KEY", protect: true };
        let v: View;
        before(async () => {
            v = new View(
                await evaluate(noConfig(), anchorProgram(ca, ["cluster1", "cluster2"], true), {
                    preview: false,
                    applyOutputs: tlsOutputs,
                }),
            );
        });

        it("makes no root: only the intermediates, signed with the given root, and cacerts", () => {
            assert.deepEqual(v.children(), [
                `${T.secret}::mesh1-cluster1-cacerts`,
                `${T.secret}::mesh1-cluster2-cacerts`,
                `${T.csr}::mesh1-cluster1-csr`,
                `${T.csr}::mesh1-cluster2-csr`,
                `${T.signed}::mesh1-cluster1-cert`,
                `${T.signed}::mesh1-cluster2-cert`,
                `${T.key}::mesh1-cluster1-key`,
                `${T.key}::mesh1-cluster2-key`,
            ]);
            for (const r of v.p.resources.filter((x) => x.parent === v.anchor.urn))
                assert.equal(r.protect, r.type === T.key || r.type === T.secret, r.name);
            const cert = v.get(T.signed, "mesh1-cluster1-cert");
            assert.equal(plainInputs(cert).caCertPem, fakeCertPem("ROOT"));
            assert.ok(isSecretWire(cert.rawInputs.caPrivateKeyPem), "the root key is not a secret input");
            assert.equal(plainInputs(cert).caPrivateKeyPem, "ROOT-KEY");
        });

        it("writes cacerts with the chain intermediate then root, and never the root key", () => {
            for (const cluster of ["cluster1", "cluster2"]) {
                const data = v.stringData(cluster);
                assert.deepEqual(data, {
                    "ca-cert.pem": fakeCertPem(`CERT(mesh1-${cluster}-cert)`),
                    "ca-key.pem": `KEY(mesh1-${cluster}-key)`,
                    "root-cert.pem": fakeCertPem("ROOT"),
                    "cert-chain.pem": fakeCertPem(`CERT(mesh1-${cluster}-cert)`) + fakeCertPem("ROOT"),
                });
                assert.equal(v.cacerts(cluster).cluster, cluster);
            }
            assert.equal(v.p.outputs.rootCertPem, fakeCertPem("ROOT"));
        });
    });

    describe("external-intermediates", () => {
        const ca = {
            rootCert: fakeCertPem("ROOT"),
            protect: true,
            intermediates: {
                cluster1: { cert: fakeCertPem("INT1", "MID"), key: "INT1-KEY", chain: fakeCertPem("MID") },
                // No trailing newline: the bundle must still have one PEM per line block.
                cluster2: { cert: fakeCertPem("INT2").trim(), key: "INT2-KEY" },
            },
        };
        let v: View;
        before(async () => {
            v = new View(await evaluate(noConfig(), anchorProgram(ca, ["cluster1", "cluster2"], true)));
        });

        it("makes no key and no certificate: only cacerts, protected", () => {
            assert.deepEqual(v.children(), [
                `${T.secret}::mesh1-cluster1-cacerts`,
                `${T.secret}::mesh1-cluster2-cacerts`,
            ]);
            assert.equal(v.p.resources.filter((r) => r.type.startsWith("tls:")).length, 0);
            for (const c of ["cluster1", "cluster2"]) assert.equal(v.cacerts(c).protect, true);
        });

        it("bundles intermediate, then chain, then root, already in a preview", () => {
            assert.deepEqual(v.stringData("cluster1"), {
                "ca-cert.pem": fakeCertPem("INT1", "MID"),
                "ca-key.pem": "INT1-KEY",
                "root-cert.pem": fakeCertPem("ROOT"),
                "cert-chain.pem": fakeCertPem("INT1", "MID") + fakeCertPem("MID") + fakeCertPem("ROOT"),
            });
            assert.deepEqual(v.stringData("cluster2"), {
                "ca-cert.pem": fakeCertPem("INT2"),
                "ca-key.pem": "INT2-KEY",
                "root-cert.pem": fakeCertPem("ROOT"),
                "cert-chain.pem": fakeCertPem("INT2") + fakeCertPem("ROOT"),
            });
        });

        it("uses each cluster's provider and waits for its namespace", () => {
            for (const c of ["cluster1", "cluster2"]) {
                const secret = v.cacerts(c);
                assert.equal(secret.provider, `${v.get(T.provider, c).urn}::${c}-id`);
                assert.deepEqual(secret.dependsOn, [v.get(T.namespace, `${c}-istio-system`).urn]);
            }
        });
    });

    describe("root rotation", () => {
        const rotated = async (ca: Record<string, unknown>, caSecret = false) =>
            new View(
                await evaluate(noConfig(), anchorProgram(ca, ["cluster1"], caSecret), {
                    preview: false,
                    applyOutputs: tlsOutputs,
                }),
            );
        const cert = (name: string) => fakeCertPem(`CERT(${name})`);
        const g1 = { root: cert("mesh1/root-cert"), int: cert("mesh1-cluster1-cert") };
        const g2 = { root: cert("mesh1/root-g2-cert"), int: cert("mesh1-cluster1/g2-cert") };
        const g1Names = [
            `${T.csr}::mesh1-cluster1-csr`,
            `${T.key}::mesh1-cluster1-key`,
            `${T.key}::mesh1/root-key`,
            `${T.selfSigned}::mesh1/root-cert`,
            `${T.signed}::mesh1-cluster1-cert`,
        ];
        const g2Roots = [`${T.key}::mesh1/root-g2-key`, `${T.selfSigned}::mesh1/root-g2-cert`];
        const g2Intermediates = [
            `${T.csr}::mesh1-cluster1/g2-csr`,
            `${T.key}::mesh1-cluster1/g2-key`,
            `${T.signed}::mesh1-cluster1/g2-cert`,
        ];
        const sorted = (names: string[]) => [`${T.secret}::mesh1-cluster1-cacerts`, ...names].sort();

        it("add: a second root, trusted after the first (verbatim, first); the first root's intermediate signs", async () => {
            const v = await rotated({ rotation: { stage: "add" } });
            assert.deepEqual(v.children(), sorted([...g1Names, ...g2Roots]));
            assert.deepEqual(v.stringData("cluster1"), {
                "ca-cert.pem": g1.int,
                "ca-key.pem": "KEY(mesh1-cluster1-key)",
                "root-cert.pem": g1.root + g2.root,
                "cert-chain.pem": g1.int + g1.root,
            });
            assert.equal(v.p.outputs.rootCertPem, g1.root);
            assert.equal(v.p.outputs.trustBundlePem, g1.root + g2.root);
        });

        it("switch: intermediates re-issued under the second root sign; both roots trusted; the old ones kept", async () => {
            const v = await rotated({ rotation: { stage: "switch" } });
            assert.deepEqual(v.children(), sorted([...g1Names, ...g2Roots, ...g2Intermediates]));
            assert.equal(plainInputs(v.get(T.signed, "mesh1-cluster1/g2-cert")).caCertPem, g2.root);
            assert.deepEqual(v.stringData("cluster1"), {
                "ca-cert.pem": g2.int,
                "ca-key.pem": "KEY(mesh1-cluster1/g2-key)",
                "root-cert.pem": g1.root + g2.root,
                "cert-chain.pem": g2.int + g2.root,
            });
            assert.equal(v.p.outputs.rootCertPem, g2.root);
        });

        it("finish: only the second root and its intermediates; the same plan as generation 2", async () => {
            const v = await rotated({ rotation: { stage: "finish" } });
            assert.deepEqual(v.children(), sorted([...g2Roots, ...g2Intermediates]));
            assert.deepEqual(v.stringData("cluster1"), {
                "ca-cert.pem": g2.int,
                "ca-key.pem": "KEY(mesh1-cluster1/g2-key)",
                "root-cert.pem": g2.root,
                "cert-chain.pem": g2.int + g2.root,
            });
            const next = await rotated({ generation: 2 });
            assert.deepEqual(
                next.p.resources.map((r) => [r.urn, r.rawInputs, r.dependsOn]),
                v.p.resources.map((r) => [r.urn, r.rawInputs, r.dependsOn]),
            );
        });

        it("with `protect`, the old root's keys are unprotected from `switch` on, so that `finish` may delete them", async () => {
            const protectedKeys = (v: View) =>
                v.p.resources
                    .filter((r) => r.parent === v.anchor.urn && r.protect)
                    .map((r) => r.name)
                    .sort();
            const add = await rotated({ protect: true, rotation: { stage: "add" } });
            assert.deepEqual(protectedKeys(add), [
                "mesh1-cluster1-cacerts",
                "mesh1-cluster1-key",
                "mesh1/root-g2-key",
                "mesh1/root-key",
            ]);
            const sw = await rotated({ protect: true, rotation: { stage: "switch" } });
            assert.deepEqual(protectedKeys(sw), [
                "mesh1-cluster1-cacerts",
                "mesh1-cluster1/g2-key",
                "mesh1/root-g2-key",
            ]);
        });

        it("external root: the next root and key from config sign the re-issued intermediates", async () => {
            const v = await rotated(
                {
                    rootCert: fakeCertPem("ROOT"),
                    rootKey: "ROOT-KEY",
                    intermediateValidityDays: 365,
                    rotation: {
                        stage: "switch",
                        rootCert: fakeCertPem("ROOTB", "ROOTB"),
                        rootKey: "ROOTB-KEY",
                    },
                },
                true,
            );
            assert.deepEqual(
                v.children(),
                sorted([
                    `${T.csr}::mesh1-cluster1-csr`,
                    `${T.key}::mesh1-cluster1-key`,
                    `${T.signed}::mesh1-cluster1-cert`,
                    ...g2Intermediates,
                ]),
            );
            const next = plainInputs(v.get(T.signed, "mesh1-cluster1/g2-cert"));
            assert.equal(next.caCertPem, fakeCertPem("ROOTB", "ROOTB"));
            assert.equal(next.caPrivateKeyPem, "ROOTB-KEY");
            assert.equal(
                v.stringData("cluster1")["root-cert.pem"],
                fakeCertPem("ROOT") + fakeCertPem("ROOTB", "ROOTB"),
            );
            assert.equal(v.stringData("cluster1")["cert-chain.pem"], g2.int + fakeCertPem("ROOTB", "ROOTB"));
        });

        it("external intermediates: the brought ones under the next root sign from `switch`", async () => {
            const base = {
                rootCert: fakeCertPem("ROOT"),
                intermediates: { cluster1: { cert: fakeCertPem("INT1"), key: "INT1-KEY" } },
            };
            const rootB = fakeCertPem("ROOTB", "ROOTB");
            const intB = fakeCertPem("INT1B", "ROOTB");
            const add = await rotated({ ...base, rotation: { stage: "add", rootCert: rootB } }, true);
            assert.deepEqual(add.children(), [`${T.secret}::mesh1-cluster1-cacerts`]);
            assert.deepEqual(add.stringData("cluster1"), {
                "ca-cert.pem": fakeCertPem("INT1"),
                "ca-key.pem": "INT1-KEY",
                "root-cert.pem": fakeCertPem("ROOT") + rootB,
                "cert-chain.pem": fakeCertPem("INT1") + fakeCertPem("ROOT"),
            });
            const rotation = {
                rootCert: rootB,
                intermediates: { cluster1: { cert: intB, key: "INT1B-KEY" } },
            };
            const switched = await rotated({ ...base, rotation: { stage: "switch", ...rotation } }, true);
            assert.deepEqual(switched.stringData("cluster1"), {
                "ca-cert.pem": intB,
                "ca-key.pem": "INT1B-KEY",
                "root-cert.pem": fakeCertPem("ROOT") + rootB,
                "cert-chain.pem": intB + rootB,
            });
            const finished = await rotated({ ...base, rotation: { stage: "finish", ...rotation } }, true);
            assert.equal(finished.stringData("cluster1")["root-cert.pem"], rootB);
            assert.equal(finished.stringData("cluster1")["ca-cert.pem"], intB);
        });
    });

    describe("in the whole program", () => {
        it("gives cacerts to primaries only, never to a remote", async () => {
            const primaryRemote = new View(await plan(topologyConfig("primaryRemoteMultiNetwork")));
            assert.deepEqual(
                primaryRemote.p.resources
                    .filter((r) => r.type === T.secret && r.parent === primaryRemote.anchor.urn)
                    .map((r) => r.name),
                ["mesh1-cluster1-cacerts"],
            );
            assert.ok(
                !primaryRemote.children().some((c) => c.includes("cluster2")),
                primaryRemote.children().join("\n"),
            );

            const t = topologies.threePrimariesAndRemote();
            const four = new View(await plan(stackConfig(t.mesh, t.clusters)));
            assert.deepEqual(
                four.p.resources
                    .filter((r) => r.parent === four.anchor.urn && r.type === T.secret)
                    .map((r) => r.cluster)
                    .sort(),
                ["cluster1", "cluster2", "cluster3"],
            );
            assert.ok(!four.children().some((c) => c.includes("cluster4")), four.children().join("\n"));
        });
    });
});
