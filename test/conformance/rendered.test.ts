/**
 * The rendered tier: every Helm release of the plan, rendered with `helm template` from Istio 1.30.3's own
 * charts with exactly the values the plan gives it, and what Istio needs checked on the rendered objects.
 *
 * Each topology is planned as an update (not a preview) with the cluster played by `applyOutputs`: the
 * reader tokens are filled and each load balancer reports an address, an IP or a hostname depending on the
 * case, so every value is what `pulumi up` would hand to Helm.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { Plan, plainInputs, plan, StackConfig } from "../../tools/planner";
import { helm, helmStats, K8sObject, template } from "../support/helm";
import { playCluster } from "../support/playCluster";
import { topologyCases } from "../support/topologyCases";
import { referenceDir } from "../support/istioSchemas";
import { isIstioRelease } from "../support/releases";

const charts = path.join(referenceDir(), "charts");
const namespace = "istio-system";

/** A cluster as the test reads the config: enough to say what Istio needs there, independently of the program. */
interface ClusterFacts {
    readonly name: string;
    readonly role: "primary" | "remote";
    readonly primary?: string;
    readonly network?: string;
    readonly serviceType: "LoadBalancer" | "NodePort";
    readonly address?: string;
}

const cases = topologyCases;

/** The clusters of a stack config, read back from its JSON values. */
function clusterFacts(config: StackConfig): {
    clusters: ClusterFacts[];
    revision?: string;
    defaultTag: boolean;
} {
    const meshDoc = JSON.parse(config.values["istio-multicluster:mesh"]!) as {
        istio: { revision?: string; defaultTag?: boolean };
        eastWest?: { serviceType?: "LoadBalancer" | "NodePort" };
    };
    const docs = JSON.parse(config.values["istio-multicluster:clusters"]!) as (ClusterFacts & {
        eastWest?: { serviceType?: "LoadBalancer" | "NodePort"; address?: string };
    })[];
    const revision = meshDoc.istio.revision;
    return {
        revision,
        defaultTag: revision !== undefined && meshDoc.istio.defaultTag !== false,
        clusters: docs.map((d) => ({
            name: d.name,
            role: d.role,
            ...(d.primary ? { primary: d.primary } : {}),
            ...(d.network ? { network: d.network } : {}),
            serviceType: d.eastWest?.serviceType ?? meshDoc.eastWest?.serviceType ?? "LoadBalancer",
            ...(d.eastWest?.address ? { address: d.eastWest.address } : {}),
        })),
    };
}

const isIp = (a: string) => /^[0-9.]+$/.test(a) || a.includes(":");

type Webhook = {
    name: string;
    clientConfig: {
        url?: string;
        service?: { name: string; namespace: string; path?: string; port?: number };
    };
    namespaceSelector?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] };
    objectSelector?: unknown;
};
const webhooksOf = (o: K8sObject) => (o.webhooks as Webhook[] | undefined) ?? [];
const find = (objs: K8sObject[], kind: string, name: string) =>
    objs.find((o) => o.kind === kind && o.metadata.name === name);
const envOf = (deployment: K8sObject, container: string): Record<string, string> => {
    const spec = (
        deployment.spec as {
            template: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } };
        }
    ).template.spec;
    const c = spec.containers.find((x) => x.name === container);
    assert.ok(c, `no container ${container}`);
    return Object.fromEntries(
        (c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
    );
};

