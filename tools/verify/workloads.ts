/** Checks of what runs: Deployments ready, sidecars injected, Service endpoints, and observability. */
import { injectionLabel } from "../../stacks/names";
import {
    ChartRelease,
    ClusterObservability,
    clusterPrometheusName,
    observabilityNames,
    observabilityPorts,
} from "../../stacks/observability";
import { Kube } from "./kube";
import { Meta, Results, selector } from "./results";

export interface DeploymentStatus {
    spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
    status?: { readyReplicas?: number };
}

export interface PodInfo {
    metadata?: { name?: string; deletionTimestamp?: string };
    spec?: { containers?: { name?: string }[]; initContainers?: { name?: string; restartPolicy?: string }[] };
    status?: { phase?: string };
}

export interface ServiceInfo {
    spec?: { selector?: Record<string, string>; ports?: { port?: number }[] };
}

/** The sidecar container injection adds: a container, or (native sidecars) an init container that keeps running. */
export const sidecarName = "istio-proxy";

/**
 * Observability (stacks/observability/), from the same plan the program applied: the namespace and the cluster's
 * Prometheus everywhere; in the hub, its Deployments and the selector-less Services that name other clusters'
 * Prometheus; in primaries, the namespace's mTLS and access policies.
 */
export async function checkObservability(
    obs: ClusterObservability,
    revision: string | undefined,
    kube: Kube,
    r: Results,
): Promise<void> {
    const on = obs.namespace.name;
    const injection = injectionLabel(revision);
    const want = Object.entries(obs.namespace.labels).filter(([k]) => k in injection);
    const wantText = want.map(([k, v]) => `${k}=${v}`).join(", ");
    const nsExpected = `namespace ${on} with label ${wantText}`;
    const nsHint = `re-run \`pulumi up\` (it creates ${on} labelled for injection), or \`kubectl label ns ${on} ${want
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")} --overwrite\` and \`kubectl -n ${on} rollout restart deploy\``;
    await r.guard("obs-namespace", nsExpected, "check read access to namespaces", async () => {
        const n = await kube.get<Meta>(`/api/v1/namespaces/${on}`);
        const labels = n?.metadata?.labels ?? {};
        const found = !n
            ? `no namespace ${on}`
            : `namespace ${on} with ${want.map(([k]) => `${k}=${labels[k] ?? "(none)"}`).join(", ")}`;
        r.check("obs-namespace", !!n && want.every(([k, v]) => labels[k] === v), nsExpected, found, nsHint);
    });

    const describe = (n: string) =>
        `\`kubectl -n ${on} describe deploy/${n}\` and \`kubectl -n ${on} logs deploy/${n}\``;
    if (obs.prometheus) {
        const name = clusterPrometheusName(obs.cluster.name);
        const release = obs.prometheus.releaseName;
        const d = await checkDeployment(
            "prometheus",
            on,
            name,
            release,
            `${describe(name)}; its pods need the sidecar injector of istiod to start`,
            kube,
            r,
        );
        if (d) await checkInjected(on, name, d, want, kube, r);
        await checkServiceEndpoints(on, name, kube, r);
    }

    if (obs.hub) {
        const hub = obs.hub;
        // Each hub workload the plan calls for: its check, its Deployment (the chart's fullnameOverride), and
        // what to look at when it is not ready.
        const workloads: [string, string, ChartRelease | undefined, string][] = [
            ["hub-prometheus", observabilityNames.hubService, hub.prometheus, ""],
            ["hub-jaeger", observabilityNames.jaeger, hub.jaeger, ""],
            [
                "hub-grafana",
                observabilityNames.grafana,
                hub.grafana,
                "; check the hub's egress to raw.githubusercontent.com for Grafana's dashboards (its init " +
                    `container downloads them) and that Secret ${observabilityNames.grafanaAdminSecret} exists ` +
                    "(re-run `pulumi up`)",
            ],
        ];
        for (const [check, name, release, more] of workloads) {
            if (release)
                await checkDeployment(check, on, name, release.releaseName, describe(name) + more, kube, r);
        }
        for (const stub of hub.stubs) await checkStub(on, stub, kube, r);
    }

    for (const o of obs.istioObjects.filter((x) => x.kind === "PeerAuthentication")) {
        const name = o.metadata.name;
        const mode = (o.spec as { mtls?: { mode?: string } }).mtls?.mode ?? "STRICT";
        const expected = `PeerAuthentication ${on}/${name} with mTLS ${mode}`;
        const hint =
            `re-run \`pulumi up\` to restore it (\`kubectl -n ${on} get peerauthentication ${name} -o yaml\` shows ` +
            `what changed it); without ${mode} the hub's metrics and spans can reach ${on} outside mTLS`;
        await r.guard("obs-mtls", expected, hint, async () => {
            const pa = await kube.get<{ spec?: { mtls?: { mode?: string } } }>(istioObjectPath(o, on));
            const found = !pa
                ? `no PeerAuthentication ${name} in ${on}`
                : `mTLS ${pa.spec?.mtls?.mode ?? "(unset: inherits the mesh's)"}`;
            r.check("obs-mtls", pa?.spec?.mtls?.mode === mode, expected, found, hint);
        });
    }

    const policies = obs.istioObjects.filter((x) => x.kind === "AuthorizationPolicy");
    if (policies.length) {
        const expected = `AuthorizationPolicies ${policies.map((p) => p.metadata.name).join(", ")} in ${on}`;
        const hint =
            `re-run \`pulumi up\` to restore them; without them anything in the mesh may call /federate, ` +
            `the hub's Prometheus and Jaeger (\`kubectl -n ${on} get authorizationpolicy\`)`;
        await r.guard("obs-authz", expected, hint, async () => {
            const problems: string[] = [];
            for (const p of policies) {
                const want = (p.spec as { action?: string }).action ?? "ALLOW";
                const have = await kube.get<{ spec?: { action?: string } }>(istioObjectPath(p, on));
                if (!have) problems.push(`no ${p.metadata.name}`);
                else if ((have.spec?.action ?? "ALLOW") !== want)
                    problems.push(`${p.metadata.name} is ${have.spec?.action} (planned ${want})`);
            }
            r.check(
                "obs-authz",
                problems.length === 0,
                expected,
                problems.length ? problems.join("; ") : `${policies.length} present`,
                hint,
            );
        });
    }
}

