/**
 * The supervisor of one directory's local clusters (`node --import tsx tools/clusters/supervisor.ts <dir>`,
 * started by `up`, stopped by `down`). Three duties, each what a real cluster has and a bare control plane
 * lacks:
 *
 * - **Load balancers** (loadBalancers.ts): every `LoadBalancer` Service gets an address of its cluster's
 *   range, reported in its status as an IP or, with `--lb hostname`, as a hostname that resolves to it.
 * - **The east-west gateway's passthrough** (a stand-in, named as such): no Envoy runs here, so for the
 *   ports the mesh's own Gateway and VirtualService route by TLS passthrough (istiod's 15012 and 15017),
 *   connections to the load-balancer address are forwarded where those objects say. Nothing else is
 *   forwarded: no data-plane traffic crosses clusters here.
 * - **A real istiod per istiod Pod** (istiods.ts): `pilot-discovery` built from istio.io/istio, started from
 *   the Pod's own container args and environment, its `cacerts` and mesh config, with a token of the Pod's
 *   ServiceAccount, listening on the Pod's address so that the API server reaches its webhooks at the
 *   Service's endpoints.
 * - **Volumes** (volumes.ts): a claim of the default StorageClass gets a volume, as a CSI provisioner would.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Api, sleep } from "./api";
import { IstiodRunner } from "./istiods";
import { LoadBalancers } from "./loadBalancers";
import { log } from "./log";
import { adminAccess, readState } from "./state";
import { provisionVolumes } from "./volumes";

const intervalMs = 500;

async function main(dir: string): Promise<void> {
    const state = readState(dir);
    if (!state) throw new Error(`${dir}: no clusters.json`);
    const apis = new Map(state.clusters.map((c) => [c.name, new Api(adminAccess(c), 15_000)]));
    const lbs = new LoadBalancers(state, apis);
    const istiods = new IstiodRunner(apis);
    let stopping = false;
    const stop = () => {
        if (stopping) return;
        stopping = true;
        log("stopping");
        lbs.close();
        void istiods.stopAll().then(() => process.exit(0));
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    let first = true;
    while (!stopping) {
        const started = Date.now();
        await Promise.all(
            state.clusters.map(async (c) => {
                try {
                    await lbs.sync(c);
                    await istiods.sync(c);
                    await provisionVolumes(c, apis.get(c.name)!);
                } catch (e) {
                    log(`${c.name}: ${(e as Error).message}`);
                }
            }),
        );
        if (first) {
            fs.writeFileSync(path.join(dir, "supervisor.ready"), new Date().toISOString());
            first = false;
        }
        await sleep(Math.max(50, intervalMs - (Date.now() - started)));
    }
}

if (require.main === module) {
    const dir = process.argv[2];
    if (!dir) {
        process.stderr.write("usage: supervisor.ts <dir>\n");
        process.exit(2);
    }
    main(path.resolve(dir)).catch((e: unknown) => {
        log(`fatal: ${(e as Error).stack ?? String(e)}`);
        process.exit(1);
    });
}