describe("rendered with helm template (Istio 1.30.3 charts)", function () {
    this.timeout(120000);
    const started = Date.now();
    let renders = 0;
    after(() => {
        const { calls, millis } = helmStats();
        console.log(
            `      rendered tier: ${renders} releases in ${cases.length} topologies, ${calls} helm renders, ` +
                `${(millis / 1000).toFixed(1)} s of helm time run concurrently, ${((Date.now() - started) / 1000).toFixed(1)} s in all, ` +
                `helm from ${helm().source}`,
        );
    });

    for (const c of cases) {
        describe(c.label, () => {
            let p: Plan;
            const objects = new Map<string, K8sObject[]>();
            let facts: ReturnType<typeof clusterFacts>;
            before(async () => {
                const config = c.config();
                facts = clusterFacts(config);
                p = await plan(config, { preview: false, applyOutputs: playCluster(c.lb) });
                // Istio's charts; the observability charts render in their own tier (test/charts).
                const releases = p.resources.filter(isIstioRelease);
                const rendered = await Promise.all(
                    releases.map((r) => {
                        const inputs = plainInputs(r);
                        assert.equal(inputs.namespace, namespace, r.name);
                        return template({
                            releaseName: inputs.name as string,
                            chart: path.join(charts, inputs.chart as string),
                            namespace,
                            version: inputs.version as string,
                            values: inputs.values as Record<string, unknown>,
                        });
                    }),
                );
                renders += releases.length;
                releases.forEach((r, i) =>
                    objects.set(r.cluster!, [...(objects.get(r.cluster!) ?? []), ...rendered[i]!]),
                );
            });

            const multiNetwork = () => new Set(facts.clusters.map((x) => x.network)).size > 1;
            const servesRemotes = (name: string) => facts.clusters.some((x) => x.primary === name);
            const istiodName = () => (facts.revision ? `istiod-${facts.revision}` : "istiod");
            /** The address the remotes of `primaryName` reach its istiod at, as the cluster reported it. */
            const addressOf = (name: string): string => {
                const out = (p.outputs.clusters as Record<string, { eastWestAddress: string }>)[name]!;
                return out.eastWestAddress;
            };

            it("renders every release of every cluster", () => {
                assert.deepEqual([...objects.keys()].sort(), facts.clusters.map((x) => x.name).sort());
            });

            it("primaries: istiod with its cluster ID, network, cacerts, and EXTERNAL_ISTIOD exactly when it serves remotes", () => {
                for (const cl of facts.clusters.filter((x) => x.role === "primary")) {
                    const objs = objects.get(cl.name)!;
                    const d = find(objs, "Deployment", istiodName());
                    assert.ok(d, `${cl.name}: no istiod Deployment`);
                    const env = envOf(d, "discovery");
                    assert.equal(env.CLUSTER_ID, cl.name);
                    assert.equal(env.EXTERNAL_ISTIOD, servesRemotes(cl.name) ? "true" : undefined, cl.name);
                    const hostname = cl.address !== undefined && !isIp(cl.address) && servesRemotes(cl.name);
                    assert.equal(
                        env.ISTIOD_CUSTOM_HOST,
                        hostname ? cl.address : undefined,
                        `${cl.name}: istiod's certificate names`,
                    );
                    const pod = (
                        d.spec as {
                            template: {
                                spec: {
                                    volumes: { name: string; secret?: { secretName: string } }[];
                                    containers: {
                                        name: string;
                                        volumeMounts: { name: string; mountPath: string }[];
                                    }[];
                                };
                            };
                        }
                    ).template.spec;
                    assert.deepEqual(
                        pod.volumes.find((v) => v.name === "cacerts")?.secret?.secretName,
                        "cacerts",
                    );
                    assert.ok(
                        pod.containers
                            .find((x) => x.name === "discovery")!
                            .volumeMounts.some((m) => m.name === "cacerts" && m.mountPath === "/etc/cacerts"),
                    );
                    const injector = find(
                        objs,
                        "ConfigMap",
                        `istio-sidecar-injector${facts.revision ? `-${facts.revision}` : ""}`,
                    );
                    assert.ok(injector, `${cl.name}: no injector ConfigMap`);
                    const values = JSON.parse((injector.data as { values: string }).values) as {
                        global: { network?: string };
                    };
                    assert.equal(
                        values.global.network || undefined,
                        cl.network,
                        `${cl.name}: injected network`,
                    );
                }
            });

            it("remotes: no istiod, and webhooks that reach the primary (Service and EndpointSlice for an IP, URL on 15017 for a hostname)", () => {
                for (const cl of facts.clusters.filter((x) => x.role === "remote")) {
                    const objs = objects.get(cl.name)!;
                    assert.deepEqual(
                        objs
                            .filter((o) => o.kind === "Deployment" && o.metadata.name.startsWith("istiod"))
                            .map((o) => o.metadata.name),
                        [],
                    );
                    const address = addressOf(cl.primary!);
                    const injectionPath = `/inject/cluster/${cl.name}${cl.network ? `/net/${cl.network}` : ""}`;
                    const mutating = objs
                        .filter((o) => o.kind === "MutatingWebhookConfiguration")
                        .flatMap(webhooksOf);
                    const validating = objs
                        .filter((o) => o.kind === "ValidatingWebhookConfiguration")
                        .flatMap(webhooksOf);
                    assert.ok(mutating.length > 0 && validating.length > 0, `${cl.name}: no webhooks`);
                    const svc = find(objs, "Service", istiodName());
                    if (isIp(address)) {
                        assert.ok(svc && svc.spec && (svc.spec as { type?: string }).type !== "ExternalName");
                        const slice = find(objs, "EndpointSlice", istiodName());
                        assert.ok(slice, `${cl.name}: no EndpointSlice`);
                        assert.deepEqual(
                            (slice.endpoints as { addresses: string[] }[]).flatMap((e) => e.addresses),
                            [address],
                        );
                        assert.deepEqual(
                            (slice.ports as { port: number }[]).map((x) => x.port).sort(),
                            [15012, 15017],
                        );
                        for (const w of mutating) {
                            assert.deepEqual(
                                w.clientConfig,
                                {
                                    service: {
                                        name: istiodName(),
                                        namespace,
                                        path: injectionPath,
                                        port: 443,
                                    },
                                },
                                w.name,
                            );
                        }
                    } else {
                        for (const w of mutating) {
                            assert.deepEqual(
                                w.clientConfig,
                                { url: `https://${address}:15017${injectionPath}` },
                                w.name,
                            );
                        }
                        for (const w of validating) {
                            assert.deepEqual(
                                w.clientConfig,
                                { url: `https://${address}:15017/validate` },
                                w.name,
                            );
                        }
                    }
                }
            });

            it("no webhook calls a Service that is missing or an ExternalName", () => {
                for (const [cluster, objs] of objects) {
                    for (const o of objs.filter((x) => x.kind.endsWith("WebhookConfiguration"))) {
                        for (const w of webhooksOf(o)) {
                            const ref = w.clientConfig.service;
                            if (!ref) continue;
                            const svc = find(objs, "Service", ref.name);
                            assert.ok(
                                svc,
                                `${cluster}: ${o.metadata.name} ${w.name} calls ${ref.name}, not rendered`,
                            );
                            assert.notEqual(
                                (svc.spec as { type?: string }).type,
                                "ExternalName",
                                `${cluster}: ${o.metadata.name} ${w.name}`,
                            );
                        }
                    }
                }
            });

            it("east-west gateways: ports, network label, addresses by service type", () => {
                for (const cl of facts.clusters) {
                    const gateway = find(objects.get(cl.name)!, "Service", "istio-eastwestgateway");
                    const expected = multiNetwork() || servesRemotes(cl.name);
                    assert.equal(gateway !== undefined, expected, `${cl.name}: east-west gateway`);
                    if (!gateway) continue;
                    const spec = gateway.spec as {
                        type: string;
                        ports: { port: number }[];
                        externalIPs?: string[];
                        loadBalancerSourceRanges?: string[];
                    };
                    const ports = spec.ports.map((x) => x.port);
                    assert.ok(ports.includes(15021), `${cl.name}: status port`);
                    assert.equal(
                        ports.includes(15443),
                        multiNetwork(),
                        `${cl.name}: 15443 exactly in a multi-network mesh`,
                    );
                    if (servesRemotes(cl.name)) {
                        assert.ok(
                            ports.includes(15012) && ports.includes(15017),
                            `${cl.name}: istiod's ports`,
                        );
                    }
                    if (!multiNetwork()) assert.deepEqual(ports, [15021, 15012, 15017], cl.name);
                    assert.equal(gateway.metadata.labels?.["topology.istio.io/network"], cl.network, cl.name);
                    assert.equal(spec.type, cl.serviceType, cl.name);
                    if (cl.serviceType === "NodePort")
                        assert.equal(spec.loadBalancerSourceRanges, undefined, cl.name);
                    const ipAddress = cl.address !== undefined && isIp(cl.address) ? cl.address : undefined;
                    assert.deepEqual(
                        spec.externalIPs,
                        cl.serviceType === "NodePort" && ipAddress ? [ipAddress] : undefined,
                        `${cl.name}: externalIPs only as the NodePort's mechanism`,
                    );
                }
            });

            it("the reader ClusterRole and its binding in every cluster a primary reads", () => {
                const suffix = facts.revision ? `-${facts.revision}` : "";
                for (const cl of facts.clusters) {
                    const readBy = facts.clusters.filter((x) => x.role === "primary" && x.name !== cl.name);
                    if (readBy.length === 0) continue;
                    const objs = objects.get(cl.name)!;
                    assert.ok(find(objs, "ServiceAccount", "istio-reader-service-account"), cl.name);
                    const name = `istio-reader-clusterrole${suffix}-${namespace}`;
                    assert.ok(find(objs, "ClusterRole", name), `${cl.name}: ${name}`);
                    const binding = find(objs, "ClusterRoleBinding", name);
                    assert.ok(binding, `${cl.name}: binding ${name}`);
                    assert.deepEqual(binding.roleRef, {
                        apiGroup: "rbac.authorization.k8s.io",
                        kind: "ClusterRole",
                        name,
                    });
                    assert.deepEqual(binding.subjects, [
                        { kind: "ServiceAccount", name: "istio-reader-service-account", namespace },
                    ]);
                }
            });

            it("`istio-injection=enabled` injects in every cluster (the default tag with a revision), unless turned off", () => {
                for (const cl of facts.clusters) {
                    const objs = objects.get(cl.name)!;
                    const legacy = objs
                        .filter((o) => o.kind === "MutatingWebhookConfiguration")
                        .flatMap((o) => webhooksOf(o).map((w) => ({ config: o.metadata.name, w })))
                        .filter(({ w }) =>
                            (w.namespaceSelector?.matchExpressions ?? []).some(
                                (e) =>
                                    e.key === "istio-injection" &&
                                    e.operator === "In" &&
                                    e.values?.includes("enabled"),
                            ),
                        );
                    const tag = find(objs, "MutatingWebhookConfiguration", "istio-revision-tag-default");
                    if (facts.revision === undefined) {
                        assert.deepEqual(
                            legacy.map((x) => x.config),
                            ["istio-sidecar-injector"],
                            cl.name,
                        );
                        assert.equal(tag, undefined);
                    } else if (facts.defaultTag) {
                        assert.deepEqual(
                            legacy.map((x) => x.config),
                            ["istio-revision-tag-default"],
                            cl.name,
                        );
                        // The tag's webhooks reach istiod exactly as the revision's own do.
                        const own = webhooksOf(
                            find(
                                objs,
                                "MutatingWebhookConfiguration",
                                `istio-sidecar-injector-${facts.revision}`,
                            )!,
                        );
                        for (const w of webhooksOf(tag!))
                            assert.deepEqual(w.clientConfig, own[0]!.clientConfig, `${cl.name}: ${w.name}`);
                    } else {
                        assert.deepEqual(legacy, [], cl.name);
                        assert.equal(tag, undefined);
                    }
                }
            });

            it("hardening reaches istiod's and every gateway's pods: spread across nodes, the priority class in `full`", () => {
                const hardening = JSON.parse(c.config().values["istio-multicluster:hardening"] ?? "{}") as {
                    mode?: string;
                };
                const mode = hardening.mode ?? "full";
                for (const [cluster, objs] of objects) {
                    for (const d of objs.filter(
                        (o) =>
                            o.kind === "Deployment" &&
                            (o.metadata.name.startsWith("istiod") || o.metadata.name.startsWith("istio-")),
                    )) {
                        const pod = (
                            d.spec as {
                                template: {
                                    spec: {
                                        priorityClassName?: string;
                                        topologySpreadConstraints?: { topologyKey: string }[];
                                    };
                                };
                            }
                        ).template.spec;
                        const keys = (pod.topologySpreadConstraints ?? []).map((t) => t.topologyKey);
                        assert.deepEqual(
                            keys,
                            mode === "off" ? [] : ["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
                            `${cluster} ${d.metadata.name}`,
                        );
                        assert.equal(
                            pod.priorityClassName,
                            mode === "full" ? "istio-mesh-critical" : undefined,
                            `${cluster} ${d.metadata.name}`,
                        );
                    }
                }
            });

            it("one validating webhook for unlabelled Istio config per cluster, not two", () => {
                for (const [cluster, objs] of objects) {
                    const catchAll = objs
                        .filter((o) => o.kind === "ValidatingWebhookConfiguration")
                        .flatMap((o) =>
                            webhooksOf(o)
                                .filter((w) => w.objectSelector === undefined)
                                .map(() => o.metadata.name),
                        );
                    assert.deepEqual(catchAll, ["istiod-default-validator"], cluster);
                }
            });
        });
    }
});