/** The resource (plural) of each kind the plan puts in the observability namespace. */
export const istioResources: Readonly<Record<string, string>> = {
    PeerAuthentication: "peerauthentications",
    AuthorizationPolicy: "authorizationpolicies",
};

/** The API path of one planned Istio object (`/apis/security.istio.io/v1/namespaces/<ns>/<resource>/<name>`). */
export function istioObjectPath(
    o: { apiVersion: string; kind: string; metadata: { name: string } },
    on: string,
): string {
    const resource = istioResources[o.kind] ?? `${o.kind.toLowerCase()}s`;
    return `/apis/${o.apiVersion}/namespaces/${on}/${resource}/${o.metadata.name}`;
}

/** A Deployment with at least one ready replica; returns it when it exists. */
export async function checkDeployment(
    check: string,
    on: string,
    name: string,
    release: string,
    hint: string,
    kube: Kube,
    r: Results,
): Promise<DeploymentStatus | undefined> {
    const expected = `Deployment ${on}/${name} available (at least 1 ready replica)`;
    let found: DeploymentStatus | undefined;
    await r.guard(check, expected, hint, async () => {
        const d = await kube.get<DeploymentStatus>(`/apis/apps/v1/namespaces/${on}/deployments/${name}`);
        if (!d) {
            r.fail(
                check,
                expected,
                `no Deployment ${name} in ${on}`,
                `re-run \`pulumi up\`: it installs the Helm release ${release} in ${on}`,
            );
            return;
        }
        found = d;
        const ready = d.status?.readyReplicas ?? 0;
        r.check(check, ready >= 1, expected, `${ready}/${d.spec?.replicas ?? 1} ready`, hint);
    });
    return found;
}

