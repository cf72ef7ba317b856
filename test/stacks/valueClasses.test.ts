/**
 * Every malformed value refused and every valid one accepted, class by class (issue 21, part 3): each case is
 * the dev stack file with one change, read as the Pulumi CLI's stack file would be and planned by the real
 * program. A refusal names the full config key, says the fix, and never shows what looks like a credential.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { loadConfigFile, plan, PlanRefused, repoRoot } from "../../tools/planner";

type Doc = { config: Record<string, unknown> };
const K = "istio-multicluster";
const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZXNoLWFkbWluIn0.c2lnbmF0dXJlLW5vdC1zaG93bg";

/** The dev stack's document, changed by `edit` (in place), as YAML text; `raw` rewrites the text after. */
function devWith(edit: (d: Doc) => void, raw: (text: string) => string = (t) => t): string {
    const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8")) as Doc;
    edit(doc);
    return raw(YAML.stringify(doc));
}

const c = (d: Doc, key: string) => d.config[`${K}:${key}`] as Record<string, unknown> & unknown[];
const svc = (d: Doc) => (c(d, "services") as unknown as Record<string, unknown>[])[0]!;
const ingress = (d: Doc) =>
    (d.config[`${K}:ingress`] = {
        clusters: ["cluster1"],
        hosts: [{ host: "hello.example.com", service: "helloworld", namespace: "sample", port: 5000 }],
    }) as Record<string, unknown>;
const external = (d: Doc, e: Record<string, unknown>) =>
    (d.config[`${K}:externalServices`] = [{ name: "api", namespace: "sample", ...e }]);

let dir: string;
before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "value-classes-"))));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function outcome(
    text: string,
): Promise<{ accepted: true } | { accepted: false; message: string; problems: readonly string[] }> {
    const file = path.join(dir, "Pulumi.classes.yaml");
    fs.writeFileSync(file, text);
    try {
        await plan(loadConfigFile(file, "classes"));
        return { accepted: true };
    } catch (e) {
        assert.ok(e instanceof PlanRefused, `not a refusal: ${String(e)}`);
        return { accepted: false, message: e.message, problems: e.problems };
    }
}

interface Case {
    readonly title: string;
    readonly text: () => string;
    /** Exactly the problems reported; absent: accepted. */
    readonly refused?: readonly string[];
    /** For a refusal of the whole file (no list of problems): what its message says. */
    readonly message?: RegExp;
}

