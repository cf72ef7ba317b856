/**
 * The charts tier: every observability Release the program plans (stacks/observability/), rendered with
 * `helm template` from the pinned third-party chart (prometheus, jaeger, grafana) with exactly the plan's
 * values, release name and namespace. What the program assumes about those charts is checked on what they
 * render: names, ports, labels its AuthorizationPolicies select, service accounts its principals name, the
 * scrape and federation jobs, datasources, and nothing exposed outside the mesh.
 *
 * Needs the charts as `<chart>-<version>.tgz` in `$OBSERVABILITY_CHARTS_DIR` (else
 * `../shared/observability-charts`); tools/observability-charts.sh fetches them.
 */
import { strict as assert } from "node:assert";
import * as YAML from "yaml";
import {
    ChartPin,
    chartDefaults,
    clusterPrometheusValues,
    grafanaValues,
    hubPrometheusValues,
    observabilityNames,
    ObservabilitySettings,
    observabilityKey,
} from "../../stacks/observability";
import { Plan, plainInputs, plan, PlannedResource, StackConfig, loadStackFile } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";
import { helm, helmStats, K8sObject, template } from "../support/helm";
import { validateKubeObject } from "../support/kubeSchemas";
import { isIstioRelease, isObservabilityRelease } from "../support/releases";
import { chartArchive, observabilityChartsDir } from "./chartsDir";

const kubeVersion = "1.32.0";
const unknownSentinel = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

type Obj = Record<string, unknown>;

interface Port {
    readonly name?: string;
    readonly port: number;
    readonly appProtocol?: string;
    readonly protocol?: string;
}

interface PodTemplate {
    readonly metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
    readonly spec: {
        serviceAccountName?: string;
        containers: { name: string; env?: { name: string; value?: string; valueFrom?: Obj }[] }[];
        volumes?: Obj[];
    };
}

/** One rendered release of the plan. */
interface Rendered {
    readonly cluster: string;
    readonly releaseName: string;
    readonly namespace: string;
    readonly chart: string;
    readonly objects: readonly K8sObject[];
}

// ---------------------------------------------------------------------------------------------------------
// Reading rendered objects
// ---------------------------------------------------------------------------------------------------------

