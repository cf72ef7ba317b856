import * as pulumi from "@pulumi/pulumi";

/**
 * The error a component throws when a value it reads back makes the mesh impossible (no load-balancer
 * address, no token, ...): a `ResourceError` that hides its stack. Without that, the Pulumi CLI prints the
 * error with `util.inspect`, the whole resource object under it; with it, one clear line naming the config
 * key and the fix, attached to the resource.
 */
export function refusal(message: string, resource: pulumi.Resource): pulumi.ResourceError {
    return new pulumi.ResourceError(message, resource, true);
}
