/**
 * Input hardening (issue 9): configs a person can mistype or an attacker can craft, one row per way in, each
 * refused with its exact messages (every problem naming its config path and the fix) or accepted. Rows are
 * grouped by the class of mistake they close; plan-level rows run the whole program.
 */
import { strict as assert } from "node:assert";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { validateTopology } from "../../stacks/validate";
import { topLevelConfigKeys } from "../../stacks/topology";
import {
    evaluate,
    loadConfigFile,
    plan,
    Plan,
    planDocument,
    PlanRefused,
    stackConfigFromDocument,
    StackConfig,
} from "../../tools/planner";
import {
    ClusterDoc,
    fakeCertPem,
    mesh,
    primary,
    rawConfig,
    remote,
    stackConfig,
    topologies,
} from "../support/fixtures";
import { testPki } from "../support/testPki";

const M = "istio-multicluster:mesh";
const C = "istio-multicluster:clusters";
const dnsLabel =
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";
const unreachable =
    "which other clusters cannot reach; give the address the other clusters use (for kind, the control-plane " +
    "container's IP)";
const notAnAddress = (v: string) =>
    `${C}[0].eastWest.address: ${v} is neither an IP address nor a DNS name; set the address the other ` +
    `clusters reach this gateway at`;
const notCidr = (i: number, v: string) =>
    `${C}[0].eastWest.sourceRanges[${i}]: ${v} is not a CIDR such as 10.0.0.0/8 or fd00::/8`;
const notQuantity = (p: string, v: string) =>
    `${p}: ${v} is not a Kubernetes quantity; write it like 500m, 1, 2Gi or 129e6`;
const forbidden =
    "Kubernetes forbids loadBalancerSourceRanges on a NodePort Service; remove sourceRanges (and restrict " +
    "access in the nodes' firewall), or use serviceType LoadBalancer";
const kubeconfigText =
    "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: s3cr3t-t0ken-value\n";
const notContext =
    "is not a context name (not shown: it looks like a kubeconfig or a credential); name a context of your " +
    "kubeconfig file, or put a kubeconfig in `kubeconfig` as a secret";

/** The day a certificate expires, as messages write it. */
const expiry = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString().slice(0, 10);
const dayFromNow = (days: number) => new Date(Date.now() + days * 24 * 3600 * 1000);

const twoClusters = (): ClusterDoc[] => topologies.primaryRemoteMultiNetwork().clusters;
const at = (i: number, extra: ClusterDoc, drop: string[] = []): ClusterDoc[] => {
    const cs = twoClusters();
    const c = { ...cs[i], ...extra };
    for (const k of drop) delete c[k];
    cs[i] = c;
    return cs;
};
const eastWest = (i: number, ew: Record<string, unknown>) => at(i, { eastWest: ew });
const withCa = (ca: Record<string, unknown>) => mesh({ ca });
const externalIntermediates = (cluster1: Record<string, unknown>, rootCert = testPki().rootCert) =>
    withCa({ rootCert, intermediates: { cluster1: { key: testPki().intKey, ...cluster1 } } });

interface Row {
    readonly name: string;
    readonly mesh?: unknown;
    readonly clusters?: unknown;
    readonly secret?: { mesh?: boolean; clusters?: boolean };
    readonly configKeys?: string[];
    /** The validator's clock; default now. */
    readonly now?: Date;
    readonly errors: readonly string[];
    /** Text that no message may contain (key material, raw control characters). */
    readonly never?: readonly string[];
}

