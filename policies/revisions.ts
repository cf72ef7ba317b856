/**
 * Revisions side by side (a canary upgrade): what makes a set of istiod releases one mesh that can be
 * upgraded. It speaks only when a stack runs more than one istiod revision; with one, the consistency
 * policies say everything. Istio's rules it checks (istio.io "Supported releases" and "Canary upgrades";
 * the istiod chart's `revision-tags-mwc.yaml`):
 * - a control plane may be one minor ahead of a proxy, never more and never behind: revisions side by side
 *   are at most one minor apart, and a gateway is never newer than the revision that injects it;
 * - a remote's istiod of a revision points at its primary's istiod of that revision: every cluster runs every
 *   revision, each at one version;
 * - a revision tag is one webhook per cluster: each tag names the same revision in every cluster, and is held
 *   by one release per cluster; the `base` chart's default validator and the gateways follow `default`; the
 *   `base` chart carries the CRDs every revision reads, so it comes from the newest version.
 */
import { StackValidationPolicy } from "@pulumi/policy/policy";
import { ChartInfo, istioChart, isUnknown, Res, stackResources, str } from "./lib";

interface Installed extends Res {
    readonly chart: ChartInfo;
}

/** `[major, minor, patch]` of an exact version; undefined for anything else. */
function parts(version: unknown): [number, number, number] | undefined {
    const m = typeof version === "string" ? /^(\d+)\.(\d+)\.(\d+)/.exec(version) : null;
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Compares two exact versions (unparsable ones last). */
function compare(a: string, b: string): number {
    const [pa, pb] = [parts(a), parts(b)];
    if (!pa || !pb) return pa ? -1 : pb ? 1 : 0;
    for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
}

/** A release's revision ("" for none), undefined while unknown. */
function revisionOf(values: Record<string, unknown>): string | undefined {
    const v = str(values, "revision");
    return isUnknown(v) ? undefined : (v ?? "");
}

/** The tags a release renders (`revisionTags`), or undefined while unknown. */
function tagsOf(values: Record<string, unknown>): string[] | undefined {
    const v = values.revisionTags;
    if (isUnknown(v)) return undefined;
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string") : [];
}

const show = (rev: string) => (rev === "" ? "(no revision)" : JSON.stringify(rev));

/** Several revisions side by side are one mesh that can be upgraded. */
export const istioRevisionsConsistent: StackValidationPolicy = {
    name: "istio-revisions-consistent",
    description:
        "With several istiod revisions: each runs in every cluster at one version, at most one minor apart; " +
        "each revision tag names one revision everywhere; base, gateways and tags agree.",
    validateStack: (args, reportViolation) => {
        const installed: Installed[] = stackResources(args.resources).flatMap((r) => {
            const chart = istioChart(r.type, r.props);
            return chart ? [{ ...r, chart }] : [];
        });
        const istiods = installed.filter((r) => r.chart.chart === "istiod");
        const revisions = new Set(istiods.flatMap((r) => revisionOf(r.chart.values) ?? []));
        if (revisions.size < 2) return;

        // One version per revision (the first istiod of each sets it), every cluster running every revision.
        const versionOf = new Map<string, string>();
        const byCluster = new Map<string, Map<string, Installed>>();
        for (const r of istiods) {
            const rev = revisionOf(r.chart.values);
            const v = r.chart.version;
            if (rev === undefined || r.cluster === undefined) continue;
            const inCluster = byCluster.get(r.cluster) ?? new Map<string, Installed>();
            inCluster.set(rev, r);
            byCluster.set(r.cluster, inCluster);
            if (typeof v !== "string") continue;
            const expected = versionOf.get(rev);
            if (expected === undefined) versionOf.set(rev, v);
            else if (v !== expected) {
                reportViolation(
                    `istiod ${r.name} runs revision ${show(rev)} at ${v}, but it runs at ${expected} elsewhere; a ` +
                        "revision is one version in every cluster (`mesh.istio.revisions[].version`)",
                    r.urn,
                );
            }
        }
        for (const [cluster, inCluster] of byCluster) {
            const missing = [...revisions].filter((rev) => !inCluster.has(rev)).sort();
            if (missing.length > 0) {
                const any = [...inCluster.values()][0]!;
                reportViolation(
                    `cluster ${cluster} runs no istiod of revision ${missing.map(show).join(", ")}, which other ` +
                        "clusters run; every revision is installed in every cluster (a remote's istiod of a revision " +
                        "points at its primary's istiod of that revision)",
                    any.urn,
                );
            }
        }

        // Skew: at most one minor between the oldest and the newest revision.
        const versions = [...versionOf.values()].sort(compare);
        const [oldest, newest] = [versions[0], versions[versions.length - 1]];
        const [po, pn] = [parts(oldest), parts(newest)];
        if (po && pn && (po[0] !== pn[0] || pn[1] - po[1] > 1)) {
            const newestIstiod = istiods.find((r) => r.chart.version === newest)!;
            reportViolation(
                `revisions run ${oldest} beside ${newest}: Istio supports control planes at most one minor apart ` +
                    "(a proxy may be one minor behind its control plane, never more); upgrade one minor at a time",
                newestIstiod.urn,
            );
        }

        // Tags: one holder per cluster, the same revision everywhere.
        const tagRevision = new Map<string, string>();
        const servingIn = new Map<string, string>();
        for (const [cluster, inCluster] of byCluster) {
            const holders = new Map<string, string[]>();
            for (const [rev, r] of inCluster) {
                for (const tag of tagsOf(r.chart.values) ?? []) {
                    holders.set(tag, [...(holders.get(tag) ?? []), rev]);
                }
            }
            for (const [tag, revs] of holders) {
                const r = inCluster.get(revs[0]!)!;
                if (revs.length > 1) {
                    reportViolation(
                        `tag ${JSON.stringify(tag)} is rendered by the istiod releases of revisions ` +
                            `${revs.map(show).join(" and ")} in cluster ${cluster}; a tag names one revision ` +
                            "(`mesh.istio.tags`)",
                        r.urn,
                    );
                    continue;
                }
                if (tag === "default") servingIn.set(cluster, revs[0]!);
                const expected = tagRevision.get(tag);
                if (expected === undefined) tagRevision.set(tag, revs[0]!);
                else if (expected !== revs[0]) {
                    reportViolation(
                        `tag ${JSON.stringify(tag)} names revision ${show(revs[0]!)} in cluster ${cluster} but ` +
                            `${show(expected)} elsewhere; a tag names the same revision in every cluster`,
                        r.urn,
                    );
                }
            }
        }

        // base from the newest version, its validator on the `default` tag's revision; gateways follow it too and
        // are never newer than the revision that injects them.
        for (const r of installed) {
            if (r.cluster === undefined) continue;
            const serving = servingIn.get(r.cluster);
            const v = r.chart.version;
            if (r.chart.chart === "base") {
                if (typeof v === "string" && newest !== undefined && v !== newest) {
                    reportViolation(
                        `chart base of ${r.name} is pinned to ${v} but the newest revision runs ${newest}; base ` +
                            "carries the CRDs every revision reads: it follows the newest revision",
                        r.urn,
                    );
                }
                const validator = str(r.chart.values, "defaultRevision");
                if (serving !== undefined && !isUnknown(validator) && (validator ?? "") !== serving) {
                    reportViolation(
                        `chart base of ${r.name} validates with revision ${show(validator ?? "")} but the \`default\` ` +
                            `tag names ${show(serving)} in cluster ${r.cluster}; the default validator follows the tag`,
                        r.urn,
                    );
                }
            } else if (r.chart.chart === "gateway") {
                const rev = revisionOf(r.chart.values);
                if (rev === undefined) continue;
                const control = byCluster.get(r.cluster)?.get(rev);
                if (control === undefined) {
                    reportViolation(
                        `gateway ${r.name} runs on revision ${show(rev)}, which cluster ${r.cluster} does not run; ` +
                            "gateways follow the `default` tag's revision: keep a revision until no gateway uses it",
                        r.urn,
                    );
                    continue;
                }
                const cv = control.chart.version;
                if (typeof v === "string" && typeof cv === "string" && compare(v, cv) > 0) {
                    reportViolation(
                        `gateway ${r.name} is ${v}, newer than ${cv} of revision ${show(rev)} that injects it; a ` +
                            "proxy is never newer than its control plane",
                        r.urn,
                    );
                }
            }
        }
    },
};

/** The revision policies. */
export const revisionPolicies = [istioRevisionsConsistent];
