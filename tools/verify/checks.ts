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
import { controlPlaneClustersAnnotation, injectionLabel, networkLabel } from "../../stacks/names";
import { observabilityPlan } from "../../stacks/observability";
import { ClusterSpec } from "../../stacks/topology";
import { injectionRevision, controlPlaneRevisions } from "../../stacks/revisions";
import { isIpAddress } from "../../stacks/validate";
import { pemCertificates } from "../../stacks/validate/ca";
import { releaseNames } from "../../stacks/values";
import { VerifyConfig } from "./config";
import { Kube, KubeError } from "./kube";
import {
    CheckResult,
    Connect,
    Learned,
    Meta,
    Results,
    message,
    minKubernetesMinor,
    ns,
    selector,
} from "./results";
import { checkIstiodView, checkRemoteSecrets, checkRemoteWebhooks } from "./links";
import { checkRevisions } from "./revisions";
import { checkObservability } from "./workloads";

export {
    allPassed,
    CheckResult,
    ClusterDebugInfo,
    Connect,
    istiodMonitoringPort,
    minKubernetesMinor,
    resultKeys,
    Status,
} from "./results";

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

export function short(fingerprint: string): string {
    return fingerprint
        .split(" + ")
        .map((f) => `SHA-256 ${f.slice(0, 23)}…`)
        .join(" + ");
}

export async function reach(
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

export async function checkCluster(
    p: ClusterPlan,
    plan: MeshPlan,
    config: VerifyConfig,
    kube: Kube,
    r: Results,
    now: Date,
): Promise<Learned> {
    const { cluster } = p;
    const learned: Learned = {};
    const istio = config.topology.mesh.istio;
    const revision = istio.revision;

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
    await checkRevisions(cluster, config.topology.mesh.istio, kube, r);

    if (p.eastWestGateway) learned.gatewayAddress = await checkGateway(cluster, kube, r);

    if (cluster.role === "primary") {
        const sources = plan.links.filter((l) => l.reader === cluster.name).map((l) => l.source);
        await checkRemoteSecrets(sources, kube, r);
        await checkIstiodView(cluster, sources, revision, kube, r);
    }

    for (const name of config.namespaces) {
        const pinned = config.topology.namespaces.find((n) => n.name === name)?.revision;
        const label =
            pinned !== undefined ? { "istio.io/rev": pinned } : injectionLabel(injectionRevision(istio));
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
    if (obs) await checkObservability(obs, injectionRevision(istio), kube, r);
    return learned;
}

export async function checkCacerts(
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
        const certs = (key: string): X509Certificate[] => {
            const b64 = secret?.data?.[key];
            if (!b64) return [];
            const text = Buffer.from(b64, "base64").toString("utf8");
            try {
                return pemCertificates(text).map((block) => new X509Certificate(block));
            } catch {
                return [];
            }
        };
        // During a root rotation the bundle holds two roots, and the intermediate is under either.
        const rootCerts = certs("root-cert.pem");
        const intermediate = certs("ca-cert.pem")[0];
        if (!secret || rootCerts.length === 0 || !intermediate) {
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
        root = rootCerts.map((c) => c.fingerprint256).join(" + ");
        const daysLeft = Math.floor((Date.parse(intermediate.validTo) - now.getTime()) / 86_400_000);
        const chains = rootCerts.some((c) => intermediate.verify(c.publicKey));
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
        // What istiod hands every workload: the bundle it loaded, published in each namespace.
        const published = await kube.get<{ data?: Record<string, string> }>(
            `/api/v1/namespaces/${ns}/configmaps/istio-ca-root-cert`,
        );
        const publishedRoots = pemCertificates(published?.data?.["root-cert.pem"] ?? "").map(
            (block) => new X509Certificate(block),
        );
        const subjects = (list: readonly X509Certificate[]) =>
            list.map((c) => c.subject.replace(/\n/g, ", ")).join(" + ") || "none";
        r.check(
            "trust-published",
            publishedRoots.map((c) => c.fingerprint256).join(" + ") === root,
            `istio-ca-root-cert holds the cacerts bundle: ${subjects(rootCerts)}`,
            `istio-ca-root-cert holds ${subjects(publishedRoots)}`,
            "istiod publishes the root bundle it loaded from cacerts; a changed root is taken only with " +
                "ISTIO_MULTIROOT_MESH=true (set during `mesh.ca.rotation`) and only when one bundle contains the " +
                "other: `kubectl -n istio-system logs deploy/istiod | grep ROOT-CA`, then restart istiod",
        );
    });
    return root;
}

/** Every revision's istiod Deployment ready, at its revision's version. */
export async function checkIstiod(config: VerifyConfig, kube: Kube, r: Results): Promise<void> {
    for (const { name: revision, version } of controlPlaneRevisions(config.topology.mesh.istio)) {
        await checkIstiodRevision(revision, version, kube, r);
    }
}

async function checkIstiodRevision(
    revision: string | undefined,
    version: string,
    kube: Kube,
    r: Results,
): Promise<void> {
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
export async function checkGateway(
    cluster: ClusterSpec,
    kube: Kube,
    r: Results,
): Promise<string | undefined> {
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
