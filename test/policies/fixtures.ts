/** The test PKI, made afresh for each run (no key material is kept in the repository). */
import { testPki } from "../support/testPki";

/** PEM texts by role. */
export const pki = testPki();

/** A cacerts Secret's stringData from PEM texts. */
export function cacertsData(cert: string, key: string, root: string): Record<string, string> {
    return { "ca-cert.pem": cert, "ca-key.pem": key, "root-cert.pem": root, "cert-chain.pem": cert + root };
}
