/**
 * The readable form of a plan: one tree per cluster (each component with what it creates in that cluster),
 * then what lives outside any cluster (the CA), then the stack outputs. A component that spans clusters
 * (TrustAnchor, ClusterLink) appears under each cluster it touches, with only that cluster's part.
 */
import { Plan, PlannedResource } from "./planner";

export function renderTree(p: Plan): string {
    const byUrn = new Map(p.resources.map((r) => [r.urn, r]));
    const children = new Map<string, PlannedResource[]>();
    for (const r of p.resources) {
        if (!r.parent) continue;
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    // The section a custom resource belongs to: its cluster, or "" outside any cluster.
    const sectionsOf = new Map<string, Set<string>>();
    const collect = (r: PlannedResource): Set<string> => {
        const known = sectionsOf.get(r.urn);
        if (known) return known;
        const own = new Set<string>(r.custom ? [r.cluster ?? ""] : []);
        for (const c of children.get(r.urn) ?? []) for (const s of collect(c)) own.add(s);
        sectionsOf.set(r.urn, own);
        return own;
    };
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
    const lines: string[] = [`Plan for stack ${p.stack}: ${p.resources.length} resources`];
    const walk = (r: PlannedResource, indent: string, section: string) => {
        lines.push(`${indent}${label(r)}`);
        for (const c of children.get(r.urn) ?? []) {
            if (collect(c).has(section)) walk(c, indent + "    ", section);
        }
    };
    const stack = p.resources.find((r) => r.parent === null);
    const top = stack ? (children.get(stack.urn) ?? []) : [];
    const clusters = [...new Set(p.resources.map((r) => r.cluster).filter((c): c is string => c !== null))];
    for (const [section, title] of [
        ...clusters.map((c): [string, string] => [c, `cluster ${c}`]),
        ["", "outside any cluster"] as [string, string],
    ]) {
        const roots = top.filter((r) => collect(r).has(section));
        if (roots.length === 0) continue;
        lines.push("", title);
        for (const r of roots) walk(r, "    ", section);
    }
    lines.push(
        "",
        "outputs",
        ...JSON.stringify(p.outputs, null, 2)
            .split("\n")
            .map((l) => `    ${l}`),
        "",
    );
    return lines.join("\n");
}