function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject | undefined {
    return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

function ports(service: K8sObject): Port[] {
    return ((service.spec as { ports?: Port[] }).ports ?? []).slice();
}

function serviceType(service: K8sObject): string {
    return (service.spec as { type?: string }).type ?? "ClusterIP";
}

function podTemplate(o: K8sObject): PodTemplate {
    return (o.spec as { template: PodTemplate }).template;
}

/** The only Deployment of a render (each release runs one workload). */
function deployment(r: Rendered): K8sObject | undefined {
    const ds = r.objects.filter((o) => o.kind === "Deployment");
    return ds.length === 1 ? ds[0] : undefined;
}

/** Whether Istio treats the port as HTTP: `appProtocol`, else the name's protocol prefix. */
function isHttpPort(p: Port): boolean {
    if (p.appProtocol !== undefined) return p.appProtocol === "http";
    return p.name === "http" || (p.name ?? "").startsWith("http-");
}

function isGrpcPort(p: Port): boolean {
    if (p.appProtocol !== undefined) return p.appProtocol === "grpc";
    return p.name === "grpc" || (p.name ?? "").startsWith("grpc-");
}

function prometheusConfig(objects: readonly K8sObject[], name: string): Obj | undefined {
    const cm = find(objects, "ConfigMap", name);
    const text = (cm?.data as Record<string, string> | undefined)?.["prometheus.yml"];
    return text === undefined ? undefined : (YAML.parse(text) as Obj);
}

function jobs(config: Obj | undefined): Obj[] {
    return (config?.scrape_configs as Obj[] | undefined) ?? [];
}

function containerPorts(t: PodTemplate): number[] {
    return t.spec.containers.flatMap((c) =>
        ((c as { ports?: { containerPort: number }[] }).ports ?? []).map((x) => x.containerPort),
    );
}

/** Whether `selector` selects pods labelled `labels`. */
function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
    return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

// ---------------------------------------------------------------------------------------------------------
// The checks: each returns its problems, empty when the render is what the program assumes
// ---------------------------------------------------------------------------------------------------------

/** A cluster's own Prometheus: its unique Service on 9090/http, the `cluster` label, the pod job, no volume. */
function clusterPrometheusProblems(r: Rendered, cluster: string): string[] {
    const out: string[] = [];
    const name = `prometheus-${cluster}`;
    const svc = find(r.objects, "Service", name);
    if (!svc) out.push(`no Service ${name}`);
    else {
        if (serviceType(svc) !== "ClusterIP") out.push(`Service ${name} is ${serviceType(svc)}`);
        const p = ports(svc).find((x) => x.port === 9090);
        if (!p) out.push(`Service ${name} has no port 9090: ${JSON.stringify(ports(svc))}`);
        else if (p.name !== "http" || !isHttpPort(p)) out.push(`port 9090 is ${JSON.stringify(p)}, not http`);
    }
    const config = prometheusConfig(r.objects, name);
    if (!config) out.push(`no ConfigMap ${name} with prometheus.yml`);
    else {
        const labels = (config.global as { external_labels?: Record<string, string> } | undefined)
            ?.external_labels;
        if (labels?.cluster !== cluster) out.push(`external_labels.cluster is ${String(labels?.cluster)}`);
        const names = jobs(config).map((j) => j.job_name);
        if (!names.includes("kubernetes-pods")) out.push(`no kubernetes-pods job: ${names.join(", ")}`);
        if (names.some((n) => String(n).includes("pushgateway")))
            out.push(`a pushgateway job: ${names.join(", ")}`);
    }
    const d = deployment(r);
    if (!d) out.push("not exactly one Deployment");
    else {
        const annotation =
            podTemplate(d).metadata.annotations?.["traffic.sidecar.istio.io/includeOutboundIPRanges"];
        if (annotation !== "") out.push(`includeOutboundIPRanges is ${JSON.stringify(annotation)}, not ""`);
    }
    if (r.objects.some((o) => o.kind === "PersistentVolumeClaim")) out.push("a PersistentVolumeClaim");
    return out;
}

interface HubExpectations {
    readonly clusters: readonly string[];
    readonly namespace: string;
    readonly hubStorage?: string;
    /** The principals AuthorizationPolicy `prometheus-federate` allows. */
    readonly federators: readonly string[];
    readonly trustDomain: string;
}

/** The hub's Prometheus: Service `prometheus`, federation jobs only, the principal the policy allows. */
function hubPrometheusProblems(r: Rendered, e: HubExpectations): string[] {
    const out: string[] = [];
    const name = observabilityNames.hubService;
    const svc = find(r.objects, "Service", name);
    if (!svc) out.push(`no Service ${name}`);
    else if (!ports(svc).some((p) => p.port === 9090)) out.push(`Service ${name} has no port 9090`);
    const config = prometheusConfig(r.objects, name);
    const expected = e.clusters.map((c) => `federate-${c}`).sort();
    const names = jobs(config)
        .map((j) => String(j.job_name))
        .sort();
    if (JSON.stringify(names) !== JSON.stringify(expected)) {
        out.push(`scrape jobs are ${names.join(", ")}; expected only ${expected.join(", ")}`);
    }
    for (const c of e.clusters) {
        const job = jobs(config).find((j) => j.job_name === `federate-${c}`);
        if (!job) continue;
        const targets = (job.static_configs as { targets: string[] }[] | undefined)?.flatMap(
            (s) => s.targets,
        );
        const target = `prometheus-${c}.${e.namespace}.svc.cluster.local:9090`;
        if (JSON.stringify(targets) !== JSON.stringify([target])) {
            out.push(`federate-${c} targets ${JSON.stringify(targets)}, not ${target}`);
        }
        if (job.metrics_path !== "/federate")
            out.push(`federate-${c} metrics_path ${String(job.metrics_path)}`);
        if (job.honor_labels !== true) out.push(`federate-${c} does not honor labels`);
        const match = (job.params as Record<string, unknown> | undefined)?.["match[]"];
        if (!Array.isArray(match) || match.length === 0) out.push(`federate-${c} has no match[]`);
    }
    // Static targets only: it needs no right to read the cluster, and the chart must not grant one.
    for (const kind of ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]) {
        for (const o of r.objects.filter((x) => x.kind === kind))
            out.push(`renders ${kind} ${o.metadata?.name}`);
    }
    const d = deployment(r);
    if (!d) out.push("not exactly one Deployment");
    else {
        const sa = podTemplate(d).spec.serviceAccountName;
        const principal = `${e.trustDomain}/ns/${e.namespace}/sa/${sa}`;
        if (!e.federators.includes(principal)) {
            out.push(
                `runs as ${principal}; prometheus-federate allows ${e.federators.join(", ") || "no one"}`,
            );
        }
    }
    const pvcs = r.objects.filter((o) => o.kind === "PersistentVolumeClaim");
    if (e.hubStorage === undefined && pvcs.length > 0) out.push("a PersistentVolumeClaim without hubStorage");
    if (e.hubStorage !== undefined) {
        const size = (pvcs[0]?.spec as { resources?: { requests?: { storage?: string } } } | undefined)
            ?.resources?.requests?.storage;
        if (pvcs.length !== 1 || size !== e.hubStorage) {
            out.push(`hubStorage ${e.hubStorage}: ${pvcs.length} PVCs, size ${String(size)}`);
        }
    }
    return out;
}

