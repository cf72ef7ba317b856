import * as assert from "node:assert/strict";
import * as YAML from "yaml";
import {
    clusterNamesUnique,
    primariesReadEveryCluster,
    readerTokenSecret,
    remoteSecretKubeconfig,
    remoteSecretsDisjoint,
    remoteSecretShape,
} from "../../policies/links";
import * as lib from "../../policies/lib";
import * as clusterLink from "../../components/clusterLink";
import * as names from "../../stacks/names";
import * as remoteSecrets from "../../stacks/remoteSecrets";
import { chart, FakeResource, istiodValues, runResource, runStack, secret, unknown } from "./harness";

/** A kubeconfig as istioctl create-remote-secret writes it. */
function kubeconfig(name: string, cluster: Record<string, unknown> = {}, user: Record<string, unknown> = {}) {
    return YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name,
                cluster: {
                    server: "https://10.0.0.1:6443",
                    "certificate-authority-data": "Q0E=",
                    ...cluster,
                },
            },
        ],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        users: [{ name, user: { token: "t0ken", ...user } }],
    });
}

/** The remote secret for `source` held in `reader`. */
function remoteSecret(reader: string, source: string, patch: Record<string, unknown> = {}): FakeResource {
    return secret(reader, `${source}-in-${reader}`, {
        metadata: {
            name: `istio-remote-secret-${source}`,
            namespace: "istio-system",
            labels: { "istio/multiCluster": "true" },
            annotations: { "networking.istio.io/cluster": source },
        },
        type: "Opaque",
        stringData: { [source]: kubeconfig(source) },
        ...patch,
    });
}

describe("policy names shared with the program", () => {
    it("are the pack's own copies, equal to the program's (the pack is published without the program)", () => {
        assert.equal(lib.istioNamespace, names.istioNamespace);
        assert.equal(lib.networkLabel, names.networkLabel);
        assert.equal(lib.readerServiceAccount, clusterLink.readerServiceAccount);
        assert.equal(lib.perReaderSecretName, remoteSecrets.perReaderSecretName);
        assert.equal(lib.retiredAnnotation, remoteSecrets.retiredAnnotation);
        assert.deepEqual(remoteSecrets.retiredMarks.labels, { [lib.multiClusterLabel]: "false" });
    });
});

describe("a remote secret retired by a layout switch", () => {
    const retired = (reader: string, patch: Record<string, unknown> = {}) =>
        secret(reader, `${reader}-remote-secrets`, {
            metadata: {
                name: "istio-remote-secrets",
                namespace: "istio-system",
                ...remoteSecrets.retiredMarks,
            },
            type: "Opaque",
            ...patch,
        });
    it("is no remote secret for the policies: relabelled, it holds nothing istiod reads", async () => {
        assert.deepEqual((await runResource(remoteSecretShape, retired("a"))).messages, []);
        const beside = await runStack(remoteSecretsDisjoint, [
            retired("a"),
            remoteSecret("a", "b"),
            secret("a", "old-b-in-a", {
                metadata: {
                    name: "istio-remote-secret-b",
                    namespace: "istio-system",
                    ...remoteSecrets.retiredMarks,
                },
            }),
        ]);
        assert.deepEqual(beside.messages, []);
    });
    it("is judged as a remote secret when it still holds data or is marked without the label", async () => {
        const withData = retired("a", { stringData: { b: kubeconfig("b") } });
        assert.deepEqual((await runResource(remoteSecretShape, withData)).messages, [
            'remote secret a-remote-secrets: set label istio/multiCluster: "true" so istiod watches it',
        ]);
        const relabelledOnly = retired("a", {
            metadata: {
                name: "istio-remote-secrets",
                namespace: "istio-system",
                labels: { "istio/multiCluster": "false" },
            },
        });
        assert.deepEqual((await runResource(remoteSecretShape, relabelledOnly)).messages, [
            'remote secret a-remote-secrets: set label istio/multiCluster: "true" so istiod watches it',
            "remote secret a-remote-secrets (istio-remote-secrets) holds no cluster; give it a key per cluster its primary reads, or remove it",
        ]);
    });
});

