/**
 * The policy pack as a product of its own: a copy of policies/ alone (no stacks/, components/ or tools/ beside
 * it) type-checks with its own tsconfig and loads every policy, with only the packages its own package.json
 * declares; and the helpers it keeps instead of importing the program's.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isLoopbackHost } from "../../policies/lib";
import { packName, policies } from "../../policies/pack";
import { repoRoot } from "../../tools/planner";

const packDir = path.join(repoRoot, "policies");

interface PackageJson {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
}

describe("policy pack, self-contained", function () {
    this.timeout(120_000);
    let copy: string;
    before(() => {
        copy = fs.mkdtempSync(path.join(os.tmpdir(), "policy-pack-"));
        const pack = path.join(copy, "policies");
        fs.cpSync(packDir, pack, { recursive: true });
        // Only what the pack's package.json declares, from the root's installed packages: an undeclared import
        // fails to resolve, as it would after `npm install` in a published copy.
        const declared = JSON.parse(fs.readFileSync(path.join(pack, "package.json"), "utf8")) as PackageJson;
        const modules = path.join(pack, "node_modules");
        const link = (name: string) => {
            fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
            fs.symlinkSync(path.join(repoRoot, "node_modules", name), path.join(modules, name), "dir");
        };
        for (const name of Object.keys({ ...declared.dependencies, ...declared.devDependencies })) link(name);
        // What the declared packages need in turn, hoisted at the root (never a package of this program).
        const own = new Set(Object.keys({ ...declared.dependencies, ...declared.devDependencies }));
        for (const entry of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
            if (entry.startsWith(".")) continue;
            const names = entry.startsWith("@")
                ? fs.readdirSync(path.join(repoRoot, "node_modules", entry)).map((n) => `${entry}/${n}`)
                : [entry];
            for (const n of names) {
                if (own.has(n) || n === "tsx" || n === "esbuild" || n.startsWith("@esbuild/")) continue;
                if (isRootOnly(n)) continue;
                link(n);
            }
        }
        // tsx only runs the check below; it is not a dependency of the pack.
        for (const n of ["tsx", "esbuild", ...esbuildPlatform()]) link(n);
    });
    after(() => fs.rmSync(copy, { recursive: true, force: true }));

    it("declares what it imports and nothing of the program's", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(packDir, "package.json"), "utf8")) as PackageJson;
        assert.deepEqual(Object.keys(pkg.dependencies ?? {}).sort(), [
            "@pulumi/policy",
            "@pulumi/pulumi",
            "yaml",
        ]);
        const root = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as PackageJson;
        for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
            assert.equal(range, root.dependencies?.[name], `${name}: the pack and the program pin it alike`);
        }
        for (const file of fs.readdirSync(packDir).filter((f) => f.endsWith(".ts"))) {
            const text = fs.readFileSync(path.join(packDir, file), "utf8");
            const outside = [...text.matchAll(/from "(\.\.\/[^"]*)"/g)].map((m) => m[1]);
            assert.deepEqual(outside, [], `${file} imports from outside policies/`);
        }
    });

    // The libraries' own typings are checked by the root's tsc; here only the pack's code against them.
    it("type-checks alone with its own tsconfig", () => {
        const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
        const r = spawnSync(
            process.execPath,
            [tsc, "-p", path.join(copy, "policies", "tsconfig.json"), "--skipLibCheck"],
            {
                encoding: "utf8",
            },
        );
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it("transpiles even with the TypeScript @pulumi/pulumi vendors (its fallback when none is installed)", () => {
        const vendored = path.join(repoRoot, "node_modules", "@pulumi", "pulumi", "vendor");
        const dir = fs.readdirSync(vendored).find((d) => d.startsWith("typescript@"));
        assert.ok(dir, "@pulumi/pulumi vendors no TypeScript any more");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ts = require(path.join(vendored, dir, "typescript.js")) as typeof import("typescript");
        for (const file of fs.readdirSync(packDir).filter((f) => f.endsWith(".ts"))) {
            const out = ts.transpileModule(fs.readFileSync(path.join(packDir, file), "utf8"), {
                reportDiagnostics: true,
                compilerOptions: { target: ts.ScriptTarget.ES2019, module: ts.ModuleKind.CommonJS },
            });
            const problems = (out.diagnostics ?? []).map((d) =>
                ts.flattenDiagnosticMessageText(d.messageText, " "),
            );
            assert.deepEqual(problems, [], `${file}: syntax TypeScript ${ts.version} cannot read`);
        }
    });

    it("loads alone: every policy of the pack, in order, with its level", () => {
        const script =
            "const p = require('./pack.ts'); " +
            "process.stdout.write(JSON.stringify({ name: p.packName, " +
            "policies: p.policies.map((x) => [x.name, x.enforcementLevel]) }));";
        const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
            cwd: path.join(copy, "policies"),
            encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), {
            name: packName,
            policies: policies.map((p) => [p.name, p.enforcementLevel]),
        });
    });
});

/** Packages only the program or its tooling use: left out of the copy, so the pack cannot lean on them. */
function isRootOnly(name: string): boolean {
    return ["@pulumi/kubernetes", "@pulumi/tls", "@pulumi/random", "@kubernetes/client-node", "ajv"].includes(
        name,
    );
}

/** esbuild's binary package for this platform (tsx needs it). */
function esbuildPlatform(): string[] {
    const dir = path.join(repoRoot, "node_modules", "@esbuild");
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((n) => `@esbuild/${n}`) : [];
}

describe("isLoopbackHost (the pack's own)", () => {
    const cases: [string, boolean][] = [
        ["localhost", true],
        ["api.localhost", true],
        ["127.0.0.1", true],
        ["127.10.0.1", true],
        ["0.0.0.0", true],
        ["::1", true],
        ["[::1]", true],
        ["::", true],
        ["[::ffff:127.0.0.1]", true],
        ["::ffff:7f00:1", true],
        ["10.0.0.1", false],
        ["203.0.113.10", false],
        ["2001:db8::1", false],
        ["api.example.com", false],
        ["127.example.com", false],
    ];
    for (const [host, expected] of cases) {
        it(`${host}: ${expected ? "loopback or unspecified" : "reachable"}`, () => {
            assert.equal(isLoopbackHost(host), expected);
        });
    }
});
