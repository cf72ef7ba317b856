/**
 * Hardening against Istio 1.30.3's own charts, rendered with `helm template`: the chart defaults the quota is
 * derived from, why the gateway chart's own NetworkPolicy is not used, and, on the rendered objects, that our
 * NetworkPolicies select the pods and admit every port each role serves (the cross-network path included),
 * that the quota covers every rendered Deployment at its HPA maximum plus rollout surge, and that spread,
 * priority and the HPA target reach the pods. Every hardening object is checked against the Kubernetes models.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { bytesOf, chartDefaults, hardeningPlan, milliCpu } from "../../stacks/hardening";
import { Topology } from "../../stacks/topology";
import { validateTopology } from "../../stacks/validate";
import { loadStackFile, Plan, plainInputs, plan, StackConfig } from "../../tools/planner";
import { helm, K8sObject, template } from "../support/helm";
import { topologyConfig } from "../support/fixtures";
import { referenceDir } from "../support/istioSchemas";
import { validateKubeObject } from "../support/kubeSchemas";
import { isIstioRelease } from "../support/releases";

const charts = path.join(referenceDir(), "charts");
const chartValues = (chart: string) =>
    (
        YAML.parse(fs.readFileSync(path.join(charts, chart, "values.yaml"), "utf8")) as {
            _internal_defaults_do_not_set: Record<string, unknown>;
        }
    )._internal_defaults_do_not_set;

type NetworkPolicySpec = {
    podSelector: { matchLabels: Record<string, string> };
    ingress: { from?: unknown[]; ports: { port: number; protocol: string }[] }[];
};
type PodSpec = {
    containers: {
        name: string;
        ports?: { containerPort: number }[];
        resources?: { requests?: Record<string, string> };
    }[];
    priorityClassName?: string;
    topologySpreadConstraints?: Record<string, unknown>[];
};
type DeploymentSpec = {
    replicas?: number;
    strategy?: { rollingUpdate?: { maxSurge?: string | number } };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
};

const find = (objs: K8sObject[], kind: string, name: string) =>
    objs.find((o) => o.kind === kind && o.metadata.name === name);
const admitted = (np: NetworkPolicySpec) => new Set(np.ingress.flatMap((r) => r.ports.map((p) => p.port)));
const selects = (np: NetworkPolicySpec, labels: Record<string, string>) =>
    Object.entries(np.podSelector.matchLabels).every(([k, v]) => labels[k] === v);

function topologyOf(config: StackConfig): Topology {
    const parse = (k: string) => {
        const v = config.values[`istio-multicluster:${k}`];
        return v === undefined ? undefined : (JSON.parse(v) as unknown);
    };
    const r = validateTopology({
        ...Object.fromEntries(
            [
                "mesh",
                "clusters",
                "namespaces",
                "security",
                "services",
                "externalServices",
                "ingress",
                "hardening",
            ].map((k) => [k, parse(k)]),
        ),
        secret: { mesh: true, clusters: true },
    } as Parameters<typeof validateTopology>[0]);
    assert.ok(r.ok);
    return r.topology;
}

/** Renders every release of `cluster` in the plan whose values are all known (primaries' and gateways'). */
async function renderCluster(p: Plan, cluster: string): Promise<K8sObject[]> {
    const releases = p.resources.filter(
        (r) =>
            isIstioRelease(r) &&
            r.cluster === cluster &&
            !JSON.stringify(r.rawInputs.values).includes("04da6b54-80e4-46f7-96ec-b56ff0331ba9"),
    );
    const rendered = await Promise.all(
        releases.map((r) => {
            const inputs = plainInputs(r);
            return template({
                releaseName: inputs.name as string,
                chart: path.join(charts, inputs.chart as string),
                namespace: "istio-system",
                version: inputs.version as string,
                values: inputs.values as Record<string, unknown>,
            });
        }),
    );
    return rendered.flat();
}

/** A quantity of maxSurge as the Deployment controller rounds it (up), of `replicas`. */
const surge = (maxSurge: string | number | undefined, replicas: number) => {
    const s = maxSurge ?? "25%";
    return typeof s === "number" ? s : Math.ceil((replicas * Number(s.replace("%", ""))) / 100);
};

