/**
 * Stack configurations for tests: a `StackConfig` built the way the CLI builds one from `Pulumi.<stack>.yaml`
 * (so `{ secure: ... }` values are opaque secrets), the raw form `validateTopology` takes, and a few canonical
 * topologies. Every helper returns a fresh object: tests may mutate what they get.
 */
import { labelledCert } from "./testPki";
import { stackConfigFromDocument, StackConfig } from "../../tools/planner";
import { RawConfig } from "../../stacks/validate";

/** One entry of `istio-multicluster:clusters`, as written in a stack file. */
export type ClusterDoc = Record<string, unknown>;
/** The value of `istio-multicluster:mesh`, as written in a stack file. */
export type MeshDoc = Record<string, unknown>;

/** Options of `stackConfig`. */
export interface StackConfigOptions {
    /** The stack name; default `test`. */
    readonly stack?: string;
    /** More config keys of the stack document (e.g. `kubernetes:...`), written as in the YAML. */
    readonly extra?: Readonly<Record<string, unknown>>;
}

/** A stack config from the two config values, as `stackConfigFromDocument` reads a stack file. */
export function stackConfig(mesh: unknown, clusters: unknown, opts: StackConfigOptions = {}): StackConfig {
    const config: Record<string, unknown> = { ...opts.extra };
    if (mesh !== undefined) config["istio-multicluster:mesh"] = mesh;
    if (clusters !== undefined) config["istio-multicluster:clusters"] = clusters;
    return stackConfigFromDocument(opts.stack ?? "test", { config }, "test");
}

/** The input of `validateTopology`; neither key is secret unless said. */
export function rawConfig(
    mesh: unknown,
    clusters: unknown,
    secret: { mesh?: boolean; clusters?: boolean } = {},
): RawConfig {
    return { mesh, clusters, secret: { mesh: secret.mesh ?? false, clusters: secret.clusters ?? false } };
}

/** The smallest valid mesh settings (`meshId: mesh1`, Istio 1.30.3), with `extra` merged in at the top. */
export function mesh(extra: MeshDoc = {}): MeshDoc {
    return { meshId: "mesh1", istio: { version: "1.30.3" }, ...extra };
}

/** A primary reached through the context `ctx-<name>`, with an https API server address. */
export function primary(name: string, network?: string, extra: ClusterDoc = {}): ClusterDoc {
    return {
        name,
        role: "primary",
        ...(network !== undefined ? { network } : {}),
        context: `ctx-${name}`,
        apiServer: `https://${name}.example.com:6443`,
        ...extra,
    };
}

/** A remote served by the primary `of`. */
export function remote(name: string, of: string, network?: string, extra: ClusterDoc = {}): ClusterDoc {
    return { ...primary(name, network), role: "remote", primary: of, ...extra };
}

/** A topology as the two config values. */
export interface TopologyDoc {
    readonly mesh: MeshDoc;
    readonly clusters: ClusterDoc[];
}

/** The canonical topologies of Istio's multicluster guides, each a fresh object. */
export const topologies = {
    /** cluster1 primary on network1; cluster2 its remote on network2. */
    primaryRemoteMultiNetwork: (): TopologyDoc => ({
        mesh: mesh(),
        clusters: [primary("cluster1", "network1"), remote("cluster2", "cluster1", "network2")],
    }),
    /** cluster1 and cluster2, both primaries, on network1 and network2. */
    multiPrimaryMultiNetwork: (): TopologyDoc => ({
        mesh: mesh(),
        clusters: [primary("cluster1", "network1"), primary("cluster2", "network2")],
    }),
    /** cluster1 primary and cluster2 its remote, one network (no network named). */
    primaryRemoteSingleNetwork: (): TopologyDoc => ({
        mesh: mesh(),
        clusters: [primary("cluster1"), remote("cluster2", "cluster1")],
    }),
    /** Three primaries on three networks, and a remote of cluster1 on cluster1's network. */
    threePrimariesAndRemote: (): TopologyDoc => ({
        mesh: mesh(),
        clusters: [
            primary("cluster1", "network1"),
            primary("cluster2", "network2"),
            primary("cluster3", "network3"),
            remote("cluster4", "cluster1", "network1"),
        ],
    }),
} as const;

/** The name of a canonical topology. */
export type TopologyName = keyof typeof topologies;

/** The stack config of a canonical topology. */
export function topologyConfig(name: TopologyName, opts: StackConfigOptions = {}): StackConfig {
    const t = topologies[name]();
    return stackConfig(t.mesh, t.clusters, opts);
}

/**
 * A real certificate standing for `label` (see `labelledCert`): "ROOT" is a root, anything else an
 * intermediate issued by `issuer` (default "ROOT"), so that external-CA configs pass the validator's chain check.
 */
export function fakeCertPem(label: string, issuer?: string): string {
    return labelledCert(label, issuer);
}
