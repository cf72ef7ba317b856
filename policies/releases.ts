/**
 * Helm releases: every chart pinned to one exact version, so that a preview shows what an update installs and
 * two runs of the same stack install the same thing (a range or no version takes whatever is newest that day).
 */
import { ResourceValidationPolicy } from "@pulumi/policy/policy";
import { helmChartName, isHelmType, isUnknown, resourceOf, str } from "./lib";

/** An exact SemVer 2 version, as Helm charts are versioned: no range, no wildcard, no leading `v`. */
const exactSemver = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** Istio's charts: `istio-version-pinned` (consistency.ts) holds them to one exact version, the mesh's. */
const istioCharts = new Set(["base", "istiod", "gateway"]);

/** The stack config key that pins each chart the program installs. */
function pinKey(chart: string): string | undefined {
    if (chart === "prometheus" || chart === "jaeger" || chart === "grafana")
        return `istio-multicluster:observability.charts.${chart}.version`;
    return undefined;
}

/**
 * Whether a chart reference is a file whose version the reference itself fixes (a local directory or
 * archive, or a `.tgz` URL): Helm ignores `version` for those.
 */
function isFileChart(chart: string): boolean {
    return /^(\.{1,2}\/|\/|file:\/\/)/.test(chart) || /\.tgz$/.test(chart);
}

/** Every Helm release (and chart) names one exact chart version. */
export const chartVersionsPinned: ResourceValidationPolicy = {
    name: "chart-versions-pinned",
    description:
        "Every Helm release is pinned to an exact chart version (no range, no wildcard, no latest); Istio's own " +
        "charts are istio-version-pinned's.",
    validateResource: (args, reportViolation) => {
        const r = resourceOf(args);
        if (!isHelmType(r.type)) return;
        const ref = str(r.props, "chart");
        const version = str(r.props, "version");
        if (isUnknown(ref) || isUnknown(version) || ref === undefined || isFileChart(ref)) return;
        if (version !== undefined && exactSemver.test(version)) return;
        const chart = helmChartName(r.type, r.props) ?? ref;
        // Reported once, by the policy that also knows the mesh's version.
        if (istioCharts.has(chart)) return;
        const key = pinKey(chart);
        const have =
            version === undefined || version.trim() === ""
                ? "has no version, so Helm installs the newest it finds"
                : `has version ${JSON.stringify(version)}, ${
                      /^latest$/i.test(version.trim()) ? "the newest" : "a range, not one exact version"
                  }`;
        reportViolation(
            `${r.name}: chart ${chart} ${have}; ` +
                (key
                    ? `pin it in \`${key}\` to an exact version (such as 1.2.3)`
                    : "pin `version` to an exact chart version (such as 1.2.3)"),
        );
    },
};

/** The release policies. */
export const releasePolicies = [chartVersionsPinned];
