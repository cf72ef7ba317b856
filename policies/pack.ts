/**
 * The policies of the pack and their default enforcement, in one place. Per-environment levels come from the
 * policy config files beside this one (`config.<stack>.json`), never from the policies themselves.
 *
 * Importing this module starts nothing: `index.ts` hands the list to `new PolicyPack` (which serves gRPC to
 * the Pulumi CLI), and tools/policyRunner.ts evaluates it in-process for the offline plan.
 */
import { EnforcementLevel, Policies } from "@pulumi/policy/policy";
import { availabilityPolicies } from "./availability";
import { consistencyPolicies } from "./consistency";
import { exposurePolicies } from "./exposure";
import { hardeningPolicies } from "./hardening";
import { keyMaterialPolicies } from "./keyMaterial";
import { linkPolicies } from "./links";
import { orderingPolicies } from "./ordering";
import { releasePolicies } from "./releases";
import { revisionPolicies } from "./revisions";
import { securityPolicies } from "./security";
import { telemetryPolicies } from "./telemetry";
import { trustPolicies } from "./trust";
import { trafficPolicies } from "./traffic";
import { workloadPolicies } from "./workloads";

/** The pack's name, as `pulumi preview --policy-pack` reports it. */
export const packName = "istio-multicluster";

/** What every policy enforces unless the stack's policy config says otherwise: safe by default. */
export const defaultEnforcementLevel: EnforcementLevel = "mandatory";

/**
 * Policies that only recommend: advisory unless a policy config raises them. Kept here, beside the default,
 * so that every default level is read in one place.
 */
const advisoryByDefault = new Set(["ca-key-size-recommended", "ca-renewal-due"]);

/** Every policy of the pack, in a stable order; each carries its default level. */
export const policies: Policies = [
    ...orderingPolicies,
    ...consistencyPolicies,
    ...revisionPolicies,
    ...linkPolicies,
    ...keyMaterialPolicies,
    ...trustPolicies,
    ...exposurePolicies,
    ...availabilityPolicies,
    ...securityPolicies,
    ...trafficPolicies,
    ...workloadPolicies,
    ...hardeningPolicies,
    ...telemetryPolicies,
    ...releasePolicies,
].map((p) => ({
    ...p,
    enforcementLevel: advisoryByDefault.has(p.name) ? "advisory" : defaultEnforcementLevel,
}));
