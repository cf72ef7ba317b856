/**
 * Hardening of istio-system, the pure part: the `istio-multicluster:hardening` setting (every problem by config
 * path), what each cluster's components need at their peak, the exact objects, and the chart values.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import {
    bytesOf,
    clusterNeed,
    gatewayHardeningValues,
    hardeningPlan,
    istiodHardeningValues,
    mergeValues,
    milliCpu,
    spreadConstraints,
    validateHardening,
} from "../../stacks/hardening";
import { Topology } from "../../stacks/topology";
import { validateTopology } from "../../stacks/validate";
import { loadStackFile, plan } from "../../tools/planner";
import { mesh, primary, rawConfig, remote, stackConfig } from "../support/fixtures";

const key = "istio-multicluster:hardening";

function topologyOf(raw: ReturnType<typeof rawConfig>): Topology {
    const r = validateTopology(raw);
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    return r.topology;
}

/** The prod stack file's topology, as the program reads it. */
function prodTopology(): Topology {
    const c = loadStackFile("prod");
    const parse = (k: string) => {
        const v = c.values[`istio-multicluster:${k}`];
        return v === undefined ? undefined : (JSON.parse(v) as unknown);
    };
    return topologyOf({
        mesh: parse("mesh"),
        clusters: parse("clusters"),
        namespaces: parse("namespaces"),
        security: parse("security"),
        hardening: parse("hardening"),
        secret: { mesh: true, clusters: true },
    });
}

/** A NetworkPolicy's ingress rules as plain data (the spec is typed with the provider's Input types). */
const rules = (p: { spec: { ingress?: unknown } }) => p.spec.ingress as { from?: unknown; ports: unknown }[];

const twoClusters = () => [primary("c1", "n1"), remote("c2", "c1", "n2")];

