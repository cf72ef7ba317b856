/**
 * The mesh as a Mermaid flowchart (GitHub renders it in Markdown): networks as subgraphs, each cluster with its
 * role, its east-west gateway and the gateway's address when the plan knows it; `remote --> primary` for the
 * control plane a remote uses, `primary -.-> cluster` for each cluster a primary reads (its remote secrets), one two-way edge
 * for two primaries that read each other.
 *
 * Drawn from the stack outputs `clusters` and `links` (what index.ts exports), so the picture is of what the
 * program built, not of a second reading of the config.
 */
import { unknownMarker } from "./planner";

/** One cluster as the stack output `clusters` describes it. */
interface ClusterOutput {
    readonly role: string;
    readonly primary?: string;
    readonly network: string | null;
    /** The gateway's address, `[unknown]` until a load balancer assigns it, null without a gateway. */
    readonly eastWestAddress: string | null;
}

/** The outputs the diagram is drawn from. */
export interface TopologyOutputs {
    readonly clusters?: unknown;
    readonly links?: unknown;
}

/** Mermaid label text: quotes and markup characters as entities, so a name can never break the diagram. */
function text(s: string): string {
    return s.replace(/[&"<>#]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A node ID that is never a Mermaid keyword: cluster names are DNS labels, so `_` cannot collide. */
const nodeId = (cluster: string) => `c_${cluster.replace(/-/g, "_")}`;

function clustersOf(outputs: TopologyOutputs): [string, ClusterOutput][] {
    const c = outputs.clusters;
    if (typeof c !== "object" || c === null || Array.isArray(c)) {
        throw new Error("the plan has no `clusters` output to draw the mesh from");
    }
    return Object.entries(c as Record<string, ClusterOutput>);
}

/** The Mermaid flowchart of a plan's mesh (no fences). */
export function mermaidTopology(outputs: TopologyOutputs): string {
    const clusters = clustersOf(outputs);
    const links = (outputs.links ?? {}) as Record<string, readonly string[]>;
    const lines = ["flowchart LR"];
    const node = (indent: string, name: string, c: ClusterOutput) => {
        const id = nodeId(name);
        lines.push(`${indent}${id}["${text(name)}<br/>${text(c.role)}"]`);
        if (c.eastWestAddress !== null) {
            const address =
                c.eastWestAddress === unknownMarker ? "address known after apply" : c.eastWestAddress;
            lines.push(`${indent}${id}_ew[/"east-west gateway<br/>${text(address)}"/]`);
            lines.push(`${indent}${id} --- ${id}_ew`);
        }
    };
    const networks = [...new Set(clusters.map(([, c]) => c.network))];
    networks.forEach((network, i) => {
        const members = clusters.filter(([, c]) => c.network === network);
        if (network === null) {
            for (const [name, c] of members) node("    ", name, c);
            return;
        }
        lines.push(`    subgraph n${i}["network ${text(network)}"]`);
        for (const [name, c] of members) node("        ", name, c);
        lines.push("    end");
    });
    for (const [name, c] of clusters) {
        if (c.role === "remote" && c.primary !== undefined) {
            lines.push(`    ${nodeId(name)} -->|control plane| ${nodeId(c.primary)}`);
        }
    }
    // Two primaries that read each other get one two-way edge, so a many-primary mesh stays legible.
    const reads = (a: string, b: string) => (links[a] ?? []).includes(b);
    for (const [reader, sources] of Object.entries(links)) {
        for (const source of sources) {
            if (!reads(source, reader)) lines.push(`    ${nodeId(reader)} -.->|reads| ${nodeId(source)}`);
            else if (reader < source)
                lines.push(`    ${nodeId(reader)} <-.->|read each other| ${nodeId(source)}`);
        }
    }
    return lines.join("\n") + "\n";
}

/** The diagram fenced for Markdown. */
export function mermaidBlock(outputs: TopologyOutputs): string {
    return "```mermaid\n" + mermaidTopology(outputs) + "```\n";
}
