/**
 * Dependency-graph measures over a plan.
 */
import { PlannedResource } from "./planner";

/**
 * The longest chain of resources that must be created one after another (counted in resources), following
 * every dependency edge between resources the engine creates or reads. Components only group, so they are
 * left out.
 */
export function longestChain(resources: readonly PlannedResource[]): { length: number; chain: string[] } {
    const nodes = new Map(resources.filter((r) => r.custom).map((r) => [r.urn, r]));
    const memo = new Map<string, string[]>();
    const visiting = new Set<string>();
    const chainTo = (urn: string): string[] => {
        const known = memo.get(urn);
        if (known) return known;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        let best: string[] = [];
        for (const dep of nodes.get(urn)!.dependsOn) {
            if (!nodes.has(dep)) continue;
            const c = chainTo(dep);
            if (c.length > best.length) best = c;
        }
        visiting.delete(urn);
        const chain = [...best, urn];
        memo.set(urn, chain);
        return chain;
    };
    let longest: string[] = [];
    for (const urn of nodes.keys()) {
        const c = chainTo(urn);
        if (c.length > longest.length) longest = c;
    }
    return { length: longest.length, chain: longest.map((u) => nodes.get(u)!.name) };
}

/** The plan's resources in an order where each comes after everything it depends on (stable otherwise). */
export function dependencyOrder(resources: readonly PlannedResource[]): PlannedResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const done = new Set<string>();
    const out: PlannedResource[] = [];
    const visiting = new Set<string>();
    const visit = (r: PlannedResource) => {
        if (done.has(r.urn)) return;
        if (visiting.has(r.urn)) throw new Error(`dependency cycle through ${r.name}`);
        visiting.add(r.urn);
        for (const d of r.dependsOn) {
            const dep = byUrn.get(d);
            if (dep) visit(dep);
        }
        visiting.delete(r.urn);
        done.add(r.urn);
        out.push(r);
    };
    resources.forEach(visit);
    return out;
}

/**
 * The URNs of every resource that waits, directly or through others, for one of `sources`: what the engine
 * would not create before those have real outputs.
 */
export function dependents(resources: readonly PlannedResource[], sources: ReadonlySet<string>): Set<string> {
    const out = new Set<string>();
    let grew = true;
    while (grew) {
        grew = false;
        for (const r of resources) {
            if (out.has(r.urn)) continue;
            if (r.dependsOn.some((d) => sources.has(d) || out.has(d))) {
                out.add(r.urn);
                grew = true;
            }
        }
    }
    return out;
}
