/**
 * The checks of `npm run verify`: what each cluster should look like after `pulumi up`, derived from the same
 * topology and plan (stacks/mesh.ts) the program applied, compared with what the cluster reports.
 *
 * Each cluster is checked on its own: a cluster that cannot be reached gives one line and the others are
 * still checked. Only the comparisons that need two clusters (one root of trust; a remote's webhooks point at
 * its primary's gateway) wait for both.
 */
import { X509Certificate } from "node:crypto";
import { ClusterPlan, composeMesh, MeshPlan } from "../../stacks/mesh";
import {
    controlPlaneClustersAnnotation,
    injectionLabel,
    istioNamespace,
    networkLabel,
} from "../../stacks/names";
import {
    ChartRelease,
    ClusterObservability,
    clusterPrometheusName,
    observabilityNames,
    observabilityPlan,
    observabilityPorts,
} from "../../stacks/observability";
import { ClusterSpec } from "../../stacks/topology";
import { isIpAddress } from "../../stacks/validate";
import { injectionPath, releaseNames } from "../../stacks/values";
import { VerifyConfig } from "./config";
import { Kube, KubeError, kubeClient, kubeConfigFromText } from "./kube";

/** The outcome of one check. `skip`: it could not be decided from this machine (never a failure). */
export type Status = "pass" | "fail" | "skip";

/** One line of the report, and one element of `--json`. */
export interface CheckResult {
    readonly cluster: string;
    readonly check: string;
    readonly status: Status;
    readonly expected: string;
    readonly found: string;
    /** What to do about a failure; empty when it passed. */
    readonly hint: string;
}

/**
 * The oldest Kubernetes minor Istio 1.30.3 supports: `MinK8SVersion = 32` in Istio's
 * istioctl/pkg/install/k8sversion/version.go at tag 1.30.3 (what `istioctl precheck` and install check).
 */
export const minKubernetesMinor = 32;

/** The istiod port that serves `/debug/*` (`http-monitoring` of the istiod Service). */
export const istiodMonitoringPort = 15014;

/** How verify reaches a cluster; throws KubeError (missing context, bad kubeconfig). */
export type Connect = (cluster: ClusterSpec) => Kube;

/** One element of istiod's `/debug/clusterz` (Istio's pkg/cluster/debug.go `DebugInfo`, 1.30.3). */
export interface ClusterDebugInfo {
    readonly id: string;
    readonly secretName: string;
    /** `synced`, `syncing`, `timeout` or `closed` (pkg/kube/multicluster/cluster.go). */
    readonly syncStatus: string;
}