describe("hardening", () => {
    describe("validateHardening", () => {
        it("is `full` with 25% headroom when absent, never off by omission", () => {
            assert.deepEqual(validateHardening(undefined, undefined), {
                settings: { mode: "full", headroomPercent: 25 },
                errors: [],
            });
            assert.deepEqual(validateHardening({}, undefined).settings, {
                mode: "full",
                headroomPercent: 25,
            });
            assert.deepEqual(
                validateHardening(
                    { mode: "light", headroomPercent: 0, hpaCpuTarget: 60, apiServerRanges: ["10.0.0.0/8"] },
                    undefined,
                ).settings,
                { mode: "light", headroomPercent: 0, hpaCpuTarget: 60, apiServerRanges: ["10.0.0.0/8"] },
            );
        });

        const refused: [string, unknown, string[]][] = [
            ["not a map", "full", [`${key}: must be a map such as \`{ mode: full }\`, got "full"`]],
            [
                "an unknown key and an unknown mode",
                { mdoe: "full", mode: "strict" },
                [
                    `${key}.mdoe: unknown key; allowed keys are: mode, headroomPercent, quota, hpaCpuTarget, apiServerRanges`,
                    `${key}.mode: "strict" is not one of: full, light, off`,
                ],
            ],
            [
                "a negative headroom",
                { headroomPercent: -5 },
                [`${key}.headroomPercent: must be a whole number from 0 to 1000, got -5`],
            ],
            [
                "quota values that are not quantities",
                { quota: { cpu: "lots", memory: "2x", pods: 0, gpus: 1 } },
                [
                    `${key}.quota.gpus: unknown key; allowed keys are: cpu, memory, pods`,
                    `${key}.quota.cpu: "lots" is not a CPU quantity above 0 such as 8 or 4500m`,
                    `${key}.quota.memory: "2x" is not a memory quantity above 0 such as 32Gi`,
                    `${key}.quota.pods: must be a whole number from 1 to 2147483647, got 0`,
                ],
            ],
            [
                "quota values that are zero or not finite",
                { quota: { cpu: 0, memory: ".inf" } },
                [
                    `${key}.quota.cpu: 0 is not a CPU quantity above 0 such as 8 or 4500m`,
                    `${key}.quota.memory: ".inf" is not a memory quantity above 0 such as 32Gi`,
                ],
            ],
            [
                "a quota of NaN CPUs",
                { quota: { cpu: Number.NaN } },
                [`${key}.quota.cpu: NaN is not a CPU quantity above 0 such as 8 or 4500m`],
            ],
            [
                "a quota of 1e20 pods",
                { quota: { pods: 1e20 } },
                [`${key}.quota.pods: must be a whole number from 1 to 2147483647, got 100000000000000000000`],
            ],
            [
                "a quota where no quota is created",
                { mode: "light", quota: { pods: 40 } },
                [`${key}.quota: only \`mode: full\` creates a quota; remove \`quota\` or set \`mode: full\``],
            ],
            [
                "an HPA target outside 1-100",
                { hpaCpuTarget: 120 },
                [`${key}.hpaCpuTarget: must be a whole percentage from 1 to 100, got 120`],
            ],
            [
                "API server ranges that are not CIDRs",
                { apiServerRanges: ["10.0.0.1", 7] },
                [
                    `${key}.apiServerRanges[0]: "10.0.0.1" is not a CIDR such as 10.0.0.0/8`,
                    `${key}.apiServerRanges[1]: 7 is not a CIDR such as 10.0.0.0/8`,
                ],
            ],
        ];
        for (const [label, raw, errors] of refused) {
            it(`refuses ${label}`, () => {
                assert.deepEqual(validateHardening(raw, undefined), { errors });
            });
        }

        it("refuses a quota below what a cluster's components need at their peak, naming the need", () => {
            const r = validateTopology({
                ...rawConfig(mesh(), twoClusters()),
                hardening: { quota: { cpu: "5", memory: "64Gi", pods: 10 } },
            });
            const need =
                "istiod 10 pods (5 + surge) x 500m/2048Mi, east-west gateway 7 pods (5 + surge) x 100m/128Mi";
            assert.deepEqual(r, {
                ok: false,
                errors: [
                    `${key}.quota.cpu: 5 is below what istio-system needs in c1 (5700m: ${need}); raise it to ` +
                        `at least 5700m, or remove it to use the derived quota`,
                    `${key}.quota.pods: 10 is below what istio-system needs in c1 (17: ${need}); raise it to at ` +
                        `least 17, or remove it to use the derived quota`,
                ],
            });
        });

        it("reports its problems with the rest of the config's, all at once", () => {
            const r = validateTopology({
                ...rawConfig(undefined, twoClusters()),
                hardening: { mode: "none" },
            });
            assert.deepEqual(r, {
                ok: false,
                errors: [
                    "istio-multicluster:mesh: required; set `meshId` and `istio.version` under it in Pulumi.<stack>.yaml",
                    `${key}.mode: "none" is not one of: full, light, off`,
                ],
            });
        });

        it("the program refuses the stack, naming the path", async () => {
            const p = await plan(
                stackConfig(mesh(), twoClusters(), { extra: { [key]: { quota: { pods: 1 } } } }),
            ).catch((e: Error) => e);
            assert.ok(p instanceof Error, "the plan must be refused");
            assert.match(p.message, /istio-multicluster:hardening\.quota\.pods: 1 is below/);
        });
    });

    describe("quantities", () => {
        it("derives a finite quota from requests in any form the validator accepts (129e6, 1e0)", () => {
            const t = topologyOf(
                rawConfig(
                    mesh({
                        controlPlane: {
                            replicas: 2,
                            resources: { requests: { cpu: "1e0", memory: "129e6" } },
                        },
                    }),
                    [primary("c1")],
                ),
            );
            const hard = hardeningPlan(t)[0]!.quota!.spec.hard as Record<string, string>;
            for (const [k, v] of Object.entries(hard)) assert.match(v, /^[0-9]+(m|Mi)?$/, `${k}: ${v}`);
        });

        it("reads CPU in millicores and memory in bytes", () => {
            // Kubernetes' own grammar, as the validator reads requests: exponents and Pi/Ei too.
            assert.deepEqual(["500m", "2", "1.5", "2e0", "2 cores", "-1"].map(milliCpu), [
                500,
                2000,
                1500,
                2000,
                undefined,
                undefined,
            ]);
            assert.deepEqual(["128Mi", "2Gi", "1G", "512", "1k", "129e6", "1Pi", "5m", "2GB"].map(bytesOf), [
                134217728,
                2147483648,
                1e9,
                512,
                1000,
                129e6,
                2 ** 50,
                1,
                undefined,
            ]);
        });
    });

    describe("what istio-system needs", () => {
        it("prod: istiod 2..5 at 500m/2Gi with 100% surge, east-west 2..5 at 500m/512Mi with 25% surge", () => {
            const t = prodTopology();
            const primaryNeed = clusterNeed(t, "us-east");
            assert.deepEqual(
                primaryNeed.parts.map((p) => p.describe),
                [
                    "istiod 10 pods (5 + surge) x 500m/2Gi",
                    "east-west gateway 7 pods (5 + surge) x 500m/512Mi",
                ],
            );
            assert.deepEqual(
                { cpu: primaryNeed.milliCpu, memory: primaryNeed.bytes / 2 ** 20, pods: primaryNeed.pods },
                { cpu: 8500, memory: 24064, pods: 17 },
            );
            const edge = clusterNeed(t, "us-east-edge");
            assert.deepEqual(
                { cpu: edge.milliCpu, memory: edge.bytes / 2 ** 20, pods: edge.pods },
                { cpu: 3500, memory: 3584, pods: 7 },
            );
        });

        it("counts the ingress gateway where one runs, with the chart's defaults when config is silent", () => {
            const t = topologyOf({
                ...rawConfig(mesh({ controlPlane: { replicas: 2 } }), [primary("c1")]),
                namespaces: [{ name: "sample" }],
                services: [{ name: "hello", namespace: "sample", ports: [{ number: 80, protocol: "HTTP" }] }],
                ingress: { hosts: [{ host: "h.example.com", service: "hello" }] },
            });
            const need = clusterNeed(t, "c1");
            // One network, no remotes: no east-west gateway.
            assert.deepEqual(
                need.parts.map((p) => p.describe),
                [
                    "istiod 4 pods (2 + surge) x 500m/2048Mi",
                    "ingress gateway 7 pods (5 + surge) x 100m/128Mi",
                ],
            );
            assert.deepEqual({ cpu: need.milliCpu, pods: need.pods }, { cpu: 2700, pods: 11 });
        });

        it("the quota covers every component at max replicas plus surge, x its requests, for any sizing", () => {
            const workload = fc.record(
                {
                    replicas: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
                    max: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
                    cpu: fc.option(fc.integer({ min: 1, max: 4000 }), { nil: undefined }),
                    memory: fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }),
                },
                { requiredKeys: [] },
            );
            const asConfig = (w: { replicas?: number; max?: number; cpu?: number; memory?: number }) => ({
                ...(w.max !== undefined
                    ? { autoscale: { min: 1, max: w.max } }
                    : w.replicas !== undefined
                      ? { replicas: w.replicas }
                      : {}),
                ...(w.cpu !== undefined || w.memory !== undefined
                    ? {
                          resources: {
                              requests: {
                                  ...(w.cpu !== undefined ? { cpu: `${w.cpu}m` } : {}),
                                  ...(w.memory !== undefined ? { memory: `${w.memory}Mi` } : {}),
                              },
                          },
                      }
                    : {}),
            });
            /** Independently: max replicas (chart default 5), surge, requests (chart defaults). */
            const peak = (
                w: { replicas?: number; max?: number; cpu?: number; memory?: number },
                surge: number,
                cpu: number,
                memory: number,
            ) => {
                const max = w.max ?? w.replicas ?? 5;
                const pods = max + Math.ceil((max * surge) / 100);
                return { pods, cpu: pods * (w.cpu ?? cpu), memory: pods * (w.memory ?? memory) };
            };
            fc.assert(
                fc.property(
                    workload,
                    workload,
                    fc.integer({ min: 0, max: 100 }),
                    (cp, ew, headroomPercent) => {
                        const t = topologyOf({
                            ...rawConfig(
                                mesh({ controlPlane: asConfig(cp), eastWest: asConfig(ew) }),
                                twoClusters(),
                            ),
                            hardening: { headroomPercent },
                        });
                        const [c1, c2] = hardeningPlan(t);
                        const istiod = peak(cp, 100, 500, 2048);
                        const gw = peak(ew, 25, 100, 128);
                        const hard = (h: typeof c1) => h!.quota!.spec.hard as Record<string, string>;
                        for (const [h, need] of [
                            [c1, [istiod, gw]],
                            [c2, [gw]],
                        ] as const) {
                            const sum = (k: "pods" | "cpu" | "memory") => need.reduce((s, n) => s + n[k], 0);
                            assert.ok(milliCpu(hard(h)["requests.cpu"]!)! >= sum("cpu"));
                            assert.ok(bytesOf(hard(h)["requests.memory"]!)! >= sum("memory") * 2 ** 20);
                            assert.ok(Number(hard(h).pods) >= sum("pods"));
                        }
                    },
                ),
                { numRuns: 200 },
            );
        });
    });

    describe("objects", () => {
        it("prod, a primary: both NetworkPolicies, the quota with 25% headroom, the LimitRange, the PriorityClass", () => {
            const [usEast] = hardeningPlan(prodTopology());
            assert.equal(usEast!.cluster.name, "us-east");
            const managed = { "app.kubernetes.io/managed-by": "istio-multicluster" };
            const anywhere = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }];
            const tcp = (port: number) => ({ protocol: "TCP", port });
            assert.deepEqual(usEast!.networkPolicies, [
                {
                    apiVersion: "networking.k8s.io/v1",
                    kind: "NetworkPolicy",
                    metadata: { name: "istiod-1-30-3-ingress", namespace: "istio-system", labels: managed },
                    spec: {
                        podSelector: { matchLabels: { app: "istiod", "istio.io/rev": "1-30-3" } },
                        policyTypes: ["Ingress"],
                        ingress: [
                            {
                                from: [{ namespaceSelector: {} }],
                                ports: [tcp(15010), tcp(15012), tcp(15014)],
                            },
                            { from: anywhere, ports: [tcp(15017)] },
                        ],
                    },
                },
                {
                    apiVersion: "networking.k8s.io/v1",
                    kind: "NetworkPolicy",
                    metadata: {
                        name: "istio-eastwestgateway-ingress",
                        namespace: "istio-system",
                        labels: managed,
                    },
                    spec: {
                        podSelector: {
                            matchLabels: { app: "istio-eastwestgateway", istio: "eastwestgateway" },
                        },
                        policyTypes: ["Ingress"],
                        ingress: [
                            { from: anywhere, ports: [tcp(15021)] },
                            { from: [{ namespaceSelector: {} }], ports: [tcp(15020)] },
                            // us-east serves us-east-edge: istiod's ports too, from the configured ranges only.
                            {
                                from: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
                                ports: [tcp(15443), tcp(15012), tcp(15017)],
                            },
                        ],
                    },
                },
            ]);
            assert.deepEqual(usEast!.quota, {
                apiVersion: "v1",
                kind: "ResourceQuota",
                metadata: { name: "istio-system-quota", namespace: "istio-system", labels: managed },
                // 8500m, 24064Mi and 17 pods, plus 25%.
                spec: { hard: { "requests.cpu": "10625m", "requests.memory": "30080Mi", pods: "22" } },
            });
            assert.deepEqual(usEast!.limitRange, {
                apiVersion: "v1",
                kind: "LimitRange",
                metadata: { name: "istio-system-defaults", namespace: "istio-system", labels: managed },
                spec: { limits: [{ type: "Container", defaultRequest: { cpu: "100m", memory: "128Mi" } }] },
            });
            assert.deepEqual(usEast!.priorityClass, {
                apiVersion: "scheduling.k8s.io/v1",
                kind: "PriorityClass",
                metadata: { name: "istio-mesh-critical", labels: managed },
                value: 1000000,
                globalDefault: false,
                preemptionPolicy: "PreemptLowerPriority",
                description: "istiod and the Istio gateways of the mesh: scheduled before ordinary workloads",
            });
        });

        it("prod, a remote: no istiod policy; its gateway admits 15443 only (it exposes no istiod)", () => {
            const edge = hardeningPlan(prodTopology()).find((h) => h.cluster.name === "us-east-edge")!;
            assert.deepEqual(
                edge.networkPolicies.map((p) => p.metadata.name),
                ["istio-eastwestgateway-ingress"],
            );
            assert.deepEqual(rules(edge.networkPolicies[0]!)[2], {
                from: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
                ports: [{ protocol: "TCP", port: 15443 }],
            });
            assert.deepEqual(edge.quota!.spec.hard, {
                "requests.cpu": "4375m",
                "requests.memory": "4480Mi",
                pods: "9",
            });
        });

        it("one network: the gateway of a primary serving remotes admits 15012/15017 and no 15443; a raised quota wins; a remote running nothing gets no quota", () => {
            const t = topologyOf({
                ...rawConfig(mesh(), [primary("c1"), remote("c2", "c1")]),
                hardening: {
                    quota: { cpu: "64", memory: "256Gi", pods: 100 },
                    apiServerRanges: ["192.0.2.0/24"],
                },
            });
            const [c1, c2] = hardeningPlan(t);
            assert.deepEqual(rules(c1!.networkPolicies[0]!)[1], {
                from: [{ ipBlock: { cidr: "192.0.2.0/24" } }],
                ports: [{ protocol: "TCP", port: 15017 }],
            });
            assert.deepEqual(rules(c1!.networkPolicies[1]!)[2]!.ports, [
                { protocol: "TCP", port: 15012 },
                { protocol: "TCP", port: 15017 },
            ]);
            assert.deepEqual(c1!.quota!.spec.hard, {
                "requests.cpu": "64",
                "requests.memory": "262144Mi",
                pods: "100",
            });
            // The remote runs no east-west gateway on one network: nothing to admit, nothing of the mesh to run, so
            // no quota (one of zero would refuse every pod), no LimitRange and no PriorityClass.
            assert.deepEqual(
                [c2!.networkPolicies, c2!.quota, c2!.limitRange, c2!.priorityClass, c2!.need.pods],
                [[], undefined, undefined, undefined, 0],
            );
        });

        it("a quota written as YAML numbers (`cpu: 64`) is the same quota as the quantities' text", () => {
            const plan = (quota: Record<string, unknown>) =>
                hardeningPlan(
                    topologyOf({
                        ...rawConfig(mesh(), [primary("c1"), remote("c2", "c1")]),
                        hardening: { quota },
                    }),
                )[0]!.quota!.spec.hard;
            assert.deepEqual(
                plan({ cpu: 64, memory: "256Gi", pods: 100 }),
                plan({ cpu: "64", memory: "256Gi", pods: 100 }),
            );
            assert.deepEqual(plan({ cpu: 64, memory: 274877906944, pods: 100 }), {
                "requests.cpu": "64",
                "requests.memory": "262144Mi",
                pods: "100",
            });
        });

        it("light: the NetworkPolicies only; off: nothing", () => {
            const light = hardeningPlan(
                topologyOf({ ...rawConfig(mesh(), twoClusters()), hardening: { mode: "light" } }),
            );
            assert.deepEqual(
                light.map((h) => [
                    h.networkPolicies.map((p) => p.metadata.name),
                    h.quota,
                    h.limitRange,
                    h.priorityClass,
                ]),
                [
                    [["istiod-ingress", "istio-eastwestgateway-ingress"], undefined, undefined, undefined],
                    [["istio-eastwestgateway-ingress"], undefined, undefined, undefined],
                ],
            );
            const off = hardeningPlan(
                topologyOf({ ...rawConfig(mesh(), twoClusters()), hardening: { mode: "off" } }),
            );
            assert.deepEqual(
                off.map((h) => h.networkPolicies.length + (h.quota ? 1 : 0) + (h.priorityClass ? 1 : 0)),
                [0, 0],
            );
        });
    });

    describe("chart values", () => {
        const labels = { app: "istiod", "istio.io/rev": "default" };
        it("full: spread across zones (preferred) and nodes (required), the priority class, the HPA target", () => {
            const s = { mode: "full", headroomPercent: 25, hpaCpuTarget: 70 } as const;
            const spread = (key: string, when: string) => ({
                maxSkew: 1,
                topologyKey: key,
                whenUnsatisfiable: when,
                labelSelector: { matchLabels: labels },
                matchLabelKeys: ["pod-template-hash"],
                nodeTaintsPolicy: "Honor",
            });
            assert.deepEqual(istiodHardeningValues(s, undefined), {
                topologySpreadConstraints: [
                    spread("topology.kubernetes.io/zone", "ScheduleAnyway"),
                    spread("kubernetes.io/hostname", "DoNotSchedule"),
                ],
                cpu: { targetAverageUtilization: 70 },
                global: { priorityClassName: "istio-mesh-critical" },
            });
            assert.deepEqual(gatewayHardeningValues(s, { istio: "x" }), {
                topologySpreadConstraints: spreadConstraints({ istio: "x" }, "full"),
                autoscaling: { targetCPUUtilizationPercentage: 70 },
                priorityClassName: "istio-mesh-critical",
            });
        });

        it("light: preferred spread only; off: nothing", () => {
            const light = istiodHardeningValues({ mode: "light", headroomPercent: 25 }, "r1");
            assert.deepEqual(Object.keys(light), ["topologySpreadConstraints"]);
            assert.deepEqual(
                light.topologySpreadConstraints!.map((c) => c.whenUnsatisfiable),
                ["ScheduleAnyway", "ScheduleAnyway"],
            );
            assert.deepEqual(gatewayHardeningValues({ mode: "off", headroomPercent: 25 }, {}), {});
        });

        it("merge into the role's values like Helm: maps merge, everything else is replaced", () => {
            assert.deepEqual(
                mergeValues<Record<string, unknown>>(
                    { global: { meshID: "m", network: "n" }, autoscaling: { enabled: false }, list: [1] },
                    {
                        global: { priorityClassName: "p" },
                        autoscaling: { targetCPUUtilizationPercentage: 70 },
                        list: [2],
                    },
                ),
                {
                    global: { meshID: "m", network: "n", priorityClassName: "p" },
                    autoscaling: { enabled: false, targetCPUUtilizationPercentage: 70 },
                    list: [2],
                },
            );
        });
    });
});
