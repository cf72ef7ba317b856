import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { trustPlan } from "../stacks/caRotation";
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
    /** The root whose intermediates sign now (public, PEM). */
    public readonly rootCertPem: pulumi.Output<string>;
    /** Every root workloads trust now (PEM, the older first): two during a rotation's overlap. */
    public readonly trustBundlePem: pulumi.Output<string>;
    /** Per primary cluster name, its `cacerts` Secret. */
    public readonly cacerts: Readonly<Record<string, k8s.core.v1.Secret>>;

    constructor(name: string, args: TrustAnchorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:pki:TrustAnchor", name, {}, opts);
        const { ca } = args;
        // `protect` guards what cannot be made again: keys and the cacerts istiod reads. Certificates are
        // left unprotected on purpose: `earlyRenewalHours` renews them by replacement, which protection forbids.
        const keys: pulumi.CustomResourceOptions = { parent: this, protect: ca.protect };
        const certs: pulumi.CustomResourceOptions = { parent: this };

        // Mesh-wide children are named `${name}/...` and each primary's `${name}-${cluster}-...` (from the second
        // root on, `${name}-${cluster}/g<n>-...`): cluster names are DNS labels, which never contain '/', so no
        // cluster (not even one named `root` or `x-g2`) can take another's name. The first root keeps the names it
        // had before rotations existed, so a stack that never rotates never moves a resource.
        const trust = trustPlan(ca);
        // From `switch`, the old root's keys are unprotected: `finish` deletes them, which protection forbids.
        const keysOf = (g: number): pulumi.CustomResourceOptions =>
            ca.rotation?.stage === "switch" && g === ca.generation ? { ...keys, protect: false } : keys;
        const roots = new Map<number, Root>();
        for (const g of trust.roots) roots.set(g, this.root(name, ca, g, keysOf(g), certs));
        const bundle = pulumi
            .all(trust.bundle.map((g) => roots.get(g)!.certPem))
            .apply((pems) => pems.map(pem).join(""));
        this.rootCertPem = roots.get(trust.signing)!.certPem;
        this.trustBundlePem = bundle;

        const cacerts: Record<string, k8s.core.v1.Secret> = {};
        for (const cluster of args.clusters) {
            const prefix = `${name}-${cluster.name}`;
            const issued = new Map<number, Intermediate>();
            for (const g of trust.intermediates) {
                const root = roots.get(g)!;
                if (root.keyPem === undefined) continue;
                const at = g === 1 ? `${prefix}-` : `${prefix}/g${g}-`;
                issued.set(g, this.intermediate(at, cluster.name, ca, root, keysOf(g), certs));
            }
            const signingRoot = roots.get(trust.signing)!;
            let signer = issued.get(trust.signing);
            if (signer === undefined) {
                const brought =
                    trust.signing === ca.generation
                        ? { key: "intermediates", from: ca.intermediates }
                        : { key: "rotation.intermediates", from: ca.rotation?.intermediates ?? {} };
                const external = ownValue(brought.from, cluster.name);
                if (!external) {
                    throw refusal(
                        `istio-multicluster:mesh.ca.${brought.key}.${cluster.name}: missing; every primary ` +
                            `needs its intermediate CA in external-intermediates mode`,
                        this,
                    );
                }
                signer = {
                    certPem: pulumi.output(pem(external.certPem)),
                    keyPem: external.keyPem,
                    chainPem: signingRoot.certPem.apply(
                        (r) => pem(external.certPem) + pem(external.chainPem ?? "") + pem(r),
                    ),
                };
            }
            cacerts[cluster.name] = new k8s.core.v1.Secret(
                `${prefix}-cacerts`,
                {
                    metadata: { name: "cacerts", namespace: cluster.namespace.metadata.name },
                    type: "Opaque",
                    // Every value is a secret, the public ones too: the bundle is read as one by istiod.
                    stringData: {
                        "ca-cert.pem": pulumi.secret(signer.certPem),
                        "ca-key.pem": pulumi.secret(signer.keyPem),
                        "root-cert.pem": pulumi.secret(bundle),
                        "cert-chain.pem": pulumi.secret(signer.chainPem),
                    },
                },
                { ...keys, provider: cluster.provider },
            );
        }
        this.cacerts = cacerts;
        this.registerOutputs({
            rootCertPem: this.rootCertPem,
            trustBundlePem: this.trustBundlePem,
            cacerts: this.cacerts,
        });
    }

    /** Root generation `g`: generated (the first under its old names), or brought from config. */
    private root(
        name: string,
        ca: CaSettings,
        g: number,
        keys: pulumi.CustomResourceOptions,
        certs: pulumi.CustomResourceOptions,
    ): Root {
        if (ca.mode === "generated") {
            const at = g === 1 ? `${name}/root-` : `${name}/root-g${g}-`;
            const rootKey = new tls.PrivateKey(`${at}key`, { algorithm: "RSA", rsaBits: ca.rsaBits }, keys);
            const rootCert = new tls.SelfSignedCert(
                `${at}cert`,
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
            return { certPem: rootCert.certPem, keyPem: rootKey.privateKeyPem };
        }
        const current = g === ca.generation;
        const certPem = current ? ca.rootCertPem! : ca.rotation!.rootCertPem!;
        return {
            certPem: pulumi.output(pem(certPem)),
            keyPem: current ? ca.rootKeyPem : ca.rotation?.rootKeyPem,
        };
    }

    /** An intermediate CA for one primary, issued by `root`, its children named from `at`. */
    private intermediate(
        at: string,
        cluster: string,
        ca: CaSettings,
        root: Root,
        keys: pulumi.CustomResourceOptions,
        certs: pulumi.CustomResourceOptions,
    ): Intermediate {
        const key = new tls.PrivateKey(`${at}key`, { algorithm: "RSA", rsaBits: ca.rsaBits }, keys);
        const csr = new tls.CertRequest(
            `${at}csr`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { organization: "Istio", commonName: "Intermediate CA", locality: cluster },
                dnsNames: [istiodSan],
            },
            certs,
        );
        const cert = new tls.LocallySignedCert(
            `${at}cert`,
            {
                certRequestPem: csr.certRequestPem,
                caCertPem: root.certPem,
                caPrivateKeyPem: root.keyPem!,
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
        return {
            certPem: cert.certPem,
            keyPem: key.privateKeyPem,
            chainPem: pulumi.all([cert.certPem, root.certPem]).apply(([c, r]) => pem(c) + pem(r)),
        };
    }
}

/** A root of trust: its certificate, and its key where intermediates are issued here. */
interface Root {
    readonly certPem: pulumi.Output<string>;
    readonly keyPem?: pulumi.Output<string>;
}

/** A primary's signing material. */
interface Intermediate {
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
    readonly chainPem: pulumi.Output<string>;
}

/** A PEM block with exactly one trailing newline, so that bundles concatenate cleanly. */
function pem(text: string): string {
    const trimmed = text.trim();
    return trimmed === "" ? "" : `${trimmed}\n`;
}
