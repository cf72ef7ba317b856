/**
 * Which Helm releases of a plan come from which charts: Istio's (rendered against Istio's reference charts in
 * the conformance tier) and the third-party observability charts (rendered in the charts tier, test/charts).
 */
import { chartDefaults, ObservabilityChart } from "../../stacks/observability";
import { istioChartRepo } from "../../stacks/values";
import { plainInputs, PlannedResource } from "../../tools/planner";

const releaseType = "kubernetes:helm.sh/v3:Release";

/** A release of one of Istio's charts (base, istiod, gateway), from Istio's chart repository. */
export function isIstioRelease(r: PlannedResource): boolean {
    if (r.type !== releaseType) return false;
    const repo = (plainInputs(r).repositoryOpts as { repo?: string } | undefined)?.repo;
    return repo === istioChartRepo;
}

/** A release of one of the observability charts (prometheus, jaeger, grafana). */
export function isObservabilityRelease(r: PlannedResource): boolean {
    return r.type === releaseType && !isIstioRelease(r) && (plainInputs(r).chart as string) in chartDefaults;
}

/** The observability chart a release installs. */
export function observabilityChartOf(r: PlannedResource): ObservabilityChart {
    return plainInputs(r).chart as ObservabilityChart;
}
