/**
 * `validateTopology`: every refusal with its exact messages (all problems at once), and the topology it
 * returns for good configs (defaults, merged east-west settings, secrets).
 */
import { labelledKey, testPki } from "../support/testPki";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isMultiNetwork, Topology } from "../../stacks/topology";
import { RawConfig, validateTopology } from "../../stacks/validate";
import {
    ClusterDoc,
    fakeCertPem,
    mesh,
    MeshDoc,
    primary,
    rawConfig,
    remote,
    topologies,
} from "../support/fixtures";

const M = "istio-multicluster:mesh";
const C = "istio-multicluster:clusters";
const dnsLabel =
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
const exactVersion = "an exact version such as 1.30.3 (no ranges, no `latest`)";
const keyFix = (p: string) => `set it with \`pulumi config set --secret --path '${p}' < key.pem\``;

/** primary cluster1 on network1, remote cluster2 on network2: valid; rows change one thing. */
const twoClusters = (): ClusterDoc[] => topologies.primaryRemoteMultiNetwork().clusters;
const at = (i: number, extra: ClusterDoc, drop: string[] = []): ClusterDoc[] => {
    const cs = twoClusters();
    const c = { ...cs[i], ...extra };
    for (const k of drop) delete c[k];
    cs[i] = c;
    return cs;
};

interface Row {
    readonly name: string;
    readonly mesh?: unknown;
    readonly clusters?: unknown;
    readonly secret?: { mesh?: boolean; clusters?: boolean };
    readonly errors: readonly string[];
}

function raw(row: { mesh?: unknown; clusters?: unknown; secret?: Row["secret"] }): RawConfig {
    return rawConfig(
        "mesh" in row ? row.mesh : mesh(),
        "clusters" in row ? row.clusters : twoClusters(),
        row.secret,
    );
}

const withCa = (ca: Record<string, unknown>, extra: MeshDoc = {}) => mesh({ ca, ...extra });

