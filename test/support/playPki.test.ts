/**
 * The server tier's stand-in for the tls provider: certificates made from the program's own inputs must be
 * what the provider would make (a CA root, an intermediate under it with pathlen 0 and the CSR's names), or
 * the real istiod would reject the cacerts the tier applies.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tlsOutputs } from "./playPki";

const caUses = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];

describe("playPki: the tls resources, answered with real keys and certificates", () => {
    it("a root and an intermediate that openssl verifies, with the CA flags and names the inputs ask for", () => {
        const rootKey = tlsOutputs("tls:index/privateKey:PrivateKey", { algorithm: "RSA", rsaBits: 2048 })!;
        const root = tlsOutputs("tls:index/selfSignedCert:SelfSignedCert", {
            privateKeyPem: rootKey.privateKeyPem,
            subject: { organization: "Istio", commonName: "Root CA" },
            isCaCertificate: true,
            setSubjectKeyId: true,
            validityPeriodHours: 24 * 3650,
            allowedUses: caUses,
        })!;
        const key = tlsOutputs("tls:index/privateKey:PrivateKey", {
            algorithm: "ECDSA",
            ecdsaCurve: "P256",
        })!;
        // The provider's ECDSA key is SEC1 PEM: parse it rather than spell its header.
        const parsed = crypto.createPrivateKey(String(key.privateKeyPem));
        assert.equal(parsed.asymmetricKeyType, "ec");
        const csr = tlsOutputs("tls:index/certRequest:CertRequest", {
            privateKeyPem: key.privateKeyPem,
            subject: { organization: "Istio", commonName: "Intermediate CA", locality: "c1" },
            dnsNames: ["istiod.istio-system.svc"],
        })!;
        const cert = tlsOutputs("tls:index/locallySignedCert:LocallySignedCert", {
            certRequestPem: csr.certRequestPem,
            caCertPem: root.certPem,
            caPrivateKeyPem: rootKey.privateKeyPem,
            isCaCertificate: true,
            maxPathLength: 0,
            validityPeriodHours: 24 * 730,
            allowedUses: caUses,
        })!;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "play-pki-test-"));
        try {
            fs.writeFileSync(path.join(dir, "root.pem"), String(root.certPem));
            fs.writeFileSync(path.join(dir, "int.pem"), String(cert.certPem));
            const verified = execFileSync("openssl", ["verify", "-CAfile", "root.pem", "int.pem"], {
                cwd: dir,
                encoding: "utf8",
            });
            assert.match(verified, /int\.pem: OK/);
            const text = execFileSync("openssl", ["x509", "-in", "int.pem", "-noout", "-text"], {
                cwd: dir,
                encoding: "utf8",
            });
            assert.match(text, /CA:TRUE, pathlen:0/);
            assert.match(text, /Certificate Sign, CRL Sign/);
            assert.match(text, /DNS:istiod\.istio-system\.svc/);
            assert.match(text, /Subject: .*L\s*=\s*c1.*CN\s*=\s*Intermediate CA/);
            assert.match(text, /Not After : .*20(2[8-9]|3\d)/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.equal(tlsOutputs("kubernetes:core/v1:Secret", {}), undefined, "other types are not answered");
    });
});
