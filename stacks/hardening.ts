/**
 * Production hardening of `istio-system`, as typed config compiled to exact objects and chart values:
 * NetworkPolicies for istiod and the east-west gateway, a ResourceQuota and LimitRange derived from what the
 * mesh's own workloads request at their peak, a PriorityClass, and topology spread for istiod and the gateways.
 *
 * Pure: the reader of `istio-multicluster:hardening` (one call from stacks/validate/), the need computation
 * and the objects are functions of the topology, so the exact objects are cheap to test; the component
 * (components/hardening.ts) only creates them in the right cluster.
 */
import { excerpt, parseCidr, parseQuantity, quantityText } from "./checks";
import type * as k8s from "@pulumi/kubernetes";
import type { GatewayValues } from "./chartValues/gateway";
import type { IstiodValues } from "./chartValues/istiod";
import { composeMesh } from "./mesh";
import { controlPlaneRevisions } from "./revisions";
import { istioNamespace, managedByLabel } from "./names";
import { ClusterSpec, projectName, ResourceSettings, WorkloadSettings } from "./core";
import type { CoreTopology } from "./core";
import type { IngressSettings } from "./traffic";
import { eastWestSelector, releaseNames } from "./values";

/** The config key this module reads. */
export const hardeningKey = `${projectName}:hardening`;

/**
 * How much hardening a stack gets.
 * - `full` (the default, and what prod must run): NetworkPolicies, ResourceQuota and LimitRange, PriorityClass,
 *   spread across zones (preferred) and nodes (required).
 * - `light` (dev): NetworkPolicies and preferred spread only; no quota, no priority class.
 * - `off`: nothing; only when written out, never by omission.
 */
export type HardeningMode = "full" | "light" | "off";

/** The validated `istio-multicluster:hardening`. */
export interface HardeningSettings {
    readonly mode: HardeningMode;
    /** Percent added on top of the derived need; default 25. */
    readonly headroomPercent: number;
    /** Floors for the quota (raise only): a value below the need is refused. */
    readonly quota?: { readonly cpu?: string; readonly memory?: string; readonly pods?: number };
    /** HPA CPU target (percent) of istiod and the gateways; default the charts' 80. */
    readonly hpaCpuTarget?: number;
    /** Where the API server calls istiod's webhook (15017) from; default anywhere (its address is not known). */
    readonly apiServerRanges?: readonly string[];
}

/** What an absent `istio-multicluster:hardening` means: everything on. */
export const defaultHardening: HardeningSettings = { mode: "full", headroomPercent: 25 };

/** The PriorityClass of istiod and the gateways (cluster-scoped: one per cluster). */
export const priorityClassName = "istio-mesh-critical";
/** Its value: above any workload's default (0), far below the system classes (2000000000). */
export const priorityClassValue = 1000000;

/**
 * Chart defaults the need falls back to, field by field (Helm merges a user's `resources` over them): istiod
 * `resources.requests` 500m/2048Mi, `autoscaleMax` 5 with autoscaling on, `rollingMaxSurge` 100%; gateway
 * `resources.requests` 100m/128Mi, `autoscaling.maxReplicas` 5 with autoscaling on, and no `strategy`, so the
 * Deployment's own maxSurge of 25%. Read from the charts' values.yaml; test/conformance/hardening.test.ts
 * checks them against the reference charts.
 */
export const chartDefaults = {
    istiod: { cpu: "500m", memory: "2048Mi", maxReplicas: 5, surgePercent: 100 },
    gateway: { cpu: "100m", memory: "128Mi", maxReplicas: 5, surgePercent: 25 },
} as const;

/** The LimitRange's default requests for a container that states none (so the quota can admit it). */
export const limitRangeDefaults = { cpu: "100m", memory: "128Mi" } as const;

// ---------------------------------------------------------------------------------------------------------
// Reading the config
// ---------------------------------------------------------------------------------------------------------

/** CPU in millicores, by Kubernetes' quantity grammar (`500m`, `2`, `1.5`, `2e0`); undefined when not one. */
export function milliCpu(q: string): number | undefined {
    const v = parseQuantity(q);
    return v === undefined || v < 0 ? undefined : Math.ceil(v * 1000);
}

