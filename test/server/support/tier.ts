/**
 * One topology through the server tier: local clusters named as its clusters, its objects applied twice as
 * `pulumi up` would produce them (first with what the clusters report before anything exists, then with the
 * reader tokens and load-balancer addresses they really reported), every refusal kept, then every
 * Deployment awaited until Available, which needs the injection webhooks answered by the real istiod.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Api, sleep, waitFor } from "../../../tools/clusters/api";
import { MeshState } from "../../../tools/clusters/state";
import { Plan, plainInputs, plan, PlannedResource, StackConfig } from "../../../tools/planner";
import { TopologyCase } from "../../support/topologyCases";
import { applyObjects, Discovery, Refusal } from "./apply";
import { clients } from "./clusters";
import { LiveOutputs, liveOutputs, localConfig, readLive } from "./localMesh";
import { dependents } from "../../../tools/graph";
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
    /** Plan-and-apply rounds it took, as `pulumi up` reads values back. */
    readonly rounds: number;
    readonly refused: Refusal[];
    readonly deployments: number;
    /** Pods whose istio-proxy the real istiod injected. */
    readonly injected: number;
    readonly unavailable: string[];
    readonly millis: number;
    /** Whether the plan installs a gateway (whose Pods the real istiod must inject). */
    readonly gateways: boolean;
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
    skip?: ReadonlySet<string>,
) {
    const objects = await serverObjects(p, v.charts, skip);
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
        unavailable: results.flatMap((r) => r.unavailable),
    };
}

/** A resource whose outputs the program reads back after apply: a reader token, a gateway's Service. */
function readsBack(r: PlannedResource): boolean {
    return (
        (r.type === "kubernetes:core/v1:Secret" && r.name.endsWith("-reader-token")) ||
        (r.type === "kubernetes:core/v1:Service" &&
            r.readId !== undefined &&
            r.name.endsWith("-eastwestgateway-service"))
    );
}

const names = (rs: readonly PlannedResource[]) => rs.map((r) => r.name).join(", ");

/** Whether the live clusters already report what a read-back resource gives the program. */
function isLive(r: PlannedResource, live: LiveOutputs): boolean {
    if (r.type === "kubernetes:core/v1:Secret") return live.tokens.has(r.cluster!);
    return live.gateways.has(r.name.replace(/-eastwestgateway-service$/, ""));
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
        // As `pulumi up` does: create what can be created, read back what the program waits for (a reader
        // token filled by the token controller, a gateway's reported address), plan again with those, create
        // what they unblocked. A resource waiting on a value not read back yet is not applied with a played
        // one (a webhook at a wrong address makes the ReplicaSet back off, a wrong token is used for real).
        let live = await readLive(state);
        // One update's keys and certificates: made once, kept across rounds, as the tls provider keeps them.
        const pki = new Map<string, Record<string, unknown>>();
        /** Per resource, the inputs it was last applied with. */
        const applied = new Map<string, string>();
        const rounds: Awaited<ReturnType<typeof applyPlan>>[] = [];
        let last: Plan | undefined;
        for (let round = 1; ; round++) {
            last = await plan(config, { preview: false, applyOutputs: liveOutputs(live, c.lb, pki) });
            const known = live;
            const pending = last.resources.filter((r) => readsBack(r) && !isLive(r, known));
            const skip = dependents(last.resources, new Set(pending.map((r) => r.urn)));
            // As the engine: a resource already created with the same inputs is not touched again (a
            // Release re-applied would take back fields its workloads own, such as the caBundle istiod
            // patches into its webhooks).
            for (const r of last.resources) {
                if (applied.get(r.urn) === JSON.stringify(r.rawInputs)) skip.add(r.urn);
            }
            rounds.push(await applyPlan(last, v, apis, discovery, skip));
            for (const r of last.resources)
                if (!skip.has(r.urn)) applied.set(r.urn, JSON.stringify(r.rawInputs));
            if (pending.length === 0) break;
            // Wait for what this round created to be read back: a value whose own resource waits on another
            // one comes in a later round. (Reads record no dependencies, so "some of them" is the test.)
            if (round >= 10) throw new Error(`still waiting after ${round} rounds for ${names(pending)}`);
            const before = live;
            live = await waitFor(`round ${round}: any of ${names(pending)}`, 60_000, async () => {
                const l = await readLive(state);
                const arrived = pending.filter((r) => isLive(r, l) && !isLive(r, before));
                // Give the rest of this round's values a moment to arrive too: fewer rounds.
                if (arrived.length > 0 && arrived.length < pending.length) await sleep(1000);
                return arrived.length > 0 ? readLive(state) : undefined;
            });
        }
        const second = last;
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
            admitted: rounds.reduce((n, r) => n + r.admitted, 0),
            refused: rounds.flatMap((r) => r.refused),
            rounds: rounds.length,
            deployments: waited.total,
            injected: waited.injected,
            unavailable: [...rounds.flatMap((r) => r.unavailable), ...waited.unavailable],
            millis: Date.now() - started,
            plan: second,
            gateways: second.resources.some(
                (r) => r.type === "kubernetes:helm.sh/v3:Release" && plainInputs(r).chart === "gateway",
            ),
        };
    } finally {
        for (const a of apis.values()) a.close();
    }
}
