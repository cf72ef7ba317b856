/**
 * Observability as the program creates it: exactly which objects land in which cluster (its provider, under
 * which component), what each waits for, how the Grafana password is kept secret, the stack output, and that
 * the longest chain of the plan does not grow.
 */
import { strict as assert } from "node:assert";
import { longestChain } from "../../tools/graph";
import {
    displayInputs,
    loadStackFile,
    Plan,
    planDocument,
    plainInputs,
    plan,
    PlannedResource,
    StackConfig,
} from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";
import { playCluster } from "../support/playCluster";

const observabilityKey = "istio-multicluster:observability";
const observabilityTypes = new Set([
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:Namespace",
    "kubernetes:security.istio.io/v1:AuthorizationPolicy",
    "kubernetes:security.istio.io/v1:PeerAuthentication",
    "random:index/randomPassword:RandomPassword",
]);

/** Per cluster, `Kind name` of every observability object (what lives in or under the observability parts). */
function objectsByCluster(p: Plan): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const components = new Map(p.resources.filter((r) => !r.custom).map((r) => [r.urn, r]));
    for (const r of p.resources.filter((x) => observabilityTypes.has(x.type))) {
        const parent = r.parent ? components.get(r.parent) : undefined;
        const inObservability =
            parent?.type.startsWith("multicluster:observability:") ||
            (r.type === "kubernetes:core/v1:Namespace" && r.name.endsWith("/observability"));
        if (!inObservability) continue;
        (out[r.cluster ?? "(none)"] ??= []).push(`${r.type.split(":").pop()} ${r.name}`);
    }
    for (const k of Object.keys(out)) out[k]!.sort();
    return out;
}

const withoutObservability = (c: StackConfig): StackConfig => ({
    ...c,
    values: Object.fromEntries(Object.entries(c.values).filter(([k]) => k !== observabilityKey)),
});

