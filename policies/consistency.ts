/**
 * Consistency across clusters: one mesh, one trust domain, one pinned Istio release and one revision in every
 * chart of every cluster, and each east-west gateway on its own cluster's network and istiod's revision.
 */
import { StackValidationPolicy } from "@pulumi/policy/policy";
import {
    ChartInfo,
    configOf,
    isEastWestGateway,
    isRemoteIstiod,
    istioChart,
    isUnknown,
    Res,
    stackResources,
    str,
} from "./lib";

interface Installed extends Res {
    readonly chart: ChartInfo;
}

function charts(resources: Res[]): Installed[] {
    return resources.flatMap((r) => {
        const chart = istioChart(r.type, r.props);
        return chart ? [{ ...r, chart }] : [];
    });
}

/** The most common known value (ties: the first seen), the one the others are told to match. */
function majority(values: string[]): string | undefined {
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    let best: string | undefined;
    for (const [v, n] of counts) if (best === undefined || n > counts.get(best)!) best = v;
    return best;
}

/** Istio's default trust domain when `meshConfig.trustDomain` is not set. */
const defaultTrustDomain = "cluster.local";

/** One mesh ID and one trust domain in every istiod of every cluster. */
export const meshIdentityConsistent: StackValidationPolicy = {
    name: "mesh-identity-consistent",
    description: "Every istiod in every cluster names the same mesh ID and the same trust domain.",
    validateStack: (args, reportViolation) => {
        const istiods = charts(stackResources(args.resources)).filter((r) => r.chart.chart === "istiod");
        const meshIds = istiods.map((r) => ({ r, v: str(r.chart.values, "global", "meshID") }));
        for (const { r, v } of meshIds) {
            if (v === undefined && !isRemoteIstiod(r.chart.values)) {
                reportViolation(
                    `istiod ${r.name} sets no global.meshID; set \`mesh.meshId\`, which every istiod takes`,
                    r.urn,
                );
            }
        }
        const meshId = majority(meshIds.flatMap(({ v }) => (typeof v === "string" ? [v] : [])));
        for (const { r, v } of meshIds) {
            if (typeof v === "string" && v !== meshId) {
                reportViolation(
                    `istiod ${r.name} has global.meshID ${JSON.stringify(v)} but the mesh is ` +
                        `${JSON.stringify(meshId)}; install every cluster from the one \`mesh.meshId\``,
                    r.urn,
                );
            }
        }
        // A remote's istiod renders no control plane; its trust domain counts only when it sets one.
        const domains = istiods.flatMap((r) => {
            const v = str(r.chart.values, "meshConfig", "trustDomain");
            if (isUnknown(v)) return [];
            if (v === undefined) return isRemoteIstiod(r.chart.values) ? [] : [{ r, v: defaultTrustDomain }];
            return [{ r, v }];
        });
        const domain = majority(domains.map(({ v }) => v));
        for (const { r, v } of domains) {
            if (v !== domain) {
                reportViolation(
                    `istiod ${r.name} has trust domain ${JSON.stringify(v)} but the mesh uses ` +
                        `${JSON.stringify(domain)}; install every cluster from the one \`mesh.trustDomain\``,
                    r.urn,
                );
            }
        }
    },
};

/** Exact semver, no range, no `latest`, no `v` prefix (Istio's chart versions are plain x.y.z). */
const exactVersion = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The policy's configuration. */
export interface IstioVersionConfig {
    /** The one Istio version every chart must be pinned to; unset: any one exact version. */
    readonly version?: string;
    /** The versions charts may be pinned to while revisions run side by side (a canary upgrade). */
    readonly versions?: readonly string[];
}

/** The distinct revisions of the stack's istiod releases ("" for none), unknown ones left out. */
function istiodRevisions(installed: readonly Installed[]): Set<string> {
    return new Set(
        installed.flatMap((r) => {
            if (r.chart.chart !== "istiod") return [];
            const rev = str(r.chart.values, "revision");
            return isUnknown(rev) ? [] : [rev ?? ""];
        }),
    );
}