/** Memory in bytes, by Kubernetes' quantity grammar (`128Mi`, `1G`, `129e6`, `1Pi`); undefined when not one. */
export function bytesOf(q: string): number | undefined {
    const v = parseQuantity(q);
    return v === undefined || v < 0 ? undefined : Math.ceil(v);
}

const mib = 2 ** 20;

/**
 * Validates `istio-multicluster:hardening`. With the rest of the topology (undefined while it is refused), it
 * also checks configured quota floors against what each cluster's components need at their peak.
 */
export function validateHardening(
    raw: unknown,
    topology: HardeningInput | undefined,
): { settings?: HardeningSettings; errors: string[] } {
    const errors: string[] = [];
    const path = hardeningKey;
    if (raw === undefined || raw === null) return checkNeed(defaultHardening, topology, errors);
    if (typeof raw !== "object" || Array.isArray(raw)) {
        return { errors: [`${path}: must be a map such as \`{ mode: full }\`, got ${excerpt(raw)}`] };
    }
    const o = raw as Record<string, unknown>;
    const allowed = ["mode", "headroomPercent", "quota", "hpaCpuTarget", "apiServerRanges"];
    for (const k of Object.keys(o)) {
        if (!allowed.includes(k))
            errors.push(`${path}.${k}: unknown key; allowed keys are: ${allowed.join(", ")}`);
    }
    const modes: readonly HardeningMode[] = ["full", "light", "off"];
    const mode = o.mode ?? "full";
    if (typeof mode !== "string" || !(modes as readonly string[]).includes(mode)) {
        errors.push(`${path}.mode: ${excerpt(mode)} is not one of: ${modes.join(", ")}`);
    }
    const headroom = o.headroomPercent ?? defaultHardening.headroomPercent;
    if (typeof headroom !== "number" || !Number.isInteger(headroom) || headroom < 0 || headroom > 1000) {
        errors.push(
            `${path}.headroomPercent: must be a whole number from 0 to 1000, got ${excerpt(headroom)}`,
        );
    }
    let quota: HardeningSettings["quota"];
    if (o.quota !== undefined) {
        const q = o.quota;
        if (typeof q !== "object" || q === null || Array.isArray(q)) {
            errors.push(
                `${path}.quota: must be a map with \`cpu\`, \`memory\` or \`pods\`, got ${excerpt(q)}`,
            );
        } else {
            const qo = q as Record<string, unknown>;
            for (const k of Object.keys(qo)) {
                if (!["cpu", "memory", "pods"].includes(k))
                    errors.push(`${path}.quota.${k}: unknown key; allowed keys are: cpu, memory, pods`);
            }
            // `cpu: 16` is a YAML number, and the quantity 16 to Kubernetes: read as its text.
            const cpu = quantityText(qo.cpu);
            const memory = quantityText(qo.memory);
            if (qo.cpu !== undefined && (cpu === undefined || !(milliCpu(cpu)! > 0)))
                errors.push(
                    `${path}.quota.cpu: ${excerpt(qo.cpu)} is not a CPU quantity above 0 such as 8 or 4500m`,
                );
            if (qo.memory !== undefined && (memory === undefined || !(bytesOf(memory)! > 0)))
                errors.push(
                    `${path}.quota.memory: ${excerpt(qo.memory)} is not a memory quantity above 0 such as 32Gi`,
                );
            if (
                qo.pods !== undefined &&
                (typeof qo.pods !== "number" ||
                    !Number.isInteger(qo.pods) ||
                    qo.pods < 1 ||
                    qo.pods > 2147483647)
            )
                errors.push(
                    `${path}.quota.pods: must be a whole number from 1 to 2147483647, got ${excerpt(qo.pods)}`,
                );
            quota = {
                ...qo,
                ...(cpu !== undefined ? { cpu } : {}),
                ...(memory !== undefined ? { memory } : {}),
            };
        }
    }
    if (
        quota !== undefined &&
        mode !== "full" &&
        typeof mode === "string" &&
        modes.includes(mode as HardeningMode)
    ) {
        errors.push(
            `${path}.quota: only \`mode: full\` creates a quota; remove \`quota\` or set \`mode: full\``,
        );
    }
    const target = o.hpaCpuTarget;
    if (
        target !== undefined &&
        (typeof target !== "number" || !Number.isInteger(target) || target < 1 || target > 100)
    ) {
        errors.push(`${path}.hpaCpuTarget: must be a whole percentage from 1 to 100, got ${excerpt(target)}`);
    }
    const ranges = o.apiServerRanges;
    if (ranges !== undefined) {
        if (!Array.isArray(ranges) || ranges.length === 0) {
            errors.push(`${path}.apiServerRanges: must be a non-empty list of CIDRs, got ${excerpt(ranges)}`);
        } else {
            ranges.forEach((c, i) => {
                if (typeof c !== "string" || parseCidr(c) === undefined)
                    errors.push(
                        `${path}.apiServerRanges[${i}]: ${excerpt(c)} is not a CIDR such as 10.0.0.0/8`,
                    );
            });
        }
    }
    if (errors.length > 0) return { errors };
    const settings: HardeningSettings = {
        mode: mode as HardeningMode,
        headroomPercent: headroom as number,
        ...(quota ? { quota } : {}),
        ...(target !== undefined ? { hpaCpuTarget: target as number } : {}),
        ...(ranges !== undefined ? { apiServerRanges: ranges as string[] } : {}),
    };
    return checkNeed(settings, topology, errors);
}

