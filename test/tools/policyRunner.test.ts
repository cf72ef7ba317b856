import * as assert from "node:assert/strict";
import * as path from "node:path";
import { Policies } from "@pulumi/policy/policy";
import { defaultEnforcementLevel, policies } from "../../policies/pack";
import {
    checkPolicyConfig,
    closest,
    evaluatePolicies,
    levelOf,
    loadPolicyConfig,
    PolicyConfigError,
    readOnly,
    sharedProps,
} from "../../tools/policyRunner";
import { knownProps, UNKNOWN } from "../../policies/lib";
import { benchConfig } from "../../tools/bench";
import {
    loadConfigFile,
    loadStackFile,
    plan,
    PlannedResource,
    stackConfigFromDocument,
} from "../../tools/planner";

const repo = path.resolve(__dirname, "../..");
const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function resource(
    name: string,
    rawInputs: Record<string, unknown>,
    extra: Partial<PlannedResource> = {},
): PlannedResource {
    return {
        urn: `urn:pulumi:t::p::test:index:Thing::${name}`,
        type: "test:index:Thing",
        name,
        parent: null,
        cluster: null,
        provider: null,
        dependsOn: [],
        propertyDependencies: {},
        protect: false,
        custom: true,
        rawInputs,
        ...extra,
    };
}

/** Test policies: one that reads a value blindly, one that reports every resource. */
const probe: Policies = [
    {
        name: "reads-blindly",
        description: "Reads props.value without checking for unknowns.",
        validateResource: (args, report) => {
            if ((args.props as { value: string }).value.length > 3) report("too long");
        },
    },
    {
        name: "reports-all",
        description: "Reports every resource.",
        configSchema: { properties: { suffix: { type: "string", default: "!" } } },
        validateResource: (args, report) =>
            report(`${args.name}${args.getConfig<{ suffix: string }>().suffix}`),
    },
];

