/**
 * The readable form of a plan: one tree per cluster (components and what they create), then the resources
 * outside any cluster, and the stack outputs.
 */
import { displayInputs, Plan, PlannedResource } from "./planner";

export function renderTree(p: Plan): string {
    const byUrn = new Map(p.resources.map((r) => [r.urn, r]));
    const children = new Map<string, PlannedResource[]>();
    for (const r of p.resources) {
        if (!r.parent) continue;
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const lines: string[] = [`Plan for stack ${p.stack}: ${p.resources.length} resources`];
    const label = (r: PlannedResource) => {
        const tags = [r.protect ? "protected" : "", r.readId !== undefined ? "read" : ""].filter(Boolean);
        const waits = r.dependsOn
            .map((d) => byUrn.get(d))
            .filter((d): d is PlannedResource => d !== undefined && d.parent !== r.urn)
            .map((d) => d.name);
        return (
            `${r.name} (${r.type})${tags.length ? ` [${tags.join(", ")}]` : ""}` +
            (waits.length ? `  <- ${waits.join(", ")}` : "")
        );
    };
    const walk = (r: PlannedResource, indent: string, cluster: string | null) => {
        lines.push(`${indent}${label(r)}`);
        for (const c of children.get(r.urn) ?? []) {
            if (cluster === null || c.cluster === cluster || c.cluster === null)
                walk(c, indent + "    ", cluster);
        }
    };
    const stackRes = p.resources.find((r) => r.parent === null);
    const top = stackRes ? (children.get(stackRes.urn) ?? []) : [];
    const clusters = [...new Set(p.resources.map((r) => r.cluster).filter((c): c is string => c !== null))];
    for (const cluster of clusters) {
        lines.push("", `cluster ${cluster}`);
        for (const r of top) {
            if (r.cluster === cluster || (r.cluster === null && inCluster(r, cluster, children))) {
                walk(r, "    ", cluster);
            }
        }
    }
    const outside = top.filter((r) => r.cluster === null && !clusters.some((c) => inCluster(r, c, children)));
    if (outside.length) {
        lines.push("", "outside any cluster");
        for (const r of outside) walk(r, "    ", null);
    }
    const shared = top.filter(
        (r) => r.cluster === null && clusters.filter((c) => inCluster(r, c, children)).length > 1,
    );
    if (shared.length) {
        lines.push("", "spanning clusters (shown under each cluster above)");
        for (const r of shared) lines.push(`    ${r.name} (${r.type})`);
    }
    lines.push(
        "",
        "outputs",
        ...JSON.stringify(p.outputs, null, 2)
            .split("\n")
            .map((l) => `    ${l}`),
        "",
    );
    void displayInputs;
    return lines.join("\n");
}

function inCluster(r: PlannedResource, cluster: string, children: Map<string, PlannedResource[]>): boolean {
    return (children.get(r.urn) ?? []).some(
        (c) => c.cluster === cluster || (c.cluster === null && inCluster(c, cluster, children)),
    );
}
