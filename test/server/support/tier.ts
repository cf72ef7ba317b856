/**
 * One topology through the server tier: local clusters named as its clusters, its objects applied twice as
 * `pulumi up` would produce them (first with what the clusters report before anything exists, then with the
 * reader tokens and load-balancer addresses they really reported), every refusal kept, then every
 * Deployment awaited until Available, which needs the injection webhooks answered by the real istiod.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Api, waitFor } from "../../../tools/clusters/api";
import { MeshState } from "../../../tools/clusters/state";
import { Plan, plan, StackConfig } from "../../../tools/planner";
import { TopologyCase } from "../../support/topologyCases";
import { applyObjects, Discovery, Refusal } from "./apply";
import { clients } from "./clusters";
import { fixedHostnames, liveOutputs, localConfig, pointFixedHostnames, readLive } from "./localMesh";
import { ChartSources, serverObjects } from "./objects";

/** The charts of one Istio version. */
export interface VersionUnderTest {
    readonly version: string;
    readonly charts: ChartSources;
}

/** The Istio versions whose charts are beside the repository (`../shared/reference/istio-<v>`). */
export function versionsUnderTest(referenceRoot: string, kubeVersion: string): VersionUnderTest[] {
    const only = process.env.SERVER_TIER_ISTIO;
    const found = fs.existsSync(referenceRoot)
        ? fs
              .readdirSync(referenceRoot)
              .map((d) => /^istio-(\d+\.\d+\.\d+)$/.exec(d)?.[1])
              .filter((v): v is string => v !== undefined)
        : [];
    const versions = found
        .filter((v) => !only || only.split(",").includes(v))
        .sort()
        .reverse();
    if (versions.length === 0) {
        throw new Error(
            `no Istio charts under ${referenceRoot}${only ? ` for SERVER_TIER_ISTIO=${only}` : ""}: the server tier ` +
                `renders every release with the real charts (../shared/reference/istio-<version>/charts)`,
        );
    }
    return versions.map((version) => ({
        version,
        charts: { istioCharts: path.join(referenceRoot, `istio-${version}`, "charts"), kubeVersion },
    }));
}

/** What one topology did. */
export interface TierResult {
    readonly label: string;
    readonly version: string;
    readonly clusters: number;
    readonly admitted: number;
    readonly refused: Refusal[];
    readonly deployments: number;
    /** Pods whose istio-proxy the real istiod injected. */
    readonly injected: number;
    readonly unavailable: string[];
    readonly millis: number;
    /** The plan of the second round, with live values. */
    readonly plan: Plan;
}

/** Cluster names of a stack config. */
export function clusterNames(config: StackConfig): string[] {
    return (JSON.parse(config.values["istio-multicluster:clusters"]!) as { name: string }[]).map(
        (c) => c.name,
    );
}

async function applyPlan(
    p: Plan,
    v: VersionUnderTest,
    apis: Map<string, Api>,
    discovery: Map<string, Discovery>,
) {
    const objects = await serverObjects(p, v.charts);
    const results = await Promise.all(
        [...objects].map(([cluster, objs]) => {
            const api = apis.get(cluster);
            if (!api) throw new Error(`the plan has objects for ${cluster}, which is not a local cluster`);
            return applyObjects(api, discovery.get(cluster)!, objs);
        }),
    );
    return {
        admitted: results.reduce((n, r) => n + r.admitted, 0),
        refused: results.flatMap((r) => r.refused),
    };
}

/** The source clusters that the plan links (their reader token Secret must be filled before round two). */
function linkedSources(p: Plan): string[] {
    return p.resources
        .filter((r) => r.type === "kubernetes:core/v1:Secret" && r.name.endsWith("-reader-token"))
        .map((r) => r.cluster!);
}

/** Clusters whose east-west gateway Service the program reads back (its address feeds the remotes). */
function gatewayReads(p: Plan): string[] {
    return p.resources
        .filter(
            (r) =>
                r.type === "kubernetes:core/v1:Service" &&
                r.readId !== undefined &&
                r.name.endsWith("-eastwestgateway-service"),
        )
        .map((r) => r.name.replace(/-eastwestgateway-service$/, ""));
}

