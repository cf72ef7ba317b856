/**
 * Reads the stack configuration once and hands back the validated topology. The only module that touches
 * `pulumi.Config`; everything else receives plain typed objects.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { projectName, Topology } from "./topology";
import { TopologyError, validateTopology } from "./validate";

/** Reads `istio-multicluster:mesh` and `istio-multicluster:clusters`; throws `TopologyError` listing every problem. */
export function loadTopology(): Topology {
    const config = new pulumi.Config(projectName);
    const result = validateTopology({
        mesh: readObject(config, "mesh"),
        clusters: readObject(config, "clusters"),
        smokeTest: readObject(config, "smokeTest"),
        secret: {
            mesh: isConfigSecret(`${projectName}:mesh`),
            clusters: isConfigSecret(`${projectName}:clusters`),
        },
    });
    if (!result.ok) throw new TopologyError(result.errors);
    return result.topology;
}

/**
 * Whether Pulumi holds a config key as secret. The SDK keeps this check internal (`isConfigSecret`, filled from
 * the CLI's PULUMI_CONFIG_SECRET_KEYS); it is the only way to refuse a kubeconfig or key given in plain text.
 */
function isConfigSecret(key: string): boolean {
    const check = (runtimeConfig as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    if (typeof check !== "function") {
        throw new Error(
            "this @pulumi/pulumi has no isConfigSecret; pin @pulumi/pulumi to the version in package-lock.json",
        );
    }
    return check(key);
}

function readObject(config: pulumi.Config, key: string): unknown {
    // Plain read: secret parts are re-wrapped with pulumi.secret by the validator, field by field.
    const text = config.get(key);
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text) as unknown;
    } catch {
        // A scalar: the validator says what it should have been.
        return text;
    }
}
