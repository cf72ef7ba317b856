/**
 * The whole program, per topology: which components each cluster gets, chart values, remote secrets, the
 * link matrix and the dependency edges Istio needs.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { longestChain } from "../tools/graph";
import {
    ApplyOutputs,
    Plan,
    PlannedResource,
    plainInputs,
    plan,
    stackConfigFromDocument,
} from "../tools/planner";

type Cluster = Record<string, unknown>;

function config(clusters: Cluster[], mesh: Record<string, unknown> = {}) {
    return stackConfigFromDocument(
        "test",
        {
            config: {
                "istio-multicluster:mesh": { meshId: "mesh1", istio: { version: "1.30.3" }, ...mesh },
                "istio-multicluster:clusters": clusters,
                // What hardening adds (objects, chart values, edges) is asserted in test/components/hardening.test.ts.
                "istio-multicluster:hardening": { mode: "off" },
            },
        },
        "test",
    );
}

const primary = (name: string, network?: string, extra: Cluster = {}): Cluster => ({
    name,
    role: "primary",
    ...(network ? { network } : {}),
    context: `ctx-${name}`,
    apiServer: `https://${name}.example.com:6443`,
    ...extra,
});
const remote = (name: string, of: string, network?: string, extra: Cluster = {}): Cluster => ({
    ...primary(name, network, extra),
    role: "remote",
    primary: of,
});

/** The plan's resources by name (names are unique per type; these tests look them up by type and name). */
class View {
    constructor(readonly p: Plan) {}
    get(type: string, name: string): PlannedResource {
        const r = this.p.resources.find((x) => x.type === type && x.name === name);
        assert.ok(r, `no ${type} named ${name}; have: ${this.p.resources.map((x) => x.name).join(", ")}`);
        return r;
    }
    release(name: string): PlannedResource {
        return this.get("kubernetes:helm.sh/v3:Release", name);
    }
    values(name: string): Record<string, unknown> {
        return plainInputs(this.release(name)).values as Record<string, unknown>;
    }
    secret(name: string): PlannedResource {
        return this.get("kubernetes:core/v1:Secret", name);
    }
    /** Component instances per cluster: `type -> sorted names`. */
    components(): Record<string, string[]> {
        const out: Record<string, string[]> = {};
        for (const r of this.p.resources.filter((x) => x.type.startsWith("multicluster:"))) {
            (out[r.type] ??= []).push(r.name);
        }
        for (const k of Object.keys(out)) out[k]!.sort();
        return out;
    }
    waitsFor(r: PlannedResource, type: string, name: string): boolean {
        return r.dependsOn.includes(this.get(type, name).urn);
    }
    /** True when `from` waits for `to`, directly or through other resources. */
    reaches(from: PlannedResource, to: PlannedResource): boolean {
        const byUrn = new Map(this.p.resources.map((x) => [x.urn, x]));
        const seen = new Set<string>();
        const stack = [...from.dependsOn];
        while (stack.length) {
            const u = stack.pop()!;
            if (u === to.urn) return true;
            if (seen.has(u)) continue;
            seen.add(u);
            stack.push(...(byUrn.get(u)?.dependsOn ?? []));
        }
        return false;
    }
}

const istiodType = "kubernetes:helm.sh/v3:Release";
const dnsProxy = { proxyMetadata: { ISTIO_META_DNS_CAPTURE: "true", ISTIO_META_DNS_AUTO_ALLOCATE: "true" } };

