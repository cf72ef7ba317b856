/**
 * What to build, derived from the topology: a pure function, so every topology rule is cheap to test.
 */
import { ClusterSpec, CoreTopology, isMultiNetwork } from "./core";

/** What one cluster gets. */
export interface ClusterPlan {
    readonly cluster: ClusterSpec;
    /** For a primary: the remotes its control plane serves (empty for a remote). */
    readonly remotes: readonly string[];
    /** Whether the cluster runs an east-west gateway. */
    readonly eastWestGateway: boolean;
    /** Whether the gateway exposes the cluster's services to other networks (cross-network Gateway). */
    readonly exposeServices: boolean;
    /** Whether the gateway exposes istiod to remotes (istiod Gateway and VirtualService). */
    readonly exposeIstiod: boolean;
}

/** One remote secret: `reader`'s istiod watches `source`'s API server. */
export interface Link {
    readonly reader: string;
    readonly source: string;
}

/** The whole mesh. */
export interface MeshPlan {
    readonly multiNetwork: boolean;
    readonly clusters: readonly ClusterPlan[];
    /** Every primary reads every other cluster of the mesh, primaries and remotes alike. */
    readonly links: readonly Link[];
}

/**
 * Derives the mesh plan.
 * - A primary that serves remotes exposes istiod through its east-west gateway (15012, 15017).
 * - In a multi-network mesh every cluster runs an east-west gateway, and each primary exposes services
 *   through it (15443, AUTO_PASSTHROUGH); in a single-network mesh pods reach each other directly, so only
 *   primaries that serve remotes need one.
 */
export function composeMesh(topology: CoreTopology): MeshPlan {
    const multiNetwork = isMultiNetwork(topology);
    const primaries = topology.clusters.filter((c) => c.role === "primary");
    const clusters = topology.clusters.map((cluster): ClusterPlan => {
        const remotes =
            cluster.role === "primary"
                ? topology.clusters.filter((c) => c.primary === cluster.name).map((c) => c.name)
                : [];
        const exposeIstiod = remotes.length > 0;
        const exposeServices = multiNetwork && cluster.role === "primary";
        return {
            cluster,
            remotes,
            eastWestGateway: multiNetwork || exposeIstiod,
            exposeServices,
            exposeIstiod,
        };
    });
    const links = primaries.flatMap((reader) =>
        topology.clusters
            .filter((c) => c.name !== reader.name)
            .map((source) => ({ reader: reader.name, source: source.name })),
    );
    return { multiNetwork, clusters, links };
}

/** The link matrix as a stack output: per reading primary, the clusters it reads. */
export function linkMatrix(plan: MeshPlan): Record<string, string[]> {
    // A Map, not a plain object: a cluster may be named like an Object member (`constructor`).
    const matrix = new Map<string, string[]>();
    for (const { reader, source } of plan.links) {
        const sources = matrix.get(reader) ?? [];
        sources.push(source);
        matrix.set(reader, sources);
    }
    return Object.fromEntries(matrix);
}
