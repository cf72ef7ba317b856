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