function checkNeed(
    settings: HardeningSettings,
    topology: HardeningInput | undefined,
    errors: string[],
): { settings?: HardeningSettings; errors: string[] } {
    if (!topology) return { settings, errors };
    if (settings.quota && settings.mode === "full") {
        const floor = quotaFloor(settings);
        for (const cluster of topology.clusters) {
            const need = clusterNeed(topology, cluster.name);
            const say = (key: string, given: string, needed: string) =>
                errors.push(
                    `${hardeningKey}.quota.${key}: ${given} is below what istio-system needs in ${cluster.name} ` +
                        `(${needed}: ${need.parts.map((p) => p.describe).join(", ")}); raise it to at least ` +
                        `${needed}, or remove it to use the derived quota`,
                );
            if (floor.milliCpu !== undefined && floor.milliCpu < need.milliCpu)
                say("cpu", settings.quota.cpu!, `${need.milliCpu}m`);
            if (floor.bytes !== undefined && floor.bytes < need.bytes)
                say("memory", settings.quota.memory!, `${Math.ceil(need.bytes / mib)}Mi`);
            if (floor.pods !== undefined && floor.pods < need.pods)
                say("pods", String(settings.quota.pods), String(need.pods));
        }
    }
    return errors.length > 0 ? { errors } : { settings, errors };
}

function quotaFloor(s: HardeningSettings): { milliCpu?: number; bytes?: number; pods?: number } {
    return {
        ...(s.quota?.cpu !== undefined ? { milliCpu: milliCpu(s.quota.cpu) } : {}),
        ...(s.quota?.memory !== undefined ? { bytes: bytesOf(s.quota.memory) } : {}),
        ...(s.quota?.pods !== undefined ? { pods: s.quota.pods } : {}),
    };
}

// ---------------------------------------------------------------------------------------------------------
// What istio-system needs
// ---------------------------------------------------------------------------------------------------------

/** One component's peak: its pods during a rollout at maximum replicas, and their requests. */
export interface ComponentNeed {
    readonly component: "istiod" | `istiod ${string}` | "east-west gateway" | "ingress gateway";
    readonly maxReplicas: number;
    /** maxReplicas plus the rollout's surge. */
    readonly peakPods: number;
    readonly milliCpuPerPod: number;
    readonly bytesPerPod: number;
    readonly describe: string;
}

/** What a cluster's istio-system needs at its peak, summed over its components. */
export interface ClusterNeed {
    readonly parts: readonly ComponentNeed[];
    readonly milliCpu: number;
    readonly bytes: number;
    readonly pods: number;
}

function component(
    name: ComponentNeed["component"],
    w: WorkloadSettings,
    defaults: (typeof chartDefaults)["istiod" | "gateway"],
): ComponentNeed {
    const maxReplicas = w.autoscale?.max ?? w.replicas ?? defaults.maxReplicas;
    const peakPods = maxReplicas + Math.ceil((maxReplicas * defaults.surgePercent) / 100);
    const requests: ResourceSettings["requests"] = w.resources?.requests;
    const cpu = requests?.cpu ?? defaults.cpu;
    const memory = requests?.memory ?? defaults.memory;
    const milliCpuPerPod = milliCpu(cpu)!;
    const bytesPerPod = bytesOf(memory)!;
    return {
        component: name,
        maxReplicas,
        peakPods,
        milliCpuPerPod,
        bytesPerPod,
        describe: `${name} ${peakPods} pods (${maxReplicas} + surge) x ${cpu}/${memory}`,
    };
}