describe("observability in the program", () => {
    let dev: Plan;
    let prod: Plan;
    let mixed: Plan;
    const byName = (p: Plan, name: string): PlannedResource => {
        const r = p.resources.find((x) => x.name === name);
        assert.ok(r, `no resource ${name}`);
        return r;
    };
    const names = (p: Plan, urns: readonly string[]) =>
        urns.map((u) => p.resources.find((r) => r.urn === u)!.name).sort();

    before(async () => {
        dev = await plan(loadStackFile("dev"));
        prod = await plan(loadStackFile("prod"));
        mixed = await plan(
            stackConfig(mesh(), [primary("p1", "n1"), primary("p2", "n2"), remote("r1", "p1", "n3")], {
                extra: { [observabilityKey]: { hub: "r1", dashboards: { enabled: false } } },
            }),
        );
    });

    const primaryAccess = (c: string) => [
        `AuthorizationPolicy ${c}/observability/AuthorizationPolicy/jaeger`,
        `AuthorizationPolicy ${c}/observability/AuthorizationPolicy/prometheus-federate`,
        `AuthorizationPolicy ${c}/observability/AuthorizationPolicy/prometheus-hub`,
        `PeerAuthentication ${c}/observability/PeerAuthentication/default`,
    ];
    const hubObjects = (c: string, others: string[], grafana = true) => [
        ...(grafana ? [`Release ${c}/grafana`, `Secret ${c}/grafana-admin`] : []),
        `Release ${c}/jaeger`,
        `Release ${c}/prometheus-hub`,
        ...others.map((o) => `Service ${c}/observability/prometheus-${o}`),
    ];

    it("dev: each cluster its namespace and Prometheus; the hub its releases; the primary its policies", () => {
        assert.deepEqual(objectsByCluster(dev), {
            cluster1: [
                ...primaryAccess("cluster1"),
                "Namespace cluster1/observability",
                ...hubObjects("cluster1", ["cluster2"]),
                "Release cluster1/prometheus-cluster",
            ].sort(),
            cluster2: ["Namespace cluster2/observability", "Release cluster2/prometheus-cluster"],
            "(none)": ["RandomPassword cluster1/grafana-admin-password"],
        });
    });

    it("prod: the hub federates the three others; every primary has the policies, the remote none", () => {
        assert.deepEqual(objectsByCluster(prod), {
            "us-east": [
                ...primaryAccess("us-east"),
                "Namespace us-east/observability",
                ...hubObjects("us-east", ["eu-west", "ap-south", "us-east-edge"]),
                "Release us-east/prometheus-cluster",
            ].sort(),
            "eu-west": [
                ...primaryAccess("eu-west"),
                "Namespace eu-west/observability",
                "Release eu-west/prometheus-cluster",
            ].sort(),
            "ap-south": [
                ...primaryAccess("ap-south"),
                "Namespace ap-south/observability",
                "Release ap-south/prometheus-cluster",
            ].sort(),
            "us-east-edge": [
                "Namespace us-east-edge/observability",
                "Release us-east-edge/prometheus-cluster",
            ],
            "(none)": ["RandomPassword us-east/grafana-admin-password"],
        });
        const hub = plainInputs(byName(prod, "us-east/prometheus-hub"));
        assert.deepEqual((hub.values as { server: Record<string, unknown> }).server.persistentVolume, {
            enabled: true,
            size: "100Gi",
        });
        assert.deepEqual(hub.repositoryOpts, { repo: "https://prometheus-community.github.io/helm-charts" });
        assert.equal(hub.version, "29.27.0");
        assert.equal(hub.name, "prometheus-hub");
        assert.equal(hub.namespace, "observability");
    });

    it("mixed, hub on a remote: releases there, policies in both primaries, no Grafana when dashboards are off", () => {
        assert.deepEqual(objectsByCluster(mixed), {
            p1: [
                ...primaryAccess("p1"),
                "Namespace p1/observability",
                "Release p1/prometheus-cluster",
            ].sort(),
            p2: [
                ...primaryAccess("p2"),
                "Namespace p2/observability",
                "Release p2/prometheus-cluster",
            ].sort(),
            r1: [
                "Namespace r1/observability",
                ...hubObjects("r1", ["p1", "p2"], false),
                "Release r1/prometheus-cluster",
            ].sort(),
        });
        assert.equal(
            mixed.outputs.observability && (mixed.outputs.observability as Record<string, unknown>).grafana,
            undefined,
        );
    });

    it("each object uses its cluster's provider and sits under its component", () => {
        for (const p of [dev, prod, mixed]) {
            for (const r of p.resources.filter(
                (x) => x.custom && x.cluster && /\/observability|prometheus|jaeger|grafana/.test(x.name),
            )) {
                const provider = p.resources.find(
                    (x) => x.type === "pulumi:providers:kubernetes" && x.name === r.cluster,
                )!;
                assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.name}: its cluster's provider`);
            }
        }
        const parentType = (p: Plan, name: string) =>
            p.resources.find((x) => x.urn === byName(p, name).parent)!.type;
        assert.equal(
            parentType(dev, "cluster2/prometheus-cluster"),
            "multicluster:observability:ClusterTelemetry",
        );
        assert.equal(parentType(dev, "cluster1/prometheus-hub"), "multicluster:observability:TelemetryHub");
        assert.equal(parentType(dev, "cluster1/grafana-admin"), "multicluster:observability:TelemetryHub");
        assert.equal(
            parentType(dev, "cluster1/observability/AuthorizationPolicy/jaeger"),
            "multicluster:observability:MeshTelemetry",
        );
        assert.equal(
            byName(dev, "cluster1/observability").parent,
            dev.resources.find((r) => r.type === "pulumi:pulumi:Stack")!.urn,
        );
    });

    it("workloads wait for injection and for the policies of the primary that configures them", () => {
        const policies = (c: string) => [
            `${c}/observability/AuthorizationPolicy/jaeger`,
            `${c}/observability/AuthorizationPolicy/prometheus-federate`,
            `${c}/observability/AuthorizationPolicy/prometheus-hub`,
            `${c}/observability/PeerAuthentication/default`,
        ];
        assert.deepEqual(
            names(dev, byName(dev, "cluster1/prometheus-cluster").dependsOn),
            ["cluster1-istiod", ...policies("cluster1"), "cluster1/observability"].sort(),
        );
        // The remote: its own istiod, its remote secret in its primary, and its primary's policies.
        assert.deepEqual(
            names(dev, byName(dev, "cluster2/prometheus-cluster").dependsOn),
            [
                "cluster2-istiod",
                "cluster2/in/cluster1",
                ...policies("cluster1"),
                "cluster2/observability",
            ].sort(),
        );
        assert.deepEqual(
            names(dev, byName(dev, "cluster1/prometheus-hub").dependsOn),
            [
                "cluster1-istiod",
                ...policies("cluster1"),
                "cluster1/observability",
                "cluster1/observability/prometheus-cluster2",
            ].sort(),
        );
        assert.deepEqual(
            names(dev, byName(dev, "cluster1/grafana").dependsOn),
            [
                "cluster1-istiod",
                ...policies("cluster1"),
                "cluster1/grafana-admin",
                "cluster1/observability",
            ].sort(),
        );
        for (const policy of policies("cluster1")) {
            assert.deepEqual(names(dev, byName(dev, policy).dependsOn), [
                "cluster1-istiod",
                "cluster1/observability",
            ]);
        }
        // Mixed: the remote hub's workloads wait for p1's policies (its primary), not p2's.
        assert.deepEqual(
            names(mixed, byName(mixed, "r1/jaeger").dependsOn).filter(
                (n) => n.includes("Policy") || n.includes("Authentication"),
            ),
            policies("p1"),
        );
    });

    it("the Grafana password is generated, secret in the admin Secret, and a secret stack output", async () => {
        const password = plainInputs(byName(dev, "cluster1/grafana-admin-password"));
        assert.equal(password.length, 32);
        assert.equal(password.special, false);
        // As an update, with the password known: the Secret holds it as a secret, and no plan output shows it.
        const generated = "generated password of cluster1/grafana-admin-password";
        const applied = await plan(loadStackFile("dev"), { preview: false, applyOutputs: playCluster("ip") });
        const secret = byName(applied, "cluster1/grafana-admin");
        assert.deepEqual(displayInputs(secret).stringData, {
            "admin-user": "[secret]",
            "admin-password": "[secret]",
        });
        assert.equal(
            plainInputs(secret).stringData &&
                (plainInputs(secret).stringData as Record<string, string>)["admin-password"],
            generated,
        );
        const document = JSON.stringify(planDocument(applied));
        assert.ok(!document.includes(generated), "the password appears nowhere in the plan document");
        assert.equal(
            (applied.outputs.observability as { grafanaAdmin: { password: unknown } }).grafanaAdmin.password,
            "[secret]",
        );
        assert.deepEqual(dev.outputs.observability, {
            hub: "cluster1",
            namespace: "observability",
            prometheus: {
                portForward:
                    "kubectl --context kind-cluster1 -n observability port-forward svc/prometheus 9090:9090",
                url: "http://localhost:9090",
            },
            jaeger: {
                portForward:
                    "kubectl --context kind-cluster1 -n observability port-forward svc/jaeger 16686:16686",
                url: "http://localhost:16686",
            },
            grafana: {
                portForward:
                    "kubectl --context kind-cluster1 -n observability port-forward svc/grafana 3000:80",
                url: "http://localhost:3000",
            },
            grafanaAdmin: { user: "admin", password: "[secret]" },
        });
    });

    it("adds no link to the longest chain (dev, prod)", async () => {
        for (const [p, stack] of [
            [dev, "dev"],
            [prod, "prod"],
        ] as const) {
            const without = await plan(withoutObservability(loadStackFile(stack)));
            assert.equal(longestChain(p.resources).length, longestChain(without.resources).length, stack);
            assert.ok(p.resources.length > without.resources.length);
        }
    });
});