/** The Deployment's pods carry the mesh's sidecar: the hub federates them over mTLS through it. */
export async function checkInjected(
    on: string,
    name: string,
    d: DeploymentStatus,
    want: readonly [string, string][],
    kube: Kube,
    r: Results,
): Promise<void> {
    const check = "prometheus-injected";
    const expected = `the pods of Deployment ${name} carry an ${sidecarName} container (injected)`;
    const hint =
        `the pods started without the sidecar: make sure namespace ${on} has ${want
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")} (re-run \`pulumi up\`), then \`kubectl -n ${on} rollout restart deploy/${name}\`; ` +
        `without it the hub cannot federate this Prometheus through the mesh`;
    const labels = Object.entries(d.spec?.selector?.matchLabels ?? {});
    if (labels.length === 0) {
        r.fail(check, expected, `Deployment ${name} has no matchLabels selector`, "re-run `pulumi up`");
        return;
    }
    await r.guard(check, expected, hint, async () => {
        const list = await kube.get<{ items?: PodInfo[] }>(
            `/api/v1/namespaces/${on}/pods?${selector(labels.map(([k, v]) => `${k}=${v}`).join(","))}`,
        );
        const pods = (list?.items ?? []).filter(
            (p) =>
                !p.metadata?.deletionTimestamp &&
                p.status?.phase !== "Succeeded" &&
                p.status?.phase !== "Failed",
        );
        const injected = (p: PodInfo) =>
            (p.spec?.containers ?? []).some((c) => c.name === sidecarName) ||
            (p.spec?.initContainers ?? []).some((c) => c.name === sidecarName);
        const bare = pods.filter((p) => !injected(p)).map((p) => p.metadata?.name ?? "?");
        const found =
            pods.length === 0
                ? `no pod matches the selector of ${name}`
                : `${pods.length - bare.length}/${pods.length} pods with ${sidecarName}` +
                  (bare.length ? ` (without: ${bare.join(", ")})` : "");
        r.check(check, pods.length > 0 && bare.length === 0, expected, found, hint);
    });
}

/** The cluster Prometheus' Service on its port, with ready endpoints (what the hub federates). */
export async function checkServiceEndpoints(on: string, name: string, kube: Kube, r: Results): Promise<void> {
    const check = "prometheus-service";
    const port = observabilityPorts.prometheus;
    const expected = `Service ${on}/${name} on port ${port} with at least one ready endpoint`;
    const hint = `no ready Prometheus pod behind ${name}: \`kubectl -n ${on} describe deploy/${name}\``;
    await r.guard(check, expected, hint, async () => {
        const s = await kube.get<ServiceInfo>(`/api/v1/namespaces/${on}/services/${name}`);
        if (!s) {
            r.fail(
                check,
                expected,
                `no Service ${name} in ${on}`,
                "re-run `pulumi up`: it installs the Service",
            );
            return;
        }
        const ports = (s.spec?.ports ?? []).map((p) => p.port);
        if (!ports.includes(port)) {
            r.fail(
                check,
                expected,
                `Service ${name} on port ${ports.join(", ") || "(none)"}`,
                `re-run \`pulumi up\`: the hub federates ${name} on port ${port}`,
            );
            return;
        }
        const list = await kube.get<{ items?: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(
            `/apis/discovery.k8s.io/v1/namespaces/${on}/endpointslices?${selector(`kubernetes.io/service-name=${name}`)}`,
        );
        const ready = (list?.items ?? [])
            .flatMap((x) => x.endpoints ?? [])
            .filter((e) => e.conditions?.ready !== false);
        r.check(check, ready.length > 0, expected, `port ${port}, ${ready.length} ready`, hint);
    });
}

/** A hub Service standing in for another cluster's Prometheus: planned ports, and no selector. */
export async function checkStub(
    on: string,
    stub: { metadata: { name: string }; spec: Record<string, unknown> },
    kube: Kube,
    r: Results,
): Promise<void> {
    const check = "prometheus-stub";
    const name = stub.metadata.name;
    const ports = ((stub.spec.ports ?? []) as { port: number }[]).map((p) => p.port);
    const expected = `Service ${on}/${name} on port ${ports.join(", ")} with no selector (DNS only; the mesh routes it)`;
    await r.guard(check, expected, "check read access to Services", async () => {
        const s = await kube.get<ServiceInfo>(`/api/v1/namespaces/${on}/services/${name}`);
        if (!s) {
            r.fail(
                check,
                expected,
                `no Service ${name} in ${on}`,
                `re-run \`pulumi up\`: it creates ${name} so the hub's DNS resolves the other cluster's Prometheus`,
            );
            return;
        }
        const have = (s.spec?.ports ?? []).map((p) => p.port);
        const missing = ports.filter((p) => !have.includes(p));
        const sel = Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`);
        const found =
            `port ${have.join(", ") || "(none)"}` +
            (missing.length ? ` (missing ${missing.join(", ")})` : "") +
            (sel.length ? `, selector ${sel.join(", ")}` : ", no selector");
        const hint = sel.length
            ? `a selector makes the hub send ${name} to its own pods instead of the cluster it names: ` +
              `\`kubectl -n ${on} delete svc ${name}\` and re-run \`pulumi up\``
            : `re-run \`pulumi up\`: the hub federates ${name} on port ${ports.join(", ")}`;
        r.check(check, missing.length === 0 && sel.length === 0, expected, found, hint);
    });
}