const cases: Record<string, Case[]> = {
    "credentials are refused where a secret has no business, and never shown": [
        {
            title: "an east-west Service annotation holding a bearer token",
            text: () =>
                devWith((d) => {
                    c(d, "mesh").eastWest = { serviceAnnotations: { "example.com/auth": `Bearer ${jwt}` } };
                }),
            refused: [
                `${K}:mesh.eastWest.serviceAnnotations["example.com/auth"]: holds what looks like a credential (a token, a password or a key; not shown); an annotation is readable by anyone who can read its object: give the credential to its consumer as a Secret`,
            ],
        },
        {
            title: "a namespace annotation holding a JWT",
            text: () =>
                devWith((d) => {
                    (c(d, "namespaces")[0] as Record<string, unknown>).annotations = {
                        "example.com/token": jwt,
                    };
                }),
            refused: [
                `${K}:namespaces[0].annotations["example.com/token"]: holds what looks like a credential (a token, a password or a key; not shown); an annotation is readable by anyone who can read its object: give the credential to its consumer as a Secret`,
            ],
        },
        {
            title: "a chart mirror with a token in its query",
            text: () =>
                devWith((d) => {
                    (c(d, "mesh").istio as Record<string, unknown>).charts =
                        `https://mirror.example.com/istio?token=${jwt}`;
                }),
            refused: [
                `${K}:mesh.istio.charts: a repository address takes no query or fragment (they carry tokens; not shown); use a mirror that needs none here`,
            ],
        },
        {
            title: "an observability chart repository with a user and password",
            text: () =>
                devWith((d) => {
                    c(d, "observability").charts = {
                        prometheus: { repository: "https://admin:hunter2@charts.example.com/prom" },
                    };
                }),
            refused: [
                `${K}:observability.charts.prometheus.repository: a text of 45 characters (not shown) is not a chart repository: use an https URL such as https://prometheus-community.github.io/helm-charts (no credentials in it) or an oci:// registry path`,
            ],
        },
    ],
    "YAML that would read otherwise under the Pulumi CLI": [
        {
            title: "an alias inside its own anchor",
            text: () =>
                devWith(
                    () => undefined,
                    (t) => `${t}  ${K}:externalServices: &loop\n    - name: x\n      ports: *loop\n`,
                ),
            refused: [],
            message:
                /`istio-multicluster:externalServices` contains itself \(at `istio-multicluster:externalServices\[0\]\.ports`\) through a YAML alias/,
        },
        {
            title: "a port written 0443 (octal to the CLI's YAML 1.1)",
            text: () =>
                devWith(
                    (d) => ((svc(d).ports as Record<string, unknown>[])[0]!.number = 5000),
                    (t) => t.replace("number: 5000", "number: 05000"),
                ),
            refused: [
                `\`${K}:services[0].ports[0].number\`: 05000 has a leading zero: this plan reads 5000, the Pulumi CLI (YAML 1.1) reads octal, 2560; write 5000 (or 0o5000 for octal)`,
            ],
        },
        {
            title: "NaN and infinity",
            text: () =>
                devWith(
                    (d) => {
                        c(d, "observability").tracing = { samplingPercent: 1 };
                        c(d, "mesh").ca = { rootValidityDays: 2 };
                    },
                    (t) =>
                        t
                            .replace("samplingPercent: 1", "samplingPercent: .nan")
                            .replace("rootValidityDays: 2", "rootValidityDays: -.inf"),
                ),
            refused: [
                `\`${K}:mesh.ca.rootValidityDays\`: -.inf is not a number Pulumi config can carry (it reaches the program as JSON, which has no NaN or infinity); write a finite number, or remove the key`,
                `\`${K}:observability.tracing.samplingPercent\`: .nan is not a number Pulumi config can carry (it reaches the program as JSON, which has no NaN or infinity); write a finite number, or remove the key`,
            ],
        },
    ],
    "numbers and durations within their documented bounds": [
        {
            title: "a smoke test timeout of 1e20 minutes",
            text: () => devWith((d) => (c(d, "smokeTest").timeoutMinutes = 1e20)),
            refused: [
                `${K}:smokeTest.timeoutMinutes: must be a whole number from 1 to 1440 (a day), got 100000000000000000000`,
            ],
        },
        {
            title: "an outlier interval of 0s and a connect timeout of a million hours",
            text: () =>
                devWith((d) => {
                    svc(d).outlierDetection = { interval: "0s" };
                    svc(d).connectionPool = { connectTimeout: "1000000h" };
                }),
            refused: [
                `${K}:services[0].outlierDetection.interval: "0s" is out of range; use a duration from 1ms to 24h`,
                `${K}:services[0].connectionPool.connectTimeout: "1000000h" is out of range; use a duration from 1ms to 1h`,
            ],
        },
        {
            title: "a retention of a million years, a scrape interval longer than the retention",
            text: () =>
                devWith((d) => {
                    c(d, "observability").metrics = {
                        retention: "1000000y",
                        hubRetention: "1h",
                        scrapeInterval: "1h",
                    };
                }),
            refused: [
                `${K}:observability.metrics.retention: "1000000y" is out of range; use a duration from 1h to 10y`,
                `${K}:observability.metrics.scrapeInterval: "1h" is not shorter than hubRetention "1h"; scrape more often than samples are kept`,
            ],
        },
        {
            title: "a quota of zero CPUs",
            text: () => devWith((d) => (d.config[`${K}:hardening`] = { mode: "full", quota: { cpu: 0 } })),
            refused: [`${K}:hardening.quota.cpu: 0 is not a CPU quantity above 0 such as 8 or 4500m`],
        },
    ],
    "valid values accepted": [
        {
            title: "null where a section or key is not set",
            text: () =>
                devWith((d) => {
                    d.config[`${K}:externalServices`] = null;
                    d.config[`${K}:ingress`] = null;
                    svc(d).outlierDetection = null;
                    svc(d).canary = null;
                }),
        },
        {
            title: "compound durations Istio accepts",
            text: () =>
                devWith((d) => {
                    svc(d).outlierDetection = { interval: "1m30s", baseEjectionTime: "1.5m" };
                    svc(d).connectionPool = { connectTimeout: "1s500ms" };
                }),
        },
        {
            title: "quantities written as YAML numbers",
            text: () =>
                devWith((d) => {
                    c(d, "mesh").controlPlane = { resources: { requests: { cpu: 1, memory: 1073741824 } } };
                    d.config[`${K}:hardening`] = {
                        mode: "full",
                        quota: { cpu: 64, memory: "256Gi", pods: 100 },
                    };
                }),
        },
        {
            title: "ingress quantities as YAML numbers and in every form Kubernetes parses",
            text: () =>
                devWith(
                    (d) =>
                        (ingress(d).resources = {
                            requests: { cpu: 1, memory: "129e6" },
                            limits: { cpu: 2, memory: "1Pi" },
                        }),
                ),
        },
    ],
    "names and hosts": [
        {
            title: "an IPv6 literal as an external host, an invalid CIDR on the ingress",
            text: () =>
                devWith((d) => {
                    external(d, {
                        hosts: ["2001:db8::1"],
                        resolution: "STATIC",
                        endpoints: ["2001:db8::1"],
                        ports: [{ number: 443, protocol: "TLS" }],
                    });
                    ingress(d).sourceRanges = ["300.1.2.0/24"];
                }),
            refused: [
                `${K}:externalServices[0].hosts[0]: "2001:db8::1" is an IPv6 address, which Istio does not take as a host; give the service a DNS name here and the address in \`endpoints\` with \`resolution: STATIC\``,
                `${K}:ingress.sourceRanges[0]: "300.1.2.0/24" is not a CIDR such as 10.0.0.0/8`,
            ],
        },
        {
            title: "port names given twice or derived into a clash",
            text: () =>
                devWith((d) =>
                    external(d, {
                        hosts: ["api.example.com"],
                        ports: [
                            { number: 443, protocol: "TLS" },
                            { number: 8443, protocol: "TLS", name: "tls-443" },
                        ],
                    }),
                ),
            refused: [
                `${K}:externalServices[0].ports[1].name: "tls-443" is also the name of ports[0]; give each port a name of its own`,
            ],
        },
        {
            title: "an external host that shadows a mesh service",
            text: () =>
                devWith((d) =>
                    external(d, {
                        hosts: ["helloworld.sample.svc.cluster.local"],
                        ports: [{ number: 5000, protocol: "HTTP" }],
                    }),
                ),
            refused: [
                `${K}:externalServices[0].hosts[0]: "helloworld.sample.svc.cluster.local" is the global service services[0]; an external service of that name would shadow it in the mesh: external hosts are names outside the clusters`,
            ],
        },
    ],
    "rules that contradict each other": [
        {
            title: "overlapping localities in distribute, from and to",
            text: () =>
                devWith((d) => {
                    svc(d).distribute = [
                        { from: "region1/*", to: { "region1/*": 50, "region1/zone1": 30, "region2/*": 20 } },
                        { from: "region1/zone1", to: { "region1/*": 100 } },
                    ];
                }),
            refused: [
                `${K}:services[0].distribute[0].to.region1/zone1: overlaps "region1/*": endpoints in both would be weighted twice; make the localities disjoint`,
                `${K}:services[0].distribute[1].from: "region1/zone1" overlaps "region1/*": a caller in both would match two entries; make the localities disjoint (one region, zone or subzone each)`,
            ],
        },
        {
            title: "requests above limits on the ingress gateway",
            text: () =>
                devWith((d) => (ingress(d).resources = { requests: { cpu: "2" }, limits: { cpu: "1" } })),
            refused: [
                `${K}:ingress.resources.requests.cpu: 2 is more than the limit 1; Kubernetes refuses a request above its limit, raise the limit or lower the request`,
            ],
        },
        {
            title: "the program's own namespaces set to default",
            text: () =>
                devWith((d) => {
                    c(d, "smokeTest").namespace = "default";
                    c(d, "observability").namespace = "default";
                }),
            refused: [
                `${K}:smokeTest.namespace: "default" is Kubernetes' \`default\` namespace, which every cluster has and the program cannot create (a destroy would try to delete it); name one of its own`,
                `${K}:observability.namespace: "default" is Kubernetes' \`default\` namespace, which every cluster has and the program cannot create (a destroy would try to delete it); name one of its own`,
            ],
        },
        {
            title: "authorization paths Istio refuses or reads literally",
            text: () =>
                devWith((d) => {
                    const rule = (
                        (c(d, "namespaces")[0] as Record<string, unknown>).allow as Record<string, unknown>[]
                    )[0]!;
                    rule.to = {
                        methods: ["GET"],
                        paths: ["/api/*/x", "/users/{id}", "/users/{*}/x", "/files/{**}"],
                    };
                }),
            refused: [
                `${K}:namespaces[0].allow[0].to.paths[0]: "/api/*/x": Istio reads a * only as a whole path, a prefix (/api/*) or a suffix (*.html), once; anywhere else it is a literal character. Use {*} for one segment in the middle (/api/{*}/x)`,
                `${K}:namespaces[0].allow[0].to.paths[1]: "/users/{id}": "{id}" is not a path template Istio takes; match one segment with {*} and the rest with {**} (a named template such as {id} is refused)`,
            ],
        },
    ],
};

describe("value classes: every malformed value refused, every valid one accepted", () => {
    for (const [klass, list] of Object.entries(cases)) {
        describe(klass, () => {
            for (const k of list) {
                it(k.title, async function () {
                    this.timeout(60000);
                    const got = await outcome(k.text());
                    if (k.refused === undefined) {
                        assert.ok(got.accepted, got.accepted ? "" : got.message);
                        return;
                    }
                    assert.ok(!got.accepted, "accepted");
                    if (k.message) assert.match(got.message, k.message);
                    if (k.refused.length > 0 || !k.message) {
                        for (const p of k.refused)
                            assert.ok(
                                got.problems.includes(p),
                                `missing: ${p}\ngot:\n${got.problems.join("\n")}`,
                            );
                        assert.equal(got.problems.length, k.refused.length, got.problems.join("\n"));
                    }
                    for (const secret of [jwt, "hunter2", jwt.slice(0, 12)])
                        assert.ok(!got.message.includes(secret), `echoed a credential: ${got.message}`);
                });
            }
        });
    }
});
