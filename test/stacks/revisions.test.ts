/**
 * `mesh.istio.revisions` and `tags`: what the validator accepts and refuses, and the control planes
 * stacks/revisions.ts derives from either form.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IstioSettings } from "../../stacks/core";
import {
    compareVersions,
    controlPlaneRevisions,
    injectionRevision,
    newestVersion,
    validatingRevision,
} from "../../stacks/revisions";
import { validateTopology } from "../../stacks/validate";
import { validateSecurity } from "../../stacks/security";
import { mesh, primary, rawConfig, remote } from "../support/fixtures";

const I = "istio-multicluster:mesh.istio";
const clusters = () => [primary("c1", "n1"), primary("c2", "n2"), remote("c3", "c1", "n1")];
const canary = () => ({
    revisions: [
        { name: "1-29-6", version: "1.29.6" },
        { name: "1-30-3", version: "1.30.3" },
    ],
    tags: { default: "1-29-6", canary: "1-30-3" },
});

function istioOf(istio: unknown): IstioSettings {
    const r = validateTopology(rawConfig(mesh({ istio }), clusters()));
    assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
    return r.topology.mesh.istio;
}

function refusals(istio: unknown, extra: Record<string, unknown> = {}): readonly string[] {
    const r = validateTopology({ ...rawConfig(mesh({ istio }), clusters()), ...extra });
    assert.equal(r.ok, false, "the config was accepted");
    return r.ok ? [] : r.errors;
}

describe("mesh.istio.revisions and tags: the validator", () => {
    it("reads revisions side by side; version and revision are those the `default` tag names", () => {
        const istio = istioOf(canary());
        assert.deepEqual(istio, {
            version: "1.29.6",
            revision: "1-29-6",
            revisions: canary().revisions,
            tags: { default: "1-29-6", canary: "1-30-3" },
        });
        assert.equal(istioOf({ ...canary(), tags: { default: "1-30-3" } }).version, "1.30.3");
    });

    it("keeps the shorthand exactly as it was", () => {
        assert.deepEqual(istioOf({ version: "1.30.3" }), { version: "1.30.3" });
        assert.deepEqual(istioOf({ version: "1.30.3", revision: "r1", defaultTag: false }), {
            version: "1.30.3",
            revision: "r1",
            defaultTag: false,
        });
    });

    it("refuses every malformed revision list at once, naming each key", () => {
        assert.deepEqual(
            refusals({
                version: "1.30.3",
                revision: "a",
                revisions: [
                    { name: "default", version: "1.30.3" },
                    { name: "a", version: "1.30" },
                    { name: "b", version: "1.30.3", charts: "x" },
                    { name: "b", version: "1.30.3" },
                    "c",
                ],
                tags: { default: "gone", canary: "b", b: "b", "Bad!": "b" },
            }),
            [
                `${I}.version: \`revisions\` replaces \`version\`, \`revision\` and \`defaultTag\`; remove it (the one-version form \`version: V, revision: R\` is \`revisions: [{ name: R, version: V }]\` with \`tags: { default: R }\`)`,
                `${I}.revision: \`revisions\` replaces \`version\`, \`revision\` and \`defaultTag\`; remove it (the one-version form \`version: V, revision: R\` is \`revisions: [{ name: R, version: V }]\` with \`tags: { default: R }\`)`,
                `${I}.revisions[0].name: \`default\` is reserved by Istio for the default revision tag; pick another name, such as 1-30-3`,
                `${I}.revisions[1].version: "1.30" is not an exact version such as 1.30.3 (no ranges, no \`latest\`)`,
                `${I}.revisions[2].charts: unknown key; allowed keys are: name, version`,
                `${I}.revisions[3].name: "b" is already listed at revisions[2]`,
                `${I}.revisions[4]: must be a map { name, version }, got "c"`,
                `${I}.tags.default: "gone" is not a revision of \`revisions\` (b); the tag (and with it the gateways and every \`istio-injection=enabled\` namespace) must name an installed revision: move the tag before removing its revision`,
                `${I}.tags.b: is also a revision's name; a tag and a revision share the label istio.io/rev: rename the tag`,
                `${I}.tags["Bad!"]: a tag name must be a DNS label (lower-case letters, digits and '-')`,
            ],
        );
    });

    it("refuses revisions more than one minor apart, and across majors", () => {
        const skew = (a: string, b: string) =>
            refusals({
                revisions: [
                    { name: "old", version: a },
                    { name: "new", version: b },
                ],
                tags: { default: "old" },
            });
        assert.deepEqual(skew("1.28.2", "1.30.3"), [
            `${I}.revisions: runs 1.28.2 beside 1.30.3: Istio supports control planes at most one minor apart (a proxy may be one minor behind its control plane, never more); upgrade one minor at a time, removing the oldest revision first`,
        ]);
        assert.equal(skew("1.30.3", "2.0.0").length, 1);
        // One minor apart, or two patches of one minor, is what a canary is.
        assert.equal(istioOf({ ...canary() }).revisions!.length, 2);
        assert.equal(
            istioOf({
                revisions: [
                    { name: "a", version: "1.30.3" },
                    { name: "b", version: "1.30.5" },
                ],
                tags: { default: "b" },
            }).version,
            "1.30.5",
        );
    });

    it("needs tags with a `default`, and tags only with revisions", () => {
        assert.deepEqual(refusals({ revisions: canary().revisions }), [
            `${I}.tags: required with \`revisions\`; set at least \`default\`: the revision that injects \`istio-injection=enabled\` namespaces and that the gateways run on (one of: 1-29-6, 1-30-3)`,
        ]);
        assert.deepEqual(refusals({ revisions: canary().revisions, tags: { canary: "1-30-3" } }), [
            `${I}.tags: needs \`default\`: the revision that injects \`istio-injection=enabled\` namespaces and that the gateways run on (one of: 1-29-6, 1-30-3)`,
        ]);
        assert.deepEqual(refusals({ version: "1.30.3", tags: { default: "x" } }), [
            `${I}.tags: only with \`revisions\`; with one \`revision\`, \`defaultTag\` says whether it carries the \`default\` tag`,
        ]);
        assert.deepEqual(refusals({ revisions: [], tags: { default: "x" } }), [
            `${I}.revisions: must be a non-empty list of { name, version }, oldest first, got a list of 0`,
        ]);
    });

    it("a local chart directory serves one version: two need `{version}` in the path", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
        try {
            for (const version of ["1.29.6", "1.30.3"]) {
                for (const chart of ["base", "istiod", "gateway"]) {
                    const dir = path.join(root, `istio-${version}`, chart);
                    fs.mkdirSync(dir, { recursive: true });
                    fs.writeFileSync(path.join(dir, "Chart.yaml"), `name: ${chart}\nversion: ${version}\n`);
                }
            }
            assert.deepEqual(refusals({ ...canary(), charts: path.join(root, "istio-1.30.3") }), [
                `${I}.charts: a directory holds the charts of one version, and the revisions run 1.29.6 and 1.30.3; write \`{version}\` in the path where the version goes (such as ./charts/istio-{version})`,
            ]);
            const istio = istioOf({ ...canary(), charts: path.join(root, "istio-{version}") });
            assert.equal(istio.charts, path.join(root, "istio-{version}"));
            // A missing version's directory is named as such.
            fs.rmSync(path.join(root, "istio-1.29.6"), { recursive: true });
            const errors = refusals({ ...canary(), charts: path.join(root, "istio-{version}") });
            assert.equal(errors.length, 3);
            assert.match(errors[0]!, /no chart `base` in .*istio-1\.29\.6/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("namespaces[].revision names a revision or a tag the mesh installs, never a removed one", () => {
        const ctx = (istio: IstioSettings) => ({ trustDomain: "cluster.local", istio });
        const general = istioOf(canary());
        const ok = validateSecurity(
            [
                { name: "try", revision: "canary" },
                { name: "pin", revision: "1-30-3" },
            ],
            undefined,
            ctx(general),
        );
        assert.ok(ok.ok);
        assert.deepEqual(ok.ok && ok.namespaces.map((n) => n.revision), ["canary", "1-30-3"]);
        const gone = validateSecurity(
            [
                { name: "old", revision: "1-28-0" },
                { name: "n", revision: 3 },
            ],
            undefined,
            ctx(general),
        );
        assert.deepEqual(gone.ok ? [] : gone.errors, [
            `istio-multicluster:namespaces[0].revision: "1-28-0" is not a revision or tag the mesh installs (1-29-6, 1-30-3, default, canary); a revision is removed only once no namespace names it`,
            `istio-multicluster:namespaces[1].revision: must be a revision or tag name, got 3`,
        ]);
        const shorthand = validateSecurity(
            [{ name: "n", revision: "x" }],
            undefined,
            ctx({ version: "1.30.3" }),
        );
        assert.deepEqual(shorthand.ok ? [] : shorthand.errors, [
            `istio-multicluster:namespaces[0].revision: "x" is not a revision or tag the mesh installs (none: set \`mesh.istio.revision\` or \`revisions\`); a revision is removed only once no namespace names it`,
        ]);
    });
});

describe("stacks/revisions: the control planes of either form", () => {
    it("the shorthand is one control plane under the names every stack had", () => {
        assert.deepEqual(controlPlaneRevisions({ version: "1.30.3" }), [
            { version: "1.30.3", tags: [], suffix: "", takesOverShorthand: false, serving: true, rank: 0 },
        ]);
        assert.deepEqual(controlPlaneRevisions({ version: "1.30.3", revision: "r" }), [
            {
                name: "r",
                version: "1.30.3",
                tags: ["default"],
                suffix: "",
                takesOverShorthand: false,
                serving: true,
                rank: 2,
            },
        ]);
        assert.deepEqual(
            controlPlaneRevisions({ version: "1.30.3", revision: "r", defaultTag: false })[0]!.tags,
            [],
        );
    });

    it("revisions: one per entry, tags by owner, the `default` holder serving and updated last", () => {
        const istio = istioOf({
            ...canary(),
            revisions: [...canary().revisions, { name: "spare", version: "1.30.3" }],
        });
        assert.deepEqual(
            controlPlaneRevisions(istio).map((r) => [
                r.name,
                r.tags,
                r.suffix,
                r.takesOverShorthand,
                r.serving,
                r.rank,
            ]),
            [
                ["1-29-6", ["default"], "-1-29-6", true, true, 2],
                ["1-30-3", ["canary"], "-1-30-3", false, false, 1],
                ["spare", [], "-spare", false, false, 0],
            ],
        );
        assert.equal(newestVersion(istio), "1.30.3");
        assert.equal(validatingRevision(istio), "1-29-6");
        assert.equal(injectionRevision(istio), undefined, "the `default` tag serves istio-injection=enabled");
        assert.equal(injectionRevision({ version: "1.30.3", revision: "r" }), "r");
    });

    it("compares versions by number, not by text", () => {
        assert.ok(compareVersions("1.30.10", "1.30.9") > 0);
        assert.ok(compareVersions("1.9.0", "1.10.0") < 0);
        assert.equal(compareVersions("1.30.3", "1.30.3"), 0);
    });
});