describe("cluster-names-unique", () => {
    it("passes distinct DNS-1123 names", async () => {
        const out = await runStack(clusterNamesUnique, [
            chart("a", "istiod", istiodValues("a")),
            chart("b", "istiod", istiodValues("b")),
            // A second revision's istiod in cluster b (a canary upgrade) names the same cluster.
            chart("b", "istiod", istiodValues("b", "b-net", { revision: "canary" }), {
                name: "b-istiod-canary",
            }),
        ]);
        assert.deepEqual(out.messages, []);
    });
    it("reports a missing, an invalid and a duplicate name", async () => {
        const named = (cluster: string, clusterName: unknown) =>
            chart(
                cluster,
                "istiod",
                istiodValues(cluster, "n", { global: { meshID: "mesh1", multiCluster: { clusterName } } }),
            );
        const out = await runStack(clusterNamesUnique, [
            named("a", "a"),
            named("b", ""),
            named("c", "Bad_Name"),
            named("d", "a"),
        ]);
        assert.deepEqual(out.messages, [
            "istiod b-istiod sets no global.multiCluster.clusterName; set it to the cluster's unique name",
            "istiod c-istiod has cluster name \"Bad_Name\", not a DNS-1123 label; use lowercase letters, digits and '-', at most 63 characters",
            'istiod d-istiod has cluster name "a", already used by a-istiod; give every cluster its own name',
        ]);
        const long = await runStack(clusterNamesUnique, [
            named("a", "a".repeat(63)),
            named("b", "b".repeat(64)),
        ]);
        assert.deepEqual(long.messages, [
            `istiod b-istiod has cluster name "${"b".repeat(64)}", not a DNS-1123 label; use lowercase letters, digits and '-', at most 63 characters`,
        ]);
        const unknownName = await runStack(clusterNamesUnique, [named("a", unknown), named("b", unknown)]);
        assert.deepEqual(unknownName.messages, []);
    });
});

describe("primaries-read-every-cluster", () => {
    const clusters = [
        chart("a", "istiod", istiodValues("a")),
        chart("b", "istiod", istiodValues("b")),
        chart("r", "istiod", { profile: "remote", global: { multiCluster: { clusterName: "r" } } }),
    ];
    it("passes when every primary reads every other cluster", async () => {
        const out = await runStack(primariesReadEveryCluster, [
            ...clusters,
            remoteSecret("a", "b"),
            remoteSecret("a", "r"),
            remoteSecret("b", "a"),
            remoteSecret("b", "r"),
        ]);
        assert.deepEqual(out.messages, []);
    });
    it("reports each missing remote secret on the reading primary", async () => {
        const out = await runStack(primariesReadEveryCluster, [
            ...clusters,
            remoteSecret("a", "b"),
            remoteSecret("b", "a"),
        ]);
        assert.deepEqual(out.messages, [
            "primary a holds no remote secret for cluster r; create istio-remote-secret-r in a's istio-system so its istiod reads r",
            "primary b holds no remote secret for cluster r; create istio-remote-secret-r in b's istio-system so its istiod reads r",
        ]);
    });
    it("does not count a remote secret whose target is unknown as missing", async () => {
        const blind = remoteSecret("a", "r", { metadata: unknown, stringData: unknown });
        const out = await runStack(primariesReadEveryCluster, [
            ...clusters,
            remoteSecret("a", "b"),
            blind,
            remoteSecret("b", "a"),
            remoteSecret("b", "r"),
        ]);
        assert.deepEqual(out.messages, []);
    });
});

/** The per-reader remote secret in `reader`, holding every cluster of `sources`. */
function readerSecret(reader: string, sources: string[], patch: Record<string, unknown> = {}): FakeResource {
    return secret(reader, `${reader}-remote-secrets`, {
        metadata: {
            name: "istio-remote-secrets",
            namespace: "istio-system",
            labels: { "istio/multiCluster": "true" },
        },
        type: "Opaque",
        stringData: Object.fromEntries(sources.map((s) => [s, kubeconfig(s)])),
        ...patch,
    });
}

