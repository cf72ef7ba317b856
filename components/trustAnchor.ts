import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ownValue } from "../stacks/checks";
import { CaSettings } from "../stacks/topology";
import { refusal } from "./refusal";

/**
 * Key usages of a CA certificate, in the snake_case that `@pulumi/tls` accepts: an unknown spelling is
 * dropped with a mere warning and leaves a CA that cannot sign.
 */
export const caAllowedUses = [
    "cert_signing",
    "crl_signing",
    "digital_signature",
    "key_encipherment",
] as const;

/** Subjects as Istio's cert Makefiles write them (tools/certs/common.mk). */
const rootSubject = { organization: "Istio", commonName: "Root CA" };
const istiodSan = "istiod.istio-system.svc";

/** One control plane that gets an intermediate CA and a `cacerts` Secret. */
export interface TrustAnchorCluster {
    /** The primary cluster's name; becomes the intermediate's locality (`L=`). */
    readonly name: string;
    /** That cluster's provider: the `cacerts` Secret is created with it, never the ambient one. */
    readonly provider: k8s.Provider;
    /** The `istio-system` namespace of that cluster; `cacerts` is created after it. */
    readonly namespace: k8s.core.v1.Namespace;
}

export interface TrustAnchorArgs {
    /** CA settings from `istio-multicluster:mesh.ca` (mode, validity, key size, protection, external PEMs). */
    readonly ca: CaSettings;
    /** Every primary cluster. Remotes get no CA: their workloads are served by their primary's istiod. */
    readonly clusters: readonly TrustAnchorCluster[];
}

/**
 * The mesh's one root of trust, an intermediate CA per control plane, and each primary's `cacerts` Secret
 * (`ca-cert.pem`, `ca-key.pem`, `root-cert.pem`, `cert-chain.pem` = intermediate, then root). istiod must
 * depend on its cluster's `cacerts`: started without it, istiod makes a self-signed CA and keeps it.
 */
export class TrustAnchor extends pulumi.ComponentResource {
    /** The root certificate (public, PEM). */
    public readonly rootCertPem: pulumi.Output<string>;
    /** Per primary cluster name, its `cacerts` Secret. */
    public readonly cacerts: Readonly<Record<string, k8s.core.v1.Secret>>;

    constructor(name: string, args: TrustAnchorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:pki:TrustAnchor", name, {}, opts);
        const { ca } = args;
        // `protect` guards what cannot be made again: keys and the cacerts istiod reads. Certificates are
        // left unprotected on purpose: `earlyRenewalHours` renews them by replacement, which protection forbids.
        const keys: pulumi.CustomResourceOptions = { parent: this, protect: ca.protect };
        const certs: pulumi.CustomResourceOptions = { parent: this };

        // Mesh-wide children are named `${name}/...` and each primary's `${name}-${cluster}-...`: cluster names are
        // DNS labels, which never contain '/', so no cluster (not even one named `root`) can take a root's name.
        let root: { certPem: pulumi.Output<string>; keyPem?: pulumi.Output<string> } | undefined;
        if (ca.mode === "generated") {
            const rootKey = new tls.PrivateKey(
                `${name}/root-key`,
                { algorithm: "RSA", rsaBits: ca.rsaBits },
                keys,
            );
            const rootCert = new tls.SelfSignedCert(
                `${name}/root-cert`,
                {
                    privateKeyPem: rootKey.privateKeyPem,
                    subject: rootSubject,
                    isCaCertificate: true,
                    setSubjectKeyId: true,
                    validityPeriodHours: ca.rootValidityDays * 24,
                    // Renewal re-signs the same key and subject, so chains issued under the old root stay valid.
                    earlyRenewalHours: ca.earlyRenewalHours,
                    allowedUses: [...caAllowedUses],
                },
                certs,
            );
            root = { certPem: rootCert.certPem, keyPem: rootKey.privateKeyPem };
        } else if (ca.mode === "external-root") {
            root = { certPem: pulumi.output(pem(ca.rootCertPem!)), keyPem: ca.rootKeyPem! };
        }
        this.rootCertPem = root ? root.certPem : pulumi.output(pem(ca.rootCertPem!));

        const cacerts: Record<string, k8s.core.v1.Secret> = {};
        for (const cluster of args.clusters) {
            const prefix = `${name}-${cluster.name}`;
            let certPem: pulumi.Input<string>;
            let keyPem: pulumi.Input<string>;
            let chainPem: pulumi.Input<string>;
            if (root?.keyPem) {
                const key = new tls.PrivateKey(
                    `${prefix}-key`,
                    { algorithm: "RSA", rsaBits: ca.rsaBits },
                    keys,
                );
                const csr = new tls.CertRequest(
                    `${prefix}-csr`,
                    {
                        privateKeyPem: key.privateKeyPem,
                        subject: {
                            organization: "Istio",
                            commonName: "Intermediate CA",
                            locality: cluster.name,
                        },
                        dnsNames: [istiodSan],
                    },
                    certs,
                );
                const cert = new tls.LocallySignedCert(
                    `${prefix}-cert`,
                    {
                        certRequestPem: csr.certRequestPem,
                        caCertPem: root.certPem,
                        caPrivateKeyPem: root.keyPem,
                        isCaCertificate: true,
                        // Intermediates only sign workload certificates: no CA may follow them.
                        maxPathLength: 0,
                        setSubjectKeyId: true,
                        validityPeriodHours: ca.intermediateValidityDays * 24,
                        earlyRenewalHours: ca.earlyRenewalHours,
                        allowedUses: [...caAllowedUses],
                    },
                    certs,
                );
                certPem = cert.certPem;
                keyPem = key.privateKeyPem;
                chainPem = pulumi.all([cert.certPem, root.certPem]).apply(([c, r]) => pem(c) + pem(r));
            } else {
                const external = ownValue(ca.intermediates, cluster.name);
                if (!external) {
                    throw refusal(
                        `istio-multicluster:mesh.ca.intermediates.${cluster.name}: missing; every primary needs ` +
                            `its intermediate CA in external-intermediates mode`,
                        this,
                    );
                }
                certPem = pem(external.certPem);
                keyPem = external.keyPem;
                chainPem = pem(external.certPem) + pem(external.chainPem ?? "") + pem(ca.rootCertPem!);
            }
            cacerts[cluster.name] = new k8s.core.v1.Secret(
                `${prefix}-cacerts`,
                {
                    metadata: { name: "cacerts", namespace: cluster.namespace.metadata.name },
                    type: "Opaque",
                    // Every value is a secret, the public ones too: the bundle is read as one by istiod.
                    stringData: {
                        "ca-cert.pem": pulumi.secret(certPem),
                        "ca-key.pem": pulumi.secret(keyPem),
                        "root-cert.pem": pulumi.secret(this.rootCertPem),
                        "cert-chain.pem": pulumi.secret(chainPem),
                    },
                },
                { ...keys, provider: cluster.provider },
            );
        }
        this.cacerts = cacerts;
        this.registerOutputs({ rootCertPem: this.rootCertPem, cacerts: this.cacerts });
    }
}

/** A PEM block with exactly one trailing newline, so that bundles concatenate cleanly. */
function pem(text: string): string {
    const trimmed = text.trim();
    return trimmed === "" ? "" : `${trimmed}\n`;
}
