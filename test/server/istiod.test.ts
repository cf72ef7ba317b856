/**
 * A real istiod (pilot-discovery built from istio.io/istio, run by the clusters' supervisor for each istiod
 * Pod the program creates) on the program's own objects: it signs with our intermediate and publishes our
 * root in `istio-ca-root-cert` in its cluster and, through the remote secret, in its remote; it reads our
 * remote secrets, lists every linked cluster as synced, and serves a Service created in a remote or another
 * primary from its registry.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { Api, waitFor } from "../../tools/clusters/api";
import { adminAccess, MeshState } from "../../tools/clusters/state";
import { repoRoot } from "../../tools/planner";
import { mesh, primary, remote, stackConfig } from "../support/fixtures";
import { TopologyCase } from "../support/topologyCases";
import { startClusters, stopClusters } from "./support/clusters";
import { runTopology, versionsUnderTest } from "./support/tier";

const referenceRoot = path.resolve(repoRoot, "..", "shared", "reference");
const version = versionsUnderTest(referenceRoot, "1.36.3")[0]!;

/**
 * GET from an istiod's debug port (8080). istiod answers its debug endpoints only to requests from its own
 * loopback (what a port-forward delivers): the request is made inside the clusters' network namespace, from
 * 127.0.0.1.
 */
function debugGet(netns: string, podIp: string, p: string): Promise<string> {
    const script =
        "const h=require('http');h.get({host:process.argv[1],port:8080,path:process.argv[2],localAddress:'127.0.0.1'," +
        "timeout:10000},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>{if(r.statusCode!==200){console.error('HTTP '+r.statusCode);" +
        "process.exit(1)}process.stdout.write(b)})}).on('error',e=>{console.error(e.message);process.exit(1)})";
    return new Promise((resolve, reject) =>
        execFile(
            "ip",
            ["netns", "exec", netns, process.execPath, "-e", script, podIp, p],
            { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) =>
                err ? reject(new Error(`${p}: ${stderr.trim() || err.message}`)) : resolve(stdout),
        ),
    );
}

const pem = (s: string) => s.replace(/\r/g, "").trim();

describe("a real istiod on the program's objects", function () {
    this.timeout(600_000);
    let state: MeshState | undefined;
    const apis = new Map<string, Api>();
    const istiodIp = new Map<string, string>();
    let root = "";
    const c: TopologyCase = {
        label: "a real istiod",
        lb: "ip",
        config: () =>
            stackConfig(mesh(), [primary("p1", "n1"), primary("p2", "n2"), remote("r1", "p1", "n1")]),
    };

    before(async () => {
        state = await startClusters(["p1", "p2", "r1"], "ip", c.label);
        const r = await runTopology(c, c.config(), state, version, 90_000);
        assert.deepEqual(r.refused, []);
        assert.deepEqual(r.unavailable, []);
        for (const cl of state.clusters) apis.set(cl.name, new Api(adminAccess(cl)));
        for (const p of ["p1", "p2"]) {
            const pods = await apis
                .get(p)!
                .list<{ status?: { podIP?: string } }>(
                    "/api/v1/namespaces/istio-system/pods?labelSelector=app%3Distiod",
                );
            assert.equal(pods.length, 1, `${p}: one istiod Pod`);
            istiodIp.set(p, pods[0]!.status!.podIP!);
        }
        const cacerts = await apis
            .get("p1")!
            .get<{ data: Record<string, string> }>("/api/v1/namespaces/istio-system/secrets/cacerts");
        root = pem(Buffer.from(cacerts!.data["root-cert.pem"]!, "base64").toString("utf8"));
        assert.match(root, /^-----BEGIN CERTIFICATE-----/);
    });
    after(async () => {
        for (const a of apis.values()) a.close();
        await stopClusters(state, false);
    });

    it("each primary's istiod publishes our root in istio-ca-root-cert; p1's reaches its remote r1 too", async () => {
        for (const cluster of ["p1", "p2", "r1"]) {
            const published = await waitFor(`${cluster}: istio-ca-root-cert in default`, 60_000, async () => {
                const cm = await apis
                    .get(cluster)!
                    .get<{ data?: Record<string, string> }>(
                        "/api/v1/namespaces/default/configmaps/istio-ca-root-cert",
                    );
                return cm?.data?.["root-cert.pem"];
            });
            assert.equal(pem(published), root, `${cluster}: istio-ca-root-cert holds another root`);
        }
    });

    it("istiod signs with our intermediate: its serving certificate chains to our root", async () => {
        // The injection webhook's caBundle is what istiod patched in: the root it signs under.
        const mwc = await apis
            .get("p1")!
            .get<{ webhooks: { clientConfig: { caBundle?: string } }[] }>(
                "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector",
            );
        const bundle = Buffer.from(mwc!.webhooks[0]!.clientConfig.caBundle ?? "", "base64").toString("utf8");
        assert.ok(pem(bundle).includes(root), "the injector's caBundle is not our root");
    });

    it("each primary's istiod lists every other cluster as synced (/debug/clusterz)", async () => {
        for (const [p, others] of [
            ["p1", ["p2", "r1"]],
            ["p2", ["p1", "r1"]],
        ] as const) {
            const status = await waitFor(`${p}: clusters synced`, 90_000, async () => {
                const list = JSON.parse(
                    await debugGet(state!.netns, istiodIp.get(p)!, "/debug/clusterz"),
                ) as {
                    id: string;
                    syncStatus: string;
                }[];
                const synced = list.filter((x) => x.syncStatus === "synced").map((x) => x.id);
                return others.every((o) => synced.includes(o)) ? list : undefined;
            });
            assert.deepEqual(
                status.map((x) => x.id).sort(),
                [p, ...others].sort(),
                `${p}: exactly its own cluster and the ones it reads`,
            );
        }
    });

    it("a Service created in the remote and one in the other primary appear in p1's registry", async () => {
        const svc = (name: string) => ({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name, namespace: "default" },
            spec: { selector: { app: name }, ports: [{ name: "http", port: 8080 }] },
        });
        await apis.get("r1")!.json("POST", "/api/v1/namespaces/default/services", svc("probe-r1"));
        await apis.get("p2")!.json("POST", "/api/v1/namespaces/default/services", svc("probe-p2"));
        for (const host of ["probe-r1.default.svc.cluster.local", "probe-p2.default.svc.cluster.local"]) {
            await waitFor(`p1's registry lists ${host}`, 60_000, async () => {
                const registry = JSON.parse(
                    await debugGet(state!.netns, istiodIp.get("p1")!, "/debug/registryz"),
                ) as {
                    hostname: string;
                }[];
                return registry.some((s) => s.hostname === host) ? true : undefined;
            });
        }
    });
});
