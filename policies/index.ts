/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack ./policies [--policy-pack-config
 * ./policies/config.<stack>.json]`. Constructing the PolicyPack serves it over gRPC to the Pulumi CLI, so
 * nothing else may import this module; the offline plan uses tools/policyRunner.ts instead.
 */
import { PolicyPack } from "@pulumi/policy/policy";
import { defaultEnforcementLevel, packName, policies } from "./pack";

new PolicyPack(packName, {
    description:
        "Safety and consistency of an Istio multicluster mesh: ordering, identity, keys, exposure, availability.",
    enforcementLevel: defaultEnforcementLevel,
    policies,
});
