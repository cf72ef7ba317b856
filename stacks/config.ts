/**
 * Reads the stack configuration once and hands back the validated topology. The only module that touches
 * `pulumi.Config`; everything else receives plain typed objects.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { projectName, Topology } from "./topology";
import { rawConfigFrom, TopologyError, validateTopology } from "./validate";

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

/** A refusal found once the program reads something back (as the validator's, every problem listed). */
export function configRefused(problems: readonly string[]): ConfigRefused {
    return new ConfigRefused(new TopologyError(problems));
}

/**
 * Reads `istio-multicluster:mesh`, `clusters`, `namespaces`, `security`, `services`, `externalServices` and
 * `ingress`, and refuses any other key of the project; throws `ConfigRefused` listing every problem, before
 * anything is registered.
 */
export function loadTopology(): Topology {
    const config = new pulumi.Config(projectName);
    const result = validateTopology(
        // Plain reads: secret parts are re-wrapped with pulumi.secret by the validator, field by field.
        rawConfigFrom(
            (key) => config.get(key),
            (key) => isConfigSecret(`${projectName}:${key}`),
            // pulumi.Config reads one key at a time; the runtime's map (PULUMI_CONFIG from the CLI) lists them
            // all, so a misspelt top-level key (`istio-multicluster:cluster`) is refused instead of ignored.
            Object.keys(runtimeConfig.allConfig()),
        ),
    );
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
