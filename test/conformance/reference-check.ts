/**
 * Run before the conformance tier: when Istio's reference data is missing, say so in one line, with how to
 * get it, instead of one stack trace per test. Exit 1 then, so a run without the data never reads as passed.
 */
import { referenceDir } from "../support/istioSchemas";

try {
    referenceDir();
} catch (e) {
    const reason = e instanceof Error ? e.message.split(":")[0] : String(e);
    process.stderr.write(
        `conformance: ${reason}. Set ISTIO_REFERENCE_DIR to a directory with Istio 1.30.3's whole charts ` +
            "(charts/base, charts/istiod, charts/gateway: `helm pull <chart> --repo " +
            "https://istio-release.storage.googleapis.com/charts --version 1.30.3 --untar`) and " +
            "crds/crd-all.gen.yaml (the base chart's files/crd-all.gen.yaml), or run tools/istio-reference.sh.\n",
    );
    process.exit(1);
}
