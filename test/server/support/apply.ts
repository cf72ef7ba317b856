/**
 * Applies objects to a real API server the way the server tier needs: discovery for each object's resource
 * path, server-side dry-run first, then the real server-side apply; every refusal kept with the API server's
 * own message. CRDs are applied first and awaited until Established.
 */
import { Api, statusMessage, waitFor } from "../../../tools/clusters/api";
import { K8sObject } from "../../support/helm";
import { ServerObject } from "./objects";

/** The field manager the tier applies with. */
export const fieldManager = "istio-multicluster-server-tier";

interface ApiResource {
    name: string;
    kind: string;
    namespaced: boolean;
}

/** A refusal: which object, where, and what the API server said. */
export interface Refusal {
    readonly cluster: string;
    readonly source: string;
    readonly object: string;
    readonly phase: "dry-run" | "apply";
    readonly message: string;
}

/** What one apply round did. */
export interface ApplyResult {
    admitted: number;
    refused: Refusal[];
    /** Deployments applied and not yet seen Available (paths). */
    deployments: string[];
    /** Deployments that did not become Available within the provider's await, with why. */
    unavailable: string[];
}

/** How long the provider awaits a Deployment by default (@pulumi/kubernetes: 10 minutes); the tier is shorter. */
const awaitMs = 90_000;

type DeploymentStatus = {
    metadata: { generation?: number };
    status?: {
        observedGeneration?: number;
        conditions?: { type: string; status: string; message?: string }[];
    };
};

/** Waits until every Deployment applied so far is Available (or the await runs out, which is recorded). */
async function awaitDeployments(api: Api, result: ApplyResult): Promise<void> {
    const deadline = Date.now() + awaitMs;
    while (result.deployments.length > 0) {
        const left: string[] = [];
        for (const p of result.deployments) {
            const d = await api.get<DeploymentStatus>(p);
            const available =
                d?.status?.observedGeneration === d?.metadata.generation &&
                d?.status?.conditions?.some((c) => c.type === "Available" && c.status === "True");
            if (!available) left.push(p);
        }
        result.deployments = left;
        if (left.length === 0) return;
        if (Date.now() > deadline) {
            result.unavailable.push(
                ...left.map((p) => `${p} not Available within ${awaitMs / 1000}s of its apply`),
            );
            result.deployments = [];
            return;
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** Resource paths by apiVersion and kind, read from the API server's discovery. */
export class Discovery {
    private readonly cache = new Map<string, ApiResource[]>();

    constructor(private readonly api: Api) {}

    forget(apiVersion?: string): void {
        if (apiVersion) this.cache.delete(apiVersion);
        else this.cache.clear();
    }

    async resource(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
        let list = this.cache.get(apiVersion);
        if (!list) {
            const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
            const doc = await this.api.get<{ resources: ApiResource[] }>(base);
            list = (doc?.resources ?? []).filter((r) => !r.name.includes("/"));
            if (doc) this.cache.set(apiVersion, list);
        }
        return list.find((r) => r.kind === kind);
    }

    /** The object's path (for PATCH/GET/DELETE), or undefined when the server does not serve its kind. */
    async pathOf(o: K8sObject): Promise<string | undefined> {
        const r = await this.resource(o.apiVersion, o.kind);
        if (!r) return undefined;
        const base = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
        const ns = r.namespaced ? `/namespaces/${o.metadata.namespace ?? "default"}` : "";
        return `${base}${ns}/${r.name}/${o.metadata.name}`;
    }
}

/** `Kind namespace/name` for messages. */
export function describe(o: K8sObject): string {
    return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
}

/** Cluster-scoped metadata must not carry a namespace: what the provider and Helm send for them. */
async function normalise(d: Discovery, o: K8sObject): Promise<K8sObject> {
    const r = await d.resource(o.apiVersion, o.kind);
    if (r && !r.namespaced && o.metadata.namespace !== undefined) {
        // eslint-disable-next-line @typescript-eslint/no-unused-vars
        const { namespace, ...metadata } = o.metadata;
        return { ...o, metadata };
    }
    return o;
}

/** Applies the objects in order: a dry-run, then for real, each; refusals are collected, not thrown. */
export async function applyObjects(
    api: Api,
    d: Discovery,
    objects: readonly ServerObject[],
): Promise<ApplyResult> {
    const result: ApplyResult = { admitted: 0, refused: [], deployments: [], unavailable: [] };
    const crds = objects.filter((o) => o.object.kind === "CustomResourceDefinition");
    const rest = objects.filter((o) => o.object.kind !== "CustomResourceDefinition");
    await applyEach(api, d, crds, result);
    // Custom resources are served only once their CRD is Established.
    for (const c of crds) {
        await waitFor(`CRD ${c.object.metadata.name} Established`, 60_000, async () => {
            const crd = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
                `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.object.metadata.name}`,
            );
            return crd?.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")
                ? true
                : undefined;
        });
        const spec = c.object.spec as { group: string; versions: { name: string }[] };
        for (const v of spec.versions) d.forget(`${spec.group}/${v.name}`);
    }
    await applyEach(api, d, rest, result);
    return result;
}

async function applyEach(
    api: Api,
    d: Discovery,
    objects: readonly ServerObject[],
    result: ApplyResult,
): Promise<void> {
    for (const item of objects) {
        const refuse = (phase: Refusal["phase"], message: string) =>
            result.refused.push({
                cluster: item.cluster,
                source: item.source,
                object: describe(item.object),
                phase,
                message,
            });
        const o = await normalise(d, item.object);
        const path = await d.pathOf(o);
        if (!path) {
            refuse("dry-run", `the API server serves no ${o.kind} in ${o.apiVersion}`);
            continue;
        }
        const dry = await api.apply(path, o, fieldManager, true);
        if (dry.status < 200 || dry.status > 299) {
            refuse("dry-run", `HTTP ${dry.status}: ${statusMessage(dry.body)}`);
            continue;
        }
        const real = await api.apply(path, o, fieldManager, false);
        if (real.status < 200 || real.status > 299) {
            refuse("apply", `HTTP ${real.status}: ${statusMessage(real.body)}`);
            continue;
        }
        if (o.kind === "Deployment") result.deployments.push(path);
        // The provider awaits each resource (a Release: every Deployment it renders) before creating what
        // depends on it: so does the tier, at the last object of each resource.
        const next = objects[objects.indexOf(item) + 1];
        if (next?.source !== item.source && result.deployments.length > 0)
            await awaitDeployments(api, result);
        result.admitted++;
    }
}

/** The refusals as lines: object, cluster, the plan's resource, and the API server's message. */
export function renderRefusals(refused: readonly Refusal[]): string {
    return refused
        .map((r) => `  ${r.cluster}: ${r.object} (from ${r.source}), ${r.phase} refused: ${r.message}`)
        .join("\n");
}