const refused: Row[] = [
    {
        name: "missing mesh",
        mesh: undefined,
        errors: [`${M}: required; set \`meshId\` and \`istio.version\` under it in Pulumi.<stack>.yaml`],
    },
    {
        name: "mesh not a map",
        mesh: "mesh1",
        errors: [`${M}: must be a map, got "mesh1"`],
    },
    {
        name: "missing meshId",
        mesh: { istio: { version: "1.30.3" } },
        errors: [`${M}.meshId: required; set it to ${dnsLabel}`],
    },
    {
        name: "malformed meshId",
        mesh: mesh({ meshId: "Mesh_1" }),
        errors: [`${M}.meshId: "Mesh_1" is not ${dnsLabel}`],
    },
    {
        name: "meshId longer than 63 characters",
        mesh: mesh({ meshId: "m".repeat(64) }),
        errors: [
            `${M}.meshId: "${"m".repeat(40)}…" (64 characters) is longer than 63 characters; shorten it`,
        ],
    },
    {
        name: "misspelt key meshID",
        mesh: { meshID: "mesh1", istio: { version: "1.30.3" } },
        errors: [
            `${M}.meshID: unknown key; did you mean \`meshId\`?`,
            `${M}.meshId: required; set it to ${dnsLabel}`,
        ],
    },
    {
        name: "unknown key far from any allowed one",
        mesh: mesh({ colour: "blue" }),
        errors: [
            `${M}.colour: unknown key; allowed keys are: meshId, trustDomain, istio, ca, controlPlane, eastWest, remoteSecrets, readerTokens`,
        ],
    },
    {
        name: "missing istio",
        mesh: { meshId: "mesh1" },
        errors: [`${M}.istio: required; set \`version\` under it, e.g. \`version: 1.30.3\``],
    },
    {
        name: "missing istio.version",
        mesh: mesh({ istio: {} }),
        errors: [`${M}.istio.version: required; set it to ${exactVersion}`],
    },
    {
        name: "istio.version 1.30 (a string)",
        mesh: mesh({ istio: { version: "1.30" } }),
        errors: [`${M}.istio.version: "1.30" is not ${exactVersion}`],
    },
    {
        // What YAML makes of an unquoted `version: 1.30`.
        name: "istio.version 1.30 (a YAML number)",
        mesh: mesh({ istio: { version: 1.3 } }),
        errors: [`${M}.istio.version: must be a string, got the number 1.3; quote it in YAML`],
    },
    {
        name: "istio.version latest",
        mesh: mesh({ istio: { version: "latest" } }),
        errors: [`${M}.istio.version: "latest" is not ${exactVersion}`],
    },
    {
        name: "istio.version ^1.30.3",
        mesh: mesh({ istio: { version: "^1.30.3" } }),
        errors: [`${M}.istio.version: "^1.30.3" is not ${exactVersion}`],
    },
    {
        name: "revision not a DNS-1123 label",
        mesh: mesh({ istio: { version: "1.30.3", revision: "1.30.3" } }),
        errors: [`${M}.istio.revision: "1.30.3" is not ${dnsLabel}`],
    },
    {
        name: "revision default",
        mesh: mesh({ istio: { version: "1.30.3", revision: "default" } }),
        errors: [
            `${M}.istio.revision: \`default\` is reserved by Istio for the default revision tag; ` +
                `omit \`revision\` or pick another name`,
        ],
    },
    {
        name: "missing clusters",
        clusters: undefined,
        errors: [`${C}: required; list the clusters of the mesh, at least one with \`role: primary\``],
    },
    {
        name: "empty clusters",
        clusters: [],
        errors: [`${C}: must be a non-empty list of clusters, got a list of 0`],
    },
    {
        name: "duplicate cluster names",
        clusters: [primary("cluster1", "network1"), remote("cluster1", "cluster1", "network2")],
        errors: [
            `${C}[1].name: "cluster1" is already used by clusters[0]; cluster names must be unique`,
            `${C}[1].primary: a remote cannot be its own primary; primaries are: cluster1`,
            `${C}[1].context: "ctx-cluster1" is also ${C}[0].context: both entries name one cluster; give ` +
                `each cluster of the mesh its own context`,
            `${C}[1].apiServer: "https://cluster1.example.com:6443" is also ${C}[0].apiServer: two clusters ` +
                `cannot share one API server; give each cluster its own address`,
        ],
    },
    {
        name: "cluster name not a DNS-1123 label",
        clusters: [primary("Cluster_1", "network1", { apiServer: "https://cluster-1.example.com:6443" })],
        errors: [`${C}[0].name: "Cluster_1" is not ${dnsLabel}`],
    },
    {
        name: "missing cluster name",
        clusters: at(1, {}, ["name"]),
        errors: [`${C}[1].name: required; set it to ${dnsLabel}`],
    },
    {
        name: "missing role",
        clusters: at(1, {}, ["role", "primary"]),
        errors: [`${C}[1].role: required; set it to \`primary\` or \`remote\``],
    },
    {
        name: "bad role",
        clusters: at(1, { role: "secondary" }, ["primary"]),
        errors: [`${C}[1].role: "secondary" is not one of: primary, remote`],
    },
    {
        name: "remote without primary",
        clusters: at(1, {}, ["primary"]),
        errors: [
            `${C}[1].primary: required; name the primary that serves this remote (primaries are: cluster1)`,
        ],
    },
    {
        name: "remote pointing at a remote",
        clusters: [...twoClusters(), remote("cluster3", "cluster2", "network3")],
        errors: [`${C}[2].primary: "cluster2" is not a primary; primaries are: cluster1`],
    },
    {
        name: "remote pointing at itself",
        clusters: at(1, { primary: "cluster2" }),
        errors: [`${C}[1].primary: a remote cannot be its own primary; primaries are: cluster1`],
    },
    {
        name: "remote pointing at an unknown cluster",
        clusters: at(1, { primary: "cluster9" }),
        errors: [
            `${C}[1].primary: "cluster9" is no cluster of the mesh; a primary is removed only once no remote names it: move this remote to another primary (primaries are: cluster1) or remove it too`,
        ],
    },
    {
        name: "primary naming a primary",
        clusters: at(0, { primary: "cluster2" }),
        errors: [`${C}[0].primary: only a remote names a primary; remove it or set \`role: remote\``],
    },
    {
        name: "no primary at all",
        clusters: [remote("cluster1", "cluster2", "network1"), remote("cluster2", "cluster1", "network2")],
        errors: [
            `${C}[0].primary: "cluster2" is not a primary; primaries are: none`,
            `${C}[1].primary: "cluster1" is not a primary; primaries are: none`,
            `${C}: no cluster has \`role: primary\`; a mesh needs at least one control plane`,
        ],
    },
    {
        name: "networks on some clusters only",
        clusters: [...at(1, {}, ["network"]), remote("cluster3", "cluster1")],
        errors: [
            `${C}: networks are named on some clusters but not on clusters[1], clusters[2]; name a network ` +
                `on every cluster (multi-network) or on none (single network)`,
        ],
    },
    {
        name: "both context and kubeconfig",
        clusters: at(0, { kubeconfig: "apiVersion: v1" }),
        secret: { clusters: true },
        errors: [`${C}[0]: set exactly one of \`context\` and \`kubeconfig\`, not both`],
    },
    {
        name: "neither context nor kubeconfig",
        clusters: at(0, {}, ["context"]),
        errors: [
            `${C}[0]: set exactly one of \`context\` (a context of your kubeconfig file) or \`kubeconfig\` (a secret)`,
        ],
    },
    {
        name: "plaintext kubeconfig",
        clusters: at(0, { kubeconfig: "apiVersion: v1" }, ["context"]),
        secret: { clusters: false },
        errors: [
            `${C}[0].kubeconfig: holds key material in plain text; set it with ` +
                `\`pulumi config set --secret --path '${C}[0].kubeconfig' < kubeconfig.yaml\``,
        ],
    },
    {
        name: "intermediateValidityDays equal to rootValidityDays",
        mesh: withCa({ rootValidityDays: 365, intermediateValidityDays: 365 }),
        errors: [
            `${M}.ca.intermediateValidityDays: 365 days is not shorter than the root's 365; ` +
                `an intermediate must expire before its root`,
        ],
    },
    {
        name: "intermediateValidityDays longer than the default root",
        mesh: withCa({ intermediateValidityDays: 4000 }),
        errors: [
            `${M}.ca.intermediateValidityDays: 4000 days is not shorter than the root's 3650; ` +
                `an intermediate must expire before its root`,
        ],
    },
    {
        name: "earlyRenewalHours not shorter than the intermediates' validity",
        mesh: withCa({ intermediateValidityDays: 10, earlyRenewalHours: 240 }),
        errors: [
            `${M}.ca.earlyRenewalHours: 240 hours is not shorter than the intermediates' validity; every ` +
                `\`pulumi up\` would renew them`,
        ],
    },
    {
        name: "rsaBits not a supported size",
        mesh: withCa({ rsaBits: 1024 }),
        errors: [`${M}.ca.rsaBits: 1024 is not one of: 2048, 3072, 4096`],
    },
    {
        name: "apiServer on a loopback address",
        clusters: at(1, { apiServer: "https://127.0.0.1:6443" }),
        errors: [
            `${C}[1].apiServer: "https://127.0.0.1:6443" is a loopback address, which other clusters cannot ` +
                `reach; give the address the other clusters use (for kind, the control-plane container's IP)`,
        ],
    },
    {
        name: "apiServer on localhost",
        clusters: at(1, { apiServer: "https://localhost:6443" }),
        errors: [
            `${C}[1].apiServer: "https://localhost:6443" is a loopback address, which other clusters cannot ` +
                `reach; give the address the other clusters use (for kind, the control-plane container's IP)`,
        ],
    },
    {
        name: "apiServer not https",
        clusters: at(1, { apiServer: "http://cluster2.example.com:6443" }),
        errors: [
            `${C}[1].apiServer: "http://cluster2.example.com:6443" is not https; istiod reads other clusters ` +
                `over TLS only`,
        ],
    },
    {
        name: "apiServer not a URL",
        clusters: at(1, { apiServer: "cluster2.example.com:6443" }),
        errors: [`${C}[1].apiServer: "cluster2.example.com:6443" is not a URL; use https://<host>:<port>`],
    },
    {
        name: "apiServer without a scheme",
        clusters: at(1, { apiServer: "10.0.0.1:6443" }),
        errors: [`${C}[1].apiServer: "10.0.0.1:6443" is not a URL; use https://<host>:<port>`],
    },
    {
        name: "east-west NodePort (mesh default) without an address",
        mesh: mesh({ eastWest: { serviceType: "NodePort" } }),
        clusters: at(1, { eastWest: { address: "10.0.0.2" } }),
        errors: [
            `${C}[0].eastWest.address: required when the east-west gateway is a NodePort; set it to a node ` +
                `address the other clusters reach`,
        ],
    },
    {
        name: "east-west address on a loopback",
        clusters: at(0, { eastWest: { address: "127.0.0.1" } }),
        errors: [
            `${C}[0].eastWest.address: "127.0.0.1" is a loopback address, which other clusters cannot reach; set the address they reach this gateway at (for kind, the node container's IP)`,
        ],
    },
    {
        name: "east-west address at mesh level",
        mesh: mesh({ eastWest: { address: "10.0.0.2" } }),
        errors: [
            `${M}.eastWest.address: unknown key; allowed keys are: replicas, autoscale, pdb, resources, ` +
                `serviceType, sourceRanges, serviceAnnotations`,
        ],
    },
    {
        name: "replicas and autoscale together (control plane)",
        mesh: mesh({ controlPlane: { replicas: 2, autoscale: { min: 2, max: 4 } } }),
        errors: [`${M}.controlPlane: \`replicas\` and \`autoscale\` cannot both be set; keep one`],
    },
    {
        name: "replicas and autoscale together (a cluster's east-west gateway)",
        clusters: at(0, { eastWest: { replicas: 2, autoscale: { min: 2, max: 4 } } }),
        errors: [`${C}[0].eastWest: \`replicas\` and \`autoscale\` cannot both be set; keep one`],
    },
    {
        name: "autoscale max below min",
        mesh: mesh({ controlPlane: { autoscale: { min: 3, max: 2 } } }),
        errors: [`${M}.controlPlane.autoscale.max: 2 is less than min 3; set max to at least 3`],
    },
    {
        name: "CA rootCert without rootKey or intermediates",
        mesh: withCa({ rootCert: fakeCertPem("ROOT") }),
        errors: [
            `${M}.ca.rootCert: needs either a secret \`rootKey\` or \`intermediates\` for every primary`,
        ],
    },
    {
        name: "CA rootCert not PEM",
        mesh: withCa({ rootCert: "ROOT", rootKey: "KEY" }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.rootCert: is not a PEM certificate; paste the root's certificate (-----BEGIN CERTIFICATE-----), ` +
                "never its key",
        ],
    },
    {
        name: "CA rootKey without rootCert",
        mesh: withCa({ rootKey: "KEY" }),
        secret: { mesh: true },
        errors: [`${M}.ca.rootCert: required with \`rootKey\`; set it to the root certificate (PEM)`],
    },
    {
        name: "CA rootKey in plain text",
        mesh: withCa({ rootCert: fakeCertPem("ROOT"), rootKey: "KEY" }),
        secret: { mesh: false },
        errors: [`${M}.ca.rootKey: holds key material in plain text; ${keyFix(`${M}.ca.rootKey`)}`],
    },
    {
        name: "CA rootKey and intermediates together",
        mesh: withCa({
            rootCert: fakeCertPem("ROOT"),
            rootKey: "KEY",
            intermediates: { cluster1: { cert: fakeCertPem("INT"), key: "IKEY" } },
        }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates: cannot be combined with \`rootKey\`; bring the root key or the ` +
                `intermediates, not both`,
        ],
    },
    {
        name: "CA intermediates without rootCert",
        mesh: withCa({ intermediates: { cluster1: { cert: fakeCertPem("INT"), key: "IKEY" } } }),
        secret: { mesh: true },
        errors: [`${M}.ca.rootCert: required with \`intermediates\`; set it to the root certificate (PEM)`],
    },
    {
        name: "CA intermediates missing a primary",
        mesh: withCa({
            rootCert: fakeCertPem("ROOT"),
            intermediates: { cluster1: { cert: fakeCertPem("INT1"), key: "IKEY1" } },
        }),
        clusters: topologies.multiPrimaryMultiNetwork().clusters,
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates.cluster2: missing; every primary needs its intermediate CA ` +
                `(\`cert\` and a secret \`key\`)`,
        ],
    },
    {
        name: "CA intermediates for a remote",
        mesh: withCa({
            rootCert: fakeCertPem("ROOT"),
            intermediates: {
                cluster1: { cert: fakeCertPem("INT1"), key: "IKEY1" },
                cluster2: { cert: fakeCertPem("INT2"), key: "IKEY2" },
            },
        }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates.cluster2: "cluster2" is not a primary; intermediates are for primaries: cluster1`,
        ],
    },
    {
        name: "CA intermediate key in plain text",
        mesh: withCa({
            rootCert: fakeCertPem("ROOT"),
            intermediates: { cluster1: { cert: fakeCertPem("INT1"), key: "IKEY1" } },
        }),
        secret: { mesh: false },
        errors: [
            `${M}.ca.intermediates.cluster1.key: holds key material in plain text; ` +
                keyFix(`${M}.ca.intermediates.cluster1.key`),
        ],
    },
    {
        name: "CA intermediate without cert or key",
        mesh: withCa({ rootCert: fakeCertPem("ROOT"), intermediates: { cluster1: { chain: "" } } }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates.cluster1.cert: required; set it to the intermediate certificate (PEM)`,
            `${M}.ca.intermediates.cluster1.key: required; ${keyFix(`${M}.ca.intermediates.cluster1.key`)}`,
        ],
    },
    {
        name: "several problems, all reported at once",
        mesh: { meshID: "mesh1", istio: { version: "latest" }, ca: { intermediateValidityDays: 4000 } },
        clusters: [
            primary("cluster1", "network1", { apiServer: "http://cluster1.example.com:6443" }),
            remote("cluster2", "cluster9", "network2"),
            { name: "Cluster_3", role: "primary", context: "ctx-3", kubeconfig: "x" },
        ],
        errors: [
            `${M}.meshID: unknown key; did you mean \`meshId\`?`,
            `${M}.meshId: required; set it to ${dnsLabel}`,
            `${M}.istio.version: "latest" is not ${exactVersion}`,
            `${C}[0].apiServer: "http://cluster1.example.com:6443" is not https; istiod reads other clusters ` +
                `over TLS only`,
            `${C}[1].primary: "cluster9" is no cluster of the mesh; a primary is removed only once no remote names it: move this remote to another primary (primaries are: cluster1) or remove it too`,
            `${C}[2].name: "Cluster_3" is not ${dnsLabel}`,
            `${C}[2]: set exactly one of \`context\` and \`kubeconfig\`, not both`,
            `${C}: networks are named on some clusters but not on clusters[2]; name a network on every ` +
                `cluster (multi-network) or on none (single network)`,
            `${M}.ca.intermediateValidityDays: 4000 days is not shorter than the root's 3650; ` +
                `an intermediate must expire before its root`,
        ],
    },
    {
        name: "CA intermediate that does not chain to the root",
        mesh: withCa({
            rootCert: fakeCertPem("ROOT"),
            intermediates: { cluster1: { cert: fakeCertPem("STRAY", "OTHER-ROOT"), key: "IKEY" } },
        }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates.cluster1.cert: does not chain to \`mesh.ca.rootCert\`; issue the intermediate ` +
                "from that root (with any certificates in between in `chain`), or every cluster's workloads will refuse it",
        ],
    },
    {
        name: "CA intermediate whose key is not the certificate's",
        mesh: withCa({
            rootCert: fakeCertPem("ROOT"),
            intermediates: { cluster1: { cert: fakeCertPem("INT1"), key: labelledKey("INT2") } },
        }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates.cluster1.key: is not the private key of \`cert\`; set the key the ` +
                "intermediate was issued for",
        ],
    },
    {
        name: "CA intermediate that is not a CA",
        mesh: withCa({
            rootCert: testPki().rootCert,
            intermediates: { cluster1: { cert: testPki().notCaCert, key: testPki().intKey } },
        }),
        secret: { mesh: true },
        errors: [
            `${M}.ca.intermediates.cluster1.cert: is not a CA certificate (basicConstraints CA:true); istiod ` +
                "cannot sign with it",
        ],
    },
    {
        name: "a kubeconfig written as a map: described, never printed",
        clusters: at(
            0,
            { context: undefined, kubeconfig: { users: [{ user: { token: "s3cr3t-token" } }] } },
            ["context"],
        ),
        secret: { clusters: true },
        errors: [`${C}[0].kubeconfig: must be a string, got a map`],
    },
];

