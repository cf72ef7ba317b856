/**
 * Reads the stack configuration once and hands back the validated topology. The only module that touches
 * `pulumi.Config`; everything else receives plain typed objects.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { projectName, Topology } from "./topology";
import { TopologyError, validateTopology } from "./validate";

/**
 * A refused stack configuration, as the program's entry reports it. A `pulumi.RunError`: the Pulumi CLI's Node
 * host prints its message once and no stack trace (any other error is "failed with an unhandled exception",
 * a trace, and the problem list a second time). `problems` keeps the list for the offline plan.
 */
export class ConfigRefused extends pulumi.RunError {
    public readonly problems: readonly string[];

    constructor(cause: TopologyError) {
        super(cause.message);
        this.name = "ConfigRefused";
        this.problems = cause.problems;
    }
}

/**
 * Reads `istio-multicluster:mesh`, `clusters`, `namespaces`, `security`, `services`, `externalServices` and
 * `ingress`; throws `ConfigRefused` listing every problem, before anything is registered.
 */
export function loadTopology(): Topology {
    const config = new pulumi.Config(projectName);
    const result = validateTopology({
        mesh: readObject(config, "mesh"),
        clusters: readObject(config, "clusters"),
        namespaces: readObject(config, "namespaces"),
        security: readObject(config, "security"),
        services: readObject(config, "services"),
        externalServices: readObject(config, "externalServices"),
        ingress: readObject(config, "ingress"),
        smokeTest: readObject(config, "smokeTest"),
        hardening: readObject(config, "hardening"),
        observability: readObject(config, "observability"),
        secret: {
            mesh: isConfigSecret(`${projectName}:mesh`),
            clusters: isConfigSecret(`${projectName}:clusters`),
        },
    });
    if (!result.ok) throw new ConfigRefused(new TopologyError(result.errors));
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
