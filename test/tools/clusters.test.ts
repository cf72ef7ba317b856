/**
 * `npm run clusters`: what can be checked without starting anything (the server tier starts them): the
 * command line, the refusals that come before any process, the address plan, the /etc/hosts lines.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import * as os from "node:os";
import * as path from "node:path";
import { main, parseArgs } from "../../tools/clusters";
import { addHostsEntry, removeHostsEntries } from "../../tools/clusters/hosts";
import { checkUpInput } from "../../tools/clusters/local";
import { clientHelloSni, lbHostname } from "../../tools/clusters/loadBalancers";
import {
    addressPlan,
    claimSlot,
    maxClusters,
    networkPlan,
    releaseSlot,
    slotCount,
} from "../../tools/clusters/state";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(
        argv,
        (s) => (out += s),
        (s) => (err += s),
    );
    return { code, out, err };
}

describe("npm run clusters", () => {
    it("answers --help, -h and no command with its usage and exit 0", async () => {
        for (const argv of [["--help"], ["-h"], [], ["up", "--help"], ["down", "-h"]]) {
            const r = await run(argv);
            assert.equal(r.code, 0, argv.join(" "));
            assert.match(r.out, /^usage: npm run clusters -- up --names a,b,c --dir D \[--lb ip\|hostname\]/);
            assert.equal(r.err, "");
        }
    });

    it("refuses a bad command line with one line and exit 2, starting nothing", async () => {
        const cases: [string[], RegExp][] = [
            [["start"], /unknown command start/],
            [["up", "--names", "a"], /--dir is required/],
            [["down"], /--dir is required/],
            [["up", "--names"], /--names needs a value/],
            [["up", "--names", "a", "--dir", "d", "--lb", "dns"], /--lb dns: give ip or hostname/],
            [["down", "--dir", "d", "--names", "a"], /unknown argument --names for down/],
            [["build", "--dir", "d"], /unknown argument --dir for build/],
        ];
        for (const [argv, message] of cases) {
            const r = await run(argv);
            assert.equal(r.code, 2, argv.join(" "));
            assert.match(r.err, message);
            assert.equal(r.err.trim().split("\n").length, 1, `one line: ${r.err}`);
        }
    });

    it("parses up's options", () => {
        assert.deepEqual(parseArgs(["up", "--names", "a, b,c", "--dir", "/tmp/x", "--lb", "hostname"]), {
            command: "up",
            names: ["a", "b", "c"],
            dir: "/tmp/x",
            lb: "hostname",
        });
    });

    it("parses build, which takes no directory (CI calls it to time the build apart)", () => {
        assert.deepEqual(parseArgs(["build"]), { command: "build", names: [], lb: "ip" });
        assert.equal(parseArgs(["build", "--help"]).command, "help");
    });

    it("refuses names that are not DNS labels, duplicates and too many clusters, all at once", () => {
        const long = "a".repeat(64);
        const problems = checkUpInput(["Upper", long, "ok", "ok", "-x"], "");
        assert.deepEqual(
            problems.map((p) => p.replace(/"[^"]*"/, "<name>")),
            [
                "--names: <name> is not a DNS label (a-z, 0-9, '-', at most 63)",
                "--names: <name> is not a DNS label (a-z, 0-9, '-', at most 63)",
                "--names: <name> is not a DNS label (a-z, 0-9, '-', at most 63)",
                "--names: ok given more than once",
                "--dir: give the directory for the clusters' files (--dir D)",
            ],
        );
        assert.deepEqual(checkUpInput([], "d"), ["--names: give at least one cluster name (--names a,b,c)"]);
        const many = Array.from({ length: maxClusters + 1 }, (_, i) => `c${i}`);
        assert.deepEqual(checkUpInput(many, "d"), [
            `--names: at most ${maxClusters} clusters in one directory`,
        ]);
        assert.deepEqual(checkUpInput(["a", "b-1"], "d"), []);
    });

    it("gives every cluster of every slot its own pods, load balancers and Services, apart from the veth", () => {
        const ranges = new Set<string>();
        for (let slot = 0; slot < slotCount; slot++) {
            const n = networkPlan(slot);
            assert.ok(
                n.netns.length <= 15 && n.hostVeth.length <= 15 && n.nsVeth.length <= 15,
                "interface names fit",
            );
            for (let i = 0; i < maxClusters; i++) {
                const a = addressPlan(slot, i);
                for (const r of [a.podCidr, `${a.lbPrefix}.0/24`, a.serviceCidr]) {
                    assert.ok(!ranges.has(r), `${r} given twice`);
                    assert.ok(r.startsWith(`10.${100 + slot}.`), `${r} is inside the slot's range`);
                    ranges.add(r);
                }
                assert.ok(a.nodeIp.startsWith(a.podCidr.replace(/0\/24$/, "")));
            }
            assert.match(n.nsIp, new RegExp(`^10\\.200\\.${slot}\\.2$`));
        }
    });

    it("names hostname load balancers under the reserved .test domain, per cluster and slot", () => {
        assert.equal(
            lbHostname({ name: "istio-eastwestgateway", namespace: "istio-system" }, "c1", 3),
            "istio-eastwestgateway.istio-system.c1.s3.lb.e2e.test",
        );
    });
});

describe("clusters: address slots", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "slots-test-"));
    const saved = process.env.TMPDIR;
    before(() => (process.env.TMPDIR = tmp));
    after(() => {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("gives concurrent ups different slots, and a released slot to the next", () => {
        // Neither has written its state yet: the claimer's own process keeps the slot.
        const a = claimSlot("/d/a");
        const b = claimSlot("/d/b");
        assert.notEqual(a, b);
        releaseSlot(a, "/d/b");
        assert.notEqual(claimSlot("/d/c"), a, "a slot is released only by its owner");
        releaseSlot(a, "/d/a");
        assert.equal(claimSlot("/d/d"), a);
    });
});

describe("clusters: /etc/hosts lines", () => {
    const file = path.join(os.tmpdir(), `hosts-test-${process.pid}`);
    before(() => (process.env.E2E_HOSTS_FILE = file));
    after(() => {
        delete process.env.E2E_HOSTS_FILE;
        fs.rmSync(file, { force: true });
    });

    it("adds each line once and removes exactly the lines of its directory", () => {
        fs.writeFileSync(file, "127.0.0.1 localhost\n10.0.0.9 other.example # someone else's");
        addHostsEntry("/d1", "a.test", "10.100.1.1");
        addHostsEntry("/d1", "a.test", "10.100.1.1");
        addHostsEntry("/d2", "b.test", "10.101.1.1");
        assert.deepEqual(fs.readFileSync(file, "utf8").trim().split("\n"), [
            "127.0.0.1 localhost",
            "10.0.0.9 other.example # someone else's",
            "10.100.1.1 a.test # istio-multicluster-e2e /d1",
            "10.101.1.1 b.test # istio-multicluster-e2e /d2",
        ]);
        removeHostsEntries("/d1");
        assert.deepEqual(fs.readFileSync(file, "utf8").trim().split("\n"), [
            "127.0.0.1 localhost",
            "10.0.0.9 other.example # someone else's",
            "10.101.1.1 b.test # istio-multicluster-e2e /d2",
        ]);
    });
});

/** The first bytes a real TLS client sends (Node's own ClientHello), asking for `servername` if given. */
async function clientHello(servername?: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const server = net.createServer((socket) => {
            socket.once("data", (chunk: Buffer) => {
                resolve(chunk);
                socket.destroy();
                server.close();
            });
        });
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            const client = tls.connect({ host: "127.0.0.1", port, ...(servername ? { servername } : {}) });
            client.on("error", () => undefined);
        });
        server.on("error", reject);
    });
}

describe("clusters: the gateway stand-in routes passthrough TLS by server name", () => {
    it("reads the SNI of a real ClientHello, none when there is none, and waits for a partial one", async () => {
        const hello = await clientHello("istiod-1-30-3.istio-system.svc");
        assert.equal(clientHelloSni(hello), "istiod-1-30-3.istio-system.svc");
        assert.equal(clientHelloSni(hello.subarray(0, 40)), null, "more bytes needed");
        // Node sends no SNI for an IP address.
        assert.equal(clientHelloSni(await clientHello()), undefined);
        assert.equal(clientHelloSni(Buffer.from("GET / HTTP/1.1\r\n\r\n")), undefined, "not TLS");
    });
});