describe("mesh.istio.charts: where every Istio release's chart comes from", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-charts-"));
    before(() => {
        for (const chart of ["base", "istiod", "gateway"]) {
            fs.mkdirSync(path.join(dir, chart));
            fs.writeFileSync(path.join(dir, chart, "Chart.yaml"), `name: ${chart}\nversion: 1.30.3\n`);
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const releases = [
        ["c1-base", "base"],
        ["c1-istiod", "istiod"],
        ["c1-eastwestgateway", "gateway"],
        ["c2-base", "base"],
        ["c2-eastwestgateway", "gateway"],
    ] as const;
    const sources = async (charts?: string) => {
        const v = new View(
            await plan(
                config(
                    [primary("c1", "n1"), remote("c2", "c1", "n2")],
                    charts ? { istio: { version: "1.30.3", charts } } : {},
                ),
            ),
        );
        return releases.map(([name]) => {
            const { chart, version, repositoryOpts } = plainInputs(v.release(name));
            return { chart, version, repositoryOpts };
        });
    };

    it("Istio's repository by default, at the exact version", async () => {
        assert.deepEqual(
            await sources(),
            releases.map(([, chart]) => ({
                chart,
                version: "1.30.3",
                repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" },
            })),
        );
    });

    it("a mirror (https) or an OCI registry, at the exact version", async () => {
        assert.deepEqual(
            await sources("https://charts.example.com/istio"),
            releases.map(([, chart]) => ({
                chart,
                version: "1.30.3",
                repositoryOpts: { repo: "https://charts.example.com/istio" },
            })),
        );
        assert.deepEqual(
            await sources("oci://registry.example.com/istio/"),
            releases.map(([, chart]) => ({
                chart: `oci://registry.example.com/istio/${chart}`,
                version: "1.30.3",
                repositoryOpts: undefined,
            })),
        );
    });

    it("a local directory: the chart folder, at the version the validator checked it holds", async () => {
        assert.deepEqual(
            await sources(dir),
            releases.map(([, chart]) => ({
                chart: `${dir}/${chart}`,
                version: "1.30.3",
                repositoryOpts: undefined,
            })),
        );
    });
});

describe("mesh, primary-remote on two networks", () => {
    let v: View;
    before(async () => {
        v = new View(await plan(config([primary("c1", "n1"), remote("c2", "c1", "n2")])));
    });

    it("gives each cluster exactly its components", () => {
        assert.deepEqual(v.components(), {
            "multicluster:pki:TrustAnchor": ["mesh1"],
            "multicluster:istio:IstioPrimary": ["c1"],
            "multicluster:istio:IstioRemote": ["c2"],
            "multicluster:istio:EastWestGateway": ["c1", "c2"],
            "multicluster:mesh:ClusterLink": ["c2"],
            // The mesh-wide STRICT PeerAuthentication, on the primary only.
            "multicluster:security:MeshSecurity": ["c1"],
        });
    });

    it("configures the primary's istiod for the mesh and for serving remotes", () => {
        assert.deepEqual(v.values("c1-istiod"), {
            global: {
                meshID: "mesh1",
                multiCluster: { clusterName: "c1" },
                network: "n1",
                externalIstiod: true,
            },
            meshConfig: { trustDomain: "cluster.local", defaultConfig: dnsProxy },
        });
        const istiod = plainInputs(v.release("c1-istiod"));
        assert.equal(istiod.chart, "istiod");
        assert.equal(istiod.version, "1.30.3");
        assert.equal(istiod.name, "istiod");
        assert.equal(istiod.namespace, "istio-system");
        assert.deepEqual(istiod.repositoryOpts, {
            repo: "https://istio-release.storage.googleapis.com/charts",
        });
        assert.deepEqual(v.values("c1-base"), {});
    });

    it("installs the remote with profile=remote against the primary's east-west address", () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        // Whether the webhooks go by URL depends on the address (IP or hostname): unknown in a preview.
        assert.deepEqual(v.values("c2-base"), { profile: "remote", base: unknown });
        const values = v.values("c2-istiod");
        const global = values.global as Record<string, unknown>;
        // The address is read from the primary's gateway Service: unknown until that gateway exists.
        assert.equal(global.remotePilotAddress, unknown);
        assert.deepEqual(values, {
            profile: "remote",
            istiodRemote: { injectionPath: "/inject/cluster/c2/net/n2", injectionURL: unknown },
            base: unknown,
            global: {
                meshID: "mesh1",
                multiCluster: { clusterName: "c2" },
                network: "n2",
                configCluster: true,
                remotePilotAddress: global.remotePilotAddress,
            },
        });
    });

    it("labels istio-system with the network and annotates the remote's with its control plane", () => {
        assert.deepEqual(plainInputs(v.get("kubernetes:core/v1:Namespace", "c1-istio-system")).metadata, {
            name: "istio-system",
            labels: { "topology.istio.io/network": "n1" },
        });
        assert.deepEqual(plainInputs(v.get("kubernetes:core/v1:Namespace", "c2-istio-system")).metadata, {
            name: "istio-system",
            labels: { "topology.istio.io/network": "n2" },
            annotations: { "topology.istio.io/controlPlaneClusters": "c1" },
        });
    });

    it("exposes services and istiod on the primary only", () => {
        const names = v.p.resources
            .filter((r) => r.type.startsWith("kubernetes:networking.istio.io"))
            .map((r) => r.name);
        assert.deepEqual(names.sort(), ["c1-cross-network-gateway", "c1-istiod-gateway", "c1-istiod-vs"]);
        for (const n of names) assert.equal(v.p.resources.find((r) => r.name === n)!.cluster, "c1");
    });

    it("creates the reader token in the remote and its remote secret in the primary", () => {
        const token = v.secret("c2-reader-token");
        assert.equal(token.cluster, "c2");
        assert.deepEqual(plainInputs(token).metadata, {
            name: "istio-reader-service-account-istio-remote-secret-token",
            namespace: "istio-system",
            annotations: { "kubernetes.io/service-account.name": "istio-reader-service-account" },
        });
        assert.equal(plainInputs(token).type, "kubernetes.io/service-account-token");
        assert.ok(
            v.waitsFor(token, istiodType, "c2-istiod"),
            "the token needs the reader ClusterRole and binding of the source's istiod release",
        );
        const link = v.secret("c2/in/c1");
        assert.equal(link.cluster, "c1");
        assert.deepEqual(plainInputs(link).metadata, {
            name: "istio-remote-secret-c2",
            namespace: "istio-system",
            labels: { "istio/multiCluster": "true" },
            annotations: { "networking.istio.io/cluster": "c2" },
        });
        // The kubeconfig needs the token, so in a preview the Secret's whole stringData is unknown (the
        // Kubernetes SDK lifts it into one secret Output); its shape is checked on update below.
        assert.equal(plainInputs(link).stringData, "04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    });

    it("orders cacerts before istiod, and the remote after its primary's exposure and address", () => {
        const istiod = v.release("c1-istiod");
        assert.ok(v.waitsFor(istiod, "kubernetes:core/v1:Secret", "mesh1-c1-cacerts"));
        assert.ok(v.waitsFor(istiod, istiodType, "c1-base"));
        const remoteIstiod = v.release("c2-istiod");
        assert.ok(v.waitsFor(remoteIstiod, "kubernetes:core/v1:Service", "c1-eastwestgateway-service"));
        assert.ok(v.waitsFor(remoteIstiod, "kubernetes:networking.istio.io/v1:Gateway", "c1-istiod-gateway"));
        assert.ok(
            v.waitsFor(remoteIstiod, "kubernetes:networking.istio.io/v1:VirtualService", "c1-istiod-vs"),
        );
        const remoteGateway = v.release("c2-eastwestgateway");
        assert.ok(
            v.waitsFor(remoteGateway, istiodType, "c2-istiod"),
            "the remote's gateway is injected by its webhook",
        );
        assert.ok(
            v.waitsFor(remoteGateway, "kubernetes:core/v1:Secret", "c2/in/c1"),
            "attached before its gateway",
        );
        assert.ok(v.waitsFor(v.release("c1-eastwestgateway"), istiodType, "c1-istiod"));
    });

    it("exports roles, networks, addresses and the link matrix", () => {
        assert.deepEqual(v.p.outputs.links, { c1: ["c2"] });
        assert.deepEqual(v.p.outputs.clusters, {
            c1: { role: "primary", network: "n1", eastWestAddress: "[unknown]" },
            c2: { role: "remote", primary: "c1", network: "n2", eastWestAddress: "[unknown]" },
        });
    });
});

describe("mesh, multi-primary on two networks", () => {
    let v: View;
    before(async () => {
        v = new View(await plan(config([primary("c1", "n1"), primary("c2", "n2")])));
    });

    it("gives both clusters a control plane, a gateway exposing services, and no istiod exposure", () => {
        assert.deepEqual(v.components(), {
            "multicluster:pki:TrustAnchor": ["mesh1"],
            "multicluster:istio:IstioPrimary": ["c1", "c2"],
            "multicluster:istio:EastWestGateway": ["c1", "c2"],
            "multicluster:mesh:ClusterLink": ["c1", "c2"],
            "multicluster:security:MeshSecurity": ["c1", "c2"],
        });
        const exposed = v.p.resources
            .filter((r) => r.type.startsWith("kubernetes:networking.istio.io"))
            .map((r) => r.name);
        assert.deepEqual(exposed.sort(), ["c1-cross-network-gateway", "c2-cross-network-gateway"]);
        assert.equal((v.values("c1-istiod").global as Record<string, unknown>).externalIstiod, undefined);
    });

    it("links every primary to every other cluster", () => {
        assert.deepEqual(v.p.outputs.links, { c1: ["c2"], c2: ["c1"] });
        assert.equal(v.secret("c1/in/c2").cluster, "c2");
        assert.equal(v.secret("c2/in/c1").cluster, "c1");
    });

    it("gives each primary its own intermediate under one root", () => {
        for (const c of ["c1", "c2"]) {
            assert.ok(
                v.waitsFor(v.release(`${c}-istiod`), "kubernetes:core/v1:Secret", `mesh1-${c}-cacerts`),
            );
            assert.equal(v.secret(`mesh1-${c}-cacerts`).cluster, c);
        }
    });

    it("sets the gateway values for each network", () => {
        assert.deepEqual(v.values("c2-eastwestgateway"), {
            name: "istio-eastwestgateway",
            networkGateway: "n2",
            labels: { istio: "eastwestgateway" },
            service: { type: "LoadBalancer" },
        });
    });

    it("orders no cluster after another", () => {
        const crossings: string[] = [];
        for (const r of v.p.resources.filter((x) => x.cluster !== null && x.custom)) {
            for (const d of r.dependsOn) {
                const dep = v.p.resources.find((x) => x.urn === d)!;
                if (dep.cluster !== null && dep.cluster !== r.cluster)
                    crossings.push(`${r.name} <- ${dep.name}`);
            }
        }
        // A remote secret waits for the other cluster's reader token: those are the only crossings.
        assert.deepEqual(crossings.sort(), ["c1/in/c2 <- c1-reader-token", "c2/in/c1 <- c2-reader-token"]);
    });
});

describe("mesh, single network", () => {
    it("primary-remote: a gateway on the primary for istiod only, none on the remote", async () => {
        const v = new View(await plan(config([primary("c1"), remote("c2", "c1")])));
        assert.deepEqual(v.components()["multicluster:istio:EastWestGateway"], ["c1"]);
        const exposed = v.p.resources
            .filter((r) => r.type.startsWith("kubernetes:networking.istio.io"))
            .map((r) => r.name);
        assert.deepEqual(exposed.sort(), ["c1-istiod-gateway", "c1-istiod-vs"]);
        const gw = v.values("c1-eastwestgateway");
        assert.equal(gw.networkGateway, undefined);
        assert.deepEqual((gw.service as Record<string, unknown>).ports, [
            { name: "status-port", port: 15021, targetPort: 15021, protocol: "TCP" },
            { name: "tls-istiod", port: 15012, targetPort: 15012, protocol: "TCP" },
            { name: "tls-webhook", port: 15017, targetPort: 15017, protocol: "TCP" },
        ]);
        assert.equal(
            (v.values("c2-istiod").istiodRemote as Record<string, unknown>).injectionPath,
            "/inject/cluster/c2",
        );
        assert.equal(
            plainInputs(v.get("kubernetes:core/v1:Namespace", "c1-istio-system")).metadata!.constructor,
            Object,
        );
        assert.deepEqual(plainInputs(v.get("kubernetes:core/v1:Namespace", "c1-istio-system")).metadata, {
            name: "istio-system",
        });
    });

    it("multi-primary: no gateway at all, links both ways", async () => {
        const v = new View(await plan(config([primary("c1"), primary("c2")])));
        assert.equal(v.components()["multicluster:istio:EastWestGateway"], undefined);
        assert.deepEqual(v.p.outputs.links, { c1: ["c2"], c2: ["c1"] });
    });
});

describe("mesh, several primaries each with remotes", () => {
    it("attaches each remote to its own primary and lets every primary read it", async () => {
        const v = new View(
            await plan(
                config([
                    primary("p1", "n1"),
                    primary("p2", "n2"),
                    remote("r1", "p1", "n1"),
                    remote("r2", "p2", "n3"),
                ]),
            ),
        );
        assert.deepEqual(v.p.outputs.links, { p1: ["p2", "r1", "r2"], p2: ["p1", "r1", "r2"] });
        assert.ok(
            v.waitsFor(v.release("r1-istiod"), "kubernetes:core/v1:Service", "p1-eastwestgateway-service"),
        );
        assert.ok(
            v.waitsFor(v.release("r2-istiod"), "kubernetes:core/v1:Service", "p2-eastwestgateway-service"),
        );
        assert.ok(!v.reaches(v.release("r1-istiod"), v.release("p2-istiod")), "r1 does not wait for p2");
        assert.ok(v.waitsFor(v.release("r2-eastwestgateway"), "kubernetes:core/v1:Secret", "r2/in/p2"));
        assert.deepEqual(v.components()["multicluster:istio:EastWestGateway"], ["p1", "p2", "r1", "r2"]);
    });
});

describe("mesh, revisions and production knobs", () => {
    it("uses the revision everywhere, and sizes istiod and gateways from config", async () => {
        const v = new View(
            await plan(
                config([primary("c1", "n1"), remote("c2", "c1", "n2")], {
                    istio: { version: "1.30.3", revision: "1-30-3" },
                    controlPlane: {
                        replicas: 2,
                        pdb: true,
                        resources: { requests: { cpu: "500m", memory: "1Gi" } },
                    },
                    eastWest: { sourceRanges: ["10.0.0.0/8"], autoscale: { min: 2, max: 4 }, pdb: true },
                }),
            ),
        );
        assert.equal(plainInputs(v.release("c1-istiod")).name, "istiod-1-30-3");
        assert.deepEqual(v.values("c1-base"), { defaultRevision: "1-30-3" });
        const istiod = v.values("c1-istiod");
        assert.equal(istiod.revision, "1-30-3");
        assert.equal(istiod.replicaCount, 2);
        assert.equal(istiod.autoscaleEnabled, false);
        assert.deepEqual(istiod.pdb, { maxUnavailable: 1 });
        assert.deepEqual((istiod.global as Record<string, unknown>).defaultPodDisruptionBudget, {
            enabled: true,
        });
        assert.deepEqual(istiod.resources, { requests: { cpu: "500m", memory: "1Gi" } });
        assert.equal(v.values("c2-istiod").revision, "1-30-3");
        const gw = v.values("c1-eastwestgateway");
        assert.equal(gw.revision, "1-30-3");
        assert.deepEqual(gw.autoscaling, { enabled: true, minReplicas: 2, maxReplicas: 4 });
        assert.deepEqual(gw.podDisruptionBudget, { maxUnavailable: 1 });
        assert.deepEqual((gw.service as Record<string, unknown>).loadBalancerSourceRanges, ["10.0.0.0/8"]);
        const vs = plainInputs(v.get("kubernetes:networking.istio.io/v1:VirtualService", "c1-istiod-vs"));
        assert.equal((vs.metadata as Record<string, unknown>).name, "istiod-vs-1-30-3");
        const tls = (vs.spec as { tls: { match: { sniHosts: string[] }[] }[] }).tls;
        assert.deepEqual(tls[0]!.match[0]!.sniHosts, [
            "istiod-1-30-3.istio-system.svc",
            "istiod-1-30-3.istio-system.svc.cluster.local",
        ]);
    });

    it("takes a fixed east-west address instead of waiting for a load balancer", async () => {
        const v = new View(
            await plan(
                config([
                    primary("c1", "n1", { eastWest: { address: "198.51.100.7" } }),
                    remote("c2", "c1", "n2"),
                ]),
            ),
        );
        assert.equal(
            v.p.resources.some((r) => r.name === "c1-eastwestgateway-service"),
            false,
            "no Service read when the address is configured",
        );
        assert.equal(
            (v.values("c2-istiod").global as Record<string, unknown>).remotePilotAddress,
            "198.51.100.7",
        );
        // Nothing else orders the remote after the gateway then: the gateway release itself must.
        assert.ok(v.waitsFor(v.release("c2-istiod"), istiodType, "c1-eastwestgateway"));
        // A load balancer already answers at its address: no externalIPs (istiod would announce both).
        assert.equal(
            (v.values("c1-eastwestgateway").service as Record<string, unknown>).externalIPs,
            undefined,
        );
        // A hostname (an address managed elsewhere) cannot be an external IP.
        const named = new View(
            await plan(
                config([
                    primary("c1", "n1", { eastWest: { address: "gw.example.com" } }),
                    primary("c2", "n2"),
                ]),
            ),
        );
        assert.equal(
            (named.values("c1-eastwestgateway").service as Record<string, unknown>).externalIPs,
            undefined,
        );
    });
});

/** Plays the clusters for an update: the token controller fills the token, the cloud gives an address. */
const cluster: ApplyOutputs = (args) => {
    if (args.type === "kubernetes:core/v1:Secret" && args.name.endsWith("-reader-token")) {
        return {
            data: {
                token: Buffer.from(`token-of-${args.name}`).toString("base64"),
                "ca.crt": Buffer.from(`CA of ${args.name}`).toString("base64"),
            },
        };
    }
    if (
        args.type === "tls:index/selfSignedCert:SelfSignedCert" ||
        args.type === "tls:index/locallySignedCert:LocallySignedCert"
    ) {
        return { certPem: `certificate of ${args.name}\n` };
    }
    if (args.type === "kubernetes:helm.sh/v3:Release") {
        return {
            status: {
                name: (args.inputs as Record<string, unknown>).name,
                namespace: (args.inputs as Record<string, unknown>).namespace,
                status: "deployed",
            },
        };
    }
    if (args.type === "kubernetes:core/v1:Service") {
        return { status: { loadBalancer: { ingress: [{ ip: "203.0.113.5" }] } } };
    }
    return undefined;
};

describe("mesh, on update", () => {
    it("writes a token-and-CA-only kubeconfig into each remote secret, and the real address into the remote", async () => {
        const v = new View(
            await plan(config([primary("c1", "n1"), remote("c2", "c1", "n2")]), {
                preview: false,
                applyOutputs: cluster,
            }),
        );
        const data = plainInputs(v.secret("c2/in/c1")).stringData as Record<string, string>;
        assert.deepEqual(
            Object.keys(data),
            ["c2"],
            "one data key: the source cluster's name, its Istio cluster ID",
        );
        const kubeconfig = YAML.parse(data.c2!) as Record<string, unknown>;
        assert.deepEqual(kubeconfig, {
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                {
                    name: "c2",
                    cluster: {
                        server: "https://c2.example.com:6443",
                        "certificate-authority-data": Buffer.from("CA of c2-reader-token").toString("base64"),
                    },
                },
            ],
            contexts: [{ name: "c2", context: { cluster: "c2", user: "c2" } }],
            "current-context": "c2",
            preferences: {},
            users: [{ name: "c2", user: { token: "token-of-c2-reader-token" } }],
        });
        assert.equal(
            (v.values("c2-istiod").global as Record<string, unknown>).remotePilotAddress,
            "203.0.113.5",
        );
        assert.equal(
            v.p.outputs.clusters &&
                (v.p.outputs.clusters as Record<string, Record<string, unknown>>).c1!.eastWestAddress,
            "203.0.113.5",
        );
    });

    it("refuses a loopback API server taken from the user's kubeconfig", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-"));
        const file = path.join(dir, "config");
        fs.writeFileSync(
            file,
            YAML.stringify({
                clusters: [{ name: "kind-c2", cluster: { server: "https://127.0.0.1:40123" } }],
                contexts: [{ name: "ctx-c2", context: { cluster: "kind-c2" } }],
            }),
        );
        const saved = process.env.KUBECONFIG;
        process.env.KUBECONFIG = file;
        try {
            const c2 = remote("c2", "c1", "n2");
            delete c2.apiServer;
            await assert.rejects(
                plan(config([primary("c1", "n1"), c2]), { preview: false, applyOutputs: cluster }),
                /istio-multicluster:clusters\[1\]: the API server address "https:\/\/127\.0\.0\.1:40123" is a loopback address, which the other clusters cannot reach; set `apiServer` there/,
            );
        } finally {
            if (saved === undefined) delete process.env.KUBECONFIG;
            else process.env.KUBECONFIG = saved;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("mesh, dependency depth", () => {
    it("does not grow with the number of clusters", async () => {
        const many = (n: number) => Array.from({ length: n }, (_, i) => primary(`c${i + 1}`, `n${i + 1}`));
        const small = longestChain((await plan(config(many(2)))).resources);
        const large = longestChain((await plan(config(many(6)))).resources);
        assert.equal(large.length, small.length, `chain at 6 clusters: ${large.chain.join(" -> ")}`);
    });
});
