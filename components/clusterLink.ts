import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { ClusterSpec, projectName } from "../stacks/topology";
import { excerpt, isLoopbackHost } from "../stacks/checks";
import { remoteSecretName } from "../stacks/names";
import { retiredMarks } from "../stacks/remoteSecrets";
import { refusal } from "./refusal";

/** The service account the `base` chart creates for remote readers. */
export const readerServiceAccount = "istio-reader-service-account";
/** The token Secret's name, as `istioctl create-remote-secret` names it. */
export const readerTokenSecretName = `${readerServiceAccount}-istio-remote-secret-token`;

/** The cluster whose API server is read. */
export interface LinkSource {
    readonly name: string;
    /** The source cluster's provider: the token Secret is created with it. */
    readonly provider: k8s.Provider;
    /** The source's `istio-system` namespace. */
    readonly namespace: k8s.core.v1.Namespace;
    /** The API server address as reachable from the readers (https). A loopback address is refused. */
    readonly server: pulumi.Input<string>;
    /**
     * The release after which `istio-reader-service-account` can read the source: its `istiod` release (either
     * profile), which brings the reader ClusterRole and binding (the `base` chart only the service account,
     * and istiod waits for base). The token, and so every remote secret, waits for it.
     */
    readonly readerAccount: pulumi.Resource;
    /** The source's config path (`istio-multicluster:clusters[1]`), for messages. Default: its name. */
    readonly configPath?: string;
    /**
     * What the token Secret's name carries after istioctl's (stacks/remoteSecrets.ts `readerTokenSuffix`): a
     * new suffix replaces the token, create-before-delete, so every remote secret moves to the new one in
     * place before the old one is deleted (and so revoked). Default "".
     */
    readonly tokenSuffix?: string;
}

/** A primary whose istiod reads the source. */
export interface LinkReader {
    readonly name: string;
    /** The reader's provider: the remote secret is created with it. */
    readonly provider: k8s.Provider;
    /** The reader's `istio-system` namespace. */
    readonly namespace: k8s.core.v1.Namespace;
    /**
     * What the remote secret is created after: on a switch of `mesh.remoteSecrets`, the old layout's Secrets
     * in this reader, retired first (stacks/remoteSecrets.ts `retiredRemoteSecrets`). Default: nothing.
     */
    readonly waitFor?: pulumi.Input<pulumi.Resource[]>;
}

export interface ClusterLinkArgs {
    /** The cluster being read. */
    readonly source: LinkSource;
    /**
     * Every primary that holds a per-cluster remote secret for it; must not include the source itself. Empty in
     * the per-reader layout, where ReaderSecrets holds `kubeconfig` instead.
     */
    readonly readers: readonly LinkReader[];
}

/**
 * What `istioctl create-remote-secret` does, natively: a long-lived token for the source's reader service
 * account, and in each reading primary the Secret `istio-remote-secret-<source>` (label
 * `istio/multiCluster: "true"`) holding a kubeconfig for the source that uses only that token and the
 * source's CA. Spans clusters: each child is given its cluster's provider explicitly.
 */
export class ClusterLink extends pulumi.ComponentResource {
    /** The reader token Secret in the source cluster. */
    public readonly tokenSecret: k8s.core.v1.Secret;
    /** Per reader cluster name, the remote secret created there. */
    public readonly remoteSecrets: Readonly<Record<string, k8s.core.v1.Secret>>;
    /** The kubeconfig readers use for the source (a secret): what a per-reader Secret holds for it. */
    public readonly kubeconfig: pulumi.Output<string>;

    /** The component's name (its children's names start with it) and the source cluster's. */
    private readonly names: { readonly link: string; readonly source: string };

    constructor(name: string, args: ClusterLinkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("multicluster:mesh:ClusterLink", name, {}, opts);
        const { source } = args;
        this.names = { link: name, source: source.name };
        for (const reader of args.readers) {
            if (reader.name === source.name) {
                throw refusal(`ClusterLink ${name}: cluster ${source.name} cannot read itself`, this);
            }
        }
        this.tokenSecret = new k8s.core.v1.Secret(
            `${name}-reader-token`,
            {
                metadata: {
                    name: `${readerTokenSecretName}${source.tokenSuffix ?? ""}`,
                    namespace: source.namespace.metadata.name,
                    annotations: { "kubernetes.io/service-account.name": readerServiceAccount },
                },
                // The token controller fills `token` and `ca.crt`; the provider waits until it has.
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, provider: source.provider, dependsOn: [source.readerAccount] },
        );
        const server = pulumi.output(source.server).apply((s) => {
            const host = safeHost(s);
            if (host === undefined || isLoopbackHost(host)) {
                throw refusal(
                    `${source.configPath ?? `cluster ${source.name}`}: the API server address ${excerpt(s)} ` +
                        `is ${host === undefined ? "not a URL" : "a loopback address"}, which the other clusters ` +
                        `cannot reach; set \`apiServer\` there to an https address they can`,
                    this,
                );
            }
            return s;
        });
        const kubeconfig = pulumi.secret(
            pulumi
                .all([server, this.tokenSecret.data])
                .apply(([s, data]) => remoteKubeconfig(source.name, s, data)),
        );
        this.kubeconfig = kubeconfig;
        const remoteSecrets: Record<string, k8s.core.v1.Secret> = {};
        for (const reader of args.readers) {
            // `${name}/in/${reader}`: '/' is in no cluster name, so no other source and reader pair (`a-in` and
            // `b`, say) and no `${name}-reader-token` can spell the same name.
            remoteSecrets[reader.name] = new k8s.core.v1.Secret(
                `${name}/in/${reader.name}`,
                {
                    metadata: {
                        name: remoteSecretName(source.name),
                        namespace: reader.namespace.metadata.name,
                        labels: { "istio/multiCluster": "true" },
                        annotations: { "networking.istio.io/cluster": source.name },
                    },
                    type: "Opaque",
                    // istiod takes the data key as the cluster ID.
                    stringData: { [source.name]: kubeconfig },
                },
                { parent: this, provider: reader.provider, dependsOn: reader.waitFor },
            );
        }
        this.remoteSecrets = remoteSecrets;
        this.registerOutputs({
            tokenSecret: this.tokenSecret,
            remoteSecrets: this.remoteSecrets,
            kubeconfig: this.kubeconfig,
        });
    }