describe("the per-reader layout", () => {
    it("remote-secret-shape passes one Secret holding every cluster read, with no cluster annotation", async () => {
        assert.deepEqual(
            (await runResource(remoteSecretShape, readerSecret("a", ["b", "c", "r"]))).messages,
            [],
        );
    });
    it("remote-secret-shape reports its own cluster, keys that are no cluster IDs, no key, and the basics", async () => {
        const bad = readerSecret("a", ["b", "a", "Not_A_Cluster"], {
            metadata: {
                name: "istio-remote-secrets",
                namespace: "default",
                labels: { "istio/multiCluster": "yes" },
            },
        });
        assert.deepEqual((await runResource(remoteSecretShape, bad)).messages, [
            'remote secret a-remote-secrets: set label istio/multiCluster: "true" so istiod watches it',
            'remote secret a-remote-secrets is in namespace "default"; create it in istio-system, where istiod looks for it',
            "remote secret a-remote-secrets has data keys [Not_A_Cluster] that are not cluster IDs; istiod takes each key as a cluster ID: use the clusters' names",
            "remote secret a-remote-secrets in cluster a holds its own cluster; a cluster never holds a remote secret for itself, remove the key a",
        ]);
        assert.deepEqual((await runResource(remoteSecretShape, readerSecret("a", []))).messages, [
            "remote secret a-remote-secrets (istio-remote-secrets) holds no cluster; give it a key per cluster its primary reads, or remove it",
        ]);
        const unknownData = readerSecret("a", [], { stringData: unknown });
        assert.deepEqual((await runResource(remoteSecretShape, unknownData)).messages, []);
    });
    it("remote-secret-kubeconfig checks every cluster's kubeconfig in it", async () => {
        const s = readerSecret("a", ["b", "c"], {
            stringData: { b: kubeconfig("b"), c: kubeconfig("c", { server: "https://127.0.0.1:6443" }) },
        });
        const out = await runResource(remoteSecretKubeconfig, s);
        assert.equal(out.messages.length, 1);
        assert.match(out.messages[0]!, /server https:\/\/127\.0\.0\.1:6443 is a loopback address/);
    });
    it("primaries-read-every-cluster counts its keys", async () => {
        const clusters = [
            chart("a", "istiod", istiodValues("a")),
            chart("b", "istiod", istiodValues("b")),
            chart("r", "istiod", { profile: "remote", global: { multiCluster: { clusterName: "r" } } }),
        ];
        const full = await runStack(primariesReadEveryCluster, [
            ...clusters,
            readerSecret("a", ["b", "r"]),
            readerSecret("b", ["a", "r"]),
        ]);
        assert.deepEqual(full.messages, []);
        const missing = await runStack(primariesReadEveryCluster, [
            ...clusters,
            readerSecret("a", ["b", "r"]),
            readerSecret("b", ["a"]),
        ]);
        assert.deepEqual(missing.messages, [
            "primary b holds no remote secret for cluster r; create istio-remote-secret-r in b's istio-system so its istiod reads r",
        ]);
    });
});

describe("remote-secrets-disjoint", () => {
    it("passes either layout alone, and the same cluster held by different primaries", async () => {
        const perCluster = await runStack(remoteSecretsDisjoint, [
            remoteSecret("a", "b"),
            remoteSecret("a", "c"),
            remoteSecret("b", "c"),
        ]);
        assert.deepEqual(perCluster.messages, []);
        const perReader = await runStack(remoteSecretsDisjoint, [
            readerSecret("a", ["b", "c"]),
            readerSecret("b", ["c"]),
        ]);
        assert.deepEqual(perReader.messages, []);
    });
    it("reports a cluster in two Secrets of one primary (both layouts at once), once per cluster", async () => {
        const out = await runStack(remoteSecretsDisjoint, [
            remoteSecret("a", "b"),
            remoteSecret("a", "c"),
            readerSecret("a", ["b", "c"]),
            readerSecret("b", ["c"]),
        ]);
        assert.deepEqual(out.messages, [
            "primary a holds cluster b in 2 remote secrets (b-in-a, a-remote-secrets); istiod reads it from the first it sees and ignores the others: keep one (`mesh.remoteSecrets` picks per-cluster or per-reader)",
            "primary a holds cluster c in 2 remote secrets (c-in-a, a-remote-secrets); istiod reads it from the first it sees and ignores the others: keep one (`mesh.remoteSecrets` picks per-cluster or per-reader)",
        ]);
    });
    it("skips a Secret whose data is unknown", async () => {
        const out = await runStack(remoteSecretsDisjoint, [
            remoteSecret("a", "b"),
            readerSecret("a", [], { stringData: unknown }),
        ]);
        assert.deepEqual(out.messages, []);
    });
});