interface Meta {
    metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

const ns = istioNamespace;
const selector = (s: string) => `labelSelector=${encodeURIComponent(s)}`;

/** Collects the results of one cluster. */
class Results {
    readonly list: CheckResult[] = [];
    constructor(private readonly cluster: string) {}
    pass(check: string, expected: string, found: string): void {
        this.list.push({ cluster: this.cluster, check, status: "pass", expected, found, hint: "" });
    }
    fail(check: string, expected: string, found: string, hint: string): void {
        this.list.push({ cluster: this.cluster, check, status: "fail", expected, found, hint });
    }
    skip(check: string, expected: string, found: string): void {
        this.list.push({ cluster: this.cluster, check, status: "skip", expected, found, hint: "" });
    }
    check(check: string, ok: boolean, expected: string, found: string, hint: string): void {
        if (ok) this.pass(check, expected, found);
        else this.fail(check, expected, found, hint);
    }
    /** Runs `f`; a read that fails becomes this check's failure, never an exception. */
    async guard(check: string, expected: string, hint: string, f: () => Promise<void>): Promise<void> {
        try {
            await f();
        } catch (e) {
            this.fail(check, expected, `the read failed: ${message(e)}`, hint);
        }
    }
}

function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/** What phase one learns of a cluster for the cross-cluster checks. */
interface Learned {
    /** SHA-256 fingerprint of `cacerts`' root (primaries). */
    root?: string;
    /** The gateway's reachable address as the cluster reports it. */
    gatewayAddress?: string;
}

/** Runs every check for every cluster of the stack. */
export async function runChecks(
    config: VerifyConfig,
    connect: Connect,
    now = new Date(),
): Promise<CheckResult[]> {
    const plan = composeMesh(config.topology);
    const learned = new Map<string, Learned>();
    const kubes = new Map<string, Kube>();
    const perCluster = await Promise.all(
        plan.clusters.map(async (p) => {
            const r = new Results(p.cluster.name);
            const kube = await reach(p.cluster, config, connect, r);
            if (kube) {
                kubes.set(p.cluster.name, kube);
                learned.set(p.cluster.name, await checkCluster(p, plan, config, kube, r, now));
            }
            return r;
        }),
    );
    // Cross-cluster: one root; a remote's webhooks at its primary's gateway.
    const roots = plan.clusters.flatMap((p) => {
        const root = learned.get(p.cluster.name)?.root;
        return root ? [{ cluster: p.cluster.name, root }] : [];
    });
    const reference = roots[0];
    for (const [i, p] of plan.clusters.entries()) {
        const r = perCluster[i]!;
        const mine = roots.find((x) => x.cluster === p.cluster.name);
        if (mine && reference) {
            r.check(
                "trust-root",
                mine.root === reference.root,
                `the mesh's one root (${short(reference.root)}, as in ${reference.cluster})`,
                `root ${short(mine.root)}`,
                `every primary's cacerts must chain to the same root: run \`pulumi up\` (TrustAnchor writes ` +
                    `cacerts), then \`kubectl -n istio-system rollout restart deploy/${releaseNames.istiod(config.topology.mesh.istio.revision)}\` ` +
                    `so istiod loads it`,
            );
        }
        const kube = kubes.get(p.cluster.name);
        if (p.cluster.role === "remote" && kube) {
            await checkRemoteWebhooks(p.cluster, config, kube, learned.get(p.cluster.primary!), r);
        }
    }
    return perCluster.flatMap((r) => r.list);
}

function short(fingerprint: string): string {
    return `SHA-256 ${fingerprint.slice(0, 23)}…`;
}

async function reach(
    cluster: ClusterSpec,
    config: VerifyConfig,
    connect: Connect,
    r: Results,
): Promise<Kube | undefined> {
    const expected = `the API server answers; Kubernetes 1.${minKubernetesMinor} or later (Istio 1.30.3)`;
    const via =
        cluster.access.kind === "context"
            ? `context ${cluster.access.context}`
            : "the kubeconfig in `kubeconfig`";
    if (cluster.access.kind === "kubeconfig" && config.kubeconfigs[cluster.name] === undefined) {
        r.fail(
            "kubernetes",
            expected,
            `its kubeconfig is a secure: value this config file cannot decrypt`,
            `run \`npm run verify -- --stack ${config.stack}\` with the Pulumi CLI logged in, which decrypts it`,
        );
        return undefined;
    }
    let kube: Kube;
    let version: { gitVersion?: string; major?: string; minor?: string } | undefined;
    try {
        kube = connect(cluster);
        version = await kube.get<{ gitVersion?: string }>("/version");
    } catch (e) {
        const context = cluster.access.kind === "context" ? cluster.access.context : undefined;
        // kind names its contexts kind-<cluster>; `kind export kubeconfig` writes one back.
        const kindName = context?.startsWith("kind-") ? context.slice("kind-".length) : undefined;
        const hint =
            e instanceof KubeError && e.status === undefined && /not in the kubeconfig/.test(e.message)
                ? `add the context to your kubeconfig (` +
                  (kindName
                      ? `\`kind export kubeconfig --name ${kindName}\``
                      : "`kubectl config get-contexts` lists them") +
                  `) or fix \`istio-multicluster:clusters[${cluster.index}].context\``
                : `check that the cluster runs and that ${via} reaches it (\`kubectl ${
                      context ? `--context ${context} ` : ""
                  }get --raw /version\`)`;
        r.fail("kubernetes", expected, message(e), hint);
        return undefined;
    }
    const gitVersion = version?.gitVersion ?? "unknown";
    const minor = Number(/^v?\d+\.(\d+)/.exec(gitVersion)?.[1] ?? NaN);
    r.check(
        "kubernetes",
        minor >= minKubernetesMinor,
        expected,
        `Kubernetes ${gitVersion}`,
        `upgrade the cluster to Kubernetes 1.${minKubernetesMinor} or later: Istio 1.30.3 does not support older`,
    );
    return kube;
}

async function checkCluster(
    p: ClusterPlan,
    plan: MeshPlan,
    config: VerifyConfig,
    kube: Kube,
    r: Results,
    now: Date,
): Promise<Learned> {
    const { cluster } = p;
    const learned: Learned = {};
    const revision = config.topology.mesh.istio.revision;

    // istio-system: network label; on a remote the primary annotation.
    const wantNetwork = cluster.network;
    const wantPrimary = cluster.role === "remote" ? cluster.primary : undefined;
    const expectedNs = [
        wantNetwork !== undefined
            ? `label ${networkLabel}=${wantNetwork}`
            : `no ${networkLabel} label needed`,
        ...(wantPrimary ? [`annotation ${controlPlaneClustersAnnotation}=${wantPrimary}`] : []),
    ].join(", ");
    await r.guard("istio-system", expectedNs, "check read access to namespaces", async () => {
        const n = await kube.get<Meta>(`/api/v1/namespaces/${ns}`);
        if (!n) {
            r.fail(
                "istio-system",
                expectedNs,
                "no istio-system namespace",
                "run `pulumi up`: the mesh is not installed here",
            );
            return;
        }
        const label = n.metadata?.labels?.[networkLabel];
        const annotation = n.metadata?.annotations?.[controlPlaneClustersAnnotation];
        const found = [
            `label ${networkLabel}=${label ?? "(none)"}`,
            ...(wantPrimary
                ? [`annotation ${controlPlaneClustersAnnotation}=${annotation ?? "(none)"}`]
                : []),
        ].join(", ");
        const ok =
            (wantNetwork === undefined || label === wantNetwork) &&
            (!wantPrimary || annotation === wantPrimary);
        r.check(
            "istio-system",
            ok,
            expectedNs,
            found,
            `run \`pulumi up\` (it sets them on istio-system), or \`kubectl label ns istio-system ` +
                `${networkLabel}=${wantNetwork ?? ""} --overwrite\`; istiod reads the network from this label`,
        );
    });

    if (cluster.role === "primary") {
        learned.root = await checkCacerts(cluster, config, kube, r, now);
        await checkIstiod(config, kube, r);
    }

    if (p.eastWestGateway) learned.gatewayAddress = await checkGateway(cluster, kube, r);

    if (cluster.role === "primary") {
        const sources = plan.links.filter((l) => l.reader === cluster.name).map((l) => l.source);
        await checkRemoteSecrets(sources, kube, r);
        await checkIstiodView(cluster, sources, revision, kube, r);
    }

    for (const name of config.namespaces) {
        const label = injectionLabel(revision);
        const [k, v] = Object.entries(label)[0]!;
        const expected = `namespace ${name} with label ${k}=${v}`;
        await r.guard("namespace", expected, "check read access to namespaces", async () => {
            const n = await kube.get<Meta>(`/api/v1/namespaces/${name}`);
            const found = !n
                ? `no namespace ${name}`
                : `namespace ${name} with ${k}=${n.metadata?.labels?.[k] ?? "(none)"}`;
            r.check(
                "namespace",
                n?.metadata?.labels?.[k] === v,
                expected,
                found,
                `run \`pulumi up\` (it creates the mesh namespaces with the injection label), or ` +
                    `\`kubectl label ns ${name} ${k}=${v} --overwrite\` and restart its workloads`,
            );
        });
    }

    const obs = observabilityPlan(config.topology).find((o) => o.cluster.name === cluster.name);
    if (obs) await checkObservability(obs, revision, kube, r);
    return learned;
}

async function checkCacerts(
    cluster: ClusterSpec,
    config: VerifyConfig,
    kube: Kube,
    r: Results,
    now: Date,
): Promise<string | undefined> {
    const windowDays = Math.ceil(config.topology.mesh.ca.earlyRenewalHours / 24);
    const hint = "run `pulumi up`: the TrustAnchor writes `cacerts` before istiod starts";
    let root: string | undefined;
    await r.guard("cacerts", "Secret cacerts with root-cert.pem and ca-cert.pem", hint, async () => {
        const secret = await kube.get<{ data?: Record<string, string> }>(
            `/api/v1/namespaces/${ns}/secrets/cacerts`,
        );
        const pem = (key: string) => {
            const b64 = secret?.data?.[key];
            if (!b64) return undefined;
            try {
                return new X509Certificate(Buffer.from(b64, "base64"));
            } catch {
                return undefined;
            }
        };
        const rootCert = pem("root-cert.pem");
        const intermediate = pem("ca-cert.pem");
        if (!secret || !rootCert || !intermediate) {
            r.fail(
                "cacerts",
                "Secret cacerts with root-cert.pem and ca-cert.pem",
                !secret
                    ? "no Secret cacerts in istio-system"
                    : "cacerts lacks a readable root-cert.pem or ca-cert.pem",
                `${hint}; istiod without it signs with a self-made root that other clusters do not trust`,
            );
            return;
        }
        root = rootCert.fingerprint256;
        const daysLeft = Math.floor((Date.parse(intermediate.validTo) - now.getTime()) / 86_400_000);
        const chains = intermediate.verify(rootCert.publicKey);
        r.check(
            "intermediate",
            chains && daysLeft > windowDays,
            `intermediate issued by root-cert.pem, more than ${windowDays} days left (the renewal window)`,
            `${chains ? "issued by the root" : "NOT issued by root-cert.pem"}, ${daysLeft} days left`,
            chains
                ? `run \`pulumi up\` to renew the intermediate of ${cluster.name} (mesh.ca.earlyRenewalHours), then ` +
                      `restart istiod`
                : `cacerts holds an intermediate of another root: run \`pulumi up\` to rewrite cacerts, then restart istiod`,
        );
    });
    return root;
}

async function checkIstiod(config: VerifyConfig, kube: Kube, r: Results): Promise<void> {
    const { version, revision } = config.topology.mesh.istio;
    const name = releaseNames.istiod(revision);
    const expected = `Deployment ${name} ready, image ${version}, revision ${revision ?? "default"}`;
    const hint =
        `\`kubectl -n istio-system describe deploy/${name}\` and \`kubectl -n istio-system logs deploy/${name}\`; ` +
        `\`pulumi up\` installs istiod ${version}`;
    await r.guard("istiod", expected, hint, async () => {
        const d = await kube.get<
            Meta & {
                spec?: {
                    replicas?: number;
                    template?: { spec?: { containers?: { name?: string; image?: string }[] } };
                };
                status?: { readyReplicas?: number };
            }
        >(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
        if (!d) {
            r.fail("istiod", expected, `no Deployment ${name}`, hint);
            return;
        }
        const want = d.spec?.replicas ?? 1;
        const ready = d.status?.readyReplicas ?? 0;
        const image =
            d.spec?.template?.spec?.containers?.find((c) => c.name === "discovery")?.image ?? "(none)";
        const rev = d.metadata?.labels?.["istio.io/rev"] ?? "(none)";
        const versionOk = new RegExp(`:${version.replace(/\./g, "\\.")}(-[a-z]+)?(@|$)`).test(image);
        r.check(
            "istiod",
            ready >= 1 && ready >= want && versionOk && rev === (revision ?? "default"),
            expected,
            `${ready}/${want} ready, image ${image}, revision ${rev}`,
            hint,
        );
    });
}

/** The east-west gateway's Service and endpoints; returns the address it reports. */
async function checkGateway(cluster: ClusterSpec, kube: Kube, r: Results): Promise<string | undefined> {
    const name = releaseNames.eastWestGateway;
    const fixed = cluster.eastWest.address;
    const ports = cluster.network !== undefined ? [15021, 15443, 15012, 15017] : [15021, 15012, 15017];
    const expected = `Service ${name} at ${fixed ?? "a load-balancer address"}, ports ${ports.join(", ")}`;
    const hint =
        fixed !== undefined
            ? `\`kubectl -n istio-system get svc ${name} -o yaml\`: run \`pulumi up\` so the Service carries ` +
              `\`eastWest.address\` (${fixed})`
            : `\`kubectl -n istio-system get svc ${name}\`: the cluster gave it no load-balancer address; check ` +
              `its load-balancer controller, or set \`eastWest.address\``;
    let address: string | undefined;
    await r.guard("gateway", expected, hint, async () => {
        const s = await kube.get<{
            spec?: { externalIPs?: string[]; ports?: { port?: number }[] };
            status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
        }>(`/api/v1/namespaces/${ns}/services/${name}`);
        if (!s) {
            r.fail(
                "gateway",
                expected,
                `no Service ${name}`,
                "run `pulumi up`: the east-west gateway is not installed",
            );
            return;
        }
        const ingress = (s.status?.loadBalancer?.ingress ?? [])
            .map((i) => i.ip || i.hostname || "")
            .filter((a) => a);
        const addresses = [...(s.spec?.externalIPs ?? []), ...ingress];
        const have = (s.spec?.ports ?? []).map((x) => x.port);
        const missing = ports.filter((x) => !have.includes(x));
        const addressOk =
            fixed === undefined
                ? addresses.length > 0
                : isIpAddress(fixed)
                  ? addresses.includes(fixed)
                  : ingress.length > 0;
        address = fixed !== undefined && addressOk ? fixed : addresses[0];
        r.check(
            "gateway",
            addressOk && missing.length === 0,
            expected,
            `addresses ${addresses.join(", ") || "(none)"}, ports ${have.join(", ") || "(none)"}` +
                (missing.length ? ` (missing ${missing.join(", ")})` : ""),
            hint,
        );
    });
    const epExpected = `at least one ready endpoint of ${name}`;
    const epHint =
        `no ready gateway pod: \`kubectl -n istio-system get pods -l istio=eastwestgateway\`` +
        (cluster.role === "remote"
            ? `; its proxy needs istiod of ${cluster.primary} through that primary's gateway`
            : "");
    await r.guard("gateway-endpoints", epExpected, epHint, async () => {
        const list = await kube.get<{ items?: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(
            `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?${selector(`kubernetes.io/service-name=${name}`)}`,
        );
        const ready = (list?.items ?? [])
            .flatMap((s) => s.endpoints ?? [])
            .filter((e) => e.conditions?.ready !== false);
        r.check("gateway-endpoints", ready.length > 0, epExpected, `${ready.length} ready`, epHint);
    });
    return address;
}

async function checkRemoteSecrets(sources: readonly string[], kube: Kube, r: Results): Promise<void> {
    const expected = sources.length
        ? `remote secrets for ${sources.join(", ")} and no other`
        : "no remote secret";
    let secrets: { metadata?: { name?: string }; data?: Record<string, string> }[] = [];
    let read = false;
    await r.guard("remote-secrets", expected, "check read access to Secrets in istio-system", async () => {
        const list = await kube.get<{ items?: typeof secrets }>(
            `/api/v1/namespaces/${ns}/secrets?${selector("istio/multiCluster=true")}`,
        );
        secrets = list?.items ?? [];
        read = true;
    });
    if (!read) return;
    const held = new Map<string, { secret: string; kubeconfig: string }>();
    for (const s of secrets) {
        for (const [key, value] of Object.entries(s.data ?? {})) {
            held.set(key, {
                secret: s.metadata?.name ?? "?",
                kubeconfig: Buffer.from(value, "base64").toString("utf8"),
            });
        }
    }
    const missing = sources.filter((s) => !held.has(s));
    const extra = [...held.keys()].filter((k) => !sources.includes(k));
    const found = held.size ? [...held.entries()].map(([k, v]) => `${k} (${v.secret})`).join(", ") : "none";
    const hints = [
        ...missing.map((m) => `\`pulumi up\` creates istio-remote-secret-${m} (ClusterLink ${m})`),
        ...extra.map(
            (x) =>
                `${held.get(x)!.secret} makes istiod read ${x}, which the plan does not: \`kubectl -n istio-system ` +
                `delete secret ${held.get(x)!.secret}\` or add ${x} to the stack`,
        ),
    ];
    r.check("remote-secrets", missing.length === 0 && extra.length === 0, expected, found, hints.join("; "));

    // The token inside each: does the source's API server still accept it (where this machine reaches it)?
    for (const source of sources.filter((s) => held.has(s))) {
        const check = "remote-secret-token";
        const expected = `the token in the secret for ${source} authenticates to ${source}'s API server`;
        const hint =
            `the reader token of ${source} is no longer accepted: delete the Secret ` +
            `istio-reader-service-account-istio-remote-secret-token in ${source}'s istio-system and run \`pulumi up\``;
        try {
            const client = kubeClient(kubeConfigFromText(held.get(source)!.kubeconfig));
            await client.get(`/api/v1/namespaces/${ns}`);
            r.pass(check, expected, "accepted");
        } catch (e) {
            if (e instanceof KubeError && e.status === 401)
                r.fail(check, expected, "rejected: HTTP 401 Unauthorized", hint);
            else if (e instanceof KubeError && e.status === 403)
                r.fail(
                    check,
                    expected,
                    "authenticated but forbidden to read istio-system",
                    `the reader RBAC comes with ${source}'s istiod release: run \`pulumi up\``,
                );
            else if (e instanceof KubeError && e.status === undefined && /unreachable/.test(e.message))
                r.skip(
                    check,
                    expected,
                    `not reachable from this machine (${e.message}); only istiod needs to reach it`,
                );
            else r.fail(check, expected, message(e), "recreate the remote secret: `pulumi up`");
        }
    }
}

/**
 * istiod's own view of the clusters it reads: `/debug/clusterz` on its monitoring port, which is what
 * `istioctl remote-clusters` reads (istioctl/pkg/proxyconfig/clusters.go, through `AllDiscoveryDo` in
 * pkg/kube/client.go: a port-forward to each istiod pod, 1.30.3). First through the API server's service
 * proxy; istiod 1.30 answers debug requests from outside the pod only when they authenticate
 * (pilot/pkg/xds/debug.go `allowAuthenticatedOrLocalhost`), so on 401/403 verify port-forwards the way
 * istioctl does, where the request comes from the pod's loopback.
 */
async function checkIstiodView(
    cluster: ClusterSpec,
    sources: readonly string[],
    revision: string | undefined,
    kube: Kube,
    r: Results,
): Promise<void> {
    if (sources.length === 0) return;
    const name = releaseNames.istiod(revision);
    const expected = `istiod reports ${sources.join(", ")} synced`;
    const hint =
        `istiod has not (or not fully) loaded the remote secrets: \`kubectl -n istio-system logs deploy/${name} | ` +
        `grep -i cluster\`; the API server address in each secret must be reachable from ${cluster.name}'s pods`;
    await r.guard("istiod-view", expected, hint, async () => {
        let view: ClusterDebugInfo[] | undefined;
        try {
            view = await kube.get<ClusterDebugInfo[]>(
                `/api/v1/namespaces/${ns}/services/http:${name}:${istiodMonitoringPort}/proxy/debug/clusterz`,
            );
        } catch (e) {
            if (!(e instanceof KubeError) || ![401, 403, 503].includes(e.status ?? 0)) throw e;
            const pods = await kube.get<{
                items?: { metadata?: { name?: string }; status?: { phase?: string } }[];
            }>(`/api/v1/namespaces/${ns}/pods?${selector("app=istiod")}`);
            const pod = pods?.items?.find((p) => p.status?.phase === "Running")?.metadata?.name;
            if (!pod) throw new KubeError("no running istiod pod to port-forward to", e.status);
            view = JSON.parse(
                await kube.podGet(ns, pod, istiodMonitoringPort, "/debug/clusterz"),
            ) as ClusterDebugInfo[];
        }
        const list = Array.isArray(view) ? view : [];
        const found =
            list
                .filter((c) => c.id !== cluster.name)
                .map((c) => `${c.id} ${c.syncStatus}`)
                .join(", ") || "no remote cluster";
        const bad = sources.filter((s) => list.find((c) => c.id === s)?.syncStatus !== "synced");
        r.check("istiod-view", bad.length === 0, expected, found, hint);
    });
}

/**
 * A remote's injection and validation webhooks must reach its primary's istiod the way the plan set them up:
 * with an IP, the `istiod` Service and an EndpointSlice holding the primary's gateway IP; with a hostname,
 * URLs on that host's port 15017 (the API server cannot call a webhook through an ExternalName Service).
 */
async function checkRemoteWebhooks(
    cluster: ClusterSpec,
    config: VerifyConfig,
    kube: Kube,
    primary: Learned | undefined,
    r: Results,
): Promise<void> {
    const revision = config.topology.mesh.istio.revision;
    const primarySpec = config.topology.clusters.find((c) => c.name === cluster.primary)!;
    const address = primarySpec.eastWest.address ?? primary?.gatewayAddress;
    const service = releaseNames.istiod(revision);
    const path = injectionPath(cluster);
    if (address === undefined) {
        r.skip(
            "webhooks",
            `webhooks at ${cluster.primary}'s east-west gateway`,
            `${cluster.primary}'s gateway address could not be read`,
        );
        return;
    }
    const byIp = isIpAddress(address);
    const expected = byIp
        ? `webhooks call Service ${ns}/${service} (injection path ${path}), its EndpointSlice holds ${address}`
        : `webhooks call https://${address}:15017 (injection path ${path})`;
    const hint =
        `the remote's istiod release points elsewhere: \`pulumi up\` re-installs it with ${cluster.primary}'s ` +
        `east-west address; \`kubectl get mutatingwebhookconfiguration -o yaml\` shows what it calls`;
    await r.guard("webhooks", expected, hint, async () => {
        type Hook = {
            clientConfig?: { url?: string; service?: { name?: string; namespace?: string; path?: string } };
        };
        const suffix = revision ? `-${revision}` : "";
        const mwc = await kube.get<{ webhooks?: Hook[] }>(
            `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector${suffix}`,
        );
        const vwc = await kube.get<{ webhooks?: Hook[] }>(
            `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/istio-validator${suffix}-${ns}`,
        );
        const problems: string[] = [];
        const seen: string[] = [];
        const describe = (h: Hook) => {
            const svc = h.clientConfig?.service;
            return (
                h.clientConfig?.url ??
                `service ${svc?.namespace}/${svc?.name}${svc?.path !== undefined ? ` path ${svc.path}` : ""}`
            );
        };
        const expectHook = (kind: string, hooks: Hook[] | undefined, injection: boolean) => {
            if (!hooks?.length) {
                problems.push(`no ${kind} webhook`);
                return;
            }
            for (const h of hooks) {
                if (!seen.includes(`${kind}: ${describe(h)}`)) seen.push(`${kind}: ${describe(h)}`);
                const c = h.clientConfig ?? {};
                if (byIp) {
                    const ok =
                        c.service?.name === service &&
                        c.service.namespace === ns &&
                        (!injection || c.service.path === path);
                    if (!ok) problems.push(`${kind} webhook does not call ${ns}/${service}`);
                } else {
                    let url: URL | undefined;
                    try {
                        url = c.url ? new URL(c.url) : undefined;
                    } catch {
                        url = undefined;
                    }
                    const ok =
                        url?.protocol === "https:" &&
                        url.hostname === address &&
                        url.port === "15017" &&
                        (!injection || url.pathname === path);
                    if (!ok) problems.push(`${kind} webhook does not call https://${address}:15017`);
                }
            }
        };
        expectHook("injection", mwc?.webhooks, true);
        expectHook("validation", vwc?.webhooks, false);
        if (byIp) {
            const slices = await kube.get<{ items?: { endpoints?: { addresses?: string[] }[] }[] }>(
                `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?${selector(`kubernetes.io/service-name=${service}`)}`,
            );
            const addresses = (slices?.items ?? [])
                .flatMap((s) => s.endpoints ?? [])
                .flatMap((e) => e.addresses ?? []);
            seen.push(`EndpointSlice ${service}: ${addresses.join(", ") || "(none)"}`);
            if (!addresses.includes(address)) problems.push(`EndpointSlice ${service} lacks ${address}`);
        }
        r.check(
            "webhooks",
            problems.length === 0,
            expected,
            problems.length ? problems.join("; ") : seen.join("; "),
            hint,
        );
    });
}

interface DeploymentStatus {
    spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
    status?: { readyReplicas?: number };
}

interface PodInfo {
    metadata?: { name?: string; deletionTimestamp?: string };
    spec?: { containers?: { name?: string }[]; initContainers?: { name?: string; restartPolicy?: string }[] };
    status?: { phase?: string };
}

interface ServiceInfo {
    spec?: { selector?: Record<string, string>; ports?: { port?: number }[] };
}

/** The sidecar container injection adds: a container, or (native sidecars) an init container that keeps running. */
const sidecarName = "istio-proxy";

/**
 * Observability (stacks/observability.ts), from the same plan the program applied: the namespace and the cluster's
 * Prometheus everywhere; in the hub, its Deployments and the selector-less Services that name other clusters'
 * Prometheus; in primaries, the namespace's mTLS and access policies.
 */
async function checkObservability(
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
const istioResources: Readonly<Record<string, string>> = {
    PeerAuthentication: "peerauthentications",
    AuthorizationPolicy: "authorizationpolicies",
};

/** The API path of one planned Istio object (`/apis/security.istio.io/v1/namespaces/<ns>/<resource>/<name>`). */
function istioObjectPath(
    o: { apiVersion: string; kind: string; metadata: { name: string } },
    on: string,
): string {
    const resource = istioResources[o.kind] ?? `${o.kind.toLowerCase()}s`;
    return `/apis/${o.apiVersion}/namespaces/${on}/${resource}/${o.metadata.name}`;
}

/** A Deployment with at least one ready replica; returns it when it exists. */
async function checkDeployment(
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
async function checkInjected(
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
async function checkServiceEndpoints(on: string, name: string, kube: Kube, r: Results): Promise<void> {
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
async function checkStub(
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

/** Exposed for the report: the JSON shape is exactly these keys. */
export const resultKeys: readonly (keyof CheckResult)[] = [
    "cluster",
    "check",
    "status",
    "expected",
    "found",
    "hint",
];

/** Whether every check passed (skips do not fail the run). */
export function allPassed(results: readonly CheckResult[]): boolean {
    return results.every((r) => r.status !== "fail");
}