/** The components in a cluster's istio-system and their peak requests (chart defaults where config is silent). */
/** What hardening reads of the topology: the core, its own section and where ingress gateways run. */
export interface HardeningInput extends CoreTopology {
    readonly hardening?: HardeningSettings;
    readonly traffic?: { readonly ingress?: IngressSettings };
}

export function clusterNeed(topology: HardeningInput, clusterName: string): ClusterNeed {
    const plan = composeMesh(topology).clusters.find((p) => p.cluster.name === clusterName)!;
    const parts: ComponentNeed[] = [];
    // One istiod per revision: a canary upgrade runs two side by side, and the quota must admit both.
    if (plan.cluster.role === "primary") {
        for (const revision of controlPlaneRevisions(topology.mesh.istio)) {
            const label = topology.mesh.istio.revisions ? (`istiod ${revision.name!}` as const) : "istiod";
            parts.push(component(label, topology.mesh.controlPlane, chartDefaults.istiod));
        }
    }
    if (plan.eastWestGateway)
        parts.push(component("east-west gateway", plan.cluster.eastWest, chartDefaults.gateway));
    const ingress = topology.traffic?.ingress;
    if (ingress?.clusters.includes(clusterName))
        parts.push(component("ingress gateway", ingress.gateway, chartDefaults.gateway));
    return {
        parts,
        milliCpu: parts.reduce((s, p) => s + p.peakPods * p.milliCpuPerPod, 0),
        bytes: parts.reduce((s, p) => s + p.peakPods * p.bytesPerPod, 0),
        pods: parts.reduce((s, p) => s + p.peakPods, 0),
    };
}

// ---------------------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------------------

/** A Kubernetes object as this module emits it, its spec typed by the Kubernetes provider's input types. */
export interface HardeningObject<Spec> {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Record<string, string>;
    };
    readonly spec: Spec;
}

/** A cluster-scoped PriorityClass (no spec: its fields sit at the top level). */
export interface PriorityClassObject {
    readonly apiVersion: "scheduling.k8s.io/v1";
    readonly kind: "PriorityClass";
    readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
    readonly value: number;
    readonly globalDefault: false;
    readonly preemptionPolicy: "PreemptLowerPriority";
    readonly description: string;
}

type NetworkPolicy = HardeningObject<k8s.types.input.networking.v1.NetworkPolicySpec>;

/** What one cluster gets. */
export interface ClusterHardening {
    readonly cluster: ClusterSpec;
    readonly networkPolicies: readonly NetworkPolicy[];
    readonly quota?: HardeningObject<k8s.types.input.core.v1.ResourceQuotaSpec>;
    readonly limitRange?: HardeningObject<k8s.types.input.core.v1.LimitRangeSpec>;
    readonly priorityClass?: PriorityClassObject;
    readonly need: ClusterNeed;
}

/** The labels of istiod's pods that a selector may rely on (deployment.yaml's pod template). */
export function istiodPodLabels(revision: string | undefined): Record<string, string> {
    return { app: "istiod", "istio.io/rev": revision ?? "default" };
}

/** The east-west gateway's selector labels (the gateway chart's `gateway.selectorLabels` with our `labels.istio`). */
export function eastWestPodLabels(): Record<string, string> {
    return { app: releaseNames.eastWestGateway, ...eastWestSelector };
}

/** istiod's ports (deployment.yaml's containerPorts): xDS plain and mTLS, webhooks, monitoring. */
export const istiodPorts = { xds: 15010, xdsTls: 15012, webhook: 15017, monitoring: 15014 } as const;
/** The east-west gateway's pod ports (the gateway chart's `networkGatewayPorts` targetPorts) and metrics. */
export const gatewayPorts = {
    status: 15021,
    tls: 15443,
    istiod: 15012,
    webhook: 15017,
    metrics: 15020,
} as const;