describe("hardening, rendered with Istio 1.30.3's charts", function () {
    this.timeout(120000);

    it("the need is derived from the charts' own defaults", () => {
        const istiod = chartValues("istiod") as {
            resources: { requests: { cpu: string; memory: string } };
            autoscaleEnabled: boolean;
            autoscaleMax: number;
            rollingMaxSurge: string;
        };
        assert.deepEqual(
            {
                cpu: istiod.resources.requests.cpu,
                memory: istiod.resources.requests.memory,
                maxReplicas: istiod.autoscaleEnabled ? istiod.autoscaleMax : 1,
                surgePercent: Number(istiod.rollingMaxSurge.replace("%", "")),
            },
            chartDefaults.istiod,
        );
        const gateway = chartValues("gateway") as {
            resources: { requests: { cpu: string; memory: string } };
            autoscaling: { enabled: boolean; maxReplicas: number };
            strategy: Record<string, unknown>;
        };
        // No strategy in the chart: the Deployment's default maxSurge, 25%.
        assert.deepEqual(gateway.strategy, {});
        assert.deepEqual(
            {
                cpu: gateway.resources.requests.cpu,
                memory: gateway.resources.requests.memory,
                maxReplicas: gateway.autoscaling.enabled ? gateway.autoscaling.maxReplicas : 1,
                surgePercent: 25,
            },
            chartDefaults.gateway,
        );
    });

    let prod: Plan;
    const rendered = new Map<string, K8sObject[]>();
    before(async () => {
        prod = await plan(loadStackFile("prod"));
        for (const c of ["us-east", "us-east-edge"]) rendered.set(c, await renderCluster(prod, c));
    });

    it("the gateway chart's own NetworkPolicy would cut the cross-network path: it admits service.ports, not the network ports", () => {
        const values = plainInputs(prod.resources.find((r) => r.name === "us-east-eastwestgateway")!)
            .values as Record<string, unknown>;
        // Rendered directly and read leniently: the chart's policy repeats label keys (`app`, `istio`,
        // `app.kubernetes.io/name` come both from the template and from its label helper), which a strict YAML
        // reader, such as the tier's, refuses; one more reason not to use it.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "np-"));
        const file = path.join(dir, "values.json");
        fs.writeFileSync(file, JSON.stringify({ ...values, global: { networkPolicy: { enabled: true } } }));
        const out = execFileSync(
            helm().path,
            [
                "template",
                "istio-eastwestgateway",
                path.join(charts, "gateway"),
                "-n",
                "istio-system",
                "-f",
                file,
            ],
            { encoding: "utf8" },
        );
        fs.rmSync(dir, { recursive: true, force: true });
        const objs = YAML.parseAllDocuments(out, { uniqueKeys: false })
            .map((d) => d.toJS() as K8sObject | null)
            .filter((o): o is K8sObject => o !== null);
        const np = find(objs, "NetworkPolicy", "istio-eastwestgateway-1-30-3")!;
        const spec = np.spec as NetworkPolicySpec;
        // The Service it guards serves 15443, 15012 and 15017; the chart's policy admits the default service.ports.
        const servicePorts = (
            find(objs, "Service", "istio-eastwestgateway")!.spec as {
                ports: { targetPort: number }[];
            }
        ).ports.map((p) => p.targetPort);
        assert.deepEqual(servicePorts, [15021, 15443, 15012, 15017]);
        assert.deepEqual([...admitted(spec)].sort(), [15020, 15021, 15090, 443, 80].sort());
        for (const port of [15443, 15012, 15017])
            assert.ok(!admitted(spec).has(port), `${port} is not admitted`);
        // And it admits from anywhere: no `from` at all.
        assert.ok(spec.ingress.every((r) => r.from === undefined));
    });

    it("our NetworkPolicies select the rendered pods and admit every port each role serves", () => {
        const objectsOf = (c: string) =>
            hardeningPlan(topologyOf(loadStackFile("prod"))).find((h) => h.cluster.name === c)!;
        // us-east: a primary that serves a remote, multi-network.
        const usEast = rendered.get("us-east")!;
        const [istiodNp, gatewayNp] = objectsOf("us-east").networkPolicies.map(
            (p) => p.spec as unknown as NetworkPolicySpec,
        );
        const istiod = find(usEast, "Deployment", "istiod-1-30-3")!.spec as DeploymentSpec;
        assert.ok(selects(istiodNp!, istiod.template.metadata.labels), "istiod's pods");
        const istiodService = find(usEast, "Service", "istiod-1-30-3")!.spec as {
            ports: { port: number; targetPort?: number }[];
        };
        const containerPorts = istiod.template.spec.containers
            .find((c) => c.name === "discovery")!
            .ports!.map((p) => p.containerPort);
        for (const p of istiodService.ports) {
            const target = p.targetPort ?? p.port;
            assert.ok(containerPorts.includes(target), `${target} is a port of istiod`);
            assert.ok(admitted(istiodNp!).has(target), `istiod admits ${target}`);
        }
        const gateway = find(usEast, "Deployment", "istio-eastwestgateway")!.spec as DeploymentSpec;
        assert.ok(selects(gatewayNp!, gateway.template.metadata.labels), "the gateway's pods");
        const gatewayService = find(usEast, "Service", "istio-eastwestgateway")!.spec as {
            ports: { targetPort: number }[];
            selector: Record<string, string>;
        };
        assert.deepEqual(gatewayNp!.podSelector.matchLabels, gatewayService.selector);
        for (const p of gatewayService.ports)
            assert.ok(admitted(gatewayNp!).has(p.targetPort), `${p.targetPort}`);

        // us-east-edge: a remote on a network of its own: 15021 and the cross-network 15443, nothing of istiod.
        const edge = rendered.get("us-east-edge")!;
        const [edgeNp] = objectsOf("us-east-edge").networkPolicies.map(
            (p) => p.spec as unknown as NetworkPolicySpec,
        );
        const edgeGateway = find(edge, "Deployment", "istio-eastwestgateway")!.spec as DeploymentSpec;
        assert.ok(selects(edgeNp!, edgeGateway.template.metadata.labels));
        assert.deepEqual([...admitted(edgeNp!)].sort(), [15020, 15021, 15443]);
    });

    for (const [label, config] of [
        ["prod (sized in config)", () => loadStackFile("prod")],
        [
            "primary-remote with nothing sized (chart defaults)",
            () => topologyConfig("primaryRemoteMultiNetwork"),
        ],
    ] as const) {
        it(`${label}: the quota covers every rendered Deployment at its HPA maximum plus surge`, async () => {
            const cfg = config();
            const p = await plan(cfg);
            const plans = hardeningPlan(topologyOf(cfg));
            for (const h of plans) {
                const objs = await renderCluster(p, h.cluster.name);
                let cpu = 0;
                let memory = 0;
                let pods = 0;
                for (const d of objs.filter((o) => o.kind === "Deployment")) {
                    const spec = d.spec as DeploymentSpec;
                    const hpa = objs.find(
                        (o) =>
                            o.kind === "HorizontalPodAutoscaler" &&
                            (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name ===
                                d.metadata.name,
                    );
                    const max = hpa
                        ? (hpa.spec as { maxReplicas: number }).maxReplicas
                        : (spec.replicas ?? 1);
                    const peak = max + surge(spec.strategy?.rollingUpdate?.maxSurge, max);
                    const req = spec.template.spec.containers.map((c) => c.resources?.requests ?? {});
                    cpu += peak * req.reduce((s, r) => s + (r.cpu ? milliCpu(r.cpu)! : 0), 0);
                    memory += peak * req.reduce((s, r) => s + (r.memory ? bytesOf(r.memory)! : 0), 0);
                    pods += peak;
                }
                const hard = h.quota!.spec.hard as Record<string, string>;
                assert.ok(
                    milliCpu(hard["requests.cpu"]!)! >= cpu,
                    `${h.cluster.name}: cpu ${hard["requests.cpu"]} < ${cpu}m`,
                );
                assert.ok(bytesOf(hard["requests.memory"]!)! >= memory, `${h.cluster.name}: memory`);
                assert.ok(Number(hard.pods) >= pods, `${h.cluster.name}: pods ${hard.pods} < ${pods}`);
                // And the derivation is exactly that need (from the rendered charts) plus the headroom.
                assert.equal(h.need.milliCpu, cpu, `${h.cluster.name}: the derived need is the rendered one`);
                assert.equal(h.need.pods, pods);
            }
        });
    }

    it("spread, priority class and HPA target reach the rendered pods and autoscalers", () => {
        const objs = rendered.get("us-east")!;
        for (const name of ["istiod-1-30-3", "istio-eastwestgateway"]) {
            const pod = (find(objs, "Deployment", name)!.spec as DeploymentSpec).template;
            assert.equal(pod.spec.priorityClassName, "istio-mesh-critical", name);
            const spread = pod.spec.topologySpreadConstraints!;
            assert.deepEqual(
                spread.map((c) => [c.topologyKey, c.whenUnsatisfiable]),
                [
                    ["topology.kubernetes.io/zone", "ScheduleAnyway"],
                    ["kubernetes.io/hostname", "DoNotSchedule"],
                ],
            );
            for (const c of spread) {
                const selector = (c.labelSelector as { matchLabels: Record<string, string> }).matchLabels;
                assert.ok(
                    Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v),
                    `${name}: the spread counts its own pods`,
                );
            }
            const problems = validateKubeObject(find(objs, "Deployment", name)!);
            assert.deepEqual(problems, [], name);
        }
        const hpas = objs.filter((o) => o.kind === "HorizontalPodAutoscaler");
        assert.equal(hpas.length, 2);
        for (const h of hpas) {
            const metrics = (
                h.spec as {
                    metrics: { resource: { name: string; target: { averageUtilization: number } } }[];
                }
            ).metrics;
            assert.equal(
                metrics.find((m) => m.resource.name === "cpu")!.resource.target.averageUtilization,
                70,
            );
        }
    });

    it("every hardening object of prod conforms to the Kubernetes models", () => {
        for (const h of hardeningPlan(topologyOf(loadStackFile("prod")))) {
            for (const o of [...h.networkPolicies, h.quota!, h.limitRange!, h.priorityClass!]) {
                assert.deepEqual(validateKubeObject(o), [], `${h.cluster.name} ${o.kind}`);
            }
        }
    });
});
