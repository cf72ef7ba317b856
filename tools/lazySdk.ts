/**
 * For the plan process only (tools/plan.ts imports this first, before @pulumi/pulumi): defers the SDK modules a plan never calls. The SDK's
 * index loads the Automation API (in 3.248 with npm's arborist and pacote) and its runtime loads closure
 * serialization (which loads the TypeScript compiler), about a second of a small plan's start-up. Here each
 * stands in the module cache as a stand-in that loads the real module on first use, so nothing changes for a
 * program that does use them. These are SDK internals (package.json pins the SDK; tools/sdkInternals.ts):
 * when a path is not where it was, the SDK loads as usual.
 */
import * as path from "node:path";

type Loader = () => Record<string | symbol, unknown>;

function entry(file: string, exports: unknown): NodeJS.Module {
    // A finished CommonJS module record: what `require` returns from the cache without loading the file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Module = require("node:module") as new (id: string) => NodeJS.Module;
    const m = new Module(file);
    m.filename = file;
    m.loaded = true;
    m.exports = exports;
    return m;
}

/** The real module, loaded on first use (the stand-in leaves the cache first). */
function loader(file: string): Loader {
    let real: Record<string | symbol, unknown> | undefined;
    return () => {
        if (real === undefined) {
            delete require.cache[file];
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            real = require(file) as Record<string | symbol, unknown>;
        }
        return real;
    };
}

/** A module whose every export is looked up in the real one when read (an ES module to `__importStar`). */
function lazyNamespace(file: string): unknown {
    const load = loader(file);
    return new Proxy(
        {},
        {
            get: (_, key) => (key === "__esModule" ? true : load()[key]),
            has: (_, key) => key in load(),
            ownKeys: () => Reflect.ownKeys(load()),
            getOwnPropertyDescriptor: (_, key) => {
                const d = Reflect.getOwnPropertyDescriptor(load(), key);
                return d ? { ...d, configurable: true } : undefined;
            },
        },
    );
}

/** A module of functions, each loading the real module when called (what the runtime copies eagerly). */
function lazyFunctions(file: string, names: readonly string[]): unknown {
    const load = loader(file);
    return Object.fromEntries(
        names.map((n) => [n, (...args: unknown[]) => (load()[n] as (...a: unknown[]) => unknown)(...args)]),
    );
}

/** Installs the stand-ins; a no-op if the SDK is already loaded or its files are not where they were. */
export function deferUnusedSdkModules(): void {
    let root: string;
    try {
        root = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    } catch {
        return;
    }
    if (require.cache[path.join(root, "index.js")]) return;
    const stand: [string, () => unknown][] = [
        [
            path.join(root, "automation", "index.js"),
            () => lazyNamespace(path.join(root, "automation", "index.js")),
        ],
        [
            path.join(root, "runtime", "closure", "serializeClosure.js"),
            () =>
                lazyFunctions(path.join(root, "runtime", "closure", "serializeClosure.js"), [
                    "serializeFunctionAsync",
                    "serializeFunction",
                ]),
        ],
        [
            path.join(root, "runtime", "closure", "codePaths.js"),
            () => lazyFunctions(path.join(root, "runtime", "closure", "codePaths.js"), ["computeCodePaths"]),
        ],
    ];
    for (const [file, make] of stand) {
        try {
            require.resolve(file);
        } catch {
            continue;
        }
        require.cache[file] = entry(file, make());
    }
}

// Installed on import, when the process runs the plan CLI itself: tools/plan.ts imports this first.
if (require.main !== undefined && require.main.filename === path.join(__dirname, "plan.ts")) {
    deferUnusedSdkModules();
}
