/**
 * Builds policy arguments the way the engine and @pulumi/policy's analyzer server do (props wrapped in
 * `unknownCheckingProxy`, secrets already plain, unknowns as the wire sentinel), and runs one policy,
 * returning the messages it reported. Unknown values are written `unknown` in fixtures.
 */
import {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy/policy";
import { unknownCheckingProxy, UnknownValueError } from "../../policies/lib";
import { optionsOf, policyResources } from "../../tools/policyRunner";
import { PlannedResource } from "../../tools/planner";

/** The wire protocol's unknown string: what a preview sends for a value known only after apply. */
export const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A resource as a test describes it. */
export interface FakeResource {
    readonly type: string;
    readonly name: string;
    readonly props?: Record<string, unknown>;
    /** The cluster: the name of the resource's Kubernetes provider. */
    readonly cluster?: string;
    readonly protect?: boolean;
    /** Names of the resources it depends on. */
    readonly dependsOn?: readonly string[];
    /** Per property, names of the resources it came from. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    readonly parent?: string;
}

const urnOf = (r: { type: string; name: string }) =>
    `urn:pulumi:test::istio-multicluster::${r.type}::${r.name}`;

function providerOf(cluster: string | undefined): ResourceValidationArgs["provider"] {
    if (cluster === undefined) return undefined;
    const type = "pulumi:providers:kubernetes";
    return { type, name: cluster, urn: urnOf({ type, name: cluster }), props: unknownCheckingProxy({}) };
}

/**
 * A fixture as the planner records a resource, so that the runner's own code turns it into policy
 * arguments: what a test checks is then what `npm run plan` evaluates.
 */
function planned(r: FakeResource, urnOfName: (name: string) => string = (n) => n): PlannedResource {
    const toUrns = (names: readonly string[] | undefined) => (names ?? []).map(urnOfName);
    return {
        urn: urnOf(r),
        type: r.type,
        name: r.name,
        parent: r.parent ? urnOfName(r.parent) : null,
        cluster: r.cluster ?? null,
        provider: null,
        dependsOn: toUrns(r.dependsOn),
        propertyDependencies: Object.fromEntries(
            Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [k, toUrns(v)]),
        ),
        protect: r.protect ?? false,
        custom: true,
        rawInputs: structuredClone(r.props ?? {}),
    };
}

/** What a policy run reported: messages, and whether it could not run (an unknown value read). */
export interface Outcome {
    readonly messages: string[];
    /** URNs the stack policy named, parallel to `messages`. */
    readonly urns: (string | undefined)[];
    readonly couldNotRun: boolean;
}

async function capture(
    f: (report: (m: string, urn?: string) => void) => Promise<void> | void,
): Promise<Outcome> {
    const messages: string[] = [];
    const urns: (string | undefined)[] = [];
    try {
        await f((m, urn) => {
            messages.push(m);
            urns.push(urn);
        });
    } catch (e) {
        if (e instanceof UnknownValueError) return { messages, urns, couldNotRun: true };
        throw e;
    }
    return { messages, urns, couldNotRun: false };
}

/** Runs a resource policy on one resource, with `config` as its policy config entry. */
export async function runResource(
    policy: ResourceValidationPolicy,
    r: FakeResource,
    config: Record<string, unknown> = {},
): Promise<Outcome> {
    const provider = providerOf(r.cluster);
    const args: ResourceValidationArgs = {
        type: r.type,
        name: r.name,
        urn: urnOf(r),
        props: unknownCheckingProxy(structuredClone(r.props ?? {})),
        opts: optionsOf(planned(r)),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable: () => {
            throw new Error("not applicable");
        },
        ...(provider ? { provider } : {}),
    };
    const validations = [policy.validateResource!].flat();
    return capture(async (report) => {
        for (const v of validations) await v(args, report);
    });
}

/** Runs a stack policy on resources, with `config` as its policy config entry. */
export async function runStack(
    policy: StackValidationPolicy,
    rs: readonly FakeResource[],
    config: Record<string, unknown> = {},
): Promise<Outcome> {
    const byName = new Map(rs.map((r) => [r.name, r]));
    const urnOfName = (n: string) => {
        const r = byName.get(n);
        if (!r) throw new Error(`fixture: no resource named ${n}`);
        return urnOf(r);
    };
    const clusterOf = new Map(rs.map((r) => [urnOf(r), r.cluster]));
    const made: PolicyResource[] = policyResources(
        rs.map((r) => planned(r, urnOfName)),
        (p) => providerOf(clusterOf.get(p.urn)),
    );
    const args: StackValidationArgs = {
        resources: made,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable: () => {
            throw new Error("not applicable");
        },
    };
    return capture((report) => policy.validateStack(args, report));
}

/** The URN the harness gives a fixture resource. */
export const urn = urnOf;

/** Fixtures: the resources the program makes, in their compliant form. */
export const release = "kubernetes:helm.sh/v3:Release";

/** An Istio chart as a Helm release in `cluster`. */
export function chart(
    cluster: string,
    chartName: "base" | "istiod" | "gateway",
    values: Record<string, unknown>,
    extra: Partial<FakeResource> = {},
): FakeResource {
    const name = `${cluster}-${chartName === "gateway" ? "eastwestgateway" : chartName}`;
    return {
        type: release,
        name,
        cluster,
        props: { chart: chartName, version: "1.30.3", name: chartName, namespace: "istio-system", values },
        ...extra,
    };
}

/** A compliant primary istiod's values. */
export function istiodValues(
    cluster: string,
    network = `${cluster}-net`,
    extra: Record<string, unknown> = {},
) {
    return {
        revision: "1-30-3",
        autoscaleEnabled: true,
        autoscaleMin: 2,
        autoscaleMax: 5,
        resources: { requests: { cpu: "500m", memory: "2Gi" } },
        pdb: { maxUnavailable: 1 },
        global: {
            meshID: "mesh1",
            multiCluster: { clusterName: cluster },
            network,
            defaultPodDisruptionBudget: { enabled: true },
        },
        meshConfig: { trustDomain: "example.com" },
        ...extra,
    };
}

/** A compliant east-west gateway's values. */
export function gatewayValues(network: string, extra: Record<string, unknown> = {}) {
    return {
        name: "istio-eastwestgateway",
        revision: "1-30-3",
        networkGateway: network,
        labels: { istio: "eastwestgateway" },
        service: { type: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/8"] },
        autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 5 },
        podDisruptionBudget: { maxUnavailable: 1 },
        resources: { requests: { cpu: "500m", memory: "512Mi" } },
        ...extra,
    };
}

/** A Secret in `cluster`. */
export function secret(
    cluster: string,
    name: string,
    props: Record<string, unknown>,
    extra: Partial<FakeResource> = {},
): FakeResource {
    return { type: "kubernetes:core/v1:Secret", name, cluster, props, ...extra };
}