/** Jaeger: Service `jaeger` with the OTLP gRPC port the mesh's tracing provider names, listening beyond loopback. */
function jaegerProblems(r: Rendered, provider: { service: string; port: number } | undefined): string[] {
    const out: string[] = [];
    const svc = find(r.objects, "Service", observabilityNames.jaeger);
    if (!svc) return [`no Service ${observabilityNames.jaeger}`];
    const otlp = ports(svc).find((p) => p.port === 4317);
    if (!otlp || !isGrpcPort(otlp)) out.push(`port 4317 is ${JSON.stringify(otlp)}, not gRPC`);
    const fqdn = `${svc.metadata.name}.${r.namespace}.svc.cluster.local`;
    if (!provider) out.push("no opentelemetry tracing provider in istiod's mesh config");
    else if (
        provider.service !== fqdn ||
        !ports(svc).some((p) => p.port === provider.port && isGrpcPort(p))
    ) {
        out.push(
            `the tracing provider sends to ${provider.service}:${provider.port}; Jaeger is ${fqdn}:4317`,
        );
    }
    const d = deployment(r);
    const env = d ? podTemplate(d).spec.containers.flatMap((c) => c.env ?? []) : [];
    if (!env.some((v) => v.name === "JAEGER_LISTEN_HOST" && v.value === "0.0.0.0")) {
        out.push("JAEGER_LISTEN_HOST is not 0.0.0.0");
    }
    return out;
}

interface GrafanaExpectations {
    /** Where the other releases' Services are: `http://<svc>.<ns>.svc.cluster.local:<port>`. */
    readonly prometheusUrl: string;
    readonly jaegerUrl?: string;
}

/** Grafana: admin from `grafana-admin`, no chart Secret, datasources on the rendered Services, HTTP, 443 out. */
function grafanaProblems(r: Rendered, e: GrafanaExpectations): string[] {
    const out: string[] = [];
    const d = deployment(r);
    const container = d ? podTemplate(d).spec.containers.find((c) => c.name === "grafana") : undefined;
    for (const [variable, key] of [
        ["GF_SECURITY_ADMIN_USER", "admin-user"],
        ["GF_SECURITY_ADMIN_PASSWORD", "admin-password"],
    ] as const) {
        const valueFrom = container?.env?.find((v) => v.name === variable)?.valueFrom;
        const ref = valueFrom?.secretKeyRef as { name?: string; key?: string } | undefined;
        if (ref?.name !== observabilityNames.grafanaAdminSecret || ref.key !== key) {
            out.push(
                `${variable} is not read from Secret ${observabilityNames.grafanaAdminSecret} key ${key}`,
            );
        }
    }
    for (const s of r.objects.filter((o) => o.kind === "Secret")) {
        const keys = Object.keys({ ...(s.data as Obj), ...(s.stringData as Obj) });
        if (keys.some((k) => /password/i.test(k)))
            out.push(`the chart renders Secret ${s.metadata.name} with a password`);
    }
    const cm = find(r.objects, "ConfigMap", observabilityNames.grafana);
    const text = (cm?.data as Record<string, string> | undefined)?.["datasources.yaml"];
    const urls = text
        ? ((YAML.parse(text) as { datasources: { type: string; url: string }[] }).datasources ?? []).map(
              (x) => [x.type, x.url] as const,
          )
        : [];
    const expected = [
        ["prometheus", e.prometheusUrl],
        ...(e.jaegerUrl ? [["jaeger", e.jaegerUrl] as const] : []),
    ];
    if (JSON.stringify(urls) !== JSON.stringify(expected)) {
        out.push(`datasources ${JSON.stringify(urls)}; the Services are ${JSON.stringify(expected)}`);
    }
    const svc = find(r.objects, "Service", observabilityNames.grafana);
    if (!svc) out.push(`no Service ${observabilityNames.grafana}`);
    else if (!ports(svc).every((p) => p.appProtocol === "http")) {
        out.push(`Service ports ${JSON.stringify(ports(svc))} are not appProtocol http`);
    }
    const exclude = d
        ? podTemplate(d).metadata.annotations?.["traffic.sidecar.istio.io/excludeOutboundPorts"]
        : "";
    if (!(exclude ?? "").split(",").includes("443")) out.push(`excludeOutboundPorts is ${String(exclude)}`);
    return out;
}

