/**
 * Ordering: what must exist before what. istiod started without `cacerts` makes a self-signed CA and keeps
 * it (istio/istio#57853), so every primary's istiod must wait for its own cluster's `cacerts`.
 */
import { StackValidationPolicy } from "@pulumi/policy/policy";
import {
    dependsTransitively,
    isCacerts,
    isRemoteIstiod,
    istioChart,
    istioNamespace,
    stackResources,
    types,
} from "./lib";

/** Every primary istiod install depends, directly or transitively, on its own cluster's `cacerts` Secret. */
export const istiodAfterCacerts: StackValidationPolicy = {
    name: "istiod-after-cacerts",
    description: "Every primary istiod install waits for its own cluster's cacerts Secret.",
    validateStack: (args, reportViolation) => {
        const all = stackResources(args.resources);
        const cacerts = all.filter((r) => r.type === types.secret && isCacerts(r.props));
        for (const r of all) {
            const chart = istioChart(r.type, r.props);
            if (chart?.chart !== "istiod" || isRemoteIstiod(chart.values)) continue;
            const own = cacerts.filter((c) => c.cluster === r.cluster);
            if (own.length === 0) {
                reportViolation(
                    `istiod ${r.name} in cluster ${r.cluster ?? "(no provider)"} has no cacerts Secret in its ` +
                        `cluster; create cacerts in ${istioNamespace} there with the same provider, before istiod`,
                    r.urn,
                );
            } else if (!own.some((c) => dependsTransitively(r.source, c.source))) {
                reportViolation(
                    `istiod ${r.name} does not wait for ${own[0]!.name}, the cacerts of cluster ${r.cluster}; add ` +
                        `it to istiod's dependsOn, or istiod may start first and keep a self-signed CA`,
                    r.urn,
                );
            }
        }
    },
};

/** The ordering policies. */
export const orderingPolicies = [istiodAfterCacerts];