describe("remote-secret-shape", () => {
    it("passes a secret shaped as istioctl makes it, and ignores other Secrets", async () => {
        assert.deepEqual((await runResource(remoteSecretShape, remoteSecret("a", "b"))).messages, []);
        assert.deepEqual(
            (await runResource(remoteSecretShape, secret("a", "x", { metadata: { name: "x" } }))).messages,
            [],
        );
    });
    it("reports each broken part", async () => {
        const bad = secret("a", "bad", {
            metadata: {
                name: "istio-remote-secret-x",
                namespace: "default",
                labels: { "istio/multiCluster": "yes" },
                annotations: { "networking.istio.io/cluster": "a" },
            },
            stringData: { other: "", a: "" },
        });
        assert.deepEqual((await runResource(remoteSecretShape, bad)).messages, [
            'remote secret bad: set label istio/multiCluster: "true" so istiod watches it',
            'remote secret bad is in namespace "default"; create it in istio-system, where istiod looks for it',
            "remote secret bad is named istio-remote-secret-x; name it istio-remote-secret-a",
            "remote secret bad in cluster a points at its own cluster; a cluster never holds a remote secret for itself, remove it",
            "remote secret bad has data keys [other, a]; it must hold exactly one key, a (istiod takes the key as the cluster ID)",
        ]);
        const noAnnotation = remoteSecret("a", "b", {
            metadata: {
                name: "istio-remote-secret-b",
                namespace: "istio-system",
                labels: { "istio/multiCluster": "true" },
            },
        });
        assert.deepEqual((await runResource(remoteSecretShape, noAnnotation)).messages, [
            "remote secret b-in-a: set annotation networking.istio.io/cluster to the name of the cluster it reads",
        ]);
    });
    it("skips unknown data and namespace", async () => {
        const r = remoteSecret("a", "b", { stringData: unknown });
        (r.props!.metadata as Record<string, unknown>).namespace = unknown;
        assert.deepEqual((await runResource(remoteSecretShape, r)).messages, []);
    });
});