/** Nothing reachable from outside the mesh, and every object valid against Kubernetes' schemas. */
function exposureAndSchemaProblems(r: Rendered): string[] {
    const out: string[] = [];
    for (const o of r.objects) {
        const where = `${r.cluster}/${r.releaseName}: ${o.kind} ${o.metadata.name}`;
        if (o.kind === "Service" && ["LoadBalancer", "NodePort"].includes(serviceType(o))) {
            out.push(`${where} is ${serviceType(o)}`);
        }
        if (o.kind === "Ingress" || o.kind === "NetworkPolicy") out.push(`${where} is rendered`);
        // validateKubeObject names a kind it has no model for as a problem: none is skipped.
        out.push(...validateKubeObject(o).map((p) => `${where}: ${p}`));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------
// Plans and renders
// ---------------------------------------------------------------------------------------------------------

async function renderRelease(r: PlannedResource): Promise<Rendered> {
    const inputs = plainInputs(r);
    const pin = chartDefaultsFor(inputs.chart as string, inputs.version as string);
    return {
        cluster: r.cluster!,
        releaseName: inputs.name as string,
        namespace: inputs.namespace as string,
        chart: inputs.chart as string,
        objects: await template({
            releaseName: inputs.name as string,
            chart: chartArchive(pin),
            namespace: inputs.namespace as string,
            version: pin.version,
            values: inputs.values as Record<string, unknown>,
            kubeVersion,
        }),
    };
}

function chartDefaultsFor(chart: string, version: string): ChartPin {
    const pin = (chartDefaults as Record<string, ChartPin>)[chart];
    assert.ok(pin, `no pinned chart ${chart}`);
    return { ...pin, version };
}

function renderValues(pin: ChartPin, releaseName: string, namespace: string, values: Obj): Promise<Rendered> {
    return template({
        releaseName,
        chart: chartArchive(pin),
        namespace,
        version: pin.version,
        values,
        kubeVersion,
    }).then((objects) => ({ cluster: "test", releaseName, namespace, chart: pin.chart, objects }));
}

const ns = "observability";

function observability(extra: Obj): Obj {
    return { [observabilityKey]: extra };
}

/** Two primaries on two networks and a remote of the first, on its network. */
function mixed(hub: string, obs: Obj, meshExtra: Obj = {}): StackConfig {
    return stackConfig(
        mesh(meshExtra),
        [primary("east", "net-east"), primary("west", "net-west"), remote("edge", "east", "net-east")],
        { extra: observability({ hub, ...obs }) },
    );
}

const revision = { istio: { version: "1.30.3", revision: "1-30-3" } };

const cases: { label: string; config: () => StackConfig }[] = [
    { label: "the dev stack", config: () => loadStackFile("dev") },
    { label: "the prod stack", config: () => loadStackFile("prod") },
    { label: "mixed, the hub a remote", config: () => mixed("edge", {}) },
    {
        label: "mixed, the hub a primary, with a revision, hub storage and resources",
        config: () =>
            mixed(
                "west",
                {
                    metrics: {
                        hubStorage: "20Gi",
                        scrapeInterval: "30s",
                        retention: "6h",
                        hubRetention: "30d",
                        resources: { requests: { cpu: "100m", memory: "256Mi" } },
                        hubResources: { requests: { cpu: "200m", memory: "1Gi" } },
                    },
                    tracing: { resources: { requests: { cpu: "50m", memory: "128Mi" } } },
                    dashboards: { resources: { requests: { cpu: "50m", memory: "128Mi" } } },
                },
                revision,
            ),
    },
    {
        label: "mixed, metrics off",
        config: () => mixed("east", { metrics: { enabled: false }, dashboards: { enabled: false } }),
    },
    {
        label: "mixed, dashboards off, with a revision",
        config: () => mixed("west", { dashboards: { enabled: false } }, revision),
    },
    {
        label: "mixed, an external tracing backend",
        config: () => mixed("edge", { tracing: { backend: "external" } }),
    },
];

describe("observability charts, rendered with helm template", function () {
    this.timeout(120000);
    const started = Date.now();
    let renders = 0;
    before(() => {
        observabilityChartsDir();
    });
    after(() => {
        const { calls, millis } = helmStats();
        console.log(
            `      charts tier: ${renders} releases in ${cases.length} topologies, ${calls} helm renders, ` +
                `${(millis / 1000).toFixed(1)} s of helm time run concurrently, ` +
                `${((Date.now() - started) / 1000).toFixed(1)} s in all, helm from ${helm().source}`,
        );
    });

    for (const c of cases) {
        describe(c.label, () => {
            let p: Plan;
            let settings: Obj;
            let clusters: string[];
            let rendered: Rendered[];
            /** The namespace's AuthorizationPolicies, as the plan gives them (the same in every primary). */
            let policies: Map<
                string,
                { selector: Record<string, string>; principals: string[]; ports: string[] }
            >;
            let trustDomain: string;
            let provider: { service: string; port: number } | undefined;

            before(async () => {
                const config = c.config();
                settings = JSON.parse(config.values[observabilityKey]!) as Obj;
                p = await plan(config);
                clusters = [...new Set(p.resources.filter((r) => r.cluster !== null).map((r) => r.cluster!))];
                const releases = p.resources.filter(isObservabilityRelease);
                rendered = await Promise.all(releases.map(renderRelease));
                renders += rendered.length;
                policies = new Map();
                for (const r of p.resources.filter(
                    (x) => x.type === "kubernetes:security.istio.io/v1:AuthorizationPolicy",
                )) {
                    const i = plainInputs(r) as { metadata: { name: string; namespace: string }; spec: Obj };
                    if (i.metadata.namespace !== ns) continue;
                    const spec = i.spec as {
                        selector: { matchLabels: Record<string, string> };
                        rules: {
                            from?: { source: { principals?: string[] } }[];
                            to?: { operation: { ports?: string[] } }[];
                        }[];
                    };
                    const entry = {
                        selector: spec.selector.matchLabels,
                        principals: spec.rules.flatMap((rule) =>
                            (rule.from ?? []).flatMap((f) => f.source.principals ?? []),
                        ),
                        ports: spec.rules.flatMap((rule) =>
                            (rule.to ?? []).flatMap((t) => t.operation.ports ?? []),
                        ),
                    };
                    const seen = policies.get(i.metadata.name);
                    assert.ok(
                        !seen || JSON.stringify(seen) === JSON.stringify(entry),
                        `${i.metadata.name} differs between primaries`,
                    );
                    policies.set(i.metadata.name, entry);
                }
                const istiod = p.resources.find(
                    (r) => isIstioRelease(r) && plainInputs(r).chart === "istiod",
                );
                const meshConfig = (plainInputs(istiod!).values as { meshConfig?: Obj }).meshConfig ?? {};
                trustDomain = (meshConfig.trustDomain as string | undefined) ?? "cluster.local";
                provider = (
                    (meshConfig.extensionProviders as
                        { opentelemetry?: { service: string; port: number } }[] | undefined) ?? []
                ).find((x) => x.opentelemetry)?.opentelemetry;
            });

            const hub = () => settings.hub as string;
            const metricsOn = () => (settings.metrics as Obj | undefined)?.enabled !== false;
            const jaegerOn = () => (settings.tracing as Obj | undefined)?.backend !== "external";
            const dashboardsOn = () =>
                metricsOn() && (settings.dashboards as Obj | undefined)?.enabled !== false;
            const release = (cluster: string, name: string) =>
                rendered.find((r) => r.cluster === cluster && r.releaseName === name);
            const clusterPrometheus = (cluster: string) =>
                release(cluster, observabilityNames.clusterRelease);
            const hubPrometheus = () => release(hub(), observabilityNames.hubRelease);
            const workloadLabels = (r: Rendered | undefined) => {
                const d = r && deployment(r);
                assert.ok(d, `no Deployment in ${r?.releaseName}`);
                return podTemplate(d).metadata.labels;
            };

            it("renders every observability release the settings call for, and only those", () => {
                const expected = [
                    ...(metricsOn() ? clusters.map((x) => `${x}/${observabilityNames.clusterRelease}`) : []),
                    ...(metricsOn() ? [`${hub()}/${observabilityNames.hubRelease}`] : []),
                    ...(jaegerOn() ? [`${hub()}/${observabilityNames.jaeger}`] : []),
                    ...(dashboardsOn() ? [`${hub()}/${observabilityNames.grafana}`] : []),
                ].sort();
                assert.deepEqual(rendered.map((r) => `${r.cluster}/${r.releaseName}`).sort(), expected);
                for (const r of rendered) assert.equal(r.namespace, ns, `${r.cluster}/${r.releaseName}`);
            });

            it("every cluster's Prometheus: its own Service on 9090 (http), the cluster label, the pod job, no volume", function () {
                if (!metricsOn())
                    return assert.equal(rendered.filter((r) => r.chart === "prometheus").length, 0);
                for (const x of clusters) {
                    const r = clusterPrometheus(x);
                    assert.ok(r, x);
                    assert.deepEqual(clusterPrometheusProblems(r, x), [], x);
                }
            });

            it("the hub's Prometheus: federation jobs only, the principal prometheus-federate allows, a volume iff hubStorage", () => {
                if (!metricsOn()) return assert.equal(policies.has("prometheus-federate"), false);
                const r = hubPrometheus();
                assert.ok(r);
                const federate = policies.get("prometheus-federate");
                assert.ok(federate, "no prometheus-federate policy");
                assert.deepEqual(
                    hubPrometheusProblems(r, {
                        clusters,
                        namespace: ns,
                        hubStorage: (settings.metrics as { hubStorage?: string } | undefined)?.hubStorage,
                        federators: federate.principals,
                        trustDomain,
                    }),
                    [],
                );
            });

            it("the access policies select the pods the charts render, and name the service accounts they run as", () => {
                if (metricsOn()) {
                    const federate = policies.get("prometheus-federate")!.selector;
                    const hubPolicy = policies.get("prometheus-hub")!.selector;
                    for (const x of clusters) {
                        assert.ok(
                            selects(federate, workloadLabels(clusterPrometheus(x))),
                            `prometheus-federate, ${x}`,
                        );
                        assert.ok(
                            !selects(hubPolicy, workloadLabels(clusterPrometheus(x))),
                            `prometheus-hub selects ${x}'s`,
                        );
                    }
                    assert.ok(selects(hubPolicy, workloadLabels(hubPrometheus())), "prometheus-hub");
                    assert.ok(
                        !selects(federate, workloadLabels(hubPrometheus())),
                        "prometheus-federate selects the hub's",
                    );
                }
                if (jaegerOn()) {
                    const jaeger = policies.get("jaeger");
                    assert.ok(jaeger, "no jaeger policy");
                    assert.ok(
                        selects(jaeger.selector, workloadLabels(release(hub(), observabilityNames.jaeger))),
                        "jaeger",
                    );
                } else {
                    assert.equal(policies.has("jaeger"), false);
                }
                if (dashboardsOn()) {
                    const grafana = deployment(release(hub(), observabilityNames.grafana)!)!;
                    const principal = `${trustDomain}/ns/${ns}/sa/${podTemplate(grafana).spec.serviceAccountName}`;
                    assert.ok(policies.get("prometheus-hub")!.principals.includes(principal), principal);
                    if (jaegerOn())
                        assert.ok(policies.get("jaeger")!.principals.includes(principal), principal);
                }
            });

            it("Jaeger: Service jaeger with the OTLP gRPC port the mesh's tracing provider names, listening on 0.0.0.0", () => {
                if (!jaegerOn()) return assert.equal(release(hub(), observabilityNames.jaeger), undefined);
                assert.deepEqual(jaegerProblems(release(hub(), observabilityNames.jaeger)!, provider), []);
            });

            it("Grafana: admin from grafana-admin, datasources on the rendered Services, HTTP, 443 out of the sidecar", () => {
                if (!dashboardsOn())
                    return assert.equal(release(hub(), observabilityNames.grafana), undefined);
                const prom = find(hubPrometheus()!.objects, "Service", observabilityNames.hubService)!;
                const jaeger = jaegerOn()
                    ? find(
                          release(hub(), observabilityNames.jaeger)!.objects,
                          "Service",
                          observabilityNames.jaeger,
                      )
                    : undefined;
                const ui = jaeger && ports(jaeger).find((x) => x.name === "http-query");
                assert.deepEqual(
                    grafanaProblems(release(hub(), observabilityNames.grafana)!, {
                        prometheusUrl: `http://${prom.metadata.name}.${ns}.svc.cluster.local:${ports(prom)[0]!.port}`,
                        ...(jaeger
                            ? {
                                  jaegerUrl: `http://${jaeger.metadata.name}.${ns}.svc.cluster.local:${ui!.port}`,
                              }
                            : {}),
                    }),
                    [],
                );
                // The Secret it reads is the program's (its data is generated at apply, so unknown here).
                const secret = p.resources.find(
                    (r) =>
                        r.type === "kubernetes:core/v1:Secret" &&
                        r.cluster === hub() &&
                        (plainInputs(r).metadata as { name: string; namespace: string }).name ===
                            observabilityNames.grafanaAdminSecret &&
                        (plainInputs(r).metadata as { namespace: string }).namespace === ns,
                );
                assert.ok(secret, "no grafana-admin Secret in the plan");
            });

            it("nothing exposed beyond the mesh (no LoadBalancer, NodePort, Ingress, NetworkPolicy); all valid Kubernetes", () => {
                assert.deepEqual(rendered.flatMap(exposureAndSchemaProblems), []);
            });

            it("the hub's stub Services match the port of each cluster's rendered Prometheus Service", () => {
                const stubs = p.resources.filter(
                    (r) =>
                        r.type === "kubernetes:core/v1:Service" &&
                        r.cluster === hub() &&
                        (plainInputs(r).metadata as Obj | undefined)?.namespace === ns,
                );
                if (!metricsOn()) return assert.equal(stubs.length, 0);
                const byName = new Map(
                    stubs.map((s) => [(plainInputs(s).metadata as { name: string }).name, plainInputs(s)]),
                );
                assert.deepEqual(
                    [...byName.keys()].sort(),
                    clusters
                        .filter((x) => x !== hub())
                        .map((x) => `prometheus-${x}`)
                        .sort(),
                );
                for (const x of clusters.filter((y) => y !== hub())) {
                    const stub = byName.get(`prometheus-${x}`)!;
                    const real = find(clusterPrometheus(x)!.objects, "Service", `prometheus-${x}`)!;
                    const shape = (ps: Port[]) =>
                        ps.map((q) => ({ name: q.name, port: q.port })).sort((a, b) => a.port - b.port);
                    assert.deepEqual(shape((stub.spec as { ports: Port[] }).ports), shape(ports(real)), x);
                }
                // Every federation target resolves in the hub: the hub's own Prometheus, or a stub.
                assert.ok(find(clusterPrometheus(hub())!.objects, "Service", `prometheus-${hub()}`));
            });

            it("every Prometheus keeps series as long as configured and scrapes at the configured interval", () => {
                if (!metricsOn()) return;
                const m = (settings.metrics ?? {}) as Record<string, string | undefined>;
                const check = (r: Rendered | undefined, name: string, retention: string) => {
                    assert.ok(r, name);
                    const server = podTemplate(deployment(r)!).spec.containers.find(
                        (x) => x.name === "prometheus-server",
                    ) as { args?: string[] } | undefined;
                    assert.ok(server?.args?.includes(`--storage.tsdb.retention.time=${retention}`), name);
                    const global = prometheusConfig(r.objects, name)?.global as Obj | undefined;
                    assert.equal(global?.scrape_interval, m.scrapeInterval ?? "15s", name);
                };
                for (const x of clusters)
                    check(clusterPrometheus(x), `prometheus-${x}`, m.retention ?? "24h");
                check(hubPrometheus(), observabilityNames.hubService, m.hubRetention ?? "15d");
            });

            it("every port an access policy allows is a container port of the pods it selects", () => {
                for (const [name, policy] of policies) {
                    const pods = rendered
                        .map((r) => deployment(r))
                        .filter((d): d is K8sObject => d !== undefined)
                        .map(podTemplate)
                        .filter((t) => selects(policy.selector, t.metadata.labels));
                    assert.ok(pods.length > 0, `${name} selects no rendered pod`);
                    for (const t of pods) {
                        assert.deepEqual(
                            policy.ports.filter((port) => !containerPorts(t).includes(Number(port))),
                            [],
                            `${name}: ports the pod does not listen on`,
                        );
                    }
                }
            });

            it("no two releases of a cluster render the same object", () => {
                const seen = new Map<string, string>();
                for (const r of rendered) {
                    for (const o of r.objects) {
                        const key = `${r.cluster} ${o.kind} ${o.metadata.namespace ?? r.namespace}/${o.metadata.name}`;
                        const other = seen.get(key);
                        assert.equal(other, undefined, `${key} in ${other} and ${r.releaseName}`);
                        seen.set(key, r.releaseName);
                    }
                }
            });

            it("no value of the plan is unknown to Helm", () => {
                for (const r of p.resources.filter(isObservabilityRelease)) {
                    assert.ok(!JSON.stringify(plainInputs(r)).includes(unknownSentinel), r.name);
                }
            });
        });
    }
});

/** The checks fail on what they exist to catch: each case renders a deliberately wrong value. */
describe("observability chart checks catch a wrong render", function () {
    this.timeout(120000);
    const settings = (): ObservabilitySettings => ({
        hub: "east",
        namespace: ns,
        tracing: {
            samplingPercent: 1,
            backend: "jaeger",
            protocol: "opentelemetry",
            service: `jaeger.${ns}.svc.cluster.local`,
            port: 4317,
        },
        accessLogs: false,
        metrics: { scrapeInterval: "15s", retention: "24h", hubRetention: "15d" },
        dashboards: {},
        charts: chartDefaults,
    });

    it("the chart's default Service port (80) and the pushgateway job", async () => {
        const values = clusterPrometheusValues(settings(), "east") as { server: Obj; scrapeConfigs?: Obj };
        const ok = await renderValues(chartDefaults.prometheus, "prometheus-cluster", ns, values);
        assert.deepEqual(clusterPrometheusProblems(ok, "east"), []);
        const rest: Obj = { ...values };
        delete rest.scrapeConfigs;
        const wrong = await renderValues(chartDefaults.prometheus, "prometheus-cluster", ns, {
            ...rest,
            server: { ...values.server, service: { type: "ClusterIP" } },
        });
        const problems = clusterPrometheusProblems(wrong, "east");
        assert.ok(
            problems.some((x) => x.includes("no port 9090")),
            problems.join("; "),
        );
        assert.ok(
            problems.some((x) => x.includes("pushgateway")),
            problems.join("; "),
        );
    });

    it("`scrapeConfigs: {}` keeps the chart's default jobs in the hub; another service account is not the federator", async () => {
        const values = hubPrometheusValues(settings(), ["east", "west"]);
        const wrong = await renderValues(chartDefaults.prometheus, "prometheus-hub", ns, {
            ...values,
            scrapeConfigs: {},
            serviceAccounts: { server: { name: "someone-else" } },
        });
        const problems = hubPrometheusProblems(wrong, {
            clusters: ["east", "west"],
            namespace: ns,
            federators: [`cluster.local/ns/${ns}/sa/prometheus`],
            trustDomain: "cluster.local",
        });
        assert.ok(
            problems.some((x) => x.includes("kubernetes-pods")),
            problems.join("; "),
        );
        assert.ok(
            problems.some((x) => x.includes("someone-else")),
            problems.join("; "),
        );
    });

    it("another release name: the policy selector no longer matches the pods", async () => {
        const r = await renderValues(
            chartDefaults.prometheus,
            "prom",
            ns,
            clusterPrometheusValues(settings(), "east"),
        );
        const labels = podTemplate(deployment(r)!).metadata.labels;
        assert.equal(
            selects({ "app.kubernetes.io/instance": observabilityNames.clusterRelease }, labels),
            false,
        );
    });

    it("Grafana without the existing Secret renders its own password; Jaeger on loopback", async () => {
        const values = grafanaValues(settings(), "1.30.3") as Obj;
        const rest: Obj = { ...values };
        delete rest.admin;
        const wrong = await renderValues(chartDefaults.grafana, "grafana", ns, {
            ...rest,
            service: { type: "ClusterIP" },
        });
        const problems = grafanaProblems(wrong, {
            prometheusUrl: `http://prometheus.${ns}.svc.cluster.local:9090`,
        });
        assert.ok(
            problems.some((x) => x.includes("GF_SECURITY_ADMIN_PASSWORD")),
            problems.join("; "),
        );
        assert.ok(
            problems.some((x) => x.includes("with a password")),
            problems.join("; "),
        );
        assert.ok(
            problems.some((x) => x.includes("appProtocol")),
            problems.join("; "),
        );
        const jaeger = await renderValues(chartDefaults.jaeger, "jaeger", ns, { fullnameOverride: "jaeger" });
        const jp = jaegerProblems(jaeger, { service: `jaeger.${ns}.svc.cluster.local`, port: 4318 });
        assert.ok(
            jp.some((x) => x.includes("JAEGER_LISTEN_HOST")),
            jp.join("; "),
        );
        assert.ok(
            jp.some((x) => x.includes("4318")),
            jp.join("; "),
        );
    });

    it("a LoadBalancer Service and an object Kubernetes does not know are caught", async () => {
        const r = await renderValues(chartDefaults.grafana, "grafana", ns, {
            ...grafanaValues(settings(), "1.30.3"),
            service: { type: "LoadBalancer", port: 80 },
        });
        const problems = exposureAndSchemaProblems({
            ...r,
            objects: [
                ...r.objects,
                { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { portz: [] } },
            ],
        });
        assert.ok(
            problems.some((x) => x.includes("is LoadBalancer")),
            problems.join("; "),
        );
        assert.ok(
            problems.some((x) => x.includes("portz")),
            problems.join("; "),
        );
    });
});