/** Deployments not Available, with the reason the cluster gives (the ReplicaSet's last failure). */
async function unavailableDeployments(
    apis: Map<string, Api>,
): Promise<{ total: number; injected: number; unavailable: string[] }> {
    let total = 0;
    let injected = 0;
    const unavailable: string[] = [];
    for (const [cluster, api] of apis) {
        type Deployment = {
            metadata: { name: string; namespace: string };
            status?: { conditions?: { type: string; status: string; message?: string }[] };
        };
        const ds = await api.list<Deployment>("/apis/apps/v1/deployments");
        // A gateway Pod's proxy image is `auto` until the injection webhook fills it in: one still `auto`
        // was admitted without istiod's answer (a webhook that failed open), which is not injection.
        type Pod = {
            metadata: { name: string; namespace: string };
            spec: { containers: { name: string; image: string }[] };
        };
        for (const pod of await api.list<Pod>("/api/v1/pods")) {
            const proxy = pod.spec.containers.find((x) => x.name === "istio-proxy");
            if (proxy?.image === "auto")
                unavailable.push(
                    `${cluster}: Pod ${pod.metadata.namespace}/${pod.metadata.name} was not injected`,
                );
            if (proxy && proxy.image !== "auto") injected++;
        }
        for (const d of ds.filter((x) => x.metadata.namespace !== "kube-system")) {
            total++;
            const available = d.status?.conditions?.some(
                (c) => c.type === "Available" && c.status === "True",
            );
            if (available) continue;
            const events = await api.list<{
                reason?: string;
                message?: string;
                involvedObject?: { kind?: string; name?: string };
            }>(`/api/v1/namespaces/${d.metadata.namespace}/events`);
            const why = events
                .filter(
                    (e) =>
                        e.involvedObject?.kind === "ReplicaSet" &&
                        e.involvedObject.name?.startsWith(`${d.metadata.name}-`) &&
                        e.reason === "FailedCreate",
                )
                .map((e) => e.message ?? "")
                .pop();
            unavailable.push(
                `${cluster}: Deployment ${d.metadata.namespace}/${d.metadata.name}${why ? `: ${why.slice(0, 400)}` : ""}`,
            );
        }
    }
    return { total, injected, unavailable };
}

/** Runs one topology on `state` (clusters already up, named as the topology's). */
export async function runTopology(
    c: TopologyCase,
    base: StackConfig,
    state: MeshState,
    v: VersionUnderTest,
    deploymentWaitMs: number,
): Promise<TierResult> {
    const started = Date.now();
    const apis = clients(state);
    const discovery = new Map([...apis].map(([n, a]) => [n, new Discovery(a)]));
    try {
        const config = localConfig(base, state, v.version);
        const first = await plan(config, {
            preview: false,
            applyOutputs: liveOutputs(await readLive(state), c.lb),
        });
        const round1 = await applyPlan(first, v, apis, discovery);
        // What the program reads back after creating: filled tokens, reported addresses.
        const sources = linkedSources(first);
        const gateways = [...new Set([...gatewayReads(first), ...fixedHostnames(config).keys()])];
        const live = await waitFor("reader tokens and east-west addresses", 60_000, async () => {
            const l = await readLive(state);
            return sources.every((s) => l.tokens.has(s)) && gateways.every((g) => l.gateways.has(g))
                ? l
                : undefined;
        });
        await pointFixedHostnames(state, fixedHostnames(config), live);
        const second = await plan(config, { preview: false, applyOutputs: liveOutputs(live, c.lb) });
        const round2 = await applyPlan(second, v, apis, discovery);
        let waited = { total: 0, injected: 0, unavailable: [] as string[] };
        const deadline = Date.now() + deploymentWaitMs;
        for (;;) {
            waited = await unavailableDeployments(apis);
            if (waited.unavailable.length === 0 || Date.now() > deadline) break;
            await new Promise((r) => setTimeout(r, 1000));
        }
        return {
            label: c.label,
            version: v.version,
            clusters: state.clusters.length,
            admitted: round1.admitted + round2.admitted,
            refused: [...round1.refused, ...round2.refused],
            deployments: waited.total,
            injected: waited.injected,
            unavailable: waited.unavailable,
            millis: Date.now() - started,
            plan: second,
        };
    } finally {
        for (const a of apis.values()) a.close();
    }
}