const tcp = (port: number) => ({ protocol: "TCP", port });
const anywhere = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];
const fromCidrs = (cidrs: readonly string[]) => cidrs.map((cidr) => ({ ipBlock: { cidr } }));
/** Every pod of the cluster (the mesh's sidecars, in any namespace). */
const clusterPods = [{ namespaceSelector: {} }];

/**
 * istiod admits xDS (15010, 15012) and monitoring (15014) from the cluster's pods (sidecars anywhere, the
 * east-west gateway that relays remotes' proxies), and its webhook (15017) from the API server: from
 * `apiServerRanges`, else from anywhere, as the API server's address is not known to the program. Kubelet
 * probes (8080) come from the node, which NetworkPolicy always admits. Egress stays open (JWKS, remote API
 * servers).
 */
export function istiodNetworkPolicy(revision: string | undefined, s: HardeningSettings): NetworkPolicy {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: {
            name: `${releaseNames.istiod(revision)}-ingress`,
            namespace: istioNamespace,
            labels: { ...managedByLabel },
        },
        spec: {
            podSelector: { matchLabels: istiodPodLabels(revision) },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: clusterPods,
                    ports: [istiodPorts.xds, istiodPorts.xdsTls, istiodPorts.monitoring].map(tcp),
                },
                {
                    from: s.apiServerRanges ? fromCidrs(s.apiServerRanges) : anywhere,
                    ports: [tcp(istiodPorts.webhook)],
                },
            ],
        },
    };
}

/**
 * The east-west gateway admits its status port (15021) from anywhere (load-balancer health checks come from the
 * provider's ranges), metrics (15020) from the cluster's pods, and only the ports its role needs from the
 * cluster's `eastWest.sourceRanges` (anywhere when none): 15443 in a multi-network mesh, 15012 and 15017 where
 * it exposes istiod to remotes.
 */
export function eastWestNetworkPolicy(
    cluster: ClusterSpec,
    role: { readonly multiNetwork: boolean; readonly exposeIstiod: boolean },
): NetworkPolicy {
    const data = [
        ...(role.multiNetwork ? [gatewayPorts.tls] : []),
        ...(role.exposeIstiod ? [gatewayPorts.istiod, gatewayPorts.webhook] : []),
    ];
    const sources = cluster.eastWest.sourceRanges;
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: {
            name: `${releaseNames.eastWestGateway}-ingress`,
            namespace: istioNamespace,
            labels: { ...managedByLabel },
        },
        spec: {
            podSelector: { matchLabels: eastWestPodLabels() },
            policyTypes: ["Ingress"],
            ingress: [
                { from: anywhere, ports: [tcp(gatewayPorts.status)] },
                { from: clusterPods, ports: [tcp(gatewayPorts.metrics)] },
                ...(data.length > 0
                    ? [{ from: sources ? fromCidrs(sources) : anywhere, ports: data.map(tcp) }]
                    : []),
            ],
        },
    };
}

const cpuText = (m: number) => (m % 1000 === 0 ? String(m / 1000) : `${m}m`);
const memText = (b: number) => `${Math.ceil(b / mib)}Mi`;

