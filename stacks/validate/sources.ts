/** Reads where a cluster is reached (`context`) and where Istio's charts come from (`mesh.istio.charts`). */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { excerpt, looksLikeSecret } from "../checks";
import { isChartRepository } from "../values";
import { configValue, Obj, Reader } from "../reader";

/**
 * A kubeconfig context: one line, no whitespace at its ends. Anything else is most likely a kubeconfig or a
 * token pasted into the wrong key: refused without showing any of it.
 */
export function readContext(r: Reader, c: Obj, path: string): string | undefined {
    const v = configValue(c, "context");
    const p = `${path}.context`;
    if (typeof v !== "string") return r.fail(p, `must be a string, got ${excerpt(v)}`);
    if (/[\r\n]/.test(v) || looksLikeSecret(v)) {
        return r.fail(
            p,
            "is not a context name (not shown: it looks like a kubeconfig or a credential); name a context " +
                "of your kubeconfig file, or put a kubeconfig in `kubeconfig` as a secret",
        );
    }
    if (v.trim() !== v || v.length > 1024 || /[\u0000-\u001f\u007f]/.test(v)) {
        return r.fail(
            p,
            `${excerpt(v)} is not a context name: a context is one line of at most 1024 characters, without ` +
                `control characters or whitespace at its ends; copy it from \`kubectl config get-contexts\``,
        );
    }
    return v;
}

/**
 * What is wrong with `mesh.istio.charts`: a repository address with credentials in it (they would sit in
 * the stack file and the state; give them to Helm another way), or a local directory that lacks one of the
 * three charts or holds another version than `mesh.istio.version` (Helm reads no version for a chart given
 * as a path, so this is the only place the pin is enforced). A relative directory is read from the project's
 * directory, where Pulumi runs the program and the Kubernetes provider.
 */
export function chartSourceProblems(charts: string, version: string | undefined): string[] {
    if (isChartRepository(charts)) {
        try {
            const url = new URL(charts);
            if (url.username || url.password) {
                return [
                    "a repository address must not carry a user or password; use a mirror that needs none here",
                ];
            }
            if (url.search !== "" || url.hash !== "" || looksLikeSecret(charts)) {
                // A token in a query (`?token=...`) would be in the stack file, the state and every plan.
                return [
                    "a repository address takes no query or fragment (they carry tokens; not shown); use a " +
                        "mirror that needs none here",
                ];
            }
        } catch {
            return ["is not a valid repository address; give https://host/path or oci://host/path"];
        }
        return [];
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(charts)) {
        return ["give an https:// or oci:// repository, or a local directory"];
    }
    const problems: string[] = [];
    for (const chart of ["base", "istiod", "gateway"]) {
        const file = path.resolve(charts, chart, "Chart.yaml");
        let chartVersion: unknown;
        try {
            chartVersion = (YAML.parse(fs.readFileSync(file, "utf8")) as { version?: unknown } | null)
                ?.version;
        } catch {
            problems.push(
                `no chart \`${chart}\` in ${charts} (expected ${path.join(charts, chart, "Chart.yaml")})`,
            );
            continue;
        }
        if (version !== undefined && String(chartVersion) !== version) {
            problems.push(
                `the \`${chart}\` chart in ${charts} is version ${String(chartVersion)}, not mesh.istio.version ` +
                    `${version}; point it at the charts of ${version}`,
            );
        }
    }
    return problems;
}
