/**
 * The shared value checks of stacks/checks.ts, which every config section's reader uses: exact results for
 * the cases each one exists for.
 */
import { strict as assert } from "node:assert";
import {
    canonicalAddress,
    checkApiServer,
    didYouMean,
    excerpt,
    isDnsLabel,
    isDnsSubdomain,
    isHostName,
    isLabelValue,
    isLoopbackHost,
    isQualifiedName,
    keyPath,
    ownValue,
    parseCidr,
    parseQuantity,
    specialRange,
} from "../../stacks/checks";

describe("stacks/checks", () => {
    it("names: labels, subdomains, host names, label values, qualified names", () => {
        assert.deepEqual(["a", "a-1", "-a", "a-", "A", "a".repeat(63), "a".repeat(64)].map(isDnsLabel), [
            true,
            true,
            false,
            false,
            false,
            true,
            false,
        ]);
        assert.deepEqual(
            ["a.b", "a..b", `${"a".repeat(63)}.b`, Array(4).fill("a".repeat(63)).join(".")].map(
                isDnsSubdomain,
            ),
            [true, false, true, false],
        );
        assert.deepEqual(["gw.example.com", "10.0.0.256", "0x7f.1", "0.0.0x0", "a.0xg"].map(isHostName), [
            true,
            false,
            false,
            false,
            true,
        ]);
        assert.deepEqual(["", "a_b.C", "_a", "a".repeat(64)].map(isLabelValue), [true, true, false, false]);
        assert.deepEqual(
            [
                "a",
                "example.com/x",
                "a/b/c",
                "/x",
                "Example.com/x",
                "x/",
                "service.beta.kubernetes.io/aws-lb",
            ].map(isQualifiedName),
            [true, true, false, false, false, false, true],
        );
    });

    it("addresses: special ranges, loopback hosts, canonical forms", () => {
        assert.deepEqual(
            [
                "0.0.0.0",
                "127.1.2.3",
                "::ffff:127.0.0.1",
                "169.254.0.1",
                "fe80::1",
                "239.1.1.1",
                "10.0.0.1",
                "x",
            ].map(specialRange),
            [
                "unspecified",
                "loopback",
                "loopback",
                "link-local",
                "link-local",
                "multicast",
                undefined,
                undefined,
            ],
        );
        assert.deepEqual(["localhost", "a.localhost", "[::1]", "0.0.0.0", "10.0.0.1"].map(isLoopbackHost), [
            true,
            true,
            true,
            true,
            false,
        ]);
        assert.equal(canonicalAddress("FD00:0::0:1"), "fd00::1");
        assert.equal(canonicalAddress("GW.Example.com."), "gw.example.com");
    });

    it("CIDRs", () => {
        assert.deepEqual(parseCidr("10.0.0.0/8"), { address: "10.0.0.0", prefix: 8, family: 4 });
        assert.deepEqual(parseCidr("fd00::/8"), { address: "fd00::", prefix: 8, family: 6 });
        for (const bad of ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/ 8", "10.0.0.0/8/8", "fe80::1%eth0/64"])
            assert.equal(parseCidr(bad), undefined, bad);
    });

    it("API servers: canonical form, or the reason", () => {
        assert.deepEqual(checkApiServer("https://API.example.com/"), {
            ok: true,
            canonical: "https://api.example.com:443",
        });
        assert.deepEqual(checkApiServer("https://[FD00::1]:6443/k8s/"), {
            ok: true,
            canonical: "https://[fd00::1]:6443/k8s",
        });
        assert.deepEqual(checkApiServer("https://u:p@h:6443"), {
            ok: false,
            problem:
                "carries user information; credentials never go in the address, use https://<host>:<port>",
            showValue: false,
        });
    });

    it("quantities", () => {
        assert.deepEqual(
            [
                "1",
                "0.5",
                "500m",
                "129e6",
                "1Pi",
                "2Gi",
                ".5",
                "+1",
                "1E3",
                "1E",
                "2GB",
                "1.5.1",
                "1e",
                "",
                "m",
            ].map(parseQuantity),
            [
                1,
                0.5,
                0.5,
                129e6,
                1024 ** 5,
                2 * 1024 ** 3,
                0.5,
                1,
                1000,
                1e18,
                undefined,
                undefined,
                undefined,
                undefined,
                undefined,
            ],
        );
    });

    it("excerpt, keyPath, didYouMean, ownValue", () => {
        assert.equal(excerpt("a\u001b[31m\nb"), '"a\\u001b[31m\\u000ab"');
        assert.equal(excerpt("x".repeat(41)), `"${"x".repeat(40)}…" (41 characters)`);
        // A PEM-shaped text, its label built here so that no private-key block stands in the repository.
        const pem = ["BEGIN", "END"].map((w) => `-----${w} ${"PRIVATE"} KEY-----`);
        assert.equal(excerpt(`${pem[0]}\nAAAA\n${pem[1]}`), "a text of 58 characters on 3 lines (not shown)");
        assert.equal(excerpt({ token: "x" }), "a map");
        assert.equal(keyPath("p", "meshId"), "p.meshId");
        assert.equal(keyPath("p", "a.b"), 'p["a.b"]');
        assert.equal(didYouMean("Clusters", ["mesh", "clusters"]), "clusters");
        assert.equal(didYouMean("colour", ["mesh", "clusters"]), undefined);
        const record: Record<string, number> = { a: 1 };
        assert.equal(ownValue(record, "constructor"), undefined);
        assert.equal(ownValue(record, "a"), 1);
    });
});
