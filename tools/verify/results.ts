/** What a check reports, and the collector each cluster's checks write into. */
import { istioNamespace } from "../../stacks/names";
import { ClusterSpec } from "../../stacks/topology";
import { Kube } from "./kube";

/** The outcome of one check. `skip`: it could not be decided from this machine (never a failure). */
export type Status = "pass" | "fail" | "skip";

/** One line of the report, and one element of `--json`. */
export interface CheckResult {
    readonly cluster: string;
    readonly check: string;
    readonly status: Status;
    readonly expected: string;
    readonly found: string;
    /** What to do about a failure; empty when it passed. */
    readonly hint: string;
}

/**
 * The oldest Kubernetes minor Istio 1.30.3 supports: `MinK8SVersion = 32` in Istio's
 * istioctl/pkg/install/k8sversion/version.go at tag 1.30.3 (what `istioctl precheck` and install check).
 */
export const minKubernetesMinor = 32;

/** The istiod port that serves `/debug/*` (`http-monitoring` of the istiod Service). */
export const istiodMonitoringPort = 15014;

/** How verify reaches a cluster; throws KubeError (missing context, bad kubeconfig). */
export type Connect = (cluster: ClusterSpec) => Kube;

/** One element of istiod's `/debug/clusterz` (Istio's pkg/cluster/debug.go `DebugInfo`, 1.30.3). */
export interface ClusterDebugInfo {
    readonly id: string;
    readonly secretName: string;
    /** `synced`, `syncing`, `timeout` or `closed` (pkg/kube/multicluster/cluster.go). */
    readonly syncStatus: string;
}

export interface Meta {
    metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export const ns = istioNamespace;
export const selector = (s: string) => `labelSelector=${encodeURIComponent(s)}`;

/** Collects the results of one cluster. */
export class Results {
    readonly list: CheckResult[] = [];
    constructor(private readonly cluster: string) {}
    pass(check: string, expected: string, found: string): void {
        this.list.push({ cluster: this.cluster, check, status: "pass", expected, found, hint: "" });
    }
    fail(check: string, expected: string, found: string, hint: string): void {
        this.list.push({ cluster: this.cluster, check, status: "fail", expected, found, hint });
    }
    skip(check: string, expected: string, found: string): void {
        this.list.push({ cluster: this.cluster, check, status: "skip", expected, found, hint: "" });
    }
    check(check: string, ok: boolean, expected: string, found: string, hint: string): void {
        if (ok) this.pass(check, expected, found);
        else this.fail(check, expected, found, hint);
    }
    /** Runs `f`; a read that fails becomes this check's failure, never an exception. */
    async guard(check: string, expected: string, hint: string, f: () => Promise<void>): Promise<void> {
        try {
            await f();
        } catch (e) {
            this.fail(check, expected, `the read failed: ${message(e)}`, hint);
        }
    }
}

export function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/** What phase one learns of a cluster for the cross-cluster checks. */

/** Exposed for the report: the JSON shape is exactly these keys. */
export const resultKeys: readonly (keyof CheckResult)[] = [
    "cluster",
    "check",
    "status",
    "expected",
    "found",
    "hint",
];

/** Whether every check passed (skips do not fail the run). */
export function allPassed(results: readonly CheckResult[]): boolean {
    return results.every((r) => r.status !== "fail");
}

/** What the checks of one cluster learn for the others' (its root, its gateway address). */
export interface Learned {
    /** SHA-256 fingerprint of `cacerts`' root (primaries). */
    root?: string;
    /** The gateway's reachable address as the cluster reports it. */
    gatewayAddress?: string;
}
