/**
 * The mesh's trust over time: one trust bundle in every primary, each primary's intermediate signed by a root
 * of it, istiod told when the bundle holds two roots, and CA certificates renewed before they expire. Read
 * from the `cacerts` Secrets themselves (secrets reach policies in plain text), so brought certificates are
 * checked as well as generated ones. Istio's rules (../shared/ISTIO-FACTS.md, "Root CA rotation"): a new root
 * is accepted only with `ISTIO_MULTIROOT_MESH=true`, and every cluster finishes a stage before the next.
 */
import * as crypto from "node:crypto";
import { StackValidationPolicy } from "@pulumi/policy/policy";
import {
    certificates,
    configOf,
    isCacerts,
    istioChart,
    isUnknown,
    obj,
    Res,
    secretEntries,
    stackResources,
    str,
    types,
} from "./lib";

/** A `cacerts` Secret whose contents are known, read. */
interface Cacerts {
    readonly r: Res;
    readonly bundle: crypto.X509Certificate[];
    readonly intermediate?: crypto.X509Certificate;
    readonly chain: crypto.X509Certificate[];
}

function knownCacerts(all: readonly Res[]): Cacerts[] {
    return all
        .filter((r) => r.type === types.secret && isCacerts(r.props))
        .flatMap((r) => {
            const entries = secretEntries(r.props);
            if (isUnknown(entries)) return [];
            const text = (k: string) => (typeof entries[k] === "string" ? entries[k] : undefined);
            const root = text("root-cert.pem");
            if (root === undefined) return [];
            return [
                {
                    r,
                    bundle: certificates(root),
                    intermediate: certificates(text("ca-cert.pem") ?? "")[0],
                    chain: certificates(text("cert-chain.pem") ?? ""),
                },
            ];
        });
}

const fingerprints = (certs: readonly crypto.X509Certificate[]) => certs.map((c) => c.fingerprint256).sort();

function signedBy(cert: crypto.X509Certificate, issuer: crypto.X509Certificate): boolean {
    try {
        return cert.verify(issuer.publicKey);
    } catch {
        return false;
    }
}

/** Whether `cert` is signed by a root of `bundle`, directly or through the certificates of `between`. */
function trusted(
    cert: crypto.X509Certificate,
    between: readonly crypto.X509Certificate[],
    bundle: readonly crypto.X509Certificate[],
): boolean {
    if (bundle.some((root) => signedBy(cert, root))) return true;
    const issuer = between.find((mid) => signedBy(cert, mid));
    return (
        issuer !== undefined &&
        trusted(
            issuer,
            between.filter((m) => m !== issuer),
            bundle,
        )
    );
}

/**
 * Every primary trusts the same roots, signs with an intermediate under one of them, and runs istiod
 * multi-root while its bundle holds more than one.
 */
export const trustBundleConsistent: StackValidationPolicy = {
    name: "trust-bundle-consistent",
    description:
        "Every primary's cacerts holds the same root bundle, an intermediate signed by a root of it, and istiod " +
        "runs with ISTIO_MULTIROOT_MESH while the bundle holds several roots.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const cacerts = knownCacerts(all);
        const first = cacerts[0];
        for (const c of cacerts) {
            if (first && fingerprints(c.bundle).join() !== fingerprints(first.bundle).join()) {
                reportViolation(
                    `${c.r.name} trusts ${c.bundle.length} root(s) and ${first.r.name} ${first.bundle.length}, not ` +
                        `the same ones: workloads of the two clusters would refuse each other's certificates; ` +
                        `carry every stage of a root rotation to every primary in one \`pulumi up\``,
                    c.r.urn,
                );
            }
            if (c.intermediate && !trusted(c.intermediate, c.chain.slice(1, -1), c.bundle)) {
                reportViolation(
                    `${c.r.name}: ca-cert.pem is signed by no root of its root-cert.pem; issue the ` +
                        `intermediate from a root the bundle holds (add a new root in stage \`add\` first)`,
                    c.r.urn,
                );
            }
            if (c.bundle.length > 1) {
                const istiods = all.filter((r) => {
                    const chart = istioChart(r.type, r.props);
                    return (
                        chart?.chart === "istiod" &&
                        r.cluster === c.r.cluster &&
                        chart.values.profile !== "remote"
                    );
                });
                for (const istiod of istiods) {
                    const env = obj(istioChart(istiod.type, istiod.props)!.values, "env");
                    if (isUnknown(env)) continue;
                    const multiRoot = env === undefined ? undefined : str(env, "ISTIO_MULTIROOT_MESH");
                    if (multiRoot !== "true") {
                        reportViolation(
                            `${istiod.name}: its cluster's cacerts holds ${c.bundle.length} roots, but istiod runs ` +
                                `without ISTIO_MULTIROOT_MESH=true and keeps trusting the old bundle alone; set ` +
                                `\`env.ISTIO_MULTIROOT_MESH: "true"\` in its values`,
                            istiod.urn,
                        );
                    }
                }
            }
        }
    },
};

/** The policy's configuration. */
export interface RenewalConfig {
    /** How many days before expiry a CA certificate counts as due. Default 30 (`mesh.ca.earlyRenewalHours`' default). */
    readonly windowDays?: number;
}

const day = 24 * 3600 * 1000;

/** A CA certificate of the mesh (root or intermediate) expires within the window, or has expired. */
export const caRenewalDue: StackValidationPolicy = {
    name: "ca-renewal-due",
    description: "Warns when a CA certificate in a cacerts Secret expires within the renewal window.",
    configSchema: { properties: { windowDays: { type: "integer", minimum: 1, default: 30 } } },
    validateStack: (args, reportViolation) => {
        const cfg = configOf<RenewalConfig>(args, { windowDays: 30 });
        const now = Date.now();
        for (const c of knownCacerts(stackResources(args.resources))) {
            const named: [string, crypto.X509Certificate][] = [
                ...(c.intermediate
                    ? [["ca-cert.pem (the intermediate)", c.intermediate] as [string, crypto.X509Certificate]]
                    : []),
                ...c.chain
                    .slice(1, -1)
                    .map((m): [string, crypto.X509Certificate] => ["a certificate of cert-chain.pem", m]),
                ...c.bundle.map((root): [string, crypto.X509Certificate] => [
                    "a root of root-cert.pem",
                    root,
                ]),
            ];
            for (const [what, cert] of named) {
                const left = Date.parse(cert.validTo) - now;
                if (left > cfg.windowDays! * day) continue;
                const when = new Date(cert.validTo).toISOString().slice(0, 10);
                reportViolation(
                    `${c.r.name}: ${what}, ${cert.subject.replace(/\n/g, ", ")}, ` +
                        (left <= 0
                            ? `expired on ${when}`
                            : `expires on ${when}, within ${cfg.windowDays} days`) +
                        `; renew it: a generated one is renewed by the first \`pulumi up\` within ` +
                        `\`mesh.ca.earlyRenewalHours\`, a brought intermediate is replaced in \`mesh.ca.intermediates\`, ` +
                        `a root by a rotation (\`mesh.ca.rotation\`)`,
                    c.r.urn,
                );
            }
        }
    },
};

export const trustPolicies = [trustBundleConsistent, caRenewalDue];