describe("validateTopology: mesh.istio.charts", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-charts-"));
    before(() => {
        for (const [chart, version] of [
            ["base", "1.30.3"],
            ["istiod", "1.29.6"],
        ]) {
            fs.mkdirSync(path.join(dir, chart!));
            fs.writeFileSync(path.join(dir, chart!, "Chart.yaml"), `name: ${chart}\nversion: ${version}\n`);
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const key = `${M}.istio.charts`;
    const errors = (charts: unknown) => {
        const result = validateTopology(raw({ mesh: mesh({ istio: { version: "1.30.3", charts } }) }));
        return result.ok ? [] : result.errors;
    };

    it("accepts a mirror, an OCI registry and a directory with the three charts at the mesh's version", () => {
        fs.mkdirSync(path.join(dir, "good"));
        for (const chart of ["base", "istiod", "gateway"]) {
            fs.mkdirSync(path.join(dir, "good", chart));
            fs.writeFileSync(
                path.join(dir, "good", chart, "Chart.yaml"),
                `name: ${chart}\nversion: 1.30.3\n`,
            );
        }
        for (const charts of [
            "https://charts.example.com/istio",
            "oci://registry.example.com/istio",
            path.join(dir, "good"),
        ]) {
            assert.deepEqual(errors(charts), [], charts);
            const result = validateTopology(raw({ mesh: mesh({ istio: { version: "1.30.3", charts } }) }));
            assert.equal(result.ok && result.topology.mesh.istio.charts, charts);
        }
    });

    it("refuses a directory missing a chart or holding another version, every problem at once", () => {
        assert.deepEqual(errors(dir), [
            `${key}: the \`istiod\` chart in ${dir} is version 1.29.6, not mesh.istio.version 1.30.3; point it at the charts of 1.30.3`,
            `${key}: no chart \`gateway\` in ${dir} (expected ${dir}/gateway/Chart.yaml)`,
        ]);
    });

    it("refuses credentials in a repository address without echoing them, other schemes, and non-strings", () => {
        const withPassword = errors("https://robot:hunter2secret@charts.example.com/istio");
        assert.deepEqual(withPassword, [
            `${key}: a repository address must not carry a user or password; use a mirror that needs none here`,
        ]);
        assert.ok(!withPassword.join("").includes("hunter2secret"));
        assert.deepEqual(errors("s3://bucket/charts"), [
            `${key}: give an https:// or oci:// repository, or a local directory`,
        ]);
        assert.equal(errors(42).length, 1);
        assert.match(errors(42)[0]!, /^istio-multicluster:mesh\.istio\.charts: /);
    });
});

describe("validateTopology", () => {
    describe("refuses, reporting every problem exactly", () => {
        for (const row of refused) {
            it(row.name, () => {
                const result = validateTopology(raw(row));
                assert.equal(result.ok, false, "the config was accepted");
                assert.deepEqual(result.ok ? [] : result.errors, row.errors);
            });
        }
    });

    describe("accepts", () => {
        function accept(r: RawConfig): Topology {
            const result = validateTopology(r);
            assert.ok(result.ok, `refused: ${result.ok ? "" : result.errors.join("\n")}`);
            return result.topology;
        }

        for (const [name, make] of Object.entries(topologies)) {
            it(`the canonical topology ${name}`, () => {
                const t = make();
                const topology = accept(rawConfig(t.mesh, t.clusters));
                assert.deepEqual(
                    topology.clusters.map((c) => c.name),
                    t.clusters.map((c) => c.name),
                );
            });
        }

        it("NodePort on one network: an address only where a gateway is made (a primary serving remotes)", () => {
            const nodePort = mesh({ eastWest: { serviceType: "NodePort" } });
            // Two primaries, no remote: no east-west gateway anywhere, so no address is asked for.
            accept(rawConfig(nodePort, [primary("cluster1"), primary("cluster2")]));
            // cluster1 serves cluster2: its gateway exposes istiod and needs an address; the remote's does not.
            const served = [primary("cluster1"), remote("cluster2", "cluster1"), primary("cluster3")];
            const refused = validateTopology(rawConfig(nodePort, served));
            assert.deepEqual(refused.ok ? [] : refused.errors, [
                `${C}[0].eastWest.address: required when the east-west gateway is a NodePort; set it to a node ` +
                    `address the other clusters reach`,
            ]);
            served[0] = { ...served[0]!, eastWest: { address: "10.0.0.2" } };
            accept(rawConfig(nodePort, served));
        });

        it("applies the defaults: trust domain, CA (generated, 3650/730 days, RSA 4096), LoadBalancer", () => {
            const topology = accept(rawConfig(mesh(), twoClusters()));
            assert.deepEqual(topology.mesh, {
                meshId: "mesh1",
                trustDomain: "cluster.local",
                istio: { version: "1.30.3" },
                ca: {
                    mode: "generated",
                    rootValidityDays: 3650,
                    intermediateValidityDays: 730,
                    earlyRenewalHours: 720,
                    rsaBits: 4096,
                    protect: false,
                    intermediates: {},
                    generation: 1,
                },
                controlPlane: {},
            });
            assert.deepEqual(
                topology.clusters.map((c) => ({ ...c })),
                [
                    {
                        name: "cluster1",
                        role: "primary",
                        network: "network1",
                        apiServer: "https://cluster1.example.com:6443",
                        access: { kind: "context", context: "ctx-cluster1" },
                        eastWest: { serviceType: "LoadBalancer" },
                        index: 0,
                    },
                    {
                        name: "cluster2",
                        role: "remote",
                        primary: "cluster1",
                        network: "network2",
                        apiServer: "https://cluster2.example.com:6443",
                        access: { kind: "context", context: "ctx-cluster2" },
                        eastWest: { serviceType: "LoadBalancer" },
                        index: 1,
                    },
                ],
            );
        });

        it("keeps a revision and a trust domain as given", () => {
            const topology = accept(
                rawConfig(
                    mesh({
                        trustDomain: "prod.example.com",
                        istio: { version: "1.30.3", revision: "1-30-3" },
                    }),
                    twoClusters(),
                ),
            );
            assert.equal(topology.mesh.trustDomain, "prod.example.com");
            assert.deepEqual(topology.mesh.istio, { version: "1.30.3", revision: "1-30-3" });
        });

        it("merges each cluster's east-west settings over the mesh's", () => {
            const meshEastWest = {
                serviceType: "NodePort",
                autoscale: { min: 2, max: 5 },
                pdb: true,
                resources: { requests: { cpu: "500m" } },
            };
            const topology = accept(
                rawConfig(mesh({ eastWest: meshEastWest }), [
                    primary("cluster1", "network1", { eastWest: { address: "10.0.0.1" } }),
                    remote("cluster2", "cluster1", "network2", {
                        eastWest: {
                            serviceType: "LoadBalancer",
                            replicas: 1,
                            pdb: false,
                            sourceRanges: ["192.168.0.0/16"],
                            serviceAnnotations: { internal: "true" },
                        },
                    }),
                ]),
            );
            assert.deepEqual(topology.clusters[0]!.eastWest, {
                serviceType: "NodePort",
                autoscale: { min: 2, max: 5 },
                pdb: true,
                resources: { requests: { cpu: "500m" } },
                address: "10.0.0.1",
            });
            assert.deepEqual(topology.clusters[1]!.eastWest, {
                serviceType: "LoadBalancer",
                sourceRanges: ["192.168.0.0/16"],
                serviceAnnotations: { internal: "true" },
                replicas: 1,
                pdb: false,
                resources: { requests: { cpu: "500m" } },
            });
        });

        it("returns a kubeconfig held as a secret as a secret Output", async () => {
            const topology = accept(
                rawConfig(mesh(), at(0, { kubeconfig: "apiVersion: v1\nkind: Config\n" }, ["context"]), {
                    clusters: true,
                }),
            );
            const access = topology.clusters[0]!.access;
            assert.equal(access.kind, "kubeconfig");
            if (access.kind !== "kubeconfig") return;
            assert.equal(await pulumi.isSecret(access.kubeconfig), true);
            const value = await new Promise<string>((resolve) => access.kubeconfig.apply(resolve));
            assert.equal(value, "apiVersion: v1\nkind: Config\n");
        });

        it("reads the external-root CA, its key a secret", async () => {
            const topology = accept(
                rawConfig(
                    mesh({ ca: { rootCert: fakeCertPem("ROOT"), rootKey: "KEY", protect: true } }),
                    twoClusters(),
                    {
                        mesh: true,
                    },
                ),
            );
            const ca = topology.mesh.ca;
            assert.equal(ca.mode, "external-root");
            assert.equal(ca.protect, true);
            assert.equal(ca.rootCertPem, fakeCertPem("ROOT"));
            assert.equal(await pulumi.isSecret(ca.rootKeyPem!), true);
        });

        it("reads the external intermediates, every key a secret", async () => {
            const topology = accept(
                rawConfig(
                    mesh({
                        ca: {
                            rootCert: fakeCertPem("ROOT"),
                            intermediates: {
                                cluster1: {
                                    cert: fakeCertPem("INT1", "MID"),
                                    key: "IKEY1",
                                    chain: fakeCertPem("MID"),
                                },
                                cluster2: { cert: fakeCertPem("INT2"), key: "IKEY2" },
                            },
                        },
                    }),
                    topologies.multiPrimaryMultiNetwork().clusters,
                    { mesh: true },
                ),
            );
            const ca = topology.mesh.ca;
            assert.equal(ca.mode, "external-intermediates");
            assert.deepEqual(Object.keys(ca.intermediates), ["cluster1", "cluster2"]);
            assert.equal(ca.intermediates.cluster1!.certPem, fakeCertPem("INT1", "MID"));
            assert.equal(ca.intermediates.cluster1!.chainPem, fakeCertPem("MID"));
            assert.equal(ca.intermediates.cluster2!.chainPem, undefined);
            assert.equal(await pulumi.isSecret(ca.intermediates.cluster1!.keyPem), true);
            assert.equal(await pulumi.isSecret(ca.intermediates.cluster2!.keyPem), true);
        });
    });

    describe("isMultiNetwork", () => {
        const cases: [string, ClusterDoc[], boolean][] = [
            ["two networks", topologies.primaryRemoteMultiNetwork().clusters, true],
            ["no network named", topologies.primaryRemoteSingleNetwork().clusters, false],
            [
                "one network named on every cluster",
                [primary("cluster1", "n1"), remote("cluster2", "cluster1", "n1")],
                false,
            ],
            ["three networks, a remote sharing one", topologies.threePrimariesAndRemote().clusters, true],
        ];
        for (const [name, clusters, expected] of cases) {
            it(`${name}: ${expected}`, () => {
                const result = validateTopology(rawConfig(mesh(), clusters));
                assert.ok(result.ok);
                assert.equal(isMultiNetwork(result.topology), expected);
            });
        }
    });
});