describe("remote-secret-kubeconfig", () => {
    it("passes a token-and-CA kubeconfig over https, in stringData or base64 data", async () => {
        assert.deepEqual((await runResource(remoteSecretKubeconfig, remoteSecret("a", "b"))).messages, []);
        const data = remoteSecret("a", "b", {
            stringData: undefined,
            data: { b: Buffer.from(kubeconfig("b")).toString("base64") },
        });
        assert.deepEqual((await runResource(remoteSecretKubeconfig, data)).messages, []);
    });
    const cases: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
        ["exec", {}, { exec: { command: "aws" } }, "user b uses exec; authenticate with a token only"],
        [
            "auth-provider",
            {},
            { "auth-provider": { name: "gcp" } },
            "user b uses auth-provider; authenticate with a token only",
        ],
        [
            "a token file",
            {},
            { tokenFile: "/var/t" },
            "user b uses tokenFile; authenticate with a token only",
        ],
        [
            "a client key",
            {},
            { "client-key-data": "a2V5" },
            "user b uses client-key-data; authenticate with a token only",
        ],
        ["no token", {}, { token: "" }, "user b has no token; use the reader service account's token"],
        [
            "http",
            { server: "http://10.0.0.1" },
            {},
            'server "http://10.0.0.1" is not an https URL; use the API server\'s https address',
        ],
        [
            "loopback",
            { server: "https://127.0.0.1:6443" },
            {},
            "server https://127.0.0.1:6443 is a loopback address; use the address other clusters reach it at",
        ],
        [
            "a *.localhost server",
            { server: "https://api.localhost:6443" },
            {},
            "server https://api.localhost:6443 is a loopback address; use the address other clusters reach it at",
        ],
        [
            "a 0.0.0.0 server",
            { server: "https://0.0.0.0:6443" },
            {},
            "server https://0.0.0.0:6443 is a loopback address; use the address other clusters reach it at",
        ],
        [
            "an IPv6 loopback server",
            { server: "https://[::1]:6443" },
            {},
            "server https://[::1]:6443 is a loopback address; use the address other clusters reach it at",
        ],
        [
            "insecure",
            { "insecure-skip-tls-verify": true },
            {},
            "cluster b sets insecure-skip-tls-verify; remove it and verify with the CA",
        ],
        [
            "no CA data",
            { "certificate-authority-data": undefined },
            {},
            "cluster b has no certificate-authority-data; embed the token Secret's ca.crt",
        ],
    ];
    for (const [what, cluster, user, message] of cases) {
        it(`reports ${what}`, async () => {
            const r = remoteSecret("a", "b", { stringData: { b: kubeconfig("b", cluster, user) } });
            assert.deepEqual((await runResource(remoteSecretKubeconfig, r)).messages, [
                `remote secret b-in-a, key b: ${message}`,
            ]);
        });
    }
    it("reports names other than the cluster's, and YAML that does not parse", async () => {
        const renamed = remoteSecret("a", "b", { stringData: { b: kubeconfig("x") } });
        assert.deepEqual((await runResource(remoteSecretKubeconfig, renamed)).messages, [
            "remote secret b-in-a, key b: name its one cluster, context, user and current-context b",
        ]);
        const broken = remoteSecret("a", "b", { stringData: { b: "a: [" } });
        assert.deepEqual((await runResource(remoteSecretKubeconfig, broken)).messages, [
            "remote secret b-in-a, key b: its kubeconfig is not valid YAML; regenerate it",
        ]);
    });
    it("skips an unknown kubeconfig (a preview before the token exists)", async () => {
        const r = remoteSecret("a", "b", { stringData: { b: unknown } });
        assert.deepEqual(await runResource(remoteSecretKubeconfig, r), {
            messages: [],
            urns: [],
            couldNotRun: false,
        });
    });
});

describe("reader-token-secret", () => {
    const token = (patch: Record<string, unknown> = {}) =>
        secret("b", "b-reader-token", {
            metadata: {
                name: "istio-reader-service-account-istio-remote-secret-token",
                namespace: "istio-system",
                annotations: { "kubernetes.io/service-account.name": "istio-reader-service-account" },
            },
            type: "kubernetes.io/service-account-token",
            ...patch,
        });
    it("passes a typed, annotated token Secret in istio-system", async () => {
        assert.deepEqual((await runResource(readerTokenSecret, token())).messages, []);
    });
    it("reports a wrong type, a missing annotation and another namespace", async () => {
        const r = token({
            type: "Opaque",
            metadata: {
                name: "istio-reader-service-account-istio-remote-secret-token",
                namespace: "default",
            },
        });
        assert.deepEqual((await runResource(readerTokenSecret, r)).messages, [
            'reader token Secret b-reader-token has type "Opaque"; set type kubernetes.io/service-account-token so the token controller fills it',
            "reader token Secret b-reader-token: set annotation kubernetes.io/service-account.name: istio-reader-service-account",
            'reader token Secret b-reader-token is in "default"; create it in istio-system, beside istio-reader-service-account',
        ]);
    });
    it("skips unknown values", async () => {
        assert.deepEqual(
            (await runResource(readerTokenSecret, token({ type: unknown, data: unknown }))).messages,
            [],
        );
    });
});