    /**
     * The per-cluster remote secret this link held in `reader` before a switch to the per-reader layout,
     * retired for one `up` (stacks/remoteSecrets.ts `retiredRemoteSecrets`): the same resource, updated in
     * place to no data and `istio/multiCluster: "false"`, so that istiod lets the cluster go before the
     * per-reader Secret names it again. The next `up`, which no longer asks for it, deletes it.
     */
    public retireIn(reader: LinkReader): k8s.core.v1.Secret {
        return new k8s.core.v1.Secret(
            `${this.names.link}/in/${reader.name}`,
            {
                metadata: {
                    name: remoteSecretName(this.names.source),
                    namespace: reader.namespace.metadata.name,
                    ...retiredMarks,
                },
                type: "Opaque",
            },
            { parent: this, provider: reader.provider },
        );
    }
}

function safeHost(server: string): string | undefined {
    try {
        return new URL(server).hostname;
    } catch {
        return undefined;
    }
}

/**
 * The kubeconfig istiod uses to read a cluster: cluster, context and user all named after it, the token
 * and CA of the reader token Secret, nothing that runs a command or reads a file.
 */
export function remoteKubeconfig(
    cluster: string,
    server: string,
    tokenData: Record<string, string> | undefined,
): string {
    const ca = tokenData?.["ca.crt"];
    const token = tokenData?.token;
    if (!ca || !token) {
        throw new Error(
            `cluster ${cluster}: the reader token Secret has no token or ca.crt; check that ` +
                `istio-reader-service-account exists in its istio-system (the base chart creates it) and that ` +
                `the cluster's token controller is running`,
        );
    }
    return YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: cluster, cluster: { server, "certificate-authority-data": ca } }],
        contexts: [{ name: cluster, context: { cluster, user: cluster } }],
        "current-context": cluster,
        preferences: {},
        users: [{ name: cluster, user: { token: Buffer.from(token, "base64").toString("utf8") } }],
    });
}

/**
 * The API server address other clusters use to read `cluster`: its `apiServer` when set, otherwise the
 * server of its kubeconfig (the secret one, or the context's in the user's kubeconfig file). In a preview
 * that cannot see the kubeconfig file, the address is unknown rather than wrong; `pulumi up` fails instead.
 */
export function apiServerOf(cluster: ClusterSpec): pulumi.Output<string> {
    if (cluster.apiServer !== undefined) return pulumi.output(cluster.apiServer);
    const key = `${projectName}:clusters[${cluster.index}]`;
    if (cluster.access.kind === "kubeconfig") {
        return cluster.access.kubeconfig.apply((text) => {
            const server = serverOf(text, undefined);
            return server !== undefined ? pulumi.output(server) : unresolved(key);
        });
    }
    const context = cluster.access.context;
    const files = (process.env.KUBECONFIG || path.join(os.homedir(), ".kube", "config")).split(
        path.delimiter,
    );
    for (const file of files.filter((f) => f && fs.existsSync(f))) {
        const server = serverOf(readKubeconfigFile(file), context);
        if (server !== undefined) return pulumi.output(server);
    }
    return unresolved(key);
}

/** A kubeconfig file of `$KUBECONFIG`; one that cannot be read as a file is named, not a bare EISDIR. */
function readKubeconfigFile(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? String(e);
        throw new Error(
            `KUBECONFIG: ${file} cannot be read as a kubeconfig file (${code}); fix or unset KUBECONFIG`,
        );
    }
}

function unresolved(key: string): pulumi.Output<string> {
    const message =
        `${key}: cannot tell this cluster's API server address from its kubeconfig; set \`apiServer\` ` +
        `to the https address the other clusters reach it at`;
    if (pulumi.runtime.isDryRun()) {
        void pulumi.log.warn(message);
        return pulumi.output(pulumi.unknown as unknown as string);
    }
    throw new Error(message);
}

interface KubeconfigDoc {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: { server?: string } }[];
}

function serverOf(text: string, context: string | undefined): string | undefined {
    let doc: KubeconfigDoc;
    try {
        doc = YAML.parse(text) as KubeconfigDoc;
    } catch {
        return undefined;
    }
    if (typeof doc !== "object" || doc === null) return undefined;
    const ctxName = context ?? doc["current-context"];
    const clusterName = doc.contexts?.find((c) => c.name === ctxName)?.context?.cluster;
    const server = doc.clusters?.find((c) => c.name === clusterName)?.cluster?.server;
    return server;
}
