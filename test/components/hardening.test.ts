/**
 * Hardening as the program creates it: which objects land in which cluster (its provider, under its
 * MeshHardening component, after its istio-system namespace), the values istiod and the gateways get, the one
 * edge added (the charts wait for the PriorityClass), and the longest chain left as it was.
 */
import { strict as assert } from "node:assert";
import { longestChain } from "../../tools/graph";
import { loadStackFile, Plan, plainInputs, plan, PlannedResource } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";

const byName = (p: Plan, name: string): PlannedResource => {
    const r = p.resources.find((x) => x.name === name);
    assert.ok(r, `no resource ${name}`);
    return r;
};
const urnOf = (p: Plan, name: string) => byName(p, name).urn;
const hardeningTypes = [
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:scheduling.k8s.io/v1:PriorityClass",
];
/** Per cluster, `type name` of every hardening object. */
const objectsByCluster = (p: Plan) => {
    const out: Record<string, string[]> = {};
    for (const r of p.resources.filter((x) => hardeningTypes.includes(x.type))) {
        (out[r.cluster!] ??= []).push(`${r.type.split(":").pop()} ${r.name}`);
    }
    for (const k of Object.keys(out)) out[k]!.sort();
    return out;
};

describe("MeshHardening in the program", () => {
    let prod: Plan;
    before(async () => {
        prod = await plan(loadStackFile("prod"));
    });

    it("prod: every cluster its objects, with its own provider, under its component, after its namespace", () => {
        const primaryObjects = (c: string) => [
            `LimitRange ${c}-istio-system-defaults`,
            `NetworkPolicy ${c}-istio-eastwestgateway-ingress`,
            `NetworkPolicy ${c}-istiod-1-30-3-ingress`,
            `PriorityClass ${c}-istio-mesh-critical`,
            `ResourceQuota ${c}-istio-system-quota`,
        ];
        assert.deepEqual(objectsByCluster(prod), {
            "us-east": primaryObjects("us-east"),
            "eu-west": primaryObjects("eu-west"),
            "ap-south": primaryObjects("ap-south"),
            "us-east-edge": [
                "LimitRange us-east-edge-istio-system-defaults",
                "NetworkPolicy us-east-edge-istio-eastwestgateway-ingress",
                "PriorityClass us-east-edge-istio-mesh-critical",
                "ResourceQuota us-east-edge-istio-system-quota",
            ],
        });
        for (const r of prod.resources.filter((x) => hardeningTypes.includes(x.type))) {
            const component = prod.resources.find((x) => x.urn === r.parent)!;
            assert.equal(component.type, "multicluster:hardening:MeshHardening", r.name);
            assert.equal(component.name, r.cluster);
            const provider = prod.resources.find(
                (x) => x.type === "pulumi:providers:kubernetes" && x.name === r.cluster,
            )!;
            assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.name}: its cluster's provider`);
            const expected = r.type.endsWith("PriorityClass")
                ? []
                : [urnOf(prod, `${r.cluster}-istio-system`)];
            assert.deepEqual(r.dependsOn, expected, r.name);
        }
        const np = plainInputs(byName(prod, "eu-west-istio-eastwestgateway-ingress"));
        assert.deepEqual(np.metadata, {
            name: "istio-eastwestgateway-ingress",
            namespace: "istio-system",
            labels: { "app.kubernetes.io/managed-by": "istio-multicluster" },
        });
        assert.deepEqual(plainInputs(byName(prod, "us-east-istio-mesh-critical")), {
            apiVersion: "scheduling.k8s.io/v1",
            kind: "PriorityClass",
            metadata: {
                name: "istio-mesh-critical",
                labels: { "app.kubernetes.io/managed-by": "istio-multicluster" },
            },
            value: 1000000,
            globalDefault: false,
            preemptionPolicy: "PreemptLowerPriority",
            description: "istiod and the Istio gateways of the mesh: scheduled before ordinary workloads",
        });
    });

    it("prod: istiod and every gateway run at the PriorityClass, spread, with the HPA target, and wait for the class", () => {
        const istiod = byName(prod, "us-east-istiod");
        const values = plainInputs(istiod).values as Record<string, Record<string, unknown>>;
        assert.equal(values.global!.priorityClassName, "istio-mesh-critical");
        assert.equal(values.global!.meshID, "prod-mesh", "the role's values are kept");
        assert.deepEqual(values.cpu, { targetAverageUtilization: 70 });
        assert.deepEqual(
            (values.topologySpreadConstraints as unknown as { topologyKey: string }[]).map(
                (c) => c.topologyKey,
            ),
            ["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
        );
        assert.ok(istiod.dependsOn.includes(urnOf(prod, "us-east-istio-mesh-critical")));
        for (const c of ["us-east", "eu-west", "ap-south", "us-east-edge"]) {
            const gw = byName(prod, `${c}-eastwestgateway`);
            const v = plainInputs(gw).values as Record<string, unknown>;
            assert.equal(v.priorityClassName, "istio-mesh-critical", c);
            assert.deepEqual(v.autoscaling, {
                enabled: true,
                minReplicas: 2,
                maxReplicas: 5,
                targetCPUUtilizationPercentage: 70,
            });
            assert.ok(gw.dependsOn.includes(urnOf(prod, `${c}-istio-mesh-critical`)), c);
        }
    });

    it("the longest chain is as long as without hardening: the PriorityClass waits for nothing", async () => {
        const config = loadStackFile("prod");
        const off = await plan({
            ...config,
            values: { ...config.values, "istio-multicluster:hardening": JSON.stringify({ mode: "off" }) },
        });
        assert.equal(objectsByCluster(off)["us-east"], undefined);
        // Equally long chains may tie (observability's releases end one as long as the gateway's).
        assert.equal(longestChain(prod.resources).length, longestChain(off.resources).length);
        assert.equal(longestChain(off.resources).length, 8);
    });

    it("dev (light): NetworkPolicies only, preferred spread, no priority class edge", async () => {
        const dev = await plan(loadStackFile("dev"));
        assert.deepEqual(objectsByCluster(dev), {
            cluster1: [
                "NetworkPolicy cluster1-istio-eastwestgateway-ingress",
                "NetworkPolicy cluster1-istiod-ingress",
            ],
            cluster2: ["NetworkPolicy cluster2-istio-eastwestgateway-ingress"],
        });
        const v = plainInputs(byName(dev, "cluster1-istiod")).values as Record<string, unknown>;
        assert.equal((v.global as Record<string, unknown>).priorityClassName, undefined);
        assert.deepEqual(
            (v.topologySpreadConstraints as { whenUnsatisfiable: string }[]).map((c) => c.whenUnsatisfiable),
            ["ScheduleAnyway", "ScheduleAnyway"],
        );
    });

    it("a mixed topology without the setting gets `full`, and an ingress gateway is spread and prioritised too", async () => {
        const p = await plan(
            stackConfig(mesh(), [primary("c1", "n1"), primary("c2", "n2"), remote("c3", "c1", "n1")], {
                extra: {
                    "istio-multicluster:namespaces": [{ name: "sample" }],
                    "istio-multicluster:services": [
                        { name: "hello", namespace: "sample", ports: [{ number: 80, protocol: "HTTP" }] },
                    ],
                    "istio-multicluster:ingress": {
                        clusters: ["c3"],
                        hosts: [{ host: "h.example.com", service: "hello" }],
                    },
                },
            }),
        );
        assert.deepEqual(Object.keys(objectsByCluster(p)).sort(), ["c1", "c2", "c3"]);
        const ingress = byName(p, "c3-ingressgateway");
        const v = plainInputs(ingress).values as Record<string, unknown>;
        assert.equal(v.priorityClassName, "istio-mesh-critical");
        assert.deepEqual((v.topologySpreadConstraints as { labelSelector: unknown }[])[0]!.labelSelector, {
            matchLabels: { app: "istio-ingressgateway", istio: "ingressgateway" },
        });
        assert.ok(ingress.dependsOn.includes(urnOf(p, "c3-istio-mesh-critical")));
        // c3's quota counts its east-west gateway and its ingress gateway: 7 + 7 pods, plus 25%.
        assert.deepEqual(plainInputs(byName(p, "c3-istio-system-quota")).spec, {
            hard: { "requests.cpu": "1750m", "requests.memory": "2240Mi", pods: "18" },
        });
    });
});
