/**
 * The @pulumi/pulumi internals the offline plan uses are what it expects. The day an upgrade moves one, this
 * fails with "the SDK's mock monitor changed: see README.md#why-pulumipulumi-is-pinned" and what moved.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { evaluate, repoRoot, stackConfigFromDocument } from "../../tools/planner";
import { assertSdkInternals, pinnedSdkVersion, sdkInternalProblems } from "../../tools/sdkInternals";

/** The smallest custom resource: a type token and inputs. */
class Thing extends pulumi.CustomResource {
    constructor(
        name: string,
        args: Record<string, pulumi.Input<unknown>>,
        opts?: pulumi.CustomResourceOptions,
    ) {
        super("test:index:Thing", name, args, opts);
    }
}

const changed = (what: string) =>
    `the SDK's mock monitor changed: see README.md#why-pulumipulumi-is-pinned: ${what}`;

describe("@pulumi/pulumi internals the plan uses", () => {
    it("package.json and the lockfile pin @pulumi/pulumi exactly, at the version checked", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
            dependencies: Record<string, string>;
        };
        const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
            packages: Record<string, { version?: string }>;
        };
        assert.equal(
            pkg.dependencies["@pulumi/pulumi"],
            pinnedSdkVersion,
            changed("package.json no longer pins it"),
        );
        assert.equal(lock.packages["node_modules/@pulumi/pulumi"]?.version, pinnedSdkVersion);
    });

    it("settings, state, config and the wire markers are where the planner reads them", () => {
        const problems = sdkInternalProblems();
        assert.deepEqual(problems, [], changed(problems.join("; ")));
    });

    it("the mock monitor records what the engine would receive: type, name, parent, dependencies, secrets", async () => {
        let monitorProblems: string[] = [];
        const p = await evaluate(stackConfigFromDocument("sdk", { config: {} }, "test"), () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };
            monitorProblems = sdkInternalProblems(settings.getMonitor());
            const a = new Thing("a", { x: "1" });
            new Thing("b", { secret: pulumi.secret("s"), from: a.id }, { dependsOn: a });
            return {};
        });
        assert.deepEqual(monitorProblems, [], changed(monitorProblems.join("; ")));
        const b = p.resources.find((r) => r.name === "b");
        const a = p.resources.find((r) => r.name === "a");
        assert.ok(a && b, changed("registrations are no longer recorded"));
        assert.equal(b.type, "test:index:Thing");
        assert.equal(b.parent, p.resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn);
        assert.deepEqual(b.dependsOn, [a.urn]);
        assert.deepEqual(b.propertyDependencies.from, [a.urn]);
        assert.deepEqual(b.rawInputs.secret, {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            value: "s",
        });
    });

    it("fails with the message that points to the README", () => {
        assert.throws(() => assertSdkInternals({ registerResource: () => undefined }), {
            message: changed(
                "the mock monitor has no registerResource(request, callback); the mock monitor has no " +
                    "readResource(request, callback)",
            ),
        });
    });
});