const refused: Record<string, Row[]> = {
    "1. secrets never reach output": [
        {
            name: "a kubeconfig pasted into context",
            clusters: at(0, { context: kubeconfigText }),
            errors: [`${C}[0].context: ${notContext}`],
            never: ["s3cr3t", "admin"],
        },
        {
            name: "a bearer token (a JWT) pasted into context, on one line",
            clusters: at(0, { context: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl" }),
            errors: [`${C}[0].context: ${notContext}`],
            never: ["eyJhbGci"],
        },
        {
            name: "a context with whitespace at its end",
            clusters: at(0, { context: "kind-cluster1 " }),
            errors: [
                `${C}[0].context: "kind-cluster1 " is not a context name: a context is one line of at most 1024 ` +
                    "characters, without control characters or whitespace at its ends; copy it from " +
                    "`kubectl config get-contexts`",
            ],
        },
        {
            name: "a private key pasted into rootCert",
            mesh: withCa({ rootCert: testPki().rootKey, rootKey: testPki().rootKey }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.rootCert: holds a private key (not shown); paste only the root's certificate ` +
                    "(-----BEGIN CERTIFICATE-----) here, and keep keys in secret config",
            ],
            never: [testPki().rootKey.split("\n")[1]!],
        },
        {
            name: "a private key pasted into an intermediate's cert",
            mesh: externalIntermediates({ cert: testPki().intKey }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.cluster1.cert: holds a private key (not shown); paste only the intermediate ` +
                    "certificate (-----BEGIN CERTIFICATE-----) here, and keep keys in secret config",
            ],
            never: [testPki().intKey.split("\n")[1]!],
        },
        {
            name: "a certificate followed by its key in chain",
            mesh: externalIntermediates({
                cert: testPki().intCert,
                chain: testPki().rootCert + testPki().rootKey,
            }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.cluster1.chain: holds a private key (not shown); paste only the ` +
                    "certificates between it and the root (-----BEGIN CERTIFICATE-----) here, and keep keys in " +
                    "secret config",
            ],
            never: [testPki().rootKey.split("\n")[1]!],
        },
        {
            name: "a private key pasted into a Service annotation",
            clusters: eastWest(0, { serviceAnnotations: { "example.com/cert": testPki().intKey } }),
            errors: [
                `${C}[0].eastWest.serviceAnnotations["example.com/cert"]: holds a private key (not shown); key ` +
                    "material never goes in an annotation",
            ],
            never: [testPki().intKey.split("\n")[1]!],
        },
        {
            name: "a certificate with a token after it",
            mesh: withCa({ rootCert: testPki().rootCert + "\ntoken: s3cr3t\n", rootKey: "KEY" }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.rootCert: is not a PEM certificate; paste the root's certificate (-----BEGIN ` +
                    "CERTIFICATE-----), never its key",
            ],
            never: ["s3cr3t"],
        },
    ],
    "2. addresses and ranges": [
        ...(
            [
                ["10.0.0.256", '"10.0.0.256"'],
                [":::", '":::"'],
                ["1:2:3:4:5:6:7:8:9", '"1:2:3:4:5:6:7:8:9"'],
                ["fe80::1%eth0", '"fe80::1%eth0"'],
                ["010.0.0.1", '"010.0.0.1"'],
                ["gw_1.example.com", '"gw_1.example.com"'],
            ] as const
        ).map(([address, shown]): Row => ({
            name: `east-west address ${address}`,
            clusters: eastWest(0, { address }),
            errors: [notAnAddress(shown)],
        })),
        ...(
            [
                ["0.0.0.0", "an unspecified"],
                ["::", "an unspecified"],
                ["::ffff:127.0.0.1", "a loopback"],
                ["::1", "a loopback"],
            ] as const
        ).map(([address, what]): Row => ({
            name: `east-west address ${address}`,
            clusters: eastWest(0, { address }),
            errors: [
                `${C}[0].eastWest.address: "${address}" is ${what} address, which other clusters cannot ` +
                    "reach; set the address they reach this gateway at (for kind, the node container's IP)",
            ],
        })),
        ...(
            [
                ["169.254.10.1", "link-local"],
                ["fe80::1", "link-local"],
                ["224.0.0.1", "multicast"],
                ["ff02::1", "multicast"],
            ] as const
        ).map(([address, what]): Row => ({
            name: `east-west address ${address}`,
            clusters: eastWest(0, { address }),
            errors: [
                `${C}[0].eastWest.address: "${address}" is a ${what} address, which Kubernetes refuses as a ` +
                    "Service's external IP and other clusters cannot reach; set a unicast address they reach " +
                    "this gateway at",
            ],
        })),
        {
            name: "east-west address localhost",
            clusters: eastWest(0, { address: "localhost" }),
            errors: [
                `${C}[0].eastWest.address: "localhost" is a loopback address, which other clusters cannot reach; ` +
                    "set the address they reach this gateway at (for kind, the node container's IP)",
            ],
        },
        {
            name: "apiServer on [::]",
            clusters: at(1, { apiServer: "https://[::]:6443" }),
            errors: [`${C}[1].apiServer: "https://[::]:6443" is an unspecified address, ${unreachable}`],
        },
        {
            name: "apiServer on IPv4-mapped loopback",
            clusters: at(1, { apiServer: "https://[::ffff:127.0.0.1]:6443" }),
            errors: [
                `${C}[1].apiServer: "https://[::ffff:127.0.0.1]:6443" is a loopback address, ${unreachable}`,
            ],
        },
        {
            name: "apiServer on 0x7f.1 (127.0.0.1 to a browser's URL parser)",
            clusters: at(1, { apiServer: "https://0x7f.1:6443" }),
            errors: [
                `${C}[1].apiServer: "https://0x7f.1:6443" has no valid host; use https://<host name or IP ` +
                    "address>:<port>",
            ],
        },
        {
            name: "apiServer on a bare integer host",
            clusters: at(1, { apiServer: "https://2130706433:6443" }),
            errors: [
                `${C}[1].apiServer: "https://2130706433:6443" has no valid host; use https://<host name or IP ` +
                    "address>:<port>",
            ],
        },
        {
            name: "apiServer with user information: never shown",
            clusters: at(1, { apiServer: "https://admin:hunter2@cluster2.example.com:6443" }),
            errors: [
                `${C}[1].apiServer: the address carries user information; credentials never go in the address, ` +
                    "use https://<host>:<port>",
            ],
            never: ["hunter2"],
        },
        {
            name: "apiServer with a query",
            clusters: at(1, { apiServer: "https://cluster2.example.com:6443/?token=abc" }),
            errors: [
                `${C}[1].apiServer: the address has a query or fragment; give only https://<host>:<port>[/<path>]`,
            ],
            never: ["token=abc"],
        },
        {
            name: "apiServer with a fragment",
            clusters: at(1, { apiServer: "https://cluster2.example.com:6443#x" }),
            errors: [
                `${C}[1].apiServer: the address has a query or fragment; give only https://<host>:<port>[/<path>]`,
            ],
        },
        {
            name: "apiServer with surrounding whitespace",
            clusters: at(1, { apiServer: " https://cluster2.example.com:6443\n" }),
            errors: [
                `${C}[1].apiServer: " https://cluster2.example.com:6443\\u000a" contains whitespace; give only ` +
                    "https://<host>:<port>",
            ],
        },
        {
            name: "apiServer with a port above 65535",
            clusters: at(1, { apiServer: "https://cluster2.example.com:70000" }),
            errors: [`${C}[1].apiServer: "https://cluster2.example.com:70000" has a port outside 1-65535`],
        },
        {
            name: "sourceRanges that are not CIDRs",
            clusters: eastWest(0, {
                sourceRanges: ["10.0.0.0/33", "10.0.0.256/8", "::/129", "10.0.0.0/08", "10.0.0.0", 8],
            }),
            errors: [
                notCidr(0, '"10.0.0.0/33"'),
                notCidr(1, '"10.0.0.256/8"'),
                notCidr(2, '"::/129"'),
                notCidr(3, '"10.0.0.0/08"'),
                notCidr(4, '"10.0.0.0"'),
                notCidr(5, "8"),
            ],
        },
        {
            name: "NodePort with sourceRanges, both set on the mesh",
            mesh: mesh({ eastWest: { serviceType: "NodePort", sourceRanges: ["10.0.0.0/8"] } }),
            clusters: [
                primary("cluster1", "network1", { eastWest: { address: "10.0.0.1" } }),
                remote("cluster2", "cluster1", "network2", { eastWest: { address: "10.0.0.2" } }),
            ],
            errors: [
                `${M}.eastWest.sourceRanges: cannot be combined with serviceType NodePort: ${forbidden}`,
            ],
        },
        {
            name: "NodePort set on the mesh, sourceRanges on a cluster",
            mesh: mesh({ eastWest: { serviceType: "NodePort" } }),
            clusters: [
                primary("cluster1", "network1", {
                    eastWest: { address: "10.0.0.1", sourceRanges: ["10.0.0.0/8"] },
                }),
                remote("cluster2", "cluster1", "network2", { eastWest: { address: "10.0.0.2" } }),
            ],
            errors: [
                `${C}[0].eastWest.sourceRanges: cannot be combined with serviceType NodePort (set in ` +
                    `\`${M}.eastWest.serviceType\`): ${forbidden}`,
            ],
        },
        {
            name: "sourceRanges set on the mesh, NodePort on a cluster",
            mesh: mesh({ eastWest: { sourceRanges: ["10.0.0.0/8"] } }),
            clusters: eastWest(0, { serviceType: "NodePort", address: "10.0.0.1" }),
            errors: [
                `${C}[0].eastWest.serviceType: NodePort cannot be combined with the sourceRanges set in ` +
                    `\`${M}.eastWest.sourceRanges\`: Kubernetes forbids loadBalancerSourceRanges on a NodePort ` +
                    "Service; set `sourceRanges: []` on this cluster, or use serviceType LoadBalancer",
            ],
        },
        {
            // Issue 7, item 2.
            name: "NodePort with a host name address",
            clusters: eastWest(0, { serviceType: "NodePort", address: "gw.example.com" }),
            errors: [
                `${C}[0].eastWest.address: "gw.example.com" is a host name, which a NodePort east-west gateway ` +
                    "cannot use: nothing listens at its ports, and istiod derives no gateway address from it; set " +
                    "the IP address of a node the other clusters reach, or use serviceType LoadBalancer",
            ],
        },
        {
            name: "NodePort inherited from the mesh with a host name address",
            mesh: mesh({ eastWest: { serviceType: "NodePort" } }),
            clusters: [
                primary("cluster1", "network1", { eastWest: { address: "gw.example.com" } }),
                remote("cluster2", "cluster1", "network2", { eastWest: { address: "10.0.0.2" } }),
            ],
            errors: [
                `${C}[0].eastWest.address: "gw.example.com" is a host name, which a NodePort east-west gateway ` +
                    `(set in \`${M}.eastWest.serviceType\`) cannot use: nothing listens at its ports, and istiod ` +
                    "derives no gateway address from it; set the IP address of a node the other clusters reach, " +
                    "or use serviceType LoadBalancer",
            ],
        },
    ],
    "3. names and lengths": [
        {
            name: "a revision that makes the istiod release longer than Helm allows",
            mesh: mesh({ istio: { version: "1.30.3", revision: "r".repeat(47) } }),
            errors: [
                `${M}.istio.revision: "${"r".repeat(40)}…" (47 characters) makes the istiod Helm ` +
                    "release 54 characters long, over Helm's limit of 53; use at most 46 characters",
            ],
        },
        {
            name: "a trust domain with a label longer than 63",
            mesh: mesh({ trustDomain: `${"t".repeat(64)}.example.com` }),
            errors: [
                `${M}.trustDomain: "${"t".repeat(40)}…" (76 characters) is not a DNS name such as cluster.local ` +
                    "(labels of at most 63 characters, 253 in all)",
            ],
        },
        {
            name: "a trust domain longer than 253",
            mesh: mesh({ trustDomain: Array.from({ length: 4 }, () => "d".repeat(63)).join(".") }),
            errors: [
                `${M}.trustDomain: "${"d".repeat(40)}…" (255 characters) is not a DNS name such as cluster.local ` +
                    "(labels of at most 63 characters, 253 in all)",
            ],
        },
        {
            name: "an annotation key Kubernetes refuses",
            clusters: eastWest(0, { serviceAnnotations: { "-bad": "x", "a/b/c": "y", ok: 1 } }),
            errors: [
                `${C}[0].eastWest.serviceAnnotations.-bad: is not a valid annotation key; use [<DNS prefix>/]<name>, ` +
                    "the name at most 63 letters, digits, '-', '_' or '.'",
                `${C}[0].eastWest.serviceAnnotations["a/b/c"]: is not a valid annotation key; use [<DNS ` +
                    "prefix>/]<name>, the name at most 63 letters, digits, '-', '_' or '.'",
                `${C}[0].eastWest.serviceAnnotations.ok: must be a string, got 1; quote it in YAML`,
            ],
        },
    ],
    "5. prototype keys": [
        {
            name: "a primary named constructor without its intermediate",
            mesh: withCa({
                rootCert: fakeCertPem("ROOT"),
                intermediates: { cluster1: { cert: fakeCertPem("INT1"), key: "IKEY1" } },
            }),
            clusters: [primary("cluster1", "network1"), primary("constructor", "network2")],
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.constructor: missing; every primary needs its intermediate CA (\`cert\` and ` +
                    "a secret `key`)",
            ],
        },
        {
            name: "an intermediate keyed __proto__",
            mesh: withCa({
                rootCert: fakeCertPem("ROOT"),
                intermediates: JSON.parse(
                    `{"cluster1": {"cert": ${JSON.stringify(fakeCertPem("INT1"))}, "key": "K"}, "__proto__": {}}`,
                ) as unknown,
            }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.__proto__: "__proto__" is not a primary; intermediates are for primaries: ` +
                    "cluster1",
            ],
        },
        {
            name: "a cluster named toString (not a DNS label)",
            clusters: at(1, { name: "toString", apiServer: "https://c2.example.com:6443" }),
            errors: [`${C}[1].name: "toString" is not ${dnsLabel}`],
        },
    ],
    "6. null and empty": [
        {
            name: "network null on one cluster of a multi-network mesh",
            clusters: at(1, { network: null }),
            errors: [
                `${C}: networks are named on some clusters but not on clusters[1]; name a network on every ` +
                    "cluster (multi-network) or on none (single network)",
            ],
        },
        {
            name: "network empty on one cluster of a multi-network mesh",
            clusters: at(1, { network: "" }),
            errors: [
                `${C}: networks are named on some clusters but not on clusters[1]; name a network on every ` +
                    "cluster (multi-network) or on none (single network)",
            ],
        },
        {
            name: "an intermediate's key null",
            mesh: externalIntermediates({ cert: testPki().intCert, key: null }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.cluster1.key: required; set it with \`pulumi config set --secret --path ` +
                    `'${M}.ca.intermediates.cluster1.key' < key.pem\``,
            ],
        },
        {
            name: "rootKey null beside a rootCert",
            mesh: withCa({ rootCert: fakeCertPem("ROOT"), rootKey: null }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.rootCert: needs either a secret \`rootKey\` or \`intermediates\` for every primary`,
            ],
        },
        {
            name: "context null and no kubeconfig",
            clusters: at(0, { context: null }),
            errors: [
                `${C}[0]: set exactly one of \`context\` (a context of your kubeconfig file) or \`kubeconfig\` ` +
                    "(a secret)",
            ],
        },
    ],
    "7. certificates": [
        {
            name: "a root that is not a CA",
            mesh: withCa({ rootCert: testPki().notCaCert, rootKey: "KEY" }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.rootCert: is not a CA certificate (basicConstraints CA:true); istiod cannot sign with it`,
            ],
        },
        {
            name: "an expired root",
            mesh: withCa({ rootCert: testPki().rootCert, rootKey: "KEY" }),
            secret: { mesh: true },
            now: dayFromNow(4000),
            errors: [
                `${M}.ca.rootCert: expired on ${expiry(testPki().rootCert)}; ` +
                    "renew the root before installing the mesh",
            ],
        },
        {
            name: "a root that expires before intermediates made today would",
            mesh: withCa({ rootCert: testPki().shortRootCert, rootKey: "KEY" }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.rootCert: expires on ${expiry(testPki().shortRootCert)}, before intermediates issued today ` +
                    `for intermediateValidityDays (730) would (${dayFromNow(730).toISOString().slice(0, 10)}); ` +
                    "renew the root or shorten intermediateValidityDays",
            ],
        },
        {
            name: "an intermediate that is the root itself",
            mesh: externalIntermediates({ cert: testPki().rootCert, key: testPki().rootKey }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.cluster1.cert: is the root certificate itself; bring an intermediate issued ` +
                    "by the root (each primary signs with its own)",
            ],
        },
        {
            name: "an intermediate whose key usage does not allow signing",
            mesh: externalIntermediates({ cert: testPki().noSignCert }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.cluster1.cert: its key usage does not allow signing certificates ` +
                    "(keyCertSign); issue the intermediate with keyUsage keyCertSign, cRLSign",
            ],
        },
        {
            name: "an intermediate that outlives the root",
            mesh: withCa({
                rootCert: testPki().shortRootCert,
                intermediates: { cluster1: { cert: testPki().outlivesRootCert, key: "KEY" } },
            }),
            secret: { mesh: true },
            errors: [
                `${M}.ca.intermediates.cluster1.cert: is valid until ${expiry(testPki().outlivesRootCert)}, after ` +
                    `\`mesh.ca.rootCert\` expires (${expiry(testPki().shortRootCert)}); issue the intermediate for ` +
                    "at most the root's remaining lifetime",
            ],
        },
        {
            name: "validity days past the year 9999",
            mesh: withCa({ rootValidityDays: 3_000_000, intermediateValidityDays: 2_999_999 }),
            now: new Date("2026-01-01T00:00:00Z"),
            errors: [
                `${M}.ca.rootValidityDays: 3000000 is more than 2912442 (the days from today to the end of 9999, ` +
                    "the last year a certificate can name); use at most 2912442",
                `${M}.ca.intermediateValidityDays: 2999999 is more than 2912442 (the days from today to the end of ` +
                    "9999, the last year a certificate can name); use at most 2912442",
            ],
        },
    ],
    "8. numbers and quantities": [
        {
            name: "replicas beyond int32",
            mesh: mesh({ controlPlane: { replicas: 2147483648 } }),
            errors: [
                `${M}.controlPlane.replicas: 2147483648 is more than 2147483647; use at most 2147483647`,
            ],
        },
        {
            name: "autoscale bounds beyond int32",
            clusters: eastWest(0, { autoscale: { min: 1, max: 1e12 } }),
            errors: [
                `${C}[0].eastWest.autoscale.max: 1000000000000 is more than 2147483647; use at most 2147483647`,
            ],
        },
        {
            name: "requests above limits",
            mesh: mesh({
                controlPlane: {
                    resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { cpu: 1, memory: "1Gi" } },
                },
            }),
            errors: [
                `${M}.controlPlane.resources.requests.cpu: 2 is more than the limit 1; Kubernetes refuses a request ` +
                    "above its limit, raise the limit or lower the request",
                `${M}.controlPlane.resources.requests.memory: 2Gi is more than the limit 1Gi; Kubernetes refuses a ` +
                    "request above its limit, raise the limit or lower the request",
            ],
        },
        {
            name: "quantities outside the grammar",
            mesh: mesh({
                controlPlane: {
                    resources: { requests: { cpu: "1.5.1", memory: "2GB" }, limits: { cpu: "1e" } },
                },
            }),
            errors: [
                notQuantity(`${M}.controlPlane.resources.requests.cpu`, '"1.5.1"'),
                notQuantity(`${M}.controlPlane.resources.requests.memory`, '"2GB"'),
                notQuantity(`${M}.controlPlane.resources.limits.cpu`, '"1e"'),
            ],
        },
        {
            name: "a negative quantity",
            clusters: eastWest(0, { resources: { requests: { memory: "-1Gi" } } }),
            errors: [
                `${C}[0].eastWest.resources.requests.memory: "-1Gi" is negative; resources are never below 0`,
            ],
        },
    ],
    "9. duplicates across clusters": [
        {
            name: "two clusters with one context",
            clusters: at(1, { context: "ctx-cluster1" }),
            errors: [
                `${C}[1].context: "ctx-cluster1" is also ${C}[0].context: both entries name one cluster; give ` +
                    "each cluster of the mesh its own context",
            ],
        },
        {
            name: "two clusters with one API server, written two ways",
            clusters: [
                primary("cluster1", "network1", { apiServer: "https://API.example.com:443/" }),
                remote("cluster2", "cluster1", "network2", { apiServer: "https://api.example.com" }),
            ],
            errors: [
                `${C}[1].apiServer: "https://api.example.com" is also ${C}[0].apiServer: two clusters cannot share ` +
                    "one API server; give each cluster its own address",
            ],
        },
        {
            name: "two east-west gateways at one address, written two ways",
            clusters: [
                primary("cluster1", "network1", { eastWest: { address: "fd00::1" } }),
                remote("cluster2", "cluster1", "network2", { eastWest: { address: "fd00:0::0:1" } }),
            ],
            errors: [
                `${C}[1].eastWest.address: "fd00:0::0:1" is also ${C}[0].eastWest.address: two east-west ` +
                    "gateways cannot share one address; give each cluster its own",
            ],
        },
    ],
    "10. unknown and misspelt keys": [
        {
            name: "a misspelt top-level key beside the valid ones",
            configKeys: [`${M}`, `${C}`, "istio-multicluster:cluster", "pulumi:disable-default-providers"],
            errors: ["istio-multicluster:cluster: unknown key; did you mean `istio-multicluster:clusters`?"],
        },
        {
            name: "a top-level key far from any",
            configKeys: [`${M}`, `${C}`, "istio-multicluster:colour"],
            errors: [
                `istio-multicluster:colour: unknown key; this project reads: ${topLevelConfigKeys.join(", ")}`,
            ],
        },
        {
            name: "a path written as one key name",
            configKeys: [`${M}`, `${C}`, "istio-multicluster:mesh.meshId"],
            errors: [
                "istio-multicluster:mesh.meshId: unknown key; to set part of `mesh`, run `pulumi config set --path " +
                    "'istio-multicluster:mesh...'` (with --path, not as one key name)",
            ],
        },
        {
            name: "the project name misspelt",
            configKeys: [`${M}`, `${C}`, "istio-multicluser:eastWest", "kubernetes:context"],
            errors: [
                '"istio-multicluser:eastWest": is in namespace "istio-multicluser", not this project\'s; did you ' +
                    "mean `istio-multicluster:eastWest`?",
            ],
        },
        {
            name: "a YAML merge key that was not resolved",
            mesh: mesh({ "<<": { meshId: "x" } }),
            errors: [
                `${M}["<<"]: unknown key; a YAML merge key must be resolved by the YAML reader; write the merged ` +
                    "keys out",
            ],
        },
    ],
    "11. messages": [
        {
            name: "a 200 KB value: a short excerpt",
            mesh: mesh({ meshId: "x".repeat(200_000) }),
            errors: [
                `${M}.meshId: "${"x".repeat(40)}…" (200000 characters) is longer than 63 characters; shorten it`,
            ],
        },
        {
            name: "control characters and a forged line in a value",
            clusters: at(0, { network: "net\u001b[31m\u2028" }),
            errors: [
                `${C}[0].network: "net\\u001b[31m\\u2028" is not a Kubernetes label value (letters, digits, '-', ` +
                    "'_', '.')",
            ],
        },
        {
            name: "a forged line in a key",
            mesh: mesh({ "x\n  - istio-multicluster:mesh: fine": 1 }),
            errors: [
                `${M}["x\\u000a  - istio-multicluster:mesh: fine"]: unknown key; allowed keys are: meshId, ` +
                    "trustDomain, istio, ca, controlPlane, eastWest, remoteSecrets, readerTokens",
            ],
        },
    ],
};

describe("input hardening (issue 9)", () => {
    for (const [group, rows] of Object.entries(refused)) {
        describe(group, () => {
            for (const row of rows) {
                it(row.name, () => {
                    const result = validateTopology(
                        {
                            ...rawConfig(
                                "mesh" in row ? row.mesh : mesh(),
                                "clusters" in row ? row.clusters : twoClusters(),
                                row.secret,
                            ),
                            ...(row.configKeys ? { configKeys: row.configKeys } : {}),
                        },
                        row.now,
                    );
                    const errors = result.ok ? [] : result.errors;
                    assert.deepEqual(errors, row.errors);
                    for (const e of errors) {
                        for (const secret of row.never ?? []) assert.ok(!e.includes(secret), `echoed: ${e}`);
                        assert.ok(
                            !/[\u0000-\u001f\u007f\u2028\u2029]/.test(e),
                            `raw control character: ${e}`,
                        );
                        assert.ok(e.length < 600, `message of ${e.length} characters`);
                    }
                });
            }
        });
    }
});

async function refusal(p: Promise<unknown>): Promise<PlanRefused> {
    try {
        await p;
    } catch (e) {
        assert.ok(e instanceof PlanRefused, `not a PlanRefused: ${String(e)}`);
        return e;
    }
    assert.fail("the config was accepted");
}

/** Plans `config` and checks that no two resources share a URN (the planner refuses that too). */
async function planned(config: StackConfig): Promise<Plan> {
    const p = await plan(config);
    const urns = p.resources.map((r) => r.urn);
    assert.equal(new Set(urns).size, urns.length);
    return p;
}

const names = (p: Plan, type: string) =>
    p.resources
        .filter((r) => r.type === type)
        .map((r) => r.name)
        .sort();

describe("input hardening (issue 9): the whole program", () => {
    describe("4. URN collisions", () => {
        it("a primary named root keeps its key apart from the mesh's root key", async () => {
            const p = await planned(
                stackConfig(mesh(), [primary("root", "network1"), remote("cluster2", "root", "network2")]),
            );
            assert.deepEqual(names(p, "tls:index/privateKey:PrivateKey"), [
                "mesh1-root-key",
                "mesh1/root-key",
            ]);
        });

        it("a + b-in-c and a-in-b + c: four primaries, twelve remote secrets", async () => {
            const p = await planned(
                stackConfig(mesh(), [
                    primary("a", "n1"),
                    primary("b-in-c", "n2"),
                    primary("a-in-b", "n3"),
                    primary("c", "n4"),
                ]),
            );
            const secrets = names(p, "kubernetes:core/v1:Secret").filter((n) => n.includes("/in/"));
            assert.equal(secrets.length, 12);
            assert.ok(secrets.includes("a/in/b-in-c") && secrets.includes("a-in-b/in/c"), secrets.join(" "));
        });

        it("a reader named reader-token next to a source named a-in", async () => {
            const p = await planned(
                stackConfig(mesh(), [
                    primary("a", "n1"),
                    primary("a-in", "n2"),
                    primary("reader-token", "n3"),
                ]),
            );
            const secrets = names(p, "kubernetes:core/v1:Secret");
            assert.ok(secrets.includes("a-in-reader-token") && secrets.includes("a/in/reader-token"));
        });

        it("the planner refuses a program that registers one URN twice", async () => {
            const program = () => {
                new pulumi.ComponentResource("test:index:Thing", "twice");
                new pulumi.ComponentResource("test:index:Thing", "twice");
                return {};
            };
            await assert.rejects(evaluate(stackConfig(mesh(), twoClusters()), program), {
                message:
                    "the program registered 1 URN(s) more than once, which the engine refuses: " +
                    "urn:pulumi:test::istio-multicluster::pulumi:pulumi:Stack$test:index:Thing::twice",
            });
        });
    });

    describe("5. prototype keys", () => {
        it("a primary named constructor plans, its links and outputs keyed by its name", async () => {
            const p = await planned(
                stackConfig(mesh(), [primary("constructor", "n1"), remote("valueof", "constructor", "n2")]),
            );
            assert.deepEqual(p.outputs.links, { constructor: ["valueof"] });
            assert.deepEqual(Object.keys(p.outputs.clusters as object), ["constructor", "valueof"]);
        });

        it("a primary named constructor plans with intermediates brought for it", async () => {
            const p = await planned(
                stackConfig(
                    mesh({
                        ca: {
                            rootCert: fakeCertPem("ROOT"),
                            intermediates: {
                                constructor: { cert: fakeCertPem("INT1"), key: { secure: "v1:x" } },
                            },
                        },
                    }),
                    [primary("constructor", "n1"), remote("hasownproperty", "constructor", "n2")],
                ),
            );
            assert.deepEqual(
                names(p, "kubernetes:core/v1:Secret").filter((n) => n.endsWith("cacerts")),
                ["mesh1-constructor-cacerts"],
            );
        });
    });

    describe("10. unknown keys under the program, and in stack files", () => {
        it("a misspelt top-level key is refused by the program itself", async () => {
            const e = await refusal(
                plan(stackConfig(mesh(), twoClusters(), { extra: { "istio-multicluster:cluster": [] } })),
            );
            assert.deepEqual(e.problems, [
                "istio-multicluster:cluster: unknown key; did you mean `istio-multicluster:clusters`?",
            ]);
        });

        it("a bare key without the project prefix beside the same key with it", () => {
            assert.throws(
                () =>
                    stackConfigFromDocument(
                        "t",
                        {
                            config: {
                                "istio-multicluster:mesh": mesh(),
                                mesh: mesh(),
                                clusters: twoClusters(),
                            },
                        },
                        "Pulumi.t.yaml",
                    ),
                (e: unknown) => {
                    assert.ok(e instanceof PlanRefused);
                    assert.deepEqual(e.problems, [
                        'Pulumi.t.yaml: config keys "istio-multicluster:mesh" and "mesh" are both ' +
                            '"istio-multicluster:mesh"; keep one of them',
                    ]);
                    return true;
                },
            );
        });

        it("a whole value encrypted (`pulumi config set --secret clusters`): unread offline, not malformed", () => {
            const secure = { secure: "v1:AAAAAAAAAAAAAAAA:c2VjcmV0LWNpcGhlcnRleHQtbm90LWVjaG9lZA==" };
            assert.throws(
                () =>
                    stackConfigFromDocument(
                        "t",
                        {
                            config: {
                                "istio-multicluster:mesh": mesh(),
                                "istio-multicluster:clusters": secure,
                            },
                        },
                        "Pulumi.t.yaml",
                    ),
                (e: unknown) => {
                    assert.ok(e instanceof PlanRefused);
                    assert.deepEqual(e.problems, [
                        'Pulumi.t.yaml: "istio-multicluster:clusters" is encrypted as a whole (`secure:`), which ' +
                            "the offline plan cannot read: it has no passphrase or secrets provider. `pulumi " +
                            "preview` decrypts it; to plan offline, set the value in plain text and keep only its " +
                            "key material secret (`pulumi config set --secret --path " +
                            "'istio-multicluster:clusters...' < file`)",
                    ]);
                    assert.ok(!e.message.includes(secure.secure.slice(3, 12)), e.message);
                    return true;
                },
            );
        });

        it("a misspelt `config:`", () => {
            assert.throws(
                () => stackConfigFromDocument("t", { confg: { mesh: mesh() } }, "Pulumi.t.yaml"),
                (e: unknown) => {
                    assert.ok(e instanceof PlanRefused);
                    assert.deepEqual(e.problems, [
                        'Pulumi.t.yaml: "confg" is not a key of a stack file; did you mean `config`?',
                    ]);
                    return true;
                },
            );
        });

        it("a YAML alias inside its own anchor: refused naming the key, no stack overflow", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alias-loop-"));
            try {
                const file = path.join(dir, "Pulumi.loop.yaml");
                const head = [
                    "config:",
                    "  istio-multicluster:mesh: { meshId: mesh1, istio: { version: 1.30.3 } }",
                ];
                const cases: [string[], string][] = [
                    [
                        [
                            "  istio-multicluster:externalServices: &loop",
                            "    - name: x",
                            "      ports: *loop",
                        ],
                        "`istio-multicluster:externalServices` contains itself (at " +
                            "`istio-multicluster:externalServices[0].ports`)",
                    ],
                    [
                        ["  istio-multicluster:observability: &o { hub: cluster1, metrics: *o }"],
                        "`istio-multicluster:observability` contains itself (at " +
                            "`istio-multicluster:observability.metrics`)",
                    ],
                ];
                for (const [lines, where] of cases) {
                    fs.writeFileSync(file, [...head, ...lines, ""].join("\n"));
                    assert.throws(
                        () => loadConfigFile(file, "loop"),
                        (e: unknown) => {
                            assert.ok(e instanceof PlanRefused);
                            assert.equal(
                                e.message,
                                `${file}: ${where} through a YAML alias (an *alias inside its own &anchor), which ` +
                                    "has no end; write the value out, or anchor a part that does not contain the alias",
                            );
                            return true;
                        },
                    );
                }
                // An alias used twice without a loop is fine.
                fs.writeFileSync(
                    file,
                    [
                        ...head,
                        "  istio-multicluster:clusters:",
                        "    - &c { name: a, role: primary, context: a }",
                        "    - { <<: *c, name: b, context: b }",
                        "",
                    ].join("\n"),
                );
                assert.equal(loadConfigFile(file, "loop").stack, "loop");
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("YAML merge keys are resolved as Pulumi's reader resolves them", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "merge-"));
            try {
                const file = path.join(dir, "Pulumi.merge.yaml");
                fs.writeFileSync(
                    file,
                    [
                        "config:",
                        "  istio-multicluster:mesh:",
                        "    meshId: mesh1",
                        "    istio: { version: 1.30.3 }",
                        "  istio-multicluster:clusters:",
                        "    - &c1",
                        "      name: cluster1",
                        "      role: primary",
                        "      network: network1",
                        "      context: ctx-cluster1",
                        "      apiServer: https://cluster1.example.com:6443",
                        "    - <<: *c1",
                        "      name: cluster2",
                        "      role: remote",
                        "      primary: cluster1",
                        "      network: network2",
                        "      context: ctx-cluster2",
                        "      apiServer: https://cluster2.example.com:6443",
                        "",
                    ].join("\n"),
                );
                const merged = await planned(loadConfigFile(file, "test"));
                const written = await planned(stackConfig(mesh(), twoClusters()));
                assert.deepEqual(planDocument(merged), planDocument(written));
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});