/** Every Istio chart in every cluster pinned to the same exact version. */
export const istioVersionPinned: StackValidationPolicy = {
    name: "istio-version-pinned",
    description: "Every Istio chart in every cluster is pinned to one exact version (no range, no latest).",
    configSchema: {
        properties: {
            version: {
                type: "string",
                pattern: exactVersion.source,
                description: "The required Istio version",
            },
            versions: {
                type: "array",
                items: { type: "string", pattern: exactVersion.source },
                description: "The Istio versions allowed while revisions run side by side (a canary upgrade)",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const { version: required, versions: allowed } = configOf<IstioVersionConfig>(args, {});
        const installed = charts(stackResources(args.resources));
        const pinned: { r: Installed; v: string }[] = [];
        for (const r of installed) {
            const v = r.chart.version;
            if (isUnknown(v)) continue;
            if (v === undefined || !exactVersion.test(v)) {
                reportViolation(
                    `chart ${r.chart.chart} of ${r.name} has version ${JSON.stringify(v ?? null)}; pin it to an ` +
                        `exact version in \`mesh.istio.version\`, such as ${JSON.stringify(required ?? "1.30.3")}`,
                    r.urn,
                );
            } else pinned.push({ r, v });
        }
        if (allowed !== undefined || istiodRevisions(installed).size > 1) {
            // Revisions side by side run several versions (istio-revisions-consistent checks how they relate);
            // the policy config may still name which versions this stack may run.
            const versions = allowed ?? (required !== undefined ? [required] : undefined);
            for (const { r, v } of pinned) {
                if (versions !== undefined && !versions.includes(v)) {
                    reportViolation(
                        `chart ${r.chart.chart} of ${r.name} is pinned to ${v}, which this stack's policy config does ` +
                            `not allow (${versions.join(", ")}); pin \`mesh.istio.revisions\` to allowed versions, or ` +
                            "add the new version to the policy's `versions` for the upgrade",
                        r.urn,
                    );
                }
            }
            return;
        }
        const expected = required ?? majority(pinned.map(({ v }) => v));
        for (const { r, v } of pinned) {
            if (v !== expected) {
                reportViolation(
                    `chart ${r.chart.chart} of ${r.name} is pinned to ${v} but the mesh runs ${expected}; set ` +
                        `\`mesh.istio.version\` to ${expected}: every chart in every cluster follows it`,
                    r.urn,
                );
            }
        }
    },
};

/** The revision a chart installs: `revision`, or for `base` its `defaultRevision`; "" for none. */
function revisionOf(r: Installed): string | undefined {
    const v = str(r.chart.values, r.chart.chart === "base" ? "defaultRevision" : "revision");
    if (isUnknown(v)) return undefined;
    return v ?? "";
}

/** One revision across every chart in every cluster. */
export const istioRevisionConsistent: StackValidationPolicy = {
    name: "istio-revision-consistent",
    description: "Every Istio chart in every cluster uses the same revision (or none at all).",
    validateStack: (args, reportViolation) => {
        // Revisions side by side are istio-revisions-consistent's to judge (policies/revisions.ts).
        if (istiodRevisions(charts(stackResources(args.resources))).size > 1) return;
        const installed = charts(stackResources(args.resources)).flatMap((r) => {
            const rev = revisionOf(r);
            return rev === undefined ? [] : [{ r, rev }];
        });
        // istiod decides: gateways and base follow the control plane they are injected or validated by.
        const fromIstiod = installed.filter(({ r }) => r.chart.chart === "istiod").map(({ rev }) => rev);
        const expected = majority(fromIstiod.length > 0 ? fromIstiod : installed.map(({ rev }) => rev));
        const show = (v: string | undefined) => (v ? JSON.stringify(v) : "none");
        for (const { r, rev } of installed) {
            if (rev !== expected) {
                reportViolation(
                    `chart ${r.chart.chart} of ${r.name} has revision ${show(rev)} but the mesh uses ` +
                        `${show(expected)}; set \`mesh.istio.revision\` once: every chart of every cluster follows it`,
                    r.urn,
                );
            }
        }
    },
};

/** Each east-west gateway on its own cluster's network, and on the revision of its cluster's istiod. */
export const eastWestGatewayMatchesCluster: StackValidationPolicy = {
    name: "east-west-gateway-matches-cluster",
    description:
        "Each east-west gateway's network equals its cluster's network and its revision equals istiod's.",
    validateStack: (args, reportViolation) => {
        const installed = charts(stackResources(args.resources));
        for (const gw of installed) {
            if (gw.chart.chart !== "gateway" || !isEastWestGateway(gw.chart.values)) continue;
            const istiod = installed.find((r) => r.chart.chart === "istiod" && r.cluster === gw.cluster);
            if (istiod === undefined) continue;
            const network = str(istiod.chart.values, "global", "network");
            const gwNetwork = str(gw.chart.values, "networkGateway");
            if (!isUnknown(network) && !isUnknown(gwNetwork) && (network ?? "") !== (gwNetwork ?? "")) {
                reportViolation(
                    `east-west gateway ${gw.name} has networkGateway ${JSON.stringify(gwNetwork ?? null)} but ` +
                        `cluster ${gw.cluster} is on network ${JSON.stringify(network ?? null)}; set the cluster's ` +
                        `\`clusters[].network\` once: its istiod and its gateway both follow it`,
                    gw.urn,
                );
            }
            const rev = revisionOf(gw);
            const istiodRev = revisionOf(istiod);
            // With several revisions in the cluster, istio-revisions-consistent says which the gateway may run on.
            const revisionsHere = installed.filter(
                (r) => r.chart.chart === "istiod" && r.cluster === gw.cluster,
            );
            if (revisionsHere.length > 1) continue;
            if (rev !== undefined && istiodRev !== undefined && rev !== istiodRev) {
                reportViolation(
                    `east-west gateway ${gw.name} has revision ${JSON.stringify(rev)} but istiod ${istiod.name} ` +
                        `in its cluster has ${JSON.stringify(istiodRev)}; set \`mesh.istio.revision\` once: the gateway follows its istiod`,
                    gw.urn,
                );
            }
        }
    },
};

/** The consistency policies. */
export const consistencyPolicies = [
    meshIdentityConsistent,
    istioVersionPinned,
    istioRevisionConsistent,
    eastWestGatewayMatchesCluster,
];
