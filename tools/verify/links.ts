/** Checks of the links between clusters: remote secrets, what istiod sees of them, and the remote webhooks. */
import { ClusterSpec } from "../../stacks/topology";
import { isIpAddress } from "../../stacks/validate";
import { injectionPath, releaseNames } from "../../stacks/values";
import { VerifyConfig } from "./config";
import { Kube, KubeError, kubeClient, kubeConfigFromText } from "./kube";
import { ClusterDebugInfo, Results, istiodMonitoringPort, message, ns, selector } from "./results";
import { Learned } from "./results";

export async function checkRemoteSecrets(sources: readonly string[], kube: Kube, r: Results): Promise<void> {
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
            `the reader token of ${source} is no longer accepted: change \`mesh.readerTokens.rotation\` (a new ` +
            "number or today's date) and run `pulumi up`: new tokens, every remote secret updated in place, the " +
            "old token deleted last";
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
export async function checkIstiodView(
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
export async function checkRemoteWebhooks(
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
