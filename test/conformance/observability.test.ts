/**
 * Observability's own objects against upstream schemas: what stacks/observability/ and its components emit
 * directly (the namespace, the hub's stub Services, Grafana's admin Secret, the PeerAuthentication and the
 * AuthorizationPolicies), validated against Kubernetes' models and Istio 1.30.3's CRDs. The third-party charts
 * themselves render in their own tier (test/charts).
 */
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { TelemetryHub } from "../../components/telemetryHub";
import { ChartRelease, observabilityKey, observabilityNames } from "../../stacks/observability";
import {
    evaluate,
    isUnknown,
    loadStackFile,
    Plan,
    plainInputs,
    plan,
    StackConfig,
} from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";
import { validateIstioObject } from "../support/istioSchemas";
import { validateKubeObject } from "../support/kubeSchemas";
import { isObservabilityRelease } from "../support/releases";

type Obj = Record<string, unknown>;

function mixed(obs: Obj, meshExtra: Obj = {}, extra: Obj = {}): StackConfig {
    return stackConfig(
        mesh(meshExtra),
        [primary("east", "net-east"), primary("west", "net-west"), remote("edge", "east", "net-east")],
        { extra: { [observabilityKey]: obs, ...extra } },
    );
}

const cases: { label: string; config: () => StackConfig; expected: Record<string, number> }[] = [
    // Counts: a Namespace per cluster; stubs for the clusters beside the hub; PeerAuthentication and
    // policies per primary; the admin Secret with Grafana.
    {
        label: "the dev stack",
        config: () => loadStackFile("dev"),
        expected: { Namespace: 2, Service: 1, Secret: 1, PeerAuthentication: 1, AuthorizationPolicy: 3 },
    },
    {
        label: "the prod stack",
        config: () => loadStackFile("prod"),
        expected: { Namespace: 4, Service: 3, Secret: 1, PeerAuthentication: 3, AuthorizationPolicy: 9 },
    },
    {
        label: "mixed, the hub a remote, a revision and a trust domain alias",
        config: () =>
            mixed(
                { hub: "edge", namespace: "telemetry", metrics: { hubStorage: "10Gi" } },
                { istio: { version: "1.30.3", revision: "1-30-3" }, trustDomain: "mesh.example.com" },
                { "istio-multicluster:security": { trustDomainAliases: ["old.example.com"] } },
            ),
        expected: { Namespace: 3, Service: 2, Secret: 1, PeerAuthentication: 2, AuthorizationPolicy: 6 },
    },
    {
        label: "mixed, metrics off",
        config: () => mixed({ hub: "west", metrics: { enabled: false }, dashboards: { enabled: false } }),
        expected: { Namespace: 3, PeerAuthentication: 2, AuthorizationPolicy: 2 },
    },
    {
        label: "mixed, an external tracing backend",
        config: () => mixed({ hub: "east", tracing: { backend: "external" } }),
        expected: { Namespace: 3, Service: 2, Secret: 1, PeerAuthentication: 2, AuthorizationPolicy: 4 },
    },
];

/**
 * The admin Secret as it is applied: its password is generated at apply (unknown in a preview), so the hub
 * component runs alone as an update that knows it.
 */
async function appliedAdminSecret(config: StackConfig, grafana: ChartRelease): Promise<Obj> {
    const p = await evaluate(
        config,
        () => {
            const namespace = new k8s.core.v1.Namespace("ns", { metadata: { name: "observability" } });
            new TelemetryHub("hub", { plan: { stubs: [], grafana }, namespace, waitFor: [] });
            return {};
        },
        {
            preview: false,
            applyOutputs: (a) =>
                a.type === "random:index/randomPassword:RandomPassword" ? { result: "generated" } : undefined,
        },
    );
    const secret = p.resources.find((r) => r.type === "kubernetes:core/v1:Secret");
    assert.ok(secret, "the hub component created no Secret");
    return plainInputs(secret);
}

describe("observability's own objects, against Kubernetes' models and Istio 1.30.3's CRDs", function () {
    this.timeout(60000);
    for (const c of cases) {
        it(`${c.label}: every namespace, stub Service, Secret and Istio object is valid`, async () => {
            const config = c.config();
            const ns =
                (JSON.parse(config.values[observabilityKey]!) as { namespace?: string }).namespace ??
                "observability";
            const p: Plan = await plan(config);
            const counts: Record<string, number> = {};
            const problems: string[] = [];
            for (const r of p.resources) {
                if (!r.custom || !r.type.startsWith("kubernetes:") || isObservabilityRelease(r)) continue;
                const i = plainInputs(r) as {
                    kind?: string;
                    metadata?: { name?: string; namespace?: string };
                };
                const ours =
                    i.kind === "Namespace"
                        ? i.metadata?.name === ns
                        : i.metadata?.namespace === ns && i.kind !== undefined;
                if (!ours) continue;
                counts[i.kind!] = (counts[i.kind!] ?? 0) + 1;
                let obj = i as Obj & { apiVersion: string; kind: string };
                if (i.kind === "Secret" && isUnknown(obj.stringData)) {
                    const grafana = p.resources.find(
                        (x) => isObservabilityRelease(x) && plainInputs(x).chart === "grafana",
                    );
                    assert.ok(grafana, "an admin Secret without Grafana");
                    const g = plainInputs(grafana);
                    obj = (await appliedAdminSecret(config, {
                        releaseName: g.name as string,
                        chart: { chart: "grafana", version: g.version as string, repository: "" },
                        values: g.values as Obj,
                    })) as typeof obj;
                    assert.equal(
                        (obj.metadata as { name: string }).name,
                        observabilityNames.grafanaAdminSecret,
                    );
                    assert.deepEqual(Object.keys(obj.stringData as Obj).sort(), [
                        "admin-password",
                        "admin-user",
                    ]);
                }
                const found = r.type.startsWith("kubernetes:security.istio.io/")
                    ? validateIstioObject(obj)
                    : validateKubeObject(obj);
                problems.push(...found.map((f) => `${r.cluster}/${r.name}: ${f}`));
            }
            assert.deepEqual(counts, c.expected);
            assert.deepEqual(problems, []);
        });
    }
});