describe("policy runner", () => {
    it("has one default level, mandatory, and only the recommendation and the renewal warning advisory", () => {
        assert.equal(defaultEnforcementLevel, "mandatory");
        const advisory = policies.filter((p) => levelOf(p, {}) === "advisory").map((p) => p.name);
        assert.deepEqual(advisory, ["ca-key-size-recommended", "ca-renewal-due"]);
        for (const p of policies) assert.match(p.name, /^[a-z]+(-[a-z0-9]+)+$/);
        assert.equal(new Set(policies.map((p) => p.name)).size, policies.length);
    });

    it("turns a blind read of an unknown value into an advisory note, as the engine does", async () => {
        const v = await evaluatePolicies(
            [resource("a", { value: unknownValue }), resource("b", { value: "long" })],
            { "reports-all": "disabled" },
            probe,
        );
        assert.deepEqual(v, [
            {
                policy: "reads-blindly",
                level: "advisory",
                urn: "urn:pulumi:t::p::test:index:Thing::a",
                message:
                    "can't run policy 'reads-blindly' during preview: string value at .value can't be known during preview",
            },
            {
                policy: "reads-blindly",
                level: "mandatory",
                urn: "urn:pulumi:t::p::test:index:Thing::b",
                message: "too long",
            },
        ]);
    });

    it("builds each resource's props once, shared by every policy, and refuses a policy that writes to them", async () => {
        const seen: unknown[] = [];
        const sharing: Policies = [
            {
                name: "first-reader",
                description: "Keeps the props it gets.",
                validateResource: (args) => void seen.push(args.props),
            },
            {
                name: "second-reader",
                description: "Keeps the props it gets, and tries to change them.",
                validateResource: (args) => {
                    seen.push(args.props);
                    (args.props as { value: { nested: string } }).value.nested = "changed";
                },
            },
        ];
        await assert.rejects(evaluatePolicies([resource("a", { value: { nested: "x" } })], {}, sharing), {
            message:
                "policy second-reader failed on urn:pulumi:t::p::test:index:Thing::a: a policy tried to " +
                "change a resource's props; they are read-only",
        });
        assert.equal(seen.length, 2);
        assert.equal(seen[0], seen[1], "one props object for both policies");
        assert.deepEqual(JSON.parse(JSON.stringify(seen[0])), { value: { nested: "x" } });
    });

    it("sharedProps: plain inputs behind the unknown check, read-only at every depth, made once", () => {
        const r = resource("a", { list: [{ k: "v" }], gone: unknownValue });
        const propsOf = sharedProps();
        const props = propsOf(r) as { list: { k: string }[]; gone: string };
        assert.equal(propsOf(r), props);
        assert.deepEqual(
            props.list.map((x) => x.k),
            ["v"],
        );
        assert.throws(() => props.gone, /string value at .gone can't be known during preview/);
        assert.throws(() => props.list.push({ k: "w" }), /read-only/);
        assert.throws(() => delete (props.list[0] as { k?: string }).k, /read-only/);
        const view = readOnly({ a: 1 });
        assert.throws(() => Object.defineProperty(view, "b", { value: 2 }), /read-only/);
        assert.equal(readOnly("s"), "s");
    });

    it("knownProps: the plain copy made once per props object, deep-frozen", () => {
        const props = { a: { b: [1, unknownValue] } };
        const k = knownProps(props) as { a: { b: unknown[] } };
        assert.deepEqual(k, { a: { b: [1, UNKNOWN] } });
        assert.equal(knownProps(props), k);
        assert.ok(Object.isFrozen(k) && Object.isFrozen(k.a) && Object.isFrozen(k.a.b));
        assert.notEqual(knownProps({ ...props }), k, "another props object, another copy");
    });

    it("the pack on a 10-primary mesh: the same results as each policy run alone on fresh props", async function () {
        this.timeout(60_000);
        const p = await plan(stackConfigFromDocument("mesh10", benchConfig("multi-primary", 10), "t"));
        const together = await evaluatePolicies(p.resources, {});
        const alone = [];
        for (const policy of policies) alone.push(...(await evaluatePolicies(p.resources, {}, [policy])));
        assert.ok(together.length > 0);
        assert.deepEqual(together, alone);
    });

    it("takes levels from the policy's entry over `all` over defaults, and settings over schema defaults", async () => {
        const rs = [resource("b", { value: "" }), resource("a", { value: "" })];
        const v = await evaluatePolicies(
            rs,
            { all: "advisory", "reports-all": { enforcementLevel: "mandatory", suffix: "?" } },
            probe,
        );
        assert.deepEqual(
            v.map((x) => `${x.level} ${x.message}`),
            ["mandatory a?", "mandatory b?"],
        );
        const d = await evaluatePolicies(rs, { all: "disabled" }, probe);
        assert.deepEqual(d, []);
        const defaults = await evaluatePolicies(rs, { "reads-blindly": "disabled" }, probe);
        assert.deepEqual(
            defaults.map((x) => x.message),
            ["a!", "b!"],
        );
    });

    it("refuses unknown policy names, levels and settings", () => {
        assert.throws(() => checkPolicyConfig({ nope: "advisory" }, probe), PolicyConfigError);
        assert.throws(
            () => checkPolicyConfig({ "reports-all": "loud" as "advisory" }, probe),
            /is not one of advisory/,
        );
        assert.throws(
            () => checkPolicyConfig({ "reports-all": { suffix: 1 } }, probe),
            /reports-all: \/suffix must be string/,
        );
        assert.throws(() => checkPolicyConfig({ "reports-all": { other: 1 } }, probe), {
            message:
                'policy config: reports-all: "other" is not a setting of reports-all. Settings are: suffix',
        });
    });

    it("names a misspelt policy or setting and suggests the right one", () => {
        assert.throws(() => checkPolicyConfig({ "report-all": "advisory" }, probe), {
            name: "PolicyConfigError",
            message:
                'policy config: "report-all" is not a policy of istio-multicluster; did you mean "reports-all"? ' +
                "Policies are: reads-blindly, reports-all",
        });
        assert.throws(() => checkPolicyConfig({ "reports-all": { sufix: "?" } }, probe), {
            message:
                'policy config: reports-all: "sufix" is not a setting of reports-all; did you mean "suffix"? Settings are: suffix',
        });
        assert.throws(() => checkPolicyConfig({ "reads-blindly": { minReplicas: 2 } }, probe), {
            message:
                'policy config: reads-blindly: "minReplicas" is not a setting of reads-blindly. It has no settings, only a level',
        });
        assert.throws(() => checkPolicyConfig({ "control-plane-replica": { minReplicas: 3 } }), {
            message:
                'policy config: "control-plane-replica" is not a policy of istio-multicluster; did you mean ' +
                `"control-plane-replicas"? Policies are: ${policies.map((p) => p.name).join(", ")}`,
        });
        assert.throws(() => checkPolicyConfig({ "reports-all": "mandtory" as "advisory" }, probe), {
            message:
                'policy config: reports-all: enforcement level "mandtory" is not one of advisory, mandatory, ' +
                'remediate, disabled; did you mean "mandatory"?',
        });
        assert.equal(closest("zzzzzz", ["reports-all"]), undefined);
    });

    it("accepts the committed dev and prod policy configs", () => {
        for (const stack of ["dev", "prod"])
            loadPolicyConfig(path.join(repo, "policies", `config.${stack}.json`));
    });
});

describe("policies on the stacks", function () {
    this.timeout(60000);
    const run = async (config: ReturnType<typeof loadStackFile>, stack: string) =>
        evaluatePolicies(
            (await plan(config)).resources,
            loadPolicyConfig(path.join(repo, "policies", `config.${stack}.json`)),
        );

    it("dev plans with no mandatory violation", async () => {
        const v = await run(loadStackFile("dev"), "dev");
        assert.deepEqual(
            v.filter((x) => x.level === "mandatory"),
            [],
        );
    });

    it("prod plans with no violation at all", async () => {
        assert.deepEqual(await run(loadStackFile("prod"), "prod"), []);
    });

    it("a config built to break the prod rules reports each break exactly once", async () => {
        const v = await run(
            loadConfigFile(path.join(repo, "test", "policies", "fixtures", "Pulumi.broken.yaml")),
            "prod",
        );
        const got = v.map((x) => `${x.level} ${x.policy} ${x.urn.slice(x.urn.lastIndexOf("::") + 2)}`);
        assert.deepEqual(got, [
            "mandatory root-key-absent broken-mesh/root-cert",
            "mandatory ca-key-strength broken-mesh-p1-key",
            "mandatory ca-key-strength broken-mesh/root-key",
            "advisory ca-key-size-recommended broken-mesh-p1-key",
            "advisory ca-key-size-recommended broken-mesh/root-key",
            "mandatory ca-validity-bounds broken-mesh-p1-cert",
            "mandatory east-west-gateway-restricted p1-eastwestgateway",
            "mandatory east-west-gateway-restricted r1-eastwestgateway",
            "mandatory control-plane-replicas p1-eastwestgateway",
            "mandatory control-plane-replicas r1-eastwestgateway",
            "mandatory control-plane-replicas p1-istiod",
            "mandatory pod-disruption-budget p1-eastwestgateway",
            "mandatory pod-disruption-budget r1-eastwestgateway",
            "mandatory pod-disruption-budget p1-istiod",
            "mandatory resource-requests-set p1-eastwestgateway",
            "mandatory resource-requests-set r1-eastwestgateway",
            "mandatory resource-requests-set p1-istiod",
            // Keys and cacerts only: certificates and CSRs are renewed by replacement (earlyRenewalHours).
            "mandatory pki-protected broken-mesh-p1-cacerts",
            "mandatory pki-protected broken-mesh-p1-key",
            "mandatory pki-protected broken-mesh/root-key",
        ]);
    });
});