/** Everything `full`/`light` hardening puts in each cluster; empty lists with `off`. */
export function hardeningPlan(topology: HardeningInput): ClusterHardening[] {
    const s = topology.hardening ?? defaultHardening;
    const mesh = composeMesh(topology);
    return mesh.clusters.map((plan): ClusterHardening => {
        const need = clusterNeed(topology, plan.cluster.name);
        if (s.mode === "off") return { cluster: plan.cluster, networkPolicies: [], need };
        const networkPolicies = [
            ...(plan.cluster.role === "primary"
                ? controlPlaneRevisions(topology.mesh.istio).map((r) => istiodNetworkPolicy(r.name, s))
                : []),
            ...(plan.eastWestGateway
                ? [
                      eastWestNetworkPolicy(plan.cluster, {
                          multiNetwork: mesh.multiNetwork,
                          exposeIstiod: plan.exposeIstiod,
                      }),
                  ]
                : []),
        ];
        // Nothing of the mesh runs there (a remote without a gateway): a quota of zero would refuse every pod.
        if (s.mode === "light" || need.parts.length === 0)
            return { cluster: plan.cluster, networkPolicies, need };
        const grow = (n: number) => Math.ceil((n * (100 + s.headroomPercent)) / 100);
        const floor = quotaFloor(s);
        const cpu = Math.max(grow(need.milliCpu), floor.milliCpu ?? 0);
        const memory = Math.max(grow(need.bytes), floor.bytes ?? 0);
        // Headroom also for pods without requests (admitted through the LimitRange's defaults).
        const pods = Math.max(grow(need.pods), floor.pods ?? 0);
        return {
            cluster: plan.cluster,
            networkPolicies,
            need,
            quota: {
                apiVersion: "v1",
                kind: "ResourceQuota",
                metadata: {
                    name: "istio-system-quota",
                    namespace: istioNamespace,
                    labels: { ...managedByLabel },
                },
                spec: {
                    hard: {
                        "requests.cpu": cpuText(cpu),
                        "requests.memory": memText(memory),
                        pods: String(pods),
                    },
                },
            },
            limitRange: {
                apiVersion: "v1",
                kind: "LimitRange",
                metadata: {
                    name: "istio-system-defaults",
                    namespace: istioNamespace,
                    labels: { ...managedByLabel },
                },
                // Defaults only, no `max`: a maximum could refuse istiod or a gateway sized in config.
                spec: { limits: [{ type: "Container", defaultRequest: { ...limitRangeDefaults } }] },
            },
            priorityClass: {
                apiVersion: "scheduling.k8s.io/v1",
                kind: "PriorityClass",
                metadata: { name: priorityClassName, labels: { ...managedByLabel } },
                value: priorityClassValue,
                globalDefault: false,
                preemptionPolicy: "PreemptLowerPriority",
                description: "istiod and the Istio gateways of the mesh: scheduled before ordinary workloads",
            },
        };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Chart values
// ---------------------------------------------------------------------------------------------------------

type Spread = Record<string, unknown>;

/**
 * Spread across zones (preferred: nodes without a zone label must not leave pods pending) and nodes (required in
 * `full`, preferred in `light`), counting only the same rollout's pods (`matchLabelKeys: pod-template-hash`) and
 * honouring taints, so a cordoned node is not a domain that blocks scheduling.
 */
export function spreadConstraints(labels: Record<string, string>, mode: HardeningMode): Spread[] {
    const one = (topologyKey: string, whenUnsatisfiable: string): Spread => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable,
        labelSelector: { matchLabels: { ...labels } },
        matchLabelKeys: ["pod-template-hash"],
        nodeTaintsPolicy: "Honor",
    });
    return [
        one("topology.kubernetes.io/zone", "ScheduleAnyway"),
        one("kubernetes.io/hostname", mode === "full" ? "DoNotSchedule" : "ScheduleAnyway"),
    ];
}

/** Hardening values of a primary's istiod release (merged over stacks/values.ts's with `mergeValues`). */
export function istiodHardeningValues(s: HardeningSettings, revision: string | undefined): IstiodValues {
    if (s.mode === "off") return {};
    return {
        topologySpreadConstraints: spreadConstraints(istiodPodLabels(revision), s.mode),
        ...(s.hpaCpuTarget !== undefined ? { cpu: { targetAverageUtilization: s.hpaCpuTarget } } : {}),
        ...(s.mode === "full" ? { global: { priorityClassName } } : {}),
    };
}

/** Hardening values of a gateway release selected by `labels` (east-west or ingress). */
export function gatewayHardeningValues(s: HardeningSettings, labels: Record<string, string>): GatewayValues {
    if (s.mode === "off") return {};
    return {
        topologySpreadConstraints: spreadConstraints(labels, s.mode),
        ...(s.hpaCpuTarget !== undefined
            ? { autoscaling: { targetCPUUtilizationPercentage: s.hpaCpuTarget } }
            : {}),
        ...(s.mode === "full" ? { priorityClassName } : {}),
    };
}

/** Deep merge of chart values (maps merge, anything else is replaced), as Helm merges value files. */
export function mergeValues<T extends object>(base: T, extra: T): T {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(extra)) {
        const cur = out[k];
        const isMap = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);
        out[k] = isMap(cur) && isMap(v) ? mergeValues(cur as object, v as object) : v;
    }
    return out as T;
}
